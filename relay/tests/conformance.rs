//! What every engine promises (`trait Engine`, relay/src/engine/mod.rs),
//! checked on each: the memory engine, and the Redis engine on a
//! `redis-server` of its own. A new engine is added to [`engines`] and
//! passes these before the relay may use it. What only one engine does
//! (relays sharing a Redis, Redis restarting) is in the suites of the relay
//! running on it (redis.rs, resume.rs...).

mod common;

use std::sync::Arc;

use common::{Redis, WAIT};
use kaiwa_relay::engine::memory::Memory;
use kaiwa_relay::engine::redis::RedisEngine;
use kaiwa_relay::engine::{Appended, Draft, Engine, Fed, Idem};
use kaiwa_relay::event::{Event, Offset, Scope};

/// Every engine, empty, keeping `retain` events: its name, it, and the
/// `redis-server` it needs (stopped when dropped).
async fn engines(name: &str, retain: usize) -> Vec<(&'static str, Arc<dyn Engine>, Option<Redis>)> {
    let redis = Redis::start(&format!("conformance-{name}"), false).await;
    let on_redis = RedisEngine::connect(&redis.url(), None, "kaiwa", retain)
        .await
        .unwrap_or_else(|e| panic!("the Redis engine on {}: {e}", redis.url()));
    vec![
        ("memory", Arc::new(Memory::new(retain)), None),
        ("redis", on_redis, Some(redis)),
    ]
}

/// The event `n`, with the idempotency key `idem`.
fn draft(n: usize, idem: Option<&str>) -> Draft {
    Draft {
        name: "a.b".into(),
        payload: format!(r#"{{"n":{n}}}"#),
        scope: if n.is_multiple_of(2) {
            Scope::All
        } else {
            Scope::User(format!("u{n}"))
        },
        origin: format!("i/{n}"),
        idem: idem.map(|key| Idem::Ref(key.into())),
    }
}

/// The event `n`, published by `producer` (a producer field) as `seq`.
fn sequenced(n: usize, producer: &str, seq: u64) -> Draft {
    Draft {
        idem: Some(Idem::Seq(producer.into(), seq)),
        ..draft(n, None)
    }
}

/// An offset and whether it is new (a stale seq has no offset: panics).
fn pair(appended: Appended) -> (Offset, bool) {
    match appended {
        Appended::New(offset) => (offset, true),
        Appended::Before(offset) => (offset, false),
        Appended::Stale => panic!("stale"),
    }
}

/// Checks that `events` are the drafts numbered `ns`, in that order.
fn assert_drafts(name: &str, events: &[Arc<Event>], ns: &[usize]) {
    assert_eq!(events.len(), ns.len(), "{name}");
    for (event, &n) in events.iter().zip(ns) {
        let d = draft(n, None);
        assert_eq!(
            (&event.name, &event.scope, &event.origin),
            (&d.name, &d.scope, &d.origin),
            "{name}"
        );
        assert!(
            event.frame.as_str().contains(&d.payload),
            "{name}: {}",
            event.frame.as_str()
        );
    }
}

/// Submits every draft before awaiting any result (as a connection with
/// many publishes in flight does); their offsets and whether each is new.
async fn submit_all(engine: &dyn Engine, drafts: Vec<Draft>) -> Vec<(Offset, bool)> {
    submit_each(engine, drafts).await.into_iter().map(pair).collect()
}

/// [`submit_all`], what became of each.
async fn submit_each(engine: &dyn Engine, drafts: Vec<Draft>) -> Vec<Appended> {
    let mut stored = Vec::new();
    for d in drafts {
        stored.push(engine.submit(d).await);
    }
    let mut out = Vec::new();
    for s in stored {
        out.push(tokio::time::timeout(WAIT, s).await.expect("stored in time").unwrap());
    }
    out
}

#[tokio::test]
async fn appends_are_stored_in_submit_order_and_read_back_from_any_offset() {
    for (name, engine, _redis) in engines("order", 1000).await {
        let epoch = engine.epoch();
        assert!(!epoch.is_empty(), "{name}");
        assert!(engine.healthy().await, "{name}");
        assert_eq!(
            engine.can_resume(&epoch, Offset::ZERO).await,
            Ok(true),
            "{name}: an empty log"
        );
        let stored = submit_all(&*engine, (0..10).map(|n| draft(n, None)).collect()).await;
        assert!(stored.iter().all(|(_, new)| *new), "{name}");
        let offsets: Vec<Offset> = stored.iter().map(|(o, _)| *o).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{name}: {offsets:?}");
        let all = engine.read_after(Offset::ZERO, 100).await.unwrap();
        assert_eq!(all.iter().map(|e| e.offset).collect::<Vec<_>>(), offsets, "{name}");
        assert_drafts(name, &all, &(0..10).collect::<Vec<_>>());
        let some = engine.read_after(offsets[4], 3).await.unwrap();
        assert_eq!(
            some.iter().map(|e| e.offset).collect::<Vec<_>>(),
            offsets[5..8],
            "{name}"
        );
        assert!(engine.read_after(offsets[9], 10).await.unwrap().is_empty(), "{name}");
        for offset in [Offset::ZERO, offsets[3], offsets[9]] {
            assert_eq!(engine.can_resume(&epoch, offset).await, Ok(true), "{name}: {offset}");
        }
        let later = Offset {
            ms: offsets[9].ms + 60_000,
            seq: 0,
        };
        assert_eq!(
            engine.can_resume(&epoch, later).await,
            Ok(false),
            "{name}: after the newest"
        );
        assert_eq!(
            engine.can_resume("other", offsets[3]).await,
            Ok(false),
            "{name}: another epoch"
        );
        assert_eq!(engine.epoch(), epoch, "{name}: the epoch stays");
        assert_eq!((engine.errors(), engine.gaps()), (0, 0), "{name}");
    }
}

#[tokio::test]
async fn the_hub_brings_every_event_stored_after_subscribing_in_order() {
    for (name, engine, _redis) in engines("hub", 1000).await {
        let before = submit_all(&*engine, vec![draft(0, None)]).await[0].0;
        // The Redis engine's reader may bring the first one after this.
        let (mut rx, head) = engine.hub().subscribe();
        let offsets: Vec<Offset> = submit_all(&*engine, (1..6).map(|n| draft(n, None)).collect())
            .await
            .into_iter()
            .map(|(o, _)| o)
            .collect();
        assert!(head < offsets[0], "{name}: the head is before what comes next");
        let want: Vec<Offset> = [before].into_iter().chain(offsets).filter(|o| *o > head).collect();
        for want in &want {
            match tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").unwrap() {
                Fed::Event(event) => assert_eq!(event.offset, *want, "{name}"),
                Fed::Gap(next) => panic!("{name}: a gap before {next}"),
            }
        }
        assert_eq!(Some(engine.hub().head()), want.last().copied(), "{name}");
    }
}

