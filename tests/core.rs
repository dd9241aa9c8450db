//! Host tests of the core's semantics, through [`LocalBus`], which drives the
//! core by the same protocol as the JS layer.
#![cfg(not(target_arch = "wasm32"))]

#[path = "host/value.rs"]
mod value;

use std::cell::RefCell;
use std::rc::Rc;

use kaiwa_bus::core::history::Status;
use kaiwa_bus::core::{MAX_DEPTH, MAX_NAMES};
use kaiwa_bus::error::{EmitError, InternError, NameError};
use kaiwa_bus::{Error, LocalBus, Mode, Options};
use value::{date, obj, s, Value, ATOMS};

type Log = Rc<RefCell<Vec<String>>>;

fn bus() -> Rc<LocalBus<Value>> {
    let bus = LocalBus::new(Options::default());
    ATOMS.with(|a| *a.borrow_mut() = bus.with_core(|c| c.schemas().atoms().iter().map(|a| a.to_string()).collect()));
    Rc::new(bus)
}

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(log: &Log, entry: &str) {
    log.borrow_mut().push(entry.to_string());
}

fn login() -> Value {
    obj(&[
        ("userId", s("u1")),
        ("email", s("a@b.c")),
        ("tier", s("free")),
        ("timestamp", date()),
    ])
}

fn statuses(bus: &LocalBus<Value>) -> Vec<Status> {
    bus.with_core(|c| c.history().iter().map(|r| r.status).collect())
}

#[test]
fn handlers_run_in_subscription_order_with_wildcards() {
    let bus = bus();
    let calls = log();
    for (pattern, tag) in [
        ("*", "all"),
        ("auth.user.login", "exact"),
        ("auth.*", "auth"),
        ("audio.*", "audio"),
    ] {
        let calls = calls.clone();
        bus.on(pattern, move |_, meta| {
            push(&calls, &format!("{tag}:{}", meta.name));
            Ok(())
        })
        .unwrap();
    }
    bus.emit("auth.user.login", login()).unwrap();
    assert_eq!(
        *calls.borrow(),
        ["all:auth.user.login", "exact:auth.user.login", "auth:auth.user.login"]
    );
}

#[test]
fn a_failing_handler_does_not_stop_the_others() {
    let bus = bus();
    let calls = log();
    let c = calls.clone();
    bus.on("auth.user.login", |_, _| Err("boom".into())).unwrap();
    bus.on("auth.user.login", move |_, _| {
        push(&c, "second");
        Ok(())
    })
    .unwrap();
    let id = bus.emit("auth.user.login", login()).unwrap();
    assert_eq!(*calls.borrow(), ["second"]);
    bus.with_core(|c| {
        let r = c.history().get(id).unwrap();
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.errors(), ["boom"]);
        assert_eq!(r.handler_count, 2);
    });
    // The bus keeps working.
    bus.emit("auth.user.login", login()).unwrap();
    assert_eq!(calls.borrow().len(), 2);
}

/// The shape of gloo's `dynamic_registration` test: handlers come and go
/// during dispatch, and the exact call sequence is asserted.
#[test]
fn dynamic_registration_during_dispatch() {
    let bus = bus();
    let calls = log();
    let late: Rc<RefCell<Option<kaiwa_bus::core::registry::SubId>>> = Rc::default();

    let (b, c) = (bus.clone(), calls.clone());
    bus.on("x.y", move |_, _| {
        push(&c, "a");
        // Added during dispatch: not called by this emit.
        let c2 = c.clone();
        b.on("x.y", move |_, _| {
            push(&c2, "added");
            Ok(())
        })
        .unwrap();
        Ok(())
    })
    .unwrap();
    let (b, c, l) = (bus.clone(), calls.clone(), late.clone());
    bus.on("x.y", move |_, _| {
        push(&c, "b");
        // Removes `c` before its turn: it is not called.
        if let Some(id) = l.borrow_mut().take() {
            b.off(id);
        }
        Ok(())
    })
    .unwrap();
    let c = calls.clone();
    let id_c = bus
        .on("x.y", move |_, _| {
            push(&c, "c");
            Ok(())
        })
        .unwrap();
    *late.borrow_mut() = Some(id_c);

    bus.emit("x.y", obj(&[])).unwrap();
    assert_eq!(*calls.borrow(), ["a", "b"]);
    calls.borrow_mut().clear();
    bus.emit("x.y", obj(&[])).unwrap();
    assert_eq!(*calls.borrow(), ["a", "b", "added"]);
}

