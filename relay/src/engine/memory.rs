//! `--engine memory`: a bounded log in this process, for one relay (the
//! demo, a small server). It keeps the newest `--retain` events with
//! Redis-shaped offsets; the epoch is new at every start, so a client that
//! resumes across a restart is told `recovered: false`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::{random_id, Boxed, Draft, Engine, Hub, Stored, StoredAll, Unavailable};
use crate::event::{now_ms, Event, Offset};

#[derive(Debug)]
struct Log {
    events: VecDeque<(Arc<Event>, Option<String>)>,
    /// Idempotency key → offset, for the events still in `events`.
    refs: HashMap<String, Offset>,
    last: Offset,
    /// The newest offset trimmed away.
    trimmed: Offset,
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
    /// the event stored now, if it is new, and its offset and whether it is.
    fn store(&self, log: &mut Log, draft: Draft) -> (Option<Arc<Event>>, (Offset, bool)) {
        if let Some(seen) = draft.idem.as_ref().and_then(|k| log.refs.get(k)) {
            return (None, (*seen, false));
        }
        let offset = log.last.next(now_ms());
        let Some(event) = Event::new(offset, &draft.name, &draft.payload, draft.scope, draft.origin) else {
            return (None, (log.last, false));
        };
        log.last = offset;
        if let Some(key) = &draft.idem {
            log.refs.insert(key.clone(), offset);
        }
        log.events.push_back((event.clone(), draft.idem));
        while log.events.len() > self.retain {
            if let Some((old, key)) = log.events.pop_front() {
                log.trimmed = old.offset;
                if let Some(key) = key {
                    log.refs.remove(&key);
                }
            }
        }
        (Some(event), (offset, true))
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
