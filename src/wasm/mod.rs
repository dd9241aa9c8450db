//! The bindings the JS layer (`js/core/bus.js`) calls. Not a public API: users see
//! the `EventBus` class of the JS layer, which wraps a [`BusCore`].
//!
//! Every method takes `&self`. The state lives in a [`lock::Lock`], lent out
//! only while pure Rust runs: JS objects are built, and user code (a Proxy
//! trap while a refused literal is quoted) runs, only after the loan ends.
//! So a handler, a getter or a trap that re-enters the bus finds it free,
//! and a JS exception in the middle of a call (a stack overflow) leaves no
//! borrow behind: the next call works.

use crate::prelude::*;

use crate::base::{cat, head_chars};

mod convert;
mod lock;

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::core::history::Record;
use crate::core::names::NameId;
use crate::core::registry::SubId;
use crate::core::{Core, Mode, Options};
use crate::error::{EmitError, InternError, Message, NameError, SchemaError};
use crate::schema::probe::{Kind, Packed};
use crate::schema::Issue;
use lock::Lock;

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The package's build links no `std` (feature `wasm-no-std`, see
/// `src/lib.rs`), so this is its panic handler: a trap, with no message
/// formatted (no input reaches a panic; one would be a bug, and shows as
/// `RuntimeError: unreachable` with the wasm stack, as before).
#[cfg(feature = "wasm-no-std")]
#[panic_handler]
fn trap(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

// No panic hook (console_error_panic_hook): no input reaches a panic (see
// the deny-list in src/lib.rs), and the hook's message formatting cost 1.2 KB
// of gzipped .wasm. A panic, which would be a bug, shows as a
// `RuntimeError: unreachable` with the wasm stack.

/// Sets the interner's random hash seed when the first bus is made, before
/// its tables exist. Not a wasm start function: that ran inside every
/// `init()`, bus or not, and its lazy compilation and two calls out to JS
/// were about 0.2 ms of `init()` in Chromium.
fn seed_once() {
    static SEEDED: AtomicBool = AtomicBool::new(false);
    if !SEEDED.swap(true, Ordering::Relaxed) {
        // 2^32: two random halves make the 64-bit seed.
        let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64;
        crate::intern::set_seed(half() ^ half().rotate_left(32));
    }
}

/// Handlers and payloads live in the JS layer, handlers keyed by
/// subscription id and payloads by record id: the core keeps neither
/// (`H = ()`, `P = ()`). So no JS object is rooted in wasm's externref table
/// (a bus whose handlers close over it can still be collected), and an emit
/// passes only numbers: an object crossing into wasm costs more than the
/// rest of the call.
type JsCore = Core<(), ()>;

/// Everything one bus owns in wasm memory.
struct State {
    core: JsCore,
    /// The time recorded emits are stamped with, ms since the Unix epoch:
    /// the JS layer sets it whenever it reads the clock.
    now: f64,
    /// Probe codes written by `js/core/probe.js` just before `emit` or `validate`.
    probes: Vec<i32>,
    /// Buffers replaced by a larger one. Kept, never freed: a payload reader
    /// interrupted by a nested emit may still write into the old one, and
    /// must not write into memory the allocator has handed out again.
    retired: Vec<Vec<i32>>,
}

/// The description of a payload of `id` whose kinds are `word` and whose
/// other codes `js/core/probe.js` wrote from index `from` of the probe buffer
/// (see [`Packed`]; what the buffer lacks reads as a getter that threw, so
/// validation fails closed).
fn packed<'a>(core: &JsCore, probes: &'a [i32], id: NameId, word: i32, from: u32) -> Packed<'a> {
    Packed {
        word,
        codes: probes.get(from as usize..).unwrap_or_default(),
        fields: core.plan(id).map_or(0, |p| p.keys.len()),
    }
}

/// The bus state behind one JS `EventBus`.
#[wasm_bindgen]
pub struct BusCore {
    state: Lock<State>,
    warning: Cell<Option<String>>,
    /// The refusal [`BusCore::emit`] announced, for [`BusCore::refuse`].
    refused: Cell<Option<(NameId, EmitError)>>,
}

impl core::fmt::Debug for BusCore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BusCore").finish_non_exhaustive()
    }
}

