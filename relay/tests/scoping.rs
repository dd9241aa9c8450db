//! Who receives what, on both engines from one suite (every scenario runs
//! as `<scenario>::memory` and `<scenario>::redis`): an event's audience
//! comes from its schema (`'user'` by default, `'all'`, `'group'`), the
//! same rule whether the event comes live, through the Redis reader, or
//! from the log on a resume.
//!
//! A negative check ("bob does not get alice's event") is made with a
//! marker: a public event published after the private one, by the same
//! connection (so stored after it). Events arrive in offset order, so when
//! the marker is bob's next event, the private one was not delivered to him.

mod common;

use common::*;
use serde_json::{json, Value};

/// An app's events as `defineEvents` writes them (`JSON.stringify(events.schemas)`).
const SCHEMAS: &str = r#"[
  {"name":"app.notice.posted","version":"1.0.0","description":"A maintenance notice","audience":"all","payload":{"text":"string"}},
  {"name":"room.message.sent","version":"1.0.0","description":"","audience":"group","payload":{"groupId":"string","text":"string"}},
  {"name":"cart.item.added","version":"1.0.0","description":"","payload":{"itemId":"string"}}
]"#;

async fn start(engine: Engine, name: &str) -> OnEngine {
    let file = scratch("scoping").join(format!("{name}-{engine:?}.json"));
    std::fs::write(&file, SCHEMAS).unwrap();
    OnEngine::start(engine, name, &["--schemas", file.to_str().unwrap()]).await
}

/// A connection of `claims` (merged over `{sub: u1, publish: ["*"]}`) subscribed to everything.
async fn join(relay: &Relay, claims: Value) -> Client {
    Client::join(&relay.addr, Some(&token(claims)), &["*"]).await.0
}

fn notice(text: &str) -> Value {
    json!({"text": text})
}

fn cart(item: &str) -> Value {
    json!({"itemId": item})
}

/// Publishes and expects an ack.
async fn stored(c: &mut Client, name: &str, payload: Value) -> Value {
    let r = c.publish(&format!("{name}-{payload}"), name, payload).await;
    assert_eq!(r["type"], "ack", "{r}");
    r
}

/// Publishes and expects a `forbidden` refusal; its message.
async fn forbidden(c: &mut Client, name: &str, payload: Value) -> String {
    let r = c.publish(&format!("{name}-{payload}"), name, payload).await;
    assert_eq!(r["kind"], "forbidden", "{r}");
    r["message"].as_str().unwrap().to_string()
}

/// The next event's name and payload.
async fn next(c: &mut Client) -> (String, Value) {
    let e = c.event().await;
    (e["name"].as_str().unwrap().to_string(), e["payload"].clone())
}

/// Publishes a public marker from `from` and checks it is the next event
/// of every one of `others`: nothing published before it reached them.
async fn nothing_before_marker(from: &mut Client, others: &mut [&mut Client], tag: &str) {
    stored(from, "app.notice.posted", notice(tag)).await;
    for c in others.iter_mut() {
        assert_eq!(next(c).await, ("app.notice.posted".to_string(), notice(tag)));
    }
}

macro_rules! on_both_engines {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn memory() {
                super::$scenario(super::Engine::Memory).await
            }
            #[tokio::test]
            async fn redis() {
                super::$scenario(super::Engine::Redis).await
            }
        }
    )*};
}

on_both_engines!(
    private_by_default,
    admins_publish_for_one_user,
    an_empty_user_id_is_a_user_like_any_other,
    public_events_reach_everyone_subscribed,
    group_events_reach_their_members,
    a_resume_replays_only_what_the_connection_may_see,
);

