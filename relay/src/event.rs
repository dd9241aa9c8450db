//! A stored event, its offset, and the `event` frame every receiver gets.
//!
//! ## Offsets
//!
//! An offset is `MS-SEQ`, the shape of a Redis stream id, in both engines:
//! totally ordered, so a connection can tell "already sent" from "new" by
//! comparing. Clients treat offsets as opaque strings.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use std::fmt::Write;

use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::protocol::push_json_str;

/// The position of an event in the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset {
    /// Milliseconds (Redis: the server clock when stored).
    pub ms: u64,
    /// Order within the millisecond.
    pub seq: u64,
}

impl Offset {
    /// Before every event: resuming from it replays the whole log.
    pub const ZERO: Offset = Offset { ms: 0, seq: 0 };

    /// Parses `MS-SEQ`.
    pub fn parse(text: &str) -> Option<Offset> {
        let (ms, seq) = text.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        Some(Offset {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    /// The offset after `self`, with the clock at `now_ms` (as Redis makes ids).
    pub fn next(self, now_ms: u64) -> Offset {
        if now_ms > self.ms {
            Offset { ms: now_ms, seq: 0 }
        } else {
            Offset {
                ms: self.ms,
                seq: self.seq.saturating_add(1),
            }
        }
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The time `ms` milliseconds after the Unix epoch as ISO-8601 with
/// milliseconds (`2026-01-02T03:04:05.678Z`), the form JavaScript's
/// `Date.prototype.toISOString` writes.
pub fn iso_time(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(time) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::new();
    };
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time.format(&format).unwrap_or_default()
}

/// Who receives a stored event, besides admin connections, which receive
/// every one (see `Grant::sees`). Decided when it is published, from its
/// schema's audience (`Grant::scope`), and stored with it: a connection
/// never reads the payload to know whether it may see an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every connection subscribed to its name (audience `'all'`).
    All,
    /// The connections of this user (audience `'user'`). Any string is a
    /// user id, the empty one too.
    User(String),
    /// The connections whose token lists this group (audience `'group'`).
    Group(String),
    /// Admin connections only: a `'user'` event published by an anonymous
    /// `--insecure-dev` connection (which has no user) without a `userId`.
    Admins,
}

impl Scope {
    /// The stored form: `a`, `x`, `u:` + the user, `g:` + the group; the
    /// letter tells them apart, so an empty user (`u:`) is not "everyone".
    pub fn encode(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Scope::All => "a".into(),
            Scope::Admins => "x".into(),
            Scope::User(user) => format!("u:{user}").into(),
            Scope::Group(group) => format!("g:{group}").into(),
        }
    }

    /// The scope [`Scope::encode`] wrote; `None` for anything else.
    pub fn decode(text: &str) -> Option<Scope> {
        match text {
            "a" => Some(Scope::All),
            "x" => Some(Scope::Admins),
            _ => match text.split_at_checked(2)? {
                ("u:", user) => Some(Scope::User(user.into())),
                ("g:", group) => Some(Scope::Group(group.into())),
                _ => None,
            },
        }
    }
}

/// An event as stored and delivered.
#[derive(Debug)]
pub struct Event {
    /// Where it is in the log.
    pub offset: Offset,
    /// Its name.
    pub name: String,
    /// Who receives it.
    pub scope: Scope,
    /// The connection that published it (`instance/connection`), which does
    /// not receive it back; empty for HTTP publishes.
    pub origin: String,
    /// The `event` frame, serialized once for every receiver.
    pub frame: Utf8Bytes,
}

#[cfg(test)]
#[derive(serde::Serialize)]
struct EventFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    offset: String,
    name: &'a str,
    payload: &'a RawValue,
    timestamp: &'a str,
}

impl Event {
    /// Builds an event from its stored parts; `None` if `payload` is not JSON
    /// (never the case for what the relay stored itself). Its timestamp is
    /// the time of its offset: when it was stored.
    pub fn new(offset: Offset, name: &str, payload: &str, scope: Scope, origin: String) -> Option<Arc<Event>> {
        let raw: &RawValue = serde_json::from_str(payload).ok()?;
        let timestamp = iso_time(offset.ms);
        // Written directly, the same text as serializing an `EventFrame`.
        let mut frame = String::with_capacity(80 + name.len() + payload.len() + timestamp.len());
        frame.push_str(r#"{"type":"event","offset":""#);
        let _ = write!(frame, "{offset}");
        frame.push_str(r#"","name":"#);
        push_json_str(&mut frame, name);
        frame.push_str(r#","payload":"#);
        frame.push_str(raw.get());
        frame.push_str(r#","timestamp":"#);
        push_json_str(&mut frame, &timestamp);
        frame.push('}');
        Some(Arc::new(Event {
            offset,
            name: name.to_string(),
            scope,
            origin,
            frame: frame.into(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_order_and_advance() {
        let a = Offset::parse("1700000000000-3").unwrap();
        assert_eq!(a.to_string(), "1700000000000-3");
        assert!(a < Offset::parse("1700000000000-10").unwrap());
        assert!(a < Offset::parse("1700000000001-0").unwrap());
        for bad in ["", "1", "-1", "1-", "a-b", "1-2-3", "+1-2"] {
            assert_eq!(Offset::parse(bad), None, "{bad}");
        }
        assert_eq!(a.next(a.ms), Offset { ms: a.ms, seq: 4 });
        assert_eq!(a.next(a.ms - 5), Offset { ms: a.ms, seq: 4 });
        assert_eq!(a.next(a.ms + 1), Offset { ms: a.ms + 1, seq: 0 });
    }

    #[test]
    fn scopes_round_trip_and_an_empty_user_is_a_user() {
        for scope in [
            Scope::All,
            Scope::Admins,
            Scope::User(String::new()),
            Scope::User("u *1".into()),
            Scope::Group("g".into()),
            Scope::Group(String::new()),
        ] {
            assert_eq!(Scope::decode(&scope.encode()), Some(scope.clone()), "{scope:?}");
        }
        assert_ne!(Scope::User(String::new()).encode(), Scope::All.encode());
        for bad in ["", "ab", "xy", "z", "u", "uu1", "g"] {
            assert_eq!(Scope::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_frame_carries_the_payload_as_stored() {
        let e = Event::new(
            Offset { ms: 5, seq: 1 },
            "a.b",
            r#"{"x":[1,"é"]}"#,
            Scope::All,
            String::new(),
        )
        .unwrap();
        assert_eq!(
            e.frame.as_str(),
            r#"{"type":"event","offset":"5-1","name":"a.b","payload":{"x":[1,"é"]},"timestamp":"1970-01-01T00:00:00.005Z"}"#
        );
        assert!(Event::new(Offset::ZERO, "a.b", "{", Scope::All, String::new()).is_none());
        for (name, payload) in [("x\"y\\z\n", r#" [1, {"a" : "\u00e9"}] "#), ("a.b", "null")] {
            let offset = Offset {
                ms: 1_767_323_045_678,
                seq: 0,
            };
            let e = Event::new(offset, name, payload, Scope::All, String::new()).unwrap();
            let by_serde = serde_json::to_string(&EventFrame {
                kind: "event",
                offset: offset.to_string(),
                name,
                payload: serde_json::from_str(payload).unwrap(),
                timestamp: "2026-01-02T03:04:05.678Z",
            })
            .unwrap();
            assert_eq!(e.frame.as_str(), by_serde);
        }
    }
}