/// The one conversion of the crate's errors into JS errors: a `TypeError`
/// for a bad name or pattern, an `Error` otherwise, with the message
/// prefixed once. Each operation's error type converts through it.
fn js_error(error: &dyn Message) -> JsValue {
    convert::make_error(&cat(&["kaiwa-bus: ", &error.message()]), error.is_type_error())
}

macro_rules! into_js_error {
    ($($ty:ty),*) => {$(
        impl From<$ty> for JsValue {
            fn from(error: $ty) -> JsValue {
                js_error(&error)
            }
        }
    )*};
}

into_js_error!(NameError, InternError, SchemaError);

fn strings<T: AsRef<str>>(items: &[T]) -> Array {
    items.iter().map(|s| JsValue::from_str(s.as_ref())).collect()
}

/// A name id for JS: -1 for "none".
fn id_or_none(id: Option<NameId>) -> i32 {
    id.map_or(-1, |id| id.0 as i32)
}

#[wasm_bindgen]
impl BusCore {
    /// A core with the catalog (or not), in development or strict mode.
    #[wasm_bindgen(constructor)]
    pub fn new(strict: bool, history_limit: u32, catalog: bool) -> BusCore {
        seed_once();
        let mode = if strict { Mode::Strict } else { Mode::Development };
        let core = Core::new(Options {
            mode,
            history_limit: history_limit as usize,
            catalog,
        });
        BusCore {
            state: Lock::new(State {
                core,
                now: 0.0,
                probes: Vec::new(),
                retired: Vec::new(),
            }),
            warning: Cell::new(None),
            refused: Cell::new(None),
        }
    }

    /// The names `js/core/probe.js` must give the kind codes, in code order.
    #[wasm_bindgen(js_name = kindNames)]
    pub fn kind_names() -> Array {
        strings(&Kind::NAMES)
    }

    /// The id of an event name an emit may deliver, or -1 for a name strict
    /// mode refuses (it is not kept); a `TypeError` for an empty, too long
    /// or wildcard name.
    pub fn intern(&self, name: &str) -> Result<i32, JsValue> {
        Ok(id_or_none(self.state.with(|s| s.core.intern(name))?))
    }

    /// The id of a name already kept or with a schema; -1 otherwise.
    pub fn lookup(&self, name: &str) -> i32 {
        id_or_none(self.state.with(|s| s.core.lookup(name)))
    }

    /// `{ keys, modes }` of the event's schema, or `undefined`.
    pub fn plan(&self, name: u32) -> JsValue {
        let plan = self.state.with(|s| s.core.plan(NameId(name)).cloned());
        plan.map_or(JsValue::UNDEFINED, |p| convert::plan(&p))
    }

    /// Every literal of every schema, by atom id.
    pub fn atoms(&self) -> Array {
        strings(&self.state.with(|s| s.core.schemas().atoms().to_vec()))
    }

    /// Where `js/core/probe.js` writes probe codes: room for at least `len`
    /// integers. The address changes only when this is called with a larger
    /// `len`: then the buffer at least doubles, keeps its codes (a reader
    /// nested in another writes above the outer one's), and the old one is
    /// retired.
    #[wasm_bindgen(js_name = probeBuffer)]
    pub fn probe_buffer(&self, len: u32) -> u32 {
        self.state.with(|s| {
            let len = len as usize;
            if s.probes.len() < len {
                let mut grown = vec![0; len.max(s.probes.len().saturating_mul(2))];
                if let Some(head) = grown.get_mut(..s.probes.len()) {
                    head.copy_from_slice(&s.probes);
                }
                let old = core::mem::replace(&mut s.probes, grown);
                s.retired.push(old);
            }
            s.probes.as_ptr() as u32
        })
    }

    /// Checks and records an emit at nesting `depth`, planned for
    /// `handlers` handlers. The payload is described by `word` and the
    /// codes `js/core/probe.js` wrote from index `from` of the probe buffer (see
    /// [`Packed`]). Returns the record id; its negation when a warning waits
    /// in [`BusCore::take_warning`]; 0 when refused, for
    /// [`BusCore::refuse`] to record. Infallible and given only numbers, so
    /// the glue stays a plain call: for most emits, this is the only
    /// crossing.
    pub fn emit(&self, name: u32, word: i32, from: u32, depth: u32, handlers: u32) -> f64 {
        let id = NameId(name);
        let sure = self.state.with(|s| {
            let sure = s.core.sure(id, word, depth as usize);
            sure.then(|| s.core.start(id, (), s.now, handlers))
        });
        if let Some(record) = sure {
            return record as f64;
        }
        let begun = self.state.with(|s| {
            let checked = s
                .core
                .check(id, &packed(&s.core, &s.probes, id, word, from), depth as usize);
            checked.map(|warning| (s.core.start(id, (), s.now, handlers), warning))
        });
        match begun {
            Ok((record, None)) => record as f64,
            Ok((record, Some(text))) => {
                self.warning.set(Some(text));
                -(record as f64)
            }
            Err(error) => {
                self.refused.set(Some((id, error)));
                0.0
            }
        }
    }

