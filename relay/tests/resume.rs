//! Resume, lagging and shutdown against a real relay process (memory
//! engine); the Redis engine's versions are in tests/redis.rs.

mod common;

use common::*;
use serde_json::json;

/// Publishes `n` playback events (sequence numbers `from..from + n`) from its own connection.
pub async fn burst(addr: String, from: u64, n: u64) {
    let (mut p, _) = Client::join(&addr, Some(&token(json!({"sub": "publisher"}))), &[]).await;
    for i in from..from + n {
        let r = p.publish(&format!("b{i}"), "audio.playback.started", playback(i)).await;
        assert_eq!(r["type"], "ack", "{r}");
    }
}

#[tokio::test]
async fn resume_after_a_drop_mid_burst_has_no_gap_and_no_duplicate() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"sub": "reader", "admin": true}));
    let (mut c, welcome) = Client::join(&relay.addr, Some(&t), &["audio.*"]).await;
    let epoch = welcome["epoch"].as_str().unwrap().to_string();
    let total = 600;
    let publishing = tokio::spawn(burst(relay.addr.clone(), 0, total));
    let mut seen = Vec::new();
    let mut last = String::new();
    while seen.len() < 150 {
        let e = c.event().await;
        seen.push(seq(&e));
        last = e["offset"].as_str().unwrap().to_string();
    }
    drop(c); // the connection drops mid-burst, without a close frame
    let (mut c, got) = Client::hello(
        &relay.addr,
        json!({"token": t, "subscribe": ["audio.*"], "resume": {"epoch": epoch, "offset": last}}),
    )
    .await;
    let Got::Frame(welcome) = got else { panic!("{got:?}") };
    assert_eq!(welcome["recovered"], true, "{welcome}");
    while (seen.len() as u64) < total {
        seen.push(seq(&c.event().await));
    }
    publishing.await.unwrap();
    assert_eq!(seen, (0..total).collect::<Vec<_>>());
    c.quiet().await;
}

#[tokio::test]
async fn a_replay_longer_than_the_queue_is_sent_whole() {
    // The replay is read a queue's room at a time; a read that ended while
    // the queue had more room than it asked for used to end the replay there,
    // and the events between it and the live ones were never sent.
    let relay = Relay::memory(&["--queue", "8"]).await;
    // An admin: the publisher's events are private to the publisher (protocol 2).
    let t = token(json!({"sub": "reader", "admin": true}));
    let (_c, welcome) = Client::join(&relay.addr, Some(&t), &["audio.*"]).await;
    let resume = json!({"token": t, "subscribe": ["audio.*"], "resume": {"epoch": welcome["epoch"], "offset": welcome["offset"]}});
    burst(relay.addr.clone(), 0, 50).await;
    let (mut c, got) = Client::hello(&relay.addr, resume).await;
    let Got::Frame(w) = got else { panic!("{got:?}") };
    assert_eq!(w["recovered"], true, "{w}");
    let mut seen = Vec::new();
    while seen.len() < 50 {
        seen.push(seq(&c.event().await));
    }
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    // And the live ones after it.
    burst(relay.addr.clone(), 50, 1).await;
    assert_eq!(seq(&c.event().await), 50);
    c.quiet().await;
}

#[tokio::test]
async fn a_trimmed_offset_or_unknown_epoch_is_not_recovered() {
    for engine in ENGINES {
        let on = OnEngine::start(engine, "trim", &["--retain", "100"]).await;
        let addr = on.relay.addr.clone();
        let mut reader = Reader::join(&addr).await;
        let (epoch, start) = (reader.epoch.clone(), reader.last.clone());
        let t = token(json!({"sub": "reader", "admin": true}));
        let resume = |epoch: &str, offset: &str| json!({"token": t, "subscribe": ["audio.*"], "resume": {"epoch": epoch, "offset": offset}});
        // Five stored, none trimmed: resuming from the start replays all five.
        reliable_burst(vec![addr.clone()], "t", 0, 5).await;
        reader.read_until(5, &[]).await;
        let (mut c, w) = Client::try_join(&addr, resume(&epoch, &start)).await.unwrap();
        assert_eq!(w["recovered"], true, "{engine:?}");
        for i in 0..5 {
            assert_eq!(seq(&c.event().await), i);
        }
        c.quiet().await;
        // 400 of them with `--retain 100`: the first ones are trimmed (Redis
        // trims approximately: it keeps between 100 and 199 here).
        reliable_burst(vec![addr.clone()], "t", 5, 395).await;
        reader.read_until(400, &[]).await;
        for (epoch, offset) in [
            (epoch.as_str(), start.as_str()),
            ("another-epoch", reader.offsets[389].as_str()),
            (epoch.as_str(), "garbage"),
        ] {
            let (mut c, w) = Client::try_join(&addr, resume(epoch, offset)).await.unwrap();
            assert_eq!(w["recovered"], false, "{engine:?} {epoch} {offset}");
            c.quiet().await;
        }
        // From the 390th event: still stored, so recovered with the ten after it.
        let (mut c, w) = Client::try_join(&addr, resume(&epoch, &reader.offsets[389]))
            .await
            .unwrap();
        assert_eq!(w["recovered"], true, "{engine:?}");
        for i in 390..400 {
            assert_eq!(seq(&c.event().await), i);
        }
        c.quiet().await;
    }
}

