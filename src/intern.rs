//! [`Interner`]: strings to small integers, the one map type of the crate.
//!
//! Event names, schema names and literal atoms are all interned here. The
//! table is a small open-addressing one (linear probing, at most half full)
//! rather than `std`'s `HashMap`: hashbrown's generic code cost about 4 KB of
//! `.wasm` for one map type.
//!
//! ## Hashing
//!
//! Keys come from the page (event names, and in development mode any name a
//! caller makes up), so the hash must hold up against keys chosen to collide.
//! [`FoldHasher`] multiplies each 8-byte word into a 128-bit product and folds
//! the halves together (the "folded multiply" of foldhash and aHash), so every
//! input bit reaches the low bits the table indexes by: FxHash's plain
//! multiply did not, and names that differ only in a trailing digit collided.
//! The start value is a per-page random seed ([`set_seed`], set when the
//! page's first bus is made), so colliding keys cannot be computed ahead of
//! time.

use crate::prelude::*;

use alloc::rc::Rc;
use core::hash::Hasher;
use core::sync::atomic::{AtomicU64, Ordering};

/// The seed every new hasher starts from; see [`set_seed`].
static SEED: AtomicU64 = AtomicU64::new(0x243f_6a88_85a3_08d3);
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
const FINISH: u64 = 0xa076_1d64_78bd_642f;

/// Sets the hash seed. Called once, before any bus exists (tables hashed
/// with another seed would lose their keys).
pub fn set_seed(seed: u64) {
    SEED.store(seed | 1, Ordering::Relaxed);
}

/// The high and low halves of the 128-bit product, folded together.
fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a).wrapping_mul(u128::from(b));
    (product as u64) ^ (product.wrapping_shr(64) as u64)
}

/// A folded-multiply hasher over 8-byte words, from the page's seed.
#[derive(Clone, Copy, Debug)]
pub struct FoldHasher {
    hash: u64,
}

impl Default for FoldHasher {
    fn default() -> Self {
        FoldHasher {
            hash: SEED.load(Ordering::Relaxed),
        }
    }
}

impl FoldHasher {
    fn add(&mut self, word: u64) {
        self.hash = fold(self.hash ^ word, MULTIPLIER);
    }
}

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            if let Some(head) = word.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            // The length goes into the top byte: "a" and "a\0" differ.
            self.add(u64::from_le_bytes(word) ^ (rest.len() as u64).wrapping_shl(56));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        fold(self.hash, FINISH)
    }
}

/// Interned strings, numbered from 0 in order of first sight. Strings are
/// kept for the life of the interner, unless [`Interner::replace`] gives a
/// string's number to another.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    /// The hash table: `number + 1` per used slot, 0 when free. Its length
    /// is 0 or a power of two; see [`Interner::make_room`].
    slots: Vec<u32>,
    texts: Vec<Rc<str>>,
    /// Slots whose number now has another text ([`Interner::replace`]),
    /// counted until the next rebuild.
    tombstones: usize,
}

fn hash(text: &str) -> usize {
    let mut hasher = FoldHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish() as usize
}

