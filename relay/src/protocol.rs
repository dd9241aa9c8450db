//! Protocol v2: the frames on `/v1/ws` and the close codes (see PROTOCOL.md,
//! which documents every one of them for client authors, and what changed
//! from v1).

use std::borrow::Cow;

use kaiwa_bus::schema::Issue;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// The protocol this relay speaks: `welcome` says it, and a `hello` may
/// say which one the client speaks. 2: who receives an event is its
/// schema's audience, private to its user by default (v1: public unless
/// its payload had a `userId`). The frames are v1's, so a v1 client (a
/// `hello` without `protocol`) is served, under v2's rule.
pub const PROTOCOL: u32 = 2;

/// Close: the token is missing, bad or expired.
pub const CLOSE_AUTH: u16 = 4001;
/// Close: a subscription the token does not allow.
pub const CLOSE_FORBIDDEN: u16 = 4003;
/// Close: the connection fell behind; resume from the last offset.
pub const CLOSE_LAGGING: u16 = 4008;
/// Close: no pong to the relay's pings for two ping intervals.
pub const CLOSE_NO_PONG: u16 = 4009;
/// Close: a frame that is not protocol v2.
pub const CLOSE_MALFORMED: u16 = 4400;
/// Close: the relay is shutting down; reconnect (to another instance).
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// Close: a frame larger than the relay reads at all.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// Close: the engine cannot answer a resume now; reconnect later.
pub const CLOSE_TRY_LATER: u16 = 1013;

/// Every close code above, by name: what `js/relay/contract.js` exports
/// as `CLOSE` and PROTOCOL.md's "Close codes" table lists.
pub const CLOSES: [(&str, u16); 8] = [
    ("AUTH", CLOSE_AUTH),
    ("FORBIDDEN", CLOSE_FORBIDDEN),
    ("LAGGING", CLOSE_LAGGING),
    ("NO_PONG", CLOSE_NO_PONG),
    ("MALFORMED", CLOSE_MALFORMED),
    ("GOING_AWAY", CLOSE_GOING_AWAY),
    ("TOO_BIG", CLOSE_TOO_BIG),
    ("TRY_LATER", CLOSE_TRY_LATER),
];

/// The frames a client sends, by `type` (PROTOCOL.md, "Client → relay").
pub const CLIENT_FRAMES: [&str; 6] = ["hello", "publish", "subscribe", "unsubscribe", "auth", "ping"];
/// The frames the relay sends, by `type` (PROTOCOL.md, "Relay → client").
pub const RELAY_FRAMES: [&str; 5] = ["welcome", "event", "ack", "refused", "pong"];

/// The longest `ref` a publish may carry, in bytes.
pub const MAX_REF_BYTES: usize = 256;

/// The longest `producer` a publish may carry, in bytes.
pub const MAX_PRODUCER_BYTES: usize = 64;

/// How many of a producer's newest sequence numbers the relay answers a
/// retry of with its offset: a `seq` older than that is refused `stale`.
pub const PRODUCER_WINDOW: u64 = 1024;

/// The largest `seq` (JavaScript's largest safe integer).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// What a JSON parse error says, but for a lone surrogate, which serde_json
/// calls a bad "hex escape": it is named as the bus names it.
pub fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if !text.contains("hex escape") {
        return text;
    }
    format!(
        "a string holds a lone surrogate (half of a UTF-16 pair, as cutting an emoji in two makes) at line {} column {}",
        e.line(),
        e.column()
    )
}

/// Why the relay closes a connection: the close code and its reason, as
/// the close frame carries them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Close {
    /// One of the `CLOSE_*` codes.
    pub code: u16,
    /// In words, for the client's logs.
    pub reason: String,
}

impl Close {
    /// A close with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> Close {
        Close {
            code,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.reason)
    }
}

impl std::error::Error for Close {}

