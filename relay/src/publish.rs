//! The publish pipeline, the same for a WebSocket `publish` frame and an
//! item of `POST /v1/events`: checks in this order, and stores only what
//! passes all of them (a refused event is never stored).
//!
//! 1. `malformed`: no name or no payload;
//! 2. `too-large`: payload JSON longer than `--max-payload` bytes;
//! 3. `malformed`: a name the bus refuses (empty, too long, with `*`);
//! 4. `forbidden`: the token's `publish` patterns do not cover the name;
//! 5. `unknown` / `validation`: the bus's schemas (in strict mode, also its naming convention);
//! 6. `forbidden`: a non-admin publishing another user's `userId`, or a
//!    `'group'` event to a group its token does not list;
//! 7. `unavailable`: the engine could not store it (retry with the same `ref`).
//!
//! An event is stored with its scope (who receives it), from its schema's
//! audience: see `Grant::scope`.

use std::time::Instant;

use kaiwa_bus::core::names::check_event_name;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use kaiwa_bus::schema::GROUP_FIELD;

use crate::auth::Grant;
use crate::engine::{Draft, Unavailable};
use crate::event::Offset;
use crate::protocol::{Refusal, RefusalKind, WireIssue};
use crate::server::State;
use crate::validate::{self, Invalid};

/// One event to publish, as received.
#[derive(Debug)]
pub struct Request<'a> {
    /// The client's idempotency id.
    pub reference: Option<&'a str>,
    /// The event name.
    pub name: Option<&'a str>,
    /// The payload JSON.
    pub payload: Option<&'a RawValue>,
}

/// Checks and stores one event; the offset it got, or why not.
pub async fn publish(state: &State, grant: &Grant, origin: String, req: Request<'_>) -> Result<Offset, Refusal> {
    let started = Instant::now();
    let draft = check(state, grant, origin, req)?;
    settle(state, state.engine.append(draft).await, started)
}

/// Steps 1 to 6: the event to store, or why not.
pub fn check(state: &State, grant: &Grant, origin: String, req: Request<'_>) -> Result<Draft, Refusal> {
    let result = checked(state, grant, origin, req);
    if let Err(refusal) = &result {
        state.metrics.refused(refusal.kind);
    }
    result
}

fn checked(state: &State, grant: &Grant, origin: String, req: Request<'_>) -> Result<Draft, Refusal> {
    let (Some(name), Some(raw)) = (req.name, req.payload) else {
        return Err(Refusal::new(
            RefusalKind::Malformed,
            "a publish needs a string name and a payload",
        ));
    };
    let max = state.config.max_payload;
    if raw.get().len() > max {
        return Err(Refusal::new(
            RefusalKind::TooLarge,
            format!("payload is {} bytes of JSON; the limit is {max}", raw.get().len()),
        ));
    }
    check_event_name(name).map_err(|e| Refusal::new(RefusalKind::Malformed, e.to_string()))?;
    grant
        .may_publish(name, None)
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m))?;
    let malformed = |e: serde_json::Error| Refusal::new(RefusalKind::Malformed, format!("payload: {e}"));
    // With a schema, the payload is read as a `Value` for the validator's
    // probes; without one, it is only checked as a `Value` would read it
    // (same errors: numbers out of range, nesting too deep) and searched
    // for its `userId`, without building the tree.
    let audience = validate::audience(name);
    let (payload, user, group) = if audience.is_some() {
        let payload: Value = serde_json::from_str(raw.get()).map_err(malformed)?;
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(String::from);
        let (user, group) = (text("userId"), text(GROUP_FIELD));
        (payload, user, group)
    } else {
        let scanned: UserId = serde_json::from_str(raw.get()).map_err(malformed)?;
        (Value::Null, scanned.0, None)
    };
    validate::check(name, &payload).map_err(|invalid| match invalid {
        Invalid::Name(m) => Refusal::new(RefusalKind::Malformed, m),
        Invalid::Unknown(m) => Refusal::new(RefusalKind::Unknown, m),
        Invalid::Issues(event, issues) => Refusal {
            kind: RefusalKind::Validation,
            message: issues
                .first()
                .map_or_else(|| format!("{event}: invalid payload"), |i| format!("{event}: {i}")),
            issues: issues.iter().map(WireIssue::from).collect(),
        },
    })?;
    grant
        .may_publish(name, user.as_deref())
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m))?;
    let scope = grant
        .scope(audience.unwrap_or_default(), user, group)
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m))?;
    let owner = grant.user.as_deref().unwrap_or("");
    Ok(Draft {
        name: name.to_string(),
        payload: raw.get().to_string(),
        scope,
        origin,
        idem: req.reference.map(|r| format!("{}:{owner}:{r}", owner.len())),
    })
}

