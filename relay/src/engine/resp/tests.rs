//! The RESP2 parser: fixed replies, an `XREAD` reply, a large reply in
//! small reads (scanned once), and replies cut anywhere against the
//! `redis` crate's parser (proptest).

use super::*;

fn end(buf: &[u8]) -> Result<Option<usize>, Malformed> {
    Scan::default().on(buf)
}

fn complete(s: &str) -> Reply<'_> {
    let buf = s.as_bytes();
    assert_eq!(end(buf), Ok(Some(buf.len())), "{s:?}");
    let mut scan = Scan::default();
    for cut in 0..buf.len() {
        assert_eq!(end(&buf[..cut]), Ok(None), "{s:?} cut at {cut}");
        assert_eq!(scan.on(&buf[..cut]), Ok(None), "{s:?} arriving, at {cut}");
    }
    assert_eq!(scan.on(buf), Ok(Some(buf.len())), "{s:?} arrived");
    let mut pos = 0;
    let reply = parse(buf, &mut pos).unwrap();
    assert_eq!(pos, buf.len());
    reply
}

#[test]
fn replies_parse_in_place_and_cut_ones_wait() {
    assert_eq!(complete("+OK\r\n"), Reply::Text(b"OK"));
    assert_eq!(complete("-ERR no\r\n"), Reply::Error(b"ERR no"));
    assert_eq!(complete(":42\r\n"), Reply::Int(42));
    assert_eq!(complete("$-1\r\n"), Reply::Nil);
    assert_eq!(complete("*-1\r\n"), Reply::Nil);
    assert_eq!(complete("$4\r\na\r\nb\r\n"), Reply::Text(b"a\r\nb"));
    assert_eq!(
        complete("*2\r\n$0\r\n\r\n*1\r\n:1\r\n"),
        Reply::Array(vec![Reply::Text(b""), Reply::Array(vec![Reply::Int(1)])])
    );
    assert!(end(b"?x\r\n").is_err());
    assert!(end(b"$x\r\n").is_err());
}

/// An `XREAD` entry of the stored event `id` of `user`.
fn entry(id: &str, user: &str) -> String {
    let fields = entries::test_fields(user);
    let mut s = format!("*2\r\n${}\r\n{id}\r\n*{}\r\n", id.len(), fields.len());
    for f in fields {
        s += &format!("${}\r\n{f}\r\n", f.len());
    }
    s
}

/// An `XREAD` reply of `n` entries.
fn xread(n: usize) -> String {
    let mut reply = format!("*1\r\n*2\r\n$14\r\n{{kaiwa}}:events\r\n*{n}\r\n");
    for i in 0..n {
        reply += &entry(&format!("5-{i}"), "u1");
    }
    reply
}

#[test]
fn an_xread_reply_becomes_events() {
    use crate::event::Scope;
    let reply = format!(
        "*1\r\n*2\r\n$14\r\n{{kaiwa}}:events\r\n*3\r\n{}:7\r\n{}",
        entry("5-1", ""),
        entry("5-2", "u1")
    );
    let events = events(&complete(&reply));
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].offset, crate::event::Offset { ms: 5, seq: 1 });
    assert_eq!(
        (&events[0].scope, &events[1].scope),
        (&Scope::User(String::new()), &Scope::User("u1".into()))
    );
    assert_eq!((events[1].name.as_str(), events[1].origin.as_str()), ("a.b", "i/1"));
    assert!(super::events(&complete("*-1\r\n")).is_empty());
}

/// Bytes arriving in these pieces, one per read; what is written is dropped.
struct Pieces(std::collections::VecDeque<Vec<u8>>);

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if let Some(mut piece) = self.0.pop_front() {
            let n = piece.len().min(buf.remaining());
            buf.put_slice(&piece[..n]);
            if n < piece.len() {
                self.0.push_front(piece.split_off(n));
            }
        }
        std::task::Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Pieces {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A connection reading `bytes` in pieces that end at `cuts`.
fn arriving(bytes: &[u8], cuts: impl IntoIterator<Item = usize>) -> Conn {
    let mut pieces = std::collections::VecDeque::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        if cut > from {
            pieces.push_back(bytes[from..cut].to_vec());
            from = cut;
        }
    }
    Conn::new(Box::new(Pieces(pieces)))
}

#[tokio::test]
async fn a_large_reply_read_in_small_pieces_is_scanned_once() {
    let reply = xread(2000);
    let mut conn = arriving(reply.as_bytes(), (1024..reply.len()).step_by(1024));
    let read = conn.any_reply(events).await.unwrap();
    assert_eq!(read.len(), 2000);
    assert!(
        conn.scan.scanned <= reply.len(),
        "{} bytes scanned for a reply of {} bytes",
        conn.scan.scanned,
        reply.len()
    );
    assert!(conn.any_reply(|_| ()).await.is_err(), "nothing is left over");
}

