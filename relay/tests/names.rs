//! The event-name rule is the bus's (`kaiwa_bus::core::names`): the relay
//! refuses what the bus refuses, names with control or invisible characters
//! included (`auth.user\u{200B}.login` would look exactly like
//! `auth.user.login` in every list), over WebSocket and HTTP alike.

mod common;

use common::*;
use serde_json::json;

/// Names that render like `auth.user.login` or `auth.user.logout`.
const LOOK_ALIKES: [&str; 6] = [
    "auth.user\u{200B}.login",
    "auth.user.login\u{200D}",
    "auth.user.\u{202E}nigol\u{202C}",
    "\u{FEFF}auth.user.login",
    "auth.user.log\u{2060}out",
    "auth.user.login\u{7}",
];

#[tokio::test]
async fn names_with_control_or_invisible_characters_are_refused_on_both_paths() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"publish": ["*"]}));
    let (mut watcher, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let (mut a, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    // The path works: a plain name, and one with spaces and accents, go through.
    assert_eq!(a.publish("ok", "auth.user.login", login("u1")).await["type"], "ack");
    assert_eq!(a.publish("ok2", "café.commande passée", json!({})).await["type"], "ack");
    assert_eq!(watcher.event().await["name"], "auth.user.login");
    assert_eq!(watcher.event().await["name"], "café.commande passée");
    for (i, name) in LOOK_ALIKES.iter().enumerate() {
        let refused = a.publish(&format!("r{i}"), name, login("u1")).await;
        assert_eq!(refused["type"], "refused", "{name:?}: {refused}");
        assert_eq!(refused["kind"], "malformed", "{name:?}: {refused}");
        let message = refused["message"].as_str().unwrap();
        assert!(message.contains("control or invisible characters"), "{message}");
        assert!(message.contains("U+"), "the message names the character: {message}");
    }
    // Over HTTP, each item is refused the same way; the plain one is stored.
    let items: Vec<_> = LOOK_ALIKES
        .iter()
        .map(|name| json!({"name": name, "payload": login("u1")}))
        .chain([json!({"name": "auth.user.login", "payload": login("u1")})])
        .collect();
    let (status, body) = relay
        .http("POST", "/v1/events", Some(&t), &json!(items).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    let results: Vec<serde_json::Value> = serde_json::from_str(&body).expect(&body);
    for result in &results[..LOOK_ALIKES.len()] {
        assert_eq!(result["refused"]["kind"], "malformed", "{result}");
    }
    assert!(results[LOOK_ALIKES.len()]["offset"].is_string(), "{body}");
    // Nothing of the look-alikes reached the subscriber: only the plain one.
    assert_eq!(watcher.event().await["name"], "auth.user.login");
    watcher.quiet().await;
}

#[tokio::test]
async fn a_subscription_pattern_with_an_invisible_character_is_malformed() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (_ok, welcome) = Client::join(&relay.addr, Some(&t), &["auth.*"]).await;
    assert_eq!(welcome["type"], "welcome");
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    c.send(json!({"type": "subscribe", "patterns": ["auth\u{200B}.*"]}))
        .await;
    let (code, reason) = c.closed().await;
    assert_eq!(code, 4400, "{reason}");
    // The close reason is cut to 123 bytes; it names the character first.
    assert!(reason.contains("200B") && reason.contains("invisible"), "{reason}");
}
