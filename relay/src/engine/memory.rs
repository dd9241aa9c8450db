//! `--engine memory`: a bounded log in this process, for one relay (the
//! demo, a small server). It keeps the newest `--retain` events with
//! Redis-shaped offsets; the epoch is new at every start, so a client that
//! resumes across a restart is told `recovered: false`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::{random_id, Draft, Hub};
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

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The epoch of this process's log.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// Stores and fans out (under one lock, so the hub sees offset order).
    pub fn append(&self, draft: Draft) -> (Offset, bool) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(seen) = draft.idem.as_ref().and_then(|k| log.refs.get(k)) {
            return (*seen, false);
        }
        let offset = log.last.next(now_ms());
        let Some(event) = Event::new(offset, &draft.name, &draft.payload, draft.scope, draft.origin) else {
            return (log.last, false);
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
        self.hub.send(event);
        (offset, true)
    }

    /// Up to `count` events after `after`.
    pub fn read_after(&self, after: Offset, count: usize) -> Vec<Arc<Event>> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let start = log.events.partition_point(|(e, _)| e.offset <= after);
        log.events.range(start..).take(count).map(|(e, _)| e.clone()).collect()
    }

    /// Whether nothing after `offset` was trimmed, in this epoch.
    pub fn can_resume(&self, epoch: &str, offset: Offset) -> bool {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        epoch == self.epoch && offset >= log.trimmed && offset <= log.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(n: u32, idem: Option<&str>) -> Draft {
        Draft {
            name: "a.b".into(),
            payload: format!("{{\"n\":{n}}}"),
            scope: crate::event::Scope::All,
            origin: String::new(),
            idem: idem.map(String::from),
        }
    }

    #[test]
    fn bounded_log_with_resume_rules_and_refs() {
        let m = Memory::new(3);
        let offsets: Vec<Offset> = (0..5).map(|n| m.append(draft(n, None)).0).collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]));
        let kept = m.read_after(Offset::ZERO, 10);
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].offset, offsets[2]);
        assert!(!m.can_resume(m.epoch(), Offset::ZERO), "events 0 and 1 are gone");
        assert!(
            m.can_resume(m.epoch(), offsets[1]),
            "everything after the newest trimmed one is kept"
        );
        assert!(!m.can_resume("other", offsets[3]));
        assert_eq!(m.read_after(offsets[3], 10).len(), 1);
        let (first, new) = m.append(draft(9, Some("u:r1")));
        assert!(new);
        assert_eq!(
            m.append(draft(10, Some("u:r1"))),
            (first, false),
            "a repeated ref is stored once"
        );
        assert_eq!(m.read_after(first, 10).len(), 0);
    }
}
