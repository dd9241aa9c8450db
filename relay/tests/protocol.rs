//! The protocol against a real relay process with the memory engine: frames,
//! fan-out, patterns, validation, publish claims, idempotency, limits
//! (scoping is in tests/scoping.rs, on both engines).

mod common;

use common::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn publish_is_acked_fanned_out_and_not_echoed() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (mut a, welcome) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    assert_eq!(welcome["user"], "u1");
    assert_eq!(welcome["recovered"], false);
    // What the relay accepts: --max-payload, the largest frame it reads, the ref cap.
    assert_eq!(
        welcome["limits"],
        json!({"payload": 65_536, "frame": 2 * 65_536 + 65_536, "ref": 256})
    );
    let (mut b, _) = Client::join(&relay.addr, Some(&t), &["audio.*"]).await;
    let ack = a.publish("r1", "audio.playback.started", playback(1)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["ref"], "r1");
    let event = b.event().await;
    assert_eq!(event["offset"], ack["offset"]);
    assert_eq!(event["name"], "audio.playback.started");
    assert_eq!(event["payload"], playback(1));
    let ts = event["timestamp"].as_str().unwrap();
    assert!(ts.len() == 24 && ts.ends_with('Z'), "{ts}");
    a.quiet().await;
}

#[tokio::test]
async fn patterns_prefix_exact_all_and_unsubscribe() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (mut publisher, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (mut exact, _) = Client::join(&relay.addr, Some(&t), &["audio.playback.started"]).await;
    let (mut prefix, _) = Client::join(&relay.addr, Some(&t), &["audio.recording.*"]).await;
    let (mut none, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let stopped = json!({"sessionId": "s", "duration": 1, "audioSize": 2, "timestamp": iso()});
    publisher.publish("1", "audio.recording.stopped", stopped.clone()).await;
    publisher.publish("2", "audio.playback.started", playback(2)).await;
    assert_eq!(exact.event().await["name"], "audio.playback.started");
    assert_eq!(prefix.event().await["name"], "audio.recording.stopped");
    exact.quiet().await;
    prefix.quiet().await;
    none.quiet().await;
    none.send(json!({"type": "subscribe", "patterns": ["*"]})).await;
    prefix
        .send(json!({"type": "unsubscribe", "patterns": ["audio.recording.*", "never.subscribed"]}))
        .await;
    none.sync().await;
    prefix.sync().await;
    publisher.publish("3", "audio.recording.stopped", stopped).await;
    assert_eq!(none.event().await["name"], "audio.recording.stopped");
    prefix.quiet().await;
}

#[tokio::test]
async fn validation_refusals_carry_issues_and_nothing_is_stored() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"admin": true}));
    let (mut a, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (mut watcher, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let bad = json!({"userId": 7, "email": "a@b.c", "timestamp": "not a date"});
    let refused = a.publish("v1", "auth.user.login", bad).await;
    assert_eq!(refused["type"], "refused");
    assert_eq!(refused["ref"], "v1");
    assert_eq!(refused["kind"], "validation");
    assert_eq!(
        refused["issues"],
        json!([
            {"path": "userId", "expected": "string", "received": "number"},
            {"path": "tier", "expected": "string", "received": "undefined"},
            {"path": "timestamp", "expected": "Date", "received": "Invalid Date"}
        ])
    );
    assert!(refused["message"].as_str().unwrap().contains("userId"), "{refused}");
    let not_object = a.publish("v2", "auth.user.login", json!([1])).await;
    assert_eq!(not_object["issues"][0]["expected"], "object");
    // Development mode lets an unknown event through; a date must be a date.
    assert_eq!(
        a.publish("v3", "app.custom.thing", json!({"any": 1})).await["type"],
        "ack"
    );
    assert_eq!(a.publish("v4", "auth.user.login", login("u9")).await["type"], "ack");
    assert_eq!(watcher.event().await["name"], "app.custom.thing");
    assert_eq!(watcher.event().await["name"], "auth.user.login");
    watcher.quiet().await;

    let strict = Relay::memory(&["--mode", "strict"]).await;
    let (mut s, _) = Client::join(&strict.addr, Some(&t), &[]).await;
    let unknown = s.publish("u1", "app.custom.thing", json!({})).await;
    assert_eq!(unknown["kind"], "unknown", "{unknown}");
    assert_eq!(s.publish("u2", "NotConventional", json!({})).await["kind"], "unknown");
    assert_eq!(s.publish("u3", "a.*", json!({})).await["kind"], "malformed");
}

#[tokio::test]
async fn schemas_file_adds_events() {
    let dir = scratch("schemas-file");
    let file = dir.join("schemas.json");
    std::fs::write(
        &file,
        r#"[{"name":"app.item.added","version":"1.0.0","payload":{"id":"string","at":"Date"}}]"#,
    )
    .unwrap();
    let relay = Relay::memory(&["--mode", "strict", "--schemas", file.to_str().unwrap()]).await;
    let (mut a, _) = Client::join(&relay.addr, Some(&token(json!({}))), &[]).await;
    assert_eq!(
        a.publish("1", "app.item.added", json!({"id": "x", "at": iso()})).await["type"],
        "ack"
    );
    let r = a.publish("2", "app.item.added", json!({"id": "x", "at": 5})).await;
    assert_eq!(r["issues"][0]["path"], "at", "{r}");
}

/// Who receives what (audiences, admins, forged `userId`s) is in
/// tests/scoping.rs, on both engines; here, what a token may publish.
#[tokio::test]
async fn the_publish_claim_limits_what_a_token_publishes() {
    let relay = Relay::memory(&[]).await;
    // No publish claim: nothing may be published.
    let (mut reader, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "r", "publish": []}))), &[]).await;
    assert_eq!(
        reader.publish("4", "audio.playback.started", playback(4)).await["kind"],
        "forbidden"
    );
    let (mut narrow, _) = Client::join(
        &relay.addr,
        Some(&token(json!({"sub": "n", "publish": ["audio.*"]}))),
        &[],
    )
    .await;
    assert_eq!(
        narrow.publish("5", "audio.playback.started", playback(5)).await["type"],
        "ack"
    );
    assert_eq!(
        narrow.publish("6", "auth.user.login", login("n")).await["kind"],
        "forbidden"
    );
}

