//! Issue 19, item 4: a relay whose reader falls behind the trim never
//! leaves a silent gap. Events a connection cannot get any more (trimmed
//! from the log before this relay read them) end its connection with 4008,
//! and the resume that follows says `recovered: false`.

mod common;

use common::*;
use serde_json::{json, Value};

/// Publishes playback events `from..from + n` on one connection, all sent
/// before the first ack is read (so the relay stores them in big batches).
async fn pipelined_burst(addr: String, from: u64, n: u64) {
    let (mut p, _) = Client::join(&addr, Some(&token(json!({"sub": "publisher"}))), &[]).await;
    for i in from..from + n {
        p.send(json!({"type": "publish", "ref": format!("g{i}"), "name": "audio.playback.started", "payload": playback(i)}))
            .await;
    }
    for _ in 0..n {
        match p.reply().await {
            Got::Frame(f) if f["type"] == "ack" => {}
            other => panic!("{other:?}"),
        }
    }
}

/// What a subscriber got: the sequence numbers in order, the last offset,
/// and the close, if its connection was closed before `last` arrived.
async fn read_until(c: &mut Client, last: u64) -> (Vec<u64>, String, Option<(u16, String)>) {
    let (mut seen, mut offset) = (Vec::new(), String::new());
    loop {
        match c.recv().await {
            Got::Frame(f) if f["type"] == "event" => {
                seen.push(seq(&f));
                offset = f["offset"].as_str().unwrap().to_string();
                if seen.last() == Some(&last) {
                    return (seen, offset, None);
                }
            }
            Got::Frame(f) => panic!("unexpected {f}"),
            Got::Closed(code, reason) => return (seen, offset, Some((code, reason))),
        }
    }
}

fn reader() -> String {
    token(json!({"sub": "reader", "admin": true}))
}

/// Resumes from `offset` and returns the welcome. A relay whose reader is
/// still behind the trim may close this connection with 4008 too (and its
/// welcome with it): then it tries again.
async fn resume(addr: &str, welcome: &Value, offset: &str) -> Value {
    let hello =
        json!({"token": reader(), "subscribe": ["audio.*"], "resume": {"epoch": welcome["epoch"], "offset": offset}});
    for _ in 0..10 {
        match Client::hello(addr, hello.clone()).await.1 {
            Got::Frame(w) => return w,
            Got::Closed(4008, _) => continue,
            other => panic!("{other:?}"),
        }
    }
    panic!("no welcome in 10 tries");
}

/// As reported: relay A stopped while relay B took a burst larger than
/// `--retain`; A's subscriber silently got part of it, was not closed, and
/// its resume said `recovered: true`.
#[tokio::test]
async fn a_relay_stopped_while_another_takes_a_burst_closes_its_connections_with_4008() {
    let redis = Redis::start("stalled", false).await;
    let flags = ["--retain", "200", "--rate", "1000000"];
    let a = Relay::redis(&redis, &flags).await;
    let b = Relay::redis(&redis, &flags).await;
    let (mut s, welcome) = Client::join(&a.addr, Some(&reader()), &["audio.*"]).await;
    pipelined_burst(b.addr.clone(), 0, 10).await;
    let (seen, _, closed) = read_until(&mut s, 9).await;
    assert_eq!((seen, closed), ((0..10).collect(), None), "A reads B's events");
    a.signal("STOP");
    pipelined_burst(b.addr.clone(), 10, 1000).await;
    a.signal("CONT");
    let (seen, offset, closed) = read_until(&mut s, 1009).await;
    let expected: Vec<u64> = (10..10 + seen.len() as u64).collect();
    assert_eq!(seen, expected, "what arrived has no hole");
    let (code, reason) = closed.expect("closed, not left with a gap");
    assert_eq!(code, 4008, "{reason}");
    let w = resume(&a.addr, &welcome, &offset).await;
    assert_eq!(w["recovered"], false, "{w}");
    // At least this one (the reader may have found another gap after it,
    // with events it had in hand from before the stop).
    let metrics = a.http("GET", "/metrics", None, "").await.1;
    for name in ["kaiwa_relay_reader_gaps_total", "kaiwa_relay_gap_closes_total"] {
        assert!(metric(&metrics, name) >= 1.0, "{name}");
    }
    let log = std::fs::read_to_string(&a.log).unwrap();
    assert!(log.contains("trimmed past"), "{log}");
}

/// As reported: with `--retain 50`, a relay's own subscriber lost 146 of
/// 1,000 with no stall at all (a batch trimmed before the reader read it).
/// Whatever the engine, a subscriber gets every event, or a hole-free
/// prefix, then 4008 and `recovered: false`.
async fn a_burst_over_a_small_retain_leaves_no_silent_gap(engine: Engine) {
    let on = OnEngine::start(engine, "small-retain", &["--retain", "50", "--rate", "1000000"]).await;
    let addr = &on.relay.addr;
    let (mut s, welcome) = Client::join(addr, Some(&reader()), &["audio.*"]).await;
    let publishing = tokio::spawn(pipelined_burst(addr.clone(), 0, 1000));
    let (seen, offset, closed) = read_until(&mut s, 999).await;
    publishing.await.unwrap();
    assert_eq!(
        seen,
        (0..seen.len() as u64).collect::<Vec<_>>(),
        "what arrived has no hole"
    );
    match closed {
        None => assert_eq!(seen.len(), 1000),
        Some((code, reason)) => {
            assert_eq!(code, 4008, "{reason}");
            let w = resume(addr, &welcome, &offset).await;
            assert_eq!(w["recovered"], false, "after {} events: {w}", seen.len());
        }
    }
}

mod a_burst_over_a_small_retain_leaves_no_silent_gap {
    #[tokio::test]
    async fn memory() {
        super::a_burst_over_a_small_retain_leaves_no_silent_gap(super::Engine::Memory).await
    }
    #[tokio::test]
    async fn redis() {
        super::a_burst_over_a_small_retain_leaves_no_silent_gap(super::Engine::Redis).await
    }
}
