//! [`LocalBus`]: the bus for Rust callers, with `Fn` handlers.
//!
//! It drives [`Core`] exactly as the JS layer does in the browser (see the
//! steps in [`crate::core`]), so the host tests of its semantics are tests of
//! the protocol the JS layer follows too.
//!
//! ## Re-entrancy
//!
//! No `RefCell` borrow is held while a handler runs: a handler may emit,
//! subscribe, unsubscribe or clear on the same bus.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::core::registry::SubId;
use crate::core::{Core, Options};
use crate::error::{NameError, Result, SchemaError};
use crate::schema::probe::{Plan, Probe};

/// A payload the bus can validate: it describes itself as the plan asks.
pub trait Payload {
    /// Pushes one probe for the payload itself, then one per key of `plan`.
    fn probe(&self, plan: &Plan, out: &mut Vec<Probe>);
}

/// What a handler learns about the event besides its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Meta {
    /// The event name.
    pub name: Rc<str>,
    /// The history record id.
    pub id: u64,
    /// When the emit started, in milliseconds since the Unix epoch.
    pub timestamp: f64,
}

/// A handler: `Err` is a failure, recorded and isolated from other handlers.
pub type Handler<P> = Rc<dyn Fn(&P, &Meta) -> std::result::Result<(), String>>;

/// A bus whose handlers are Rust closures.
pub struct LocalBus<P> {
    core: RefCell<Core<Handler<P>, P>>,
    warnings: RefCell<Vec<String>>,
    /// How many emits are running now (nested in handlers).
    depth: Cell<usize>,
}

impl<P> fmt::Debug for LocalBus<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let core = self.core.try_borrow();
        f.debug_struct("LocalBus")
            .field("handlers", &core.as_ref().map(|c| c.subscription_count()).ok())
            .finish_non_exhaustive()
    }
}

impl<P: Payload + Clone> LocalBus<P> {
    /// A bus with these options.
    pub fn new(options: Options) -> Self {
        LocalBus {
            core: RefCell::new(Core::new(options)),
            warnings: RefCell::new(Vec::new()),
            depth: Cell::new(0),
        }
    }

    /// Calls `handler` for every event matching `pattern`.
    pub fn on(
        &self,
        pattern: &str,
        handler: impl Fn(&P, &Meta) -> std::result::Result<(), String> + 'static,
    ) -> std::result::Result<SubId, NameError> {
        self.core.borrow_mut().subscribe(pattern, Rc::new(handler), false)
    }

    /// Calls `handler` for the next event matching `pattern` only.
    pub fn once(
        &self,
        pattern: &str,
        handler: impl Fn(&P, &Meta) -> std::result::Result<(), String> + 'static,
    ) -> std::result::Result<SubId, NameError> {
        self.core.borrow_mut().subscribe(pattern, Rc::new(handler), true)
    }

    /// Removes a subscription; `false` if it was already gone.
    pub fn off(&self, id: SubId) -> bool {
        self.core.borrow_mut().unsubscribe(id).is_some()
    }

    /// Removes every handler, the history and the statistics.
    pub fn clear(&self) {
        // Dropped after the borrow ends: a handler's drop may use the bus.
        let removed = self.core.borrow_mut().clear();
        drop(removed);
    }

    /// Validates, records and dispatches an event; returns its record id.
    /// The error is an [`crate::error::InternError`] or an
    /// [`crate::error::EmitError`].
    pub fn emit(&self, name: &str, payload: P) -> Result<u64> {
        let started = Instant::now();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let (id, begun, subscriptions, name) = {
            let mut core = self.core.borrow_mut();
            let Some(id) = core.intern(name)? else {
                let (_, error) = core.reject_unnamed(name, payload, now, self.depth.get());
                return Err(error.into());
            };
            let subscriptions = core.snapshot(id);
            let mut probes = Vec::new();
            if let Some(plan) = core.plan(id) {
                payload.probe(plan, &mut probes);
            }
            let planned = subscriptions.len() as u32;
            let begun = core.begin(id, payload.clone(), &probes[..], now, self.depth.get(), planned)?;
            let name = core.name(id).cloned().unwrap_or_else(|| name.into());
            (id, begun, subscriptions, name)
        };
        if let Some(warning) = begun.warning {
            self.warnings.borrow_mut().push(warning);
        }
        let meta = Meta {
            name,
            id: begun.record,
            timestamp: now,
        };
        self.depth.set(self.depth.get().saturating_add(1));
        let mut called = 0u32;
        for sub in subscriptions {
            {
                let mut core = self.core.borrow_mut();
                if !core.is_subscribed(sub.id) {
                    continue;
                }
                if sub.once {
                    core.unsubscribe(sub.id);
                }
            }
            called = called.saturating_add(1u32);
            if let Err(message) = (sub.handler)(&payload, &meta) {
                self.core.borrow_mut().add_error(begun.record, &message);
            }
        }
        self.depth.set(self.depth.get().saturating_sub(1));
        let duration = started.elapsed().as_secs_f64() * 1000.0;
        self.core.borrow_mut().finish(id, begun.record, called, Some(duration));
        Ok(begun.record)
    }

    /// Registers a schema in descriptor notation; `audience` is who
    /// receives the event through the relay (`"user"`, `"all"`, `"group"`).
    pub fn register_schema(
        &self,
        name: &str,
        version: &str,
        description: &str,
        audience: &str,
        payload: &[(&str, &str)],
    ) -> std::result::Result<(), SchemaError> {
        self.core
            .borrow_mut()
            .register_schema(name, version, description, audience, payload)
    }

    /// Reads the core (history, statistics, schemas, handler counts).
    /// `f` must not call back into this bus.
    pub fn with_core<R>(&self, f: impl FnOnce(&Core<Handler<P>, P>) -> R) -> R {
        f(&self.core.borrow())
    }

    /// How many emits are running now (nested ones included).
    pub fn depth(&self) -> usize {
        self.depth.get()
    }

    /// The warnings given so far (one per unknown event name, in development mode).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.borrow().clone()
    }
}
