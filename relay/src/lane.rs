//! Events written straight from the fan-out to the sockets that take them.
//!
//! At everyday load a connection gets an event now and then, and its socket
//! has room: waking its task to write one frame costs more than the write.
//! So a connection with nothing of its own in flight hands its socket to the
//! hub ("direct"): the hub's fan-out writes each event it admits (the
//! WebSocket header and the `event` frame serialized once for every
//! receiver) without blocking, and no task wakes: on Linux the sends of
//! every such socket in one io_uring submission (`lane/uring.rs`), else
//! one `writev` each (`--fanout-writes`).
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
//! under the lane's lock (an io_uring send: from its submission to its
//! completion). What the socket did not take of a frame (`rest`,
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
use crate::config::FanoutWrites;
use crate::engine::{Direct, Fed};
use crate::event::{Event, Offset};
use crate::feed::{Feed, Step};
use crate::filter::Filter;

#[cfg(target_os = "linux")]
mod uring;

/// Whether the fan-out can write through io_uring here (see `uring.rs`).
#[cfg(target_os = "linux")]
fn uring_probe() -> io::Result<()> {
    uring::probe()
}

#[cfg(not(target_os = "linux"))]
fn uring_probe() -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "io_uring is Linux's"))
}

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

    /// The next burst of up to `N` frames of `events` (from `*next` on)
    /// to write to this connection's socket, while it is direct: those it
    /// admits after `last`. `None` when there is nothing more to write:
    /// everything looked at is dealt with, or the connection went back to
    /// its task (a frame of its own waits in part: the task writes these
    /// from its receiver, after it).
    fn burst<const N: usize>(&mut self, origin: &str, events: &[Arc<Event>], next: &mut usize) -> Option<Burst<N>> {
        if !self.direct || *next >= events.len() {
            return None;
        }
        if self.rest.is_some() {
            self.give_back();
            return None;
        }
        let mut burst = Burst {
            at: [0; N],
            count: 0,
            seen: self.last,
        };
        while *next < events.len() && burst.count < N {
            let event = &events[*next];
            *next += 1;
            if event.offset <= self.last {
                continue;
            }
            burst.seen = event.offset;
            if self.admits(origin, event) {
                burst.at[burst.count] = *next - 1;
                burst.count += 1;
            }
        }
        if burst.count == 0 {
            self.last = burst.seen;
            return None;
        }
        Some(burst)
    }

    /// Takes note that the socket took `wrote` bytes of `burst` (0: it was
    /// full or broken, and the connection goes back to its task whole);
    /// how many frames that wrote, the last perhaps in part: its rest is
    /// kept, written before anything else, and the task takes over after it.
    fn took<const N: usize>(&mut self, burst: &Burst<N>, round: &Round<'_>, mut wrote: usize) -> u64 {
        if wrote == 0 {
            self.give_back();
            return 0;
        }
        for (i, &at) in burst.at[..burst.count].iter().enumerate() {
            let (head, frame) = round.frame(at);
            let total = head.len() + frame.len();
            self.last = round.events[at].offset;
            if wrote < total {
                self.keep_rest(head, frame, wrote);
                self.give_back();
                return i as u64 + 1;
            }
            wrote -= total;
        }
        self.last = burst.seen;
        burst.count as u64
    }

    /// Ends a delivery round: while still direct, everything its receiver
    /// holds was dealt with (the hub sends to the receivers first, and one
    /// batch at a time), so it is emptied.
    fn settle(&mut self) {
        if self.direct {
            if let Some(rx) = self.rx.as_mut() {
                while !matches!(rx.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
            }
        }
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

    /// Writes the events of `round` it admits after `last`, if this
    /// connection is direct, in `writev`s of `N` frames at most; how many
    /// frames that wrote. (`N` is 1 for the usual single event: the room
    /// for a burst is set up for every connection.)
    fn deliver<'r, const N: usize>(&self, round: &'r Round<'_>, slices: &mut Vec<IoSlice<'r>>) -> u64 {
        let mut inner = self.lock();
        let (mut next, mut written) = (0, 0);
        while let Some(burst) = inner.burst::<N>(&self.origin, round.events, &mut next) {
            slices.clear();
            round.slices(&burst, slices);
            // Nothing written (a full socket, or a broken one, which the
            // task's next read or write finds) is given back whole.
            let wrote = self.tcp.try_write_vectored(slices).unwrap_or(0);
            written += inner.took(&burst, round, wrote);
        }
        inner.settle();
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

/// One delivery round: the events the hub hands over at once (one, or a
/// read's batch), each framed once for every connection: the WebSocket
/// header and the `event` frame, one after the other in one buffer, so a
/// burst of consecutive events is one slice (and one plain send).
#[derive(Debug)]
struct Round<'a> {
    events: &'a [Arc<Event>],
    /// Every event's header and frame, in order.
    wire: Vec<u8>,
    /// Where each event's header starts in `wire`, and its header's length.
    starts: Vec<(usize, usize)>,
}

impl<'a> Round<'a> {
    fn new(events: &'a [Arc<Event>]) -> Round<'a> {
        let mut wire = Vec::with_capacity(events.iter().map(|e| e.frame.len() + 10).sum());
        let mut starts = Vec::with_capacity(events.len() + 1);
        for event in events {
            let (head, len) = text_header(event.frame.len());
            starts.push((wire.len(), len));
            wire.extend_from_slice(&head[..len]);
            wire.extend_from_slice(event.frame.as_bytes());
        }
        starts.push((wire.len(), 0));
        Round { events, wire, starts }
    }

    /// The header and the frame of event `at`.
    fn frame(&self, at: usize) -> (&[u8], &[u8]) {
        let ((start, head), (end, _)) = (self.starts[at], self.starts[at + 1]);
        self.wire[start..end].split_at(head)
    }

    /// Adds the slices of `burst` to `slices`: one for each run of consecutive events.
    fn slices<'r, const N: usize>(&'r self, burst: &Burst<N>, slices: &mut Vec<IoSlice<'r>>) {
        let span =
            |(first, last): (usize, usize)| IoSlice::new(&self.wire[self.starts[first].0..self.starts[last + 1].0]);
        let mut run: Option<(usize, usize)> = None;
        for &at in &burst.at[..burst.count] {
            run = match run {
                Some((first, last)) if last + 1 == at => Some((first, at)),
                Some(done) => {
                    slices.push(span(done));
                    Some((at, at))
                }
                None => Some((at, at)),
            };
        }
        slices.extend(run.map(span));
    }
}

/// Up to `N` frames for one socket in one write: the events at `at` in
/// the round, and the newest offset looked at for it.
#[derive(Debug)]
struct Burst<const N: usize> {
    at: [usize; N],
    count: usize,
    seen: Offset,
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
    /// The fan-out writes through io_uring (see `uring.rs`), not `writev`.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    uring: bool,
}

impl Lanes {
    /// The lanes of an instance whose fan-out writes as `writes` says, and
    /// how it writes, for the start's log line; an error when io_uring is
    /// asked for and refused here.
    pub fn new(writes: FanoutWrites) -> io::Result<(Lanes, String)> {
        let uring = match writes {
            FanoutWrites::Writev => Err("--fanout-writes writev".to_string()),
            FanoutWrites::IoUring => uring_probe().map(Ok)?,
            FanoutWrites::Auto => uring_probe().map_err(|e| format!("io_uring refused here: {e}")),
        };
        let said = match &uring {
            Ok(()) => "the fan-out writes with io_uring, one submission per delivery round".to_string(),
            Err(why) => format!("the fan-out writes with writev, one per socket ({why})"),
        };
        let lanes = Lanes {
            uring: uring.is_ok(),
            ..Lanes::default()
        };
        Ok((lanes, said))
    }

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

    /// Writes `round` to every direct connection of `lanes`, through
    /// io_uring where this instance and thread can, else a `writev` each;
    /// how many frames that wrote.
    fn deliver_round<'l, const N: usize>(
        &self,
        lanes: impl Iterator<Item = &'l Arc<Lane>> + Clone,
        round: &Round<'_>,
    ) -> u64 {
        #[cfg(target_os = "linux")]
        if self.uring {
            if let Some(written) = uring::deliver::<N>(lanes.clone(), round, uring::ROOM) {
                return written;
            }
        }
        let mut slices = Vec::new();
        lanes.map(|lane| lane.deliver::<N>(round, &mut slices)).sum()
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
        let round = Round::new(events);
        let lanes = self.lock();
        let written = match events.len() {
            1 => self.deliver_round::<1>(lanes.values(), &round),
            _ => self.deliver_round::<BURST>(lanes.values(), &round),
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
mod tests;