#[tokio::test]
async fn a_repeated_ref_is_stored_once_while_its_event_is_kept() {
    for (name, engine, _redis) in engines("refs", 100).await {
        let first = submit_all(&*engine, vec![draft(0, Some("3:u1:r1"))]).await[0];
        assert!(first.1, "{name}");
        // Again later, twice in one batch, and beside a new ref.
        let again = submit_all(
            &*engine,
            vec![
                draft(1, Some("3:u1:r1")),
                draft(2, Some("3:u1:r2")),
                draft(3, Some("3:u1:r2")),
            ],
        )
        .await;
        assert_eq!(again[0], (first.0, false), "{name}");
        assert!(again[1].1 && again[1].0 > first.0, "{name}");
        assert_eq!(again[2], (again[1].0, false), "{name}");
        assert_eq!(engine.read_after(Offset::ZERO, 100).await.unwrap().len(), 2, "{name}");
        // Once its event is trimmed, the ref stores a new one.
        submit_all(&*engine, (0..400).map(|n| draft(n, None)).collect()).await;
        let after = submit_all(&*engine, vec![draft(1, Some("3:u1:r1"))]).await[0];
        assert!(after.1 && after.0 > first.0, "{name}: {after:?}");
    }
}

#[tokio::test]
async fn trimming_keeps_the_newest_events_and_resume_knows_what_is_gone() {
    for (name, engine, _redis) in engines("trim", 100).await {
        let epoch = engine.epoch();
        let offsets: Vec<Offset> = submit_all(&*engine, (0..400).map(|n| draft(n, None)).collect())
            .await
            .into_iter()
            .map(|(o, _)| o)
            .collect();
        let kept: Vec<Offset> = engine
            .read_after(Offset::ZERO, 1000)
            .await
            .unwrap()
            .iter()
            .map(|e| e.offset)
            .collect();
        // Redis trims approximately (`MAXLEN ~`): at least `retain` are kept.
        assert!((100..400).contains(&kept.len()), "{name}: {} kept", kept.len());
        assert_eq!(kept, offsets[400 - kept.len()..], "{name}: the newest are kept");
        assert_eq!(engine.can_resume(&epoch, Offset::ZERO).await, Ok(false), "{name}");
        let gone = offsets[400 - kept.len() - 2];
        assert_eq!(engine.can_resume(&epoch, gone).await, Ok(false), "{name}: {gone}");
        assert_eq!(engine.can_resume(&epoch, kept[0]).await, Ok(true), "{name}");
        assert_eq!(engine.can_resume(&epoch, offsets[399]).await, Ok(true), "{name}");
    }
}

