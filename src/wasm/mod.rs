//! The bindings the JS layer (`js/bus.js`) calls. Not a public API: users see
//! the `EventBus` class of the JS layer, which wraps a [`BusCore`].
//!
//! Every method takes `&self` and holds a `RefCell` borrow only while it runs
//! Rust code: nothing here calls user JS while borrowed, so a handler (or a
//! patched `console`) that re-enters the bus finds it free. A borrow that is
//! somehow taken anyway is reported as a JS `Error`, never a panic.

mod convert;

use std::cell::RefCell;

use js_sys::{Array, TypeError};
use wasm_bindgen::prelude::*;

use crate::core::names::NameId;
use crate::core::registry::SubId;
use crate::core::{Core, Mode, Options};
use crate::error::Error;
use crate::schema::probe::Kind;
use crate::schema::Issue;

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// Handlers live in the JS layer, keyed by subscription id: the core keeps
/// only the ids (`H = ()`), so no handler closure is rooted in wasm's externref
/// table, and a bus whose handlers close over it can still be collected.
type JsCore = Core<(), JsValue>;

/// The bus state behind one JS `EventBus`.
#[wasm_bindgen]
pub struct BusCore {
    core: RefCell<JsCore>,
    /// Probe codes written by `js/probe.js` just before `emit` or `validate`.
    probes: RefCell<Vec<i32>>,
    /// Buffers replaced by a larger one. Kept, never freed: a payload reader
    /// interrupted by a nested emit may still write into the old one, and
    /// must not write into memory the allocator has handed out again.
    retired: RefCell<Vec<Vec<i32>>>,
    warning: RefCell<Option<String>>,
    refusal: RefCell<JsValue>,
}

impl std::fmt::Debug for BusCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusCore").finish_non_exhaustive()
    }
}

const BUSY: &str = "kaiwa-bus: the bus was re-entered from inside its own bookkeeping";

fn busy() -> JsValue {
    js_sys::Error::new(BUSY).into()
}

fn type_error(error: &Error) -> JsValue {
    TypeError::new(&format!("kaiwa-bus: {error}")).into()
}

#[wasm_bindgen]
impl BusCore {
    /// A core with the catalog (or not), in development or strict mode.
    #[wasm_bindgen(constructor)]
    pub fn new(strict: bool, history_limit: u32, catalog: bool) -> BusCore {
        let mode = if strict { Mode::Strict } else { Mode::Development };
        BusCore {
            core: RefCell::new(Core::new(Options {
                mode,
                history_limit: history_limit as usize,
                catalog,
            })),
            probes: RefCell::new(Vec::new()),
            retired: RefCell::new(Vec::new()),
            warning: RefCell::new(None),
            refusal: RefCell::new(JsValue::UNDEFINED),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut JsCore) -> R) -> Result<R, JsValue> {
        let mut core = self.core.try_borrow_mut().map_err(|_| busy())?;
        Ok(f(&mut core))
    }

    /// The names `js/probe.js` must give the kind codes, in code order.
    #[wasm_bindgen(js_name = kindNames)]
    pub fn kind_names() -> Array {
        Kind::NAMES.iter().map(|n| JsValue::from_str(n)).collect()
    }

    /// The id of an event name; a `TypeError` for an empty, too long or
    /// wildcard name.
    pub fn intern(&self, name: &str) -> Result<u32, JsValue> {
        self.with(|c| c.intern(name))?
            .map(|id| id.0)
            .map_err(|e| type_error(&e))
    }

