//! What anyone who can reach the relay can do without a token, and how the
//! relay bounds it: a ping flood that never reads (4008, memory bounded),
//! sockets that send nothing or drip their headers (closed by the header and
//! idle timeouts), more connections than the caps (refused 503 / 429 with a
//! reason, counted), and pages of other origins (403 before the upgrade).
//! Real relay processes; the limits are set through `KAIWA_RELAY_*`
//! variables, so that a relay from before them starts and fails each test
//! for what it checks (see `Relay::start_with`).

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes of pings each flooding client sends at most.
const FLOOD: usize = 64 << 20;

/// Sends 125-byte pings without ever reading, until the relay closes the
/// connection (then `Ok` with the bytes sent) or `FLOOD` bytes went out.
async fn flood_pings(mut tcp: TcpStream) -> Result<usize, usize> {
    let batch = client_frame(0x9, &[b'p'; 125]).repeat(1000);
    let mut sent = 0;
    while sent < FLOOD {
        match tokio::time::timeout(WAIT, tcp.write_all(&batch)).await {
            Ok(Ok(())) => sent += batch.len(),
            Ok(Err(_)) => return Ok(sent),
            Err(_) => panic!("the relay neither read nor closed for {WAIT:?}"),
        }
    }
    Err(sent)
}

/// The next frame the relay sent: opcode and payload.
async fn read_frame(tcp: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    let len = match head[1] & 0x7f {
        126 => usize::from(tcp.read_u16().await.unwrap()),
        127 => usize::try_from(tcp.read_u64().await.unwrap()).unwrap(),
        n => usize::from(n),
    };
    let mut payload = vec![0u8; len];
    tcp.read_exact(&mut payload).await.unwrap();
    (head[0] & 0x0f, payload)
}

/// Pings `times` and reads as many pongs.
async fn ping_pong(tcp: &mut TcpStream, times: usize) {
    tcp.write_all(&client_frame(0x9, b"hi").repeat(times)).await.unwrap();
    for _ in 0..times {
        assert_eq!(read_frame(tcp).await, (0xa, b"hi".to_vec()));
    }
}

#[tokio::test]
async fn a_ping_flood_that_never_reads_is_closed_4008_and_memory_stays_bounded() {
    let relay = Relay::memory(&[]).await;
    let t = token(json!({"sub": "u1"}));
    let hello = json!({"type": "hello", "token": t}).to_string();
    // Positive control: a client that pings and reads gets its pongs.
    let (mut reader, answer) = raw_upgrade(&relay.addr, None, "").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    reader.write_all(&client_frame(0x1, hello.as_bytes())).await.unwrap();
    assert_eq!(read_frame(&mut reader).await.0, 0x1, "welcome");
    ping_pong(&mut reader, 100).await;

    let before = relay.peak_rss_kib();
    let mut floods = Vec::new();
    for i in 0..4 {
        let (mut tcp, answer) = raw_upgrade(&relay.addr, None, "").await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
        if i % 2 == 1 {
            // Half of them after hello, half before.
            tcp.write_all(&client_frame(0x1, hello.as_bytes())).await.unwrap();
        }
        floods.push(tokio::spawn(flood_pings(tcp)));
    }
    for flood in floods {
        let sent = flood
            .await
            .unwrap()
            .unwrap_or_else(|sent| panic!("still open after {sent} bytes of pings"));
        assert!(sent < FLOOD);
    }
    let grown = relay.peak_rss_kib().saturating_sub(before);
    assert!(grown < 32 * 1024, "the relay's peak RSS grew by {grown} KiB");
    assert_eq!(relay.metric("kaiwa_relay_lagging_closes_total").await, 4);
    // The client that reads is still served.
    ping_pong(&mut reader, 1).await;
}

