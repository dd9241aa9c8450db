//! Reading a connection's WebSocket frames (RFC 6455, section 5), here
//! rather than in a WebSocket library: an idle connection holds no read
//! buffer. Each read goes into a scratch buffer on the stack; only the bytes
//! of a frame not whole yet (and the text of a message whose fragments are
//! still coming) are kept, in one allocation that is freed once the frame
//! or message is whole.
//!
//! What is refused, and how (the close frame the relay sends):
//! - a frame or message larger than [`crate::config::Config::frame_limit`]:
//!   1009, as soon as its header says so;
//! - a binary message: 4400 (protocol v2 is text);
//! - text that is not UTF-8: 1007;
//! - anything else RFC 6455 forbids (an unmasked frame from the client,
//!   reserved bits or opcodes, a fragmented or over-long control frame, a
//!   continuation without a start, a new message inside a fragmented one):
//!   1002.

use std::future::{poll_fn, Future};
use std::io;
use std::task::{ready, Context, Poll};

use tokio::net::TcpStream;

use crate::protocol::{Close, CLOSE_MALFORMED, CLOSE_TOO_BIG};

/// A normal close (RFC 6455, section 7.4.1).
pub const CLOSE_NORMAL: u16 = 1000;
/// A protocol error.
pub const CLOSE_PROTOCOL: u16 = 1002;
/// Text that is not UTF-8.
pub const CLOSE_NOT_UTF8: u16 = 1007;

/// Bytes read per system call, into a buffer on the stack.
const SCRATCH: usize = 4096;

/// The largest payload of a control frame.
const MAX_CONTROL: usize = 125;

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// What a connection reads.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole text message.
    Text(String),
    /// A WebSocket ping, with the payload its pong carries back.
    Ping(Box<[u8]>),
    /// A WebSocket pong: the client is there.
    Pong,
    /// The client's close frame: the code to echo, if it gave one.
    Closing(Option<u16>),
    /// The socket ended (or broke) without a close frame.
    Gone,
}

/// What a connection keeps between reads: nothing while it is idle.
#[derive(Debug, Default)]
pub struct Reader {
    partial: Option<Box<Partial>>,
}

/// A frame or a message in part.
#[derive(Debug, Default)]
struct Partial {
    /// Bytes read past the last whole frame, from `at` (frames taken
    /// out one by one move no bytes; emptied once all are taken).
    held: Vec<u8>,
    at: usize,
    /// The text of a fragmented message so far.
    message: Option<Vec<u8>>,
}

impl Reader {
    /// A reader with `read` (bytes that came after the upgrade request) to begin with.
    pub fn new(read: Vec<u8>) -> Reader {
        let partial = (!read.is_empty()).then(|| {
            Box::new(Partial {
                held: read,
                at: 0,
                message: None,
            })
        });
        Reader { partial }
    }

    /// The next frame from `tcp`; frames and messages up to `limit` bytes.
    /// (Not an `async fn`: that would hold its arguments twice, in every
    /// idle connection.)
    pub fn next<'a>(&'a mut self, tcp: &'a TcpStream, limit: usize) -> impl Future<Output = Result<Frame, Close>> + 'a {
        poll_fn(move |cx| self.poll_frame(cx, tcp, limit))
    }

    fn poll_frame(&mut self, cx: &mut Context<'_>, tcp: &TcpStream, limit: usize) -> Poll<Result<Frame, Close>> {
        loop {
            if let Some(frame) = self.held_frame(limit)? {
                return Poll::Ready(Ok(frame));
            }
            let mut scratch = [0u8; SCRATCH];
            let n = match ready!(read(cx, tcp, &mut scratch)) {
                Ok(0) | Err(_) => return Poll::Ready(Ok(Frame::Gone)),
                Ok(n) => n,
            };
            if let Some(frame) = self.take(&scratch[..n], limit)? {
                return Poll::Ready(Ok(frame));
            }
        }
    }

    /// The first frame the bytes held finish, if any, taking out what it used.
    fn held_frame(&mut self, limit: usize) -> Result<Option<Frame>, Close> {
        let Some(partial) = self.partial.as_deref_mut() else {
            return Ok(None);
        };
        let Partial { held, at, message } = partial;
        let (frame, used) = first(&held[*at..], message, limit)?;
        *at += used;
        if *at == held.len() {
            held.clear();
            *at = 0;
        }
        self.tidy();
        Ok(frame)
    }

    /// Takes `bytes` just read: the first frame they finish, if any; the
    /// rest is held.
    fn take(&mut self, bytes: &[u8], limit: usize) -> Result<Option<Frame>, Close> {
        let partial = self.partial.get_or_insert_default();
        if !partial.held.is_empty() {
            partial.held.drain(..partial.at);
            partial.at = 0;
            partial.held.extend_from_slice(bytes);
            return self.held_frame(limit);
        }
        // The usual case: whole frames, straight from the scratch buffer.
        let (frame, used) = first(bytes, &mut partial.message, limit)?;
        partial.held.extend_from_slice(&bytes[used..]);
        self.tidy();
        Ok(frame)
    }

    /// Frees what is no longer needed: an idle connection holds nothing.
    fn tidy(&mut self) {
        if let Some(partial) = self.partial.as_deref_mut() {
            if partial.held.is_empty() {
                if partial.message.is_none() {
                    self.partial = None;
                } else if partial.held.capacity() > 0 {
                    partial.held = Vec::new();
                }
            }
        }
    }
}