#[tokio::test]
async fn a_batch_is_stored_in_order_as_one_submit_after_another() {
    for (name, engine, _redis) in engines("batch", 1000).await {
        let (mut rx, head) = engine.hub().subscribe();
        let before = engine.append_all(vec![draft(0, Some("3:u1:r0"))]).await;
        let before = pair(before[0].clone().unwrap());
        assert!(before.1 && before.0 > head, "{name}");
        // Refs new, repeated within the batch, and stored before, among
        // events without one.
        let batch = vec![
            draft(1, None),
            draft(2, Some("3:u1:r1")),
            draft(3, Some("3:u1:r0")),
            draft(4, Some("3:u1:r1")),
            draft(5, None),
            draft(6, Some("3:u2:r1")),
        ];
        let stored: Vec<(Offset, bool)> = engine
            .append_all(batch)
            .await
            .into_iter()
            .map(|r| pair(r.unwrap()))
            .collect();
        let new: Vec<bool> = stored.iter().map(|(_, new)| *new).collect();
        assert_eq!(new, [true, true, false, false, true, true], "{name}");
        assert_eq!(stored[2].0, before.0, "{name}: the ref stored before");
        assert_eq!(stored[3].0, stored[1].0, "{name}: the ref repeated in the batch");
        let offsets = [before.0, stored[0].0, stored[1].0, stored[4].0, stored[5].0];
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{name}: {offsets:?}");
        let all = engine.read_after(Offset::ZERO, 100).await.unwrap();
        assert_eq!(all.iter().map(|e| e.offset).collect::<Vec<_>>(), offsets, "{name}");
        assert_drafts(name, &all, &[0, 1, 2, 5, 6]);
        for want in offsets {
            match tokio::time::timeout(WAIT, rx.recv()).await.expect("in time").unwrap() {
                Fed::Event(event) => assert_eq!(event.offset, want, "{name}"),
                Fed::Gap(next) => panic!("{name}: a gap before {next}"),
            }
        }
        // A batch after single submits, and single submits after it, keep the order.
        let single = engine.submit(draft(7, None)).await;
        let batch = engine.submit_all((8..11).map(|n| draft(n, None)).collect()).await;
        let last = engine.submit(draft(11, None)).await;
        let mut offsets = vec![pair(single.await.unwrap()).0];
        offsets.extend(batch.await.into_iter().map(|r| pair(r.unwrap()).0));
        offsets.push(pair(last.await.unwrap()).0);
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{name}: {offsets:?}");
        assert!(engine.append_all(Vec::new()).await.is_empty(), "{name}: an empty batch");
    }
}

