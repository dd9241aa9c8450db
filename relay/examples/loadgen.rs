//! The load generator of `make bench-relay`: drives kaiwa-relay (protocol v1)
//! or a socket.io 4 server (Engine.IO v4 over WebSocket) with the same
//! scenarios, and prints one JSON object of figures on stdout.
//!
//! ```text
//! loadgen <relay|sio> fanout   ADDR SUBSCRIBERS EVENTS
//! loadgen <relay|sio> everyday ADDR SUBSCRIBERS RATE SECONDS PID
//! loadgen <relay|sio> publish  ADDR CONNECTIONS SECONDS [WINDOW]
//! loadgen <relay|sio> idle     ADDR CONNECTIONS PID
//! loadgen relay       resume  ADDR EVENTS
//! ```
//!
//! Relays are started with `--insecure-dev` (anonymous connections). Every
//! scenario is bounded in time; a scenario that cannot finish says so.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

static RUN: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

#[derive(Clone, Copy, PartialEq)]
enum Proto {
    Relay,
    Sio,
}

fn micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

async fn connect(proto: Proto, addr: &str, subscribe: bool) -> Ws {
    connect_from(proto, addr, subscribe, None).await
}

/// Connects from `source` (an address to bind before connecting) when
/// given: one source address has some 28,000 ephemeral ports to one server.
async fn connect_from(proto: Proto, addr: &str, subscribe: bool, source: Option<std::net::IpAddr>) -> Ws {
    let url = match proto {
        Proto::Relay => format!("ws://{addr}/v1/ws"),
        Proto::Sio => format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"),
    };
    let mut backoff = 10;
    let (mut ws, _) = loop {
        let attempt = async {
            let Some(ip) = source else {
                return tokio_tungstenite::connect_async(&url).await;
            };
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind((ip, 0).into())?;
            let tcp = socket.connect(addr.parse().expect("an address")).await?;
            tokio_tungstenite::client_async(&url, MaybeTlsStream::Plain(tcp)).await
        };
        match attempt.await {
            Ok(ok) => break ok,
            Err(_) if backoff < 5000 => {
                tokio::time::sleep(Duration::from_millis(backoff)).await;
                backoff *= 2;
            }
            Err(e) => panic!("connect {url}: {e}"),
        }
    };
    match proto {
        Proto::Relay => {
            let patterns = if subscribe { r#"["*"]"# } else { "[]" };
            let hello = format!(r#"{{"type":"hello","token":null,"subscribe":{patterns}}}"#);
            ws.send(Message::Text(hello.into())).await.unwrap();
            wait_for(&mut ws, proto, "welcome").await;
        }
        Proto::Sio => {
            wait_for(&mut ws, proto, "0").await;
            ws.send(Message::Text("40".into())).await.unwrap();
            wait_for(&mut ws, proto, "40").await;
        }
    }
    ws
}

async fn wait_for(ws: &mut Ws, proto: Proto, what: &str) {
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let hit = match proto {
                Proto::Relay => t.contains(&format!("\"type\":\"{what}\"")),
                Proto::Sio => t.starts_with(what),
            };
            if hit {
                return;
            }
        }
    }
    panic!("connection ended before {what}");
}

