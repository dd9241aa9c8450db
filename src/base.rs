//! What every layer shares and that depends on nothing else in the crate:
//! a validation [`Issue`], the event naming convention, and [`num`], the
//! crate's number formatting. `core`, `schema` and `error` all use these, so
//! they live below all three (the modules used to import each other in a
//! circle).
//!
//! ## Messages without `core::fmt`
//!
//! Code the wasm build reaches builds its text with [`cat`] and [`num`],
//! never `format!`, `write!` or `to_string` on a `Display` type: `core::fmt`
//! and the `Display` impls it instantiates cost several KB of `.wasm`
//! (docs/internals.md, "Size"). `Display` impls stay for Rust callers and
//! tests, and only forward to the hand-built text.

use crate::prelude::*;

use core::fmt;

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
        cat(&[path, ": expected ", &self.expected, ", received ", &self.received])
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// `parts` end to end: `[..].concat()` without alloc's `join_generic_copy`,
/// whose overflow `expect` and slice checks kept their panic messages and
/// `library/alloc/src/str.rs` in the `.wasm`'s data (docs/internals.md, "Size").
pub fn cat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().fold(0, |len: usize, part| len.saturating_add(part.len())));
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `String::from(text)`, kept out of line: schema compilation makes a
/// dozen owned strings, and each inlined copy of the allocation and its
/// error path cost more .wasm than a call (docs/internals.md, "Size").
#[inline(never)]
pub fn owned(text: &str) -> String {
    String::from(text)
}

/// The first `max` characters of `text`, or `None` when it has no more
/// than that. By bytes (a character starts at every byte that is not a
/// UTF-8 continuation byte) rather than `chars().take(max).collect()` or
/// `char_indices().nth(max)`, which bring character decoding and a fast
/// character counter into the .wasm.
pub fn head_chars(text: &str, max: usize) -> Option<&str> {
    let mut kept = 0usize;
    for (at, byte) in text.bytes().enumerate() {
        if byte & 0xC0 != 0x80 {
            if kept == max {
                return text.get(..at);
            }
            kept = kept.saturating_add(1);
        }
    }
    None
}

/// `n` in decimal, without `core::fmt`.
pub fn num(n: u64) -> String {
    let mut out = String::new();
    push_num(&mut out, n);
    out
}

fn push_num(out: &mut String, n: u64) {
    push_digits(out, n, 10);
}

/// `n` in base `radix` (10 or 16, upper-case).
fn push_digits(out: &mut String, n: u64, radix: u64) {
    if n >= radix {
        push_digits(out, n.checked_div(radix).unwrap_or(0), radix);
    }
    let digit = char::from_digit(n.checked_rem(radix).unwrap_or(0) as u32, radix as u32).unwrap_or('0');
    out.push(digit.to_ascii_uppercase());
}

/// `U+` and the code point in upper-case hex (`U+200B`, `U+7`: not padded,
/// which costs bytes in the `.wasm`), without `core::fmt`.
pub fn code_point(c: char) -> String {
    let n = u64::from(u32::from(c));
    let mut out = String::from("U+");
    push_digits(&mut out, n, 16);
    out
}

/// The characters no event name or pattern may hold, as inclusive ranges:
/// the controls (Unicode category Cc), the line and paragraph separators,
/// and every character Unicode says to render invisibly
/// (Default_Ignorable_Code_Point: zero-width spaces and joiners, the
/// bidirectional marks, embeddings, overrides and isolates, the byte-order
/// mark, soft hyphens, variation selectors, Hangul fillers, tags). A name
/// holding one could look exactly like another: `auth.user\u{200B}.login`
/// and `auth.user.login`, or `auth.user.\u{202E}nigol` and
/// `auth.user.login`. The relay checks names with the same rule
/// (`crate::core::names::check_event_name`), and `js/core/contract.js` carries
/// it to the history import.
pub const HIDDEN_CHARS: [(char, char); 19] = [
    ('\u{0}', '\u{1F}'),
    ('\u{7F}', '\u{9F}'),
    ('\u{AD}', '\u{AD}'),
    ('\u{34F}', '\u{34F}'),
    ('\u{61C}', '\u{61C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{2028}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFFB}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Whether `c` is one of [`HIDDEN_CHARS`].
pub fn is_hidden(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    HIDDEN_CHARS.iter().any(|&(first, last)| first <= c && c <= last)
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
    use super::{cat, code_point, head_chars, is_hidden, num, HIDDEN_CHARS};

    #[test]
    fn head_chars_counts_characters_not_bytes() {
        for text in ["", "a", "abc", "日本語のテキスト", "é́x", "🙂🙂🙂a", "aé日🙂"] {
            for max in 0..6 {
                let kept: String = text.chars().take(max).collect();
                let expected = (kept.len() < text.len()).then_some(kept.as_str());
                assert_eq!(head_chars(text, max), expected, "{text:?} {max}");
            }
        }
    }

    #[test]
    fn cat_is_concat() {
        assert_eq!(cat(&[]), "");
        assert_eq!(cat(&["a", "", "日本", "🙂"]), ["a", "", "日本", "🙂"].concat());
    }

    #[test]
    fn numbers() {
        for n in [0, 7, 10, 64, 1024, 131_072, u64::MAX] {
            assert_eq!(num(n), n.to_string());
        }
    }

    #[test]
    fn code_points() {
        for c in ['\0', 'a', '\u{200B}', '\u{FEFF}', '\u{E0001}', '\u{10FFFF}'] {
            assert_eq!(code_point(c), format!("U+{:X}", u32::from(c)));
        }
    }

    #[test]
    fn hidden_characters() {
        for c in [
            '\0', '\n', '\u{7F}', '\u{85}', '\u{AD}', '\u{200B}', '\u{200D}', '\u{200E}', '\u{2028}',
        ]
        .into_iter()
        .chain('\u{202A}'..='\u{202E}')
        .chain([
            '\u{2066}',
            '\u{2069}',
            '\u{FE0F}',
            '\u{FEFF}',
            '\u{3164}',
            '\u{E0041}',
            '\u{E0100}',
        ]) {
            assert!(is_hidden(c), "{}", code_point(c));
        }
        for c in [
            'a',
            '.',
            ' ',
            '-',
            'é',
            'ß',
            'ж',
            '中',
            '\u{2027}',
            '\u{202F}',
            '\u{1F600}',
            '\u{E1000}',
        ] {
            assert!(!is_hidden(c), "{}", code_point(c));
        }
        // Sorted, and no two ranges touch: each is written once.
        for pair in HIDDEN_CHARS.windows(2) {
            assert!(
                pair[0].0 <= pair[0].1 && u32::from(pair[0].1) + 1 < u32::from(pair[1].0),
                "{pair:?}"
            );
        }
    }
}
