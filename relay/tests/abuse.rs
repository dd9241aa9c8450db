//! What a client with a token (or a body) could make the relay spend, and
//! how it is bounded: `ref`s capped at 256 bytes on both doors, HTTP bodies
//! of many items refused while parsing, names of many dots matched in time
//! linear in the name, `auth` frames rate-limited, limits per user across
//! WebSocket and HTTP, tokens not valid yet, and lone surrogates read as the
//! bus reads them. Real relay processes; limits set through `KAIWA_RELAY_*`
//! variables (see `Relay::start_with`).

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn refs_over_256_bytes_are_refused_too_large_on_both_doors() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"sub": "u1"}));
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let longest = "r".repeat(256);
    let ack = c.publish(&longest, "audio.playback.started", playback(1)).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let over = "r".repeat(257);
    let refused = c.publish(&over, "audio.playback.started", playback(2)).await;
    assert_eq!(
        (refused["type"].as_str(), refused["kind"].as_str()),
        (Some("refused"), Some("too-large")),
        "{refused}"
    );
    assert!(refused["message"].as_str().unwrap().contains("256"), "{refused}");
    assert_eq!(refused["ref"], Value::Null, "an over-long ref is not sent back");

    let items = json!([
        {"name": "audio.playback.started", "payload": playback(3), "ref": "h".repeat(256)},
        {"name": "audio.playback.started", "payload": playback(4), "ref": "h".repeat(2 << 20 >> 4)},
    ]);
    let (status, body) = relay.http("POST", "/v1/events", Some(&t), &items.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let answers: Value = serde_json::from_str(&body).unwrap();
    assert!(answers[0]["offset"].is_string(), "{body}");
    assert_eq!(answers[1]["refused"]["kind"], "too-large", "{body}");
    let line = "kaiwa_relay_refusals_total{kind=\"too-large\"}";
    assert_eq!(relay.metric(line).await, 2);
}

#[tokio::test]
async fn http_bodies_of_many_items_stop_at_the_limit_and_memory_stays_near_their_size() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"sub": "u1"}));
    // Positive control: 1,000 items is the limit and is served.
    let thousand = format!("[{}{{}}]", "{},".repeat(999));
    let (status, body) = relay.http("POST", "/v1/events", Some(&t), &thousand).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 1000);

    // Eight bodies of 2 MiB of empty items at once (about 700,000 each).
    let before = relay.peak_rss_kib();
    let many = format!("[{}{{}}]", "{},".repeat((2 << 20) / 3 - 1));
    let mut posts = Vec::new();
    for _ in 0..8 {
        let (addr, t, many) = (relay.addr.clone(), t.clone(), many.clone());
        posts.push(tokio::spawn(async move {
            http(&addr, "POST", "/v1/events", Some(&t), &many).await
        }));
    }
    let mut answers = Vec::new();
    for post in posts {
        answers.push(post.await.unwrap());
    }
    let grown = relay.peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "the relay's peak RSS grew by {grown} KiB for 16 MiB of bodies"
    );
    for (status, body) in answers {
        assert_eq!(status, 413, "{body}");
        assert!(body.contains("more than 1000 items"), "{body}");
    }
}

#[tokio::test]
async fn event_names_of_many_dots_cost_what_names_of_few_dots_do() {
    let unlimited = [("KAIWA_RELAY_USER_RATE", "1000000")];
    let relay = Relay::start_with(&["--engine", "memory", "--rate", "1000000"], Some(SECRET), &unlimited).await;
    // Subscribers with ordinary prefixes and one long one, matched by no name published.
    let long = format!("{}z.*", "z.".repeat(500));
    let mut subscribers = Vec::new();
    for _ in 0..20 {
        let (c, _) = Client::join(
            &relay.addr,
            Some(&token(json!({"sub": "s"}))),
            &["audio.*", "auth.user.*", &long],
        )
        .await;
        subscribers.push(c);
    }
    let (mut p, _) = Client::join(&relay.addr, Some(&token(json!({"sub": "p"}))), &[]).await;
    // Names of 1,023 bytes: one of 511 dots, one of 2.
    let dotted = format!("{}q", "q.".repeat(511));
    let plain = format!("{}.q.q", "q".repeat(1019));
    assert_eq!((dotted.len(), plain.len()), (1023, 1023));
    let mut cpu = Vec::new();
    for name in [&plain, &dotted, &plain, &dotted] {
        let before = relay.cpu_ticks();
        for i in 0..300 {
            p.send(
                json!({"type": "publish", "ref": format!("{name:.3}{i}-{}", cpu.len()), "name": name, "payload": {}}),
            )
            .await;
        }
        for _ in 0..300 {
            match p.reply().await {
                Got::Frame(f) if f["type"] == "ack" => {}
                other => panic!("expected an ack, got {other:?}"),
            }
        }
        // Every subscriber has looked at every event once it answers a ping.
        for s in &mut subscribers {
            s.quiet().await;
        }
        cpu.push(relay.cpu_ticks() - before);
    }
    let (plain_cpu, dotted_cpu) = (cpu[0] + cpu[2], cpu[1] + cpu[3]);
    eprintln!("CPU ticks: 2 dots {plain_cpu}, 511 dots {dotted_cpu}");
    // Hashing each prefix on its own made the dotted names 85-168 times as
    // costly to match, and the whole publish more than ten times as costly.
    assert!(
        dotted_cpu <= plain_cpu * 3 + 10,
        "CPU ticks for names of 2 dots: {plain_cpu}, of 511 dots: {dotted_cpu}"
    );
}

