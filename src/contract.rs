//! The facts the JS layer must share with this crate, written to
//! `js/core/contract.js` by [`js_module`]: the limits ([`crate::limits`]), the
//! probe encoding (kind codes and names, read modes, the packed layout),
//! the audiences a schema may name, and the characters no event name may
//! hold ([`HIDDEN_CHARS`]). The
//! `contract_js_is_current` test fails when the file drifts from the Rust
//! definitions; `make types` rewrites it.

use crate::prelude::*;

use core::fmt::Write;

use crate::base::HIDDEN_CHARS;
use crate::limits;
use crate::schema::probe::{Kind, Packed, ReadMode};
use crate::schema::Audience;

/// The text of `js/core/contract.js`.
pub fn js_module() -> String {
    let mut out = String::from(
        "// Generated from src/contract.rs by `make types`: do not edit. The facts JS\n\
         // shares with Rust: limits, and the payload probe encoding.\n\n",
    );
    let numbers = [
        ("MAX_NAME_LEN", limits::MAX_NAME_LEN),
        ("MAX_NAMES", limits::MAX_NAMES),
        ("MAX_DEPTH", limits::MAX_DEPTH),
        ("DEFAULT_HISTORY_LIMIT", limits::DEFAULT_HISTORY_LIMIT),
        ("MAX_ERRORS_PER_RECORD", limits::MAX_ERRORS_PER_RECORD),
        ("MAX_ERROR_LEN", limits::MAX_ERROR_LEN),
        ("MAX_VERSION_LEN", limits::MAX_VERSION_LEN),
        ("MAX_DESCRIPTION_LEN", limits::MAX_DESCRIPTION_LEN),
        ("MAX_FIELDS", limits::MAX_FIELDS),
        ("MAX_DESCRIPTOR_LEN", limits::MAX_DESCRIPTOR_LEN),
        ("KINDS_PER_WORD", Packed::KINDS_PER_WORD),
        ("KIND_BITS", Packed::KIND_BITS),
        ("PROBE_EXTRAS", Packed::EXTRAS),
    ];
    for (name, value) in numbers {
        let _ = writeln!(out, "export const {name} = {value};");
    }
    out.push_str("\n// Kind codes, by the Rust enum's variant names.\nexport const KIND = Object.freeze({\n");
    for kind in Kind::ALL {
        let _ = writeln!(out, "\t{kind:?}: {},", kind as i32);
    }
    out.push_str("});\n\n// How a kind is named in issues, by code.\nexport const KIND_NAMES = Object.freeze([\n");
    for name in Kind::NAMES {
        let _ = writeln!(out, "\t{name:?},");
    }
    out.push_str("]);\n\n// How the reader looks at a field.\nexport const READ_MODE = Object.freeze({\n");
    for mode in [ReadMode::Kind, ReadMode::Literal, ReadMode::StringItems] {
        let _ = writeln!(out, "\t{mode:?}: {},", mode as u8);
    }
    out.push_str("});\n\n// Who receives an event through the relay (a schema's `audience`), the default first.\nexport const AUDIENCES = Object.freeze([");
    let names: Vec<String> = Audience::ALL.iter().map(|a| format!("'{}'", a.as_str())).collect();
    out.push_str(&names.join(", "));
    out.push_str("]);\n\n");
    out.push_str("// Characters no event name or pattern may hold (src/base.rs HIDDEN_CHARS).\nexport const HIDDEN_IN_NAMES = /[");
    for (first, last) in HIDDEN_CHARS {
        let _ = write!(out, "\\u{{{:X}}}-\\u{{{:X}}}", u32::from(first), u32::from(last));
    }
    out.push_str("]/u;\n");
    out
}

/// Fails when the generated file at `file` (relative to the crate) differs
/// from `generated`; rewrites it first when `KAIWA_WRITE_TYPES` is set
/// (`make types`).
#[cfg(test)]
pub(crate) fn assert_current(file: &str, generated: &str) {
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("KAIWA_WRITE_TYPES").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{file} is out of date with the Rust definitions: run `make types`"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn contract_js_is_current() {
        super::assert_current("js/core/contract.js", &super::js_module());
    }
}
