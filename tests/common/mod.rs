//! Tests of the wasm bindings (`BusCore`), shared by `tests/node.rs` and
//! `tests/browser.rs`: the same cases run in Node and in headless Chromium.
//! They drive `BusCore` as `js/core/bus.js` does, probe buffer included.

use js_sys::{Array, Date, Int32Array, Object, Reflect};
use kaiwa_bus::wasm::BusCore;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).expect("readable property")
}

fn string(target: &JsValue, key: &str) -> String {
    get(target, key)
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in entries {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

/// Writes probe codes where `js/core/probe.js` would (the extras, see
/// `src/schema/probe.rs`).
fn write_probes(core: &BusCore, codes: &[i32]) {
    let ptr = core.probe_buffer(codes.len() as u32);
    let memory = wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>();
    let view = Int32Array::new_with_byte_offset_and_length(&memory.buffer(), ptr, codes.len() as u32);
    for (i, c) in codes.iter().enumerate() {
        view.set_index(i as u32, *c);
    }
}

const NULL: i32 = 1;
const OBJECT: i32 = 10;
const STRING: i32 = 2;
const LITERAL: i32 = 3;
const NUMBER: i32 = 4;
const DATE: i32 = 7;

/// The kinds of up to eight probes packed in one word, as `js/core/probe.js`
/// returns them.
fn word(kinds: &[i32]) -> i32 {
    kinds.iter().enumerate().fold(0, |w, (i, k)| w | k << (4 * i))
}

fn login_probes(user_id: i32) -> i32 {
    word(&[OBJECT, user_id, STRING, STRING, DATE])
}

fn login_payload() -> JsValue {
    object(&[
        ("userId", "u1".into()),
        ("email", "a@example.com".into()),
        ("tier", "pro".into()),
        ("timestamp", Date::new_0().into()),
    ])
}

/// The id of a name the core keeps.
fn name_id(core: &BusCore, name: &str) -> u32 {
    u32::try_from(core.intern(name).unwrap()).expect("a kept name")
}

fn core() -> BusCore {
    BusCore::new(false, 1000, true)
}

#[wasm_bindgen_test]
fn kind_names_are_the_fifteen_kinds() {
    let names = BusCore::kind_names();
    assert_eq!(names.length(), 15);
    assert_eq!(names.get(0).as_string().as_deref(), Some("undefined"));
    assert_eq!(names.get(14).as_string().as_deref(), Some("a getter that threw"));
}

#[wasm_bindgen_test]
fn interning_is_stable_and_bad_names_are_type_errors() {
    let core = core();
    let a = name_id(&core, "auth.user.login");
    assert_eq!(name_id(&core, "auth.user.login"), a);
    assert_ne!(name_id(&core, "x.y"), a);
    assert_eq!(core.lookup("x.y"), a as i32 + 1);
    assert_eq!(core.lookup("never.seen"), -1, "a lookup keeps nothing");
    let err = core.intern("").unwrap_err();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert!(string(&err, "message").contains("must not be empty"));
    assert!(core.intern("auth.*").is_err());
}

#[wasm_bindgen_test]
fn a_valid_emit_is_recorded_and_finished() {
    let core = core();
    let id = name_id(&core, "auth.user.login");
    let plan = core.plan(id);
    assert_eq!(Array::from(&get(&plan, "keys")).length(), 4);
    core.set_time(1_700_000_000_000.0);
    let record = core.emit(id, login_probes(STRING), 0, 0, 1);
    assert_eq!(record, 1.0);
    core.finish(id, record, 2, 0.25);
    let r = core.record(record);
    assert_eq!(string(&r, "status"), "delivered");
    assert_eq!(string(&r, "name"), "auth.user.login");
    assert_eq!(get(&r, "handlerCount").as_f64(), Some(2.0));
    assert_eq!(get(&r, "durationMs").as_f64(), Some(0.25));
    let timestamp = get(&r, "timestamp").unchecked_into::<Date>();
    assert_eq!(timestamp.get_time(), 1_700_000_000_000.0, "the time set last");
    assert!(get(&r, "payload").is_undefined(), "the JS layer keeps payloads");
    let stats = core.stats("auth.user.login");
    assert_eq!(get(&stats, "count").as_f64(), Some(1.0));
    assert!(core.stats("auth.user.logout").is_null());
}

#[wasm_bindgen_test]
fn an_invalid_emit_is_refused_with_structured_issues() {
    let core = core();
    let id = name_id(&core, "auth.user.login");
    assert_eq!(core.emit(id, login_probes(NUMBER), 0, 0, 1), 0.0);
    let refusal = core.refuse(&login_payload());
    assert_eq!(string(&refusal, "kind"), "validation");
    assert_eq!(string(&refusal, "event"), "auth.user.login");
    assert_eq!(
        string(&refusal, "message"),
        "auth.user.login: userId: expected string, received number"
    );
    let issues = Array::from(&get(&refusal, "issues"));
    assert_eq!(issues.length(), 1);
    assert_eq!(string(&issues.get(0), "path"), "userId");
    let history = core.history(0, None);
    assert_eq!(string(&history.get(0), "status"), "rejected");
}

#[wasm_bindgen_test]
fn a_refused_literal_is_quoted_without_running_getters() {
    let core = core();
    let id = name_id(&core, "conversation.started");
    let payload = object(&[("mode", "casual".into())]);
    let kinds = word(&[OBJECT, STRING, STRING, STRING, STRING, DATE]);
    assert_eq!(core.emit(id, kinds, 0, 0, 1), 0.0);
    let refusal = core.refuse(&payload);
    assert_eq!(
        string(&refusal, "message"),
        "conversation.started: mode: expected 'traditional' | 'realtime', received 'casual'"
    );
    // A getter is not run: the issue keeps the kind.
    let getter = js_sys::Function::new_no_args("throw new Error('not me')");
    let descriptor = object(&[("get", getter.into())]);
    let tricky = Object::new();
    Object::define_property(&tricky, &JsValue::from_str("mode"), descriptor.unchecked_ref());
    assert_eq!(core.emit(id, kinds, 0, 0, 1), 0.0);
    let refusal = core.refuse(&tricky.into());
    assert!(string(&refusal, "message").ends_with("received string"));
}

#[wasm_bindgen_test]
fn a_literal_is_checked_by_its_atom_from_the_probe_buffer() {
    let core = core();
    let id = name_id(&core, "conversation.started");
    let atoms = core.atoms();
    let (realtime, user) = (atoms.index_of(&"realtime".into(), 0), atoms.index_of(&"user".into(), 0));
    assert!(realtime >= 0 && user >= 0);
    let kinds = word(&[OBJECT, STRING, STRING, STRING, LITERAL, DATE]);
    // Field `mode` is probe 4: its atom goes at 2 * 4.
    let mut codes = [0; 12];
    codes[8] = realtime;
    write_probes(&core, &codes);
    assert!(core.emit(id, kinds, 0, 0, 1) > 0.0);
    // An atom of another schema's literal is not one of this field's.
    codes[8] = user;
    write_probes(&core, &codes);
    assert_eq!(core.emit(id, kinds, 0, 0, 1), 0.0);
    let refusal = core.refuse(&object(&[("mode", "user".into())]));
    assert_eq!(
        string(&refusal, "message"),
        "conversation.started: mode: expected 'traditional' | 'realtime', received 'user'"
    );
}

#[wasm_bindgen_test]
fn unknown_events_warn_once_in_development_and_are_refused_in_strict() {
    let dev = core();
    let id = name_id(&dev, "cart.item.added");
    let first = dev.emit(id, 0, 0, 0, 1);
    assert!(first < 0.0, "a warning waits");
    assert!(dev
        .take_warning()
        .unwrap()
        .contains("no schema is registered for \"cart.item.added\""));
    let second = dev.emit(id, 0, 0, 0, 1);
    assert!(second > 0.0);

    let strict = BusCore::new(true, 10, true);
    assert!(strict.strict());
    assert_eq!(strict.intern("userLogin").unwrap(), -1, "a refused name is not kept");
    let refusal = strict.refuse_unnamed("userLogin", 0.0, 0);
    assert_eq!(string(&refusal, "kind"), "unknown");
    assert!(string(&refusal, "message").contains("naming convention"));
}

#[wasm_bindgen_test]
fn subscriptions_are_ids_in_order() {
    let core = core();
    let all = core.subscribe("*", false).unwrap();
    let exact = core.subscribe("auth.user.login", true).unwrap();
    let domain = core.subscribe("auth.*", false).unwrap();
    let id = name_id(&core, "auth.user.login");
    assert_eq!(core.snapshot(id), vec![all, exact, domain]);
    assert_eq!(core.registrations("auth.*"), vec![domain]);
    assert_eq!(core.handler_count("*"), 1);
    assert!(core.unsubscribe(exact));
    assert!(!core.unsubscribe(exact));
    assert!(core
        .subscribe("a*", false)
        .unwrap_err()
        .is_instance_of::<js_sys::TypeError>());
    core.clear();
    assert!(core.snapshot(id).is_empty());
}

#[wasm_bindgen_test]
fn failures_during_and_after_dispatch_fail_the_record() {
    let core = core();
    let id = name_id(&core, "x.y");
    let record = -core.emit(id, 0, 0, 0, 2);
    assert_eq!(string(&core.record(record), "status"), "delivered");
    core.add_error(record, "Error: sync");
    assert_eq!(string(&core.record(record), "status"), "failed");
    let later = core.emit(id, 0, 0, 0, 1);
    core.finish(id, later, 1, 0.5);
    core.add_error(later, "Error: async");
    let r = core.record(later);
    assert_eq!(string(&r, "status"), "failed");
    assert_eq!(get(&r, "durationMs").as_f64(), Some(0.5));
    assert_eq!(
        Array::from(&get(&r, "errors")).get(0).as_string().as_deref(),
        Some("Error: async")
    );
    // An untimed emit has no duration, and counts in the stats untimed.
    let untimed = core.emit(id, 0, 0, 0, 0);
    assert!(get(&core.record(untimed), "durationMs").is_null());
    let stats = core.stats("x.y");
    assert_eq!(get(&stats, "count").as_f64(), Some(3.0));
    assert_eq!(get(&stats, "timedCount").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
fn nesting_deeper_than_the_limit_is_refused() {
    let core = core();
    let id = name_id(&core, "x.loop");
    assert!(core.emit(id, 0, 0, 63, 1).abs() > 0.0);
    assert_eq!(core.emit(id, 0, 0, 64, 1), 0.0);
    let refusal = core.refuse(&JsValue::NULL);
    assert_eq!(string(&refusal, "kind"), "depth");
    assert!(string(&refusal, "message").contains("more than 64 levels deep"));
    assert!(core.emit(id, 0, 0, 0, 1) > 0.0);
}
/// A JS array of strings, as js/core/checks.js hands field keys and descriptors.
fn texts(items: &[&str]) -> Array {
    items.iter().map(|s| JsValue::from_str(s)).collect()
}

#[wasm_bindgen_test]
fn schemas_register_round_trip_and_refuse_bad_text() {
    let core = core();
    core.register_schema(
        "cart.item.added",
        "1.0.0",
        "An item went into the cart",
        "user",
        texts(&["sku", "size"]),
        texts(&["string", "'s' | 'm'"]),
    )
    .unwrap();
    let schema = core.schema("cart.item.added");
    assert_eq!(string(&schema, "version"), "1.0.0");
    assert_eq!(string(&schema, "audience"), "user");
    assert_eq!(string(&get(&schema, "payload"), "size"), "'s' | 'm'");
    let err = core
        .register_schema(
            "cart.item.added",
            "2.0.0",
            "",
            "user",
            texts(&["when"]),
            texts(&["Datetime"]),
        )
        .unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert!(string(&err, "message").contains("field when: unknown type"));
    let err = core
        .register_schema("cart.item.added", "1.0.0", "", "all", texts(&[]), texts(&[]))
        .unwrap_err();
    assert!(string(&err, "message").contains("not higher"));
    assert!(core.schema_names().includes(&"cart.item.added".into(), 0));
    let atoms = core.atoms();
    assert!(atoms.includes(&"m".into(), 0));
}

#[wasm_bindgen_test]
fn validate_reports_without_recording() {
    let core = core();
    let id = name_id(&core, "auth.user.login");
    let issues = Array::from(&core.validate(id, &JsValue::NULL, word(&[NULL]), 0));
    assert_eq!(issues.length(), 1);
    assert_eq!(string(&issues.get(0), "received"), "null");
    assert_eq!(core.history(0, None).length(), 0);
    let unknown = name_id(&core, "x.y");
    assert!(core.validate(unknown, &JsValue::NULL, 0, 0).is_undefined());
}

#[wasm_bindgen_test]
fn the_probe_buffer_grows_by_doubling_and_then_stays_put() {
    let core = core();
    let small = core.probe_buffer(10);
    assert_eq!(core.probe_buffer(5), small, "no move when it is big enough");
    let big = core.probe_buffer(500);
    assert_ne!(big, small);
    assert_eq!(core.probe_buffer(500), big);
    // A larger request at least doubles (to 1000 here), so 1000 then fits.
    let bigger = core.probe_buffer(600);
    assert_ne!(bigger, big);
    assert_eq!(core.probe_buffer(1000), bigger);
}

#[wasm_bindgen_test]
fn queued_emits_are_recorded_in_order_at_the_time_set_before() {
    let core = core();
    let (a, b) = (name_id(&core, "app.a"), name_id(&core, "app.b"));
    core.set_time(1_000.0);
    // The first emit of a name without a schema warns; later ones are queued.
    assert_eq!(core.emit(a, 0, 0, 0, 1), -1.0);
    assert!(core.take_warning().is_some());
    assert_eq!(core.emit(b, 0, 0, 0, 0), -2.0);
    // Queued: a (1 handler), a, a (2 handlers), b (0 handlers): three runs.
    write_probes(&core, &[a as i32, 1, a as i32, 1, a as i32, 2, b as i32, 0]);
    core.queued(0, 8, 2_000.0);
    let ids: Vec<(String, f64, f64)> = core
        .history(0, None)
        .iter()
        .map(|r| {
            let at = get(&r, "timestamp").unchecked_into::<Date>().get_time();
            (string(&r, "name"), get(&r, "handlerCount").as_f64().unwrap(), at)
        })
        .collect();
    let names = ["app.a", "app.b", "app.a", "app.a", "app.a", "app.b"];
    let handlers = [1.0, 0.0, 1.0, 1.0, 2.0, 0.0];
    let expected: Vec<(String, f64, f64)> = names
        .iter()
        .zip(handlers)
        .map(|(n, h)| (n.to_string(), h, 1_000.0))
        .collect();
    assert_eq!(ids, expected, "recorded at the time set before");
    assert_eq!(
        core.emit(b, 0, 0, 0, 0),
        7.0,
        "the next record id follows the queued ones"
    );
    assert_eq!(
        get(&core.record(7.0), "timestamp").unchecked_into::<Date>().get_time(),
        2_000.0
    );
    assert_eq!(get(&core.stats("app.a"), "count").as_f64(), Some(4.0));
    assert_eq!(get(&core.stats("app.b"), "count").as_f64(), Some(3.0));
}