    /// `{ keys, modes }` of the event's schema, or `undefined`.
    pub fn plan(&self, name: u32) -> Result<JsValue, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core.schema(NameId(name)).map_or(JsValue::UNDEFINED, convert::plan))
    }

    /// Every literal of every schema, by atom id.
    pub fn atoms(&self) -> Result<Array, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core.schemas().atoms().iter().map(|a| JsValue::from_str(a)).collect())
    }

    /// Where `js/probe.js` writes probe codes: room for at least `len`
    /// integers. The address changes only when this is called with a larger
    /// `len` (then the buffer at least doubles, and the old one is retired).
    #[wasm_bindgen(js_name = probeBuffer)]
    pub fn probe_buffer(&self, len: u32) -> Result<u32, JsValue> {
        let mut probes = self.probes.try_borrow_mut().map_err(|_| busy())?;
        let len = len as usize;
        if probes.len() < len {
            let grown = vec![0; len.max(probes.len().saturating_mul(2))];
            let old = std::mem::replace(&mut *probes, grown);
            self.retired.try_borrow_mut().map_err(|_| busy())?.push(old);
        }
        Ok(probes.as_ptr() as u32)
    }

    /// The probe codes `js/probe.js` wrote, `len` of them.
    fn codes(&self, len: u32) -> Result<std::cell::Ref<'_, [i32]>, JsValue> {
        let probes = self.probes.try_borrow().map_err(|_| busy())?;
        let len = (len as usize).min(probes.len());
        Ok(std::cell::Ref::map(probes, |p| p.get(..len).unwrap_or_default()))
    }

    /// Checks and records an emit at nesting `depth`, planned for
    /// `handlers` handlers. Returns the record id; its negation when a
    /// warning waits in [`BusCore::take_warning`]; 0 when refused, with the
    /// reason in [`BusCore::take_refusal`]. Infallible, so the glue stays a
    /// plain call: for most emits, this is the only crossing.
    pub fn emit(&self, name: u32, payload: JsValue, probes: u32, now: f64, depth: u32, handlers: u32) -> f64 {
        let id = NameId(name);
        let checked = match (self.core.try_borrow_mut(), self.codes(probes)) {
            (Ok(mut core), Ok(codes)) => core.check(id, &codes, depth as usize),
            _ => return self.busy_refusal(),
        };
        let warning = match checked {
            Ok(warning) => warning,
            Err(error) => {
                // No borrow is held here: quoting a literal reads the payload.
                let refusal = self.refuse(id, payload, now, error);
                self.set_refusal(refusal);
                return 0.0;
            }
        };
        let Ok(record) = self.with(|c| c.start(id, payload, now, handlers)) else {
            return self.busy_refusal();
        };
        match warning {
            None => record as f64,
            Some(text) => {
                if let Ok(mut slot) = self.warning.try_borrow_mut() {
                    *slot = Some(text);
                }
                -(record as f64)
            }
        }
    }

    fn busy_refusal(&self) -> f64 {
        self.set_refusal(convert::refusal("busy", "", BUSY, &[], 0));
        0.0
    }

    fn set_refusal(&self, refusal: JsValue) {
        if let Ok(mut slot) = self.refusal.try_borrow_mut() {
            *slot = refusal;
        }
    }

    fn refuse(&self, id: NameId, payload: JsValue, now: f64, mut error: Error) -> JsValue {
        if let Error::Validation { issues, .. } = &mut error {
            quote_refused_literals(&payload, issues);
        }
        let Ok(record) = self.with(|c| c.reject(id, payload, now, &error)) else {
            return convert::refusal("busy", "", BUSY, &[], 0);
        };
        let message = error.to_string();
        match &error {
            Error::Validation { event, issues } => convert::refusal("validation", event, &message, issues, record),
            Error::UnknownEvent { event, .. } => convert::refusal("unknown", event, &message, &[], record),
            Error::DepthExceeded { event } => convert::refusal("depth", event, &message, &[], record),
            _ => convert::refusal("type", "", &message, &[], record),
        }
    }

    /// The warning announced by a negative [`BusCore::emit`] result.
    #[wasm_bindgen(js_name = takeWarning)]
    pub fn take_warning(&self) -> Option<String> {
        self.warning.try_borrow_mut().ok()?.take()
    }

    /// `{ kind, event, message, issues, record }` of the last refused emit;
    /// `kind` is `validation`, `unknown` or `depth`.
    #[wasm_bindgen(js_name = takeRefusal)]
    pub fn take_refusal(&self) -> JsValue {
        self.refusal.try_borrow_mut().map_or(JsValue::UNDEFINED, |mut r| {
            std::mem::replace(&mut *r, JsValue::UNDEFINED)
        })
    }

    /// Completes the record of an emit of `name`: `handler_count` handlers
    /// ran, in `duration` ms (`NaN` when the emit was not timed). Called only
    /// when the emit was timed or fewer handlers ran than planned.
    pub fn finish(&self, name: u32, record: f64, handler_count: u32, duration: f64) {
        let duration = (!duration.is_nan()).then_some(duration);
        if let Ok(mut core) = self.core.try_borrow_mut() {
            core.finish(NameId(name), record as u64, handler_count, duration);
        }
    }

    /// Records a handler failure (thrown, or a rejected promise).
    #[wasm_bindgen(js_name = addError)]
    pub fn add_error(&self, record: f64, message: &str) -> Result<(), JsValue> {
        self.with(|c| c.add_error(record as u64, message))
    }

    /// The subscription ids an emit of `name` reaches, in order.
    pub fn snapshot(&self, name: u32) -> Result<Vec<f64>, JsValue> {
        let subs = self.with(|c| c.snapshot(NameId(name)))?;
        Ok(subs.iter().map(|s| s.id.0 as f64).collect())
    }

    /// Subscribes to a pattern; returns the subscription id.
    pub fn subscribe(&self, pattern: &str, once: bool) -> Result<f64, JsValue> {
        self.with(|c| c.subscribe(pattern, (), once))?
            .map(|id| id.0 as f64)
            .map_err(|e| type_error(&e))
    }

    /// Removes a subscription; `false` if it was already gone.
    pub fn unsubscribe(&self, id: f64) -> Result<bool, JsValue> {
        let removed = self.with(|c| c.unsubscribe(SubId(id as u64)))?;
        Ok(removed.is_some())
    }

    /// The subscription ids of exactly `pattern`, oldest first.
    pub fn registrations(&self, pattern: &str) -> Result<Vec<f64>, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core.registrations(pattern).map(|s| s.id.0 as f64).collect())
    }

    /// Removes every subscription, the history and the statistics.
    pub fn clear(&self) -> Result<(), JsValue> {
        self.with(|c| drop(c.clear()))
    }

    /// Forgets the history and the statistics.
    #[wasm_bindgen(js_name = clearHistory)]
    pub fn clear_history(&self) -> Result<(), JsValue> {
        self.with(|c| c.clear_history())
    }

    /// Subscriptions to exactly `pattern`.
    #[wasm_bindgen(js_name = handlerCount)]
    pub fn handler_count(&self, pattern: &str) -> Result<u32, JsValue> {
        self.with(|c| c.handler_count(pattern) as u32)
    }

    /// Records, oldest first: the last `limit` (0: all), of one event if
    /// `name` is given.
    pub fn history(&self, limit: u32, name: Option<String>) -> Result<Array, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        let matching: Vec<_> = core
            .history()
            .iter()
            .rev()
            .filter(|r| name.as_deref().is_none_or(|n| *r.name == *n))
            .take(if limit == 0 { usize::MAX } else { limit as usize })
            .collect();
        Ok(matching.into_iter().rev().map(convert::record).collect())
    }

    /// One record, or `undefined` once it has left the history.
    pub fn record(&self, id: f64) -> Result<JsValue, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core
            .history()
            .get(id as u64)
            .map_or(JsValue::UNDEFINED, convert::record))
    }

    /// `{ count, averageDuration, minDuration, maxDuration }` or `null`.
    pub fn stats(&self, name: &str) -> Result<JsValue, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core.stats(name).map_or(JsValue::NULL, convert::stats))
    }

    /// `[name, stats]` pairs of every dispatched event.
    #[wasm_bindgen(js_name = allStats)]
    pub fn all_stats(&self) -> Result<Array, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core
            .all_stats()
            .map(|(name, s)| JsValue::from(Array::of2(&JsValue::from_str(name), &convert::stats(s))))
            .collect())
    }

    /// Compiles and registers a schema given in descriptor notation.
    #[wasm_bindgen(js_name = registerSchema)]
    pub fn register_schema(
        &self,
        name: &str,
        version: &str,
        description: &str,
        keys: Vec<String>,
        types: Vec<String>,
    ) -> Result<(), JsValue> {
        let fields: Vec<(&str, &str)> = keys
            .iter()
            .map(String::as_str)
            .zip(types.iter().map(String::as_str))
            .collect();
        self.with(|c| c.register_schema(name, version, description, &fields))?
            .map_err(|e| js_sys::Error::new(&format!("kaiwa-bus: {e}")).into())
    }

    /// `{ name, version, description, payload }` or `undefined`.
    pub fn schema(&self, name: &str) -> Result<JsValue, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        match core.schemas().get(name) {
            Some(s) => convert::schema(s),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Every registered event name, in order of first registration.
    #[wasm_bindgen(js_name = schemaNames)]
    pub fn schema_names(&self) -> Result<Array, JsValue> {
        let core = self.core.try_borrow().map_err(|_| busy())?;
        Ok(core.schemas().iter().map(|s| JsValue::from_str(&s.name)).collect())
    }

    /// Checks a probed payload without emitting: the issues (empty when
    /// valid), or `undefined` when the event has no schema.
    pub fn validate(&self, name: u32, payload: &JsValue, probes: u32) -> Result<JsValue, JsValue> {
        let codes = self.codes(probes)?;
        let core = self.core.try_borrow().map_err(|_| busy())?;
        let Some(mut issues) = core.validate(NameId(name), &codes) else {
            return Ok(JsValue::UNDEFINED);
        };
        drop((core, codes));
        quote_refused_literals(payload, &mut issues);
        Ok(convert::issues(&issues).into())
    }

    /// Whether the bus refuses unknown events.
    #[wasm_bindgen(getter)]
    pub fn strict(&self) -> bool {
        self.core.try_borrow().is_ok_and(|c| c.mode() == Mode::Strict)
    }

    /// The history limit.
    #[wasm_bindgen(getter, js_name = historyLimit)]
    pub fn history_limit(&self) -> u32 {
        self.core.try_borrow().map_or(0, |c| c.history().limit() as u32)
    }
}

/// A refused literal is reported as `received string`; show the string
/// itself when it is a plain data property (no getter is run for this).
fn quote_refused_literals(payload: &JsValue, issues: &mut [Issue]) {
    for issue in issues.iter_mut() {
        if issue.received != "string" || !issue.expected.starts_with('\'') {
            continue;
        }
        if let Some(value) = convert::peek_string(payload, &issue.path) {
            let shown: String = value.chars().take(40).collect();
            let more = if shown.len() < value.len() { "…" } else { "" };
            issue.received = format!("'{shown}{more}'");
        }
    }
}
