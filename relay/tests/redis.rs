//! The Redis engine against a real `redis-server` started here: relays
//! sharing one Redis, `kill -9` of a relay mid-burst, Redis restarted
//! mid-run, idempotency across relays. Trimming and resume are tested on
//! both engines (resume.rs, conformance.rs).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test]
async fn two_relays_share_one_redis() {
    let redis = Redis::start("two", false).await;
    let a = Relay::redis(&redis, &[]).await;
    let b = Relay::redis(&redis, &[]).await;
    let t = token(json!({"sub": "u1"}));
    let (mut on_a, wa) = Client::join(&a.addr, Some(&t), &["*"]).await;
    let (mut on_b, wb) = Client::join(&b.addr, Some(&t), &["*"]).await;
    assert_eq!(wa["epoch"], wb["epoch"], "the epoch lives in Redis");
    let ack = on_a.publish("r1", "audio.playback.started", playback(1)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let event = on_b.event().await;
    assert_eq!(event["offset"], ack["offset"]);
    assert_eq!(event["payload"], playback(1));
    on_a.quiet().await;
    // The same ref through the other relay: the first offset, nothing stored.
    let again = on_b.publish("r1", "audio.playback.started", playback(1)).await;
    assert_eq!(again["offset"], ack["offset"]);
    on_a.quiet().await;
    // Scoping holds across relays.
    let (mut u2, _) = Client::join(&b.addr, Some(&token(json!({"sub": "u2"}))), &["*"]).await;
    on_a.publish("r2", "auth.user.login", login("u1")).await;
    assert_eq!(on_b.event().await["name"], "auth.user.login");
    u2.quiet().await;
    // Any name (spaces allowed, never `*`) and any user survive the stored
    // entry, whose `event` field holds name, origin and user.
    let odd = token(json!({"sub": "u *3* x"}));
    let (mut odd_a, _) = Client::join(&a.addr, Some(&odd), &["*"]).await;
    let (mut odd_b, _) = Client::join(&b.addr, Some(&odd), &["*"]).await;
    let payload = json!({"userId": "u *3* x"});
    let ack = odd_a.publish("r3", "my app.thing happened", payload.clone()).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let got = odd_b.event().await;
    assert_eq!(
        (&got["name"], &got["payload"]),
        (&json!("my app.thing happened"), &payload)
    );
    odd_a.quiet().await;
    u2.quiet().await;
    on_b.quiet().await;
    assert_eq!(a.http("GET", "/healthz", None, "").await.0, 200);
}

#[tokio::test]
async fn kill_9_of_a_relay_mid_burst_loses_nothing() {
    let redis = Redis::start("kill", false).await;
    let mut a = Relay::redis(&redis, &[]).await;
    let b = Relay::redis(&redis, &[]).await;
    let both = vec![a.addr.clone(), b.addr.clone()];
    let mut r1 = Reader::join(&a.addr).await;
    let mut r2 = Reader::join(&a.addr).await;
    let mut r3 = Reader::join(&b.addr).await;
    // One publisher on B, one on A (it moves to B when A dies, retrying its ref).
    let on_b = tokio::spawn(reliable_burst(vec![b.addr.clone()], "b", 0, 600));
    let on_a = tokio::spawn(reliable_burst(both.clone(), "a", 10_000, 300));
    r1.read_until(150, &both).await;
    a.kill().await;
    r1.read_until(900, &both).await;
    r2.read_until(900, &both).await;
    r3.read_until(900, &both).await;
    on_b.await.unwrap();
    on_a.await.unwrap();
    let expected: Vec<u64> = (0..600).chain(10_000..10_300).collect();
    for r in [&mut r1, &mut r2, &mut r3] {
        r.assert_complete(expected.clone());
        r.client.quiet().await;
    }
    assert!(r1.resumes >= 1 && r2.resumes >= 1, "A's readers resumed on B");
}

#[tokio::test]
async fn redis_restarted_mid_run_refuses_then_loses_nothing() {
    let mut redis = Redis::start("restart", true).await;
    let relay = Relay::redis(&redis, &[]).await;
    let mut reader = Reader::join(&relay.addr).await;
    let publishing = tokio::spawn(reliable_burst(vec![relay.addr.clone()], "p", 0, 500));
    reader.read_until(100, &[]).await;
    redis.kill().await;
    // The relay notices within its engine timeout; waited for, not assumed.
    let deadline = tokio::time::Instant::now() + WAIT;
    while relay.http("GET", "/healthz", None, "").await.0 != 503 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "/healthz never said 503 with Redis away"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reader.client.sync().await; // still connected while Redis is away
    redis.restart().await;
    reader.read_until(500, &[]).await;
    let unavailable = publishing.await.unwrap();
    assert!(
        unavailable > 0,
        "publishes during the outage were refused with unavailable"
    );
    reader.assert_complete((0..500).collect());
    assert_eq!(reader.resumes, 0);
    assert_eq!(relay.http("GET", "/healthz", None, "").await.0, 200);
    let metrics = relay.http("GET", "/metrics", None, "").await.1;
    assert!(metric(&metrics, "kaiwa_relay_engine_errors_total") > 0.0);
    // The epoch survived (append-only file): an old offset still resumes.
    let t = token(json!({"sub": "reader", "admin": true}));
    let hello =
        json!({"token": t, "subscribe": ["audio.*"], "resume": {"epoch": reader.epoch, "offset": reader.offsets[449]}});
    let (mut c, w) = Client::try_join(&relay.addr, hello).await.unwrap();
    assert_eq!(w["recovered"], true);
    assert_eq!(seq(&c.event().await), 450);
}

#[tokio::test]
async fn a_redis_that_lost_its_data_gets_a_new_epoch() {
    let mut redis = Redis::start("lost", false).await;
    let relay = Relay::redis(&redis, &[]).await;
    let mut reader = Reader::join(&relay.addr).await;
    reliable_burst(vec![relay.addr.clone()], "l", 0, 10).await;
    reader.read_until(10, &[]).await;
    redis.kill().await;
    redis.restart().await;
    // The next publish recreates the log under a new epoch, and the relay
    // delivers it to connections that stayed.
    reliable_burst(vec![relay.addr.clone()], "m", 10, 5).await;
    reader.read_until(15, &[]).await;
    reader.assert_complete((0..15).collect());
    let t = token(json!({"sub": "reader", "admin": true}));
    let hello =
        json!({"token": t, "subscribe": ["audio.*"], "resume": {"epoch": reader.epoch, "offset": reader.offsets[5]}});
    let (_c, w) = Client::try_join(&relay.addr, hello).await.unwrap();
    assert_eq!(
        w["recovered"], false,
        "the history before the loss is gone: said plainly"
    );
    assert_ne!(w["epoch"], reader.epoch.as_str());
}

#[tokio::test]
async fn pipelined_publishes_are_stored_and_acked_in_order() {
    let redis = Redis::start("pipelined", false).await;
    let relay = Relay::redis(&redis, &[]).await;
    let mut reader = Reader::join(&relay.addr).await;
    let (mut p, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "publisher"}))), &[]).await;
    for i in 0..500 {
        p.send(json!({"type": "publish", "ref": format!("q{i}"), "name": "audio.playback.started", "payload": playback(i)}))
            .await;
    }
    p.send(json!({"type": "ping"})).await;
    for i in 0..500 {
        match p.reply().await {
            Got::Frame(f) => assert_eq!(
                (f["type"].as_str(), f["ref"].as_str()),
                (Some("ack"), Some(&*format!("q{i}")))
            ),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        p.reply().await,
        Got::Frame(json!({"type": "pong"})),
        "pong after every earlier ack"
    );
    reader.read_until(500, &[]).await;
    assert_eq!(
        reader.seen,
        (0..500).collect::<Vec<_>>(),
        "stored in the order published"
    );
}

