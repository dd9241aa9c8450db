//! The floor of `make bench-relay`'s everyday row: the least a server can do
//! per delivery on this machine. It speaks just enough of the relay's
//! protocol for the load generator (the WebSocket handshake, `hello` →
//! `welcome`, `publish` → `ack`) and, for each publish, writes one `event`
//! frame, built once, to every subscribed socket: one plain blocking
//! `write` each (header and frame in one buffer), from the thread that read
//! the publish. No runtime, no epoll, no queue, no Redis, no validation.
//! Publishes already read together (it fell behind) are written together,
//! as the relay's fan-out does.
//!
//! Its server CPU per delivery, split into user and system time the same
//! way, is what no server can go below here: socket.io's CPU per delivery
//! over the floor's is the best ratio any server could reach.
//!
//! ```text
//! floor [--writev | --uring] [--delay]   prints "listening on ADDR"
//! ```
//!
//! `--writev` writes header and frame as two slices (as the relay's
//! fan-out does); `--uring` hands every subscriber's send to io_uring in one
//! submission (one system call per event instead of one per delivery);
//! `--delay` leaves Nagle on (the relay sets `TCP_NODELAY`).

use std::io::{BufRead, BufReader, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Subscribed sockets, written by the publisher's thread.
type Subscribers = Arc<Mutex<Vec<TcpStream>>>;

#[derive(Clone, Copy)]
struct Mode {
    writev: bool,
    uring: bool,
    delay: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = Mode {
        writev: args.iter().any(|a| a == "--writev"),
        uring: args.iter().any(|a| a == "--uring"),
        delay: args.iter().any(|a| a == "--delay"),
    };
    if mode.uring {
        if let Err(e) = io_uring::IoUring::new(8) {
            eprintln!("floor: io_uring refused here: {e}");
            std::process::exit(1);
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("listening on {}", listener.local_addr().expect("an address"));
    let subscribers: Subscribers = Arc::default();
    for tcp in listener.incoming().flatten() {
        let subscribers = subscribers.clone();
        std::thread::spawn(move || {
            // A connection that breaks the protocol is dropped; the load generator says so.
            let _ = serve(tcp, &subscribers, mode);
        });
    }
}

/// One connection: the handshake and `hello`; a subscriber's socket then
/// joins the list (and its thread ends), a publisher's thread reads its publishes.
fn serve(tcp: TcpStream, subscribers: &Subscribers, mode: Mode) -> std::io::Result<()> {
    tcp.set_nodelay(!mode.delay)?;
    let mut reader = BufReader::new(tcp.try_clone()?);
    let mut key = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("sec-websocket-key") {
                key = value.trim().to_string();
            }
        }
    }
    let mut writer = tcp;
    let accept = derive_accept_key(key.as_bytes());
    write!(
        writer,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )?;
    let hello = read_text(&mut reader)?;
    writer.write_all(&frame(r#"{"type":"welcome"}"#))?;
    if !hello.contains(r#""subscribe":[]"#) {
        subscribers.lock().unwrap_or_else(|e| e.into_inner()).push(writer);
        return Ok(());
    }
    let mut seq = 0u64;
    let mut ring = if mode.uring {
        Some(io_uring::IoUring::new(4096)?)
    } else {
        None
    };
    loop {
        // One publish, and those already read with it: a server that fell
        // behind writes them together, as the relay's fan-out does (up to
        // 32 frames a write), and catches up.
        let mut frames = Vec::new();
        let mut acks = Vec::new();
        for read in 1.. {
            let publish = read_text(&mut reader)?;
            seq += 1;
            if let Some((event, ack)) = answer(&publish, seq) {
                frames.extend_from_slice(&frame(&event));
                acks.extend_from_slice(&frame(&ack));
            }
            if reader.buffer().is_empty() || acks.is_empty() || read == 32 {
                break;
            }
        }
        if frames.is_empty() {
            continue;
        }
        let mut sockets = subscribers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ring) = ring.as_mut() {
            send_all(ring, &mut sockets, &frames)?;
        }
        for socket in sockets.iter_mut().filter(|_| ring.is_none()) {
            if mode.writev {
                // The first frame's header apart from the rest, as two slices.
                let slices = [IoSlice::new(&frames[..2]), IoSlice::new(&frames[2..])];
                let wrote = socket.write_vectored(&slices)?;
                socket.write_all(&frames[wrote..])?;
            } else {
                socket.write_all(&frames)?;
            }
        }
        writer.write_all(&acks)?;
    }
}

/// Sends `bytes` to every socket, in submissions of as many sends as the
/// ring takes; finishes with a plain write what a send did not take.
fn send_all(ring: &mut io_uring::IoUring, sockets: &mut [TcpStream], bytes: &[u8]) -> std::io::Result<()> {
    use io_uring::{opcode, types};
    use std::os::fd::AsRawFd;
    let room = ring.params().sq_entries() as usize;
    for (chunk, at) in sockets.chunks_mut(room).zip((0..).step_by(room)) {
        for (i, socket) in chunk.iter().enumerate() {
            let send = opcode::Send::new(types::Fd(socket.as_raw_fd()), bytes.as_ptr(), bytes.len() as u32)
                .build()
                .user_data((at + i) as u64);
            // SAFETY: `bytes` outlives the submission: it is waited for below.
            unsafe { ring.submission().push(&send) }.map_err(std::io::Error::other)?;
        }
        ring.submit_and_wait(chunk.len())?;
        let done: Vec<_> = ring
            .completion()
            .map(|c| (c.user_data() as usize - at, c.result()))
            .collect();
        for (i, sent) in done {
            let sent = usize::try_from(sent).map_err(|_| std::io::Error::from_raw_os_error(-sent))?;
            chunk[i].write_all(&bytes[sent..])?;
        }
    }
    Ok(())
}

/// The `event` frame (the relay's, the same length: its timestamp is the
/// offset's time) and the `ack` of a `publish`.
fn answer(publish: &str, seq: u64) -> Option<(String, String)> {
    let field = |name: &str| {
        let at = publish.find(&format!(r#""{name}":"#))? + name.len() + 3;
        Some(&publish[at..])
    };
    let payload = field("payload")?;
    let payload = payload.strip_suffix('}').unwrap_or(payload);
    let reference = field("ref")?.split(',').next().unwrap_or_default();
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Some((
        format!(
            r#"{{"type":"event","offset":"{ms}-{seq}","name":"analytics.performance.metric","payload":{payload},"timestamp":"2026-12-07T21:00:00.000Z"}}"#
        ),
        format!(r#"{{"type":"ack","ref":{reference},"offset":"{ms}-{seq}"}}"#),
    ))
}

/// An unmasked text frame (server to client).
fn frame(text: &str) -> Vec<u8> {
    let len = text.len();
    let mut out = Vec::with_capacity(len + 4);
    out.push(0x81);
    if len < 126 {
        out.push(len as u8);
    } else {
        out.push(126);
        out.extend_from_slice(&u16::try_from(len).expect("a small frame").to_be_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out
}

/// The next text frame from the client (masked), as text; an error at a close.
fn read_text(reader: &mut impl Read) -> std::io::Result<String> {
    loop {
        let mut head = [0u8; 2];
        reader.read_exact(&mut head)?;
        let len = match head[1] & 0x7f {
            126 => {
                let mut n = [0u8; 2];
                reader.read_exact(&mut n)?;
                u64::from(u16::from_be_bytes(n))
            }
            127 => {
                let mut n = [0u8; 8];
                reader.read_exact(&mut n)?;
                u64::from_be_bytes(n)
            }
            n => u64::from(n),
        };
        let mut mask = [0u8; 4];
        reader.read_exact(&mut mask)?;
        let mut payload = vec![0u8; usize::try_from(len).expect("a frame that fits")];
        reader.read_exact(&mut payload)?;
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
        match head[0] & 0x0f {
            1 => return String::from_utf8(payload).map_err(std::io::Error::other),
            8 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            _ => {}
        }
    }
}
