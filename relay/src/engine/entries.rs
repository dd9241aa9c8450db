//! Redis stream entries turned into [`Event`]s: the fields of an entry
//! ([`event`], for the reader's replies parsed in place in `resp.rs`), and
//! `XRANGE`'s `[[id, [field, value, ...]], ...]` as the `redis` crate
//! returns it ([`from_range`]), without the per-entry maps of
//! `redis::streams`.

use std::sync::Arc;

use redis::Value;

use crate::event::{Event, Offset, Scope};

/// The events of an `XRANGE` reply; entries that are not events are skipped.
pub fn from_range(reply: &Value) -> Vec<Arc<Event>> {
    match reply {
        Value::Array(entries) => entries.iter().filter_map(range_entry).collect(),
        _ => Vec::new(),
    }
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok(),
        Value::SimpleString(s) => Some(s),
        _ => None,
    }
}

/// One `[id, [field, value, ...]]` entry.
fn range_entry(v: &Value) -> Option<Arc<Event>> {
    let Value::Array(parts) = v else { return None };
    let [id, Value::Array(fields)] = parts.as_slice() else {
        return None;
    };
    let pairs = fields
        .chunks_exact(2)
        .filter_map(|pair| Some((text(&pair[0])?, text(&pair[1])?)));
    event(text(id)?, pairs)
}

/// The one field `e` of a stored entry: the length of its head in bytes,
/// `:`, the head, then the payload (JSON text), for example
/// `31:auth.user.login*9f3a…/12*u:u1{"userId":"u1"}`. The head is the
/// event's name, the connection that published it (empty for HTTP) and its
/// scope (who receives it: see [`Scope::encode`]), separated by `*`, the one
/// character no event name may hold (it is the wildcard) and no origin
/// holds; the scope comes last, so a user or group in it may hold anything.
/// The time stored is the entry id's.
///
/// One field made here, not one per part: every field is two more
/// arguments for Redis to move in the append script (see `APPEND_MANY`)
/// and two more strings in every read.
pub fn entry(name: &str, origin: &str, scope: &Scope, payload: &str) -> String {
    let scope = scope.encode();
    let head = name.len() + 1 + origin.len() + 1 + scope.len();
    let mut e = String::with_capacity(head + payload.len() + 6);
    e.push_str(&head.to_string());
    e.push(':');
    for part in [name, "*", origin, "*", &scope, payload] {
        e.push_str(part);
    }
    e
}

/// The name, origin and scope of a head (see [`entry`]).
fn head(value: &str) -> Option<(&str, &str, Scope)> {
    let mut parts = value.splitn(3, '*');
    let name = parts.next().unwrap_or("");
    let origin = parts.next().unwrap_or("");
    Some((name, origin, Scope::decode(parts.next().unwrap_or(""))?))
}

/// The event of the entry `id` with these fields and values. Entries of
/// earlier relays are read too: `head` and `payload` apart (before the one
/// field `e`); before audiences, an `event` field (name, origin,
/// the payload's `userId` or nothing) or, older still, `name`, `ts`, `user`,
/// `origin` apart; their user is the event's scope, and without one it
/// reached everyone (`Scope::All`), as those relays sent it.
pub fn event<'a>(id: &str, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Arc<Event>> {
    let offset = Offset::parse(id)?;
    let (mut name, mut payload, mut user, mut origin, mut scope) = ("", "", "", "", None);
    for (key, value) in pairs {
        match key {
            "e" => {
                let (length, rest) = value.split_once(':')?;
                let length: usize = length.parse().ok()?;
                let (n, o, s) = head(rest.get(..length)?)?;
                (name, origin, scope) = (n, o, Some(s));
                payload = rest.get(length..)?;
            }
            "head" => {
                let (n, o, s) = head(value)?;
                (name, origin, scope) = (n, o, Some(s));
            }
            "event" => {
                let mut parts = value.splitn(3, '*');
                name = parts.next().unwrap_or("");
                origin = parts.next().unwrap_or("");
                user = parts.next().unwrap_or("");
            }
            "payload" => payload = value,
            "name" => name = value,
            "user" => user = value,
            "origin" => origin = value,
            _ => {}
        }
    }
    let scope = scope.unwrap_or_else(|| match user {
        "" => Scope::All,
        user => Scope::User(user.into()),
    });
    Event::new(offset, name, payload, scope, origin.to_string())
}