    /// Records the emits the JS layer dispatched without crossing (see
    /// "How an emit runs" in docs/internals.md), then sets the time later
    /// emits are recorded at to `now` (ms since the Unix epoch: the JS layer
    /// calls this when it reads the clock, so an emit passes no time; see
    /// `timing` in the README for when that is). The emits are pairs of a
    /// name id and a handler count, `len` integers from index `from` of the
    /// probe buffer, recorded at the time set before. Only a name without a
    /// schema, already warned about, at a depth below
    /// [`MAX_DEPTH`](crate::limits::MAX_DEPTH), is queued: [`Core::check`]
    /// would accept each, so each gets the next record id, in order, as if
    /// [`BusCore::emit`] had recorded it.
    pub fn queued(&self, from: u32, len: u32, now: f64) {
        self.state.with(|s| {
            let end = (from as usize).saturating_add(len as usize);
            let queue = s.probes.get(from as usize..end).unwrap_or_default();
            // Runs of one event with the same handlers, each in one go.
            let mut run = queue.chunks_exact(2).peekable();
            while let Some(&[name, handlers]) = run.next() {
                let mut count: u32 = 1;
                while run.next_if(|next| *next == [name, handlers]).is_some() {
                    count = count.wrapping_add(1);
                }
                s.core
                    .start_run(NameId(name as u32), || (), s.now, handlers as u32, count);
            }
            s.now = now;
        });
    }

    /// Records the refusal of the emit [`BusCore::emit`] just answered 0
    /// to, whose payload is `payload`, and returns `{ kind, event, message,
    /// issues, record }`; `kind` is `validation`, `unknown`, `depth` or
    /// `type`.
    pub fn refuse(&self, payload: &JsValue) -> JsValue {
        let (id, mut error) = self
            .refused
            .take()
            .unwrap_or((NameId(u32::MAX), EmitError::UnknownId { id: u32::MAX }));
        if let EmitError::Validation { issues, .. } = &mut error {
            // No loan is held: quoting a literal reads the payload.
            quote_refused_literals(payload, issues);
        }
        let record = self.state.with(|s| s.core.reject(id, (), s.now, &error));
        refusal(&error, record)
    }

    /// Refuses an emit of a name [`BusCore::intern`] did not keep (-1):
    /// records it, and returns `{ kind, event, message, issues, record }`.
    #[wasm_bindgen(js_name = refuseUnnamed)]
    pub fn refuse_unnamed(&self, name: &str, now: f64, depth: u32) -> JsValue {
        let (record, error) = self
            .state
            .with(|s| s.core.reject_unnamed(name, (), now, depth as usize));
        refusal(&error, record)
    }

    /// The warning announced by a negative [`BusCore::emit`] result.
    #[wasm_bindgen(js_name = takeWarning)]
    pub fn take_warning(&self) -> Option<String> {
        self.warning.take()
    }

    /// Completes the record of an emit of `name`: `handler_count` handlers
    /// ran, in `duration` ms (`NaN` when the emit was not timed). Called only
    /// when the emit was timed or fewer handlers ran than planned.
    pub fn finish(&self, name: u32, record: f64, handler_count: u32, duration: f64) {
        let duration = (!duration.is_nan()).then_some(duration);
        self.state
            .with(|s| s.core.finish(NameId(name), record as u64, handler_count, duration));
    }

    /// Marks a record as handed in by a transport called `source`.
    #[wasm_bindgen(js_name = setSource)]
    pub fn set_source(&self, record: f64, source: &str) {
        self.state.with(|s| s.core.set_source(record as u64, source));
    }

    /// Records a handler failure (thrown, or a rejected promise). The JS
    /// layer cuts the message to the kept length before it crosses.
    #[wasm_bindgen(js_name = addError)]
    pub fn add_error(&self, record: f64, message: &str) {
        self.state.with(|s| s.core.add_error(record as u64, message));
    }

