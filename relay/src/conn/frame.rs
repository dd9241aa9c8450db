//! Reading a connection's frames: a frame's type, its fields, and the
//! 4400 that names what is wrong with a frame that is not well formed.

use serde_json::value::RawValue;

use crate::protocol::*;

/// The type of a frame (4400 when it has none).
pub(super) fn typed(text: &str) -> Result<String, Close> {
    match serde_json::from_str::<Typed>(text) {
        Ok(t) => Ok(t.kind.into_owned()),
        Err(e) => Err(malformed("malformed frame", e)),
    }
}

/// A field of a frame, as its type wants it (`None`: missing, or not that).
pub(super) fn field<T: serde::de::DeserializeOwned>(raw: Option<&RawValue>) -> Option<T> {
    raw.and_then(|raw| serde_json::from_str(raw.get()).ok())
}

/// The 4400 for a frame of type `kind` that is not well formed, naming
/// what is wrong as parsing it as that type says.
pub(super) fn strict(kind: &str, text: &str) -> Close {
    let e = match kind {
        "publish" => serde_json::from_str::<Publish>(text).err(),
        "auth" => serde_json::from_str::<Auth>(text).err(),
        _ => serde_json::from_str::<Patterns>(text).err(),
    };
    e.map_or_else(
        || Close::new(CLOSE_MALFORMED, format!("{kind}: not a well-formed frame")),
        |e| malformed(kind, e),
    )
}
