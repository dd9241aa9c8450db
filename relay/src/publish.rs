//! The publish pipeline, the same for a WebSocket `publish` frame and an
//! item of `POST /v1/events`: checks in this order, and stores only what
//! passes all of them (a refused event is never stored).
//!
//! 1. `malformed`: no name or no payload, a name, `ref` or `producer` with
//!    a lone surrogate;
//! 2. `too-large`: payload JSON longer than `--max-payload` bytes, a `ref`
//!    longer than [`MAX_REF_BYTES`], a `producer` longer than
//!    [`MAX_PRODUCER_BYTES`]; `malformed`: a `producer` without `seq` or
//!    the other way round, a `seq` that is not a whole number from 1 to
//!    [`MAX_SEQ`];
//! 3. `malformed`: a name the bus refuses (empty, too long, with `*`);
//! 4. `forbidden`: the token's `publish` patterns do not cover the name;
//! 5. `unknown` / `validation`: the bus's schemas (in strict mode, also its naming convention);
//! 6. `forbidden`: a non-admin publishing another user's `userId`, or a
//!    `'group'` event to a group its token does not list;
//! 7. `unavailable`: the engine could not store it (retry with the same `ref`);
//!    `stale`: a producer's `seq` older than the window the engine keeps.
//!
//! An event is stored with its scope (who receives it), from its schema's
//! audience: see `Grant::scope`.
//!
//! The rate limits come before these, at each door ([`user_rate`]).
//!
//! Payload strings may hold lone surrogates, as the bus's do (`JSON.stringify`
//! writes them as `\ud83d`): they are stored and sent as received, and read
//! as U+FFFD where the relay reads the payload (validation, `userId`).

use std::time::Instant;

use kaiwa_bus::core::names::check_event_name;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use kaiwa_bus::schema::GROUP_FIELD;

use crate::auth::Grant;
use crate::engine::{Appended, Draft, Idem, Unavailable};
use crate::event::Offset;
use crate::protocol::{
    Refusal, RefusalKind, Text, WireIssue, MAX_PRODUCER_BYTES, MAX_REF_BYTES, MAX_SEQ, PRODUCER_WINDOW,
};
use crate::state::State;
use crate::users::User;
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
    /// The field (`name`, `ref` or `producer`) that held a lone surrogate, if one did.
    pub lone: Option<&'static str>,
    /// The idempotent producer's id, if given.
    pub producer: Option<&'a str>,
    /// Its `seq`, as written, if given.
    pub seq: Option<&'a RawValue>,
}

impl<'a> Request<'a> {
    /// A request of these fields as read.
    pub fn new(reference: Option<&'a Text<'a>>, name: Option<&'a Text<'a>>, payload: Option<&'a RawValue>) -> Self {
        let text = |t: Option<&'a Text<'a>>| match t {
            Some(Text::Str(s)) => Some(&**s),
            _ => None,
        };
        let lone = |t: Option<&Text>| matches!(t, Some(Text::Lone));
        Request {
            reference: text(reference),
            name: text(name),
            payload,
            lone: if lone(name) {
                Some("name")
            } else if lone(reference) {
                Some("ref")
            } else {
                None
            },
            producer: None,
            seq: None,
        }
    }

    /// The request with the `producer` and `seq` read with it.
    pub fn sequenced(mut self, producer: Option<&'a Text<'a>>, seq: Option<&'a RawValue>) -> Self {
        match producer {
            Some(Text::Str(s)) => self.producer = Some(s),
            Some(Text::Lone) => self.lone = self.lone.or(Some("producer")),
            None => {}
        }
        self.seq = seq;
        self
    }
}

/// `--user-rate`, the same for a WebSocket publish and an HTTP item: `Err`
/// (counted) when the user's bucket is empty. Anonymous publishes have no user.
pub fn user_rate(state: &State, user: Option<&User>) -> Result<(), Refusal> {
    match user {
        Some(user) if !state.users.take(user) => {
            state.metrics.refused(RefusalKind::Rate);
            Err(Refusal::new(RefusalKind::Rate, state.users.over_rate()))
        }
        _ => Ok(()),
    }
}