#[tokio::test]
async fn connection_level_auth_failures_close_with_4001_or_4003() {
    let relay = Relay::memory(&[]).await;
    let closed = |got: Got| match got {
        Got::Closed(code, reason) => (code, reason),
        other => panic!("expected a close, got {other:?}"),
    };
    let (_, got) = Client::hello(&relay.addr, json!({"token": null})).await;
    assert_eq!(closed(got), (4001, "a token is required".into()));
    let (_, got) = Client::hello(&relay.addr, json!({"token": token_with("wrong", json!({}))})).await;
    let (code, reason) = closed(got);
    assert_eq!(code, 4001);
    assert!(reason.contains("signature"), "{reason}");
    let (_, got) = Client::hello(&relay.addr, json!({"token": token(json!({"exp": now_s() - 10}))})).await;
    assert_eq!(closed(got), (4001, "token expired".into()));
    let narrow = token(json!({"subscribe": ["audio.*"]}));
    let (_, got) = Client::hello(&relay.addr, json!({"token": narrow, "subscribe": ["auth.*"]})).await;
    assert_eq!(closed(got).0, 4003);
    let (mut c, _) = Client::join(&relay.addr, Some(&narrow), &["audio.playback.*"]).await;
    c.send(json!({"type": "subscribe", "patterns": ["*"]})).await;
    assert_eq!(c.closed().await.0, 4003);
}

#[tokio::test]
async fn tokens_expire_on_open_connections_unless_refreshed() {
    let relay = Relay::memory(&[]).await;
    let soon = token(json!({"exp": now_s() + 2}));
    let (mut refreshed, _) = Client::join(&relay.addr, Some(&soon), &["*"]).await;
    let (mut lapsed, _) = Client::join(&relay.addr, Some(&soon), &["*"]).await;
    refreshed.send(json!({"type": "auth", "token": token(json!({}))})).await;
    refreshed.sync().await;
    assert_eq!(lapsed.closed().await, (4001, "token expired".into()));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    refreshed.quiet().await;
    // A refresh for another user is refused.
    refreshed
        .send(json!({"type": "auth", "token": token(json!({"sub": "someone-else"}))}))
        .await;
    assert_eq!(refreshed.closed().await.0, 4001);
}