/// The publish frame of event `n`, stamped with the send time: a catalog
/// event with a schema (`analytics.performance.metric`, a Date among its
/// fields), so the relay validates every publish as it would an app's.
fn publish_frame(proto: Proto, n: u64) -> String {
    let payload = format!(
        r#"{{"sessionId":"bench","metric":"tick","value":{n},"unit":"event","timestamp":"2026-11-30T06:00:00.000Z","n":{n},"t":{}}}"#,
        micros()
    );
    match proto {
        // Refs unique per run, so idempotency never folds two events into
        // one; each connection an idempotent producer numbering its
        // publishes from 1 (`n` counts from a multiple of 10^9 per
        // connection), as the JS client sends them, unless
        // LOADGEN_REFS_ONLY is set (the ref alone, as older clients send).
        Proto::Relay => {
            let run = RUN.get_or_init(micros);
            let producer = match std::env::var_os("LOADGEN_REFS_ONLY") {
                Some(_) => String::new(),
                None => format!(
                    r#""producer":"{run}-{}","seq":{},"#,
                    n / 1_000_000_000,
                    n % 1_000_000_000 + 1
                ),
            };
            format!(
                r#"{{"type":"publish","ref":"{run}-{n}",{producer}"name":"analytics.performance.metric","payload":{payload}}}"#
            )
        }
        Proto::Sio => format!(r#"42{n}["publish",{payload}]"#),
    }
}

fn is_ack(proto: Proto, t: &str) -> bool {
    match proto {
        Proto::Relay => t.contains(r#""type":"ack""#),
        Proto::Sio => t.starts_with("43"),
    }
}

/// The send time stamped in an event frame, if it is one.
fn stamp(t: &str) -> Option<u64> {
    if !(t.starts_with("42") || t.contains(r#""type":"event""#)) {
        return None;
    }
    let at = t.find(r#""t":"#)? + 4;
    let rest = t.get(at..)?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest.get(..end)?.parse().ok()
}

/// Publishes `events` with up to `window` unacknowledged; returns when all
/// are acked. Like a client's outbox, it writes every frame the window
/// allows and flushes once, then takes every reply already received.
async fn publish_many(mut ws: Ws, proto: Proto, from: u64, events: u64, window: u64, deadline: Instant) -> u64 {
    let (mut sent, mut acked) = (0, 0);
    while acked < events && Instant::now() < deadline {
        if sent < events && sent - acked < window {
            while sent < events && sent - acked < window {
                ws.feed(Message::Text(publish_frame(proto, from + sent).into()))
                    .await
                    .unwrap();
                sent += 1;
            }
            ws.flush().await.unwrap();
        }
        let mut next = match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(m))) => Some(m),
            _ => break,
        };
        while let Some(m) = next {
            if let Message::Text(t) = m {
                if is_ack(proto, &t) {
                    acked += 1;
                } else if t.contains("refused") {
                    panic!("refused: {t}");
                } else if proto == Proto::Sio && &*t == "2" {
                    ws.send(Message::Text("3".into())).await.unwrap();
                }
            }
            next = match ws.next().now_or_never() {
                Some(Some(Ok(m))) => Some(m),
                _ => None,
            };
        }
    }
    acked
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn fanout(proto: Proto, addr: &str, subscribers: usize, events: u64) {
    let mut tasks = Vec::new();
    let mut ready = Vec::new();
    for _ in 0..subscribers {
        ready.push(connect(proto, addr, true).await);
    }
    let expected = events;
    for ws in ready {
        tasks.push(tokio::spawn(receive(ws, proto, expected)));
    }
    let publisher = connect(proto, addr, false).await;
    let started = Instant::now();
    let acked = publish_many(publisher, proto, 0, events, 16, started + Duration::from_secs(120)).await;
    let mut all = Vec::new();
    let mut end = started;
    for t in tasks {
        let (lat, last) = t.await.unwrap();
        all.extend(lat);
        end = end.max(last);
    }
    all.sort_unstable();
    let seconds = end.duration_since(started).as_secs_f64();
    let delivered = all.len() as u64;
    println!(
        r#"{{"subscribers":{subscribers},"events":{events},"acked":{acked},"delivered":{delivered},"expected":{},"seconds":{seconds:.3},"delivered_per_s":{:.0},"p50_ms":{:.2},"p99_ms":{:.2}}}"#,
        events * subscribers as u64,
        delivered as f64 / seconds,
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
}

/// Everyday load: one publisher at `rate` events/s to `subscribers` for
/// `seconds`, with the server's CPU (user and system, from `/proc/PID/stat`)
/// over the publishing only, not the connecting.
async fn everyday(proto: Proto, addr: &str, subscribers: usize, rate: u64, seconds: u64, pid: &str) {
    let events = rate * seconds;
    let mut ready = Vec::new();
    for _ in 0..subscribers {
        ready.push(connect(proto, addr, true).await);
    }
    let mut tasks = Vec::new();
    for ws in ready {
        tasks.push(tokio::spawn(receive(ws, proto, events)));
    }
    let mut publisher = connect(proto, addr, false).await;
    let (user0, system0) = cpu_split(pid);
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    let mut acked = 0;
    for n in 0..events {
        tick.tick().await;
        publisher
            .send(Message::Text(publish_frame(proto, n).into()))
            .await
            .unwrap();
        // Take the acks (and socket.io's pings) already here, without waiting.
        while let Some(Some(Ok(Message::Text(t)))) = publisher.next().now_or_never() {
            if is_ack(proto, &t) {
                acked += 1;
            } else if proto == Proto::Sio && &*t == "2" {
                publisher.send(Message::Text("3".into())).await.unwrap();
            }
        }
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap().0);
    }
    let (user1, system1) = cpu_split(pid);
    let took = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let delivered = all.len() as f64;
    let (user, system) = (user1 - user0, system1 - system0);
    println!(
        r#"{{"subscribers":{subscribers},"rate":{rate},"events":{events},"acked_by_end":{acked},"delivered":{delivered},"expected":{},"seconds":{took:.3},"server_user_s":{user:.2},"server_system_s":{system:.2},"user_us_per_delivery":{:.3},"system_us_per_delivery":{:.3},"deliveries_per_cpu_s":{:.0},"p50_ms":{:.2},"p99_ms":{:.2}}}"#,
        events * subscribers as u64,
        1e6 * user / delivered,
        1e6 * system / delivered,
        delivered / (user + system),
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
}

/// One subscriber: takes `expected` events (or stops after 10 s without
/// one); their latencies in µs and when the last came.
async fn receive(mut ws: Ws, proto: Proto, expected: u64) -> (Vec<u64>, Instant) {
    let mut lat = Vec::with_capacity(expected as usize);
    let mut last = Instant::now();
    while (lat.len() as u64) < expected {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let Some(at) = stamp(&t) {
                    lat.push(micros().saturating_sub(at));
                    last = Instant::now();
                } else if proto == Proto::Sio && &*t == "2" {
                    let _ = ws.send(Message::Text("3".into())).await;
                }
            }
            // The relay's pings (every --ping-interval) and their like.
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
            _ => break,
        }
    }
    (lat, last)
}

async fn publish(proto: Proto, addr: &str, connections: usize, seconds: u64, window: u64) {
    let mut tasks = Vec::new();
    let mut conns = Vec::new();
    for _ in 0..connections {
        conns.push(connect(proto, addr, false).await);
    }
    let started = Instant::now();
    let cpu_before = cpu_seconds("self");
    let deadline = started + Duration::from_secs(seconds);
    for (i, ws) in conns.into_iter().enumerate() {
        tasks.push(tokio::spawn(publish_many(
            ws,
            proto,
            i as u64 * 1_000_000_000,
            u64::MAX / 4,
            window,
            deadline,
        )));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await.unwrap();
    }
    let took = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds("self") - cpu_before;
    println!(
        r#"{{"connections":{connections},"window":{window},"acked":{acked},"seconds":{took:.3},"publish_per_s":{:.0},"loadgen_cpu_s":{cpu:.2}}}"#,
        acked as f64 / took
    );
}

/// CPU time (user and system) process `pid` has used, in seconds.
fn cpu_seconds(pid: &str) -> f64 {
    let (user, system) = cpu_split(pid);
    user + system
}

/// User and system CPU time process `pid` has used, in seconds; Linux
/// counts them in ticks of 1/100 s.
fn cpu_split(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses: utime and
    // stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let mut ticks = after
        .split_whitespace()
        .skip(11)
        .map(|t| t.parse::<u64>().unwrap_or(0) as f64 / 100.0);
    (ticks.next().unwrap_or(0.0), ticks.next().unwrap_or(0.0))
}

fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn idle(proto: Proto, addr: &str, connections: usize, pid: &str) {
    let before = rss_kib(pid);
    // 64 at a time, from 127.0.0.2, .3, ... 20,000 each.
    let mut conns = Vec::with_capacity(connections);
    let source = |i: usize| Some(std::net::IpAddr::from([127, 0, 0, 2 + (i / 20_000) as u8]));
    for start in (0..connections).step_by(64) {
        let batch = (start..connections.min(start + 64)).map(|i| connect_from(proto, addr, true, source(i)));
        conns.extend(futures_util::future::join_all(batch).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    println!(
        r#"{{"connections":{connections},"rss_before_kib":{before},"rss_after_kib":{after},"kib_per_connection":{:.2}}}"#,
        (after.saturating_sub(before)) as f64 / connections as f64
    );
    drop(conns);
}

async fn resume(addr: &str, events: u64) {
    let mut first = connect(Proto::Relay, addr, false).await;
    first.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
    wait_for(&mut first, Proto::Relay, "pong").await;
    // Learn the epoch and start offset from a welcome.
    let url = format!("ws://{addr}/v1/ws");
    let (mut probe, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    probe
        .send(Message::Text(r#"{"type":"hello","token":null}"#.into()))
        .await
        .unwrap();
    let welcome = loop {
        if let Some(Ok(Message::Text(t))) = probe.next().await {
            break t.to_string();
        }
    };
    let field = |name: &str| {
        let at = welcome.find(&format!("\"{name}\":\"")).unwrap() + name.len() + 4;
        welcome[at..at + welcome[at..].find('"').unwrap()].to_string()
    };
    let (epoch, offset) = (field("epoch"), field("offset"));
    drop(probe);
    let acked = publish_many(
        first,
        Proto::Relay,
        0,
        events,
        64,
        Instant::now() + Duration::from_secs(120),
    )
    .await;
    let started = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let hello = format!(
        r#"{{"type":"hello","token":null,"subscribe":["*"],"resume":{{"epoch":"{epoch}","offset":"{offset}"}}}}"#
    );
    ws.send(Message::Text(hello.into())).await.unwrap();
    let mut got = 0u64;
    let mut recovered = false;
    while got < acked {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if t.contains(r#""recovered":true"#) {
                    recovered = true;
                } else if t.contains(r#""type":"event""#) {
                    got += 1;
                }
            }
            _ => break,
        }
    }
    println!(
        r#"{{"missed":{acked},"received":{got},"recovered":{recovered},"seconds":{:.3}}}"#,
        started.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| {
        args.get(i)
            .cloned()
            .unwrap_or_else(|| panic!("missing argument {i}; see the header of loadgen.rs"))
    };
    let proto = match arg(0).as_str() {
        "relay" => Proto::Relay,
        "sio" => Proto::Sio,
        other => panic!("unknown protocol {other}"),
    };
    let n = |i: usize| arg(i).parse::<u64>().expect("a number");
    match arg(1).as_str() {
        "fanout" => fanout(proto, &arg(2), n(3) as usize, n(4)).await,
        "publish" => publish(proto, &arg(2), n(3) as usize, n(4), args.get(5).map_or(64, |_| n(5))).await,
        "everyday" => everyday(proto, &arg(2), n(3) as usize, n(4), n(5), &arg(6)).await,
        "idle" => idle(proto, &arg(2), n(3) as usize, &arg(4)).await,
        "resume" => resume(&arg(2), n(3)).await,
        other => panic!("unknown scenario {other}"),
    }
}