#[tokio::test]
async fn the_items_of_one_http_request_are_stored_together() {
    let redis = Redis::start("http-batch", false).await;
    let relay = Relay::redis(&redis, &[]).await;
    let t = token(json!({"sub": "u1"}));
    // Warm: the appender's script is loaded and one event stored.
    let one = json!([{"name": "audio.playback.started", "payload": playback(0), "ref": "h0"}]);
    let (status, body) = relay.http("POST", "/v1/events", Some(&t), &one.to_string()).await;
    assert_eq!(status, 200, "{body}");
    redis.cli(None, &["CONFIG", "RESETSTAT"]).await;
    // 50 items, one of them a ref repeated within the request, one a ref
    // stored before it.
    let mut items: Vec<_> = (1..=48)
        .map(|i| json!({"name": "audio.playback.started", "payload": playback(i), "ref": format!("h{i}")}))
        .collect();
    items.push(json!({"name": "audio.playback.started", "payload": playback(7), "ref": "h7"}));
    items.push(json!({"name": "audio.playback.started", "payload": playback(0), "ref": "h0"}));
    let (status, body) = relay
        .http("POST", "/v1/events", Some(&t), &json!(items).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    let answers: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let offsets: Vec<&str> = answers
        .iter()
        .map(|a| a["offset"].as_str().expect("an offset"))
        .collect();
    let parsed: Vec<(u64, u64)> = offsets[..48]
        .iter()
        .map(|o| {
            o.split_once('-')
                .map(|(ms, seq)| (ms.parse().unwrap(), seq.parse().unwrap()))
                .unwrap()
        })
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] < w[1]), "in order: {body}");
    assert_eq!(offsets[48], offsets[6], "the repeated ref gets its first offset");
    let first: serde_json::Value =
        serde_json::from_str(&relay.http("POST", "/v1/events", Some(&t), &one.to_string()).await.1).unwrap();
    assert_eq!(
        offsets[49],
        first[0]["offset"].as_str().unwrap(),
        "the ref stored before"
    );
    assert_eq!(redis.cli(None, &["XLEN", "{kaiwa}:events"]).await, "49");
    // Stored in one batch (not one script call per item, each awaited).
    let stats = redis.cli(None, &["INFO", "commandstats"]).await;
    let calls: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stats}"));
    assert!(calls <= 10, "{calls} script calls for 50 items");
}