impl Interner {
    /// The slot of `text`: `Ok(number)` if it is interned, `Err(free slot)`
    /// where it would go otherwise. `None` while the table is empty.
    fn find(&self, text: &str) -> Option<Result<u32, usize>> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = hash(text) & mask;
        loop {
            let slot = *self.slots.get(at)?;
            let Some(number) = slot.checked_sub(1) else {
                return Some(Err(at));
            };
            if self.texts.get(number as usize).is_some_and(|t| **t == *text) {
                return Some(Ok(number));
            }
            at = at.wrapping_add(1) & mask;
        }
    }

    /// Puts `number` in the free slot where `text` goes.
    fn place(&mut self, text: &str, number: u32) {
        if let Some(Err(at)) = self.find(text) {
            if let Some(slot) = self.slots.get_mut(at) {
                *slot = number.saturating_add(1);
            }
        }
    }

    /// Makes a table of `len` slots, without tombstones, and puts every text back.
    fn rebuild(&mut self, len: usize) {
        self.slots = vec![0; len];
        self.tombstones = 0;
        for number in 0..self.texts.len() as u32 {
            if let Some(text) = self.texts.get(number as usize).cloned() {
                self.place(&text, number);
            }
        }
    }

    /// The number of `text`, allocating the next one on first sight.
    pub fn intern(&mut self, text: &str) -> u32 {
        if let Some(Ok(number)) = self.find(text) {
            return number;
        }
        let number = self.texts.len() as u32;
        self.make_room();
        self.place(text, number);
        self.texts.push(text.into());
        number
    }

    /// Before a text is placed: doubles the table (16 slots at first) when
    /// half its slots hold texts, rebuilds it without tombstones when they
    /// and the texts fill three quarters. So a probe always ends at a free
    /// slot.
    fn make_room(&mut self) {
        let len = self.slots.len();
        if self.texts.len().saturating_mul(2) >= len {
            self.rebuild(len.saturating_mul(2).max(16));
        } else if self.texts.len().saturating_add(self.tombstones).saturating_mul(4) >= len.saturating_mul(3) {
            self.rebuild(len);
        }
    }

    /// Gives `number` to `text`, which the caller knows is not interned, in
    /// place of the text that had it, which is forgotten. Does nothing for a
    /// number not given out yet.
    ///
    /// The old text's slot keeps `number`, and becomes a tombstone: a probe
    /// for the old text finds another text there and goes on, one for `text`
    /// finds it.
    pub fn replace(&mut self, number: u32, text: &str) {
        let Some(kept) = self.texts.get_mut(number as usize) else {
            return;
        };
        *kept = text.into();
        self.tombstones = self.tombstones.saturating_add(1);
        self.make_room();
        self.place(text, number);
    }

    /// The number of `text`, if it was interned.
    pub fn get(&self, text: &str) -> Option<u32> {
        self.find(text)?.ok()
    }

    /// The text of a number.
    pub fn text(&self, number: u32) -> Option<&Rc<str>> {
        self.texts.get(number as usize)
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
            let mut h = FoldHasher::default();
            core::hash::Hash::hash(s, &mut h);
            h.finish()
        };
        assert_ne!(hash("auth.user.login"), hash("auth.user.logout"));
        assert_ne!(hash("a"), hash("b"));
        assert_ne!(hash(""), hash("\0"));
    }

    #[test]
    fn replace_forgets_one_text_and_keeps_every_other() {
        let mut i = Interner::default();
        let mut texts: Vec<String> = (0..2000).map(|n| format!("app.item.e{n}")).collect();
        for t in &texts {
            i.intern(t);
        }
        // Replace every third number, in an order that leaves holes all over
        // the table's runs, then check every text, kept or forgotten.
        for n in (0..2000u32).rev().step_by(3) {
            let fresh = format!("fresh.{n}");
            i.replace(n, &fresh);
            assert_eq!(i.get(&texts[n as usize]), None, "{n} forgotten");
            texts[n as usize] = fresh;
        }
        for (n, t) in texts.iter().enumerate() {
            assert_eq!(i.get(t), Some(n as u32), "{t}");
            assert_eq!(i.text(n as u32).map(|x| &**x), Some(t.as_str()));
        }
        assert_eq!(i.len(), 2000);
        // A number never given out: nothing happens.
        i.replace(9999, "nope");
        assert_eq!(i.get("nope"), None);
        assert_eq!(i.intern("next.one"), 2000);
        texts.push("next.one".into());
        // Many rounds of replacements, then new texts: tombstones pile up and
        // the table is rebuilt without them, every text still found.
        for round in 0..5 {
            for n in 0..2000u32 {
                let fresh = format!("round{round}.{n}");
                i.replace(n, &fresh);
                texts[n as usize] = fresh;
            }
        }
        for n in 2001..3000 {
            let t = format!("new.{n}");
            assert_eq!(i.intern(&t), n as u32);
            texts.push(t);
        }
        for (n, t) in texts.iter().enumerate() {
            assert_eq!(i.get(t), Some(n as u32), "{t}");
        }
        let used = i.slots.iter().filter(|&&s| s != 0).count();
        assert!(used < i.slots.len() * 3 / 4, "{used} of {} slots used", i.slots.len());
    }
}
