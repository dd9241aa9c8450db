//! Idempotent `ref`s on the Redis engine: the two ref hashes
//! (`{kaiwa}:refs`, `{kaiwa}:refs:old`) that the append script keeps, a ref
//! repeated inside one batch, a ref that moved to the previous hash, a ref
//! whose entry was trimmed, and the hashes staying bounded.

mod common;

use common::*;
use serde_json::{json, Value};

/// Sends every publish at once (one burst, so the relay stores them in
/// few batches), then returns the acks in order.
async fn burst(p: &mut Client, refs: &[String], from: u64) -> Vec<Value> {
    for (i, r) in refs.iter().enumerate() {
        p.send(json!({"type": "publish", "ref": r, "name": "audio.playback.started", "payload": playback(from + i as u64)}))
            .await;
    }
    let mut acks = Vec::new();
    for r in refs {
        match p.reply().await {
            Got::Frame(f) if f["type"] == "ack" && f["ref"] == r.as_str() => acks.push(f),
            other => panic!("expected the ack of {r}, got {other:?}"),
        }
    }
    acks
}

async fn count(redis: &Redis, args: &[&str]) -> u64 {
    let out = redis.cli(None, args).await;
    out.parse().unwrap_or_else(|_| panic!("{args:?}: {out}"))
}

#[tokio::test]
async fn a_ref_repeated_inside_one_batch_is_stored_once() {
    let redis = Redis::start("refs-batch", false).await;
    let relay = Relay::redis(&redis, &[]).await;
    let mut reader = Reader::join(&relay.addr).await;
    let (mut p, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "publisher"}))), &[]).await;
    // d0, d0, d1, d1, ...: each pair sent back to back, in one burst.
    let refs: Vec<String> = (0..100).map(|i| format!("d{}", i / 2)).collect();
    let acks = burst(&mut p, &refs, 0).await;
    for pair in acks.chunks(2) {
        assert_eq!(
            pair[0]["offset"], pair[1]["offset"],
            "the first offset for the repeat: {pair:?}"
        );
    }
    let offsets: std::collections::BTreeSet<_> = acks.iter().map(|a| a["offset"].as_str().unwrap()).collect();
    assert_eq!(offsets.len(), 50);
    assert_eq!(
        count(&redis, &["XLEN", "{kaiwa}:events"]).await,
        50,
        "each ref stored once"
    );
    // Only the first of each pair (the even payloads) reached subscribers.
    reader.read_until(50, &[]).await;
    assert_eq!(reader.seen, (0..50).map(|i| 2 * i).collect::<Vec<_>>());
    // Another user's same ref is another publish.
    let (mut q, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "other"}))), &[]).await;
    let ack = q.publish("d0", "audio.playback.started", playback(1000)).await;
    assert_eq!(ack["type"], "ack");
    assert_ne!(ack["offset"], acks[0]["offset"]);
    assert_eq!(count(&redis, &["XLEN", "{kaiwa}:events"]).await, 51);
}

#[tokio::test]
async fn a_ref_counts_after_its_hash_rolled_and_until_its_entry_is_trimmed() {
    let redis = Redis::start("refs-roll", false).await;
    // --retain 10: the current ref hash rolls over after 10 refs.
    let relay = Relay::redis(&redis, &["--retain", "10"]).await;
    let other = Relay::redis(&redis, &["--retain", "10"]).await;
    let t = token(json!({"sub": "publisher"}));
    let (mut p, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let first = p.publish("first", "audio.playback.started", playback(0)).await;
    assert_eq!(first["type"], "ack");
    let offset = first["offset"].as_str().unwrap().to_string();

    // Enough refs for the current hash to roll: "first" is in the previous one.
    for round in 0..3 {
        let refs: Vec<String> = (0..10).map(|i| format!("a{round}-{i}")).collect();
        burst(&mut p, &refs, 1 + 10 * round).await;
    }
    assert_eq!(
        redis
            .cli(None, &["HGET", "{kaiwa}:refs:old", "9:publisher:first"])
            .await,
        offset,
        "the ref moved to the previous hash"
    );
    // Its entry is still in the stream: the same offset, nothing stored, from either relay.
    let len = count(&redis, &["XLEN", "{kaiwa}:events"]).await;
    let again = p.publish("first", "audio.playback.started", playback(0)).await;
    assert_eq!(again["offset"], offset.as_str(), "{again}");
    let (mut q, _) = Client::join(&other.addr, Some(&t), &[]).await;
    let again = q.publish("first", "audio.playback.started", playback(0)).await;
    assert_eq!(again["offset"], offset.as_str(), "{again}");
    assert_eq!(count(&redis, &["XLEN", "{kaiwa}:events"]).await, len);

    // Many more events: the entry of "first" is trimmed (MAXLEN ~ 10 trims
    // whole nodes of up to 100 entries), so its ref no longer counts.
    for round in 0..10 {
        let refs: Vec<String> = (0..100).map(|i| format!("b{round}-{i}")).collect();
        burst(&mut p, &refs, 100 + 100 * round).await;
    }
    assert_eq!(
        redis.cli(None, &["XRANGE", "{kaiwa}:events", &offset, &offset]).await,
        ""
    );
    let later = p.publish("first", "audio.playback.started", playback(0)).await;
    assert_eq!(later["type"], "ack");
    assert_ne!(
        later["offset"],
        offset.as_str(),
        "stored again once its entry was trimmed"
    );
    // And that new entry counts for the ref from now on.
    let again = q.publish("first", "audio.playback.started", playback(0)).await;
    assert_eq!(again["offset"], later["offset"]);

    // The hashes stay bounded by the stream, not by the refs ever published.
    let refs = count(&redis, &["HLEN", "{kaiwa}:refs"]).await + count(&redis, &["HLEN", "{kaiwa}:refs:old"]).await;
    let len = count(&redis, &["XLEN", "{kaiwa}:events"]).await;
    assert!(refs <= 2 * (len + 256) + 2, "{refs} refs for {len} entries");
    assert!(refs < 1000, "{refs} refs kept of 1,031 published");
}
