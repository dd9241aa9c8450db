//! `--engine memory`: a bounded log in this process, for one relay (the
//! demo, a small server). It keeps the newest `--retain` events with
//! Redis-shaped offsets; the epoch is new at every start, so a client that
//! resumes across a restart is told `recovered: false`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::{random_id, Appended, Boxed, Draft, Engine, Hub, Idem, Stored, StoredAll, Unavailable};
use crate::event::{now_ms, Event, Offset};
use crate::protocol::PRODUCER_WINDOW;

#[derive(Debug)]
struct Log {
    events: VecDeque<(Arc<Event>, Option<Idem>)>,
    /// Ref key → offset, for the events still in `events`.
    refs: HashMap<String, Offset>,
    /// Producer key → its seqs, while one of its events is in `events`.
    producers: HashMap<String, Producer>,
    last: Offset,
    /// The newest offset trimmed away.
    trimmed: Offset,
}

/// An idempotent producer's seqs (see PROTOCOL.md, "Idempotent producers").
#[derive(Debug, Default)]
struct Producer {
    /// The newest seq stored.
    last: u64,
    /// The offset each seq got, for the newest [`PRODUCER_WINDOW`] at least.
    offsets: BTreeMap<u64, Offset>,
    /// The offset of its newest event: it is forgotten once that is trimmed.
    newest: Offset,
}

impl Producer {
    /// What a publish of `seq` got before, if it is one this producer
    /// stored (or is below its window); `trimmed`: the newest offset trimmed.
    fn before(&self, seq: u64, trimmed: Offset) -> Option<Appended> {
        if seq + PRODUCER_WINDOW <= self.last {
            return Some(Appended::Stale);
        }
        let offset = *self.offsets.get(&seq)?;
        Some(if offset <= trimmed {
            Appended::Stale
        } else {
            Appended::Before(offset)
        })
    }

    fn stored(&mut self, seq: u64, offset: Offset) {
        self.last = self.last.max(seq);
        self.offsets.insert(seq, offset);
        self.newest = offset;
        if self.offsets.len() as u64 > 2 * PRODUCER_WINDOW {
            let last = self.last;
            self.offsets.retain(|s, _| s + PRODUCER_WINDOW > last);
        }
    }
}

/// The in-memory engine.
#[derive(Debug)]
pub struct Memory {
    log: Mutex<Log>,
    retain: usize,
    epoch: String,
    hub: Hub,
}

impl Memory {
    /// An empty log keeping `retain` events.
    pub fn new(retain: usize) -> Memory {
        Memory {
            log: Mutex::new(Log {
                events: VecDeque::new(),
                refs: HashMap::new(),
                producers: HashMap::new(),
                last: Offset::ZERO,
                trimmed: Offset::ZERO,
            }),
            retain,
            epoch: random_id(),
            hub: Hub::new(Offset::ZERO, false),
        }
    }

    /// Stores an event in `log` (held by the caller, who hands the event
    /// to the hub before letting go of it, so the hub sees offset order):
    /// the event stored now, if it is new, and what became of it.
    fn store(&self, log: &mut Log, draft: Draft) -> (Option<Arc<Event>>, Appended) {
        let before = match &draft.idem {
            Some(Idem::Ref(key)) => log.refs.get(key).map(|seen| Appended::Before(*seen)),
            Some(Idem::Seq(key, seq)) => log.producers.get(key).and_then(|p| p.before(*seq, log.trimmed)),
            None => None,
        };
        if let Some(before) = before {
            return (None, before);
        }
        let offset = log.last.next(now_ms());
        let Some(event) = Event::new(offset, &draft.name, &draft.payload, draft.scope, draft.origin) else {
            return (None, Appended::Before(log.last));
        };
        log.last = offset;
        match &draft.idem {
            Some(Idem::Ref(key)) => {
                log.refs.insert(key.clone(), offset);
            }
            Some(Idem::Seq(key, seq)) => log.producers.entry(key.clone()).or_default().stored(*seq, offset),
            None => {}
        }
        log.events.push_back((event.clone(), draft.idem));
        while log.events.len() > self.retain {
            if let Some((old, idem)) = log.events.pop_front() {
                log.trimmed = old.offset;
                match idem {
                    Some(Idem::Ref(key)) => {
                        log.refs.remove(&key);
                    }
                    Some(Idem::Seq(key, _)) if log.producers.get(&key).is_some_and(|p| p.newest == old.offset) => {
                        log.producers.remove(&key);
                    }
                    _ => {}
                }
            }
        }
        (Some(event), Appended::New(offset))
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Engine for Memory {
    fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The epoch of this process's log.
    fn epoch(&self) -> String {
        self.epoch.clone()
    }

    fn submit(&self, draft: Draft) -> Boxed<'_, Stored> {
        let mut log = self.locked();
        let (event, result) = self.store(&mut log, draft);
        if let Some(event) = event {
            self.hub.send(event);
        }
        let stored: Stored = Box::pin(std::future::ready(Ok(result)));
        Box::pin(std::future::ready(stored))
    }

    /// Stores the batch under one lock, and hands its new events to the hub at once.
    fn submit_all(&self, drafts: Vec<Draft>) -> Boxed<'_, StoredAll> {
        let mut log = self.locked();
        let mut events = Vec::with_capacity(drafts.len());
        let results = drafts
            .into_iter()
            .map(|draft| {
                let (event, result) = self.store(&mut log, draft);
                events.extend(event);
                Ok(result)
            })
            .collect();
        self.hub.send_all(&events);
        drop(log);
        let stored: StoredAll = Box::pin(std::future::ready(results));
        Box::pin(std::future::ready(stored))
    }

    fn read_after(&self, after: Offset, count: usize) -> Boxed<'_, Result<Vec<Arc<Event>>, Unavailable>> {
        let log = self.locked();
        let start = log.events.partition_point(|(e, _)| e.offset <= after);
        let events = log.events.range(start..).take(count).map(|(e, _)| e.clone()).collect();
        Box::pin(std::future::ready(Ok(events)))
    }

    /// Whether nothing after `offset` was trimmed, in this epoch.
    fn can_resume<'a>(&'a self, epoch: &'a str, offset: Offset) -> Boxed<'a, Result<bool, Unavailable>> {
        let log = self.locked();
        let kept = epoch == self.epoch && offset >= log.trimmed && offset <= log.last;
        Box::pin(std::future::ready(Ok(kept)))
    }

    fn healthy(&self) -> Boxed<'_, bool> {
        Box::pin(std::future::ready(true))
    }
}
