//! Event names and subscription patterns.
//!
//! An event name is what `emit` takes: any non-empty string without `*`, up to
//! [`MAX_NAME_LEN`] bytes, and without control or invisible characters
//! ([`HIDDEN_CHARS`]: `auth.user\u{200B}.login` would look exactly like
//! `auth.user.login`). The *naming convention* (lower-case dot notation,
//! `domain.action[.result]`) is checked separately by [`is_conventional`],
//! because breaking it is a warning in development and a refusal only in
//! strict mode.
//!
//! A pattern is what `on` takes: an event name, `*` (every event), or
//! `prefix.*` (every event whose name starts with `prefix.`, so `auth.*`
//! is the auth domain).
//!
//! [`Names`] interns event names to small integers so the JS layer can pass a
//! number, not a string, across the boundary on every emit. At most
//! [`crate::limits::MAX_NAMES`] names without a schema are kept; past that,
//! [`crate::core::Core::intern`] gives a new name the id of one nothing
//! refers to any more ([`Names::replace`]). It interns only names an emit
//! may deliver.

use crate::prelude::*;

use alloc::rc::Rc;

pub use crate::base::HIDDEN_CHARS;
use crate::base::{cat, is_hidden, owned};
use crate::error::NameError;
use crate::intern::Interner;

pub use crate::limits::MAX_NAME_LEN;

/// An interned event name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(pub u32);

/// What a subscription listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern<'a> {
    /// `*`: every event.
    All,
    /// `prefix.*`: every event whose name starts with `prefix.` (the text
    /// held here is `prefix`).
    Prefix(&'a str),
    /// One event name.
    Exact(&'a str),
}

/// What names and patterns share: not empty, not too long, and no control
/// or invisible character ([`HIDDEN_CHARS`]).
fn check_text(text: &str) -> Result<(), NameError> {
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: text.len() });
    }
    if let Some(found) = text.chars().find(|&c| is_hidden(c)) {
        return Err(NameError::Hidden {
            name: owned(text),
            found,
        });
    }
    Ok(())
}

/// Checks a name given to `emit`: non-empty, not too long, no `*`, no
/// control or invisible character. The relay checks published names with
/// this same function.
pub fn check_event_name(name: &str) -> Result<(), NameError> {
    check_text(name)?;
    if name.contains('*') {
        return Err(NameError::Wildcard { name: owned(name) });
    }
    Ok(())
}

/// Parses a name given to `on`, `once`, `off` or `getHandlerCount`.
pub fn parse_pattern(text: &str) -> Result<Pattern<'_>, NameError> {
    check_text(text)?;
    if text == "*" {
        return Ok(Pattern::All);
    }
    let (head, wildcard) = match text.strip_suffix(".*") {
        Some(head) => (head, true),
        None => (text, false),
    };
    if head.is_empty() || head.contains('*') {
        return Err(NameError::Wildcard { name: owned(text) });
    }
    Ok(if wildcard {
        Pattern::Prefix(head)
    } else {
        Pattern::Exact(head)
    })
}

pub use crate::base::is_conventional;

/// Whether a pattern (one [`parse_pattern`] accepts) matches an event name:
/// it is `*`, the name itself, or `prefix.*` where the name starts with
/// `prefix.`. The same answer as looking the pattern up in
/// [`matching_patterns`], without building those strings.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => prefix.ends_with('.') && name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The patterns an event name matches, most specific first: the name itself,
/// each `prefix.*` from the longest prefix to the shortest, then `*`.
pub fn matching_patterns(name: &str) -> impl Iterator<Item = String> + '_ {
    let prefixes = name
        .rmatch_indices('.')
        .map(move |(dot, _)| cat(&[name.get(..dot).unwrap_or_default(), ".*"]));
    core::iter::once(String::from(name))
        .chain(prefixes)
        .chain(core::iter::once(String::from("*")))
}

/// Interned event names.
#[derive(Debug, Default)]
pub struct Names {
    names: Interner,
}

impl Names {
    /// The id of `name`, interning it on first sight. Refuses names that
    /// [`check_event_name`] refuses.
    pub fn intern(&mut self, name: &str) -> Result<NameId, NameError> {
        if let Some(id) = self.names.get(name) {
            return Ok(NameId(id));
        }
        check_event_name(name)?;
        Ok(self.add(name))
    }

    /// Interns `name`, which the caller checked with [`check_event_name`]
    /// and knows is not interned yet.
    pub fn add(&mut self, name: &str) -> NameId {
        NameId(self.names.intern(name))
    }

    /// Gives `id` to `name`, which the caller checked with
    /// [`check_event_name`], in place of the name that had it, which is
    /// forgotten: its id now means `name`.
    pub fn replace(&mut self, id: NameId, name: &str) {
        self.names.replace(id.0, name);
    }

