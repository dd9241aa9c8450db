//! Edges that close or refuse: a refreshed token narrower than the
//! subscriptions (4003), a resume the engine cannot check now (1013), an
//! HTTP body over the limit (413), and the Redis reader's backoff when it
//! reaches Redis but cannot read the epoch. Real relay and redis-server
//! processes, as everywhere in these tests.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn an_auth_refresh_that_no_longer_covers_the_subscriptions_closes_4003() {
    let relay = Relay::memory(&[]).await;
    let wide = token(json!({"sub": "u1", "subscribe": ["audio.*", "auth.*"]}));
    let (mut c, _) = Client::join(&relay.addr, Some(&wide), &["audio.*", "auth.user.login"]).await;
    // A refresh that still covers both subscriptions keeps the connection.
    let still = token(json!({"sub": "u1", "subscribe": ["audio.*", "auth.user.*"]}));
    c.send(json!({"type": "auth", "token": still})).await;
    c.sync().await;
    // One that drops `auth.*` no longer covers `auth.user.login`.
    let narrow = token(json!({"sub": "u1", "subscribe": ["audio.*"]}));
    c.send(json!({"type": "auth", "token": narrow})).await;
    let (code, reason) = c.closed().await;
    assert_eq!(code, 4003, "{reason}");
    assert!(reason.contains("auth.user.login"), "{reason}");
}

#[tokio::test]
async fn a_resume_the_engine_cannot_check_now_closes_1013_try_again_later() {
    let mut redis = Redis::start("try-later", false).await;
    let relay = Relay::redis(&redis, &[]).await;
    let t = token(json!({"sub": "u1"}));
    let (_c, welcome) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let resume =
        json!({"token": t, "subscribe": ["*"], "resume": {"epoch": welcome["epoch"], "offset": welcome["offset"]}});
    redis.kill().await;
    let (_, got) = Client::hello(&relay.addr, resume.clone()).await;
    let Got::Closed(code, reason) = got else {
        panic!("expected a close, got {got:?}")
    };
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("retry"), "{reason}");
    // A connection without resume needs no engine answer: still welcomed.
    let (_, got) = Client::hello(&relay.addr, json!({"token": t, "subscribe": ["*"]})).await;
    assert!(matches!(&got, Got::Frame(w) if w["type"] == "welcome"), "{got:?}");
}

/// Sends a request head and `body` (from a task of its own: the relay may
/// answer before reading it all) and returns the status and the body.
async fn post_raw(addr: &str, head: String, body: Vec<u8>) -> (u16, Value) {
    let (mut read, mut write) = TcpStream::connect(addr).await.unwrap().into_split();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await;
        write
    });
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + WAIT;
    // Read until the JSON body has arrived (the relay may keep the socket open).
    loop {
        let n = tokio::time::timeout_at(deadline, read.read(&mut chunk))
            .await
            .expect("no answer in time")
            .unwrap_or(0);
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if n == 0 || text.trim_end().ends_with('}') {
            break;
        }
    }
    writer.abort();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = text[text.find('{').expect(&text)..].trim_end();
    (status, serde_json::from_str(json).expect(json))
}

#[tokio::test]
async fn an_http_body_over_the_limit_is_refused_with_413_and_says_why() {
    let relay = Relay::memory(&[]).await;
    let auth = format!("Authorization: Bearer {}\r\n", token(json!({"publish": ["*"]})));
    let over = 2 * 1024 * 1024 + 1;
    // Declared by Content-Length: refused without reading the body.
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {over}\r\n\r\n"
    );
    let (status, body) = post_raw(&relay.addr, head, vec![b' '; over]).await;
    assert_eq!(status, 413, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("larger than 2097152 bytes"), "{message}");
    // Chunked, so the length shows only while reading.
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut chunked = format!("{over:x}\r\n").into_bytes();
    chunked.extend(std::iter::repeat_n(b' ', over));
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, body) = post_raw(&relay.addr, head, chunked).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("larger than"), "{body}");
    // Under the limit, the same endpoint answers as usual.
    let ok = json!([{"name": "audio.playback.started", "payload": playback(1)}]).to_string();
    let (status, body) = relay
        .http("POST", "/v1/events", Some(&token(json!({"publish": ["*"]}))), &ok)
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"offset\""), "{body}");
}

/// Seconds since midnight of a log line's timestamp (`2026-01-02T03:04:05.678901Z`,
/// maybe within terminal colour codes).
fn stamp(line: &str) -> Option<f64> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let word = line[start..]
        .split(|c: char| c.is_whitespace() || c == '\u{1b}')
        .next()?;
    let time = word.split_once('T')?.1.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

#[tokio::test]
async fn the_reader_backs_off_with_doubling_delay_when_the_epoch_cannot_be_read() {
    let redis = Redis::start("epoch-backoff", false).await;
    let relay = Relay::redis(&redis, &[]).await;
    let t = token(json!({"sub": "u1", "publish": ["*"]}));
    // Redis now wants a password the relay does not have: the reader's new
    // connections open, but reading the epoch fails (NOAUTH).
    redis.cli(None, &["CONFIG", "SET", "requirepass", "sesame"]).await;
    let killed = redis.cli(Some("sesame"), &["CLIENT", "KILL", "TYPE", "normal"]).await;
    assert_ne!(killed, "0", "the relay's connections were killed");
    // Wait for the fourth failure (the relay logs each one), not a fixed time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let (log, failures) = loop {
        let log = std::fs::read_to_string(&relay.log).unwrap();
        let failures: Vec<f64> = log
            .lines()
            .filter(|l| l.contains("redis reader epoch"))
            .filter_map(stamp)
            .collect();
        if failures.len() >= 4 {
            break (log, failures);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} failures after 30 s:\n{log}",
            failures.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // 100, 200, 400 ms between the first four (a fixed 100 ms would take
    // 0.3 s), then doubling up to the 2 s cap for any that came since.
    let span = failures[3] - failures[0];
    assert!(
        span >= 0.7 * 0.9,
        "the first 4 failures took {span:.3} s, expected at least 0.7 s:\n{log}"
    );
    for (k, pair) in failures.windows(2).enumerate() {
        let waited = pair[1] - pair[0];
        let nominal = (0.1 * f64::from(1u32 << k.min(8))).min(2.0);
        assert!(
            waited >= nominal * 0.9,
            "wait {k} was {waited:.3} s, expected at least {nominal:.1} s:\n{log}"
        );
    }
    // Without the password again, the reader resumes and events flow.
    redis.cli(Some("sesame"), &["CONFIG", "SET", "requirepass", ""]).await;
    let (mut reader, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let (mut writer, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut n = 0;
    loop {
        n += 1;
        let r = writer
            .publish(&format!("after-{n}"), "audio.playback.started", playback(n))
            .await;
        if r["type"] == "ack" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never acked again: {r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seq(&reader.event().await), n);
}
