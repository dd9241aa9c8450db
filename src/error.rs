//! One error type per operation. Each variant carries what its message
//! names, so the JS layer can turn it into a `TypeError`, a
//! `ValidationError`, an `UnknownEventError` or an `EmitDepthError` without
//! parsing text:
//!
//! | type | returned by |
//! |---|---|
//! | [`NameError`] | a name or pattern that cannot be used: `subscribe`, name checks |
//! | [`InternError`] | keeping an event name: `intern` |
//! | [`EmitError`] | an emit refused: `check`, `begin`, `reject_unnamed` |
//! | [`SchemaError`] | a schema refused: `compile`, `register`, `register_schema` |
//! | [`Error`] | any of them, for callers of several operations ([`crate::LocalBus`]) |
//!
//! Every message is built by [`Message::message`] with `concat` and
//! [`num`] rather than `core::fmt` (see [`crate::base`]); `Display` forwards
//! to it. In the wasm build, `src/wasm/mod.rs` turns any [`Message`] into a
//! JS error through one function.

use crate::prelude::*;

use core::fmt;

use crate::base::{cat, code_point, num, owned, Issue};
use crate::limits::{MAX_DEPTH, MAX_NAMES, MAX_NAME_LEN};

/// What every error of the crate can say about itself.
pub trait Message {
    /// The message, without the `kaiwa-bus: ` prefix.
    fn message(&self) -> String;
    /// Whether JS should throw it as a `TypeError` (a bad argument).
    fn is_type_error(&self) -> bool {
        false
    }
}

/// An event name or pattern that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// It is empty.
    Empty,
    /// It is longer than [`MAX_NAME_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// `*` appears in a name given to `emit`, or in a pattern other than
    /// `*` and `prefix.*`.
    Wildcard {
        /// The name as given.
        name: String,
    },
    /// It holds a control, format or other invisible character
    /// ([`crate::base::HIDDEN_CHARS`]), so it could look like another name.
    Hidden {
        /// The name as given.
        name: String,
        /// The first such character.
        found: char,
    },
}

impl Message for NameError {
    fn message(&self) -> String {
        match self {
            NameError::Empty => owned("event name must not be empty"),
            NameError::TooLong { len } => cat(&[
                "event name is ",
                &num(*len as u64),
                " bytes long; the limit is ",
                &num(MAX_NAME_LEN as u64),
            ]),
            NameError::Wildcard { name } => cat(&[
                "\"",
                name,
                "\": '*' is only allowed as the pattern '*' or at the end of 'prefix.*', \
                 and never in an emitted event name",
            ]),
            NameError::Hidden { name, found } => cat(&[
                "\"",
                name,
                "\": event names may not contain control or invisible characters (it has ",
                &code_point(*found),
                ")",
            ]),
        }
    }

    fn is_type_error(&self) -> bool {
        true
    }
}

/// An event name that cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InternError {
    /// The name itself is refused.
    Name(NameError),
    /// The bus already keeps [`MAX_NAMES`] event names without a schema,
    /// and none can be forgotten (each is in the history or subscribed to).
    Full {
        /// The name that would have been one too many.
        event: String,
    },
}

impl From<NameError> for InternError {
    fn from(error: NameError) -> Self {
        InternError::Name(error)
    }
}

impl Message for InternError {
    fn message(&self) -> String {
        match self {
            InternError::Name(error) => error.message(),
            InternError::Full { event } => cat(&[
                "\"",
                event,
                "\": this bus already keeps ",
                &num(MAX_NAMES as u64),
                " event names without a schema, each in the history or subscribed to; \
                 register schemas, or clear the history",
            ]),
        }
    }

    fn is_type_error(&self) -> bool {
        matches!(self, InternError::Name(_))
    }
}

/// An emit refused before any handler ran.
#[derive(Debug, Clone, PartialEq)]
pub enum EmitError {
    /// The payload does not match the event's schema.
    Validation {
        /// The event name.
        event: String,
        /// Every mismatch found, the first one first.
        issues: Vec<Issue>,
    },
    /// Strict mode refuses events without a schema, or with a name that breaks
    /// the naming convention.
    UnknownEvent {
        /// The event name.
        event: String,
        /// Whether the name also breaks the naming convention.
        bad_name: bool,
    },
    /// Handlers emitted from inside handlers more than [`MAX_DEPTH`]
    /// levels deep.
    DepthExceeded {
        /// The event that would have gone one level too deep.
        event: String,
    },
    /// The name id was never given out by this bus (or the bus was
    /// disposed of since).
    UnknownId {
        /// The id.
        id: u32,
    },
}

impl EmitError {
    /// The event name, `""` for [`EmitError::UnknownId`].
    pub fn event(&self) -> &str {
        match self {
            EmitError::Validation { event, .. }
            | EmitError::UnknownEvent { event, .. }
            | EmitError::DepthExceeded { event } => event,
            EmitError::UnknownId { .. } => "",
        }
    }

    /// The validation issues; empty for other refusals.
    pub fn issues(&self) -> &[Issue] {
        match self {
            EmitError::Validation { issues, .. } => issues,
            _ => &[],
        }
    }
}