    /// The subscription ids an emit of `name` reaches, in order.
    pub fn snapshot(&self, name: u32) -> Vec<f64> {
        self.state.with(|s| {
            let subs = s.core.snapshot(NameId(name));
            subs.iter().map(|s| s.id.0 as f64).collect()
        })
    }

    /// Subscribes to a pattern; returns the subscription id.
    pub fn subscribe(&self, pattern: &str, once: bool) -> Result<f64, JsValue> {
        Ok(self.state.with(|s| s.core.subscribe(pattern, (), once))?.0 as f64)
    }

    /// Removes a subscription; `false` if it was already gone.
    pub fn unsubscribe(&self, id: f64) -> bool {
        self.state.with(|s| s.core.unsubscribe(SubId(id as u64)).is_some())
    }

    /// The subscription ids of exactly `pattern`, oldest first.
    pub fn registrations(&self, pattern: &str) -> Vec<f64> {
        self.state
            .with(|s| s.core.registrations(pattern).map(|s| s.id.0 as f64).collect())
    }

    /// Removes every subscription, the history and the statistics.
    pub fn clear(&self) {
        // Dropped after the loan: the records hold payloads.
        let (history, subscriptions) = self.state.with(|s| (s.core.take_history(), s.core.clear()));
        drop((history, subscriptions));
    }

    /// Forgets the history and the statistics.
    #[wasm_bindgen(js_name = clearHistory)]
    pub fn clear_history(&self) {
        drop(self.state.with(|s| s.core.take_history()));
    }

    /// Records, oldest first: the last `limit` (0: all), of one event if
    /// `name` is given.
    pub fn history(&self, limit: u32, name: Option<String>) -> Array {
        let records: Vec<Record<()>> = self.state.with(|s| {
            let mut matching: Vec<_> = s
                .core
                .history()
                .iter()
                .rev()
                .filter(|r| name.as_deref().is_none_or(|n| *r.name == *n))
                .take(if limit == 0 { usize::MAX } else { limit as usize })
                .cloned()
                .collect();
            matching.reverse();
            matching
        });
        records.iter().map(convert::record).collect()
    }

    /// One record, or `undefined` once it has left the history.
    pub fn record(&self, id: f64) -> JsValue {
        let record = self.state.with(|s| s.core.history().get(id as u64).cloned());
        record.as_ref().map_or(JsValue::UNDEFINED, convert::record)
    }

    /// `{ count, averageDuration, minDuration, maxDuration }` or `null`.
    pub fn stats(&self, name: &str) -> JsValue {
        let stat = self.state.with(|s| s.core.stats(name));
        stat.map_or(JsValue::NULL, convert::stats)
    }

    /// Every dispatched event's name and statistics, in turn: `[name,
    /// stats, name, stats…]`, one flat array rather than one per event
    /// (less glue and .wasm).
    #[wasm_bindgen(js_name = allStats)]
    pub fn all_stats(&self) -> Array {
        let all: Vec<_> = self
            .state
            .with(|s| s.core.all_stats().map(|(name, stat)| (name.clone(), stat)).collect());
        let out = Array::new();
        for (name, stat) in all {
            out.push(&JsValue::from_str(&name));
            out.push(&convert::stats(stat));
        }
        out
    }

    /// Compiles and registers a schema given in descriptor notation: `head`
    /// is `[name, version, description, audience]`, `keys` and `types` the
    /// fields' keys and descriptors. Three arrays of strings (js/core/checks.js
    /// made them), read here before the loan: cheaper in glue and .wasm than
    /// wasm-bindgen's `&str` and `Vec<String>` arguments (docs/internals.md,
    /// "Size").
    #[wasm_bindgen(js_name = registerSchema)]
    pub fn register_schema_texts(&self, head: Array, keys: Array, types: Array) -> Result<(), JsValue> {
        let texts =
            |items: &Array| -> Vec<String> { items.iter().map(|v| v.as_string().unwrap_or_default()).collect() };
        let (head, keys, types) = (texts(&head), texts(&keys), texts(&types));
        let [name, version, description, audience] = [0, 1, 2, 3].map(|i| head.get(i).map_or("", String::as_str));
        let fields: Vec<(&str, &str)> = keys
            .iter()
            .map(String::as_str)
            .zip(types.iter().map(String::as_str))
            .collect();
        Ok(self
            .state
            .with(|s| s.core.register_schema(name, version, description, audience, &fields))?)
    }

