//! Interner lookups on adversarial keys: names that differ only in their
//! last digits, the shape that degraded FxHash. Measures, prints, asserts
//! nothing about time (run with `cargo test --release --test interner --
//! --ignored --nocapture`); the `#[test]` below checks only correctness.

use std::time::Instant;

use kaiwa_bus::intern::Interner;

fn fill(count: u32, key: impl Fn(u32) -> String) -> (Interner, f64) {
    let mut interner = Interner::default();
    let started = Instant::now();
    for i in 0..count {
        interner.intern(&key(i));
    }
    for i in 0..count {
        assert_eq!(interner.get(&key(i)), Some(i));
    }
    (interner, started.elapsed().as_secs_f64())
}

#[test]
fn digit_suffixed_keys_stay_distinct() {
    let (interner, _) = fill(20_000, |i| format!("app.item.e{i:07}"));
    assert_eq!(interner.len(), 20_000);
}

#[test]
#[ignore]
fn million_digit_suffixed_keys() {
    for (label, key) in [
        (
            "app.item.e0000123",
            Box::new(|i: u32| format!("app.item.e{i:07}")) as Box<dyn Fn(u32) -> String>,
        ),
        ("app.e0000123.item", Box::new(|i: u32| format!("app.e{i:07}.item"))),
    ] {
        let (_, seconds) = fill(1_000_000, key);
        println!("# interner: 1e6 keys like {label}: {seconds:.2} s (intern + lookup)");
    }
}