/// `cargo test -p kaiwa-relay --release --lib resp_speed -- --ignored --nocapture`:
/// how long large `XREAD` replies arriving in 16 KiB reads take to parse.
#[tokio::test]
#[ignore = "a benchmark: run it on its own, in release"]
async fn resp_speed() {
    for (entries, times) in [(1000, 200), (20_000, 10)] {
        let reply = xread(entries);
        let started = std::time::Instant::now();
        for _ in 0..times {
            let mut conn = arriving(reply.as_bytes(), (16384..reply.len()).step_by(16384));
            assert_eq!(conn.any_reply(events).await.unwrap().len(), entries);
        }
        let each = started.elapsed() / times;
        println!(
            "an XREAD reply of {entries} entries ({} KiB) in 16 KiB reads: {each:?}",
            reply.len() / 1024
        );
    }
}

/// The parts of a RESP2 reply, to encode ([`encode`]) and compare.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Nil,
    NilArray,
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Value>),
}

fn encode(v: &Value, out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = match v {
        Value::Nil => write!(out, "$-1\r\n"),
        Value::NilArray => write!(out, "*-1\r\n"),
        Value::Simple(s) => write!(out, "+{s}\r\n"),
        Value::Error(s) => write!(out, "-{s}\r\n"),
        Value::Int(n) => write!(out, ":{n}\r\n"),
        Value::Bulk(b) => {
            let _ = write!(out, "${}\r\n", b.len());
            out.extend_from_slice(b);
            write!(out, "\r\n")
        }
        Value::Array(items) => {
            let _ = write!(out, "*{}\r\n", items.len());
            items.iter().for_each(|item| encode(item, out));
            Ok(())
        }
    };
}

/// What our parser made of a reply, in the form both parsers share
/// (both nils are `Nil`, simple and bulk strings are `Bulk`).
fn ours(r: &Reply) -> Value {
    match r {
        Reply::Nil => Value::Nil,
        Reply::Text(t) => Value::Bulk(t.to_vec()),
        Reply::Int(n) => Value::Int(*n),
        Reply::Error(e) => Value::Error(String::from_utf8_lossy(e).into_owned()),
        Reply::Array(items) => Value::Array(items.iter().map(ours).collect()),
    }
}

/// What the `redis` crate's parser made of a reply, in that form.
fn theirs(v: &redis::Value) -> Value {
    match v {
        redis::Value::Nil => Value::Nil,
        redis::Value::Okay => Value::Bulk(b"OK".to_vec()),
        redis::Value::SimpleString(s) => Value::Bulk(s.as_bytes().to_vec()),
        redis::Value::BulkString(b) => Value::Bulk(b.clone()),
        redis::Value::Int(n) => Value::Int(*n),
        redis::Value::ServerError(e) => Value::Error(match e.details() {
            Some(detail) => format!("{} {detail}", e.code()),
            None => e.code().to_string(),
        }),
        redis::Value::Array(items) => Value::Array(items.iter().map(theirs).collect()),
        other => panic!("not RESP2: {other:?}"),
    }
}

fn value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let line = "[^\r\n]{0,12}";
    let leaf = prop_oneof![
        Just(Value::Nil),
        Just(Value::NilArray),
        line.prop_map(Value::Simple),
        "[A-Z]{1,8}( [^\r\n]{0,12})?".prop_map(Value::Error),
        any::<i64>().prop_map(Value::Int),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bulk),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        proptest::collection::vec(inner, 0..6).prop_map(Value::Array)
    })
}

proptest::proptest! {
    /// Replies one after the other, cut into pieces at any points, come
    /// out of the connection as the `redis` crate parses each of them,
    /// each once it has arrived whole, and nothing is left over.
    #[test]
    fn replies_cut_anywhere_parse_as_the_redis_crate_parses_them(
        values in proptest::collection::vec(value(), 1..4),
        cuts in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..12),
    ) {
        let encoded: Vec<Vec<u8>> = values
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                encode(v, &mut out);
                out
            })
            .collect();
        let bytes = encoded.concat();
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (got, rest) = runtime.block_on(async {
            let mut conn = arriving(&bytes, cuts);
            let mut got = Vec::new();
            for _ in &values {
                got.push(conn.any_reply(ours).await.unwrap());
            }
            (got, conn.any_reply(|_| ()).await)
        });
        let want: Vec<Value> = encoded
            .iter()
            .map(|one| theirs(&redis::parse_redis_value(one).unwrap()))
            .collect();
        proptest::prop_assert_eq!(got, want);
        proptest::prop_assert!(rest.is_err(), "nothing is left over");
    }
}
