//! One protocol contract (issue 21): the close codes, frame types and
//! refusal kinds are written once, in relay/src/protocol.rs. The JS client
//! imports them from js/relay/contract.js, generated from it (`make types`
//! rewrites it; this test fails when it drifts), and PROTOCOL.md's tables
//! list each of them, and nothing else.

use std::collections::BTreeSet;
use std::path::PathBuf;

use kaiwa_relay::event::{Event, Offset, Scope};
use kaiwa_relay::protocol::*;

fn read(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn set<T: Ord, I: IntoIterator<Item = T>>(items: I) -> BTreeSet<T> {
    items.into_iter().collect()
}

#[test]
fn relay_contract_js_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../js/relay/contract.js");
    let generated = kaiwa_relay::contract::js_module();
    if std::env::var_os("KAIWA_WRITE_TYPES").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "js/relay/contract.js is out of date with relay/src/protocol.rs: run `make types`"
    );
}

/// The lists the contract is made of name every code and frame the relay has.
#[test]
fn the_lists_hold_every_code_and_frame() {
    // Every `pub const CLOSE_*` of protocol.rs is in CLOSES.
    let source = read("src/protocol.rs");
    let declared: BTreeSet<u16> = source
        .lines()
        .filter_map(|l| l.strip_prefix("pub const CLOSE_")?.split("u16 = ").nth(1))
        .map(|v| v.trim_end_matches(';').parse().unwrap())
        .collect();
    assert_eq!(declared.len(), 8, "read protocol.rs's close codes: {declared:?}");
    assert_eq!(declared, set(CLOSES.map(|(_, code)| code)));
    // The frames the relay writes.
    let refusal = Refusal::new(RefusalKind::Rate, "r");
    let limits = Limits {
        payload: 1,
        frame: 2,
        reference: MAX_REF_BYTES,
    };
    let event = Event::new(Offset { ms: 1, seq: 0 }, "a.b", "{}", Scope::All, String::new()).unwrap();
    let frames = [
        Reply::Welcome {
            protocol: PROTOCOL,
            epoch: "e",
            offset: "0-0".into(),
            recovered: false,
            user: None,
            limits,
        }
        .to_text(),
        Reply::Ack {
            reference: None,
            offset: "1-0".into(),
        }
        .to_text(),
        Reply::Refused {
            reference: None,
            refusal: &refusal,
        }
        .to_text(),
        Reply::Pong.to_text(),
        event.frame.as_str().to_string(),
    ];
    let written = set(frames.iter().map(|f| {
        let v: serde_json::Value = serde_json::from_str(f).unwrap();
        v["type"].as_str().unwrap().to_string()
    }));
    assert_eq!(written, set(RELAY_FRAMES.map(String::from)));
    // The frames a connection reads: `hello` first, then its `match` on the type.
    let conn = read("src/conn.rs");
    let matched = set(conn.lines().filter_map(|l| {
        let rest = l.trim_start().strip_prefix("\"")?;
        let (kind, after) = rest.split_once('"')?;
        (after.starts_with(" =>") && kind.chars().all(|c| c.is_ascii_lowercase())).then(|| kind.to_string())
    }));
    assert!(matched.contains("hello"), "read conn.rs's frame types: {matched:?}");
    assert_eq!(matched, set(CLIENT_FRAMES.map(String::from)));
}

/// The rows of the first table after the heading `heading`: their first cells.
fn first_cells(doc: &str, heading: &str) -> BTreeSet<String> {
    let at = doc
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("PROTOCOL.md has no {heading:?}"));
    doc[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| row.split('|').nth(1).unwrap().trim().trim_matches('`').to_string())
        .collect()
}

/// The frame types of the `### \`type\`` headings in section `section`.
fn headings(doc: &str, section: &str) -> BTreeSet<String> {
    let at = doc
        .find(&format!("\n{section}\n"))
        .unwrap_or_else(|| panic!("PROTOCOL.md has no {section:?}"));
    let body = &doc[at + section.len() + 2..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.lines()
        .filter_map(|l| l.strip_prefix("### "))
        .flat_map(|h| h.split(", "))
        .filter_map(|k| Some(k.strip_prefix('`')?.strip_suffix('`')?.to_string()))
        .collect()
}

#[test]
fn protocol_md_lists_every_code_and_kind_and_none_else() {
    let doc = read("PROTOCOL.md");
    let codes = set(CLOSES.map(|(_, code)| code.to_string()));
    assert_eq!(first_cells(&doc, "## Close codes"), codes, "PROTOCOL.md, Close codes");
    let kinds = set(RefusalKind::ALL.map(|k| k.as_str().to_string()));
    assert_eq!(first_cells(&doc, "### `refused`"), kinds, "PROTOCOL.md, refused");
    assert_eq!(
        headings(&doc, "## Client → relay"),
        set(CLIENT_FRAMES.map(String::from)),
        "PROTOCOL.md, Client → relay"
    );
    assert_eq!(
        headings(&doc, "## Relay → client"),
        set(RELAY_FRAMES.map(String::from)),
        "PROTOCOL.md, Relay → client"
    );
}

#[test]
fn the_doc_readers_see_a_missing_or_extra_row() {
    let doc = "\n## Close codes\n\ntext\n\n| code | cause |\n|---|---|\n| 4001 | a |\n| 4999 | b |\n\nafter\n| 1 | no |\n\
               \n## Client → relay\n\n### `hello`\n\n### `subscribe`, `unsubscribe`\n\n### WebSocket pings\n\n## Next\n\n### `x`\n";
    assert_eq!(
        first_cells(doc, "## Close codes"),
        set(["4001".to_string(), "4999".to_string()])
    );
    assert_eq!(
        headings(doc, "## Client → relay"),
        set(["hello", "subscribe", "unsubscribe"].map(String::from))
    );
}
