//! The bus as a state machine: [`Core`] owns names, subscriptions, schemas,
//! history and statistics, and is driven by a dispatcher.
//!
//! ## One emit
//!
//! 1. The dispatcher interns the name ([`Core::intern`]) and, if the event
//!    has a schema, reads the payload as the schema's [`Plan`] says.
//! 2. [`Core::begin`] validates, applies the mode's rules for unknown events,
//!    records the attempt, and returns the record id (or the refusal, which
//!    is recorded too, as `rejected`).
//! 3. The dispatcher calls the handlers of [`Core::snapshot`], skipping any
//!    that [`Core::is_subscribed`] no longer lists, unsubscribing `once`
//!    handlers just before their call, and reporting failures with
//!    [`Core::add_error`].
//! 4. [`Core::finish`] stores the outcome and the timing.
//!
//! ## Re-entrancy
//!
//! A handler may call anything on the bus, emit included. The core holds no
//! state across steps but a stack of in-flight emits, and refuses to go more
//! than [`MAX_DEPTH`] emits deep, so a handler that re-emits its own event
//! gets an error instead of a stack overflow.

pub mod history;
pub mod names;
pub mod registry;
pub mod stats;

use std::collections::HashSet;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::schema::probe::{Plan, Probe};
use crate::schema::{Issue, Schema, Schemas};
pub use history::DEFAULT_HISTORY_LIMIT;
use history::{History, Record, Status};
pub use names::MAX_NAME_LEN;
use names::{is_conventional, NameId, Names};
use registry::{Registry, SubId, Subscription};
use stats::{Stat, Stats};

/// How many emits may be nested inside handlers before `emit` refuses.
pub const MAX_DEPTH: usize = 64;

/// What to do with events that have no schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deliver them, with one warning per name.
    Development,
    /// Refuse them.
    Strict,
}

/// How a bus is set up.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Development or strict.
    pub mode: Mode,
    /// Records kept in the history; 0 keeps none.
    pub history_limit: usize,
    /// Whether the seed's catalog is registered.
    pub catalog: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Development,
            history_limit: DEFAULT_HISTORY_LIMIT,
            catalog: true,
        }
    }
}

/// An accepted emit.
#[derive(Clone, Debug, PartialEq)]
pub struct Begun {
    /// Its record id, for [`Core::finish`].
    pub record: u64,
    /// A warning to show once (an unknown event in development mode).
    pub warning: Option<String>,
}

#[derive(Debug)]
struct InFlight {
    record: u64,
    name: NameId,
    failed: bool,
}

/// The bus's state, generic over what a handler is (`H`) and what a payload
/// is (`P`).
#[derive(Debug)]
pub struct Core<H, P> {
    names: Names,
    registry: Registry<H>,
    schemas: Schemas,
    schema_of: Vec<Option<Rc<Schema>>>,
    history: History<P>,
    stats: Stats,
    mode: Mode,
    next_record: u64,
    in_flight: Vec<InFlight>,
    warned: HashSet<NameId>,
}

