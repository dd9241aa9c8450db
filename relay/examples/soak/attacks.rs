//! The soak's attackers: each item of issue 19 that a client can do to a
//! relay, repeated until the run stops, each from a loopback address of its
//! own (127.0.0.2...), as from other machines. Each returns what the relay
//! answered it, in words, for the report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::raw::{client_frame, connect_from, raw_upgrade};
use crate::{http, token, Run};

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The running attacks, by name.
pub struct Attacks(Vec<(&'static str, JoinHandle<String>)>);

/// Starts every attack.
pub fn start(run: &Run) -> Attacks {
    let r = || run.clone();
    Attacks(vec![
        (
            "WebSocket pings, never read (2 connections)",
            tokio::spawn(ping_flood(r())),
        ),
        (
            "idle sockets from one address (1,100; its cap is 1,000)",
            tokio::spawn(idle_sockets(r())),
        ),
        (
            "request heads dripped a byte a second (20 sockets)",
            tokio::spawn(drips(r())),
        ),
        ("upgrades from another web origin", tokio::spawn(origins(r()))),
        ("publishes with a 100 KB ref", tokio::spawn(big_refs(r()))),
        (
            "2 MiB HTTP bodies of empty items (2 at a time)",
            tokio::spawn(item_bombs(r())),
        ),
        (
            "names of 511 dots under a prefix grant",
            tokio::spawn(dotted_names(r())),
        ),
        ("auth frames in a loop", tokio::spawn(auth_loop(r()))),
        (
            "1,000-item HTTP requests of one token, back to back",
            tokio::spawn(http_flood(r())),
        ),
        (
            "80 connections of one user at once",
            tokio::spawn(user_connections(r())),
        ),
        ("tokens whose nbf is an hour ahead", tokio::spawn(early_tokens(r()))),
        (
            "subscribers to * that never read (2)",
            tokio::spawn(deaf_subscribers(r())),
        ),
    ])
}

impl Attacks {
    /// Waits for each (they stop with the run) and collects their reports.
    pub async fn finish(self) -> Value {
        let mut out = BTreeMap::new();
        for (name, task) in self.0 {
            let said = match tokio::time::timeout(Duration::from_secs(60), task).await {
                Ok(Ok(said)) => said,
                _ => "did not stop".into(),
            };
            out.insert(name.to_string(), Value::from(said));
        }
        json!(out)
    }
}

/// A WebSocket from `from` that said `hello` (not waiting for the welcome).
async fn ws(run: &Run, from: &str, hello: Value) -> Option<Ws> {
    let tcp = connect_from(&run.addr, Some(from)).await.ok()?;
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{}/v1/ws", run.addr), tcp)
        .await
        .ok()?;
    ws.send(Message::Text(hello.to_string().into())).await.ok()?;
    Some(ws)
}

/// A WebSocket from `from` of a token for `sub` with `claims`, welcomed
/// (after a pause, `None`, when it was not).
async fn joined(run: &Run, from: &str, sub: &str, claims: Value) -> Option<Ws> {
    if let Some(mut ws) = ws(run, from, json!({"type": "hello", "token": token(sub, claims)})).await {
        if next(&mut ws).await.is_ok_and(|w| w["type"] == "welcome") {
            return Some(ws);
        }
    }
    pause().await;
    None
}

/// The next text frame, or the close code (0: the connection just ended).
async fn next(ws: &mut Ws) -> Result<Value, u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t).unwrap_or_default()),
            Ok(Some(Ok(Message::Close(Some(f))))) => return Err(u16::from(f.code)),
            Ok(Some(Ok(Message::Close(None)) | Err(_)) | None) | Err(_) => return Err(0),
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn pause() -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(20))
}

async fn ping_flood(run: Run) -> String {
    let one = |say_hello: bool, run: Run| async move {
        let (mut closed, mut bytes) = (0u64, 0u64);
        let batch = client_frame(0x9, &[b'p'; 125]).repeat(1000);
        let hello = client_frame(
            0x1,
            json!({"type": "hello", "token": token("pinger", json!({}))})
                .to_string()
                .as_bytes(),
        );
        while run.on() {
            let Ok((mut tcp, _)) = raw_upgrade(&run.addr, Some("127.0.0.2"), "").await else {
                continue;
            };
            if say_hello {
                let _ = tcp.write_all(&hello).await;
            }
            while run.on() {
                match tokio::time::timeout(Duration::from_secs(1), tcp.write_all(&batch)).await {
                    Ok(Ok(())) => bytes += batch.len() as u64,
                    Ok(Err(_)) => {
                        closed += 1;
                        break;
                    }
                    Err(_) => {}
                }
            }
        }
        (closed, bytes)
    };
    let (a, b) = tokio::join!(one(false, run.clone()), one(true, run));
    let closed = a.0 + b.0;
    format!(
        "{closed} connections closed (4008) after {:.1} MiB of pings each on average",
        (a.1 + b.1) as f64 / closed.max(1) as f64 / 1048576.0
    )
}

