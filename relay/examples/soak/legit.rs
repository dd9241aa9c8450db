//! The soak's legitimate clients, from 127.0.0.1: publishers (four over
//! WebSocket, one over HTTP, 50 events/s each, every publish with a `ref`
//! and retried with it until acknowledged) and subscribers (admin tokens, so
//! that they see every event whoever publishes it) that resume after any
//! close. Each event carries its publisher, its number and when it was sent.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::{http, micros, token, Run};

const SUBSCRIBERS: usize = 40;
const PUBLISHERS: u64 = 4;
/// Events per second of each publisher.
const RATE: u64 = 50;
const NAME: &str = "soak.tick";

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What one subscriber received.
#[derive(Default)]
struct Seen {
    events: HashSet<(u64, u64)>,
    latencies_us: Vec<u64>,
    duplicates: u64,
    resumes: u64,
    /// Resumes answered `recovered: false`: the relay said events may be missing.
    gaps: u64,
}

/// The running clients.
pub struct Legit {
    publishers: Vec<JoinHandle<()>>,
    /// Events acknowledged, per publisher (numbers 0..acked, in order).
    acked: Arc<Vec<AtomicU64>>,
    subscribers: Vec<(Arc<Mutex<Seen>>, JoinHandle<()>)>,
    done: Arc<AtomicBool>,
}

async fn connect(addr: &str, hello: Value) -> Option<(Ws, Value)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws"))
        .await
        .ok()?;
    ws.send(Message::Text(hello.to_string().into())).await.ok()?;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await.ok()?? {
            Ok(Message::Text(t)) => {
                let welcome: Value = serde_json::from_str(&t).ok()?;
                return (welcome["type"] == "welcome").then_some((ws, welcome));
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            _ => return None,
        }
    }
}

fn payload(p: u64, n: u64) -> Value {
    json!({"p": p, "n": n, "t": micros()})
}

