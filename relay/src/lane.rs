//! Events written straight from the fan-out to the sockets that take them.
//!
//! At everyday load a connection gets an event now and then, and its socket
//! has room: waking its task to write one frame costs more than the write.
//! So a connection with nothing of its own in flight hands its socket to the
//! hub ("direct"): the hub's fan-out writes each event it admits (the
//! WebSocket header and the `event` frame serialized once for every
//! receiver, one `writev`) without blocking, and no task wakes.
//!
//! The connection's task takes its events back (it listens to the hub again,
//! see `feed.rs`) when the socket did not take a whole frame, when the
//! task's own last frame waits in part (`rest`), when
//! the hub says events were trimmed ([`Fed::Gap`](crate::engine::Fed)), and
//! when it closes. From there the queue and its bound apply as before: a
//! client that does not read is closed with 4008.
//!
//! ## Once, and in order
//!
//! The hub sends an event to the connections' receivers first, then offers
//! it here. A connection goes direct only when its queue is empty, all it
//! wrote is flushed, it is not reading the log, and its receiver holds
//! nothing new, checked under the lane's lock, which the fan-out takes too;
//! both note the newest offset dealt with (`last`) and skip what it covers.
//! So each event is written by exactly one of them, in offset order.
//!
//! ## One byte stream
//!
//! The fan-out and the connection's task (replies, pings, pongs, the close,
//! [`Lane::write_frames`]) write whole frames to one socket, each write
//! under the lane's lock. What the socket did not take of a frame (`rest`,
//! one frame at most) is written before anything else; the fan-out does not
//! write while there is one.

use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use tokio::net::TcpStream;
use tokio::sync::broadcast::{self, error::TryRecvError};

use crate::auth::Grant;
use crate::engine::{Direct, Fed};
use crate::event::{Event, Offset};
use crate::feed::{Feed, Step};
use crate::filter::Filter;

/// Frames the fan-out writes to one socket in one system call at most.
const BURST: usize = 32;

/// A connection's socket, shared by its task and the fan-out.
#[derive(Debug)]
pub struct Lane {
    tcp: TcpStream,
    /// The connection's name, `instance/connection`: it does not receive its own events.
    pub origin: Box<str>,
    inner: Mutex<Inner>,
}

/// What the fan-out and the connection's task share.
#[derive(Debug)]
pub struct Inner {
    /// The connection's subscriptions.
    pub filter: Filter,
    /// What its token grants.
    pub grant: Grant,
    /// The fan-out writes this connection's events.
    direct: bool,
    /// The connection's receiver of the hub while direct: the fan-out
    /// empties it, so the hub does not keep events for it (see `go_direct`).
    rx: Option<broadcast::Receiver<Fed>>,
    /// The newest offset the fan-out dealt with (while direct).
    last: Offset,
    /// What the socket did not take of a frame written here (a boxed
    /// slice, 8 bytes less than a `Vec`: with them the lane's allocation is
    /// 256 bytes rather than the allocator's next size, 320).
    rest: Option<Box<[u8]>>,
    /// The task to wake when the fan-out gives the connection back.
    waker: Option<Waker>,
}

impl Inner {
    /// Whether a connection of `origin` receives `event`.
    pub fn admits(&self, origin: &str, event: &Event) -> bool {
        *event.origin != *origin && self.grant.sees(&event.scope) && self.filter.matches(&event.name)
    }

