//! Property tests ("fuzzing") of the Rust side: the descriptor parser, the
//! name rules, the probe decoder and the core under random operation
//! sequences, against a simple model. `make test` runs the default number
//! of cases (bounded to seconds); `make fuzz` runs many more
//! (`PROPTEST_CASES`). Failures proptest finds are saved under
//! `tests/fuzz.proptest-regressions` and replayed first on every run.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use kaiwa_bus::core::history::Status;
use kaiwa_bus::core::names::{check_event_name, is_conventional, parse_pattern, Pattern};
use kaiwa_bus::core::registry::SubId;
use kaiwa_bus::schema::descriptor::{self, Parsed};
use kaiwa_bus::schema::probe::{Describe, Kind, Packed, Probe, ReadMode};
use kaiwa_bus::schema::Schemas;
use kaiwa_bus::{Core, Mode, Options};
use proptest::prelude::*;

proptest! {
    #[test]
    fn descriptor_parser_never_panics(text in "\\PC{0,40}") {
        let _ = descriptor::parse(&text);
    }

    #[test]
    fn descriptor_parser_on_near_misses(text in "[ '\"|?a-zA-Z\\[\\]<>,]{0,30}") {
        // Whatever parses is a known type or a non-empty list of literals.
        if let Ok((Parsed::Literals(values), _)) = descriptor::parse(&text) {
            prop_assert!(!values.is_empty());
        }
    }

    #[test]
    fn literal_unions_round_trip(values in prop::collection::vec("[a-z0-9 _-]{0,8}", 1..5), optional in any::<bool>()) {
        let text = format!(
            "{}{}",
            values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(" | "),
            if optional { "?" } else { "" }
        );
        let (parsed, opt) = descriptor::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(opt, optional);
        let Parsed::Literals(got) = parsed else { return Err(TestCaseError::fail("not literals")) };
        for v in &values {
            prop_assert!(got.contains(v));
        }
    }

    #[test]
    fn name_rules_never_panic_and_agree(name in "\\PC{0,20}|[a-z.*]{0,12}") {
        let emitted = check_event_name(&name);
        let pattern = parse_pattern(&name);
        if emitted.is_ok() {
            prop_assert!(!name.contains('*'));
            prop_assert_eq!(pattern, Ok(Pattern::Exact(&name)));
        }
        if is_conventional(&name) {
            prop_assert!(emitted.is_ok());
        }
    }

    #[test]
    fn packed_descriptions_never_panic(
        word in any::<i32>(),
        codes in prop::collection::vec(any::<i32>(), 0..40),
        fields in 0usize..20,
        index in 0usize..24,
    ) {
        let packed = Packed { word, codes: &codes, fields };
        for mode in [ReadMode::Kind, ReadMode::Literal, ReadMode::StringItems] {
            let probe = packed.probe(index, mode);
            if index > fields {
                prop_assert_eq!(probe.kind, Kind::Threw);
            }
            let _ = probe.kind.describe(probe.aux);
        }
    }

    #[test]
    fn validation_never_panics_on_any_description(word in any::<i32>(), codes in prop::collection::vec(-3i32..20, 0..30)) {
        let schemas = Schemas::new(true);
        for schema in schemas.iter() {
            let packed = Packed { word, codes: &codes, fields: schema.fields.len() };
            let issues = schema.check(&packed);
            // A payload that is not an object yields exactly one issue, at the root.
            if packed.probe(0, ReadMode::Kind).kind != Kind::Object {
                prop_assert_eq!(issues.len(), 1);
                prop_assert_eq!(issues[0].path.as_str(), "");
            }
        }
    }

    #[test]
    fn core_follows_the_model(ops in prop::collection::vec(op(), 1..120), limit in 0usize..6) {
        run_model(ops, limit)?;
    }
}

#[derive(Clone, Debug)]
enum Op {
    Subscribe { pattern: usize, once: bool },
    Unsubscribe { which: usize },
    Emit { name: usize, valid: bool },
    Fail { back: u64 },
    Clear,
    ClearHistory,
}

