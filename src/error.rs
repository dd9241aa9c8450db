//! The crate's one error type. Each variant carries what the message names,
//! so the JS layer can turn it into a `TypeError`, a `ValidationError`, an
//! `UnknownEventError` or an `EmitDepthError` without parsing text.

use std::fmt;

use crate::base::Issue;

/// Everything a bus call can refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An event name or pattern is empty.
    EmptyName,
    /// An event name or pattern is longer than [`crate::limits::MAX_NAME_LEN`].
    NameTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// `*` appears in a name given to `emit`, or in a pattern other than
    /// `*` and `prefix.*`.
    Wildcard {
        /// The name as given.
        name: String,
    },
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
    /// Handlers emitted from inside handlers more than [`crate::limits::MAX_DEPTH`]
    /// levels deep.
    DepthExceeded {
        /// The event that would have gone one level too deep.
        event: String,
    },
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
    /// The bus already keeps [`crate::limits::MAX_NAMES`] event names.
    TooManyNames {
        /// The name that would have been one too many.
        event: String,
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

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyName => f.write_str("event name must not be empty"),
            Error::NameTooLong { len } => write!(
                f,
                "event name is {len} bytes long; the limit is {}",
                crate::limits::MAX_NAME_LEN
            ),
            Error::Wildcard { name } => write!(
                f,
                "\"{name}\": '*' is only allowed as the pattern '*' or at the end of 'prefix.*', \
                 and never in an emitted event name"
            ),
            Error::Validation { event, issues } => match issues.first() {
                Some(first) => write!(f, "{event}: {first}"),
                None => write!(f, "{event}: invalid payload"),
            },
            Error::UnknownEvent { event, bad_name } => {
                if *bad_name {
                    write!(
                        f,
                        "\"{event}\" breaks the event naming convention \
                         (lower-case dot notation: domain.action[.result]); strict mode refuses it"
                    )
                } else {
                    write!(
                        f,
                        "no schema is registered for \"{event}\"; strict mode refuses unknown events"
                    )
                }
            }
            Error::DepthExceeded { event } => write!(
                f,
                "{event}: handlers emitted events more than {} levels deep; \
                 is a handler re-emitting the event it handles?",
                crate::limits::MAX_DEPTH
            ),
            Error::TooManyNames { event } => write!(
                f,
                "\"{event}\": this bus already keeps {} event names, the most it keeps; \
                 register schemas for the names you use, or dispose of the bus",
                crate::limits::MAX_NAMES
            ),
            Error::TooLong {
                event,
                what,
                len,
                limit,
            } => write!(f, "schema {event}: the {what} is {len} long; the limit is {limit}"),
            Error::Descriptor {
                event,
                field,
                text,
                reason,
            } => {
                if field.is_empty() {
                    write!(f, "schema {event}: {reason}: \"{text}\"")
                } else {
                    write!(f, "schema {event}: field {field}: {reason}: \"{text}\"")
                }
            }
            Error::VersionNotHigher {
                event,
                current,
                offered,
            } => write!(
                f,
                "schema {event}: version {offered} is not higher than the registered {current}"
            ),
        }
    }
}

impl std::error::Error for Error {}
