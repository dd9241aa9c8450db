//! `make soak-relay`: a release relay on each engine (memory, then Redis with
//! a redis-server of its own), under the attacks of issue 19 (`attacks.rs`)
//! beside legitimate publishers and subscribers, on loopback only. Reports
//! the relay's peak RSS and descriptors and, for the legitimate clients,
//! events lost (a loss is allowed only when the relay said so: a resume
//! answered `recovered: false`) and the latency from publish to delivery.
//! Writes bench/results/soak-relay.{md,json}; exits 1 on a silent loss.
//!
//! ```text
//! soak [SECONDS per engine, default 150]
//! ```
//!
//! The legitimate clients connect from 127.0.0.1; the attackers from other
//! loopback addresses (127.0.0.2...), as they would from other machines.

mod attacks;
mod legit;
#[path = "../../tests/common/raw.rs"]
mod raw;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The tokens' secret.
pub const SECRET: &str = "soak-secret";

/// A token for `sub` with these claims (one hour).
pub fn token(sub: &str, claims: Value) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut all = json!({"sub": sub, "exp": now + 3600});
    for (k, v) in claims.as_object().into_iter().flatten() {
        all[k] = v.clone();
    }
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &all, &key).unwrap_or_default()
}

/// Microseconds since the Unix epoch (the clock of publish → delivery).
pub fn micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// What every task of one run shares.
#[derive(Clone)]
pub struct Run {
    /// The relay's address.
    pub addr: String,
    /// Set when the attacks and the publishers stop.
    pub stop: Arc<AtomicBool>,
}

impl Run {
    /// Whether to go on.
    pub fn on(&self) -> bool {
        !self.stop.load(Relaxed)
    }
}

/// A bare HTTP/1.1 request, `Connection: close`: the status and the body,
/// or `None` if the relay closed without an answer.
pub async fn http(
    addr: &str,
    from: Option<&str>,
    method: &str,
    path: &str,
    auth: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut tcp = raw::connect_from(addr, from).await.ok()?;
    let auth = if auth.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {auth}\r\n")
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: soak\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(req.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut out))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&out);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_or(0, |a| a.port())
}

/// The relay's resident memory now and at its peak (KiB), and its open descriptors.
fn sample(pid: u32) -> Option<(u64, u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((kib("VmRSS:")?, kib("VmHWM:")?, fds))
}

async fn start_redis(dir: &std::path::Path) -> (Child, u16) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server (scripts/setup.sh redis installs it)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (child, port)
}

async fn start_relay(engine: &str, redis_port: u16) -> (Child, String) {
    let mut cmd = Command::new("target/release/kaiwa-relay");
    // As in production: the app's origin only (the legitimate clients, no
    // web page, send no Origin).
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--engine",
        engine,
        "--allow-origin",
        "https://app.example",
    ]);
    if engine == "redis" {
        cmd.args(["--redis-url", &format!("redis://127.0.0.1:{redis_port}")]);
    }
    let mut child = cmd
        .env("KAIWA_RELAY_SECRET", SECRET)
        .env("RUST_LOG", "kaiwa_relay=error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("target/release/kaiwa-relay (make relay builds it)");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next_line().await.ok().flatten().unwrap_or_default();
    let addr = line
        .strip_prefix("listening on ")
        .expect("the relay did not start")
        .to_string();
    (child, addr)
}

/// `GET /metrics`, as name (with labels) → value.
async fn metrics(addr: &str) -> BTreeMap<String, f64> {
    let (_, text) = http(addr, None, "GET", "/metrics", "", "").await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("kaiwa_relay_") && !l.contains("_bucket"))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

async fn soak(engine: &str, seconds: u64) -> Value {
    let dir = std::env::temp_dir().join(format!("kaiwa-soak-{}-{engine}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let redis = match engine {
        "redis" => Some(start_redis(&dir).await),
        _ => None,
    };
    let (relay, addr) = start_relay(engine, redis.as_ref().map_or(0, |r| r.1)).await;
    let pid = relay.id().unwrap_or(0);
    let run = Run {
        addr: addr.clone(),
        stop: Arc::new(AtomicBool::new(false)),
    };
    println!("{engine}: relay at {addr} (pid {pid}), {seconds} s of legitimate load and attacks");
    let legit = legit::start(&run).await;
    let baseline = sample(pid).map_or(0, |s| s.0);
    let attacks = attacks::start(&run);
    let started = Instant::now();
    let (mut peak_rss, mut peak_fds) = (0, 0);
    let mut report = started;
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some((_, hwm, fds)) = sample(pid) {
            (peak_rss, peak_fds) = (peak_rss.max(hwm), peak_fds.max(fds));
        }
        if report.elapsed() >= Duration::from_secs(30) {
            report = Instant::now();
            println!(
                "  {:>3} s: peak RSS {} MiB, peak descriptors {peak_fds}",
                started.elapsed().as_secs(),
                peak_rss / 1024
            );
        }
    }
    run.stop.store(true, Relaxed);
    let attacked = attacks.finish().await;
    let legit = legit.finish().await;
    let end = sample(pid).map_or(0, |s| s.0);
    let metrics = metrics(&addr).await;
    drop(relay);
    drop(redis);
    let _ = std::fs::remove_dir_all(&dir);
    json!({
        "engine": engine, "seconds": seconds,
        "relay": {"rss_baseline_kib": baseline, "rss_peak_kib": peak_rss, "rss_end_kib": end, "descriptors_peak": peak_fds},
        "legit": legit, "attacks": attacked, "metrics": metrics,
    })
}

