//! Dead connections are noticed: the relay pings every `--ping-interval`
//! and closes with 4009 a connection whose pings went unanswered for two
//! intervals, while one that answers stays open. A real relay process.

mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// The ping interval of these tests, in seconds, and long enough a silence.
const INTERVAL: &str = "0.2";
const SILENCE: Duration = Duration::from_secs(2);

/// A WebSocket client on a bare TCP socket: it says hello, then neither
/// reads nor writes, as a peer whose network vanished would.
async fn silent_client(addr: &str, token: &str) -> TcpStream {
    let (mut tcp, answer) = raw_upgrade(addr, None, "").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    let hello = json!({"type": "hello", "token": token, "subscribe": ["*"]}).to_string();
    tcp.write_all(&client_frame(0x1, hello.as_bytes())).await.unwrap();
    tcp
}

/// The frames in what a server sent (unmasked): opcode and payload.
fn frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while bytes.len() >= 2 {
        let (opcode, len) = (bytes[0] & 0x0f, usize::from(bytes[1] & 0x7f));
        let (len, at) = match len {
            126 => (usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 => panic!("no frame here is that long"),
            n => (n, 2),
        };
        out.push((opcode, bytes[at..at + len].to_vec()));
        bytes = &bytes[at + len..];
    }
    out
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed_4009_and_counted() {
    let relay = Relay::memory(&["--ping-interval", INTERVAL]).await;
    let t = token(json!({"sub": "u1"}));
    let (mut live, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let mut silent = silent_client(&relay.addr, &t).await;
    // Meanwhile the other client reads, so answers every ping: nothing but
    // pings arrives for ten intervals.
    let heard = tokio::time::timeout(SILENCE, live.recv()).await;
    assert!(
        heard.is_err(),
        "the reading client got frames other than pings: {heard:?}"
    );

    // What the silent client was sent, read now, up to the relay's end of
    // the connection: the welcome, two pings, then the close.
    let mut sent = Vec::new();
    tokio::time::timeout(WAIT, silent.read_to_end(&mut sent))
        .await
        .unwrap()
        .unwrap();
    let got = frames(&sent);
    let opcodes: Vec<u8> = got.iter().map(|(op, _)| *op).collect();
    assert_eq!(opcodes, [0x1, 0x9, 0x9, 0x8], "{got:?}");
    assert!(String::from_utf8_lossy(&got[0].1).contains("welcome"), "{got:?}");
    let close = &got[3].1;
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 4009, "{got:?}");
    assert!(String::from_utf8_lossy(&close[2..]).contains("pong"), "{got:?}");

    // The answering client is still served, and the close was counted once.
    live.sync().await;
    let (status, metrics) = relay.http("GET", "/metrics", None, "").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("kaiwa_relay_ping_timeouts_total 1\n"), "{metrics}");
}

#[tokio::test]
async fn a_ping_interval_of_zero_sends_no_pings() {
    let relay = Relay::memory(&["--ping-interval", "0"]).await;
    let t = token(json!({"sub": "u1"}));
    let (mut silent, _) = tokio_tungstenite::connect_async(format!("ws://{}/v1/ws", relay.addr))
        .await
        .unwrap();
    let hello = json!({"type": "hello", "token": t, "subscribe": ["*"]}).to_string();
    silent.send(Message::Text(hello.into())).await.unwrap();
    let welcome = tokio::time::timeout(WAIT, silent.next()).await.unwrap();
    assert!(
        matches!(&welcome, Some(Ok(Message::Text(t))) if t.contains("welcome")),
        "{welcome:?}"
    );
    let next = tokio::time::timeout(Duration::from_secs(1), silent.next()).await;
    assert!(next.is_err(), "expected silence, got {next:?}");
}
