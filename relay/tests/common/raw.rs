//! WebSocket and TCP by hand, for clients that misbehave on purpose: the
//! relay's tests and `make soak-relay` (`examples/soak`) both use these.
#![allow(dead_code)]

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A TCP connection to `addr` from the loopback address `from` (127.0.0.2...).
pub async fn connect_from(addr: &str, from: Option<&str>) -> io::Result<TcpStream> {
    let Some(from) = from else {
        return TcpStream::connect(addr).await;
    };
    let bad = |e| io::Error::new(io::ErrorKind::InvalidInput, e);
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse().map_err(bad)?)?;
    socket.connect(addr.parse().map_err(bad)?).await
}

/// Opens a WebSocket on a bare TCP socket (from `from`, a loopback address,
/// when given), with `headers` added to the upgrade request; returns the
/// socket and the answer's head (empty if the relay closed without one).
pub async fn raw_upgrade(addr: &str, from: Option<&str>, headers: &str) -> io::Result<(TcpStream, String)> {
    let mut tcp = connect_from(addr, from).await?;
    let head = format!(
        "GET /v1/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
    );
    tcp.write_all(head.as_bytes()).await?;
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(20), tcp.read_u8()).await {
            Ok(Ok(b)) => answer.push(b),
            Ok(Err(_)) => break,
            Err(_) => return Err(io::ErrorKind::TimedOut.into()),
        }
    }
    Ok((tcp, String::from_utf8_lossy(&answer).into_owned()))
}

/// A masked client frame (mask key 0: the payload as is).
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n @ 0..=125 => frame.push(0x80 | n as u8),
        n @ 126..=65535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(payload);
    frame
}