#[test]
fn handlers_may_emit_subscribe_and_clear_while_called() {
    let bus = bus();
    let calls = log();
    let (b, c) = (bus.clone(), calls.clone());
    bus.on("a.outer", move |_, meta| {
        push(&c, &format!("outer#{}", meta.id));
        b.emit("a.inner", obj(&[])).unwrap();
        push(&c, "outer-after");
        Ok(())
    })
    .unwrap();
    let c = calls.clone();
    bus.on("a.inner", move |_, meta| {
        push(&c, &format!("inner#{}", meta.id));
        Ok(())
    })
    .unwrap();
    let (b, c) = (bus.clone(), calls.clone());
    bus.on("a.outer", move |_, _| {
        push(&c, "clearing");
        b.clear();
        Ok(())
    })
    .unwrap();
    let c = calls.clone();
    bus.on("a.outer", move |_, _| {
        push(&c, "after-clear");
        Ok(())
    })
    .unwrap();
    bus.emit("a.outer", obj(&[])).unwrap();
    assert_eq!(*calls.borrow(), ["outer#1", "inner#2", "outer-after", "clearing"]);
    assert_eq!(bus.with_core(|c| c.subscription_count()), 0);
    // History was cleared by the handler; the outer record's finish is harmless.
    bus.emit("a.outer", obj(&[])).unwrap();
    assert_eq!(calls.borrow().len(), 4);
}

#[test]
fn once_runs_once_even_when_it_re_emits_its_event() {
    let bus = bus();
    let calls = log();
    let (b, c) = (bus.clone(), calls.clone());
    bus.once("x.y", move |_, _| {
        push(&c, "once");
        b.emit("x.y", obj(&[])).unwrap();
        Ok(())
    })
    .unwrap();
    let c = calls.clone();
    bus.on("x.y", move |_, _| {
        push(&c, "on");
        Ok(())
    })
    .unwrap();
    bus.emit("x.y", obj(&[])).unwrap();
    assert_eq!(*calls.borrow(), ["once", "on", "on"]);
    assert_eq!(bus.with_core(|c| c.handler_count("x.y")), 1);
}

#[test]
fn off_is_harmless_twice_and_once_can_be_removed_before_firing() {
    let bus = bus();
    let calls = log();
    let c = calls.clone();
    let id = bus
        .once("x.y", move |_, _| {
            push(&c, "once");
            Ok(())
        })
        .unwrap();
    assert!(bus.off(id));
    assert!(!bus.off(id));
    bus.emit("x.y", obj(&[])).unwrap();
    assert!(calls.borrow().is_empty());
}

#[test]
fn recursion_stops_at_the_depth_limit_with_an_error() {
    let bus = bus();
    let depth = Rc::new(RefCell::new(0usize));
    let errors = log();
    let (b, d, e) = (bus.clone(), depth.clone(), errors.clone());
    bus.on("x.loop", move |_, _| {
        *d.borrow_mut() += 1;
        if let Err(err) = b.emit("x.loop", obj(&[])) {
            push(&e, &err.to_string());
            return Err(err.to_string());
        }
        Ok(())
    })
    .unwrap();
    bus.emit("x.loop", obj(&[])).unwrap();
    assert_eq!(*depth.borrow(), MAX_DEPTH);
    assert_eq!(errors.borrow().len(), 1);
    assert!(
        errors.borrow()[0].contains("more than 64 levels deep"),
        "{:?}",
        errors.borrow()
    );
    assert_eq!(bus.depth(), 0);
    // Afterwards the bus is fine.
    let last = statuses(&bus);
    assert!(last.contains(&Status::Rejected));
    assert_eq!(last.iter().filter(|s| **s == Status::Failed).count(), 1);
}