impl Message for EmitError {
    fn message(&self) -> String {
        match self {
            EmitError::Validation { event, issues } => match issues.first() {
                Some(first) => cat(&[event, ": ", &first.message()]),
                None => cat(&[event, ": invalid payload"]),
            },
            EmitError::UnknownEvent { event, bad_name: true } => cat(&[
                "\"",
                event,
                "\" breaks the event naming convention \
                 (lower-case dot notation: domain.action[.result]); strict mode refuses it",
            ]),
            EmitError::UnknownEvent { event, bad_name: false } => cat(&[
                "no schema is registered for \"",
                event,
                "\"; strict mode refuses unknown events",
            ]),
            EmitError::DepthExceeded { event } => cat(&[
                event,
                ": handlers emitted events more than ",
                &num(MAX_DEPTH as u64),
                " levels deep; is a handler re-emitting the event it handles?",
            ]),
            EmitError::UnknownId { id } => cat(&["no event name has the id ", &num(u64::from(*id)), " on this bus"]),
        }
    }

    fn is_type_error(&self) -> bool {
        matches!(self, EmitError::UnknownId { .. })
    }
}

/// A schema that cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// A schema descriptor could not be parsed.
    Descriptor {
        /// The schema's event name.
        event: String,
        /// The field whose type text is wrong ("" for the schema itself).
        field: String,
        /// The text that could not be parsed.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A schema's text is longer than its limit (see [`crate::limits`]).
    TooLong {
        /// The schema's event name.
        event: String,
        /// What is too long: "version", "description", "field key"…
        what: &'static str,
        /// Its length, in bytes or items.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A schema is registered again without a higher version.
    VersionNotHigher {
        /// The schema's event name.
        event: String,
        /// The version registered now.
        current: String,
        /// The version offered.
        offered: String,
    },
}

impl Message for SchemaError {
    fn message(&self) -> String {
        match self {
            SchemaError::TooLong {
                event,
                what,
                len,
                limit,
            } => cat(&[
                "schema ",
                event,
                ": the ",
                what,
                " is ",
                &num(*len as u64),
                " long; the limit is ",
                &num(*limit as u64),
            ]),
            SchemaError::Descriptor {
                event,
                field,
                text,
                reason,
            } => {
                let field = if field.is_empty() {
                    String::new()
                } else {
                    cat(&["field ", field, ": "])
                };
                cat(&["schema ", event, ": ", &field, reason, ": \"", text, "\""])
            }
            SchemaError::VersionNotHigher {
                event,
                current,
                offered,
            } => cat(&[
                "schema ",
                event,
                ": version ",
                offered,
                " is not higher than the registered ",
                current,
            ]),
        }
    }
}

/// Any error of the crate, for a caller of several operations
/// ([`crate::LocalBus`] interns, then emits).
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// See [`NameError`].
    Name(NameError),
    /// See [`InternError`].
    Intern(InternError),
    /// See [`EmitError`].
    Emit(EmitError),
    /// See [`SchemaError`].
    Schema(SchemaError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl Message for Error {
    fn message(&self) -> String {
        match self {
            Error::Name(e) => e.message(),
            Error::Intern(e) => e.message(),
            Error::Emit(e) => e.message(),
            Error::Schema(e) => e.message(),
        }
    }

    fn is_type_error(&self) -> bool {
        match self {
            Error::Name(e) => e.is_type_error(),
            Error::Intern(e) => e.is_type_error(),
            Error::Emit(e) => e.is_type_error(),
            Error::Schema(e) => e.is_type_error(),
        }
    }
}

macro_rules! display_and_into_error {
    ($($ty:ident => $variant:ident),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.message())
            }
        }

        impl core::error::Error for $ty {}

        impl From<$ty> for Error {
            fn from(error: $ty) -> Self {
                Error::$variant(error)
            }
        }
    )*};
}

display_and_into_error!(NameError => Name, InternError => Intern, EmitError => Emit, SchemaError => Schema);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages users see, word for word (tests/js asserts many of them).
    #[test]
    fn messages() {
        assert_eq!(NameError::Empty.to_string(), "event name must not be empty");
        assert_eq!(
            NameError::TooLong { len: 1025 }.to_string(),
            "event name is 1025 bytes long; the limit is 1024"
        );
        assert_eq!(
            InternError::Full { event: "a.b".into() }.to_string(),
            "\"a.b\": this bus already keeps 131072 event names without a schema, each in the history \
             or subscribed to; register schemas, or clear the history"
        );
        assert_eq!(
            EmitError::DepthExceeded { event: "a.b".into() }.to_string(),
            "a.b: handlers emitted events more than 64 levels deep; \
             is a handler re-emitting the event it handles?"
        );
        assert_eq!(
            EmitError::Validation {
                event: "a.b".into(),
                issues: Vec::new()
            }
            .to_string(),
            "a.b: invalid payload"
        );
        let too_long = SchemaError::TooLong {
            event: "a.b".into(),
            what: "version",
            len: 65,
            limit: 64,
        };
        assert_eq!(
            too_long.to_string(),
            "schema a.b: the version is 65 long; the limit is 64"
        );
        let bad = |field: &str| SchemaError::Descriptor {
            event: "a.b".into(),
            field: field.into(),
            text: "x".into(),
            reason: "unknown type".into(),
        };
        assert_eq!(bad("").to_string(), "schema a.b: unknown type: \"x\"");
        assert_eq!(bad("k").to_string(), "schema a.b: field k: unknown type: \"x\"");
        assert!(Error::from(NameError::Empty).is_type_error());
        assert!(!Error::from(too_long).is_type_error());
    }
}