#[tokio::test]
async fn a_slow_consumer_is_closed_with_4008_and_memory_stays_bounded() {
    let relay = Relay::memory(&["--queue", "64", "--retain", "100", "--rate", "1000000"]).await;
    let t = token(json!({}));
    let (mut slow, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    // Reads one frame per 10 ms, far slower than the publisher below.
    let reading = tokio::spawn(async move {
        let mut events = 0u64;
        loop {
            match slow.recv().await {
                Got::Frame(_) => events += 1,
                Got::Closed(code, reason) => return (events, code, reason),
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    let (mut p, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let blob = "x".repeat(16 * 1024);
    let total = 4000u64;
    let before = relay.rss_kib();
    let mut peak = before;
    for i in 0..total {
        let r = p
            .publish(&i.to_string(), "app.blob.added", json!({"n": i, "blob": blob}))
            .await;
        assert_eq!(r["type"], "ack");
        if i % 100 == 0 {
            peak = peak.max(relay.rss_kib());
        }
    }
    // 64 MiB went through; the relay held only its bounded share.
    let published_kib = total * 16;
    eprintln!("relay RSS: {before} KiB before, peak {peak} KiB, {published_kib} KiB published");
    assert!(peak - before < 32 * 1024, "RSS grew by {} KiB", peak - before);
    let (received, code, reason) = reading.await.unwrap();
    assert_eq!(code, 4008, "{reason}");
    assert!(received > 0 && received < total, "{received}");
    let metrics = relay.http("GET", "/metrics", None, "").await.1;
    assert!(metrics.contains("kaiwa_relay_lagging_closes_total 1"), "{metrics}");
}

#[tokio::test]
async fn sigterm_closes_connections_with_going_away() {
    let mut relay = Relay::memory(&[]).await;
    let (mut c, _) = Client::join(&relay.addr, Some(&token(json!({}))), &["*"]).await;
    let status = relay.terminate().await;
    assert_eq!(c.closed().await.0, 1001);
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn http_publish_healthz_and_metrics() {
    let relay = Relay::memory(&[]).await;
    let (mut watcher, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "w", "admin": true}))), &["*"]).await;
    let t = token(json!({"sub": "server", "publish": ["audio.*"]}));
    let body = json!([
        {"name": "audio.playback.started", "payload": playback(1), "ref": "h1"},
        {"name": "audio.playback.started", "payload": {"sessionId": 5}},
        {"name": "auth.user.login", "payload": login("server")},
        {"name": "audio.playback.started", "payload": playback(1), "ref": "h1"}
    ]);
    let (status, text) = relay.http("POST", "/v1/events", Some(&t), &body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let answers: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(answers[0]["offset"].is_string(), "{answers}");
    assert_eq!(answers[1]["refused"]["kind"], "validation");
    assert_eq!(answers[2]["refused"]["kind"], "forbidden");
    assert_eq!(answers[3]["offset"], answers[0]["offset"], "idempotent over HTTP too");
    assert_eq!(watcher.event().await["offset"], answers[0]["offset"]);
    watcher.quiet().await;
    assert_eq!(relay.http("POST", "/v1/events", None, "[]").await.0, 401);
    assert_eq!(relay.http("POST", "/v1/events", Some(&t), "{").await.0, 400);
    assert_eq!(relay.http("GET", "/healthz", None, "").await.0, 200);
    let (status, metrics) = relay.http("GET", "/metrics", None, "").await;
    assert_eq!(status, 200);
    for needle in [
        "kaiwa_relay_connections 1",
        "kaiwa_relay_events_in_total 1",
        "kaiwa_relay_refusals_total{kind=\"validation\"} 1",
        "kaiwa_relay_refusals_total{kind=\"forbidden\"} 1",
        "kaiwa_relay_publish_seconds_count 1",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
}

#[tokio::test]
async fn start_needs_a_secret_or_insecure_dev() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kaiwa-relay"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("KAIWA_RELAY_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KAIWA_RELAY_SECRET"));
    let relay = Relay::start_env(&["--insecure-dev"], None).await;
    let (mut anon, w) = Client::join(&relay.addr, None, &["*"]).await;
    assert_eq!(w["user"], serde_json::Value::Null);
    assert_eq!(anon.publish("1", "auth.user.login", login("u1")).await["type"], "ack");
    assert!(std::fs::read_to_string(&relay.log)
        .unwrap()
        .contains("INSECURE DEV MODE"));
    // Without a secret, a token cannot be checked: refused, not trusted.
    let (_, got) = Client::hello(&relay.addr, json!({"token": token(json!({}))})).await;
    assert!(matches!(got, Got::Closed(4001, _)), "{got:?}");
}
