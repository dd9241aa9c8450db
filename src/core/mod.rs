//! The bus as a state machine: [`Core`] owns names, subscriptions, schemas,
//! history and statistics, and is driven by a dispatcher.
//!
//! ## One emit
//!
//! 1. The dispatcher interns the name ([`Core::intern`]), takes the
//!    [`Core::snapshot`] of the handlers it will call, and, if the event has
//!    a schema, reads the payload as the schema's [`Plan`] says.
//! 2. [`Core::check`] validates, applies the mode's rules for unknown events
//!    and the depth limit. Then [`Core::start`] records the emit as
//!    `delivered` to that many handlers, or [`Core::reject`] records the
//!    refusal. ([`Core::begin`] does both steps.)
//! 3. The dispatcher calls the handlers, skipping any that
//!    [`Core::is_subscribed`] no longer lists, unsubscribing `once` handlers
//!    just before their call, and reporting failures with
//!    [`Core::add_error`], which turn the record `failed`.
//! 4. [`Core::finish`] corrects the record when fewer handlers ran than
//!    planned, and adds the duration when the dispatcher timed the emit.
//!    Most emits need no step 4: in the browser an emit is one crossing of
//!    the JS/wasm boundary.
//!
//! ## Re-entrancy
//!
//! A handler may call anything on the bus, emit included. The core keeps no
//! state between the steps; the dispatcher tells [`Core::check`] how deep in
//! nested emits it is, and the core refuses to go more than [`MAX_DEPTH`]
//! deep, so a handler that re-emits its own event gets an error instead of a
//! stack overflow.

use crate::prelude::*;

use crate::base::{cat, owned};

pub mod history;
pub mod names;
pub mod registry;
pub mod stats;

use alloc::rc::Rc;

use crate::error::{EmitError, InternError, Message, NameError, SchemaError};
use crate::schema::probe::{Describe, Plan};
use crate::schema::{Issue, Schema, Schemas};
pub use history::DEFAULT_HISTORY_LIMIT;
use history::{History, Record, Status};
pub use names::MAX_NAME_LEN;
use names::{check_event_name, is_conventional, NameId, Names};
use registry::{Registry, SubId, Subscription};
use stats::{Stat, Stats};

pub use crate::limits::{MAX_DEPTH, MAX_NAMES};

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
struct NameInfo {
    schema: Option<Rc<Schema>>,
    conventional: bool,
    warned: bool,
}

/// The bus's state, generic over what a handler is (`H`) and what a payload
/// is (`P`).
#[derive(Debug)]
pub struct Core<H, P> {
    names: Names,
    registry: Registry<H>,
    schemas: Schemas,
    /// By name id: what `check` needs to know, decided once per name.
    info: Vec<NameInfo>,
    history: History<P>,
    stats: Stats,
    mode: Mode,
    next_record: u64,
    /// Where the search for a name to forget goes on from (a clock hand
    /// over the ids, so each search starts where the last one stopped).
    hand: u32,
}