/// `'user'` is the default: a schema without an audience, the catalog's
/// events, and events without a schema (development mode), with or
/// without a `userId`, reach only the publisher's other connections (and
/// admin ones).
async fn private_by_default(engine: Engine) {
    let on = start(engine, "private").await;
    let relay = &on.relay;
    let mut alice = join(relay, json!({"sub": "alice"})).await;
    let mut alice_phone = join(relay, json!({"sub": "alice"})).await;
    let mut bob = join(relay, json!({"sub": "bob"})).await;
    let mut admin = join(relay, json!({"sub": "ops", "admin": true})).await;
    let private = [
        ("cart.item.added", cart("book")),
        ("audio.playback.started", playback(1)),
        ("auth.user.login", login("alice")),
        ("app.custom.thing", json!({"any": 1})),
    ];
    for (name, payload) in &private {
        stored(&mut alice, name, payload.clone()).await;
        // The positive control: her other connection and the admin get it.
        assert_eq!(next(&mut alice_phone).await, (name.to_string(), payload.clone()));
        assert_eq!(next(&mut admin).await, (name.to_string(), payload.clone()));
    }
    nothing_before_marker(
        &mut alice,
        &mut [&mut bob, &mut alice_phone, &mut admin],
        "after private",
    )
    .await;
    alice.quiet().await;
    let welcome = Client::join(&relay.addr, Some(&token(json!({"sub": "alice"}))), &[])
        .await
        .1;
    assert_eq!(welcome["protocol"], 2, "{welcome}");
}

/// An admin (a server) publishes for the user its payload's `userId`
/// names, over WebSocket and HTTP; without one, the event is its own. A
/// non-admin may not name another user.
async fn admins_publish_for_one_user(engine: Engine) {
    let on = start(engine, "admins").await;
    let relay = &on.relay;
    let mut alice = join(relay, json!({"sub": "alice"})).await;
    let mut bob = join(relay, json!({"sub": "bob"})).await;
    let mut server = join(relay, json!({"sub": "billing", "admin": true})).await;
    let mut server_watch = join(relay, json!({"sub": "billing", "admin": true})).await;
    stored(&mut server, "auth.user.login", login("bob")).await;
    assert_eq!(next(&mut bob).await.1, login("bob"));
    assert_eq!(next(&mut server_watch).await.1, login("bob"));
    let t = token(json!({"sub": "billing", "admin": true}));
    let body = json!([{"name": "auth.user.logout", "payload": {"userId": "bob", "timestamp": iso()}}]);
    let (status, text) = relay.http("POST", "/v1/events", Some(&t), &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(next(&mut bob).await.0, "auth.user.logout");
    assert_eq!(next(&mut server_watch).await.0, "auth.user.logout");
    // Without a userId: the admin's own user.
    stored(&mut server, "cart.item.added", cart("for billing")).await;
    assert_eq!(next(&mut server_watch).await.1, cart("for billing"));
    nothing_before_marker(
        &mut server,
        &mut [&mut alice, &mut bob, &mut server_watch],
        "after admin",
    )
    .await;
    let message = forbidden(&mut alice, "auth.user.login", login("bob")).await;
    assert!(message.contains("\"bob\""), "{message}");
    forbidden(&mut alice, "cart.item.added", json!({"itemId": "x", "userId": "bob"})).await;
}

/// Issue 19, item 5: `userId: ""` was private on the memory engine and
/// public on Redis (the stored user part read back as none). It is one
/// user id like any other: only a token whose `sub` is `""` gets it.
async fn an_empty_user_id_is_a_user_like_any_other(engine: Engine) {
    let on = start(engine, "empty-user").await;
    let relay = &on.relay;
    let mut alice = join(relay, json!({"sub": "alice"})).await;
    let mut nobody = join(relay, json!({"sub": ""})).await;
    let mut admin = join(relay, json!({"sub": "ops", "admin": true})).await;
    stored(&mut admin, "auth.user.login", login("")).await;
    assert_eq!(next(&mut nobody).await.1, login(""), "the user \"\" gets it");
    nothing_before_marker(&mut admin, &mut [&mut alice, &mut nobody], "after empty").await;
    // A connection of the user "" publishes as that user, and only it
    // names it; alice may not.
    stored(&mut nobody, "cart.item.added", json!({"itemId": "x", "userId": ""})).await;
    nothing_before_marker(&mut nobody, &mut [&mut alice], "after nobody's").await;
    forbidden(&mut alice, "auth.user.login", login("")).await;
}

/// `'all'`: every connection subscribed to the name, whoever published it;
/// the no-echo rule and the `userId` rule still hold.
async fn public_events_reach_everyone_subscribed(engine: Engine) {
    let on = start(engine, "public").await;
    let relay = &on.relay;
    let mut alice = join(relay, json!({"sub": "alice"})).await;
    let mut alice_phone = join(relay, json!({"sub": "alice"})).await;
    let mut bob = join(relay, json!({"sub": "bob"})).await;
    let (mut carts_only, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "carol"}))), &["cart.*"]).await;
    stored(&mut alice, "app.notice.posted", notice("down at 2am")).await;
    for c in [&mut alice_phone, &mut bob] {
        assert_eq!(next(c).await, ("app.notice.posted".to_string(), notice("down at 2am")));
    }
    alice.quiet().await;
    carts_only.quiet().await;
    let message = forbidden(&mut alice, "app.notice.posted", json!({"text": "x", "userId": "bob"})).await;
    assert!(message.contains("only admin tokens"), "{message}");
}

