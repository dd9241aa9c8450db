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
        Value::Array(entries) => entries.iter().filter_map(entry).collect(),
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
fn entry(v: &Value) -> Option<Arc<Event>> {
    let Value::Array(parts) = v else { return None };
    let [id, Value::Array(fields)] = parts.as_slice() else {
        return None;
    };
    let pairs = fields
        .chunks_exact(2)
        .filter_map(|pair| Some((text(&pair[0])?, text(&pair[1])?)));
    event(text(id)?, pairs)
}

/// The `head` field of a stored entry: the event's name, the connection
/// that published it (empty for HTTP) and its scope (who receives it: see
/// [`Scope::encode`]), separated by `*`, the one character no event name
/// may hold (it is the wildcard) and no origin holds; the scope comes last,
/// so a user or group in it may hold anything. For example
/// `auth.user.login*9f3a…/12*u:u1`.
///
/// An entry is this field and `payload` (JSON text); the time stored is its
/// id's. Two fields rather than one per part: every field is two more
/// arguments for Redis to move in the append script and two more strings in
/// every read (see `APPEND_MANY`).
pub fn head(name: &str, origin: &str, scope: &Scope) -> String {
    [name, origin, &scope.encode()].join("*")
}

/// The event of the entry `id` with these fields and values. Entries of
/// relays before audiences are read too: an `event` field (name, origin,
/// the payload's `userId` or nothing) or, older still, `name`, `ts`, `user`,
/// `origin` apart; their user is the event's scope, and without one it
/// reached everyone (`Scope::All`), as those relays sent it.
pub fn event<'a>(id: &str, pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Option<Arc<Event>> {
    let offset = Offset::parse(id)?;
    let (mut name, mut payload, mut user, mut origin, mut scope) = ("", "", "", "", None);
    for (key, value) in pairs {
        match key {
            "head" => {
                let mut parts = value.splitn(3, '*');
                name = parts.next().unwrap_or("");
                origin = parts.next().unwrap_or("");
                scope = Some(Scope::decode(parts.next().unwrap_or(""))?);
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
pub(crate) fn test_fields(user: &str) -> [String; 4] {
    [
        "head".into(),
        head("a.b", "i/1", &Scope::User(user.into())),
        "payload".into(),
        r#"{"x":1}"#.into(),
    ]
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
    fn the_head_keeps_any_name_and_scope_and_older_entries_still_read() {
        // Names may hold spaces (not `*`); users and groups may hold anything.
        for (name, origin, scope) in [
            ("a b.c d", "i/1", Scope::User("u *1* 2".into())),
            ("a.b", "", Scope::All),
            ("x", "i/2", Scope::User(String::new())),
            ("x", "i/2", Scope::Group("*".into())),
            ("x", "", Scope::Admins),
        ] {
            let fields = [("head", head(name, origin, &scope)), ("payload", "[]".into())];
            let e = event("7-0", fields.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
            assert_eq!((e.name.as_str(), e.origin.as_str(), &e.scope), (name, origin, &scope));
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
