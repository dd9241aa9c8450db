//! Limits per user (token `sub`), across every WebSocket connection and HTTP
//! request of that user: publishes per second (`--user-rate`) and open
//! connections (`--max-connections-per-user`). Per-connection limits alone
//! do not bound what one token can do: it can open many connections, or
//! publish over HTTP. Anonymous `--insecure-dev` connections have no user
//! and only their connection's limits.
//!
//! Each connection holds its user's entry from `hello` to its close; an
//! HTTP request holds it while it runs. Publishing costs one atomic
//! compare-and-swap on the entry (a GCRA bucket: one timestamp, no lock);
//! the map is locked only to find an entry, at `hello` or per request.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One user's state.
#[derive(Debug, Default)]
pub struct User {
    /// The rate limit (GCRA): when the bucket would be full again, in
    /// nanoseconds since [`Users`] started.
    full_at: AtomicU64,
    /// Open WebSocket connections.
    connections: AtomicUsize,
}

/// Every user with a connection, a request in progress, or a bucket not yet full again.
#[derive(Debug)]
pub struct Users {
    rate: u32,
    max_connections: usize,
    start: Instant,
    map: Mutex<Map>,
}

#[derive(Debug, Default)]
struct Map {
    users: HashMap<Box<str>, Arc<User>>,
    /// Entries no longer needed are dropped when the map reaches this size.
    sweep_at: usize,
}

/// A connection counted in its user's connections, until it is dropped.
#[derive(Debug)]
pub struct Connected(pub Arc<User>);

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Relaxed);
    }
}

const SECOND: u64 = 1_000_000_000;

impl Users {
    /// `rate` publishes per second per user, `max_connections` per user (0: no limit).
    pub fn new(rate: u32, max_connections: usize) -> Users {
        Users {
            rate,
            max_connections,
            start: Instant::now(),
            map: Mutex::new(Map {
                users: HashMap::new(),
                sweep_at: 1024,
            }),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The entry of `sub`, made if needed.
    pub fn user(&self, sub: &str) -> Arc<User> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(user) = map.users.get(sub) {
            return user.clone();
        }
        if map.users.len() >= map.sweep_at {
            // Nobody holds it and its bucket is full again: it is as good as new.
            let now = self.now();
            map.users
                .retain(|_, u| Arc::strong_count(u) > 1 || u.full_at.load(Relaxed) > now);
            map.sweep_at = (map.users.len() * 2).max(1024);
        }
        let user = Arc::new(User::default());
        map.users.insert(sub.into(), user.clone());
        user
    }

    /// Counts a new connection of `sub`, or says why it may not open.
    pub fn connect(&self, sub: &str) -> Result<Connected, TooManyConnections> {
        let user = self.user(sub);
        let max = self.max_connections;
        user.connections
            .fetch_update(Relaxed, Relaxed, |n| (max == 0 || n < max).then_some(n + 1))
            .map_err(TooManyConnections)?;
        Ok(Connected(user))
    }

    /// Takes one publish from `user`'s bucket (`--user-rate` per second,
    /// bursts of as many); `false` when it is empty.
    pub fn take(&self, user: &User) -> bool {
        let interval = SECOND / u64::from(self.rate.max(1));
        let now = self.now();
        let mut full_at = user.full_at.load(Relaxed);
        loop {
            let next = full_at.max(now).saturating_add(interval);
            if next > now.saturating_add(SECOND) {
                return false;
            }
            match user.full_at.compare_exchange_weak(full_at, next, Relaxed, Relaxed) {
                Ok(_) => return true,
                Err(seen) => full_at = seen,
            }
        }
    }

    /// The refusal's message when [`Users::take`] said no.
    pub fn over_rate(&self) -> String {
        format!(
            "over {} publishes per second for this user (--user-rate); retry later",
            self.rate
        )
    }

    /// Users with an entry now (for tests of the sweep).
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).users.len()
    }

    /// Whether no user has an entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A user holds `--max-connections-per-user` connections already (this
/// many): the new one is closed with 1013.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyConnections(pub usize);

impl std::fmt::Display for TooManyConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "this user has {} connections open, the most this relay allows (--max-connections-per-user); retry later",
            self.0
        )
    }
}

impl std::error::Error for TooManyConnections {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_rate_then_refusals_shared_by_every_holder() {
        let users = Users::new(50, 0);
        let a = users.user("u1");
        let b = users.user("u1");
        let taken = (0..200)
            .filter(|i| users.take(if i % 2 == 0 { &a } else { &b }))
            .count();
        // 50 at once, and maybe one or two more refilled while counting.
        assert!((50..=52).contains(&taken), "{taken}");
        assert!(users.take(&users.user("u2")), "another user has its own bucket");
    }

    #[test]
    fn connections_are_capped_and_given_back() {
        let users = Users::new(10, 2);
        let one = users.connect("u1").unwrap();
        let _two = users.connect("u1").unwrap();
        assert!(users.connect("u1").unwrap_err().to_string().contains("2 connections"));
        assert!(users.connect("u2").is_ok());
        drop(one);
        assert!(users.connect("u1").is_ok());
    }

    #[test]
    fn entries_nobody_needs_are_swept() {
        let users = Users::new(1_000_000, 0);
        let kept = users.connect("kept").unwrap();
        for i in 0..5000 {
            users.user(&format!("u{i}"));
        }
        // Swept at each doubling: never more than about twice what is held.
        assert!(users.len() <= 2048, "{}", users.len());
        assert!(Arc::ptr_eq(&users.user("kept"), &kept.0), "a held entry stays");
    }
}