#[tokio::test]
async fn a_producer_seq_is_stored_once_and_a_retry_gets_its_first_offset() {
    for (name, engine, _redis) in engines("seqs", 10_000).await {
        let a = "3:u1:pa";
        // Seqs 1..=5 in one batch, beside another producer and a ref.
        let mut batch: Vec<Draft> = (1..=5).map(|s| sequenced(s as usize, a, s)).collect();
        batch.insert(2, sequenced(10, "3:u1:pb", 1));
        batch.push(draft(11, Some("3:u1:r1")));
        let first = submit_all(&*engine, batch).await;
        assert!(first.iter().all(|(_, new)| *new), "{name}: {first:?}");
        let of = |s: usize| first[if s <= 2 { s - 1 } else { s }].0;
        // Retried: alone, in a run, repeated within a batch, after new ones,
        // each with its first offset and nothing stored.
        let again = submit_each(
            &*engine,
            vec![
                sequenced(20, a, 3),
                sequenced(21, a, 1),
                sequenced(22, a, 2),
                sequenced(23, a, 2),
                sequenced(24, "3:u1:pb", 1),
                sequenced(25, a, 6),
                sequenced(26, a, 4),
            ],
        )
        .await;
        assert_eq!(
            again[..5],
            [
                Appended::Before(of(3)),
                Appended::Before(of(1)),
                Appended::Before(of(2)),
                Appended::Before(of(2)),
                Appended::Before(first[2].0)
            ],
            "{name}"
        );
        let six = pair(again[5]);
        assert!(six.1 && six.0 > first[6].0, "{name}: {again:?}");
        assert_eq!(again[6], Appended::Before(of(4)), "{name}");
        assert_eq!(engine.read_after(Offset::ZERO, 100).await.unwrap().len(), 8, "{name}");
        // Another user's producer of the same name is another producer.
        assert!(
            pair(submit_each(&*engine, vec![sequenced(27, "3:u2:pa", 3)]).await[0]).1,
            "{name}"
        );
        // A gap: 9 after 6; then 7, never stored, is stored, once.
        let nine = pair(submit_each(&*engine, vec![sequenced(28, a, 9)]).await[0]);
        let seven = pair(submit_each(&*engine, vec![sequenced(29, a, 7)]).await[0]);
        assert!(nine.1 && seven.1 && seven.0 > nine.0, "{name}");
        let retried = submit_each(
            &*engine,
            vec![sequenced(30, a, 7), sequenced(31, a, 9), sequenced(32, a, 8)],
        )
        .await;
        assert_eq!(
            retried[..2],
            [Appended::Before(seven.0), Appended::Before(nine.0)],
            "{name}"
        );
        assert!(pair(retried[2]).1, "{name}: 8 was never stored");
        // A jump of the whole window: the seqs it leaves behind are stale,
        // never stored again.
        let far = pair(submit_each(&*engine, vec![sequenced(33, a, 9 + 1024)]).await[0]);
        assert!(far.1, "{name}");
        let old = submit_each(
            &*engine,
            vec![sequenced(34, a, 9), sequenced(35, a, 3), sequenced(36, a, 9 + 1024)],
        )
        .await;
        assert_eq!(
            old,
            [Appended::Stale, Appended::Stale, Appended::Before(far.0)],
            "{name}"
        );
        assert_eq!(engine.read_after(Offset::ZERO, 100).await.unwrap().len(), 13, "{name}");
        // Producers interleaved in one batch (runs of one or two seqs), each
        // seq retried later, in another order.
        let (c, d) = ("3:u1:pc", "3:u1:pd");
        let seqs = [(c, 1), (c, 2), (d, 1), (c, 3), (d, 2), (d, 3), (c, 4)];
        let mut mixed: Vec<Draft> = seqs.iter().map(|&(p, s)| sequenced(40, p, s)).collect();
        mixed.insert(3, draft(41, None));
        let stored = submit_all(&*engine, mixed).await;
        assert!(stored.iter().all(|(_, new)| *new), "{name}");
        let offsets: Vec<Offset> = stored.iter().map(|(o, _)| *o).filter(|o| *o != stored[3].0).collect();
        let mut retried: Vec<Draft> = seqs.iter().rev().map(|&(p, s)| sequenced(42, p, s)).collect();
        retried.push(sequenced(43, d, 4));
        let again = submit_each(&*engine, retried).await;
        let want: Vec<Appended> = offsets.iter().rev().map(|o| Appended::Before(*o)).collect();
        assert_eq!(again[..7], want, "{name}");
        assert!(pair(again[7]).1, "{name}");
    }
}

#[tokio::test]
async fn a_producer_keeps_its_newest_1024_seqs_while_their_events_are_kept() {
    for (name, engine, _redis) in engines("seq-window", 3000).await {
        let a = "3:u1:pa";
        let mut offsets = vec![Offset::ZERO];
        for chunk in (1..=2100u64).collect::<Vec<_>>().chunks(300) {
            let drafts = chunk.iter().map(|&s| sequenced(s as usize, a, s)).collect();
            offsets.extend(submit_all(&*engine, drafts).await.into_iter().map(|(o, _)| o));
        }
        let oldest = 2100 - 1024 + 1;
        let got = submit_each(
            &*engine,
            vec![
                sequenced(0, a, oldest),
                sequenced(0, a, 2000),
                sequenced(0, a, 1500),
                sequenced(0, a, oldest - 1),
            ],
        )
        .await;
        assert_eq!(
            got,
            [
                Appended::Before(offsets[oldest as usize]),
                Appended::Before(offsets[2000]),
                Appended::Before(offsets[1500]),
                Appended::Stale
            ],
            "{name}"
        );
    }
    // Trimmed: a seq whose event is gone is stale, while the producer is
    // known (one of its events kept).
    for (name, engine, _redis) in engines("seq-trimmed", 100).await {
        let a = "3:u1:pa";
        submit_all(&*engine, (1..=50).map(|s| sequenced(s as usize, a, s)).collect()).await;
        let mut last = Offset::ZERO;
        for s in 51..=56 {
            submit_all(&*engine, (0..50).map(|n| draft(n, None)).collect()).await;
            last = submit_all(&*engine, vec![sequenced(0, a, s)]).await[0].0;
        }
        let got = submit_each(&*engine, vec![sequenced(0, a, 10), sequenced(0, a, 56)]).await;
        assert_eq!(got, [Appended::Stale, Appended::Before(last)], "{name}");
    }
}
