//! The sending half of a connection and the frames waiting for it: written
//! in batches, one flush per batch, and the close frame.
//!
//! ## The client's pings
//!
//! The WebSocket layer answers a client's ping by itself, keeping one pong
//! waiting at most (a newer ping replaces it), in a write buffer of bounded
//! size ([`crate::upgrade::ws_config`]). Each ping received is written out
//! at once if the socket takes it; a client that pings but does not read is
//! closed with 4008 once [`MAX_PINGS_UNANSWERED`] of its pings found the
//! socket full. Whatever a client sends, its connection's memory stays
//! bounded (before this, a client that pinged without reading had a pong
//! buffered per ping: 4 such connections took 570 MiB in 8 s).

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{Sink, SinkExt};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::feed::reason;
use crate::lane::Io;
use crate::protocol::{Close, CLOSE_GOING_AWAY, CLOSE_LAGGING};

/// A WebSocket on a TCP connection (shared with the fan-out: see [`crate::lane`]).
pub type WebSocket = WebSocketStream<Io>;

/// Frames written between two flushes at most.
const WRITE_BATCH: usize = 64;

/// Pings of the client received while its pongs could not be written, at most.
const MAX_PINGS_UNANSWERED: u8 = 16;

/// How long the relay tries to deliver a close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The sending half and the frames waiting for it.
#[derive(Debug)]
pub struct Outbox {
    sink: SplitSink<WebSocket, Message>,
    /// The frames waiting.
    pub queue: VecDeque<Message>,
    /// Frames were written since the last flush.
    unflushed: bool,
    /// The client's pings received since the socket last took everything.
    pings: u8,
}

impl Outbox {
    /// Nothing waiting yet.
    pub fn new(sink: SplitSink<WebSocket, Message>) -> Outbox {
        Outbox {
            sink,
            queue: VecDeque::new(),
            unflushed: false,
            pings: 0,
        }
    }

    /// Queues a text frame.
    pub fn push(&mut self, text: impl Into<Utf8Bytes>) {
        self.queue.push_back(Message::Text(text.into()));
    }

    /// Something waits in the socket's layers (the rest of a frame the
    /// fan-out began): flush before anything else is written.
    pub fn must_flush(&mut self) {
        self.unflushed = true;
    }

    /// Whether something waits to be written or flushed.
    pub fn busy(&self) -> bool {
        self.unflushed || !self.queue.is_empty()
    }

    /// Writes queued frames, up to [`WRITE_BATCH`], then flushes once: one
    /// system call for many frames. A frame leaves the queue only when the
    /// sink takes it, so this may be cancelled at any point.
    pub fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let mut sink = Pin::new(&mut self.sink);
        for _ in 0..WRITE_BATCH {
            if self.queue.is_empty() {
                break;
            }
            ready!(sink.as_mut().poll_ready(cx))?;
            if let Some(m) = self.queue.pop_front() {
                sink.as_mut().start_send(m)?;
                self.unflushed = true;
            }
        }
        ready!(sink.poll_flush(cx))?;
        self.unflushed = false;
        self.pings = 0;
        // Give back the queue's room: an idle connection holds none (one
        // allocation per burst is nothing next to its system calls).
        if self.queue.is_empty() {
            self.queue = VecDeque::new();
        }
        Poll::Ready(Ok(()))
    }

    /// A ping of the client arrived (its pong is waiting in the WebSocket
    /// layer): writes it now if the socket takes it; 4008 when too many
    /// found it full.
    pub fn pinged(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Close>> {
        match Pin::new(&mut self.sink).poll_flush(cx) {
            // A broken socket: the next read or write ends the connection.
            Poll::Ready(_) => self.pings = 0,
            Poll::Pending => {
                self.pings = self.pings.saturating_add(1);
                self.unflushed = true;
            }
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
    pub async fn close(&mut self, Close { code, reason: text }: Close) {
        if code != CLOSE_GOING_AWAY {
            self.queue.clear();
        }
        while self.busy() {
            let write = poll_fn(|cx| self.poll_write(cx));
            if !matches!(tokio::time::timeout(CLOSE_TIMEOUT, write).await, Ok(Ok(()))) {
                return;
            }
        }
        let frame = Message::Close(Some(CloseFrame {
            code: code.into(),
            reason: reason(&text).into(),
        }));
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.sink.send(frame)).await;
    }
}
