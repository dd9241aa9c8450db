//! The handler registry: which handler listens to which pattern.
//!
//! Handlers are opaque (`H`): the JS layer stores its own handler records,
//! [`crate::local::LocalBus`] stores `Rc<dyn Fn>`s. The registry answers one
//! question on the emit path, [`Registry::snapshot`]: which subscriptions an
//! event reaches, in the order they subscribed.
//!
//! ## Ordering
//!
//! Handlers run in subscription order across all the patterns that match, so
//! `on('*', a); on('auth.user.login', b)` calls `a` before `b`.
//!
//! ## Snapshots
//!
//! A snapshot is a copy: subscribing during dispatch does not add to it.
//! Unsubscribing during dispatch is handled by the dispatcher, which checks
//! [`Registry::contains`] (or its own flag) before each call.

use crate::prelude::*;

use alloc::rc::Rc;

use crate::core::names::{parse_pattern, pattern_matches};
use crate::error::NameError;

/// Identifies one subscription; increasing in subscription order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubId(pub u64);

/// One registration of a handler.
#[derive(Clone, Debug)]
pub struct Subscription<H> {
    /// Its id.
    pub id: SubId,
    /// The handler.
    pub handler: H,
    /// Whether it is removed before its first call.
    pub once: bool,
    /// Its pattern. Kept with the subscription, not interned: a pattern
    /// costs nothing once its last subscription is gone.
    pattern: Rc<str>,
}

/// Every subscription, in subscription order (so by id: they are appended
/// with increasing ids), each with its pattern. A snapshot is one
/// pass that keeps the subscriptions whose pattern matches, already in
/// order; the JS layer caches snapshots, so this runs only after a change.
#[derive(Debug)]
pub struct Registry<H> {
    subscriptions: Vec<Subscription<H>>,
    next: u64,
}

impl<H> Default for Registry<H> {
    fn default() -> Self {
        Registry {
            subscriptions: Vec::new(),
            next: 1,
        }
    }
}

impl<H: Clone> Registry<H> {
    /// Adds a subscription to `pattern` (see [`crate::core::names`]).
    pub fn subscribe(&mut self, pattern: &str, handler: H, once: bool) -> Result<SubId, NameError> {
        parse_pattern(pattern)?;
        let id = SubId(self.next);
        self.next = self.next.wrapping_add(1);
        self.subscriptions.push(Subscription {
            id,
            handler,
            once,
            pattern: pattern.into(),
        });
        Ok(id)
    }

    fn position(&self, id: SubId) -> Option<usize> {
        self.subscriptions.binary_search_by_key(&id, |s| s.id).ok()
    }

    /// Removes a subscription; `None` if it is already gone (a harmless
    /// second unsubscribe).
    pub fn unsubscribe(&mut self, id: SubId) -> Option<H> {
        // Moved to the end and popped rather than `Vec::remove`, whose index
        // check kept its panic message in the .wasm.
        let at = self.position(id)?;
        let tail = self.subscriptions.get_mut(at..)?;
        let mut moving = tail.iter_mut();
        if let Some(mut gone) = moving.next() {
            for next in moving {
                core::mem::swap(gone, next);
                gone = next;
            }
        }
        self.subscriptions.pop().map(|s| s.handler)
    }

    /// Whether the subscription is still registered.
    pub fn contains(&self, id: SubId) -> bool {
        self.position(id).is_some()
    }

    /// The subscriptions registered to exactly `pattern`, oldest first.
    pub fn registrations<'a>(&'a self, pattern: &'a str) -> impl Iterator<Item = &'a Subscription<H>> {
        self.subscriptions.iter().filter(move |s| *s.pattern == *pattern)
    }

    /// How many subscriptions are registered to exactly `pattern`.
    pub fn count(&self, pattern: &str) -> usize {
        self.registrations(pattern).count()
    }

