//! Issue 20, item 7: managed Redis. `rediss://` against a `redis-server`
//! with TLS on (plain TCP off, certificates made here with openssl), an ACL
//! user with exactly the commands relay/README.md lists, a Unix socket, and
//! a database number. Each runs everything the relay asks of Redis through
//! two relays: the appender and the reader (the engine's own connections),
//! the resume check and `XRANGE`, `PING` and the epoch (the redis crate's),
//! idempotent refs and the ref hashes rolling over (a small `--retain`):
//! both paths to Redis, over each way of reaching it.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::json;

/// Everything above, through `a` (publishes) and `b` (subscribes, resumes).
async fn round_trip(a: &Relay, b: &Relay) {
    let t = token(json!({"sub": "u1"}));
    let (mut sub, welcome) = Client::join(&b.addr, Some(&t), &["audio.*"]).await;
    let (mut publisher, _) = Client::join(&a.addr, Some(&t), &[]).await;
    let mut offsets = Vec::new();
    for i in 0..60 {
        let ack = publisher
            .publish(&format!("m{i}"), "audio.playback.started", playback(i))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
        offsets.push(ack["offset"].as_str().unwrap().to_string());
    }
    let again = publisher.publish("m59", "audio.playback.started", playback(59)).await;
    assert_eq!(again["offset"], offsets[59].as_str(), "a repeated ref is stored once");
    for i in 0..60 {
        assert_eq!(seq(&sub.event().await), i);
    }
    sub.quiet().await;
    let resume = |offset: &str| json!({"token": t, "subscribe": ["audio.*"], "resume": {"epoch": welcome["epoch"], "offset": offset}});
    let (_, w) = Client::try_join(&a.addr, resume(welcome["offset"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(w["recovered"], false, "trimmed by --retain 20: {w}");
    let (mut again, w) = Client::try_join(&a.addr, resume(&offsets[55])).await.unwrap();
    assert_eq!(w["recovered"], true, "{w}");
    for i in 56..60 {
        assert_eq!(seq(&again.event().await), i);
    }
    for relay in [a, b] {
        assert_eq!(relay.http("GET", "/healthz", None, "").await.0, 200);
        let metrics = relay.http("GET", "/metrics", None, "").await.1;
        assert!(metrics.contains("kaiwa_relay_engine_errors_total 0"), "{metrics}");
    }
}

async fn relay(url: &str, extra: &[&str]) -> Relay {
    let mut args = vec!["--engine", "redis", "--redis-url", url, "--retain", "20"];
    args.extend_from_slice(extra);
    Relay::start(&args).await
}

/// Runs the relay until it exits (it must, within the wait); its stderr.
fn refused_start(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kaiwa-relay"))
        .args(["--listen", "127.0.0.1:0", "--engine", "redis"])
        .args(args)
        .env("KAIWA_RELAY_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for localhost and 127.0.0.1 signed by it, in `dir`.
fn certificates(dir: &Path) -> [PathBuf; 3] {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=kaiwa test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    ["ca.pem", "server.pem", "server.key"].map(|f| dir.join(f))
}

#[tokio::test]
async fn rediss_with_the_servers_ca_carries_everything_and_without_it_the_relay_refuses_to_start() {
    let redis = Redis::start_with("tls", false, |r| {
        let [ca, cert, key] = certificates(&r.dir);
        let path = |p: &PathBuf| p.to_str().unwrap().to_string();
        let server = [
            "--port",
            "0",
            "--tls-port",
            &r.port.to_string(),
            "--tls-cert-file",
            &path(&cert),
            "--tls-key-file",
            &path(&key),
            "--tls-ca-cert-file",
            &path(&ca),
            "--tls-auth-clients",
            "no",
        ];
        let cli = ["--tls", "--cacert", &path(&ca)];
        (server.map(String::from).to_vec(), cli.map(String::from).to_vec())
    })
    .await;
    let ca = redis.dir.join("ca.pem");
    let ca = ca.to_str().unwrap();
    // Plain TCP is off: whatever reaches Redis goes through TLS.
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("rediss://{host}:{}", redis.port);
        let (a, b) = (
            relay(&url, &["--redis-ca", ca]).await,
            relay(&url, &["--redis-ca", ca]).await,
        );
        round_trip(&a, &b).await;
        redis
            .cli(None, &["DEL", "{kaiwa}:events", "{kaiwa}:refs", "{kaiwa}:refs:old"])
            .await;
    }
    assert_eq!(redis.cli(None, &["PING"]).await, "PONG", "redis-cli over TLS");
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let untrusted = refused_start(&["--redis-url", &url]);
    assert!(
        untrusted.contains("certificate") || untrusted.contains("UnknownIssuer"),
        "{untrusted}"
    );
    let insecure = refused_start(&["--redis-url", &format!("{url}/#insecure"), "--redis-ca", ca]);
    assert!(
        insecure.contains("#insecure is not supported") && insecure.contains("--redis-ca"),
        "{insecure}"
    );
    let plain = refused_start(&[
        "--redis-url",
        &format!("redis://127.0.0.1:{}", redis.port),
        "--redis-ca",
        ca,
    ]);
    assert!(plain.contains("--redis-ca is for rediss:// URLs"), "{plain}");
}

/// The `ACL SETUSER` line of relay/README.md, with `password`.
fn readme_acl(password: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("ACL SETUSER kaiwa-relay "))
        .expect("README.md lists the ACL user's commands");
    line.split_whitespace()
        .map(|w| {
            if w == ">PASSWORD" {
                format!(">{password}")
            } else {
                w.to_string()
            }
        })
        .collect()
}

#[tokio::test]
async fn an_acl_user_with_only_the_commands_the_readme_lists_runs_the_relay() {
    let redis = Redis::start("acl", false).await;
    let admin = ["--user", "admin", "--pass", "admin-pw", "--no-auth-warning"];
    let ok = |out: String| assert_eq!(out, "OK");
    ok(redis
        .cli(
            None,
            &["ACL", "SETUSER", "admin", "on", ">admin-pw", "~*", "&*", "+@all"],
        )
        .await);
    let user = readme_acl("relay-pw");
    ok(redis
        .cli(None, &user.iter().map(String::as_str).collect::<Vec<_>>())
        .await);
    // Nobody gets in without a password from now on.
    ok(redis.cli(None, &["ACL", "SETUSER", "default", "off"]).await);
    let url = format!("redis://kaiwa-relay:relay-pw@127.0.0.1:{}", redis.port);
    let (a, b) = (relay(&url, &[]).await, relay(&url, &[]).await);
    round_trip(&a, &b).await;
    let denied = redis.cli(None, &[&admin[..], &["ACL", "LOG"]].concat()).await;
    assert_eq!(denied, "", "no command or key was denied to the relay's user");
    let wrong = refused_start(&[
        "--redis-url",
        &format!("redis://kaiwa-relay:not-it@127.0.0.1:{}", redis.port),
    ]);
    assert!(
        wrong.contains("kaiwa-relay:***@") && !wrong.contains("not-it"),
        "the password stays out: {wrong}"
    );
}

#[tokio::test]
async fn a_unix_socket_carries_everything() {
    let redis = Redis::start_with("unix", false, |r| {
        let socket = r.dir.join("redis.sock").to_str().unwrap().to_string();
        (
            vec!["--unixsocket".into(), socket, "--unixsocketperm".into(), "700".into()],
            Vec::new(),
        )
    })
    .await;
    let url = format!("redis+unix://{}", redis.dir.join("redis.sock").display());
    let (a, b) = (relay(&url, &[]).await, relay(&url, &[]).await);
    round_trip(&a, &b).await;
}

#[tokio::test]
async fn a_database_number_carries_everything() {
    let redis = Redis::start("db", false).await;
    let url = format!("{}/3", redis.url());
    let (a, b) = (relay(&url, &[]).await, relay(&url, &[]).await);
    round_trip(&a, &b).await;
    // Every key in database 3, the appender's and the crate's alike.
    assert_eq!(
        redis
            .cli(
                None,
                &["-n", "3", "EXISTS", "{kaiwa}:events", "{kaiwa}:epoch", "{kaiwa}:refs"]
            )
            .await,
        "3"
    );
    assert_eq!(
        redis.cli(None, &["-n", "0", "DBSIZE"]).await,
        "0",
        "nothing in database 0"
    );
}