#[tokio::test]
async fn malformed_binary_unknown_and_oversize_frames() {
    let relay = Relay::memory(&["--max-payload", "1000"]).await;
    let t = token(json!({}));
    let expect_4400 = |(code, reason): (u16, String), needle: &str| {
        assert_eq!(code, 4400, "{reason}");
        assert!(reason.contains(needle), "{reason:?} should mention {needle:?}");
    };
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    c.send_raw(Message::Text("{not json".into())).await;
    expect_4400(c.closed().await, "malformed");
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    c.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    expect_4400(c.closed().await, "binary");
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    c.send(json!({"type": "teleport"})).await;
    expect_4400(c.closed().await, "teleport");
    let mut c = Client::connect(&relay.addr).await;
    c.send(json!({"type": "ping"})).await;
    expect_4400(c.closed().await, "hello");
    // A payload over --max-payload is refused; the connection stays usable.
    let (mut c, welcome) = Client::join(&relay.addr, Some(&t), &[]).await;
    assert_eq!(
        welcome["limits"],
        json!({"payload": 1000, "frame": 2000 + 65_536, "ref": 256})
    );
    let big = json!({"blob": "x".repeat(2000)});
    let r = c.publish("big", "app.blob.added", big).await;
    assert_eq!(r["kind"], "too-large", "{r}");
    let r = c.publish("no-name", "", json!({})).await;
    assert_eq!(r["kind"], "malformed", "{r}");
    c.send(json!({"type": "publish", "ref": "x"})).await;
    assert_eq!(
        c.reply().await,
        Got::Frame(
            json!({"type": "refused", "ref": "x", "kind": "malformed", "message": "a publish needs a string name and a payload", "issues": []})
        )
    );
    c.sync().await;
    // A frame beyond anything the relay reads closes with 1009.
    c.send(json!({"type": "publish", "ref": "huge", "name": "a.b", "payload": {"blob": "x".repeat(100_000)}}))
        .await;
    assert_eq!(c.closed().await.0, 1009);
}

#[tokio::test]
async fn ten_thousand_patterns_and_no_more() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (mut publisher, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let patterns: Vec<String> = (0..10_000).map(|i| format!("app.p{i}.*")).collect();
    c.send(json!({"type": "subscribe", "patterns": patterns})).await;
    c.sync().await;
    publisher.publish("1", "app.p9999.done", json!({})).await;
    publisher.publish("2", "app.nope.done", json!({})).await;
    assert_eq!(c.event().await["name"], "app.p9999.done");
    c.quiet().await;
    c.send(json!({"type": "subscribe", "patterns": ["one.more.*"]})).await;
    let (code, reason) = c.closed().await;
    assert_eq!(code, 4400);
    assert!(reason.contains("10000"), "{reason}");
}

#[tokio::test]
async fn idempotent_ref_is_stored_once_per_user() {
    let relay = Relay::memory(&[]).await;
    let (mut a, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "u1"}))), &[]).await;
    let (mut watcher, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "w", "admin": true}))), &["*"]).await;
    let first = a.publish("same", "audio.playback.started", playback(1)).await;
    let again = a.publish("same", "audio.playback.started", playback(1)).await;
    assert_eq!(first["offset"], again["offset"]);
    // The same ref from a new connection of the same user: still the first offset.
    let (mut a2, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "u1"}))), &[]).await;
    assert_eq!(
        a2.publish("same", "audio.playback.started", playback(1)).await["offset"],
        first["offset"]
    );
    // Another user's ref is another event.
    let (mut b, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "u2"}))), &[]).await;
    assert_ne!(
        b.publish("same", "audio.playback.started", playback(2)).await["offset"],
        first["offset"]
    );
    assert_eq!(seq(&watcher.event().await), 1);
    assert_eq!(seq(&watcher.event().await), 2);
    watcher.quiet().await;
}

#[tokio::test]
async fn a_rate_refusal_holds_the_later_publishes_until_its_ref_comes_again() {
    let relay = Relay::memory(&["--rate", "2"]).await;
    let (mut a, _) = Client::join(&relay.addr, Some(&token(json!({}))), &[]).await;
    let kind = |reply: Value| reply["kind"].as_str().unwrap_or("ack").to_string();
    let mut kinds = Vec::new();
    for r in ["1", "2", "3", "4"] {
        kinds.push(kind(a.publish(r, "audio.playback.started", playback(1)).await));
    }
    assert_eq!(kinds, ["ack", "ack", "rate", "rate"]);
    // The bucket is full again (two publishes): "4" would still be stored
    // before "3", so it is refused until "3" comes again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        kind(a.publish("4", "audio.playback.started", playback(4)).await),
        "rate"
    );
    assert_eq!(kind(a.publish("3", "audio.playback.started", playback(3)).await), "ack");
    assert_eq!(kind(a.publish("4", "audio.playback.started", playback(4)).await), "ack");
}