impl<H: Clone, P> Core<H, P> {
    /// A bus with no handlers.
    pub fn new(options: Options) -> Self {
        Core {
            names: Names::default(),
            registry: Registry::default(),
            schemas: Schemas::new(options.catalog),
            info: Vec::new(),
            history: History::new(options.history_limit),
            stats: Stats::default(),
            mode: options.mode,
            next_record: 1,
            hand: 0,
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The id of an event name an emit may deliver (see
    /// [`names::check_event_name`]), interning it on first sight. `None`
    /// for a name strict mode refuses (no schema): refused names are never
    /// interned, so they cost nothing lasting ([`Core::reject_unnamed`]
    /// records their refusal).
    ///
    /// A name with a schema is always kept. Names without one are kept up
    /// to [`MAX_NAMES`]; past that, a new one takes the id of a name nothing
    /// refers to any more (no schema, no subscription to exactly it, no
    /// record in the history), which is forgotten with its statistics
    /// ([`Core::forgettable`]). Only when every name is still referred to is
    /// the new one refused ([`InternError::Full`]). The dispatcher must drop
    /// what it cached under the reused id.
    pub fn intern(&mut self, name: &str) -> Result<Option<NameId>, InternError> {
        let id = match self.names.get(name) {
            Some(id) => id,
            None => {
                check_event_name(name)?;
                let has_schema = self.schemas.get(name).is_some();
                if self.mode == Mode::Strict && !has_schema {
                    return Ok(None);
                }
                if has_schema || self.names.len() < MAX_NAMES {
                    self.names.add(name)
                } else {
                    let id = self
                        .forgettable()
                        .ok_or_else(|| InternError::Full { event: owned(name) })?;
                    self.reuse(id, name);
                    id
                }
            }
        };
        self.fill_info();
        Ok(Some(id))
    }

    /// A name without a schema, subscription or record, found by going
    /// round the ids from where the last search stopped; `None` if every
    /// name is still referred to.
    fn forgettable(&mut self) -> Option<NameId> {
        let len = self.names.len() as u32;
        for _ in 0..len {
            let id = NameId(self.hand);
            self.hand = self.hand.wrapping_add(1).checked_rem(len).unwrap_or(0);
            let schema = self.info.get(id.0 as usize).is_none_or(|i| i.schema.is_some());
            // The interner holds the name's one reference; each record holds another.
            let name = self.names.name(id).filter(|n| !schema && Rc::strong_count(n) == 1);
            if name.is_some_and(|n| self.registry.count(n) == 0) {
                return Some(id);
            }
        }
        None
    }

    /// Gives `id` to `name`: the old name's statistics go, and `name` starts
    /// with its own info.
    fn reuse(&mut self, id: NameId, name: &str) {
        let info = self.new_info(name);
        self.names.replace(id, name);
        self.stats.forget(id);
        if let Some(slot) = self.info.get_mut(id.0 as usize) {
            *slot = info;
        }
    }

    fn new_info(&self, name: &str) -> NameInfo {
        NameInfo {
            schema: self.schemas.shared(name).cloned(),
            conventional: is_conventional(name),
            warned: false,
        }
    }

    /// The id of a name already interned, or of one with a schema (interned
    /// now: schemas are bounded); `None` otherwise, and nothing is kept.
    pub fn lookup(&mut self, name: &str) -> Option<NameId> {
        match self.names.get(name) {
            Some(id) => Some(id),
            None if self.schemas.get(name).is_some() => self.intern(name).ok().flatten(),
            None => None,
        }
    }

    /// One [`NameInfo`] per interned name. A loop, not one push, so that an
    /// intern cut short (a JS stack overflow unwinds wasm without running
    /// anything) is completed by the next call.
    fn fill_info(&mut self) {
        while let Some(name) = self.names.name(NameId(self.info.len() as u32)) {
            let info = self.new_info(name);
            self.info.push(info);
        }
    }

    /// The text of an interned name.
    pub fn name(&self, id: NameId) -> Option<&Rc<str>> {
        self.names.name(id)
    }

    /// The schema of an interned name.
    pub fn schema(&self, id: NameId) -> Option<&Schema> {
        self.info.get(id.0 as usize)?.schema.as_deref()
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
    pub fn register_schema(
        &mut self,
        name: &str,
        version: &str,
        description: &str,
        audience: &str,
        payload: &[(&str, &str)],
    ) -> Result<(), SchemaError> {
        let schema = self.schemas.compile(name, version, description, audience, payload)?;
        let shared = self.schemas.register(schema)?;
        if let Some(info) = self.names.get(name).and_then(|id| self.info.get_mut(id.0 as usize)) {
            info.schema = Some(shared);
        }
        Ok(())
    }

    /// Validates without emitting; `None` when the event has no schema.
    pub fn validate(&self, id: NameId, probes: &(impl Describe + ?Sized)) -> Option<Vec<Issue>> {
        self.schema(id).map(|s| s.check(probes))
    }

    /// Subscribes `handler` to a pattern (see [`names::parse_pattern`]).
    pub fn subscribe(&mut self, pattern: &str, handler: H, once: bool) -> Result<SubId, NameError> {
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
    pub fn registrations<'a>(&'a self, pattern: &'a str) -> impl Iterator<Item = &'a Subscription<H>> {
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

    /// Forgets the statistics and hands back the records, for a caller that
    /// drops them later (outside a borrow).
    pub fn take_history(&mut self) -> Vec<Record<P>> {
        self.stats.clear();
        self.history.take()
    }

    /// Starts an emit at depth `depth` (the number of emits running around
    /// it): [`Core::check`], then [`Core::start`] or, for a refusal,
    /// [`Core::reject`] (the refusal is recorded and returned).
    pub fn begin(
        &mut self,
        id: NameId,
        payload: P,
        probes: &(impl Describe + ?Sized),
        now: f64,
        depth: usize,
        handler_count: u32,
    ) -> Result<Begun, EmitError> {
        match self.check(id, probes, depth) {
            Ok(warning) => Ok(Begun {
                record: self.start(id, payload, now, handler_count),
                warning,
            }),
            Err(error) => {
                self.reject(id, payload, now, &error);
                Err(error)
            }
        }
    }

    /// Decides whether an emit of `id` may go ahead: validates the payload
    /// described by `probes` (the payload itself, then one probe per field
    /// of the schema's plan, see [`crate::schema::probe`]), applies the mode
    /// to unknown events, and refuses a `depth` of [`MAX_DEPTH`] or more.
    /// `Ok` carries a warning to show once.
    #[inline]
    pub fn check(
        &mut self,
        id: NameId,
        probes: &(impl Describe + ?Sized),
        depth: usize,
    ) -> Result<Option<String>, EmitError> {
        if self.info.len() <= id.0 as usize {
            self.fill_info();
        }
        let (Some(name), Some(info)) = (self.names.name(id), self.info.get_mut(id.0 as usize)) else {
            return Err(EmitError::UnknownId { id: id.0 });
        };
        if depth >= MAX_DEPTH {
            return Err(EmitError::DepthExceeded { event: owned(name) });
        }
        if let Some(schema) = info.schema.as_deref() {
            let issues = schema.check(probes);
            if issues.is_empty() {
                return Ok(None);
            }
            return Err(EmitError::Validation {
                event: owned(name),
                issues,
            });
        }
        let bad_name = !info.conventional;
        match self.mode {
            Mode::Strict => Err(EmitError::UnknownEvent {
                event: owned(name),
                bad_name,
            }),
            Mode::Development if info.warned => Ok(None),
            Mode::Development => {
                info.warned = true;
                Ok(Some(unknown_event_warning(name, bad_name)))
            }
        }
    }

    /// Whether [`Core::check`] would accept an emit of `id` at `depth`,
    /// told from the first word of its payload's [`Packed`] description
    /// alone ([`Schema::sure`]): the common emit, of an event with a
    /// schema, decided in a few instructions and without building a
    /// result. `false` says nothing: [`Core::check`] decides.
    #[inline]
    pub fn sure(&self, id: NameId, word: i32, depth: usize) -> bool {
        let schema = self.info.get(id.0 as usize).and_then(|info| info.schema.as_deref());
        depth < MAX_DEPTH && schema.is_some_and(|s| s.sure(word)) && self.names.name(id).is_some()
    }

    /// Appends a record of `name`, with the next record id, which it
    /// returns (see [`History::push`]).
    #[inline]
    fn push(&mut self, name: &Rc<str>, payload: P, now: f64, status: Status, handler_count: u32) -> u64 {
        let record = self.next_record;
        self.next_record = record.wrapping_add(1);
        self.history.push(record, name, payload, now, status, handler_count);
        record
    }

    #[inline]
    fn name_of(&self, id: NameId) -> Rc<str> {
        self.names.name(id).cloned().unwrap_or_else(|| "".into())
    }

    /// Records an emit that [`Core::check`] accepted, at `now` (ms since the
    /// Unix epoch), as delivered to `handler_count` handlers; returns its
    /// record id.
    #[inline]
    pub fn start(&mut self, id: NameId, payload: P, now: f64, handler_count: u32) -> u64 {
        let record = self.next_record;
        self.next_record = record.wrapping_add(1);
        // The name is lent, not cloned: the history and the names are apart.
        let unnamed;
        let name = match self.names.name(id) {
            Some(name) => name,
            None => {
                unnamed = Rc::from("");
                &unnamed
            }
        };
        self.history
            .push(record, name, payload, now, Status::Delivered, handler_count);
        self.stats.count(id, 1);
        record
    }

    /// [`Core::start`] of `count` emits of `id` in a row, each with a
    /// payload from `payload`: the name is looked up and the statistics
    /// updated once.
    pub fn start_run(&mut self, id: NameId, mut payload: impl FnMut() -> P, now: f64, handler_count: u32, count: u32) {
        let name = self.name_of(id);
        for _ in 0..count {
            self.push(&name, payload(), now, Status::Delivered, handler_count);
        }
        self.stats.count(id, count.into());
    }

    /// Refuses an emit of a name [`Core::intern`] did not keep (strict
    /// mode, no schema): records it as `rejected` under its own text,
    /// without interning it, and returns the record id and the error.
    pub fn reject_unnamed(&mut self, name: &str, payload: P, now: f64, depth: usize) -> (u64, EmitError) {
        let error = if depth >= MAX_DEPTH {
            EmitError::DepthExceeded { event: owned(name) }
        } else {
            EmitError::UnknownEvent {
                event: owned(name),
                bad_name: !is_conventional(name),
            }
        };
        let record = self.push(&name.into(), payload, now, Status::Rejected, 0);
        self.explain(record, &error);
        (record, error)
    }

    /// Records an emit that [`Core::check`] refused, as `rejected`; returns
    /// its record id.
    pub fn reject(&mut self, id: NameId, payload: P, now: f64, error: &EmitError) -> u64 {
        let record = self.push(&self.name_of(id), payload, now, Status::Rejected, 0);
        self.explain(record, error);
        record
    }

    /// Adds why it was refused to a rejected record.
    fn explain(&mut self, record: u64, error: &EmitError) {
        if let Some(entry) = self.history.get_mut(record) {
            entry.reject(&error.message(), error.issues().to_vec());
        }
    }

    /// Adds a handler failure (a throw, or a promise that rejected, even
    /// long after the emit) to a record, which becomes `failed`, if it is
    /// still kept.
    pub fn add_error(&mut self, record: u64, message: &str) {
        if let Some(entry) = self.history.get_mut(record) {
            entry.add_error(message);
        }
    }

    /// Marks a record as handed in by a transport, if it is still kept.
    pub fn set_source(&mut self, record: u64, source: &str) {
        if let Some(entry) = self.history.get_mut(record) {
            entry.set_source(source);
        }
    }

    /// Completes the record of an emit of `id`: `handler_count` handlers
    /// were called (fewer than planned when some unsubscribed during the
    /// dispatch), in `duration` milliseconds if the dispatcher timed it.
    pub fn finish(&mut self, id: NameId, record: u64, handler_count: u32, duration: Option<f64>) {
        if let Some(d) = duration {
            self.stats.time(id, d);
        }
        if let Some(entry) = self.history.get_mut(record) {
            entry.handler_count = handler_count;
            entry.duration_ms = duration;
        }
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
        cat(&[
            "kaiwa-bus: \"",
            name,
            "\" breaks the event naming convention \
             (lower-case dot notation: domain.action[.result]) and has no schema; \
             it is delivered unvalidated, and strict mode would refuse it",
        ])
    } else {
        cat(&[
            "kaiwa-bus: no schema is registered for \"",
            name,
            "\"; it is delivered unvalidated, and strict mode would refuse it",
        ])
    }
}