/// Checks events that arrived together (each already past its rate limit,
/// or refused by it) and stores those that pass in one batch
/// ([`Engine::submit_all`](crate::engine::Engine::submit_all)), in order:
/// for each, the offset it got, or why not.
pub async fn publish_all(
    state: &State,
    grant: &Grant,
    origin: &str,
    reqs: Vec<Result<Request<'_>, Refusal>>,
) -> Vec<Result<Offset, Refusal>> {
    let started = Instant::now();
    let mut drafts = Vec::with_capacity(reqs.len());
    let checked: Vec<Result<(), Refusal>> = reqs
        .into_iter()
        .map(|req| {
            drafts.push(check(state, grant, origin.to_string(), req?)?);
            Ok(())
        })
        .collect();
    let mut stored = state.engine.append_all(drafts).await.into_iter();
    checked
        .into_iter()
        .map(|checked| {
            checked?;
            let unavailable = || Err(Unavailable("the event store is unavailable; retry".into()));
            settle(state, stored.next().unwrap_or_else(unavailable), started)
        })
        .collect()
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
    if let Some(field) = req.lone {
        return Err(Refusal::new(
            RefusalKind::Malformed,
            format!("{field}: the string has a lone surrogate (half of a UTF-16 pair, as cutting an emoji in two makes); the bus refuses such a {field} too"),
        ));
    }
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
    if let Some(r) = req.reference.filter(|r| r.len() > MAX_REF_BYTES) {
        return Err(Refusal::new(
            RefusalKind::TooLarge,
            format!("ref is {} bytes; the limit is {MAX_REF_BYTES}", r.len()),
        ));
    }
    let sequenced = sequence(req.producer, req.seq)?;
    check_event_name(name).map_err(|e| Refusal::new(RefusalKind::Malformed, e.to_string()))?;
    grant
        .may_publish(name, None)
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m.to_string()))?;
    // Its audience decides who receives it: without a schema, 'user'.
    let audience = validate::audience(name);
    let (payload, user, group) = read_payload(raw.get(), audience.is_some())
        .or_else(|e| match replace_lone_surrogates(raw.get()) {
            Some(readable) => read_payload(&readable, audience.is_some()),
            None => Err(e),
        })
        .map_err(|e| Refusal::new(RefusalKind::Malformed, format!("payload: {e}")))?;
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
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m.to_string()))?;
    let scope = grant
        .scope(audience.unwrap_or_default(), user, group)
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m.to_string()))?;
    let owner = grant.user.as_deref().unwrap_or("");
    Ok(Draft {
        name: name.to_string(),
        payload: raw.get().to_string(),
        scope,
        origin,
        idem: match sequenced {
            Some((producer, seq)) => Some(Idem::Seq(format!("{}:{owner}:{producer}", owner.len()), seq)),
            None => req.reference.map(|r| Idem::Ref(format!("{}:{owner}:{r}", owner.len()))),
        },
    })
}

/// A publish's `producer` and `seq`: both or neither, the producer 1 to
/// [`MAX_PRODUCER_BYTES`] bytes, the seq a whole number from 1 to [`MAX_SEQ`].
fn sequence<'a>(producer: Option<&'a str>, seq: Option<&RawValue>) -> Result<Option<(&'a str, u64)>, Refusal> {
    let malformed = |m: &str| Refusal::new(RefusalKind::Malformed, m);
    match (producer, seq) {
        (None, None) => Ok(None),
        (Some(p), _) if p.len() > MAX_PRODUCER_BYTES => Err(Refusal::new(
            RefusalKind::TooLarge,
            format!("producer is {} bytes; the limit is {MAX_PRODUCER_BYTES}", p.len()),
        )),
        (Some(""), _) => Err(malformed("producer must not be empty")),
        (Some(p), Some(seq)) => match seq.get().parse::<u64>() {
            Ok(n) if (1..=MAX_SEQ).contains(&n) => Ok(Some((p, n))),
            _ => Err(malformed("seq must be a whole number from 1 to 2^53 - 1")),
        },
        _ => Err(malformed("producer and seq come together: give both or neither")),
    }
}

/// A payload as the checks read it: the tree (or `Null`), `userId`, `groupId`.
type Read = (Value, Option<String>, Option<String>);

