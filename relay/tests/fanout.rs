//! How the fan-out writes to idle connections (`--fanout-writes`): the
//! start says which way it took, and on each way every subscriber gets
//! every event, whole and in order, over Redis (whose reader hands the
//! fan-out whole batches).

mod common;

use common::*;
use serde_json::json;

/// The start's line about the fan-out, from the relay's log.
fn said(relay: &Relay) -> String {
    let log = std::fs::read_to_string(&relay.log).unwrap();
    let line = log.lines().find(|l| l.contains("the fan-out writes with"));
    line.unwrap_or_else(|| panic!("no line about the fan-out in\n{log}"))
        .to_string()
}

/// Whether io_uring is allowed here, as a relay left to choose found it.
async fn uring_here() -> bool {
    let auto = Relay::start(&["--fanout-writes", "auto"]).await;
    let line = said(&auto);
    let uring = line.contains("the fan-out writes with io_uring, one submission per delivery round");
    assert!(
        uring || line.contains("with writev, one per socket (io_uring refused here: "),
        "{line}"
    );
    uring
}

#[tokio::test]
async fn the_start_says_how_the_fanout_writes() {
    let forced = Relay::start(&["--fanout-writes", "writev"]).await;
    assert!(said(&forced).contains("the fan-out writes with writev, one per socket (--fanout-writes writev)"));
    // Asked for io_uring: it starts where a relay left to choose took it, and refuses to start where it did not.
    if uring_here().await {
        let asked = Relay::start(&["--fanout-writes", "io-uring"]).await;
        assert!(said(&asked).contains("with io_uring"), "{}", said(&asked));
    } else {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kaiwa-relay"))
            .args(["--listen", "127.0.0.1:0", "--fanout-writes", "io-uring"])
            .env("KAIWA_RELAY_SECRET", SECRET)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("--fanout-writes io-uring: io_uring refused here"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn every_subscriber_gets_every_event_in_order_either_way() {
    let mut ways = vec!["writev"];
    if uring_here().await {
        ways.push("io-uring");
    } else {
        eprintln!("io_uring refused here: only the writev way is tested");
    }
    for way in ways {
        let on = OnEngine::start(Engine::Redis, &format!("fanout-{way}"), &["--fanout-writes", way]).await;
        let addr = &on.relay.addr;
        // Readers of every user's events.
        let reader = token(json!({"sub": "reader", "admin": true}));
        let mut subscribers = Vec::new();
        for _ in 0..20 {
            subscribers.push(Client::join(addr, Some(&reader), &["audio.*"]).await.0);
        }
        // 300 publishes sent before any ack is read: the reader hands the fan-out batches.
        let (mut p, _) = Client::join(addr, Some(&token(json!({"sub": "publisher"}))), &[]).await;
        for i in 0..300 {
            p.send(json!({"type": "publish", "ref": format!("f{i}"), "name": "audio.playback.started", "payload": playback(i)}))
                .await;
        }
        for subscriber in &mut subscribers {
            let mut got = Vec::new();
            while got.len() < 300 {
                match subscriber.recv().await {
                    Got::Frame(f) if f["type"] == "event" => got.push(seq(&f)),
                    other => panic!("{way}, after {} events: {other:?}", got.len()),
                }
            }
            assert_eq!(got, (0..300).collect::<Vec<_>>(), "{way}");
        }
    }
}
