//! What one connection receives: its subscriptions ([`Filter`]) and the
//! task that feeds it events ([`feed`]).
//!
//! ## Order, gaps and duplicates
//!
//! The feed tracks `last`, the newest offset it has dealt with (sent, or
//! skipped because this connection may not see it). Events come from the
//! hub in offset order; one at or before `last` was already dealt with and
//! is skipped, so switching from reading the log to the hub never sends an
//! event twice. Before every read of the log the feed checks that nothing
//! after `last` was trimmed; if something was, it closes with 4008 and the
//! client's resume is told `recovered: false`: never a silent gap.
//!
//! ## Backpressure
//!
//! Live events are *offered* to the connection's bounded queue: when it is
//! full, the client is not reading fast enough and is closed with 4008 (it
//! resumes from its last offset). Events read from the log (a resume, or
//! catching up after the hub lagged) *wait* for room instead: the log, not
//! memory, holds what the client has yet to read.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::ws::Message;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc};

use crate::event::{Event, Offset};
use crate::protocol::CLOSE_LAGGING;
use crate::server::State;

/// Patterns one connection may hold at most.
pub const MAX_PATTERNS: usize = 10_000;
/// Events read from the log per call.
const BATCH: usize = 256;

/// A connection's subscriptions and who it is.
#[derive(Debug, Default)]
pub struct Filter {
    all: bool,
    prefixes: HashSet<String>,
    exact: HashSet<String>,
    /// The token's `sub`.
    pub user: Option<String>,
    /// The token's `admin`.
    pub admin: bool,
}

impl Filter {
    /// Adds patterns already checked with `parse_pattern`.
    pub fn add(&mut self, pattern: &str) {
        if pattern == "*" {
            self.all = true;
        } else if let Some(prefix) = pattern.strip_suffix(".*") {
            self.prefixes.insert(prefix.to_string());
        } else {
            self.exact.insert(pattern.to_string());
        }
    }

    /// Removes a pattern; unknown ones are ignored.
    pub fn remove(&mut self, pattern: &str) {
        if pattern == "*" {
            self.all = false;
        } else if let Some(prefix) = pattern.strip_suffix(".*") {
            self.prefixes.remove(prefix);
        } else {
            self.exact.remove(pattern);
        }
    }

    /// How many patterns it holds.
    pub fn len(&self) -> usize {
        self.exact.len() + self.prefixes.len() + usize::from(self.all)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every pattern it holds.
    pub fn patterns(&self) -> Vec<String> {
        let all = self.all.then(|| "*".to_string());
        all.into_iter()
            .chain(self.prefixes.iter().map(|p| format!("{p}.*")))
            .chain(self.exact.iter().cloned())
            .collect()
    }

    /// Whether a subscription matches `name`: one lookup per dot in it.
    pub fn matches(&self, name: &str) -> bool {
        self.all
            || self.exact.contains(name)
            || name
                .match_indices('.')
                .any(|(dot, _)| name.get(..dot).is_some_and(|p| self.prefixes.contains(p)))
    }

    /// Whether this connection receives `event`.
    pub fn admits(&self, event: &Event) -> bool {
        let owner_ok = match &event.user {
            None => true,
            Some(owner) => self.admin || self.user.as_ref() == Some(owner),
        };
        owner_ok && self.matches(&event.name)
    }
}

/// Why a feed ended: a close code and reason, or nothing (the connection went away).
pub type Ending = Option<(u16, String)>;

/// What a feed needs.
#[derive(Debug)]
pub struct Feed {
    /// The relay.
    pub state: Arc<State>,
    /// The connection's subscriptions.
    pub filter: Arc<RwLock<Filter>>,
    /// The connection's outbound queue.
    pub out: mpsc::Sender<Message>,
    /// The connection's origin id (its own events are not sent back).
    pub origin: String,
    /// The epoch the connection was welcomed in.
    pub epoch: String,
}

impl Feed {
    fn admits(&self, event: &Event) -> bool {
        event.origin != self.origin && self.filter.read().unwrap_or_else(|e| e.into_inner()).admits(event)
    }

    /// Sends events after `last`: first from the log when `from_log`, then live.
    pub async fn run(self, mut rx: broadcast::Receiver<Arc<Event>>, mut last: Offset, from_log: bool) -> Ending {
        if from_log {
            if let Err(ending) = self.catch_up(&mut last).await {
                return ending;
            }
        }
        loop {
            match rx.recv().await {
                Ok(event) => {
                    if event.offset <= last {
                        continue;
                    }
                    last = event.offset;
                    if !self.admits(&event) {
                        continue;
                    }
                    match self.out.try_send(Message::Text(event.frame.clone())) {
                        Ok(()) => {
                            self.state
                                .metrics
                                .events_out
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            self.state
                                .metrics
                                .lagging_closes
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return Some((CLOSE_LAGGING, "lagging: resume from your last offset".into()));
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => return None,
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    if let Err(ending) = self.catch_up(&mut last).await {
                        return ending;
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the log after `last` until it is exhausted, waiting for room in
    /// the queue. `Err` ends the feed.
    async fn catch_up(&self, last: &mut Offset) -> Result<(), Ending> {
        let engine = &self.state.engine;
        loop {
            let batch = match engine.can_resume(&self.epoch, *last).await {
                Ok(true) => engine.read_after(*last, BATCH).await,
                Ok(false) => {
                    self.state
                        .metrics
                        .lagging_closes
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Err(Some((CLOSE_LAGGING, "lagging past the retained log: resume".into())));
                }
                Err(e) => Err(e),
            };
            let Ok(batch) = batch else {
                // The engine is away: wait for it (the hub is quiet meanwhile).
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            for event in &batch {
                *last = event.offset;
                if self.admits(event) {
                    if self.out.send(Message::Text(event.frame.clone())).await.is_err() {
                        return Err(None);
                    }
                    self.state
                        .metrics
                        .events_out
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            if batch.len() < BATCH {
                return Ok(());
            }
        }
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
    fn filters_match_by_pattern_and_owner() {
        let mut f = Filter::default();
        f.add("auth.*");
        f.add("audio.playback.started");
        assert!(f.matches("auth.user.login") && f.matches("auth.x"));
        assert!(!f.matches("authx.y") && !f.matches("audio.recording.started"));
        assert!(f.matches("audio.playback.started"));
        f.remove("auth.*");
        assert!(!f.matches("auth.user.login"));
        f.add("*");
        assert!(f.matches("anything.at.all"));
        assert_eq!(f.len(), 2);
        f.user = Some("u1".into());
        let ev = |user: Option<&str>| {
            Event::new(Offset::ZERO, "a.b", "{}", "t", user.map(String::from), String::new()).unwrap()
        };
        assert!(f.admits(&ev(None)) && f.admits(&ev(Some("u1"))) && !f.admits(&ev(Some("u2"))));
        f.admin = true;
        assert!(f.admits(&ev(Some("u2"))));
    }

    #[test]
    fn reasons_fit_a_close_frame() {
        assert_eq!(reason(&"é".repeat(100)).len(), 120);
        assert_eq!(reason("short"), "short");
    }
}
