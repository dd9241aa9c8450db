//! [`Interner`]: strings to small integers, the one map type of the crate.
//!
//! Event names, subscription patterns, schema names and literal atoms are
//! all interned here, so the crate has a single `HashMap` instantiation (a
//! smaller `.wasm`), hashed with a short multiplicative hash (FxHash, as
//! rustc uses) instead of SipHash: keys are few and hash-flooding is not a
//! concern for a bus's own event names.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

/// FxHash: one multiply-rotate per word (from a non-zero start, so that
/// leading zero bytes still change the hash).
#[derive(Clone, Copy, Debug)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Default for FxHasher {
    fn default() -> Self {
        FxHasher { hash: SEED }
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Interned strings, numbered from 0 in order of first sight. Strings are
/// kept for the life of the interner.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<Rc<str>, u32, BuildHasherDefault<FxHasher>>,
    texts: Vec<Rc<str>>,
}

impl Interner {
    /// The number of `text`, allocating the next one on first sight.
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        let text: Rc<str> = text.into();
        self.texts.push(text.clone());
        self.ids.insert(text, id);
        id
    }

    /// The number of `text`, if it was interned.
    pub fn get(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// The text of a number.
    pub fn text(&self, id: u32) -> Option<&Rc<str>> {
        self.texts.get(id as usize)
    }

    /// Every text, by number.
    pub fn texts(&self) -> &[Rc<str>] {
        &self.texts
    }

    /// How many strings are interned.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether nothing is interned.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The element at `at` of a vector indexed by interned numbers, growing the
/// vector with `fill` as needed.
pub(crate) fn slot<T>(items: &mut Vec<T>, at: u32, fill: impl FnMut() -> T) -> Option<&mut T> {
    let at = at as usize;
    if items.len() <= at {
        items.resize_with(at.saturating_add(1), fill);
    }
    items.get_mut(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_order_of_first_sight() {
        let mut i = Interner::default();
        assert_eq!(i.intern("auth.user.login"), 0);
        assert_eq!(i.intern("a.b"), 1);
        assert_eq!(i.intern("auth.user.login"), 0);
        assert_eq!(i.get("a.b"), Some(1));
        assert_eq!(i.get("nope"), None);
        assert_eq!(i.text(1).map(|t| &**t), Some("a.b"));
        assert_eq!(i.len(), 2);
    }

    #[test]
    fn hashes_differ_for_nearby_strings() {
        let hash = |s: &str| {
            let mut h = FxHasher::default();
            std::hash::Hash::hash(s, &mut h);
            h.finish()
        };
        assert_ne!(hash("auth.user.login"), hash("auth.user.logout"));
        assert_ne!(hash("a"), hash("b"));
        assert_ne!(hash(""), hash("\0"));
    }
}