#[test]
fn validation_refuses_before_any_handler_and_records_it() {
    let bus = bus();
    let calls = log();
    let c = calls.clone();
    bus.on("*", move |_, _| {
        push(&c, "called");
        Ok(())
    })
    .unwrap();
    let err = bus
        .emit("auth.user.login", login().with("userId", Value::Num(1.0)))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "auth.user.login: userId: expected string, received number"
    );
    let Error::Emit(EmitError::Validation { event, issues }) = err else {
        panic!()
    };
    assert_eq!(event, "auth.user.login");
    assert_eq!(issues[0].path, "userId");
    assert!(calls.borrow().is_empty());
    bus.with_core(|c| {
        let r = c.history().iter().last().unwrap();
        assert_eq!(r.status, Status::Rejected);
        assert_eq!(r.issues().len(), 1);
        assert!(c.stats("auth.user.login").is_none());
    });
    bus.emit("auth.user.login", login()).unwrap();
    assert_eq!(calls.borrow().len(), 1);
}

#[test]
fn literal_unions_and_string_arrays() {
    let bus = bus();
    let started = obj(&[
        ("conversationId", s("c1")),
        ("userId", s("u1")),
        ("targetLanguage", s("ja")),
        ("mode", s("realtime")),
        ("timestamp", date()),
    ]);
    bus.emit("conversation.started", started.clone()).unwrap();
    let err = bus
        .emit("conversation.started", started.with("mode", s("casual")))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conversation.started: mode: expected 'traditional' | 'realtime', received string"
    );
    let lesson = obj(&[
        ("userId", s("u1")),
        ("lessonId", s("l1")),
        ("wordsLearned", Value::Arr(vec![s("neko"), s("inu")])),
        ("score", Value::Num(90.0)),
        ("timestamp", date()),
    ]);
    bus.emit("vocabulary.lesson.completed", lesson.clone()).unwrap();
    let bad = lesson.with("wordsLearned", Value::Arr(vec![s("neko"), Value::Num(2.0)]));
    let err = bus.emit("vocabulary.lesson.completed", bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "vocabulary.lesson.completed: wordsLearned[1]: expected string, received number"
    );
}

#[test]
fn modes_for_unknown_events() {
    let dev = bus();
    dev.emit("app.thing.done", obj(&[])).unwrap();
    dev.emit("app.thing.done", obj(&[])).unwrap();
    dev.emit("userLogin", obj(&[])).unwrap();
    let warnings = dev.warnings();
    assert_eq!(warnings.len(), 2, "one warning per name: {warnings:?}");
    assert!(warnings[1].contains("naming convention"));

    let strict: LocalBus<Value> = LocalBus::new(Options {
        mode: Mode::Strict,
        ..Options::default()
    });
    let err = strict.emit("app.thing.done", obj(&[])).unwrap_err();
    assert!(matches!(
        err,
        Error::Emit(EmitError::UnknownEvent { bad_name: false, .. })
    ));
    let err = strict.emit("CONVERSATION_STARTED", obj(&[])).unwrap_err();
    assert!(matches!(
        err,
        Error::Emit(EmitError::UnknownEvent { bad_name: true, .. })
    ));
    assert_eq!(statuses(&strict), [Status::Rejected, Status::Rejected]);
    strict
        .register_schema(
            "app.thing.done",
            "1.0.0",
            "",
            "user",
            &[("n", "number"), ("flag", "boolean")],
        )
        .unwrap();
    strict
        .emit(
            "app.thing.done",
            obj(&[("n", Value::Num(1.0)), ("flag", Value::Bool(true))]),
        )
        .unwrap();
    let err = strict.emit("app.thing.done", Value::Null).unwrap_err();
    assert_eq!(
        err.to_string(),
        "app.thing.done: payload: expected object, received null"
    );
}