/// Step 7: the engine's answer for a checked event, counted; `started` is
/// when its publish arrived.
pub fn settle(state: &State, stored: Result<(Offset, bool), Unavailable>, started: Instant) -> Result<Offset, Refusal> {
    match stored {
        Ok((offset, new)) => {
            if new {
                state.metrics.stored(started.elapsed());
            }
            Ok(offset)
        }
        Err(e) => {
            state.metrics.refused(RefusalKind::Unavailable);
            Err(Refusal::new(RefusalKind::Unavailable, e.0))
        }
    }
}

/// A payload read as `serde_json::Value` reads it, keeping only its string
/// `userId` (the last one, as a `Value` object keeps the last of repeated
/// keys) when it is an object.
struct UserId(Option<String>);

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Scan::UserIdOf).map(UserId)
    }
}

/// What a scan of one JSON value keeps: an object's string `userId`, a
/// string, or nothing. Every value is read through (so the errors are those
/// a `Value` would raise), and only what is kept is copied.
#[derive(Clone, Copy, PartialEq)]
enum Scan {
    UserIdOf,
    Text,
    Nothing,
}

impl<'de> DeserializeSeed<'de> for Scan {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<String>, A::Error> {
        let mut user = None;
        while let Some(IsUserId(is_user)) = map.next_key()? {
            if is_user && self == Scan::UserIdOf {
                user = map.next_value_seed(Scan::Text)?;
            } else {
                map.next_value_seed(Scan::Nothing)?;
            }
        }
        Ok(user)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<String>, A::Error> {
        while seq.next_element_seed(Scan::Nothing)?.is_some() {}
        Ok(None)
    }
    fn visit_str<E>(self, s: &str) -> Result<Option<String>, E> {
        Ok((self == Scan::Text).then(|| s.to_string()))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<String>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<String>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<String>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<String>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<String>, E> {
        Ok(None)
    }
}

/// A member's key: whether it is `userId`.
struct IsUserId(bool);

impl<'de> Deserialize<'de> for IsUserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IsUserId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, s: &str) -> Result<IsUserId, E> {
                Ok(IsUserId(s == "userId"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_scan_reads_as_a_value_does() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let cases = [
            r#"{"userId":"u1","a":[1,{"userId":"x"}]}"#,
            r#"{"a":1,"userId":"u1","userId":"u2"}"#,
            r#"{"userId":"u1","userId":7}"#,
            r#"{"userId":7}"#,
            r#"{"user\u0049d":"esc\"aped"}"#,
            r#"{"userId":null}"#,
            r#"["userId","u"]"#,
            r#""userId""#,
            "1",
            "null",
            "true",
            r#"{"a":1e400}"#,
            r#"{"a":-1e400}"#,
            r#"{"a":18446744073709551616,"b":-9223372036854775809,"c":1.5}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud83d\ude00","userId":"\u00e9"}"#,
            &deep,
        ];
        for text in cases {
            let raw: &RawValue = serde_json::from_str(text).unwrap();
            let by_value = serde_json::from_str::<Value>(raw.get())
                .map(|v| v.get("userId").and_then(Value::as_str).map(String::from))
                .map_err(|e| e.to_string());
            let scanned = serde_json::from_str::<UserId>(raw.get())
                .map(|u| u.0)
                .map_err(|e| e.to_string());
            assert_eq!(scanned, by_value, "{text}");
        }
    }
}
