//! The event history: a ring buffer of [`Record`]s, oldest first.
//!
//! Every emit attempt gets a record with the next id, delivered or not, so a
//! devtools panel sees refused events too. When the buffer is full the oldest
//! record is dropped; a limit of 0 keeps nothing (ids still increase).
//!
//! ## Lifetimes
//!
//! A record holds the payload as the dispatcher gave it (in the browser, a
//! reference to the emitted JS object, not a copy). The payload lives as long
//! as its record.

use crate::prelude::*;

use alloc::rc::Rc;

use crate::base::{cat, head_chars, num, owned, Issue};

pub use crate::limits::{DEFAULT_HISTORY_LIMIT, MAX_ERRORS_PER_RECORD, MAX_ERROR_LEN};

/// What became of an emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Dispatched, and no handler has failed so far (a handler's promise may
    /// still reject later).
    Delivered,
    /// At least one handler threw or its promise rejected.
    Failed,
    /// Refused before dispatch: invalid payload, unknown event in strict mode,
    /// or too deep a chain of emits.
    Rejected,
}

impl Status {
    /// The name used in JS records.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Failed => "failed",
            Status::Rejected => "rejected",
        }
    }
}

/// One emit attempt.
#[derive(Clone, Debug)]
pub struct Record<P> {
    /// Increasing from 1, one per emit attempt.
    pub id: u64,
    /// The event name.
    pub name: Rc<str>,
    /// The payload as emitted.
    pub payload: P,
    /// When the emit started, in milliseconds since the Unix epoch.
    pub timestamp: f64,
    /// What became of it.
    pub status: Status,
    /// How many handlers were called.
    pub handler_count: u32,
    /// How long the emit took, validation included, in milliseconds; `None`
    /// for a rejected emit, or one the dispatcher did not time.
    pub duration_ms: Option<f64>,
    /// Errors and issues, for the few records that have any: most records
    /// stay small and cheap to drop.
    detail: Option<Box<Detail>>,
}

#[derive(Clone, Debug, Default)]
struct Detail {
    /// Where the event came from, when not from this page ("tab", "remote"…).
    source: Option<Rc<str>>,
    errors: Vec<String>,
    issues: Vec<Issue>,
    dropped_errors: usize,
}

impl<P> Record<P> {
    /// A record with no handler called yet.
    pub fn new(id: u64, name: Rc<str>, payload: P, timestamp: f64, status: Status) -> Self {
        Record {
            id,
            name,
            payload,
            timestamp,
            status,
            handler_count: 0,
            duration_ms: None,
            detail: None,
        }
    }

    /// Handler failures and refusal reasons, as messages.
    pub fn errors(&self) -> &[String] {
        self.detail.as_ref().map_or(&[], |d| &d.errors)
    }

    /// Where the event came from: `None` for this page (`'local'` in JS),
    /// or what the transport that handed it in calls itself.
    pub fn source(&self) -> Option<&str> {
        self.detail.as_ref()?.source.as_deref()
    }

    /// Marks the record as handed in by a transport (see [`Record::source`]).
    pub fn set_source(&mut self, source: &str) {
        self.detail.get_or_insert_with(Box::default).source = Some(source.into());
    }

    /// Validation issues, for a rejected payload.
    pub fn issues(&self) -> &[Issue] {
        self.detail.as_ref().map_or(&[], |d| &d.issues)
    }

    /// Marks the record rejected, with the reason and any validation issues.
    pub fn reject(&mut self, message: &str, issues: Vec<Issue>) {
        self.status = Status::Rejected;
        self.add_message(message);
        if let Some(d) = self.detail.as_mut() {
            d.issues = issues;
        }
    }

    /// Adds a handler failure, within [`MAX_ERRORS_PER_RECORD`] and
    /// [`MAX_ERROR_LEN`]; a delivered record becomes failed.
    pub fn add_error(&mut self, message: &str) {
        if self.status == Status::Delivered {
            self.status = Status::Failed;
        }
        self.add_message(message);
    }

    fn add_message(&mut self, message: &str) {
        let d = self.detail.get_or_insert_with(Box::default);
        if d.errors.len() < MAX_ERRORS_PER_RECORD - 1 {
            d.errors.push(truncate(message));
            return;
        }
        if d.errors.len() < MAX_ERRORS_PER_RECORD {
            d.errors.push(String::new());
        }
        d.dropped_errors = d.dropped_errors.saturating_add(1);
        if let Some(last) = d.errors.last_mut() {
            *last = cat(&["… and ", &num(d.dropped_errors as u64), " more handler errors"]);
        }
    }
}

fn truncate(message: &str) -> String {
    head_chars(message, MAX_ERROR_LEN).map_or_else(|| owned(message), |head| cat(&[head, "…"]))
}

/// The last `limit` records: a ring, once full, whose oldest record is at
/// `head`; records are overwritten in place, never moved.
#[derive(Debug)]
pub struct History<P> {
    records: Vec<Record<P>>,
    head: usize,
    limit: usize,
}

impl<P> History<P> {
    /// An empty history that keeps `limit` records.
    pub fn new(limit: usize) -> Self {
        History {
            records: Vec::with_capacity(limit.min(DEFAULT_HISTORY_LIMIT)),
            head: 0,
            limit,
        }
    }

