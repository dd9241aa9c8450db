//! Sets of patterns and the event names they match: a connection's
//! subscriptions, and a token's `subscribe` claim when a subscription is
//! checked against it (see `Grant::subscriptions`).
//!
//! ## Linear in the name
//!
//! A `prefix.*` pattern matches a name that starts with `prefix.`, so a name
//! is looked up once per dot in it. Looking up each prefix as a string hashed
//! the whole prefix every time: a 1 KiB name of 511 dots cost 56 µs per
//! subscriber, 85–168 times a name of the same length with two dots. Here the
//! prefixes are kept in a table keyed by a hash that can be extended byte by
//! byte ([`Running`]), so one walk over the name has each prefix's hash at
//! hand at its dot: a name costs one pass over its bytes, up to the longest
//! prefix held, and a probe only at a dot where a prefix of that length is
//! held. The hash is SipHash with keys drawn at start (the standard
//! library's), so a publisher cannot make a name collide with prefixes it
//! does not start with.

use std::collections::HashSet;
use std::hash::{BuildHasher, DefaultHasher, Hasher, RandomState};
use std::sync::LazyLock;

use hashbrown::HashTable;
use kaiwa_bus::core::names::MAX_NAME_LEN;

/// Words of the set of prefix lengths held (a prefix is shorter than a name).
const WORDS: usize = MAX_NAME_LEN / 64 + 1;

/// The keys of the prefix hash, one pair for the process.
static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// A set of patterns (`*`, `prefix.*`, exact names) already checked with
/// `parse_pattern`.
#[derive(Debug, Default)]
pub struct Filter {
    all: bool,
    /// Prefixes (of `prefix.*` patterns) and exact names; allocated with
    /// the first such pattern (`*` alone, or none, needs no room).
    sets: Option<Box<Sets>>,
}

#[derive(Debug, Default)]
struct Sets {
    /// Prefixes without their `.*`, by [`prefix_hash`].
    prefixes: HashTable<Box<str>>,
    /// The lengths of the prefixes held, one bit each, and the longest (a
    /// removal clears neither: a stale one only costs a probe).
    lengths: [u64; WORDS],
    longest: usize,
    exact: HashSet<String>,
}

/// A hash of a byte string that can be extended: the bytes go to SipHash
/// eight at a time, so that the hash of a string does not depend on how it
/// was fed (a whole prefix, or a name byte by byte).
#[derive(Clone)]
struct Running {
    hasher: DefaultHasher,
    word: u64,
    len: usize,
}

impl Running {
    fn new() -> Running {
        Running {
            hasher: KEYS.build_hasher(),
            word: 0,
            len: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        self.word |= u64::from(byte) << (8 * (self.len % 8));
        self.len += 1;
        if self.len.is_multiple_of(8) {
            self.hasher.write_u64(self.word);
            self.word = 0;
        }
    }

    fn hash(&self) -> u64 {
        let mut hasher = self.hasher.clone();
        hasher.write_u64(self.word);
        hasher.write_usize(self.len);
        hasher.finish()
    }
}

/// The hash of a held prefix: the one a walk over a name has at its dot.
fn prefix_hash(prefix: &str) -> u64 {
    let mut running = Running::new();
    prefix.bytes().for_each(|b| running.push(b));
    running.hash()
}

impl Sets {
    fn held_length(&self, len: usize) -> bool {
        self.lengths
            .get(len / 64)
            .is_some_and(|word| word >> (len % 64) & 1 == 1)
    }

    fn find(&self, prefix: &str, hash: u64) -> bool {
        self.prefixes.find(hash, |held| **held == *prefix).is_some()
    }

    /// Whether a held prefix `p` makes `text` start with `p.`: one walk.
    fn under(&self, text: &str) -> bool {
        if self.prefixes.is_empty() {
            return false;
        }
        let mut running = Running::new();
        for (end, &byte) in text.as_bytes().iter().enumerate() {
            if end > self.longest {
                return false;
            }
            if byte == b'.'
                && self.held_length(end)
                && text.get(..end).is_some_and(|prefix| self.find(prefix, running.hash()))
            {
                return true;
            }
            running.push(byte);
        }
        false
    }

    /// Whether `prefix.*` is held or within another held `p.*`.
    fn covers_prefix(&self, prefix: &str) -> bool {
        self.find(prefix, prefix_hash(prefix)) || self.under(prefix)
    }
}

impl Filter {
    /// The set of these patterns.
    pub fn of(patterns: &[String]) -> Filter {
        let mut filter = Filter::default();
        for p in patterns {
            filter.add(p);
        }
        filter
    }