#[tokio::test]
async fn auth_frames_past_the_rate_close_4400_and_are_counted() {
    let relay = Relay::memory(&[]).await;
    let wide = token(json!({"sub": "u1", "subscribe": ["audio.*", "auth.*"]}));
    let (mut c, _) = Client::join(&relay.addr, Some(&wide), &["audio.*", "auth.user.*"]).await;
    // The default rate: 30 a minute. A refresh with another claim that still
    // covers the subscriptions is checked and kept.
    for i in 0..30 {
        let claims = if i % 2 == 0 {
            json!({"sub": "u1", "subscribe": ["*"]})
        } else {
            json!({"sub": "u1", "subscribe": ["audio.*", "auth.*"]})
        };
        c.send(json!({"type": "auth", "token": token(claims)})).await;
    }
    c.sync().await;
    c.send(json!({"type": "auth", "token": wide})).await;
    let (code, reason) = c.closed().await;
    assert_eq!(code, 4400, "{reason}");
    assert!(reason.contains("auth frames"), "{reason}");
    assert_eq!(relay.metric("kaiwa_relay_auth_floods_total").await, 1);
}

#[tokio::test]
async fn one_user_is_limited_across_its_connections_and_http() {
    let limits = [
        ("KAIWA_RELAY_USER_RATE", "20"),
        ("KAIWA_RELAY_MAX_CONNECTIONS_PER_USER", "3"),
    ];
    let relay = Relay::start_with(&["--engine", "memory", "--rate", "1000"], Some(SECRET), &limits).await;
    let t = token(json!({"sub": "u1"}));
    // At most a burst of 20, and 20 a second after it, whatever the machine's speed.
    let most = |since: std::time::Instant| 20 + (20.0 * since.elapsed().as_secs_f64()) as usize + 1;
    // Over HTTP: one bucket for the user, whatever the request.
    let items: Vec<Value> = (0..200)
        .map(|i| json!({"name": "audio.playback.started", "payload": playback(i)}))
        .collect();
    let started = std::time::Instant::now();
    let (status, body) = relay
        .http("POST", "/v1/events", Some(&t), &Value::from(items).to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    let answers: Vec<Value> = serde_json::from_str(&body).unwrap();
    let stored = answers.iter().filter(|a| a["offset"].is_string()).count();
    assert!((20..=most(started)).contains(&stored), "{stored} of 200 stored");
    let refused = answers
        .iter()
        .find(|a| a["refused"]["kind"] == "rate")
        .expect("rate refusals");
    assert!(
        refused["refused"]["message"].as_str().unwrap().contains("--user-rate"),
        "{refused}"
    );

    // Two connections share it too: wait until it has room for one, then a burst from both.
    let (mut a, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (mut b, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while a.publish("first", "audio.playback.started", playback(0)).await["type"] != "ack" {
        assert!(tokio::time::Instant::now() < deadline, "the bucket never refilled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = std::time::Instant::now();
    for (i, c) in [&mut a, &mut b].into_iter().enumerate() {
        for n in 0..60 {
            c.send(json!({"type": "publish", "ref": format!("c{i}-{n}"), "name": "audio.playback.started", "payload": playback(n)})).await;
        }
    }
    let mut acked = 0;
    for c in [&mut a, &mut b] {
        for _ in 0..60 {
            match c.reply().await {
                Got::Frame(f) if f["type"] == "ack" => acked += 1,
                Got::Frame(f) if f["kind"] == "rate" => {}
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(
        acked <= most(started),
        "{acked} of 120 stored for one user at --user-rate 20"
    );

    // Three connections at most; another user is not affected.
    let (_c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    let (_, got) = Client::hello(&relay.addr, json!({"token": t})).await;
    let Got::Closed(code, reason) = got else {
        panic!("a fourth connection: {got:?}")
    };
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("--max-connections-per-user"), "{reason}");
    Client::join(&relay.addr, Some(&token(json!({"sub": "u2"}))), &[]).await;
    // Once one closes, room again.
    drop(a);
    let deadline = tokio::time::Instant::now() + WAIT;
    while Client::try_join(&relay.addr, json!({"token": t})).await.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "no room after a close");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        relay
            .metric("kaiwa_relay_refused_connections_total{reason=\"per-user\"}")
            .await
            >= 1
    );
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused_on_both_doors_within_a_small_leeway() {
    let relay = Relay::memory(&[]).await;
    let early = token(json!({"sub": "u1", "nbf": now_s() + 3600}));
    let (_, got) = Client::hello(&relay.addr, json!({"token": early})).await;
    let Got::Closed(code, reason) = got else {
        panic!("{got:?}")
    };
    assert_eq!(code, 4001, "{reason}");
    assert!(reason.contains("not valid yet"), "{reason}");
    let publish = json!([{"name": "audio.playback.started", "payload": playback(1)}]).to_string();
    let (status, body) = relay.http("POST", "/v1/events", Some(&early), &publish).await;
    assert_eq!(status, 401, "{body}");
    // A clock a little behind the app's: accepted.
    let skewed = token(json!({"sub": "u1", "nbf": now_s() + 20}));
    let (mut c, _) = Client::join(&relay.addr, Some(&skewed), &[]).await;
    // A refresh not valid yet ends the connection too.
    c.send(json!({"type": "auth", "token": early})).await;
    let (code, reason) = c.closed().await;
    assert_eq!(code, 4001, "{reason}");
}

/// The reply to the publish sent last.
async fn answer(c: &mut Client) -> Value {
    match c.reply().await {
        Got::Frame(f) => f,
        other => panic!("expected ack or refused, got {other:?}"),
    }
}

#[tokio::test]
async fn lone_surrogates_in_payloads_pass_as_in_the_bus_and_in_names_are_refused_naming_the_field() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"sub": "u1", "admin": true}));
    let (mut watcher, _) = Client::join(&relay.addr, Some(&t), &["*"]).await;
    let (mut c, _) = Client::join(&relay.addr, Some(&t), &[]).await;
    // What `JSON.stringify` makes of `'hi 😀'.slice(0, 4)`, in an event
    // without a schema and in a schema's string field.
    c.send_raw(Message::Text(
        r#"{"type":"publish","ref":"s1","name":"chat.message.sent","payload":{"text":"hi \ud83d"}}"#.into(),
    ))
    .await;
    let login = r#"{"userId":"u1","email":"a\udc00@b.c","tier":"free","timestamp":"2026-01-02T03:04:05.000Z"}"#;
    c.send_raw(Message::Text(
        format!(r#"{{"type":"publish","ref":"s2","name":"auth.user.login","payload":{login}}}"#).into(),
    ))
    .await;
    for r in ["s1", "s2"] {
        let ack = c.reply().await;
        assert!(
            matches!(&ack, Got::Frame(f) if f["type"] == "ack" && f["ref"] == r),
            "{ack:?}"
        );
    }
    // Received as sent.
    assert!(watcher.recv_text().await.contains(r#""payload":{"text":"hi \ud83d"}"#));
    assert!(watcher.recv_text().await.contains(login));
    // A literal field still wants one of its literals, as in the bus.
    let mode = r#"{"conversationId":"c","userId":"u1","targetLanguage":"ja","mode":"realtime\ud800","timestamp":"2026-01-02"}"#;
    c.send_raw(Message::Text(
        format!(r#"{{"type":"publish","ref":"s3","name":"conversation.started","payload":{mode}}}"#).into(),
    ))
    .await;
    let refused = answer(&mut c).await;
    assert_eq!(
        (refused["kind"].as_str(), refused["issues"][0]["path"].as_str()),
        (Some("validation"), Some("mode")),
        "{refused}"
    );

    // In a name or a ref, which the bus refuses too: refused, naming it, and the connection goes on.
    c.send_raw(Message::Text(
        r#"{"type":"publish","ref":"s4","name":"chat.\ud83d","payload":{}}"#.into(),
    ))
    .await;
    let refused = answer(&mut c).await;
    assert_eq!(refused["kind"], "malformed", "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.starts_with("name: ") && message.contains("lone surrogate"),
        "{message}"
    );
    assert!(!message.contains("hex escape"), "{message}");
    c.send_raw(Message::Text(
        r#"{"type":"publish","ref":"s5\udfff","name":"chat.message.sent","payload":{}}"#.into(),
    ))
    .await;
    assert!(answer(&mut c).await["message"].as_str().unwrap().starts_with("ref: "));
    c.sync().await;

    // Over HTTP, the same.
    let items = r#"[{"name":"chat.message.sent","payload":{"text":"\ud83d"}},{"name":"\udc00","payload":{}}]"#;
    let (status, body) = relay.http("POST", "/v1/events", Some(&t), items).await;
    assert_eq!(status, 200, "{body}");
    let answers: Value = serde_json::from_str(&body).unwrap();
    assert!(answers[0]["offset"].is_string(), "{body}");
    assert!(
        answers[1]["refused"]["message"].as_str().unwrap().starts_with("name: "),
        "{body}"
    );

    // A pattern with one closes the connection (4400, as any malformed
    // frame), and says so in those words.
    c.send_raw(Message::Text(
        r#"{"type":"subscribe","patterns":["chat.\ud83d.*"]}"#.into(),
    ))
    .await;
    let (code, reason) = c.closed().await;
    assert_eq!(code, 4400, "{reason}");
    assert!(
        reason.contains("lone surrogate") && !reason.contains("hex escape"),
        "{reason}"
    );
}