/// Publishes `RATE` events a second until the run stops, each until acknowledged.
async fn publish_ws(run: Run, p: u64, acked: Arc<Vec<AtomicU64>>) {
    let t = token(&format!("pub-{p}"), json!({"publish": ["soak.*"]}));
    let started = Instant::now();
    let mut n = 0;
    'connect: while run.on() {
        let Some((mut ws, _)) = connect(&run.addr, json!({"type": "hello", "token": t})).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        while run.on() {
            let due = started + Duration::from_micros(n * 1_000_000 / RATE);
            tokio::time::sleep_until(due.into()).await;
            let frame = json!({"type": "publish", "ref": format!("{p}-{n}"), "name": NAME, "payload": payload(p, n)});
            if ws.send(Message::Text(frame.to_string().into())).await.is_err() {
                continue 'connect;
            }
            let reply = loop {
                match tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => break serde_json::from_str::<Value>(&t).unwrap_or_default(),
                    Ok(Some(Ok(_))) => {}
                    _ => continue 'connect,
                }
            };
            if reply["type"] == "ack" {
                n += 1;
                acked[p as usize].store(n, Relaxed);
            } else {
                // `unavailable` or `rate`: the same ref again, a little later.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The same over `POST /v1/events`: ten events per request.
async fn publish_http(run: Run, p: u64, acked: Arc<Vec<AtomicU64>>) {
    let t = token("pub-http", json!({"publish": ["soak.*"]}));
    let started = Instant::now();
    let mut n = 0;
    while run.on() {
        let due = started + Duration::from_micros(n * 1_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        let items: Vec<Value> = (n..n + 10)
            .map(|i| json!({"name": NAME, "payload": payload(p, i), "ref": format!("{p}-{i}")}))
            .collect();
        let answers = http(
            &run.addr,
            None,
            "POST",
            "/v1/events",
            &t,
            &Value::from(items).to_string(),
        )
        .await;
        let answers: Vec<Value> = answers
            .and_then(|(_, body)| serde_json::from_str(&body).ok())
            .unwrap_or_default();
        // The first item not stored, and those after it, go again.
        n += answers.iter().take_while(|a| a["offset"].is_string()).count() as u64;
        acked[p as usize].store(n, Relaxed);
    }
}

/// Reads events until `done`, resuming after any close.
async fn subscribe(addr: String, i: usize, seen: Arc<Mutex<Seen>>, done: Arc<AtomicBool>) {
    let t = token(&format!("watch-{i}"), json!({"admin": true, "subscribe": ["soak.*"]}));
    let mut hello = json!({"type": "hello", "token": t, "subscribe": ["soak.*"]});
    while !done.load(Relaxed) {
        let Some((mut ws, welcome)) = connect(&addr, hello.clone()).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let epoch = welcome["epoch"].clone();
        let mut offset = welcome["offset"].clone();
        if hello.get("resume").is_some() {
            let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
            s.resumes += 1;
            if welcome["recovered"] != true {
                s.gaps += 1;
            }
        }
        while !done.load(Relaxed) {
            let frame = match tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
                Err(_) => continue,
                Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<Value>(&t).unwrap_or_default(),
                Ok(Some(Ok(_))) => continue,
                Ok(_) => break,
            };
            if frame["type"] != "event" {
                continue;
            }
            offset = frame["offset"].clone();
            let e = &frame["payload"];
            let (p, n, sent) = (
                e["p"].as_u64().unwrap_or(0),
                e["n"].as_u64().unwrap_or(0),
                e["t"].as_u64().unwrap_or(0),
            );
            let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
            if !s.events.insert((p, n)) {
                s.duplicates += 1;
            }
            s.latencies_us.push(micros().saturating_sub(sent));
        }
        hello["resume"] = json!({"epoch": epoch, "offset": offset});
    }
}

/// Starts the subscribers, then the publishers.
pub async fn start(run: &Run) -> Legit {
    let done = Arc::new(AtomicBool::new(false));
    let subscribers = (0..SUBSCRIBERS)
        .map(|i| {
            let seen = Arc::new(Mutex::new(Seen::default()));
            (
                seen.clone(),
                tokio::spawn(subscribe(run.addr.clone(), i, seen, done.clone())),
            )
        })
        .collect();
    // Let them say hello first: what is published from now on must reach all.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..=PUBLISHERS).map(|_| AtomicU64::new(0)).collect());
    let mut publishers: Vec<JoinHandle<()>> = (0..PUBLISHERS)
        .map(|p| tokio::spawn(publish_ws(run.clone(), p, acked.clone())))
        .collect();
    publishers.push(tokio::spawn(publish_http(run.clone(), PUBLISHERS, acked.clone())));
    Legit {
        publishers,
        acked,
        subscribers,
        done,
    }
}

impl Legit {
    /// Once the publishers stopped: waits (20 s at most) for every
    /// subscriber to have every acknowledged event, then tallies.
    pub async fn finish(self) -> Value {
        for p in self.publishers {
            let _ = p.await;
        }
        let acked: Vec<u64> = self.acked.iter().map(|a| a.load(Relaxed)).collect();
        let published: u64 = acked.iter().sum();
        let complete = |s: &Seen| {
            acked
                .iter()
                .enumerate()
                .all(|(p, &n)| (0..n).all(|i| s.events.contains(&(p as u64, i))))
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline
            && !self
                .subscribers
                .iter()
                .all(|(seen, _)| complete(&seen.lock().unwrap_or_else(|e| e.into_inner())))
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.done.store(true, Relaxed);
        let (mut delivered, mut lost, mut gap_missing, mut duplicates, mut resumes, mut gaps) = (0, 0, 0, 0, 0, 0);
        let mut latencies = Vec::new();
        for (seen, task) in self.subscribers {
            let _ = task.await;
            let s = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
            let missing = published.saturating_sub(s.events.len() as u64);
            if s.gaps > 0 {
                gap_missing += missing;
            } else {
                lost += missing;
            }
            delivered += s.events.len() as u64;
            (duplicates, resumes, gaps) = (duplicates + s.duplicates, resumes + s.resumes, gaps + s.gaps);
            latencies.extend(s.latencies_us);
        }
        latencies.sort_unstable();
        let pct = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |&us| us as f64 / 1000.0)
        };
        json!({
            "subscribers": SUBSCRIBERS, "published": published, "delivered": delivered, "expected": published * SUBSCRIBERS as u64,
            "lost": lost, "gap_missing": gap_missing, "gaps": gaps, "duplicates": duplicates, "resumes": resumes,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": latencies.last().map_or(0.0, |&us| us as f64 / 1000.0),
        })
    }
}