    /// Adds a pattern.
    pub fn add(&mut self, pattern: &str) {
        if pattern == "*" {
            self.all = true;
            return;
        }
        let sets = self.sets.get_or_insert_with(Box::default);
        match pattern.strip_suffix(".*") {
            Some(prefix) => {
                let hash = prefix_hash(prefix);
                if !sets.find(prefix, hash) {
                    sets.prefixes
                        .insert_unique(hash, prefix.into(), |held| prefix_hash(held));
                    if let Some(word) = sets.lengths.get_mut(prefix.len() / 64) {
                        *word |= 1 << (prefix.len() % 64);
                    }
                    sets.longest = sets.longest.max(prefix.len());
                }
            }
            None => {
                sets.exact.insert(pattern.to_string());
            }
        }
    }

    /// Removes a pattern; unknown ones are ignored.
    pub fn remove(&mut self, pattern: &str) {
        if pattern == "*" {
            self.all = false;
        } else if let Some(sets) = &mut self.sets {
            match pattern.strip_suffix(".*") {
                Some(prefix) => {
                    if let Ok(held) = sets.prefixes.find_entry(prefix_hash(prefix), |held| **held == *prefix) {
                        held.remove();
                    }
                }
                None => {
                    sets.exact.remove(pattern);
                }
            }
            if sets.prefixes.is_empty() && sets.exact.is_empty() {
                self.sets = None;
            }
        }
    }

    /// How many patterns it holds.
    pub fn len(&self) -> usize {
        let sets = self.sets.as_ref().map_or(0, |s| s.exact.len() + s.prefixes.len());
        sets + usize::from(self.all)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a pattern matches the event name `name`.
    pub fn matches(&self, name: &str) -> bool {
        if self.all {
            return true;
        }
        let Some(s) = &self.sets else { return false };
        s.exact.contains(name) || s.under(name)
    }

    /// Whether these patterns match every name `pattern` matches.
    pub fn covers(&self, pattern: &str) -> bool {
        if self.all {
            return true;
        }
        match (pattern.strip_suffix(".*"), &self.sets) {
            _ if pattern == "*" => false,
            (Some(prefix), Some(sets)) => sets.covers_prefix(prefix),
            (None, _) => self.matches(pattern),
            (Some(_), None) => false,
        }
    }

    /// A pattern of this set that `allowed` does not cover, if any.
    pub fn uncovered(&self, allowed: &Filter) -> Option<String> {
        if self.all && !allowed.all {
            return Some("*".into());
        }
        let sets = self.sets.as_ref()?;
        let exact = sets.exact.iter().find(|name| !allowed.matches(name)).cloned();
        exact.or_else(|| {
            let prefix = sets.prefixes.iter().find(|p| !allowed.covers(&format!("{p}.*")))?;
            Some(format!("{prefix}.*"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_by_pattern() {
        let mut f = Filter::default();
        f.add("auth.*");
        f.add("audio.playback.started");
        assert!(f.matches("auth.user.login") && f.matches("auth.x") && f.matches("auth."));
        assert!(!f.matches("authx.y") && !f.matches("audio.recording.started") && !f.matches("auth"));
        assert!(f.matches("audio.playback.started"));
        f.remove("auth.*");
        assert!(!f.matches("auth.user.login"));
        assert_eq!(f.len(), 1);
        f.add("*");
        assert!(f.matches("anything.at.all"));
        assert_eq!(f.len(), 2);
        f.remove("*");
        f.remove("audio.playback.started");
        assert!(f.is_empty() && f.sets.is_none());
    }

    #[test]
    fn prefixes_of_many_and_empty_segments_match_as_strings_do() {
        let prefixes = ["a", "a.", "a..b", "x.y.z", &"d.".repeat(300), ""];
        let mut f = Filter::default();
        for p in prefixes {
            f.add(&format!("{p}.*"));
        }
        let names = [
            "a.b",
            "a..",
            "a..b.c",
            "x.y.z.w",
            "x.y",
            "x.y.zz.w",
            "b",
            ".b",
            "a",
            &"d.".repeat(400),
        ];
        for name in names {
            let by_strings = prefixes
                .iter()
                .any(|p| name.len() > p.len() && name.starts_with(p) && name.as_bytes()[p.len()] == b'.');
            assert_eq!(f.matches(name), by_strings, "{name}");
        }
    }

    #[test]
    fn a_claim_covers_what_its_patterns_match() {
        let claim = Filter::of(&["auth.*".into(), "a.b".into()]);
        for (wanted, covered) in [
            ("auth.user.login", true),
            ("auth.*", true),
            ("auth.user.*", true),
            ("a.b", true),
            ("*", false),
            ("authx.*", false),
            ("a.*", false),
            ("a.b.c", false),
        ] {
            assert_eq!(claim.covers(wanted), covered, "{wanted}");
        }
        assert!(Filter::of(&["*".into()]).covers("*"));
        let held = Filter::of(&["auth.user.*".into(), "a.b".into()]);
        assert_eq!(held.uncovered(&claim), None);
        assert_eq!(claim.uncovered(&held).as_deref(), Some("auth.*"));
        assert_eq!(Filter::of(&["*".into()]).uncovered(&claim).as_deref(), Some("*"));
    }
}