async fn idle_sockets(run: Run) -> String {
    let one = |run: Run| async move {
        // Refused with an answer, closed at once without one (the relay
        // answers 64 refusals at a time), closed by --header-timeout (10 s).
        let (mut refused, mut cut, mut timed_out) = (0u64, 0u64, 0u64);
        while run.on() {
            let Ok(mut tcp) = connect_from(&run.addr, Some("127.0.0.3")).await else {
                pause().await;
                continue;
            };
            let started = Instant::now();
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut answer)).await;
            if answer.starts_with(b"HTTP/1.1 429") {
                refused += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            } else if answer.is_empty() && started.elapsed() < Duration::from_secs(5) {
                cut += 1;
            } else if answer.is_empty() {
                timed_out += 1;
            }
        }
        (refused, cut, timed_out)
    };
    let tasks: Vec<_> = (0..1100).map(|_| tokio::spawn(one(run.clone()))).collect();
    let (mut refused, mut cut, mut timed_out) = (0, 0, 0);
    for t in tasks {
        if let Ok((r, c, o)) = t.await {
            (refused, cut, timed_out) = (refused + r, cut + c, timed_out + o);
        }
    }
    format!(
        "{refused} refused 429 (per address), {cut} closed at once without an answer (over the cap while 64 refusals \
         were being answered), {timed_out} closed by --header-timeout"
    )
}

async fn drips(run: Run) -> String {
    let one = |run: Run| async move {
        let Ok(mut tcp) = connect_from(&run.addr, Some("127.0.0.4")).await else {
            return (0, 0);
        };
        let started = Instant::now();
        while run.on() {
            // A byte, then a second of waiting for the relay to close.
            let closed = match tcp.write_all(b"G").await {
                Err(_) => true,
                Ok(()) => matches!(
                    tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut [0u8; 1])).await,
                    Ok(Ok(0) | Err(_))
                ),
            };
            if closed {
                return (1, started.elapsed().as_millis() as u64);
            }
        }
        (0, 0)
    };
    let (mut closed, mut ms) = (0u64, 0u64);
    while run.on() {
        let tasks: Vec<_> = (0..20).map(|_| tokio::spawn(one(run.clone()))).collect();
        for t in tasks {
            if let Ok((c, m)) = t.await {
                (closed, ms) = (closed + c, ms + m);
            }
        }
    }
    format!(
        "{closed} closed, {:.1} s after their first byte on average",
        ms as f64 / closed.max(1) as f64 / 1000.0
    )
}

async fn origins(run: Run) -> String {
    let (mut refused, mut other) = (0u64, 0u64);
    while run.on() {
        let headers = "Origin: https://evil.example\r\nConnection: close\r\n";
        match raw_upgrade(&run.addr, Some("127.0.0.5"), headers).await {
            Ok((_, answer)) if answer.starts_with("HTTP/1.1 403") => refused += 1,
            _ => other += 1,
        }
        pause().await;
    }
    format!("{refused} refused 403, {other} otherwise")
}

async fn big_refs(run: Run) -> String {
    let (mut too_large, mut other) = (0u64, BTreeMap::<String, u64>::new());
    let big = "r".repeat(100_000);
    while run.on() {
        let Some(mut ws) = joined(&run, "127.0.0.6", "refs", json!({"publish": ["*"]})).await else {
            continue;
        };
        while run.on() {
            let frame = json!({"type": "publish", "ref": big, "name": "soak.big", "payload": {}});
            if ws.send(Message::Text(frame.to_string().into())).await.is_err() {
                break;
            }
            match next(&mut ws).await {
                Ok(r) if r["kind"] == "too-large" => too_large += 1,
                Ok(r) => *other.entry(format!("{} {}", r["type"], r["kind"])).or_default() += 1,
                Err(_) => break,
            }
        }
    }
    format!("{too_large} refused too-large, otherwise {other:?}")
}

async fn item_bombs(run: Run) -> String {
    let body = format!("[{}{{}}]", "{},".repeat((2 << 20) / 3 - 1));
    let one = |run: Run, body: String| async move {
        let t = token("bomb", json!({"publish": ["*"]}));
        let (mut refused, mut other) = (0u64, 0u64);
        while run.on() {
            match http(&run.addr, Some("127.0.0.7"), "POST", "/v1/events", &t, &body).await {
                Some((413, _)) => refused += 1,
                _ => other += 1,
            }
        }
        (refused, other)
    };
    let (a, b) = tokio::join!(one(run.clone(), body.clone()), one(run, body));
    format!("{} refused 413 while parsing, {} otherwise", a.0 + b.0, a.1 + b.1)
}

