//! Idempotent producers (`producer` and `seq` on a publish) through the
//! relay: a retried seq gets its first offset from any connection of the
//! user, over HTTP, on another relay of one Redis, after a relay restart
//! and after Redis restarts; a seq never stored inside the window is
//! stored, one below it is refused `stale` and never stored twice; and
//! Redis forgets a producer once its events are trimmed. What every engine
//! does with seqs is in conformance.rs.

mod common;

use common::*;
use serde_json::{json, Value};

fn sequenced(producer: &str, seq: u64, n: u64) -> Value {
    json!({"type": "publish", "ref": format!("r{n}"), "producer": producer, "seq": seq,
        "name": "audio.playback.started", "payload": playback(n)})
}

async fn send(c: &mut Client, producer: &str, seq: u64, n: u64) -> Value {
    c.send(sequenced(producer, seq, n)).await;
    match c.reply().await {
        Got::Frame(f) => f,
        other => panic!("expected ack or refused, got {other:?}"),
    }
}

fn offset(reply: &Value) -> &str {
    assert_eq!(reply["type"], "ack", "{reply}");
    reply["offset"].as_str().unwrap()
}

#[tokio::test]
async fn a_retried_seq_gets_its_first_offset_and_one_below_the_window_is_refused_stale() {
    for engine in ENGINES {
        let on = OnEngine::start(engine, "producers", &[]).await;
        let addr = &on.relay.addr;
        let mut reader = Reader::join(addr).await;
        let t = token(json!({"sub": "publisher"}));
        let (mut p, _) = Client::join(addr, Some(&t), &[]).await;
        let (mut q, _) = Client::join(addr, Some(&t), &[]).await;
        // Seqs 1..=5, each stored (payload n = seq).
        let mut first = Vec::new();
        for s in 1..=5 {
            first.push(offset(&send(&mut p, "tab1", s, s).await).to_string());
        }
        // Retried with another payload and ref, on this connection and
        // another one of the user: the first offset, nothing stored.
        assert_eq!(offset(&send(&mut p, "tab1", 3, 103).await), first[2], "{engine:?}");
        assert_eq!(offset(&send(&mut q, "tab1", 2, 102).await), first[1], "{engine:?}");
        // In one burst, a repeat right behind its first.
        for (s, n) in [(6, 6), (6, 106), (7, 7)] {
            q.send(sequenced("tab1", s, n)).await;
        }
        let mut acks = Vec::new();
        for _ in 0..3 {
            match q.reply().await {
                Got::Frame(f) => acks.push(offset(&f).to_string()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(acks[0], acks[1], "{engine:?}: a repeat inside one burst");
        // Over HTTP too.
        let body = json!([{"ref": "h", "producer": "tab1", "seq": 4, "name": "audio.playback.started", "payload": playback(104)}]);
        let (status, text) = on.relay.http("POST", "/v1/events", Some(&t), &body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        let answers: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answers[0]["offset"], first[3].as_str(), "{engine:?}: {text}");
        // Another user's producer of the same name is another producer.
        let (mut other, _) = Client::join(addr, Some(&token(json!({"sub": "other"}))), &[]).await;
        assert_ne!(offset(&send(&mut other, "tab1", 3, 8).await), first[2]);
        // A gap: 10 after 7; 9, never stored, is stored when it comes, once.
        let ten = offset(&send(&mut p, "tab1", 10, 10).await).to_string();
        let nine = offset(&send(&mut p, "tab1", 9, 9).await).to_string();
        assert!(nine > ten, "{engine:?}: stored now, after 10");
        assert_eq!(offset(&send(&mut q, "tab1", 9, 109).await), nine);
        // A jump of more than the window: 10 is below it now.
        let far = offset(&send(&mut p, "tab1", 10 + 5000, 11).await).to_string();
        let stale = send(&mut q, "tab1", 10, 110).await;
        assert_eq!(stale["type"], "refused", "{engine:?}: {stale}");
        assert_eq!(stale["kind"], "stale", "{stale}");
        assert_eq!(stale["ref"], "r110");
        assert_eq!(offset(&send(&mut q, "tab1", 10 + 5000, 111).await), far);
        // Every event once: 1..=7, 8 (other user), 9, 10, 11.
        reader.read_until(11, &[]).await;
        reader.client.quiet().await;
        reader.assert_complete((1..=11).collect());
        assert_eq!(on.relay.metric("kaiwa_relay_events_in_total").await, 11, "{engine:?}");

        // Malformed producers and seqs, each refused with its ref.
        for (frame, kind) in [
            (json!({"producer": "tab1"}), "malformed"),
            (json!({"seq": 1}), "malformed"),
            (json!({"producer": "tab1", "seq": 0}), "malformed"),
            (json!({"producer": "tab1", "seq": 1.5}), "malformed"),
            (json!({"producer": "tab1", "seq": "1"}), "malformed"),
            (json!({"producer": "tab1", "seq": 9007199254740992u64}), "malformed"),
            (json!({"producer": "", "seq": 1}), "malformed"),
            (json!({"producer": "x".repeat(65), "seq": 1}), "too-large"),
        ] {
            let mut publish =
                json!({"type": "publish", "ref": "bad", "name": "audio.playback.started", "payload": playback(0)});
            for (k, v) in frame.as_object().unwrap() {
                publish[k] = v.clone();
            }
            p.send(publish).await;
            match p.reply().await {
                Got::Frame(f) => {
                    assert_eq!(
                        (f["type"].as_str(), f["kind"].as_str()),
                        (Some("refused"), Some(kind)),
                        "{frame}: {f}"
                    );
                    assert_eq!(f["ref"], "bad");
                }
                other => panic!("{frame}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_retried_seq_gets_its_first_offset_on_another_relay_after_a_relay_and_a_redis_restart() {
    let mut redis = Redis::start("producers-restart", true).await;
    let mut relay = Relay::redis(&redis, &[]).await;
    let other = Relay::redis(&redis, &[]).await;
    let t = token(json!({"sub": "publisher"}));
    let (mut p, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let mut first = vec![String::new()];
    for s in 1..=20 {
        p.send(sequenced("page", s, s)).await;
    }
    for _ in 1..=20 {
        match p.reply().await {
            Got::Frame(f) => first.push(offset(&f).to_string()),
            other => panic!("{other:?}"),
        }
    }
    // The same seqs on another relay of the Redis: the first offsets.
    let (mut q, _) = Client::join(&other.addr, Some(&t), &[]).await;
    assert_eq!(offset(&send(&mut q, "page", 7, 107).await), first[7]);
    assert_eq!(offset(&send(&mut q, "page", 20, 120).await), first[20]);
    // The first relay killed and started again: it knows them too.
    relay.kill().await;
    let relay = Relay::redis(&redis, &[]).await;
    let (mut p, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    assert_eq!(offset(&send(&mut p, "page", 1, 101).await), first[1]);
    // Redis restarted (append-only file): still known, and 21 is new.
    redis.kill().await;
    redis.restart().await;
    let mut acked = None;
    for _ in 0..200 {
        match send(&mut p, "page", 13, 113).await {
            f if f["type"] == "ack" => {
                acked = Some(f);
                break;
            }
            f => assert_eq!(f["kind"], "unavailable", "{f}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(offset(&acked.expect("Redis back")), first[13]);
    let new = offset(&send(&mut p, "page", 21, 21).await).to_string();
    assert!(new > first[20], "{new}");
    assert_eq!(redis.cli(None, &["XLEN", "{kaiwa}:events"]).await, "21");
}

#[tokio::test]
async fn producers_are_forgotten_once_their_events_are_trimmed() {
    let redis = Redis::start("producers-roll", false).await;
    let relay = Relay::redis(&redis, &["--retain", "10"]).await;
    let t = token(json!({"sub": "publisher"}));
    let (mut p, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let first = offset(&send(&mut p, "early", 1, 0).await).to_string();
    assert_eq!(offset(&send(&mut p, "early", 1, 0).await), first);
    // Many producers later (the stream trims past "early"'s only event),
    // Redis holds only those whose events may still be there.
    for round in 1..=30u64 {
        for s in 1..=10 {
            p.send(sequenced(&format!("busy{round}"), s, round * 100 + s)).await;
        }
        for _ in 1..=10 {
            assert!(matches!(p.reply().await, Got::Frame(f) if f["type"] == "ack"));
        }
    }
    assert_eq!(redis.cli(None, &["XRANGE", "{kaiwa}:events", &first, &first]).await, "");
    let count = |args: &'static [&'static str]| {
        let redis = &redis;
        async move { redis.cli(None, args).await.parse::<u64>().unwrap() }
    };
    let producers = count(&["HLEN", "{kaiwa}:producers"]).await + count(&["HLEN", "{kaiwa}:producers:old"]).await;
    assert!(
        producers > 0 && producers <= 22,
        "{producers} producer fields kept of 31"
    );
    let keys = redis.cli(None, &["KEYS", "{kaiwa}:seqs:*"]).await;
    assert!(keys.lines().count() as u64 <= producers, "{keys}");
    // Forgotten once its event is gone: stored again, as a ref would be.
    let again = offset(&send(&mut p, "early", 1, 0).await).to_string();
    assert_ne!(again, first);
    assert_eq!(offset(&send(&mut p, "early", 1, 0).await), again);
}
