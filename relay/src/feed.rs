//! What one connection receives: where its events come from ([`Feed`]: the
//! hub, or the log while catching up; its subscriptions are a
//! [`crate::filter::Filter`]),
//! both driven by the connection's own task (see `conn.rs`).
//!
//! ## Order, gaps and duplicates
//!
//! The feed tracks `last`, the newest offset it has dealt with (sent, or
//! skipped because this connection may not see it). Events come from the
//! hub in offset order; one at or before `last` was already dealt with and
//! is skipped, so switching from reading the log to the hub never sends an
//! event twice. After every read of the log the feed checks that nothing
//! after `last` was trimmed (after, not before: trimming only ever moves
//! forward, so a log that still holds everything after `last` once the
//! read is done held it during the read; checked before, a trim between
//! the check and the read went unseen). If something was trimmed, or the
//! hub says it missed events this connection has not dealt with
//! ([`Fed::Gap`]), it closes with 4008 and the client's resume is told
//! `recovered: false`: never a silent gap.
//!
//! ## Backpressure
//!
//! Live events are *offered* to the connection's bounded queue: when it is
//! full, the client is not reading fast enough and is closed with 4008 (it
//! resumes from its last offset). Events read from the log (a resume, or
//! catching up after the hub lagged) are read only as far as the queue has
//! room, and the next read waits for room: the log, not memory, holds what
//! the client has yet to read.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::engine::{Engine, Fed};
use crate::event::{Event, Offset};
use crate::protocol::{Close, CLOSE_LAGGING};

/// Patterns one connection may hold at most.
pub const MAX_PATTERNS: usize = 10_000;
/// Events read from the log per call.
const BATCH: usize = 256;

/// Why a connection ends: a close code and reason, or nothing (the client went away).
pub type Ending = Option<Close>;

/// What the connection's own task needs to feed it events: the hub's
/// receiver and the newest offset dealt with.
#[derive(Debug)]
pub struct Feed {
    /// The hub's stored events (with the lane while the fan-out writes
    /// this connection's events: see `lane.rs`).
    pub rx: Option<broadcast::Receiver<Fed>>,
    /// The newest offset sent or skipped.
    pub last: Offset,
    /// The epoch the connection was welcomed in.
    pub epoch: String,
}

/// A read of the log in progress (boxed: it exists only while catching up,
/// so an idle connection does not carry its room).
pub type Reading = BoxFuture<'static, LogRead>;

/// What one read of the log gave: events after `last` (at most what was
/// asked) and whether the log may have more (it gave all that was asked),
/// or `None` when some were trimmed away.
pub type LogRead = Option<Caught>;

/// Events read from the log, and whether it has more.
pub type Caught = (Vec<Arc<Event>>, bool);

/// What the feed hands the connection now.
#[derive(Debug)]
pub enum Step {
    /// An event from the hub (maybe not for this connection: see [`crate::filter::Filter::matches`]).
    Live(Arc<Event>),
    /// The hub dropped events for this connection: read them from the log.
    Lagged,
    /// Events this connection has not dealt with were trimmed before the
    /// engine read them (see [`Fed::Gap`]): close with 4008.
    Gap,
    /// The hub is gone (the relay is stopping).
    Closed,
}

impl Feed {
    /// The next event of the hub after `last`.
    pub async fn live(&mut self) -> Step {
        loop {
            let Some(rx) = self.rx.as_mut() else {
                return std::future::pending().await;
            };
            let fed = match rx.recv().await {
                Ok(fed) => fed,
                Err(RecvError::Lagged(_)) => return Step::Lagged,
                Err(RecvError::Closed) => return Step::Closed,
            };
            if let Some(step) = self.step(fed) {
                return step;
            }
        }
    }

    /// The next event the hub already holds, without waiting: lets the
    /// connection take a burst in one wake-up.
    pub fn ready(&mut self) -> Option<Step> {
        loop {
            let fed = match self.rx.as_mut()?.try_recv() {
                Ok(fed) => fed,
                Err(TryRecvError::Lagged(_)) => return Some(Step::Lagged),
                Err(TryRecvError::Closed) => return Some(Step::Closed),
                Err(TryRecvError::Empty) => return None,
            };
            if let Some(step) = self.step(fed) {
                return Some(step);
            }
        }
    }

    /// What one item of the hub means here; `None` for what `last` covers.
    fn step(&mut self, fed: Fed) -> Option<Step> {
        match fed {
            Fed::Event(event) if event.offset > self.last => {
                self.last = event.offset;
                Some(Step::Live(event))
            }
            Fed::Gap(next) if next > self.last => Some(Step::Gap),
            Fed::Event(_) | Fed::Gap(_) => None,
        }
    }

    /// A read of the log after `last`, `room` events at most.
    pub fn catch_up<S: AsRef<dyn Engine> + Send + Sync + 'static>(&self, state: &Arc<S>, room: usize) -> Reading {
        let (state, last, epoch) = (state.clone(), self.last, self.epoch.clone());
        let count = room.clamp(1, BATCH);
        Box::pin(async move {
            let engine = (*state).as_ref();
            loop {
                // Read, then check (see "Order, gaps and duplicates").
                let read = match engine.read_after(last, count).await {
                    Ok(events) => match engine.can_resume(&epoch, last).await {
                        Ok(true) => {
                            let more = events.len() >= count;
                            Ok(Some((events, more)))
                        }
                        Ok(false) => Ok(None),
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                match read {
                    Ok(read) => return read,
                    // The engine is away: wait for it (the hub is quiet meanwhile).
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        })
    }

    /// Takes a finished read: the events to offer, and whether the log has
    /// more (read again). Whether it has more is judged by what the read
    /// asked for, not by the room the queue has now: it may have more room
    /// once the read is done, and a short read taken for the end of the log
    /// would leave the events between it and the hub unsent. `Err` is the
    /// close (4008) when events were trimmed before this connection got them.
    pub fn caught(&mut self, read: LogRead) -> Result<Caught, Close> {
        let Some((events, more)) = read else {
            return Err(Close::new(CLOSE_LAGGING, "lagging past the retained log: resume"));
        };
        if let Some(newest) = events.last() {
            self.last = newest.offset;
        }
        Ok((events, more))
    }
}

/// Keeps a close reason within the 123 bytes a close frame allows.
pub fn reason(text: &str) -> String {
    let mut end = text.len().min(120);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_a_close_frame() {
        assert_eq!(reason(&"é".repeat(100)).len(), 120);
        assert_eq!(reason("short"), "short");
    }
}