/// Waits for the relay to close `tcp` (reading what it sends meanwhile);
/// `false` if it is still open after `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut sink = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut sink)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn sockets_that_send_nothing_or_drip_their_headers_are_closed_and_counted() {
    let limits = [("KAIWA_RELAY_HEADER_TIMEOUT", "1"), ("KAIWA_RELAY_IDLE_TIMEOUT", "1")];
    let relay = Relay::start_with(&["--engine", "memory"], Some(SECRET), &limits).await;
    // Positive control: a request sent at once is answered.
    assert_eq!(relay.http("GET", "/healthz", None, "").await.0, 200);

    // Connected, silent.
    let mut silent = TcpStream::connect(&relay.addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)).await,
        "a silent socket stayed open"
    );

    // A header byte every 200 ms: the head would take 20 s.
    let (mut read, mut write) = TcpStream::connect(&relay.addr).await.unwrap().into_split();
    let drip = tokio::spawn(async move {
        let head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: {}\r\n\r\n", "s".repeat(60));
        for byte in head.bytes() {
            if write.write_all(&[byte]).await.is_err() {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        true
    });
    let mut sink = [0u8; 1024];
    let answer = tokio::time::timeout(WAIT, read.read(&mut sink))
        .await
        .expect("still open");
    assert!(matches!(answer, Ok(0) | Err(_)), "answered a dripped head: {answer:?}");
    drip.abort();

    // Kept alive after an answer, then idle.
    let mut idle = TcpStream::connect(&relay.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "a kept-alive idle socket stayed open"
    );

    // A body that stops halfway: 408, then closed.
    let mut stalled = TcpStream::connect(&relay.addr).await.unwrap();
    let auth = token(json!({"publish": ["*"]}));
    let head =
        format!("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {auth}\r\nContent-Length: 100\r\n\r\n[");
    stalled.write_all(head.as_bytes()).await.unwrap();
    let answer = rest(stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--idle-timeout"), "{answer}");

    // Requests sent, answers never read: once the answers fill the socket,
    // cut off.
    let before = relay.metric("kaiwa_relay_http_timeouts_total").await;
    assert_eq!(before, 4, "the silent, dripping, idle and stalled ones");
    let mut deaf = TcpStream::connect(&relay.addr).await.unwrap();
    let requests = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(20_000);
    let _ = tokio::time::timeout(WAIT, deaf.write_all(requests.as_bytes())).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while relay.metric("kaiwa_relay_http_timeouts_total").await == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a client that does not read stayed connected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed_within(&mut deaf, WAIT).await);
}

#[tokio::test]
async fn connections_past_the_caps_are_refused_with_a_reason_and_counted() {
    let caps = [
        ("KAIWA_RELAY_MAX_CONNECTIONS", "30"),
        ("KAIWA_RELAY_MAX_CONNECTIONS_PER_ADDRESS", "10"),
        ("KAIWA_RELAY_HEADER_TIMEOUT", "60"),
    ];
    let relay = Relay::start_with(&["--engine", "memory"], Some(SECRET), &caps).await;
    // Ten idle sockets from 127.0.0.2: the most one address may hold.
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(connect_from(&relay.addr, Some("127.0.0.2")).await.unwrap());
    }
    // Positive control: another address is served meanwhile.
    assert_eq!(relay.http("GET", "/healthz", None, "").await.0, 200);
    let (_, answer) = raw_upgrade(&relay.addr, Some("127.0.0.2"), "").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    let body = rest(connect_from(&relay.addr, Some("127.0.0.2")).await.unwrap()).await;
    assert!(body.contains("connections are open from your address"), "{body}");

    // Twenty more from two other addresses: the process holds 30.
    for from in ["127.0.0.3", "127.0.0.4"] {
        for _ in 0..10 {
            held.push(connect_from(&relay.addr, Some(from)).await.unwrap());
        }
    }
    let wait_for = |want: u16| {
        let addr = relay.addr.clone();
        async move {
            // The relay counts a socket once it accepted it: ask until it has.
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let (_, answer) = raw_upgrade(&addr, Some("127.0.0.5"), "").await.unwrap();
                if answer.starts_with(&format!("HTTP/1.1 {want}")) {
                    return answer;
                }
                assert!(tokio::time::Instant::now() < deadline, "never {want}: {answer}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let answer = wait_for(503).await;
    assert!(answer.contains("Retry-After"), "{answer}");
    // Room again once some close.
    held.truncate(20);
    wait_for(101).await;
    assert!(
        relay
            .metric("kaiwa_relay_refused_connections_total{reason=\"per-address\"}")
            .await
            >= 2
    );
    assert!(
        relay
            .metric("kaiwa_relay_refused_connections_total{reason=\"max-connections\"}")
            .await
            >= 1
    );
}

#[tokio::test]
async fn a_descriptor_limit_lower_than_the_cap_lowers_the_cap_and_says_so() {
    let bin = std::env::var("KAIWA_RELAY_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_kaiwa-relay").into());
    // The relay under `ulimit -n 200`, started by a shell.
    let script = format!("ulimit -n 200 && exec {bin} --listen 127.0.0.1:0 --engine memory");
    let log = scratch("logs").join(format!("fd-limit-{}.log", free_port()));
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", &script])
        .env("KAIWA_RELAY_SECRET", SECRET)
        .env("KAIWA_RELAY_HEADER_TIMEOUT", "60")
        .env("RUST_LOG", "kaiwa_relay=info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(WAIT, tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut line))
        .await
        .unwrap()
        .unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect(&line).to_string();
    // 220 idle sockets, from addresses of 50 each.
    let mut held = Vec::new();
    for i in 0..220 {
        held.push(
            connect_from(&addr, Some(&format!("127.0.1.{}", i / 50 + 1)))
                .await
                .unwrap(),
        );
    }
    // The relay still answers (503 while it is full) rather than running out
    // of descriptors and leaving the request unanswered. (While it answers
    // many refusals at once, it closes others without an answer: ask again.)
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut tcp = connect_from(&addr, Some("127.0.2.1")).await.unwrap();
        let _ = tcp
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let mut answer = String::new();
        let read = tokio::time::timeout_at(deadline, tcp.read_to_string(&mut answer)).await;
        assert!(read.is_ok(), "no answer in time");
        if !answer.is_empty() {
            assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("descriptor limit (200) allows 72 connections"), "{text}");
    drop(held);
    let deadline = tokio::time::Instant::now() + WAIT;
    while http(&addr, "GET", "/healthz", None, "").await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "not served again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the relay sends until it closes the connection.
async fn rest(mut tcp: TcpStream) -> String {
    let mut text = String::new();
    tokio::time::timeout(WAIT, tcp.read_to_string(&mut text))
        .await
        .expect("not closed in time")
        .unwrap();
    text
}

#[tokio::test]
async fn pages_of_other_origins_are_refused_403_before_the_upgrade() {
    let dev = Relay::start_env(&["--engine", "memory", "--insecure-dev"], None).await;
    let origin = |o: &str| format!("Origin: {o}\r\n");
    // A page served from this machine, and a client that is no page, connect.
    for headers in [
        origin("http://localhost:5173"),
        origin("http://127.0.0.1:8080"),
        String::new(),
    ] {
        let (_, answer) = raw_upgrade(&dev.addr, None, &headers).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 101"), "{headers}: {answer}");
    }
    // Any other page does not, nor publishes over HTTP (no token needed here).
    for page in ["https://evil.example", "null", "http://localhost.evil.example"] {
        let headers = format!("{}Connection: close\r\n", origin(page));
        let (tcp, answer) = raw_upgrade(&dev.addr, None, &headers).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "{page}: {answer}");
        let body = rest(tcp).await;
        assert!(body.contains("--insecure-dev"), "{body}");
    }
    let publish = json!([{"name": "audio.playback.started", "payload": playback(1)}]).to_string();
    let req = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{publish}",
        publish.len()
    );
    let mut tcp = TcpStream::connect(&dev.addr).await.unwrap();
    tcp.write_all(req.as_bytes()).await.unwrap();
    let answer = rest(tcp).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(dev.metric("kaiwa_relay_events_in_total").await, 0);

    // With a list, only the listed origins (loopback is not implied).
    let listed = [("KAIWA_RELAY_ALLOW_ORIGIN", "https://app.example")];
    let relay = Relay::start_with(&["--engine", "memory"], Some(SECRET), &listed).await;
    let (_, answer) = raw_upgrade(&relay.addr, None, &origin("https://app.example"))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    for page in ["https://evil.example", "http://localhost:5173"] {
        let (_, answer) = raw_upgrade(&relay.addr, None, &origin(page)).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "{page}: {answer}");
    }
    assert_eq!(
        relay
            .metric("kaiwa_relay_refused_connections_total{reason=\"origin\"}")
            .await,
        2
    );
}