const NAMES: [&str; 4] = ["auth.user.login", "auth.user.logout", "app.thing.done", "BadName"];
const PATTERNS: [&str; 6] = [
    "*",
    "auth.*",
    "auth.user.*",
    "auth.user.login",
    "app.thing.done",
    "BadName",
];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..PATTERNS.len(), any::<bool>()).prop_map(|(pattern, once)| Op::Subscribe { pattern, once }),
        2 => (0usize..8).prop_map(|which| Op::Unsubscribe { which }),
        6 => (0..NAMES.len(), any::<bool>()).prop_map(|(name, valid)| Op::Emit { name, valid }),
        1 => (0u64..4).prop_map(|back| Op::Fail { back }),
        1 => Just(Op::Clear),
        1 => Just(Op::ClearHistory),
    ]
}

fn matches(pattern: &str, name: &str) -> bool {
    pattern == "*"
        || pattern == name
        || pattern
            .strip_suffix(".*")
            .is_some_and(|p| name.starts_with(&format!("{p}.")))
}

/// Probes for the two catalog events used: valid or with a number userId.
fn probes_for(name: &str, valid: bool) -> Vec<Probe> {
    let [object, string, date] = [Kind::Object, Kind::String, Kind::Date].map(Probe::of);
    let user = Probe::of(if valid { Kind::String } else { Kind::Number });
    match name {
        "auth.user.login" => vec![object, user, string, string, date],
        "auth.user.logout" => vec![object, user, date],
        _ => Vec::new(),
    }
}

fn run_model(ops: Vec<Op>, limit: usize) -> Result<(), TestCaseError> {
    let mut core: Core<usize, u64> = Core::new(Options {
        mode: Mode::Development,
        history_limit: limit,
        catalog: true,
    });
    // The model: live subscriptions (id -> pattern), records emitted, and dispatch counts.
    let mut live: BTreeMap<SubId, &str> = BTreeMap::new();
    let mut last_record = 0u64;
    let mut dispatched: BTreeMap<&str, u64> = BTreeMap::new();
    for (step, op) in ops.into_iter().enumerate() {
        match op {
            Op::Subscribe { pattern, once } => {
                let id = core
                    .subscribe(PATTERNS[pattern], step, once)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(live.keys().all(|k| *k < id), "ids increase");
                live.insert(id, PATTERNS[pattern]);
            }
            Op::Unsubscribe { which } => {
                if let Some(id) = live.keys().nth(which).copied() {
                    prop_assert!(core.unsubscribe(id).is_some());
                    live.remove(&id);
                    prop_assert!(core.unsubscribe(id).is_none(), "a second unsubscribe is harmless");
                }
            }
            Op::Emit { name, valid } => {
                let name = NAMES[name];
                let id = core
                    .intern(name)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?
                    .ok_or_else(|| TestCaseError::fail("a development bus keeps every valid name"))?;
                let snapshot: Vec<SubId> = core.snapshot(id).iter().map(|s| s.id).collect();
                let expected: Vec<SubId> = live
                    .iter()
                    .filter(|(_, p)| matches(p, name))
                    .map(|(id, _)| *id)
                    .collect();
                prop_assert_eq!(&snapshot, &expected, "snapshot of {}", name);
                let result = core.begin(
                    id,
                    step as u64,
                    &probes_for(name, valid)[..],
                    0.0,
                    0,
                    snapshot.len() as u32,
                );
                let has_schema = name.starts_with("auth.");
                prop_assert_eq!(result.is_ok(), valid || !has_schema);
                last_record += 1;
                if let Ok(begun) = result {
                    prop_assert_eq!(begun.record, last_record);
                    *dispatched.entry(name).or_default() += 1;
                    core.finish(id, begun.record, snapshot.len() as u32, None);
                }
            }
            Op::Fail { back } => {
                let record = last_record.saturating_sub(back);
                core.add_error(record, "boom");
                if let Some(r) = core.history().get(record) {
                    prop_assert!(r.status != Status::Delivered);
                }
            }
            Op::Clear => {
                core.clear();
                live.clear();
                dispatched.clear();
            }
            Op::ClearHistory => {
                core.clear_history();
                dispatched.clear();
            }
        }
        let history = core.history();
        prop_assert!(history.len() <= limit);
        let ids: Vec<u64> = history.iter().map(|r| r.id).collect();
        prop_assert!(ids.windows(2).all(|w| w[0] < w[1]), "history ids increase: {:?}", ids);
        if let Some(last) = ids.last() {
            prop_assert_eq!(*last, last_record, "the newest record is kept");
        }
        for (name, count) in &dispatched {
            prop_assert_eq!(core.stats(name).map(|s| s.count), Some(*count));
        }
        prop_assert_eq!(core.subscription_count(), live.len());
    }
    Ok(())
}
