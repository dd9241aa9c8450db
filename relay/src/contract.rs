//! What the JS client shares with the relay, written to
//! `js/relay/contract.js` by [`js_module`] from [`crate::protocol`]: the
//! protocol version, the close codes, the frame types and the refusal
//! kinds. `relay/tests/contract.rs` fails when the file drifts from them
//! (`make types` rewrites it) and when PROTOCOL.md's tables do.

use std::fmt::Write;

use crate::protocol::{RefusalKind, CLIENT_FRAMES, CLOSES, PROTOCOL, RELAY_FRAMES};

/// The text of `js/relay/contract.js`.
pub fn js_module() -> String {
    let mut out = String::from(
        "// Generated from relay/src/protocol.rs by `make types` (relay/src/contract.rs): do not\n\
         // edit. The protocol facts the relay client shares with kaiwa-relay (relay/PROTOCOL.md).\n\n",
    );
    let _ = writeln!(out, "export const PROTOCOL = {PROTOCOL};\n");
    out.push_str("// Close codes, by name.\nexport const CLOSE = Object.freeze({\n");
    for (name, code) in CLOSES {
        let _ = writeln!(out, "\t{name}: {code},");
    }
    let names = |out: &mut String, what: &str, name: &str, kinds: &[&str]| {
        let _ = writeln!(out, "}});\n\n// {what}\nexport const {name} = Object.freeze({{");
        for kind in kinds {
            let _ = writeln!(out, "\t{}: '{kind}',", kind.to_uppercase().replace('-', "_"));
        }
    };
    names(
        &mut out,
        "The frames a client sends, by type.",
        "CLIENT_FRAME",
        &CLIENT_FRAMES,
    );
    names(
        &mut out,
        "The frames the relay sends, by type.",
        "RELAY_FRAME",
        &RELAY_FRAMES,
    );
    let refusals: Vec<&str> = RefusalKind::ALL.iter().map(|k| k.as_str()).collect();
    names(
        &mut out,
        "Why the relay refused a publish (a `refused` frame's kind).",
        "REFUSAL",
        &refusals,
    );
    out.push_str("});\n");
    out
}