/// Reads what the socket has into `buf`.
fn read(cx: &mut Context<'_>, tcp: &TcpStream, buf: &mut [u8]) -> Poll<io::Result<usize>> {
    loop {
        ready!(tcp.poll_read_ready(cx))?;
        match tcp.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            done => return Poll::Ready(done),
        }
    }
}

/// The first frame the whole frames at the start of `bytes` finish (a
/// fragment adds to `message`), and the bytes they took.
fn first(bytes: &[u8], message: &mut Option<Vec<u8>>, limit: usize) -> Result<(Option<Frame>, usize), Close> {
    let (mut at, mut frame) = (0, None);
    while frame.is_none() {
        let (f, used) = next(&bytes[at..], message, limit)?;
        if used == 0 {
            break;
        }
        (frame, at) = (f, at + used);
    }
    Ok((frame, at))
}

/// A frame's header.
struct Head {
    fin: bool,
    opcode: u8,
    mask: [u8; 4],
    /// The header's length, then the payload's.
    at: usize,
    len: usize,
}

/// Parses the header at the start of `bytes` (`None`: not whole yet),
/// refusing at once what no payload could make right.
fn head(bytes: &[u8], message: Option<&Vec<u8>>, limit: usize) -> Result<Option<Head>, Close> {
    let protocol = |why: &str| Err(Close::new(CLOSE_PROTOCOL, why));
    let [first, second, ..] = *bytes else {
        return Ok(None);
    };
    let (fin, opcode) = (first & 0x80 != 0, first & 0x0f);
    if first & 0x70 != 0 {
        return protocol("reserved bits set: no extension was agreed");
    }
    if second & 0x80 == 0 {
        return protocol("a client's frames must be masked");
    }
    let (len, at) = match second & 0x7f {
        126 => match bytes.get(2..4) {
            Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10) {
            Some(b) => (u64::from_be_bytes(b.try_into().unwrap_or_default()), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    match opcode {
        OP_CLOSE | OP_PING | OP_PONG if !fin => return protocol("a control frame must not be fragmented"),
        OP_CLOSE | OP_PING | OP_PONG if len > MAX_CONTROL => {
            return protocol("a control frame carries 125 bytes at most")
        }
        OP_CLOSE | OP_PING | OP_PONG => {}
        OP_CONTINUATION if message.is_none() => return protocol("a continuation frame with no message to continue"),
        OP_TEXT | OP_BINARY if message.is_some() => return protocol("a new message before the fragmented one ended"),
        OP_CONTINUATION | OP_TEXT | OP_BINARY => {
            let so_far = message.map_or(0, Vec::len);
            if len.saturating_add(so_far) > limit {
                return Err(Close::new(
                    CLOSE_TOO_BIG,
                    format!("frame larger than this relay reads: more than {limit} bytes"),
                ));
            }
        }
        other => return protocol(&format!("unknown opcode {other:#x}")),
    }
    let Some(mask) = bytes.get(at..at + 4) else {
        return Ok(None);
    };
    Ok(Some(Head {
        fin,
        opcode,
        mask: [mask[0], mask[1], mask[2], mask[3]],
        at: at + 4,
        len,
    }))
}

/// The first frame of `bytes`, if it is whole, and how many bytes it took
/// (0: not whole yet). A fragment adds to `message` and gives no frame
/// until the message's last.
fn next(bytes: &[u8], message: &mut Option<Vec<u8>>, limit: usize) -> Result<(Option<Frame>, usize), Close> {
    let Some(h) = head(bytes, message.as_ref(), limit)? else {
        return Ok((None, 0));
    };
    let Some(masked) = bytes.get(h.at..h.at + h.len) else {
        return Ok((None, 0));
    };
    let used = h.at + h.len;
    let payload = || -> Vec<u8> { masked.iter().zip(h.mask.iter().cycle()).map(|(b, m)| b ^ m).collect() };
    let frame = match h.opcode {
        OP_PING => Some(Frame::Ping(payload().into())),
        OP_PONG => Some(Frame::Pong),
        OP_CLOSE => Some(Frame::Closing(close_code(&payload())?)),
        OP_BINARY => return Err(Close::new(CLOSE_MALFORMED, "binary frames are not part of protocol v2")),
        OP_TEXT if h.fin => Some(Frame::Text(text(payload())?)),
        OP_TEXT => {
            *message = Some(payload());
            None
        }
        _ => {
            let so_far = message.get_or_insert_default();
            so_far.extend(masked.iter().zip(h.mask.iter().cycle()).map(|(b, m)| b ^ m));
            match h.fin {
                true => Some(Frame::Text(text(message.take().unwrap_or_default())?)),
                false => None,
            }
        }
    };
    Ok((frame, used))
}

/// A text message's bytes as text (1007 when they are not UTF-8).
fn text(bytes: Vec<u8>) -> Result<String, Close> {
    String::from_utf8(bytes).map_err(|_| Close::new(CLOSE_NOT_UTF8, "a text frame that is not UTF-8"))
}

/// The code of a client's close frame, to echo (RFC 6455, section 5.5.1).
fn close_code(payload: &[u8]) -> Result<Option<u16>, Close> {
    match payload {
        [] => Ok(None),
        [a, b, reason @ ..] if std::str::from_utf8(reason).is_ok() => {
            let code = u16::from_be_bytes([*a, *b]);
            // The codes an endpoint may send (section 7.4).
            match matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999) {
                true => Ok(Some(code)),
                false => Err(Close::new(
                    CLOSE_PROTOCOL,
                    format!("close code {code} is not one to send"),
                )),
            }
        }
        _ => Err(Close::new(CLOSE_PROTOCOL, "a malformed close frame")),
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