    /// `{ name, version, description, audience, payload }` or `undefined`.
    pub fn schema(&self, name: &str) -> JsValue {
        let schema = self.state.with(|s| s.core.schemas().shared(name).cloned());
        schema.map_or(JsValue::UNDEFINED, |s| convert::schema(&s))
    }

    /// Every registered event name, in order of first registration.
    #[wasm_bindgen(js_name = schemaNames)]
    pub fn schema_names(&self) -> Array {
        let names: Vec<String> = self
            .state
            .with(|s| s.core.schemas().iter().map(|s| s.name.clone()).collect());
        strings(&names)
    }

    /// Checks a probed payload without emitting (described as for
    /// [`BusCore::emit`]): the issues (empty when valid), or `undefined`
    /// when the event has no schema.
    pub fn validate(&self, name: u32, payload: &JsValue, word: i32, from: u32) -> JsValue {
        let id = NameId(name);
        let issues = self
            .state
            .with(|s| s.core.validate(id, &packed(&s.core, &s.probes, id, word, from)));
        let Some(mut issues) = issues else {
            return JsValue::UNDEFINED;
        };
        quote_refused_literals(payload, &mut issues);
        convert::issues(&issues).into()
    }

    /// Drops everything the bus holds (history, payloads, names, schemas,
    /// subscriptions, buffers); the JS layer then frees the object.
    pub fn dispose(&self) {
        let empty = State {
            core: Core::new(Options {
                mode: Mode::Strict,
                history_limit: 0,
                catalog: false,
            }),
            now: 0.0,
            probes: Vec::new(),
            retired: Vec::new(),
        };
        let old = self.state.with(|s| core::mem::replace(s, empty));
        drop(old);
        self.refused.take();
    }

    /// Whether the bus refuses unknown events.
    #[wasm_bindgen(getter)]
    pub fn strict(&self) -> bool {
        self.state.with(|s| s.core.mode() == Mode::Strict)
    }

    /// The history limit.
    #[wasm_bindgen(getter, js_name = historyLimit)]
    pub fn history_limit(&self) -> u32 {
        self.state.with(|s| s.core.history().limit() as u32)
    }
}

/// Rust-only methods (the wasm tests call them): the JS layer does the same
/// through the exported ones, with one export fewer each in the glue and
/// the .wasm.
impl BusCore {
    /// Subscriptions to exactly `pattern`: the length of
    /// [`BusCore::registrations`], which is what JS reads.
    pub fn handler_count(&self, pattern: &str) -> u32 {
        self.state.with(|s| s.core.handler_count(pattern) as u32)
    }

    /// Sets the time later emits are recorded at: [`BusCore::queued`] with
    /// no emit queued, which is what JS calls.
    pub fn set_time(&self, now: f64) {
        self.queued(0, 0, now);
    }

    /// [`BusCore::register_schema_texts`] with the head as arguments.
    pub fn register_schema(
        &self,
        name: &str,
        version: &str,
        description: &str,
        audience: &str,
        keys: Array,
        types: Array,
    ) -> Result<(), JsValue> {
        self.register_schema_texts(strings(&[name, version, description, audience]), keys, types)
    }
}

/// What `emit` throws, before the JS layer makes it an `Error`.
fn refusal(error: &EmitError, record: u64) -> JsValue {
    let kind = match error {
        EmitError::Validation { .. } => "validation",
        EmitError::UnknownEvent { .. } => "unknown",
        EmitError::DepthExceeded { .. } => "depth",
        EmitError::UnknownId { .. } => "type",
    };
    convert::refusal(kind, error.event(), &error.message(), error.issues(), record)
}

/// A refused literal is reported as `received string`; show the string
/// itself when it is a plain data property (no getter is run for this).
fn quote_refused_literals(payload: &JsValue, issues: &mut [Issue]) {
    for issue in issues.iter_mut() {
        if issue.received != "string" || !issue.expected.starts_with('\'') {
            continue;
        }
        if let Some(value) = convert::peek_string(payload, &issue.path) {
            let (shown, more) = head_chars(&value, 40).map_or((value.as_str(), ""), |head| (head, "…"));
            issue.received = cat(&["'", shown, more, "'"]);
        }
    }
}
