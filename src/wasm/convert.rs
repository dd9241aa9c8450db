//! Rust values to JS objects, for the bindings. The object literals are
//! built in `js/core/wasm-imports.js`: one call per object.

use crate::prelude::*;

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::core::history::Record;
use crate::core::stats::Stat;
use crate::schema::probe::Plan;
use crate::schema::{Issue, Schema};

#[wasm_bindgen(module = "/js/core/wasm-imports.js")]
extern "C" {
    #[wasm_bindgen(js_name = makeRecord)]
    #[allow(clippy::too_many_arguments)]
    fn make_record(
        id: f64,
        name: &str,
        timestamp: f64,
        status: &str,
        handler_count: u32,
        duration_ms: f64,
        errors: Array,
        issues: Array,
        source: Option<String>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = makeIssue)]
    fn make_issue(path: &str, expected: &str, received: &str) -> JsValue;
    #[wasm_bindgen(js_name = makeStats)]
    fn make_stats(count: f64, timed: f64, average: f64, min: f64, max: f64) -> JsValue;
    #[wasm_bindgen(js_name = makeRefusal)]
    fn make_refusal(kind: &str, event: &str, message: &str, issues: Array, record: f64) -> JsValue;
    #[wasm_bindgen(js_name = makePlan)]
    fn make_plan(keys: Array, modes: Vec<u8>) -> JsValue;
    #[wasm_bindgen(js_name = makeSchema)]
    fn make_schema(
        name: &str,
        version: &str,
        description: &str,
        audience: &str,
        keys: Array,
        descriptors: Array,
    ) -> JsValue;
    /// A `TypeError` or an `Error`: one import rather than js-sys's two.
    #[wasm_bindgen(js_name = makeError)]
    pub(crate) fn make_error(message: &str, type_error: bool) -> JsValue;
    #[wasm_bindgen(js_name = peekString)]
    pub(crate) fn peek_string(object: &JsValue, key: &str) -> Option<String>;
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Array {
    items.into_iter().map(|s| JsValue::from_str(s)).collect()
}

/// `[{ path, expected, received }]`.
pub fn issues(issues: &[Issue]) -> Array {
    issues
        .iter()
        .map(|i| make_issue(&i.path, &i.expected, &i.received))
        .collect()
}

/// A history record as the JS API documents it, but for the payload, which
/// the JS layer keeps and adds.
pub fn record(r: &Record<()>) -> JsValue {
    make_record(
        r.id as f64,
        &r.name,
        r.timestamp,
        r.status.as_str(),
        r.handler_count,
        r.duration_ms.unwrap_or(f64::NAN),
        strings(r.errors()),
        issues(r.issues()),
        r.source().map(String::from),
    )
}

/// `{ count, timedCount, averageDuration, minDuration, maxDuration }`.
pub fn stats(s: Stat) -> JsValue {
    let timed = s.timed > 0;
    let or_nan = |x: f64| if timed { x } else { f64::NAN };
    make_stats(
        s.count as f64,
        s.timed as f64,
        or_nan(s.average()),
        or_nan(s.min),
        or_nan(s.max),
    )
}

/// What `emit` throws, before the JS layer makes it an `Error`.
pub fn refusal(kind: &str, event: &str, message: &str, found: &[Issue], record: u64) -> JsValue {
    make_refusal(kind, event, message, issues(found), record as f64)
}

/// `{ keys, modes }` for `js/core/probe.js`.
pub fn plan(plan: &Plan) -> JsValue {
    let modes: Vec<u8> = plan.modes.iter().map(|m| *m as u8).collect();
    make_plan(strings(&plan.keys), modes)
}

/// The seed's `EventSchema` shape and its audience: `{ name, version,
/// description, audience, payload }`, with `payload` in descriptor notation
/// (built in JS, so that a field named `__proto__` is an own property).
pub fn schema(s: &Schema) -> JsValue {
    make_schema(
        &s.name,
        &s.version.text(),
        &s.description,
        s.audience.as_str(),
        strings(s.fields.iter().map(|f| &f.key)),
        strings(s.fields.iter().map(|f| &f.descriptor)),
    )
}