#[test]
fn history_is_bounded_and_stats_accumulate() {
    let bus: LocalBus<Value> = LocalBus::new(Options {
        history_limit: 3,
        ..Options::default()
    });
    for _ in 0..5 {
        bus.emit("x.y", obj(&[])).unwrap();
    }
    bus.with_core(|c| {
        let ids: Vec<u64> = c.history().iter().map(|r| r.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        let st = c.stats("x.y").unwrap();
        assert_eq!(st.count, 5);
        assert!(st.min <= st.average() && st.average() <= st.max);
        assert!(c.stats("never.emitted").is_none());
    });
    let none: LocalBus<Value> = LocalBus::new(Options {
        history_limit: 0,
        ..Options::default()
    });
    none.emit("x.y", obj(&[])).unwrap();
    none.with_core(|c| {
        assert!(c.history().is_empty());
        assert_eq!(c.stats("x.y").unwrap().count, 1);
    });
}

#[test]
fn bad_names_are_refused_and_the_bus_keeps_working() {
    let bus = bus();
    assert_eq!(
        bus.emit("", obj(&[])).unwrap_err(),
        Error::Intern(InternError::Name(NameError::Empty))
    );
    assert!(matches!(
        bus.emit("auth.*", obj(&[])),
        Err(Error::Intern(InternError::Name(NameError::Wildcard { .. })))
    ));
    assert!(matches!(bus.on("a*b", |_, _| Ok(())), Err(NameError::Wildcard { .. })));
    assert!(statuses(&bus).is_empty(), "a bad name is refused before it is recorded");
    bus.emit("auth.user.login", login()).unwrap();
}

#[test]
fn a_full_name_table_forgets_a_name_nothing_refers_to_and_always_keeps_schemas() {
    let bus = LocalBus::new(Options {
        history_limit: 100,
        ..Options::default()
    });
    let heard = log();
    let h = heard.clone();
    bus.on("app.item.0", move |_, meta| {
        push(&h, &meta.name);
        Ok(())
    })
    .unwrap();
    let known = |name: &str| bus.with_core(|c| c.stats(name).is_some());
    for n in 0..MAX_NAMES {
        bus.emit(&format!("app.item.{n}"), obj(&[])).unwrap();
    }
    // The catalog's own event has a schema: accepted, whatever the count.
    let logout = obj(&[("userId", s("u1")), ("timestamp", date())]);
    bus.emit("auth.user.logout", logout).unwrap();
    // A new name without one takes the place of a name with no schema, no
    // subscription and no record: app.item.1 (app.item.0 is subscribed to,
    // the last 100 are in the history).
    bus.emit("app.other.a", obj(&[])).unwrap();
    assert!(!known("app.item.1"), "app.item.1 was forgotten, with its statistics");
    assert!(known("app.item.0") && known("app.other.a") && known("auth.user.logout"));
    assert!(
        known(&format!("app.item.{}", MAX_NAMES - 1)),
        "a name in the history is kept"
    );
    // The forgotten name comes back as a new one; the subscribed name still delivers.
    bus.emit("app.item.1", obj(&[])).unwrap();
    bus.emit("app.item.0", obj(&[])).unwrap();
    assert_eq!(*heard.borrow(), ["app.item.0", "app.item.0"]);
    assert!(known("app.item.1"));
    let last = bus.with_core(|c| c.history().iter().last().map(|r| r.name.to_string()));
    assert_eq!(last.as_deref(), Some("app.item.0"));
}

#[test]
fn a_full_name_table_whose_names_are_all_in_the_history_refuses_plainly() {
    let bus = LocalBus::new(Options {
        history_limit: MAX_NAMES + 1,
        ..Options::default()
    });
    for n in 0..MAX_NAMES {
        bus.emit(&format!("app.item.{n}"), obj(&[])).unwrap();
    }
    assert_eq!(
        bus.emit("app.other.a", obj(&[])).unwrap_err(),
        Error::Intern(InternError::Full {
            event: "app.other.a".into()
        })
    );
    let logout = obj(&[("userId", s("u1")), ("timestamp", date())]);
    bus.emit("auth.user.logout", logout).unwrap();
    // Once the history is cleared, the names are free to go.
    bus.clear();
    bus.emit("app.other.a", obj(&[])).unwrap();
}