/// The 4400 close for a frame of type `what` that does not parse.
pub fn malformed(what: &str, e: serde_json::Error) -> Close {
    Close::new(CLOSE_MALFORMED, format!("{what}: {}", json_error(&e)))
}

/// `welcome.limits`: what the relay accepts, so that a client refuses an
/// event over them itself instead of sending it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Limits {
    /// `--max-payload`: the longest payload, in bytes of JSON.
    pub payload: usize,
    /// The largest frame the relay reads at all (a larger one closes with 1009).
    pub frame: usize,
    /// [`MAX_REF_BYTES`].
    #[serde(rename = "ref")]
    pub reference: usize,
}

/// `hello.resume`.
#[derive(Debug, Deserialize)]
pub struct Resume {
    /// The epoch from a previous `welcome`.
    pub epoch: String,
    /// The last offset the client received (or the `welcome` offset).
    pub offset: String,
}

/// The first frame.
#[derive(Debug, Deserialize)]
pub struct Hello {
    #[serde(rename = "type")]
    _type: String,
    /// A JWT, or `null` (anonymous, `--insecure-dev` only).
    #[serde(default)]
    pub token: Option<String>,
    /// Patterns to subscribe to at once.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Where to resume.
    #[serde(default)]
    pub resume: Option<Resume>,
    /// The protocol the client speaks (`None`: 1, from before it said).
    #[serde(default)]
    pub protocol: Option<u32>,
}

/// Only the `type` of a frame.
#[derive(Debug, Deserialize)]
pub struct Typed<'a> {
    /// `hello`, `publish`, ...
    #[serde(rename = "type", borrow)]
    pub kind: std::borrow::Cow<'a, str>,
}

/// A JSON string field as received: its text, or [`Text::Lone`] when it
/// holds a lone UTF-16 surrogate (`"\ud83d"`, what cutting an emoji in two
/// with `text.slice` makes), which no Rust string holds. Read so, a publish
/// whose `name` or `ref` has one is refused naming that field, where
/// reading it as a `str` would fail the whole frame.
#[derive(Debug)]
pub enum Text<'a> {
    /// The string.
    Str(Cow<'a, str>),
    /// A string with a lone surrogate.
    Lone,
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(s.to_string())))
            }
            // serde_json hands a string read as bytes over as WTF-8, where a
            // lone surrogate is the one thing that is not UTF-8.
            fn visit_borrowed_bytes<E>(self, b: &'de [u8]) -> Result<Text<'de>, E> {
                Ok(std::str::from_utf8(b).map_or(Text::Lone, |s| Text::Str(Cow::Borrowed(s))))
            }
            fn visit_bytes<E>(self, b: &[u8]) -> Result<Text<'de>, E> {
                Ok(std::str::from_utf8(b).map_or(Text::Lone, |s| Text::Str(Cow::Owned(s.to_string()))))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// A frame after `hello`, parsed once whatever its type: the fields of
/// `publish` (every one optional here so that a missing one is refused
/// with the `ref` when there is one), and those of `subscribe`,
/// `unsubscribe` and `auth` as written (read when the type says which).
/// A frame that does not parse so, or whose field is not what its type
/// needs, is parsed again by its type only to say what is wrong.
#[derive(Debug, Default, Deserialize)]
pub struct Publish<'a> {
    /// The frame's `type`.
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<std::borrow::Cow<'a, str>>,
    /// The client's id for this publish.
    #[serde(rename = "ref", borrow, default)]
    pub reference: Option<Text<'a>>,
    /// The event name.
    #[serde(borrow, default)]
    pub name: Option<Text<'a>>,
    /// The payload, kept as written.
    #[serde(borrow, default)]
    pub payload: Option<&'a RawValue>,
    /// The idempotent producer's id (with `seq`).
    #[serde(borrow, default)]
    pub producer: Option<Text<'a>>,
    /// The producer's number for this publish, as written (checked later).
    #[serde(borrow, default)]
    pub seq: Option<&'a RawValue>,
    /// `subscribe` and `unsubscribe`: the patterns, as written.
    #[serde(borrow, default)]
    pub patterns: Option<&'a RawValue>,
    /// `auth`: the new token, as written.
    #[serde(borrow, default)]
    pub token: Option<&'a RawValue>,
}

