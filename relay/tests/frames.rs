//! The relay's own WebSocket frame reader, on a real relay process over a
//! bare TCP socket: fragments, control frames between them, frames written
//! in pieces, the close handshake, and frames RFC 6455 forbids.
//! (Every split and refusal byte by byte: `src/conn/reader_tests.rs`.)

mod common;

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The next frame the relay sent (unmasked): opcode and payload.
async fn next_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    tokio::time::timeout(WAIT, async {
        let mut head = [0u8; 2];
        tcp.read_exact(&mut head).await.expect("a frame");
        let len = match head[1] & 0x7f {
            126 => usize::from(tcp.read_u16().await.unwrap()),
            127 => usize::try_from(tcp.read_u64().await.unwrap()).unwrap(),
            n => usize::from(n),
        };
        let mut payload = vec![0; len];
        tcp.read_exact(&mut payload).await.unwrap();
        (head[0] & 0x0f, payload)
    })
    .await
    .expect("a frame in time")
}

/// A client frame that is not the message's last.
fn fragment(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = client_frame(opcode, payload);
    frame[0] &= 0x7f;
    frame
}

/// A close frame's code.
fn code(payload: &[u8]) -> u16 {
    u16::from_be_bytes([payload[0], payload[1]])
}

/// Sends `{"type":"ping"}` and expects its pong: the connection is served.
async fn served(tcp: &mut TcpStream) {
    tcp.write_all(&client_frame(0x1, br#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next_frame(tcp).await, (0x1, br#"{"type":"pong"}"#.to_vec()));
}

/// A connection that said hello in one frame and got its welcome.
async fn welcomed(addr: &str) -> TcpStream {
    let (mut tcp, answer) = raw_upgrade(addr, None, "").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    let hello = json!({"type": "hello", "token": token(json!({})), "subscribe": []}).to_string();
    tcp.write_all(&client_frame(0x1, hello.as_bytes())).await.unwrap();
    let (op, welcome) = next_frame(&mut tcp).await;
    assert_eq!(op, 0x1);
    assert!(String::from_utf8_lossy(&welcome).contains("welcome"));
    tcp
}

#[tokio::test]
async fn a_hello_in_fragments_written_in_pieces_with_a_ping_between() {
    let relay = Relay::memory(&[]).await;
    let (mut tcp, answer) = raw_upgrade(&relay.addr, None, "").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    let hello = json!({"type": "hello", "token": token(json!({})), "subscribe": ["*"]}).to_string();
    let (a, rest) = hello.as_bytes().split_at(10);
    let (b, c) = rest.split_at(10);
    let bytes = [
        fragment(0x1, a),
        client_frame(0x9, b"still there?"),
        fragment(0x0, b),
        client_frame(0x0, c),
    ]
    .concat();
    // Written in pieces that cut headers and payloads.
    for piece in bytes.chunks(7) {
        tcp.write_all(piece).await.unwrap();
        tcp.flush().await.unwrap();
    }
    // The ping is answered at once, its payload carried back; then the
    // joined hello is welcomed.
    assert_eq!(next_frame(&mut tcp).await, (0xA, b"still there?".to_vec()));
    let (op, welcome) = next_frame(&mut tcp).await;
    assert_eq!(op, 0x1);
    assert!(String::from_utf8_lossy(&welcome).contains("welcome"), "{welcome:?}");
    served(&mut tcp).await;
    // The client's close is echoed, then the relay closes the socket.
    let mut close = 4000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"bye");
    tcp.write_all(&client_frame(0x8, &close)).await.unwrap();
    let (op, echo) = next_frame(&mut tcp).await;
    assert_eq!((op, code(&echo)), (0x8, 4000));
    let mut after = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut after))
        .await
        .unwrap()
        .unwrap();
    assert!(after.is_empty(), "{after:?}");
}

#[tokio::test]
async fn frames_rfc_6455_forbids_close_the_connection_with_their_code() {
    let relay = Relay::memory(&[]).await;
    // Each after a positive control on the same connection.
    let unmasked = [&[0x81u8, 2][..], b"hi"].concat();
    let cases: [(&str, Vec<u8>, u16); 3] = [
        ("an unmasked frame", unmasked, 1002),
        (
            "text that is not UTF-8",
            client_frame(0x1, b"{\"type\":\"\xff\"}"),
            1007,
        ),
        ("a continuation with no start", client_frame(0x0, b"x"), 1002),
    ];
    for (what, bytes, expected) in cases {
        let mut tcp = welcomed(&relay.addr).await;
        served(&mut tcp).await;
        tcp.write_all(&bytes).await.unwrap();
        let (op, close) = next_frame(&mut tcp).await;
        assert_eq!((op, code(&close)), (0x8, expected), "{what}: {close:?}");
    }
}
