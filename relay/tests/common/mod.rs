//! What the relay's integration tests share: real `redis-server` and
//! `kaiwa-relay` processes on free loopback ports, a WebSocket client
//! (tokio-tungstenite), and token minting. Every wait is bounded.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

// Not every test binary uses them all.
mod engines;
#[allow(unused_imports)]
pub use engines::*;
mod raw;
#[allow(unused_imports)]
pub use raw::*;
mod redis_server;
pub use redis_server::Redis;

pub const SECRET: &str = "test-secret";
/// The longest any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(20);

pub fn scratch(name: &str) -> PathBuf {
    // The process id makes it fresh for this test binary; it is never emptied
    // here, since tests running in parallel share one (the relays' "logs").
    let dir = std::env::temp_dir().join(format!("kaiwa-relay-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `kaiwa-relay` process.
pub struct Relay {
    pub addr: String,
    child: Child,
    pub log: PathBuf,
}

impl Relay {
    pub async fn start(args: &[&str]) -> Relay {
        Relay::start_env(args, Some(SECRET)).await
    }

    pub async fn memory(extra: &[&str]) -> Relay {
        let mut args = vec!["--engine", "memory"];
        args.extend_from_slice(extra);
        Relay::start(&args).await
    }

    pub async fn redis(redis: &Redis, extra: &[&str]) -> Relay {
        let url = redis.url();
        let mut args = vec!["--engine", "redis", "--redis-url", &url];
        args.extend_from_slice(extra);
        Relay::start(&args).await
    }

    pub async fn start_env(args: &[&str], secret: Option<&str>) -> Relay {
        Relay::start_with(args, secret, &[]).await
    }

    /// With these environment variables too (`KAIWA_RELAY_<FLAG>`: a relay
    /// from before a flag existed ignores them, so a test can be run against
    /// it, with `KAIWA_RELAY_TEST_BIN=path/to/old/kaiwa-relay`, and fail for
    /// what it checks rather than for an unknown flag).
    pub async fn start_with(args: &[&str], secret: Option<&str>, env: &[(&str, &str)]) -> Relay {
        let log = scratch("logs").join(format!("relay-{}.log", free_port()));
        let bin = std::env::var("KAIWA_RELAY_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kaiwa-relay").into());
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", "127.0.0.1:0"]).args(args);
        // Some tests read the log: the relay's own warnings and infos, always.
        cmd.env("RUST_LOG", "kaiwa_relay=info");
        match secret {
            Some(s) => cmd.env("KAIWA_RELAY_SECRET", s),
            None => cmd.env_remove("KAIWA_RELAY_SECRET"),
        };
        cmd.envs(env.iter().copied());
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("relay did not start in time")
            .unwrap()
            .unwrap_or_else(|| panic!("relay exited: {}", std::fs::read_to_string(&log).unwrap_or_default()));
        let addr = line.strip_prefix("listening on ").expect(&line).to_string();
        Relay { addr, child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// Resident memory, in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The peak resident memory so far, in KiB, from /proc.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// CPU time used so far (user and system), in clock ticks, from /proc.
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // After the command's name in parentheses: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    /// A counter or gauge of `GET /metrics` now (fails when it is missing).
    pub async fn metric(&self, name: &str) -> u64 {
        let (status, text) = self.http("GET", "/metrics", None, "").await;
        assert_eq!(status, 200, "{text}");
        metric(&text, name) as u64
    }

    /// `kill -9`.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// Sends a signal (`STOP`, `CONT`, ...) with `kill`.
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// SIGTERM, then the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.pid().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        tokio::time::timeout(WAIT, self.child.wait()).await.unwrap().unwrap()
    }

    pub async fn http(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        http(&self.addr, method, path, token, body).await
    }
}

/// A bare HTTP/1.1 request (no client crate needed for three endpoints).
pub async fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(WAIT, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, dechunk(&body))
}

/// The value of an unlabelled metric in a `/metrics` text; panics when it is
/// missing, so that a check cannot pass because the metric went away.
pub fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{metrics}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dechunk(body: &str) -> String {
    // Chunked bodies: size line, data, repeat.
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else {
            return body.to_string();
        };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            return body.to_string();
        };
        if n == 0 {
            return out;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
}

pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token signed with `secret`; `claims` is merged over `{sub, exp: +1h}`.
pub fn token_with(secret: &str, claims: Value) -> String {
    let mut all = json!({"sub": "u1", "exp": now_s() + 3600, "publish": ["*"]});
    for (k, v) in claims.as_object().unwrap() {
        all[k] = v.clone();
    }
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &all, &key).unwrap()
}

pub fn token(claims: Value) -> String {
    token_with(SECRET, claims)
}

/// What the relay sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Got {
    Frame(Value),
    Closed(u16, String),
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Events that arrived while waiting for something else.
    pub events: VecDeque<Value>,
}