    /// Gives the connection back to its task; `last` is where it takes over.
    fn give_back(&mut self) {
        self.direct = false;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Keeps what the socket did not take of a frame (`head`, then
    /// `frame`) of which it took `wrote` bytes, to be written before
    /// anything else.
    fn keep_rest(&mut self, head: &[u8], frame: &[u8], wrote: usize) {
        let mut rest = Vec::with_capacity(head.len() + frame.len() - wrote);
        rest.extend_from_slice(head.get(wrote..).unwrap_or_default());
        rest.extend_from_slice(&frame[wrote.saturating_sub(head.len())..]);
        self.rest = Some(rest.into_boxed_slice());
    }

    /// Writes `rest`; `Ok(false)` when the socket is full.
    fn write_rest(&mut self, tcp: &TcpStream) -> io::Result<bool> {
        while let Some(rest) = self.rest.as_deref() {
            match tcp.try_write(rest) {
                Ok(n) if n >= rest.len() => self.rest = None,
                Ok(n) => self.rest = Some(rest[n..].into()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

impl Lane {
    /// The lane of a new connection (not direct).
    pub fn new(tcp: TcpStream, origin: String) -> Arc<Lane> {
        Arc::new(Lane {
            tcp,
            origin: origin.into(),
            inner: Mutex::new(Inner {
                filter: Filter::default(),
                grant: Grant::anonymous(),
                direct: false,
                rx: None,
                last: Offset::ZERO,
                rest: None,
                waker: None,
            }),
        })
    }

    /// The shared part, locked.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the connection's events to the fan-out, unless its receiver
    /// holds something: then that, for the task to deal with. Call only
    /// when the task has nothing queued, flushed or read from the log.
    ///
    /// The receiver goes with them: a receiver nobody reads would keep the
    /// hub's last [`crate::engine::HUB_CAPACITY`] events in memory, so the
    /// fan-out reads past what it wrote.
    pub fn go_direct(&self, feed: &mut Feed) -> Option<Step> {
        let mut inner = self.lock();
        let step = feed.ready();
        if step.is_none() {
            inner.direct = true;
            inner.rx = feed.rx.take();
            inner.last = feed.last;
        }
        step
    }

    /// Ready, with the newest offset the fan-out dealt with and the
    /// receiver, once it gave the connection back (see the module's header).
    pub fn poll_given_back(&self, cx: &mut Context<'_>) -> Poll<(Offset, Option<broadcast::Receiver<Fed>>)> {
        let mut inner = self.lock();
        if !inner.direct {
            return Poll::Ready((inner.last, inner.rx.take()));
        }
        if !inner.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            inner.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The socket, for the connection's reads.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Writes a text frame of the connection's own (its `welcome`)
    /// straight to the socket. What the socket does not take is written
    /// before anything else, on the next write or flush ([`Sent::Partly`]: flush).
    pub fn write_text(&self, frame: &str) -> Sent {
        // A broken socket takes nothing: the next write finds the error.
        match self.write_frames(&[(OP_TEXT, frame.as_bytes())]) {
            Ok(0) | Err(_) => Sent::Not,
            Ok(_) if self.lock().rest.is_some() => Sent::Partly,
            Ok(_) => Sent::Whole,
        }
    }

    /// Writes frames of the connection's own (opcode and payload, up to
    /// [`WRITE_BATCH`]) in one system call, after what the socket did not
    /// take of an earlier one; how many it took, the last perhaps in part:
    /// its rest is written before anything else ([`Lane::poll_flush`]).
    /// 0 when the socket is full.
    pub fn write_frames(&self, frames: &[(u8, &[u8])]) -> io::Result<usize> {
        let frames = &frames[..frames.len().min(WRITE_BATCH)];
        let mut inner = self.lock();
        if !inner.write_rest(&self.tcp)? {
            return Ok(0);
        }
        let mut heads = [([0u8; 10], 0usize); WRITE_BATCH];
        let mut slices = [[IoSlice::new(&[]); 2]; WRITE_BATCH];
        for (i, (opcode, payload)) in frames.iter().enumerate() {
            heads[i] = header(*opcode, payload.len());
        }
        for ((slice, (head, len)), (_, payload)) in slices.iter_mut().zip(&heads).zip(frames) {
            *slice = [IoSlice::new(&head[..*len]), IoSlice::new(payload)];
        }
        let mut wrote = match self.tcp.try_write_vectored(&slices.as_flattened()[..2 * frames.len()]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) => return Err(e),
        };
        for (i, ((head, len), (_, payload))) in heads.iter().zip(frames).enumerate() {
            let head = &head[..*len];
            let total = head.len() + payload.len();
            if wrote >= total {
                wrote -= total;
            } else if wrote == 0 {
                return Ok(i);
            } else {
                inner.keep_rest(head, payload, wrote);
                return Ok(i + 1);
            }
        }
        Ok(frames.len())
    }

    /// Writes what the socket did not take of a frame; ready once it took it all.
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.lock().write_rest(&self.tcp)? {
                return Poll::Ready(Ok(()));
            }
            ready!(self.tcp.poll_write_ready(cx))?;
        }
    }

    /// Takes the connection back (it is closing); the newest offset the fan-out dealt with.
    pub fn take_back(&self) -> Offset {
        let mut inner = self.lock();
        inner.direct = false;
        inner.rx = None;
        inner.waker = None;
        inner.last
    }

    /// Writes the events of `events` it admits after `last`, if this
    /// connection is direct, in writes of `N` frames at most; how many
    /// frames that wrote. (`N` is 1 for the usual single event: the room
    /// for a burst is set up for every connection.)
    fn deliver<const N: usize>(&self, events: &[Arc<Event>]) -> u64 {
        let mut inner = self.lock();
        let mut written = 0;
        let mut next = 0;
        while inner.direct && next < events.len() {
            if inner.rest.is_some() {
                // The task writes these (from its receiver), after its own frame.
                inner.give_back();
                break;
            }
            // The next burst: up to N admitted frames, and how far it looked.
            let mut heads = [([0u8; 10], 0usize); N];
            let mut burst: [(&[u8], Offset); N] = [(&[], Offset::ZERO); N];
            let (mut count, mut seen) = (0, inner.last);
            while next < events.len() && count < N {
                let event = &events[next];
                next += 1;
                if event.offset <= inner.last {
                    continue;
                }
                seen = event.offset;
                if inner.admits(&self.origin, event) {
                    heads[count] = text_header(event.frame.len());
                    burst[count] = (event.frame.as_bytes(), event.offset);
                    count += 1;
                }
            }
            if count == 0 {
                inner.last = seen;
                break;
            }
            let mut slices = [[IoSlice::new(&[]); 2]; N];
            for (slice, ((head, len), (frame, _))) in slices.iter_mut().zip(heads.iter().zip(&burst)).take(count) {
                *slice = [IoSlice::new(&head[..*len]), IoSlice::new(frame)];
            }
            // Nothing written (a full socket, or a broken one, which the
            // task's next read or write finds) is given back whole.
            let mut wrote = self
                .tcp
                .try_write_vectored(&slices.as_flattened()[..2 * count])
                .unwrap_or(0);
            if wrote == 0 {
                inner.give_back();
                break;
            }
            for i in 0..count {
                let (head, frame) = (&heads[i].0[..heads[i].1], burst[i].0);
                let total = head.len() + frame.len();
                inner.last = burst[i].1;
                written += 1;
                if wrote >= total {
                    wrote -= total;
                    continue;
                }
                // The socket took part of this frame: the rest is written
                // before anything else, and the task takes over after it.
                inner.keep_rest(head, frame, wrote);
                inner.give_back();
                break;
            }
            if inner.direct {
                inner.last = seen;
            }
        }
        if inner.direct {
            // Everything the receiver holds was dealt with (the hub sends to
            // the receivers first, and one batch at a time).
            if let Some(rx) = inner.rx.as_mut() {
                while !matches!(rx.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
            }
        }
        written
    }

    /// Events before `next` may never come through the hub: a connection
    /// with subscriptions that has not dealt with them goes back to its
    /// task, which reads the gap from its receiver and closes with 4008.
    fn gap(&self, next: Offset) {
        let mut inner = self.lock();
        if inner.direct && next > inner.last && !inner.filter.is_empty() {
            inner.give_back();
        }
    }
}

/// The opcodes of the frames the relay writes (RFC 6455, section 5.2): text,
pub const OP_TEXT: u8 = 0x1;
/// close,
pub const OP_CLOSE: u8 = 0x8;
/// ping,
pub const OP_PING: u8 = 0x9;
/// and pong.
pub const OP_PONG: u8 = 0xA;

/// Frames a connection's task writes in one system call at most.
pub const WRITE_BATCH: usize = 64;

/// The header of an unmasked, final text frame of `len` bytes, and its length.
fn text_header(len: usize) -> ([u8; 10], usize) {
    header(OP_TEXT, len)
}

/// The header of an unmasked, final frame of `opcode` and `len` bytes
/// (RFC 6455, section 5.2), and its length.
fn header(opcode: u8, len: usize) -> ([u8; 10], usize) {
    let mut head = [0u8; 10];
    head[0] = 0x80 | opcode;
    if len < 126 {
        head[1] = len as u8;
        (head, 2)
    } else if let Ok(short) = u16::try_from(len) {
        head[1] = 126;
        head[2..4].copy_from_slice(&short.to_be_bytes());
        (head, 4)
    } else {
        head[1] = 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (head, 10)
    }
}

/// What [`Lane::write_text`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// The socket took the whole frame.
    Whole,
    /// It took part: the rest waits for a flush.
    Partly,
    /// Nothing written (the WebSocket layer is mid-frame): queue it.
    Not,
}

/// The lanes of one instance's connections, for the hub's fan-out.
#[derive(Debug, Default)]
pub struct Lanes {
    lanes: Mutex<HashMap<u64, Arc<Lane>>>,
    /// Frames the fan-out wrote since the metrics last took them.
    written: AtomicU64,
}

impl Lanes {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Lane>>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a connection's lane; it is removed when the returned guard drops.
    pub fn add(self: &Arc<Self>, id: u64, lane: Arc<Lane>) -> Added {
        self.lock().insert(id, lane);
        Added {
            lanes: self.clone(),
            id,
        }
    }

    /// Frames written since the last call.
    pub fn take_written(&self) -> u64 {
        self.written.swap(0, Relaxed)
    }
}

impl Direct for Lanes {
    /// Offers stored events, in offset order, to every direct connection
    /// (after the hub sent them to the receivers).
    fn deliver(&self, events: &[Arc<Event>]) {
        let lanes = self.lock();
        let written: u64 = match events.len() {
            1 => lanes.values().map(|lane| lane.deliver::<1>(events)).sum(),
            _ => lanes.values().map(|lane| lane.deliver::<BURST>(events)).sum(),
        };
        drop(lanes);
        if written > 0 {
            self.written.fetch_add(written, Relaxed);
        }
    }

    /// See [`Lane::gap`].
    fn gap(&self, next: Offset) {
        for lane in self.lock().values() {
            lane.gap(next);
        }
    }
}

/// A lane in [`Lanes`], removed on drop.
#[derive(Debug)]
pub struct Added {
    lanes: Arc<Lanes>,
    id: u64,
}

impl Drop for Added {
    fn drop(&mut self) {
        self.lanes.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Scope;
    use std::future::poll_fn;
    use tokio::io::AsyncReadExt;

    /// The payloads of the text frames in `bytes`, as far as they are whole.
    fn frames(bytes: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut at = 0;
        while bytes.len() >= at + 2 {
            assert_eq!(bytes[at], 0x81, "a frame starts at byte {at}");
            let (len, head) = match bytes[at + 1] {
                126 if bytes.len() >= at + 4 => (usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])), 4),
                127 if bytes.len() >= at + 10 => {
                    let len = u64::from_be_bytes(bytes[at + 2..at + 10].try_into().unwrap());
                    (usize::try_from(len).unwrap(), 10)
                }
                127 => break,
                126 => break,
                n => (usize::from(n), 2),
            };
            let Some(payload) = bytes.get(at + head..at + head + len) else {
                break;
            };
            out.push(payload);
            at += head + len;
        }
        out
    }

    /// Writes a text frame `ok` of the connection's own, and all before it.
    async fn write_ok(lane: &Lane) {
        loop {
            poll_fn(|cx| lane.poll_flush(cx)).await.unwrap();
            if lane.write_frames(&[(OP_TEXT, b"ok")]).unwrap() == 1 {
                break;
            }
            lane.tcp.writable().await.unwrap();
        }
        poll_fn(|cx| lane.poll_flush(cx)).await.unwrap();
    }

    /// A lane whose socket takes 4 KiB or so unread, and its client end.
    async fn small_socket() -> (Arc<Lane>, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        socket2::SockRef::from(&server).set_send_buffer_size(4096).unwrap();
        (Lane::new(server, "me".into()), client)
    }

    /// What `client` reads up to and with a text frame `ok`.
    async fn read_to_ok(mut client: TcpStream) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut chunk = vec![0; 65536];
        while frames(&bytes).last() != Some(&&b"ok"[..]) {
            let n = client.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the socket closed");
            bytes.extend_from_slice(&chunk[..n]);
        }
        bytes
    }

    #[tokio::test]
    async fn a_frame_the_socket_takes_in_part_is_finished_before_anything_else() {
        let (lane, client) = small_socket().await;
        lane.lock().filter.add("*");
        let (tx, rx) = broadcast::channel(64);
        let mut feed = Feed {
            rx: Some(rx),
            last: Offset::ZERO,
            epoch: String::new(),
        };
        assert!(lane.go_direct(&mut feed).is_none());
        // Frames of 20 KB to a client that reads nothing yet: the socket fills.
        let pad = "x".repeat(20_000);
        let events: Vec<_> = (1..=64)
            .map(|n| {
                let payload = format!(r#"{{"n":{n},"pad":"{pad}"}}"#);
                Event::new(Offset { ms: n, seq: 0 }, "app.x", &payload, Scope::All, "other".into()).unwrap()
            })
            .collect();
        for event in &events {
            tx.send(Fed::Event(event.clone())).unwrap();
        }
        let wrote = lane.deliver::<BURST>(&events);
        // Some were written, and the last of them only in part: the task has the connection back.
        assert!(wrote > 0 && wrote < 64, "{wrote}");
        assert!(!lane.lock().direct && lane.lock().rest.is_some());
        // A frame of the task's own goes after the rest of that one.
        let reader = tokio::spawn(read_to_ok(client));
        write_ok(&lane).await;
        let bytes = reader.await.unwrap();
        let got = frames(&bytes);
        // Every frame whole, in order, the task's last.
        assert_eq!(got.len() as u64, wrote + 1);
        for (event, frame) in events.iter().zip(&got[..got.len() - 1]) {
            assert_eq!(*frame, event.frame.as_bytes());
        }
    }

    #[tokio::test]
    async fn a_text_frame_of_its_own_the_socket_takes_in_part_is_finished_on_the_flush() {
        let (lane, client) = small_socket().await;
        // One that fits, then one the socket cannot take whole (the client reads nothing yet).
        assert_eq!(lane.write_text("hi"), Sent::Whole);
        let big = "y".repeat(1 << 20);
        assert_eq!(lane.write_text(&big), Sent::Partly);
        // While a rest waits, nothing else is written straight.
        assert_eq!(lane.write_text("later"), Sent::Not);
        let reader = tokio::spawn(read_to_ok(client));
        write_ok(&lane).await;
        let bytes = reader.await.unwrap();
        let got = frames(&bytes);
        assert_eq!(got, [&b"hi"[..], big.as_bytes(), b"ok"]);
    }

    #[test]
    fn headers_of_every_length_class() {
        assert_eq!(text_header(5).0[..2], [0x81, 5]);
        assert_eq!(text_header(125).1, 2);
        assert_eq!(text_header(126).0[..4], [0x81, 126, 0, 126]);
        assert_eq!(text_header(65_535).1, 4);
        assert_eq!(text_header(65_536).0[..10], [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
