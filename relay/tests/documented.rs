//! Paths relay/PROTOCOL.md documents that no other test ran (issue 23): the
//! hello deadline and a second hello, a bad pattern, a name over 1,024
//! bytes, the 4008 of a reader that fell behind the retained log (not the
//! full queue), 1001 after the queued frames, and two `--stream-prefix`es
//! on one Redis. Each shows the path working before it checks the refusal.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// Publishes `n` events named `name` (payload `payload(i)`), up to 200 in
/// flight, and returns the acks in order; panics on any refusal.
async fn publish_many(c: &mut Client, n: usize, name: &str, payload: impl Fn(usize) -> Value) -> Vec<Value> {
    let mut acks = Vec::with_capacity(n);
    for start in (0..n).step_by(200) {
        let end = (start + 200).min(n);
        for i in start..end {
            c.send(json!({"type": "publish", "ref": format!("{name}-{i}"), "name": name, "payload": payload(i)}))
                .await;
        }
        for _ in start..end {
            match c.reply().await {
                Got::Frame(f) if f["type"] == "ack" => acks.push(f),
                other => panic!("expected an ack, got {other:?}"),
            }
        }
    }
    acks
}

async fn metrics(relay: &Relay) -> String {
    relay.http("GET", "/metrics", None, "").await.1
}

#[tokio::test]
async fn a_connection_without_hello_within_10_s_is_closed_4400() {
    let relay = Relay::memory(&[]).await;
    // Positive control: a hello sent at once is welcomed.
    Client::join(&relay.addr, Some(&token(json!({}))), &[]).await;

    let mut silent = Client::connect(&relay.addr).await;
    let t0 = Instant::now();
    let (code, reason) = silent.closed().await;
    assert_eq!((code, reason.as_str()), (4400, "no hello within 10 s"));
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_millis(9_500),
        "closed after {waited:?}, before the deadline"
    );
}

#[tokio::test]
async fn a_second_hello_closes_4400() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    // The connection works: a ping is answered.
    c.sync().await;
    c.send(json!({"type": "hello", "token": t})).await;
    assert_eq!(c.closed().await, (4400, "hello was already received".into()));
}

#[tokio::test]
async fn a_bad_pattern_closes_4400_naming_it_in_hello_and_in_subscribe() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (mut publisher, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    // Positive control: a good pattern, subscribed after hello, delivers.
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    c.send(json!({"type": "subscribe", "patterns": ["audio.*"]})).await;
    c.sync().await;
    publisher.publish("1", "audio.playback.started", playback(1)).await;
    assert_eq!(c.event().await["name"], "audio.playback.started");

    for bad in ["audio.*.started", "*audio", ".*", ""] {
        c.send(json!({"type": "subscribe", "patterns": [bad]})).await;
        let (code, reason) = c.closed().await;
        assert_eq!(code, 4400, "{bad}: {reason}");
        assert!(reason.starts_with(&format!("pattern {bad:?}: ")), "{bad}: {reason}");
        // The same pattern in hello: refused before the welcome.
        let (_again, got) = Client::hello(&relay.addr, json!({"token": t, "subscribe": [bad]})).await;
        match got {
            Got::Closed(4400, reason) => assert!(reason.starts_with(&format!("pattern {bad:?}: ")), "{reason}"),
            other => panic!("{bad} in hello: {other:?}"),
        }
        (c, _) = Client::join(&relay.addr, Some(&t), &["audio.*"]).await;
    }
}

#[tokio::test]
async fn a_name_over_1024_bytes_is_refused_malformed_on_both_doors() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({}));
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (mut watcher, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let name = |len: usize| format!("app.{}", "x".repeat(len - 4));
    // Positive control: exactly 1,024 bytes is a name.
    let ack = c.publish("at", &name(1024), json!({})).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(watcher.event().await["name"], name(1024));

    let refused = c.publish("over", &name(1025), json!({})).await;
    assert_eq!(refused["kind"], "malformed", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("1024"), "{refused}");
    let body = json!([{"name": name(1024), "payload": {}}, {"name": name(1025), "payload": {}}]).to_string();
    let (status, answers) = relay.http("POST", "/v1/events", Some(&t), &body).await;
    assert_eq!(status, 200, "{answers}");
    let answers: Value = serde_json::from_str(&answers).unwrap();
    assert!(answers[0]["offset"].is_string(), "{answers}");
    assert_eq!(answers[1]["refused"]["kind"], "malformed", "{answers}");
    // Only the two 1,024-byte names reached the watcher.
    assert_eq!(watcher.event().await["name"], name(1024));
    watcher.quiet().await;
}