    /// The id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<NameId> {
        self.names.get(name).map(NameId)
    }

    /// The text of an interned name.
    pub fn name(&self, id: NameId) -> Option<&Rc<str>> {
        self.names.text(id.0)
    }

    /// How many names are interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no name is interned yet.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse() {
        assert_eq!(parse_pattern("*"), Ok(Pattern::All));
        assert_eq!(parse_pattern("auth.*"), Ok(Pattern::Prefix("auth")));
        assert_eq!(parse_pattern("auth.user.*"), Ok(Pattern::Prefix("auth.user")));
        assert_eq!(parse_pattern("auth.user.login"), Ok(Pattern::Exact("auth.user.login")));
        for bad in ["a*", "*.login", "a.*.b", ".*", "**", "a.**"] {
            assert!(matches!(parse_pattern(bad), Err(NameError::Wildcard { .. })), "{bad}");
        }
        assert_eq!(parse_pattern(""), Err(NameError::Empty));
    }

    #[test]
    fn emitted_names_refuse_wildcards_and_extremes() {
        assert!(check_event_name("auth.user.login").is_ok());
        assert!(check_event_name("*").is_err());
        assert!(check_event_name("auth.*").is_err());
        assert_eq!(check_event_name(""), Err(NameError::Empty));
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            check_event_name(&long),
            Err(NameError::TooLong { len: MAX_NAME_LEN + 1 })
        );
        assert!(check_event_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
    }

    #[test]
    fn hidden_characters_are_refused_in_names_and_patterns() {
        for bad in [
            "auth.user\u{200B}.login",
            "auth.user.login\u{200D}",
            "\u{202E}nigol.resu.htua",
            "auth.\u{202A}user\u{202C}.login",
            "auth.user.login\u{FEFF}",
            "auth\n.user",
            "auth.user\u{0}",
            "auth.user.login\u{FE0F}",
        ] {
            let found = bad.chars().find(|&c| is_hidden(c)).unwrap();
            assert_eq!(
                check_event_name(bad),
                Err(NameError::Hidden {
                    name: bad.into(),
                    found
                }),
                "{bad:?}"
            );
            assert!(parse_pattern(bad).is_err(), "{bad:?}");
            assert!(parse_pattern(&cat(&[bad, ".*"])).is_err(), "{bad:?}");
        }
        let message = crate::error::Message::message(&check_event_name("auth.user\u{200B}.login").unwrap_err());
        assert_eq!(
            message,
            "\"auth.user\u{200B}.login\": event names may not contain control or invisible characters \
             (it has U+200B)"
        );
        // Spaces, accents and other scripts stay allowed.
        for good in [
            "auth.user.login",
            "café.commande passée",
            "заказ.создан",
            "注文.作成",
            "a b",
        ] {
            assert!(check_event_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn naming_convention() {
        for good in [
            "auth.user.login",
            "conversation.message.sent",
            "a.b",
            "app.v2.item-added",
            "x.y_z",
        ] {
            assert!(is_conventional(good), "{good}");
        }
        for bad in [
            "userLogin",
            "CONVERSATION_STARTED",
            "auth",
            "auth..login",
            "auth.User",
            ".a.b",
            "a.b.",
            "2fa.done",
            "auth.*",
        ] {
            assert!(!is_conventional(bad), "{bad}");
        }
    }

    #[test]
    fn pattern_matches_agrees_with_matching_patterns() {
        let names = ["auth.user.login", "single", "a.", "a..b", "auth.userx.login", "auth"];
        let patterns = [
            "*",
            "auth.*",
            "auth.user.*",
            "auth.user.login",
            "auth.user.login.*",
            "a.*",
            "a..*",
            "single",
            "auth.u*",
        ];
        for name in names {
            let all: Vec<_> = matching_patterns(name).collect();
            for pattern in patterns {
                assert_eq!(
                    pattern_matches(pattern, name),
                    all.iter().any(|p| p == pattern),
                    "{pattern} {name}"
                );
            }
        }
    }

    #[test]
    fn matching_patterns_most_specific_first() {
        let all: Vec<_> = matching_patterns("auth.user.login").collect();
        assert_eq!(all, ["auth.user.login", "auth.user.*", "auth.*", "*"]);
        let all: Vec<_> = matching_patterns("single").collect();
        assert_eq!(all, ["single", "*"]);
    }

    #[test]
    fn interning_is_stable() {
        let mut names = Names::default();
        let a = names.intern("a.b").unwrap();
        let b = names.intern("c.d").unwrap();
        assert_ne!(a, b);
        assert_eq!(names.intern("a.b").unwrap(), a);
        assert_eq!(names.get("c.d"), Some(b));
        assert_eq!(names.name(b).map(|n| &**n), Some("c.d"));
        assert!(names.intern("").is_err());
        assert_eq!(names.len(), 2);
    }
}
