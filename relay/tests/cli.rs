//! The command line as a user meets it: `--help` lists every flag and
//! exits 0; a mistake exits 2 with a message naming the flag, before
//! anything starts.

use std::process::{Command, Output};

fn relay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kaiwa-relay"))
        .args(args)
        .env("KAIWA_RELAY_SECRET", "s")
        .output()
        .unwrap()
}

#[test]
fn help_lists_every_flag_and_exits_0() {
    let out = relay(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--engine",
        "--max-connections-per-user",
        "--allow-origin",
        "--insecure-dev",
    ] {
        assert!(help.contains(flag), "{flag} in\n{help}");
    }
    assert!(help.contains("[env: KAIWA_RELAY_MAX_PAYLOAD"), "{help}");
}

#[test]
fn a_mistake_exits_2_naming_the_flag() {
    let out = relay(&["--frobnicate", "1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("'--frobnicate'"),
        "{out:?}"
    );
    let out = relay(&["--queue", "none"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("'none' for '--queue <N>': expected a positive integer"),
        "{err}"
    );
}