/// The payload as the checks read it, its `userId` and its `groupId` (each
/// if a string). With a schema, the payload is read as a `Value` for the
/// validator's probes; without one (audience 'user', so no group), it is
/// only checked as a `Value` would read it (same errors: numbers out of
/// range, nesting too deep) and searched for its `userId`, without building
/// the tree.
fn read_payload(json: &str, with_schema: bool) -> Result<Read, serde_json::Error> {
    if with_schema {
        let payload: Value = serde_json::from_str(json)?;
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(String::from);
        let (user, group) = (text("userId"), text(GROUP_FIELD));
        Ok((payload, user, group))
    } else {
        let scanned: UserId = serde_json::from_str(json)?;
        Ok((Value::Null, scanned.0, None))
    }
}

/// The JSON text with every escaped lone surrogate (a `\ud83d` without its
/// pair) read as `\ufffd`, as a browser displays it; `None` when it has none.
/// Only escapes are looked at: the text is valid UTF-8, which cannot hold a
/// surrogate, and outside strings JSON has no backslash.
fn replace_lone_surrogates(json: &str) -> Option<String> {
    let bytes = json.as_bytes();
    let unit = |at: usize| {
        let hex = bytes.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let is_escape = |at: usize| bytes.get(at..at + 2) == Some(b"\\u");
    let (mut out, mut copied, mut at) = (None::<String>, 0, 0);
    while let Some(found) = bytes.get(at..).and_then(|rest| rest.iter().position(|&b| b == b'\\')) {
        at += found;
        let Some(u) = unit(at + 2).filter(|_| is_escape(at)) else {
            at += 2; // any other escape, `\\` included
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&u)
            && is_escape(at + 6)
            && unit(at + 8).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired || !(0xD800..0xE000).contains(&u) {
            at += if paired { 12 } else { 6 };
            continue;
        }
        let text = out.get_or_insert_with(|| String::with_capacity(json.len()));
        text.push_str(json.get(copied..at).unwrap_or_default());
        text.push_str("\\ufffd");
        at += 6;
        copied = at;
    }
    let mut text = out?;
    text.push_str(json.get(copied..).unwrap_or_default());
    Some(text)
}

/// Step 7: the engine's answer for a checked event, counted; `started` is
/// when its publish arrived.
pub fn settle(state: &State, stored: Result<Appended, Unavailable>, started: Instant) -> Result<Offset, Refusal> {
    match stored {
        Ok(Appended::New(offset)) => {
            state.metrics.stored(started.elapsed());
            Ok(offset)
        }
        Ok(Appended::Before(offset)) => Ok(offset),
        Ok(Appended::Stale) => {
            state.metrics.refused(RefusalKind::Stale);
            Err(Refusal::new(
                RefusalKind::Stale,
                format!("seq is older than the newest {PRODUCER_WINDOW} this producer published, or its event is no longer retained: it was stored or refused before, and is not stored again; do not retry"),
            ))
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
    fn lone_surrogates_read_as_replacement_characters_and_pairs_stay() {
        let read = |s: &str| replace_lone_surrogates(s);
        assert_eq!(read(r#"{"a":"\ud83d\ude00"}"#), None);
        assert_eq!(read(r#"{"a":"x\\ud800"}"#), None, "an escaped backslash, then text");
        assert_eq!(read(r#"{"a":"\u00e9\n"}"#), None);
        assert_eq!(read(r#"{"a":"hi \ud83d"}"#).unwrap(), r#"{"a":"hi \ufffd"}"#);
        assert_eq!(
            read(r#"["\uDE00\ud83d\ude00\uD83D"]"#).unwrap(),
            r#"["\ufffd\ud83d\ude00\ufffd"]"#
        );
        assert_eq!(
            read(r#"{"\ud800":"\ud800\u0041"}"#).unwrap(),
            r#"{"\ufffd":"\ufffd\u0041"}"#
        );
        let (value, user, _) = read_payload(&read(r#"{"userId":"u\udc00"}"#).unwrap(), true).unwrap();
        assert_eq!(
            (value["userId"].as_str(), user.as_deref()),
            (Some("u\u{fffd}"), Some("u\u{fffd}"))
        );
    }

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