    /// Every subscription an emit of `name` reaches, in subscription order.
    pub fn snapshot(&self, name: &str) -> Vec<Subscription<H>> {
        self.subscriptions
            .iter()
            .filter(|s| pattern_matches(&s.pattern, name))
            .cloned()
            .collect()
    }

    /// Removes every subscription and returns their handlers.
    pub fn clear(&mut self) -> Vec<H> {
        self.subscriptions.drain(..).map(|s| s.handler).collect()
    }

    /// How many subscriptions there are in all.
    pub fn len(&self) -> usize {
        self.subscriptions.len()
    }

    /// Whether there is no subscription.
    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handlers(subs: &[Subscription<&'static str>]) -> Vec<&'static str> {
        subs.iter().map(|s| s.handler).collect()
    }

    #[test]
    fn snapshot_follows_subscription_order_across_patterns() {
        let mut r = Registry::default();
        r.subscribe("*", "all", false).unwrap();
        r.subscribe("auth.user.login", "exact", false).unwrap();
        r.subscribe("auth.*", "domain", false).unwrap();
        r.subscribe("auth.user.*", "sub", true).unwrap();
        r.subscribe("conversation.*", "other", false).unwrap();
        assert_eq!(
            handlers(&r.snapshot("auth.user.login")),
            ["all", "exact", "domain", "sub"]
        );
        assert_eq!(handlers(&r.snapshot("auth.user.logout")), ["all", "domain", "sub"]);
        assert_eq!(handlers(&r.snapshot("conversation.started")), ["all", "other"]);
    }

    #[test]
    fn unsubscribe_is_idempotent() {
        let mut r = Registry::default();
        let a = r.subscribe("a.b", "a", false).unwrap();
        let b = r.subscribe("a.b", "b", false).unwrap();
        assert_eq!(r.count("a.b"), 2);
        assert_eq!(r.unsubscribe(a), Some("a"));
        assert_eq!(r.unsubscribe(a), None);
        assert!(!r.contains(a));
        assert!(r.contains(b));
        assert_eq!(r.unsubscribe(b), Some("b"));
        assert!(r.is_empty());
    }

    #[test]
    fn unsubscribe_keeps_the_others_in_order() {
        let mut r = Registry::default();
        let ids: Vec<SubId> = ["a", "b", "c", "d", "e"]
            .into_iter()
            .map(|h| r.subscribe("*", h, false).unwrap())
            .collect();
        assert_eq!(r.unsubscribe(ids[1]), Some("b"));
        assert_eq!(r.unsubscribe(ids[4]), Some("e"));
        assert_eq!(r.unsubscribe(ids[0]), Some("a"));
        assert_eq!(handlers(&r.snapshot("x.y")), ["c", "d"]);
        assert!(r.contains(ids[2]) && r.contains(ids[3]) && !r.contains(ids[1]));
        let f = r.subscribe("*", "f", false).unwrap();
        assert_eq!(handlers(&r.snapshot("x.y")), ["c", "d", "f"]);
        assert_eq!(r.unsubscribe(f), Some("f"));
    }

    #[test]
    fn same_handler_twice_is_two_registrations() {
        let mut r = Registry::default();
        r.subscribe("a.b", "h", false).unwrap();
        r.subscribe("a.b", "h", false).unwrap();
        assert_eq!(handlers(&r.snapshot("a.b")), ["h", "h"]);
    }

    #[test]
    fn clear_returns_every_handler() {
        let mut r = Registry::default();
        r.subscribe("a.b", "x", false).unwrap();
        r.subscribe("*", "y", true).unwrap();
        let mut gone = r.clear();
        gone.sort();
        assert_eq!(gone, ["x", "y"]);
        assert_eq!(r.len(), 0);
        assert!(r.snapshot("a.b").is_empty());
    }

    #[test]
    fn bad_patterns_are_refused() {
        let mut r = Registry::default();
        assert!(r.subscribe("a*", "x", false).is_err());
        assert!(r.subscribe("", "x", false).is_err());
        assert!(r.is_empty());
    }
}