/// `subscribe` and `unsubscribe`.
#[derive(Debug, Deserialize)]
pub struct Patterns {
    /// The patterns.
    pub patterns: Vec<String>,
}

/// `auth`.
#[derive(Debug, Deserialize)]
pub struct Auth {
    /// The new token.
    pub token: String,
}

/// Why a publish was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// The payload does not match the schema.
    Validation,
    /// No schema, in strict mode.
    Unknown,
    /// The token may not publish this.
    Forbidden,
    /// The payload is larger than `--max-payload`.
    TooLarge,
    /// Over the per-connection publish rate.
    Rate,
    /// The engine (Redis) cannot store it now; retry.
    Unavailable,
    /// A field is missing or of the wrong type.
    Malformed,
    /// A producer's `seq` older than the window the relay remembers.
    Stale,
}

impl RefusalKind {
    /// Every kind, for the metrics.
    pub const ALL: [RefusalKind; 8] = [
        RefusalKind::Validation,
        RefusalKind::Unknown,
        RefusalKind::Forbidden,
        RefusalKind::TooLarge,
        RefusalKind::Rate,
        RefusalKind::Unavailable,
        RefusalKind::Malformed,
        RefusalKind::Stale,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Validation => "validation",
            RefusalKind::Unknown => "unknown",
            RefusalKind::Forbidden => "forbidden",
            RefusalKind::TooLarge => "too-large",
            RefusalKind::Rate => "rate",
            RefusalKind::Unavailable => "unavailable",
            RefusalKind::Malformed => "malformed",
            RefusalKind::Stale => "stale",
        }
    }
}

/// One issue, as sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WireIssue {
    /// Where.
    pub path: String,
    /// What the schema wants.
    pub expected: String,
    /// What the payload has.
    pub received: String,
}

impl From<&Issue> for WireIssue {
    fn from(i: &Issue) -> Self {
        WireIssue {
            path: i.path.clone(),
            expected: i.expected.clone(),
            received: i.received.clone(),
        }
    }
}

/// A refused publish.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Refusal {
    /// Why.
    pub kind: RefusalKind,
    /// In words.
    pub message: String,
    /// For `validation`: every mismatch.
    pub issues: Vec<WireIssue>,
}

impl Refusal {
    /// A refusal without issues.
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Refusal {
        Refusal {
            kind,
            message: message.into(),
            issues: Vec::new(),
        }
    }
}

/// Frames the relay sends (other than `event`, see [`crate::event`]).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Reply<'a> {
    /// After `hello`.
    Welcome {
        /// [`PROTOCOL`].
        protocol: u32,
        /// The log's epoch.
        epoch: &'a str,
        /// The newest offset this connection is in sync with.
        offset: String,
        /// Whether `resume` was honoured.
        recovered: bool,
        /// The token's `sub`.
        user: Option<&'a str>,
        /// What the relay accepts.
        limits: Limits,
    },
    /// A publish was stored.
    Ack {
        /// The client's ref.
        #[serde(rename = "ref")]
        reference: Option<&'a str>,
        /// Where it was stored.
        offset: String,
    },
    /// A publish was refused.
    Refused {
        /// The client's ref.
        #[serde(rename = "ref")]
        reference: Option<&'a str>,
        /// Why.
        #[serde(flatten)]
        refusal: &'a Refusal,
    },
    /// After `ping`.
    Pong,
}

impl Reply<'_> {
    /// As JSON text.
    pub fn to_text(&self) -> String {
        if let Reply::Ack { reference, offset } = self {
            return ack(*reference, offset);
        }
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Appends `s` as a JSON string, as `serde_json` writes it.
pub fn push_json_str(text: &mut String, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        text.push_str(&serde_json::to_string(s).unwrap_or_default());
    } else {
        text.push('"');
        text.push_str(s);
        text.push('"');
    }
}