#[tokio::test]
async fn a_resumed_reader_that_falls_behind_the_retained_log_is_closed_4008_not_for_its_queue() {
    // 400 events of 48 KiB (19 MiB) are more than the socket buffers hold,
    // so a reader that resumes from before them and does not read stays in
    // the middle of its replay.
    let relay = Relay::memory(&["--retain", "500", "--queue", "16", "--rate", "1000000"]).await;
    let t = token(json!({}));
    let (mut publisher, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (_, welcome) = Client::join(&relay.addr, Some(&t), &[]).await;
    let resume =
        json!({"token": t, "subscribe": ["*"], "resume": {"epoch": welcome["epoch"], "offset": welcome["offset"]}});
    let blob = "x".repeat(48 * 1024);
    let big = publish_many(&mut publisher, 400, "app.blob.added", |i| json!({"i": i, "blob": blob})).await;

    // Positive control: a reader resuming from there, reading, gets all 400.
    let (mut reader, got) = Client::hello(&relay.addr, resume.clone()).await;
    assert!(matches!(&got, Got::Frame(w) if w["recovered"] == true), "{got:?}");
    for ack in &big {
        assert_eq!(reader.event().await["offset"], ack["offset"]);
    }
    reader.quiet().await;

    // The same resume, not read while 600 more events trim the log past it.
    let (mut stalled, got) = Client::hello(&relay.addr, resume).await;
    assert!(matches!(&got, Got::Frame(w) if w["recovered"] == true), "{got:?}");
    publish_many(&mut publisher, 600, "app.tick.added", |i| json!({"i": i})).await;
    let lagging = metric(&metrics(&relay).await, "kaiwa_relay_lagging_closes_total");
    let mut received = 0;
    let (code, reason) = loop {
        match stalled.recv().await {
            Got::Frame(f) if f["type"] == "event" => {
                // What it got before the close is the replay, in order, no gap.
                assert_eq!(f["offset"], big[received]["offset"], "event {received}");
                received += 1;
            }
            Got::Closed(code, reason) => break (code, reason),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        (code, reason.as_str()),
        (4008, "lagging past the retained log: resume"),
        "after {received} events"
    );
    assert!(received < big.len(), "the replay was not cut: {received}");
    let after = metric(&metrics(&relay).await, "kaiwa_relay_lagging_closes_total");
    assert_eq!(after, lagging + 1.0, "counted as a lagging close");
}

#[tokio::test]
async fn sigterm_sends_the_queued_frames_then_1001() {
    // 200 events of 48 KiB (9.4 MiB): more than the socket buffers hold, so
    // most wait in the relay's queue when it is told to stop.
    let mut relay = Relay::memory(&["--rate", "1000000"]).await;
    let t = token(json!({}));
    let (mut slow, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let (mut publisher, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let blob = "x".repeat(48 * 1024);
    let acks = publish_many(&mut publisher, 200, "app.blob.added", |i| json!({"i": i, "blob": blob})).await;
    // Every one is in the slow reader's queue (counted as it is queued).
    let deadline = Instant::now() + WAIT;
    while metric(&metrics(&relay).await, "kaiwa_relay_events_out_total") < 200.0 {
        assert!(Instant::now() < deadline, "the events never reached the queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopping = tokio::spawn(async move { relay.terminate().await });
    for (i, ack) in acks.iter().enumerate() {
        match slow.recv().await {
            Got::Frame(f) => assert_eq!(f["offset"], ack["offset"], "event {i}"),
            other => panic!("event {i} of 200: {other:?}"),
        }
    }
    assert_eq!(slow.closed().await, (1001, "going away: reconnect".into()));
    assert!(stopping.await.unwrap().success());
    assert!(slow.events.is_empty());
}

#[tokio::test]
async fn relays_with_different_stream_prefixes_on_one_redis_are_isolated() {
    let redis = Redis::start("prefixes", false).await;
    let a1 = Relay::redis(&redis, &["--stream-prefix", "area-a"]).await;
    let a2 = Relay::redis(&redis, &["--stream-prefix", "area-a"]).await;
    let b = Relay::redis(&redis, &["--stream-prefix", "area-b"]).await;
    let t = token(json!({}));
    let (mut on_a1, _) = Client::join(&a1.addr, Some(&t), &["*"]).await;
    let (mut on_a2, wa) = Client::join(&a2.addr, Some(&t), &["*"]).await;
    let (mut on_b, wb) = Client::join(&b.addr, Some(&t), &["*"]).await;
    assert_ne!(wa["epoch"], wb["epoch"], "each prefix has its own epoch");

    // Positive control: the same prefix is one bus across relays.
    on_a1.publish("a", "audio.playback.started", playback(1)).await;
    assert_eq!(on_a2.event().await["payload"], playback(1));
    // Another prefix sees none of it, and the other way round.
    on_b.quiet().await;
    // Joined before the publishes: one that joins after an ack may still get
    // that event from its relay's reader.
    let (mut b_watch, _) = Client::join(&b.addr, Some(&t), &["*"]).await;
    on_b.publish("b", "audio.playback.started", playback(2)).await;
    on_b.publish("b2", "audio.playback.started", playback(3)).await;
    assert_eq!(b_watch.event().await["payload"], playback(2));
    assert_eq!(b_watch.event().await["payload"], playback(3));
    on_a1.quiet().await;
    on_a2.quiet().await;
    // Refs too: the same ref under the other prefix is a new event.
    let again = on_b.publish("a", "audio.playback.started", playback(4)).await;
    assert_eq!(again["type"], "ack", "{again}");
    assert_eq!(b_watch.event().await["payload"], playback(4));
    assert_eq!(redis.cli(None, &["XLEN", "{area-a}:events"]).await.trim(), "1");
    assert_eq!(redis.cli(None, &["XLEN", "{area-b}:events"]).await.trim(), "3");
}
