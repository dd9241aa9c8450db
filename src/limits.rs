//! Every limit the bus enforces, in one place. The JS layer needs the same
//! numbers (it checks lengths before copying a string into wasm memory,
//! which never shrinks), so they are written once here and exported to JS by
//! the generated `js/core/contract.js` (see [`crate::contract`]).

/// The longest event name or pattern accepted, in UTF-8 bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// How many distinct event names without a schema one bus keeps. Past this
/// many, a new name takes the id of one that nothing refers to any more (no
/// schema, no subscription to exactly it, no record in the history), which
/// is forgotten; only if every name is still referred to is it refused.
/// Names with a schema are always kept. Refused names (strict mode),
/// patterns and lookups cost nothing lasting.
pub const MAX_NAMES: usize = 1 << 17;
/// How many emits may be nested inside handlers, listeners, getters or
/// Proxy traps before `emit` refuses.
pub const MAX_DEPTH: usize = 64;
/// The default number of history records kept.
pub const DEFAULT_HISTORY_LIMIT: usize = 1000;
/// At most this many handler error messages are kept per record; the last
/// kept message says how many more there were.
pub const MAX_ERRORS_PER_RECORD: usize = 20;
/// Handler error messages are cut to this many characters.
pub const MAX_ERROR_LEN: usize = 500;
/// The longest schema version text, in UTF-8 bytes.
pub const MAX_VERSION_LEN: usize = 64;
/// The longest schema description, in UTF-8 bytes.
pub const MAX_DESCRIPTION_LEN: usize = 4096;
/// The most fields a schema may have.
pub const MAX_FIELDS: usize = 256;
/// The longest field descriptor text (`'a' | 'b' | …`), in UTF-8 bytes.
pub const MAX_DESCRIPTOR_LEN: usize = 4096;