impl<H: Clone, P> Core<H, P> {
    /// A bus with no handlers.
    pub fn new(options: Options) -> Self {
        Core {
            names: Names::default(),
            registry: Registry::default(),
            schemas: Schemas::new(options.catalog),
            schema_of: Vec::new(),
            history: History::new(options.history_limit),
            stats: Stats::default(),
            mode: options.mode,
            next_record: 1,
            in_flight: Vec::new(),
            warned: HashSet::new(),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The id of an event name (see [`names::check_event_name`]).
    pub fn intern(&mut self, name: &str) -> Result<NameId> {
        let id = self.names.intern(name)?;
        let at = id.0 as usize;
        if at >= self.schema_of.len() {
            let schema = self.schemas.get(name).cloned().map(Rc::new);
            self.schema_of.push(schema);
        }
        Ok(id)
    }

    /// The text of an interned name.
    pub fn name(&self, id: NameId) -> Option<&Rc<str>> {
        self.names.name(id)
    }

    /// The schema of an interned name.
    pub fn schema(&self, id: NameId) -> Option<&Schema> {
        self.schema_of.get(id.0 as usize)?.as_deref()
    }

    /// How to read a payload of this event, if it has a schema.
    pub fn plan(&self, id: NameId) -> Option<&Plan> {
        self.schema(id).map(Schema::plan)
    }

    /// The registered schemas.
    pub fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    /// Compiles and registers a schema (see [`Schemas::compile`] and
    /// [`Schemas::register`]).
    pub fn register_schema<'a>(
        &mut self,
        name: &str,
        version: &str,
        description: &str,
        payload: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<()> {
        let schema = self.schemas.compile(name, version, description, payload)?;
        self.schemas.register(schema.clone())?;
        if let Some(id) = self.names.get(name) {
            self.schema_of[id.0 as usize] = Some(Rc::new(schema));
        }
        Ok(())
    }

    /// Validates without emitting; `None` when the event has no schema.
    pub fn validate(&self, id: NameId, probes: &[Probe]) -> Option<Vec<Issue>> {
        self.schema(id).map(|s| s.check(probes))
    }

    /// Subscribes `handler` to a pattern (see [`names::parse_pattern`]).
    pub fn subscribe(&mut self, pattern: &str, handler: H, once: bool) -> Result<SubId> {
        self.registry.subscribe(pattern, handler, once)
    }

    /// Removes a subscription; `None` if it was already gone.
    pub fn unsubscribe(&mut self, id: SubId) -> Option<H> {
        self.registry.unsubscribe(id)
    }

    /// Whether a subscription is still registered.
    pub fn is_subscribed(&self, id: SubId) -> bool {
        self.registry.contains(id)
    }

    /// The subscriptions to exactly `pattern`, oldest first.
    pub fn registrations(&self, pattern: &str) -> &[Subscription<H>] {
        self.registry.registrations(pattern)
    }

    /// How many subscriptions `pattern` has, counting only that exact pattern.
    pub fn handler_count(&self, pattern: &str) -> usize {
        self.registry.count(pattern)
    }

    /// How many subscriptions there are in all.
    pub fn subscription_count(&self) -> usize {
        self.registry.len()
    }

    /// The subscriptions an emit of `id` reaches, in subscription order.
    pub fn snapshot(&self, id: NameId) -> Vec<Subscription<H>> {
        match self.names.name(id) {
            Some(name) => self.registry.snapshot(name),
            None => Vec::new(),
        }
    }

    /// Removes every subscription, the history and the statistics; returns
    /// the removed handlers. Schemas stay.
    pub fn clear(&mut self) -> Vec<H> {
        self.clear_history();
        self.registry.clear()
    }

    /// Forgets the history and the statistics.
    pub fn clear_history(&mut self) {
        self.history.clear();
        self.stats.clear();
    }

    /// Starts an emit: validates the payload described by `probes` (the
    /// payload itself, then one probe per field of the schema's plan),
    /// applies the mode, and records the attempt at time `now` (milliseconds
    /// since the Unix epoch). A refusal is recorded as `rejected` and
    /// returned as the error.
    pub fn begin(&mut self, id: NameId, payload: P, probes: &[Probe], now: f64) -> Result<Begun> {
        let name = self.names.name(id).cloned().ok_or(Error::EmptyName)?;
        let record = self.next_record;
        self.next_record += 1;
        let mut entry = Record::new(record, name.clone(), payload, now);
        let mut warning = None;

        let issues = self.schema(id).map(|schema| schema.check(probes));
        let refusal = if self.in_flight.len() >= MAX_DEPTH {
            Some(Error::DepthExceeded {
                event: name.to_string(),
            })
        } else if let Some(issues) = issues {
            (!issues.is_empty()).then(|| Error::Validation {
                event: name.to_string(),
                issues,
            })
        } else {
            let bad_name = !is_conventional(&name);
            match self.mode {
                Mode::Strict => Some(Error::UnknownEvent {
                    event: name.to_string(),
                    bad_name,
                }),
                Mode::Development => {
                    if self.warned.insert(id) {
                        warning = Some(unknown_event_warning(&name, bad_name));
                    }
                    None
                }
            }
        };

        if let Some(error) = refusal {
            entry.status = Status::Rejected;
            entry.add_error(&error.to_string());
            if let Error::Validation { issues, .. } = &error {
                entry.issues = issues.clone();
            }
            self.history.push(entry);
            return Err(error);
        }
        self.history.push(entry);
        self.in_flight.push(InFlight {
            record,
            name: id,
            failed: false,
        });
        Ok(Begun { record, warning })
    }

    /// Adds a handler failure to a record. Before [`Core::finish`] it makes
    /// the emit `failed`; after it (a promise that rejected later) it turns a
    /// delivered record into a failed one, if the record is still kept.
    pub fn add_error(&mut self, record: u64, message: &str) {
        if let Some(flight) = self.in_flight.iter_mut().find(|f| f.record == record) {
            flight.failed = true;
        }
        if let Some(entry) = self.history.get_mut(record) {
            entry.add_error(message);
            if entry.status == Status::Delivered {
                entry.status = Status::Failed;
            }
        }
    }

    /// Ends an emit begun with [`Core::begin`]: `handler_count` handlers were
    /// called in `duration` milliseconds.
    pub fn finish(&mut self, record: u64, handler_count: u32, duration: f64) {
        let Some(at) = self.in_flight.iter().rposition(|f| f.record == record) else {
            return;
        };
        let flight = self.in_flight.remove(at);
        self.stats.track(flight.name, duration);
        if let Some(entry) = self.history.get_mut(record) {
            entry.status = if flight.failed {
                Status::Failed
            } else {
                Status::Delivered
            };
            entry.handler_count = handler_count;
            entry.duration_ms = duration;
        }
    }

    /// The id of the last record begun (0 before the first emit).
    pub fn last_record(&self) -> u64 {
        self.next_record - 1
    }

    /// Rewrites the issues and message of a rejected record, after the
    /// bindings made them more precise (a refused literal's actual value).
    pub fn amend_refusal(&mut self, record: u64, issues: Vec<Issue>, message: &str) {
        if let Some(entry) = self.history.get_mut(record) {
            entry.issues = issues;
            entry.errors.clear();
            entry.add_error(message);
        }
    }

    /// How many emits are running now (nested ones included).
    pub fn depth(&self) -> usize {
        self.in_flight.len()
    }

    /// The history.
    pub fn history(&self) -> &History<P> {
        &self.history
    }

    /// The statistics of an event by name, `None` if never dispatched.
    pub fn stats(&self, name: &str) -> Option<Stat> {
        self.stats.get(self.names.get(name)?)
    }

    /// Every dispatched event with its statistics.
    pub fn all_stats(&self) -> impl Iterator<Item = (&Rc<str>, Stat)> + '_ {
        self.stats.iter().filter_map(|(id, s)| Some((self.names.name(id)?, s)))
    }
}

fn unknown_event_warning(name: &str, bad_name: bool) -> String {
    if bad_name {
        format!(
            "kaiwa-bus: \"{name}\" breaks the event naming convention \
             (lower-case dot notation: domain.action[.result]) and has no schema; \
             it is delivered unvalidated, and strict mode would refuse it"
        )
    } else {
        format!(
            "kaiwa-bus: no schema is registered for \"{name}\"; it is delivered unvalidated, \
             and strict mode would refuse it"
        )
    }
}