/// A table of `runs[i][key]`'s members (rows) for each run (columns).
fn table(runs: &[Value], title: &str, what: &str, key: &str, cell: impl Fn(&Value) -> String) -> String {
    let engines: Vec<&str> = runs.iter().map(|r| r["engine"].as_str().unwrap_or("")).collect();
    let mut md = format!(
        "\n## {title}\n\n| {what} | {} |\n|---|{}\n",
        engines.join(" | "),
        "---|".repeat(runs.len())
    );
    let names = runs
        .first()
        .and_then(|r| r[key].as_object())
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    for name in names.iter().filter(|n| !n.contains("publish_seconds")) {
        md += &format!("| {name} |");
        for r in runs {
            md += &format!(" {} |", cell(&r[key][name]));
        }
        md += "\n";
    }
    md
}

fn markdown(runs: &[Value]) -> String {
    let mut md = String::from(
        "# make soak-relay\n\nA release relay per engine under the attacks of issue 19 beside legitimate clients, \
         loopback only (`relay/examples/soak`). Lost: events acknowledged to a publisher and never delivered to a \
         subscriber without the relay saying so (`recovered: false`); the run fails unless it is 0.\n\n\
         | engine | seconds | relay RSS: start → peak → end | peak descriptors | published | deliveries | lost | in reported gaps | resumes | latency p50 / p99 / max |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let l = &r["legit"];
        let mib = |v: &Value| format!("{:.1} MiB", v.as_f64().unwrap_or(0.0) / 1024.0);
        md += &format!(
            "| {} | {} | {} → {} → {} | {} | {} | {} | **{}** | {} | {} | {:.1} / {:.1} / {:.1} ms |\n",
            r["engine"].as_str().unwrap_or(""),
            r["seconds"],
            mib(&r["relay"]["rss_baseline_kib"]),
            mib(&r["relay"]["rss_peak_kib"]),
            mib(&r["relay"]["rss_end_kib"]),
            r["relay"]["descriptors_peak"],
            l["published"],
            l["delivered"],
            l["lost"],
            l["gap_missing"],
            l["resumes"],
            l["p50_ms"].as_f64().unwrap_or(0.0),
            l["p99_ms"].as_f64().unwrap_or(0.0),
            l["max_ms"].as_f64().unwrap_or(0.0),
        );
    }
    md += &table(
        runs,
        "The attacks, and what the relay answered",
        "attack",
        "attacks",
        |v| v.as_str().unwrap_or("").to_string(),
    );
    md += &table(
        runs,
        "The relay's counters at the end (`/metrics`)",
        "counter",
        "metrics",
        Value::to_string,
    );
    md
}

/// The attackers hold more than a thousand sockets: the soft descriptor
/// limit goes up to the hard one.
fn more_descriptors() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[tokio::main]
async fn main() {
    more_descriptors();
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(150);
    let mut runs = Vec::new();
    for engine in ["memory", "redis"] {
        let run = soak(engine, seconds).await;
        println!("{engine}: {}", run["legit"]);
        runs.push(run);
    }
    let md = markdown(&runs);
    let _ = std::fs::create_dir_all("bench/results");
    let _ = std::fs::write("bench/results/soak-relay.md", &md);
    let json = serde_json::to_string_pretty(&Value::from(runs.clone())).unwrap_or_default();
    let _ = std::fs::write("bench/results/soak-relay.json", json);
    println!("\n{md}\nwritten to bench/results/soak-relay.{{md,json}}");
    if runs.iter().any(|r| r["legit"]["lost"].as_u64() != Some(0)) {
        eprintln!("soak: legitimate events were lost without the relay saying so");
        std::process::exit(1);
    }
}