/// The `ack` frame, written directly (the most frequent reply); the same
/// text as serializing [`Reply::Ack`].
pub fn ack(reference: Option<&str>, offset: impl std::fmt::Display) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(64 + reference.map_or(0, str::len));
    text.push_str(r#"{"type":"ack","ref":"#);
    match reference {
        Some(r) => push_json_str(&mut text, r),
        None => text.push_str("null"),
    }
    let _ = write!(text, r#","offset":"{offset}"}}"#);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_serialize_as_documented() {
        let r = Refusal {
            kind: RefusalKind::TooLarge,
            message: "m".into(),
            issues: vec![],
        };
        assert_eq!(
            Reply::Refused {
                reference: Some("r1"),
                refusal: &r
            }
            .to_text(),
            r#"{"type":"refused","ref":"r1","kind":"too-large","message":"m","issues":[]}"#
        );
        assert_eq!(Reply::Pong.to_text(), r#"{"type":"pong"}"#);
        for reference in [None, Some("r"), Some("a\"b\\c\u{1}é\u{7f}")] {
            let offset = "17-3".to_string();
            let by_serde = serde_json::to_string(&Reply::Ack {
                reference,
                offset: offset.clone(),
            })
            .unwrap();
            assert_eq!(ack(reference, &offset), by_serde);
            assert_eq!(Reply::Ack { reference, offset }.to_text(), by_serde);
        }
        assert_eq!(
            Reply::Ack {
                reference: Some("r"),
                offset: "1-0".into()
            }
            .to_text(),
            r#"{"type":"ack","ref":"r","offset":"1-0"}"#
        );
        let w = Reply::Welcome {
            protocol: PROTOCOL,
            epoch: "e",
            offset: "0-0".into(),
            recovered: false,
            user: None,
            limits: Limits {
                payload: 10,
                frame: 20,
                reference: MAX_REF_BYTES,
            },
        };
        assert_eq!(
            w.to_text(),
            r#"{"type":"welcome","protocol":2,"epoch":"e","offset":"0-0","recovered":false,"user":null,"limits":{"payload":10,"frame":20,"ref":256}}"#
        );
    }

    #[test]
    fn a_lone_surrogate_is_named_as_such() {
        let e = serde_json::from_str::<Patterns>(r#"{"patterns":["a\ud83d.*"]}"#).unwrap_err();
        let Close { code, reason } = malformed("subscribe", e);
        assert_eq!(code, CLOSE_MALFORMED);
        assert!(
            reason.starts_with("subscribe: a string holds a lone surrogate"),
            "{reason}"
        );
        assert!(!reason.contains("hex escape"), "{reason}");
        let other = serde_json::from_str::<Patterns>("{").unwrap_err();
        assert_eq!(json_error(&other), other.to_string());
    }

    #[test]
    fn frames_parse() {
        let t: Typed = serde_json::from_str(r#"{"type":"publish","ref":"a","name":"x.y","payload":{"a":1}}"#).unwrap();
        assert_eq!(t.kind, "publish");
        let p: Publish =
            serde_json::from_str(r#"{"type":"publish","ref":"a","name":"x.y","payload":{"a": 1}}"#).unwrap();
        assert_eq!(p.payload.unwrap().get(), r#"{"a": 1}"#);
        assert_eq!(p.kind.as_deref(), Some("publish"));
        let h: Hello =
            serde_json::from_str(r#"{"type":"hello","token":null,"resume":{"epoch":"e","offset":"1-0"}}"#).unwrap();
        assert!(h.token.is_none() && h.resume.is_some() && h.subscribe.is_empty() && h.protocol.is_none());
        let h: Hello = serde_json::from_str(r#"{"type":"hello","token":null,"protocol":2}"#).unwrap();
        assert_eq!(h.protocol, Some(PROTOCOL));
    }
}