impl Client {
    pub async fn connect(addr: &str) -> Client {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws")))
            .await
            .unwrap()
            .unwrap();
        Client {
            ws,
            events: VecDeque::new(),
        }
    }

    /// Connects and says hello; returns the client and the first reply.
    pub async fn hello(addr: &str, hello: Value) -> (Client, Got) {
        let mut c = Client::connect(addr).await;
        let mut frame = json!({"type": "hello"});
        for (k, v) in hello.as_object().unwrap() {
            frame[k] = v.clone();
        }
        c.send(frame).await;
        let got = c.recv().await;
        (c, got)
    }

    /// Hello that must be welcomed.
    pub async fn join(addr: &str, token: Option<&str>, subscribe: &[&str]) -> (Client, Value) {
        let (c, got) = Client::hello(addr, json!({"token": token, "subscribe": subscribe})).await;
        match got {
            Got::Frame(w) if w["type"] == "welcome" => (c, w),
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn send(&mut self, v: Value) {
        self.ws.send(Message::Text(v.to_string().into())).await.unwrap();
    }

    pub async fn send_raw(&mut self, m: Message) {
        let _ = self.ws.send(m).await;
    }

    /// The next text frame as sent (for what `serde_json` cannot hold, as a
    /// lone surrogate), within [`WAIT`].
    pub async fn recv_text(&mut self) -> String {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("nothing received in time")
            {
                Some(Ok(Message::Text(t))) => return t.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next frame or the close, within [`WAIT`].
    pub async fn recv(&mut self) -> Got {
        self.recv_within(WAIT).await.expect("nothing received in time")
    }

    pub async fn recv_within(&mut self, wait: Duration) -> Option<Got> {
        loop {
            let next = tokio::time::timeout(wait, self.ws.next()).await.ok()?;
            return Some(match next {
                Some(Ok(Message::Text(t))) => Got::Frame(serde_json::from_str(&t).unwrap()),
                Some(Ok(Message::Close(Some(f)))) => Got::Closed(u16::from(f.code), f.reason.to_string()),
                Some(Ok(Message::Close(None))) | None => Got::Closed(CloseCode::Status.into(), String::new()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => Got::Closed(1006, e.to_string()),
            });
        }
    }

    /// The next frame: first the events [`Client::reply`] set aside, then
    /// what arrives, within [`WAIT`].
    pub async fn next_frame(&mut self) -> Got {
        match self.events.pop_front() {
            Some(event) => Got::Frame(event),
            None => self.recv().await,
        }
    }

    /// The next non-event frame; events are kept in `events`.
    pub async fn reply(&mut self) -> Got {
        loop {
            match self.recv().await {
                Got::Frame(f) if f["type"] == "event" => self.events.push_back(f),
                other => return other,
            }
        }
    }

    /// The next event.
    pub async fn event(&mut self) -> Value {
        if let Some(e) = self.events.pop_front() {
            return e;
        }
        match self.recv().await {
            Got::Frame(f) if f["type"] == "event" => f,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Publishes and returns the ack or refusal.
    pub async fn publish(&mut self, reference: &str, name: &str, payload: Value) -> Value {
        self.send(json!({"type": "publish", "ref": reference, "name": name, "payload": payload}))
            .await;
        match self.reply().await {
            Got::Frame(f) => f,
            other => panic!("expected ack or refused, got {other:?}"),
        }
    }

    /// A ping answered: every frame sent before it was handled.
    pub async fn sync(&mut self) {
        self.send(json!({"type": "ping"})).await;
        match self.reply().await {
            Got::Frame(f) if f["type"] == "pong" => {}
            other => panic!("expected pong, got {other:?}"),
        }
    }

    /// Asserts nothing arrives for a moment (after a sync, so frames in flight are in).
    pub async fn quiet(&mut self) {
        self.sync().await;
        assert!(self.events.is_empty(), "unexpected events: {:?}", self.events);
    }

    /// The close that must come next (events before it are kept).
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            match self.recv().await {
                Got::Frame(f) if f["type"] == "event" => self.events.push_back(f),
                Got::Closed(code, reason) => return (code, reason),
                other => panic!("expected a close, got {other:?}"),
            }
        }
    }
}

pub fn iso() -> &'static str {
    "2026-01-02T03:04:05.000Z"
}

/// A valid `audio.playback.started` (no `userId`: everyone subscribed sees it).
pub fn playback(n: u64) -> Value {
    json!({"sessionId": format!("s{n}"), "audioId": format!("a{n}"), "timestamp": iso()})
}

/// A valid `auth.user.login` for `user`.
pub fn login(user: &str) -> Value {
    json!({"userId": user, "email": "a@b.c", "tier": "free", "timestamp": iso()})
}

/// The sequence number of a `playback(n)` event.
pub fn seq(event: &Value) -> u64 {
    event["payload"]["sessionId"].as_str().unwrap()[1..].parse().unwrap()
}

impl Client {
    /// Connects and says hello, or `None` if the relay is gone or closes.
    pub async fn try_join(addr: &str, hello: Value) -> Option<(Client, Value)> {
        let url = format!("ws://{addr}/v1/ws");
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .ok()?
            .ok()?;
        let mut c = Client {
            ws,
            events: VecDeque::new(),
        };
        let mut frame = json!({"type": "hello"});
        for (k, v) in hello.as_object().unwrap() {
            frame[k] = v.clone();
        }
        c.ws.send(Message::Text(frame.to_string().into())).await.ok()?;
        match c.recv().await {
            Got::Frame(w) if w["type"] == "welcome" => Some((c, w)),
            _ => None,
        }
    }
}

/// Publishes playback events `from..from + n` with refs `{tag}{i}`, like a
/// careful client: a refusal `unavailable` is retried after a pause, a lost
/// connection moves to the next relay of `addrs` and retries the same ref.
/// Returns how many `unavailable` refusals it saw.
pub async fn reliable_burst(addrs: Vec<String>, tag: &'static str, from: u64, n: u64) -> u64 {
    let t = token(json!({"sub": "publisher"}));
    let mut unavailable = 0;
    let mut i = from;
    let mut at = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    'connect: while i < from + n {
        assert!(tokio::time::Instant::now() < deadline, "publisher stuck at {i}");
        let Some((mut p, _)) = Client::try_join(&addrs[at % addrs.len()], json!({"token": t})).await else {
            at += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        while i < from + n {
            p.send(json!({"type": "publish", "ref": format!("{tag}{i}"), "name": "audio.playback.started", "payload": playback(i)}))
                .await;
            match p.reply().await {
                Got::Frame(f) if f["type"] == "ack" => i += 1,
                Got::Frame(f) if f["kind"] == "unavailable" => {
                    unavailable += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Got::Frame(f) => panic!("unexpected {f}"),
                Got::Closed(..) => {
                    at += 1;
                    continue 'connect;
                }
            }
        }
    }
    unavailable
}

/// A subscriber that reads playback events until it has `want` of them,
/// resuming (on the next relay of `addrs`) whenever its connection ends.
/// Returns the sequence numbers in the order received.
pub struct Reader {
    pub client: Client,
    pub epoch: String,
    pub last: String,
    pub seen: Vec<u64>,
    pub offsets: Vec<String>,
    pub resumes: u32,
}

impl Reader {
    pub async fn join(addr: &str) -> Reader {
        let (client, w) = Client::join(
            addr,
            Some(&token(json!({"sub": "reader", "admin": true}))),
            &["audio.*"],
        )
        .await;
        Reader {
            client,
            epoch: w["epoch"].as_str().unwrap().into(),
            last: w["offset"].as_str().unwrap().into(),
            seen: Vec::new(),
            offsets: Vec::new(),
            resumes: 0,
        }
    }

    /// Reads until `want` events, resuming on `addrs` after a drop.
    pub async fn read_until(&mut self, want: usize, addrs: &[String]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        let mut at = 0;
        while self.seen.len() < want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "reader stuck at {}",
                self.seen.len()
            );
            // `next_frame`, not `recv`: a `sync` (or any `reply`) may have set
            // events aside, and they count.
            match self.client.next_frame().await {
                Got::Frame(f) if f["type"] == "event" => {
                    self.seen.push(seq(&f));
                    self.last = f["offset"].as_str().unwrap().into();
                    self.offsets.push(self.last.clone());
                }
                Got::Frame(f) => panic!("unexpected {f}"),
                Got::Closed(..) => loop {
                    let hello = json!({"token": token(json!({"sub": "reader", "admin": true})), "subscribe": ["audio.*"],
                        "resume": {"epoch": self.epoch, "offset": self.last}});
                    at += 1;
                    if let Some((c, w)) = Client::try_join(&addrs[at % addrs.len()], hello).await {
                        assert_eq!(w["recovered"], true, "{w}");
                        self.client = c;
                        self.resumes += 1;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                },
            }
        }
    }

    /// Every number once, offsets strictly increasing.
    pub fn assert_complete(&self, mut expected: Vec<u64>) {
        let mut seen = self.seen.clone();
        seen.sort_unstable();
        expected.sort_unstable();
        assert_eq!(seen.len(), expected.len(), "duplicates or losses");
        assert_eq!(seen, expected);
        let parse = |o: &String| {
            let (a, b) = o.split_once('-').unwrap();
            (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap())
        };
        assert!(
            self.offsets.windows(2).all(|w| parse(&w[0]) < parse(&w[1])),
            "offsets out of order"
        );
    }
}