/// `'group'`: the connections whose token lists the payload's `groupId`;
/// only members (and admins) may publish to a group.
async fn group_events_reach_their_members(engine: Engine) {
    let on = start(engine, "groups").await;
    let relay = &on.relay;
    let mut carol = join(relay, json!({"sub": "carol", "groups": ["r1"]})).await;
    let mut dave = join(relay, json!({"sub": "dave", "groups": ["r1", "r2"]})).await;
    let mut erin = join(relay, json!({"sub": "erin", "groups": ["r2"]})).await;
    let mut admin = join(relay, json!({"sub": "ops", "admin": true})).await;
    let to = |group: &str, text: &str| json!({"groupId": group, "text": text});
    stored(&mut carol, "room.message.sent", to("r1", "hi r1")).await;
    assert_eq!(next(&mut dave).await.1, to("r1", "hi r1"));
    assert_eq!(next(&mut admin).await.1, to("r1", "hi r1"));
    nothing_before_marker(&mut carol, &mut [&mut erin, &mut dave, &mut admin], "after r1").await;
    let message = forbidden(&mut carol, "room.message.sent", to("r2", "sneaking in")).await;
    assert!(message.contains("\"r2\""), "{message}");
    stored(&mut admin, "room.message.sent", to("r2", "from ops")).await;
    assert_eq!(next(&mut erin).await.1, to("r2", "from ops"));
    assert_eq!(next(&mut dave).await.1, to("r2", "from ops"));
    nothing_before_marker(&mut admin, &mut [&mut carol, &mut erin, &mut dave], "after r2").await;
    // A payload without its groupId is refused by the schema, before any routing.
    let r = carol
        .publish("no-group", "room.message.sent", json!({"text": "?"}))
        .await;
    assert_eq!(
        (r["kind"].as_str(), r["issues"][0]["path"].as_str()),
        (Some("validation"), Some("groupId")),
        "{r}"
    );
}

/// A resume replays from the log (Redis: `XRANGE`, not the reader), with
/// the same rule: bob gets the public event and his own, not alice's.
async fn a_resume_replays_only_what_the_connection_may_see(engine: Engine) {
    let on = start(engine, "resume").await;
    let relay = &on.relay;
    let bob_token = token(json!({"sub": "bob", "groups": ["r1"]}));
    let (bob, welcome) = Client::join(&relay.addr, Some(&bob_token), &["*"]).await;
    drop(bob);
    let mut alice = join(relay, json!({"sub": "alice", "groups": ["r1", "r2"]})).await;
    let mut admin = join(relay, json!({"sub": "ops", "admin": true})).await;
    stored(&mut alice, "cart.item.added", cart("alice's")).await;
    stored(
        &mut alice,
        "room.message.sent",
        json!({"groupId": "r2", "text": "r2 only"}),
    )
    .await;
    stored(&mut admin, "auth.user.login", login("bob")).await;
    stored(&mut alice, "room.message.sent", json!({"groupId": "r1", "text": "r1"})).await;
    stored(&mut alice, "app.notice.posted", notice("for all")).await;
    let resume = json!({"token": bob_token, "subscribe": ["*"], "resume": {"epoch": welcome["epoch"], "offset": welcome["offset"]}});
    let (mut bob, got) = Client::hello(&relay.addr, resume).await;
    assert!(matches!(&got, Got::Frame(w) if w["recovered"] == true), "{got:?}");
    let mut names = Vec::new();
    for _ in 0..3 {
        names.push(next(&mut bob).await.0);
    }
    assert_eq!(names, ["auth.user.login", "room.message.sent", "app.notice.posted"]);
    bob.quiet().await;
}
