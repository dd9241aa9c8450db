//! The frames a connection's task writes (replies, events while it is not
//! direct, pings, pongs, the close), waiting for its socket: written in
//! batches of up to [`WRITE_BATCH`] frames, one system call each, straight
//! to the socket it shares with the fan-out ([`Lane::write_frames`]). Nothing
//! is buffered but the frames themselves, and an idle connection's queue
//! holds no room.
//!
//! ## The client's pings
//!
//! A client's ping is answered by a pong written before the queued frames;
//! one pong waits at most (a newer ping replaces it, as RFC 6455 allows).
//! Each ping received is answered at once if the socket takes it; a client
//! that pings but does not read is closed with 4008 once
//! [`MAX_PINGS_UNANSWERED`] of its pings found the socket full. Whatever a
//! client sends, its connection's memory stays bounded (once, a client that
//! pinged without reading had a pong buffered per ping: 4 such connections
//! took 570 MiB in 8 s).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::feed::reason;
use crate::lane::{Lane, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, WRITE_BATCH};
use crate::protocol::{Close, CLOSE_GOING_AWAY, CLOSE_LAGGING};

/// Pings of the client received while its pongs could not be written, at most.
const MAX_PINGS_UNANSWERED: u8 = 16;

/// How long the relay tries to write a batch while closing.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The frames waiting for the socket.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Text frames, in order.
    pub queue: VecDeque<Utf8Bytes>,
    /// The control frame that goes first: the pong to the client's latest
    /// ping, or the close.
    control: Option<(u8, Box<[u8]>)>,
    /// A ping of the relay's to send.
    ping: bool,
    /// Part of a frame of this connection's waits in the lane.
    unflushed: bool,
    /// The client's pings received since the socket last took everything.
    pings: u8,
}

impl Outbox {
    /// Queues a text frame.
    pub fn push(&mut self, text: impl Into<Utf8Bytes>) {
        self.queue.push_back(text.into());
    }

    /// Sends a ping (the relay's ping clock).
    pub fn ping(&mut self) {
        self.ping = true;
    }

    /// Something waits in the lane (the rest of a frame written in part):
    /// flush before anything else is written.
    pub fn must_flush(&mut self) {
        self.unflushed = true;
    }

    /// Whether something waits to be written or flushed.
    pub fn busy(&self) -> bool {
        self.unflushed || self.ping || self.control.is_some() || !self.queue.is_empty()
    }

    /// Writes waiting frames, up to [`WRITE_BATCH`] in one system call,
    /// control frames first. A frame leaves the queue only when the socket
    /// took it (what it took in part waits in the lane), so this may be
    /// cancelled at any point.
    pub fn poll_write(&mut self, cx: &mut Context<'_>, lane: &Lane) -> Poll<io::Result<()>> {
        ready!(lane.poll_flush(cx))?;
        self.unflushed = false;
        while self.control.is_some() || self.ping || !self.queue.is_empty() {
            let took = {
                let mut frames: [(u8, &[u8]); WRITE_BATCH] = [(0, &[]); WRITE_BATCH];
                let controls = self.control.iter().map(|(op, payload)| (*op, &**payload));
                let ping = self.ping.then_some((OP_PING, &[][..]));
                let texts = self.queue.iter().map(|t| (OP_TEXT, t.as_bytes()));
                let mut n = 0;
                for (slot, frame) in frames.iter_mut().zip(controls.chain(ping).chain(texts)) {
                    *slot = frame;
                    n += 1;
                }
                lane.write_frames(&frames[..n])?
            };
            if took == 0 {
                ready!(lane.tcp().poll_write_ready(cx))?;
                continue;
            }
            let mut left = took;
            if left > 0 && self.control.take().is_some() {
                left -= 1;
            }
            if left > 0 && std::mem::take(&mut self.ping) {
                left -= 1;
            }
            self.queue.drain(..left);
            // The last frame perhaps in part.
            self.unflushed = true;
            ready!(lane.poll_flush(cx))?;
            self.unflushed = false;
            break;
        }
        self.pings = 0;
        // Give back the queue's room: an idle connection holds none (one
        // allocation per burst is nothing next to its system calls).
        if self.queue.is_empty() && self.queue.capacity() > 0 {
            self.queue = VecDeque::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Answers a ping of the client (its payload): see [`Outbox::pinged`].
    pub fn pong(&mut self, payload: Box<[u8]>) {
        self.control = Some((OP_PONG, payload));
    }

    /// A ping of the client arrived (its pong waits, [`Outbox::pong`]):
    /// writes it now if the socket takes it; 4008 when too many found it full.
    pub fn pinged(&mut self, cx: &mut Context<'_>, lane: &Lane) -> Poll<Result<(), Close>> {
        match self.poll_write(cx, lane) {
            // A broken socket: the next read or write ends the connection.
            Poll::Ready(_) => self.pings = 0,
            Poll::Pending => self.pings = self.pings.saturating_add(1),
        }
        Poll::Ready(match self.pings >= MAX_PINGS_UNANSWERED {
            true => Err(Close::new(
                CLOSE_LAGGING,
                "lagging: the connection does not read its pongs",
            )),
            false => Ok(()),
        })
    }

    /// Sends the close frame. Queued frames are dropped (the client resumes
    /// from its offset), except when the relay is going away: then they are
    /// written first.
    pub async fn close(&mut self, lane: &Lane, Close { code, reason: text }: Close) {
        if code != CLOSE_GOING_AWAY {
            self.queue.clear();
            self.ping = false;
        }
        if !self.drain(lane).await {
            return;
        }
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason(&text).as_bytes());
        self.control = Some((OP_CLOSE, payload.into()));
        self.drain(lane).await;
    }

    /// Writes everything waiting; `false` when the socket broke or took
    /// nothing for [`CLOSE_TIMEOUT`].
    async fn drain(&mut self, lane: &Lane) -> bool {
        while self.busy() {
            let write = poll_fn(|cx| self.poll_write(cx, lane));
            if !matches!(tokio::time::timeout(CLOSE_TIMEOUT, write).await, Ok(Ok(()))) {
                return false;
            }
        }
        true
    }
}