    /// Appends a record with no error yet, dropping the oldest when full.
    /// A full ring's oldest record is rewritten field by field, rather than
    /// a new one built and moved in: a record built field by field and then
    /// copied whole stalls the copy, which took twice the time of the rest
    /// of an emit's recording. What the oldest held is dropped last, once
    /// the ring is whole: a stack overflow that cuts its drop short (a JS
    /// exception unwinds wasm without running what is left) then leaks it,
    /// where `*oldest = record` would leave its half-freed fields in the
    /// ring to be freed again (tests/js/reentry.test.js under Node 18:
    /// "memory access out of bounds"). Never inlined: one copy serves every
    /// kind of record (about 800 bytes of .wasm each).
    #[inline(never)]
    pub fn push(&mut self, id: u64, name: &Rc<str>, payload: P, timestamp: f64, status: Status, handler_count: u32) {
        let Some(oldest) = self.oldest_to_replace() else {
            if self.records.len() < self.limit {
                let mut record = Record::new(id, name.clone(), payload, timestamp, status);
                record.handler_count = handler_count;
                self.records.push(record);
            }
            return;
        };
        // The same name (most records are of a few events): no count to
        // raise and lower.
        let name = (!Rc::ptr_eq(&oldest.name, name)).then(|| core::mem::replace(&mut oldest.name, name.clone()));
        let old = (
            name,
            core::mem::replace(&mut oldest.payload, payload),
            oldest.detail.take(),
        );
        oldest.id = id;
        oldest.timestamp = timestamp;
        oldest.status = status;
        oldest.handler_count = handler_count;
        oldest.duration_ms = None;
        self.turn();
        drop(old);
    }

    /// The oldest record, when a new one is to take its place (the ring
    /// is full).
    #[inline]
    fn oldest_to_replace(&mut self) -> Option<&mut Record<P>> {
        if self.records.len() < self.limit {
            return None;
        }
        self.records.get_mut(self.head)
    }

    /// The oldest record is now the newest: the next one is the oldest.
    #[inline]
    fn turn(&mut self) {
        self.head = self.head.wrapping_add(1);
        if self.head == self.records.len() {
            self.head = 0;
        }
    }

    /// Where the `at`-th record from the oldest is in `records`.
    fn slot(&self, at: usize) -> usize {
        let from_head = self.records.len().wrapping_sub(self.head);
        if at < from_head {
            self.head.wrapping_add(at)
        } else {
            at.wrapping_sub(from_head)
        }
    }

    fn index_of(&self, id: u64) -> Option<usize> {
        let first = self.records.get(self.head)?.id;
        let at = usize::try_from(id.checked_sub(first)?).ok()?;
        // Ids are consecutive while records are pushed in id order; check anyway.
        let slot = self.slot(at);
        match self.records.get(slot) {
            Some(r) if r.id == id => Some(slot),
            _ => self.records.iter().position(|r| r.id == id),
        }
    }

    /// The record with this id, if it is still kept.
    pub fn get(&self, id: u64) -> Option<&Record<P>> {
        self.records.get(self.index_of(id)?)
    }

    /// The record with this id, if it is still kept.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Record<P>> {
        let at = self.index_of(id)?;
        self.records.get_mut(at)
    }

    /// The records, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Record<P>> {
        let older = self.records.get(self.head..).unwrap_or_default();
        let newer = self.records.get(..self.head).unwrap_or_default();
        older.iter().chain(newer)
    }

    /// How many records are kept now.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record is kept.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The most records kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Drops every record.
    pub fn clear(&mut self) {
        drop(self.take());
    }

    /// Removes every record and returns them, in no particular order (for
    /// a caller that drops them later).
    pub fn take(&mut self) -> Vec<Record<P>> {
        self.head = 0;
        core::mem::take(&mut self.records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64) -> Record<u64> {
        Record::new(id, "a.b".into(), id, 0.0, Status::Delivered)
    }

    fn push(h: &mut History<u64>, id: u64) {
        h.push(id, &"a.b".into(), id, 0.0, Status::Delivered, 0);
    }

    #[test]
    fn ring_keeps_the_newest() {
        let mut h = History::new(3);
        for id in 1..=5 {
            push(&mut h, id);
        }
        let ids: Vec<u64> = h.iter().map(|r| r.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert!(h.get(2).is_none());
        assert_eq!(h.get(4).map(|r| r.payload), Some(4));
        assert!(h.get(6).is_none());
        // A limit above the capacity it starts with: the ring grew, and
        // turns with slots to spare.
        let mut h = History::new(DEFAULT_HISTORY_LIMIT + 500);
        for id in 1..=4000 {
            push(&mut h, id);
        }
        assert!(h.iter().map(|r| r.id).eq(2501..=4000));
        assert_eq!(h.get(2501).map(|r| r.payload), Some(2501));
        assert_eq!(h.get(3333).map(|r| r.payload), Some(3333));
    }

    #[test]
    fn limit_zero_keeps_nothing() {
        let mut h = History::new(0);
        push(&mut h, 1);
        assert!(h.is_empty());
        assert!(h.get(1).is_none());
    }

    #[test]
    fn errors_are_capped_and_counted() {
        let mut r = record(1);
        for i in 0..(MAX_ERRORS_PER_RECORD + 5) {
            r.add_error(&format!("e{i}"));
        }
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.errors().len(), MAX_ERRORS_PER_RECORD);
        assert_eq!(r.errors()[0], "e0");
        assert_eq!(r.errors().last().unwrap(), "… and 6 more handler errors");
        let mut r = record(2);
        r.add_error(&"x".repeat(MAX_ERROR_LEN + 10));
        assert_eq!(r.errors()[0].chars().count(), MAX_ERROR_LEN + 1);
    }
}