async fn dotted_names(run: Run) -> String {
    let name = format!("x.{}x", "x.".repeat(510));
    let (mut acked, mut rate, mut other) = (0u64, 0u64, 0u64);
    while run.on() {
        let Some(mut ws) = joined(&run, "127.0.0.8", "dots", json!({"publish": ["x.*"]})).await else {
            continue;
        };
        'burst: while run.on() {
            for _ in 0..100 {
                let frame = json!({"type": "publish", "name": name, "payload": {}});
                if ws.send(Message::Text(frame.to_string().into())).await.is_err() {
                    break 'burst;
                }
            }
            for _ in 0..100 {
                match next(&mut ws).await {
                    Ok(r) if r["type"] == "ack" => acked += 1,
                    Ok(r) if r["kind"] == "rate" => rate += 1,
                    Ok(_) => other += 1,
                    Err(_) => break 'burst,
                }
            }
        }
    }
    format!("{acked} stored, {rate} refused rate, {other} otherwise")
}

async fn auth_loop(run: Run) -> String {
    let t = token("auth", json!({}));
    let (mut closed, mut frames) = (0u64, 0u64);
    while run.on() {
        let Some(mut ws) = joined(&run, "127.0.0.9", "auth", json!({})).await else {
            continue;
        };
        // More than the 30 a minute allowed, at once.
        for _ in 0..40 {
            let auth = json!({"type": "auth", "token": t}).to_string();
            if ws.send(Message::Text(auth.into())).await.is_err() {
                break;
            }
            frames += 1;
        }
        loop {
            match next(&mut ws).await {
                Err(4400) => closed += 1,
                Err(_) => {}
                Ok(_) => continue,
            }
            break;
        }
    }
    format!("{frames} auth frames sent, {closed} connections closed 4400")
}

async fn http_flood(run: Run) -> String {
    let t = token("flood", json!({"publish": ["flood.*"]}));
    let items: Vec<Value> = (0..1000)
        .map(|i| json!({"name": "flood.x", "payload": {"i": i}}))
        .collect();
    let body = Value::from(items).to_string();
    let (mut stored, mut rate) = (0u64, 0u64);
    while run.on() {
        let Some((200, answer)) = http(&run.addr, Some("127.0.0.10"), "POST", "/v1/events", &t, &body).await else {
            pause().await;
            continue;
        };
        let answers: Vec<Value> = serde_json::from_str(&answer).unwrap_or_default();
        stored += answers.iter().filter(|a| a["offset"].is_string()).count() as u64;
        rate += answers.iter().filter(|a| a["refused"]["kind"] == "rate").count() as u64;
    }
    format!("{stored} stored, {rate} refused rate (--user-rate)")
}

async fn user_connections(run: Run) -> String {
    let t = token("many", json!({}));
    let (mut welcomed, mut refused) = (0u64, 0u64);
    while run.on() {
        let attempts = (0..80).map(|_| async {
            let mut ws = ws(&run, "127.0.0.11", json!({"type": "hello", "token": t})).await?;
            let first = next(&mut ws).await;
            Some((ws, first))
        });
        let mut held = Vec::new();
        for (ws, first) in futures_util::future::join_all(attempts).await.into_iter().flatten() {
            match first {
                Ok(w) if w["type"] == "welcome" => {
                    welcomed += 1;
                    held.push(ws);
                }
                Err(1013) => refused += 1,
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    format!("{welcomed} welcomed, {refused} closed 1013 (--max-connections-per-user)")
}

async fn early_tokens(run: Run) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let t = token("early", json!({"nbf": now + 3600, "admin": true}));
    let (mut refused, mut other) = (0u64, 0u64);
    while run.on() {
        match ws(&run, "127.0.0.12", json!({"type": "hello", "token": t})).await {
            Some(mut ws) => match next(&mut ws).await {
                Err(4001) => refused += 1,
                _ => other += 1,
            },
            None => other += 1,
        }
        pause().await;
    }
    format!("{refused} closed 4001 (not valid yet), {other} otherwise")
}

async fn deaf_subscribers(run: Run) -> String {
    let one = |run: Run| async move {
        let mut connected = 0u64;
        while run.on() {
            let hello = json!({"type": "hello", "token": token("deaf", json!({"admin": true})), "subscribe": ["*"]});
            if let Some(_ws) = ws(&run, "127.0.0.13", hello).await {
                connected += 1;
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        }
        connected
    };
    let (a, b) = tokio::join!(one(run.clone()), one(run));
    format!(
        "{} connections (closed 4008 when their queue filled: see kaiwa_relay_lagging_closes_total)",
        a + b
    )
}
