//! What every layer shares and that depends on nothing else in the crate:
//! a validation [`Issue`] and the event naming convention. `core`,
//! `schema` and `error` all use these, so they live below all three (the
//! modules used to import each other in a circle).

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

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "payload" } else { &self.path };
        write!(f, "{path}: expected {}, received {}", self.expected, self.received)
    }
}

/// Whether `name` follows the seed's naming convention: two or more
/// dot-separated segments, each a lower-case letter followed by lower-case
/// letters, digits, `_` or `-`. `auth.user.login` passes; `userLogin`,
/// `CONVERSATION_STARTED` and `auth..login` do not.
pub fn is_conventional(name: &str) -> bool {
    let mut segments = 0u32;
    for segment in name.split('.') {
        let mut chars = segment.chars();
        match chars.next() {
            Some(c) if c.is_ascii_lowercase() => {}
            _ => return false,
        }
        if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
            return false;
        }
        segments = segments.saturating_add(1);
    }
    segments >= 2
}