/// The fields of a stored `a.b` event of `user` published by `i/1`, as the
/// tests of both readers write them.
#[cfg(test)]
pub(crate) fn test_fields(user: &str) -> [String; 2] {
    ["e".into(), entry("a.b", "i/1", &Scope::User(user.into()), r#"{"x":1}"#)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn stored(id: &str, user: &str) -> Value {
        let fields = test_fields(user);
        Value::Array(vec![bulk(id), Value::Array(fields.iter().map(|f| bulk(f)).collect())])
    }

    #[test]
    fn an_entry_keeps_any_name_scope_and_payload_and_older_entries_still_read() {
        // Names may hold spaces (not `*`); users and groups may hold anything.
        for (name, origin, scope, payload) in [
            ("a b.c d", "i/1", Scope::User("u *1* 2".into()), "[]"),
            ("a.b", "", Scope::All, r#"{"s":"*9:x*"}"#),
            ("x", "i/2", Scope::User(String::new()), "{}"),
            ("x", "i/2", Scope::Group("*:田中".into()), r#"{"a":"田中"}"#),
            ("x", "", Scope::Admins, "1"),
        ] {
            let value = entry(name, origin, &scope, payload);
            let e = event("7-0", [("e", value.as_str())].into_iter()).unwrap();
            assert_eq!((e.name.as_str(), e.origin.as_str(), &e.scope), (name, origin, &scope));
            assert!(e.frame.as_str().contains(payload), "{}", e.frame);
            // As relays before the one field stored it.
            let head = value.split_once(':').unwrap().1.strip_suffix(payload).unwrap();
            let fields = [("head", head), ("payload", payload)];
            let e = event("7-0", fields.into_iter()).unwrap();
            assert_eq!((e.name.as_str(), e.origin.as_str(), &e.scope), (name, origin, &scope));
        }
        for broken in ["a.b*i/1*q{}", "9:a.b*i/1*q{}", "99:a.b*i/1*a{}", "x:a.b*i/1*a{}"] {
            assert!(event("7-0", [("e", broken)].into_iter()).is_none(), "{broken}");
        }
        let unknown = [("head", "a.b*i/1*q"), ("payload", "{}")];
        assert!(
            event("7-0", unknown.into_iter()).is_none(),
            "an unknown scope is no event"
        );
        // Before audiences: the payload's userId, or nothing (public).
        for (user, scope) in [("u1", Scope::User("u1".into())), ("", Scope::All)] {
            let text = format!("a.b*i/2*{user}");
            let e = event("7-1", [("event", text.as_str()), ("payload", "{}")].into_iter()).unwrap();
            assert_eq!((e.name.as_str(), e.origin.as_str(), &e.scope), ("a.b", "i/2", &scope));
        }
        let older = [
            ("name", "a.b"),
            ("payload", "{}"),
            ("ts", "2026-01-02T03:04:05.000Z"),
            ("user", "u1"),
            ("origin", "i/2"),
        ];
        let e = event("7-1", older.into_iter()).unwrap();
        assert_eq!(
            (e.name.as_str(), e.origin.as_str(), &e.scope),
            ("a.b", "i/2", &Scope::User("u1".into()))
        );
        assert!(
            e.frame.as_str().ends_with(r#""timestamp":"1970-01-01T00:00:00.007Z"}"#),
            "{}",
            e.frame
        );
    }

    #[test]
    fn entries_become_events_and_strangers_are_skipped() {
        let range = Value::Array(vec![stored("5-1", ""), bulk("junk"), stored("5-2", "u1")]);
        let events = from_range(&range);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].offset, Offset { ms: 5, seq: 1 });
        assert_eq!(
            (&events[0].scope, &events[1].scope),
            (&Scope::User(String::new()), &Scope::User("u1".into()))
        );
        assert_eq!((events[1].name.as_str(), events[1].origin.as_str()), ("a.b", "i/1"));
        assert!(from_range(&Value::Nil).is_empty());
    }
}
