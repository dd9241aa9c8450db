//! What every layer shares and that depends on nothing else in the crate:
//! a validation [`Issue`], the event naming convention, and [`num`], the
//! crate's number formatting. `core`, `schema` and `error` all use these, so
//! they live below all three (the modules used to import each other in a
//! circle).
//!
//! ## Messages without `core::fmt`
//!
//! Code the wasm build reaches builds its text with `concat` and [`num`],
//! never `format!`, `write!` or `to_string` on a `Display` type: `core::fmt`
//! and the `Display` impls it instantiates cost several KB of `.wasm`
//! (docs/internals.md, "Size"). `Display` impls stay for Rust callers and
//! tests, and only forward to the hand-built text.

use std::fmt;

/// One mismatch between a payload and its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Where: `""` for the payload itself, `userId`, or `wordsLearned[2]`.
    pub path: String,
    /// What the schema wants, in descriptor notation.
    pub expected: String,
    /// What the payload has.
    pub received: String,
}

impl Issue {
    /// `userId: expected string, received number` (`payload: ...` for the
    /// payload itself).
    pub fn message(&self) -> String {
        let path = if self.path.is_empty() { "payload" } else { &self.path };
        [path, ": expected ", &self.expected, ", received ", &self.received].concat()
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// `n` in decimal, without `core::fmt`.
pub fn num(n: u64) -> String {
    let mut out = String::new();
    push_num(&mut out, n);
    out
}

fn push_num(out: &mut String, n: u64) {
    if n >= 10 {
        push_num(out, n.wrapping_div(10));
    }
    out.push(char::from_digit(n.wrapping_rem(10) as u32, 10).unwrap_or('0'));
}

/// Whether `name` follows the seed's naming convention: two or more
/// dot-separated segments, each a lower-case letter followed by lower-case
/// letters, digits, `_` or `-`. `auth.user.login` passes; `userLogin`,
/// `CONVERSATION_STARTED` and `auth..login` do not.
pub fn is_conventional(name: &str) -> bool {
    // Bytes rather than `split('.')` and `chars()`: the convention is ASCII,
    // and a multi-byte character fails it either way.
    let mut segments = 0u32;
    let mut at_start = true;
    for b in name.bytes() {
        if at_start {
            if !b.is_ascii_lowercase() {
                return false;
            }
            segments = segments.saturating_add(1);
            at_start = false;
        } else if b == b'.' {
            at_start = true;
        } else if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
            return false;
        }
    }
    !at_start && segments >= 2
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 64, 1024, 131_072, u64::MAX] {
            assert_eq!(num(n), n.to_string());
        }
    }
}
