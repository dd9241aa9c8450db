//! The engine's own connections to Redis (the reader's and the
//! appender's): RESP2, and replies parsed in place, borrowing their strings
//! from the read buffer; over TCP, TLS (`rediss://`) or a Unix socket.
//!
//! The reader decodes every event that every instance stores (an `XREAD`
//! entry is fourteen RESP values), and the `redis` crate's parser, which
//! allocates a value for each of them, took a quarter of a relay's CPU
//! under publish load.
//!
//! TLS is rustls with the same roots as the `redis` crate's connection
//! (which serves every other command): the `--redis-ca` file when given,
//! else the system's ([`tls_config`]). Certificates are always checked: a
//! `rediss://…#insecure` URL is refused.

use std::sync::Arc;
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use super::entries;
use crate::event::Event;

/// A RESP2 reply whose strings borrow from the read buffer.
#[derive(Debug, PartialEq)]
pub enum Reply<'a> {
    /// A null bulk string or array.
    Nil,
    /// A bulk or simple string.
    Text(&'a [u8]),
    /// An integer.
    Int(i64),
    /// An error.
    Error(&'a [u8]),
    /// An array.
    Array(Vec<Reply<'a>>),
}

impl Reply<'_> {
    /// The text of a string reply.
    pub fn text(&self) -> Option<&str> {
        match self {
            Reply::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }
}

/// The line at `pos` without its CRLF, and where the next one starts.
fn line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let cr = rest.iter().position(|&b| b == b'\r')?;
    (rest.get(cr + 1) == Some(&b'\n')).then(|| (&rest[..cr], pos + cr + 2))
}

fn number(s: &[u8]) -> Result<i64, String> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad length {:?}", String::from_utf8_lossy(s)))
}

/// How far the reply at the start of the read buffer has been scanned, so
/// that each read goes on from there: a large reply arrives in many reads,
/// and scanning it from its start after each was quadratic.
#[derive(Debug, Default)]
struct Scan {
    /// Where the next value starts.
    pos: usize,
    /// The arrays open around it, outermost first: how many of their
    /// values are still to come.
    open: Vec<i64>,
    /// Bytes of reply lines looked through so far: the tests check that
    /// a reply is scanned once, however it arrives.
    #[cfg_attr(not(test), allow(dead_code))]
    scanned: usize,
}

impl Scan {
    /// Scans on through `buf` (what was scanned before, and more): where
    /// the reply at its start ends, or `None` while `buf` does not hold all
    /// of it yet. Once it returns the end, it starts over.
    fn on(&mut self, buf: &[u8]) -> Result<Option<usize>, String> {
        loop {
            let Some((head, next)) = line(buf, self.pos) else {
                self.scanned += buf.len().saturating_sub(self.pos);
                return Ok(None);
            };
            self.scanned += next - self.pos;
            let Some((&kind, rest)) = head.split_first() else {
                return Err("an empty reply line".into());
            };
            match kind {
                b'+' | b'-' | b':' => self.pos = next,
                b'$' => match usize::try_from(number(rest)?) {
                    Err(_) => self.pos = next,
                    Ok(n) => {
                        let end = next.checked_add(n).and_then(|e| e.checked_add(2)).ok_or("bad length")?;
                        if buf.len() < end {
                            return Ok(None);
                        }
                        self.pos = end;
                    }
                },
                b'*' => {
                    let n = number(rest)?;
                    self.pos = next;
                    if n > 0 {
                        self.open.push(n);
                        continue;
                    }
                }
                other => return Err(format!("unexpected reply type {:?}", other as char)),
            }
            // A value is whole, and so is each array it was the last of.
            loop {
                let Some(left) = self.open.last_mut() else {
                    return Ok(Some(std::mem::take(&mut self.pos)));
                };
                *left -= 1;
                if *left > 0 {
                    break;
                }
                self.open.pop();
            }
        }
    }
}

/// The complete reply at `*pos` (as [`Scan`] found it), moving `*pos` past it.
fn parse<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Reply<'a>, String> {
    let (head, next) = line(buf, *pos).ok_or("a cut reply")?;
    *pos = next;
    let (&kind, rest) = head.split_first().ok_or("an empty reply line")?;
    Ok(match kind {
        b'+' => Reply::Text(rest),
        b'-' => Reply::Error(rest),
        b':' => Reply::Int(number(rest)?),
        b'$' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let text = buf.get(next..next + n as usize).ok_or("a cut reply")?;
            *pos = next + n as usize + 2;
            Reply::Text(text)
        }
        b'*' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let mut items = Vec::with_capacity(n as usize);
            for _ in 0..n {
                items.push(parse(buf, pos)?);
            }
            Reply::Array(items)
        }
        other => return Err(format!("unexpected reply type {:?}", other as char)),
    })
}

/// The events of an `XREAD` reply on one stream: `[[stream, [[id, [field,
/// value, ...]], ...]]]`, or nil when the block timed out. Entries that
/// are not events are skipped.
pub fn events(reply: &Reply) -> Vec<Arc<Event>> {
    let Reply::Array(streams) = reply else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for stream in streams {
        let Reply::Array(pair) = stream else { continue };
        let Some(Reply::Array(found)) = pair.get(1) else {
            continue;
        };
        out.reserve(found.len());
        for entry in found {
            let Reply::Array(parts) = entry else { continue };
            let [id, Reply::Array(fields)] = parts.as_slice() else {
                continue;
            };
            let Some(id) = id.text() else { continue };
            let pairs = fields
                .chunks_exact(2)
                .filter_map(|pair| Some((pair[0].text()?, pair[1].text()?)));
            out.extend(entries::event(id, pairs));
        }
    }
    out
}

/// The TLS settings of `rediss://` connections: the certificates in the
/// PEM file `ca` are the only roots when given (a managed Redis whose CA is
/// not a public one), else the system's (`SSL_CERT_FILE` and
/// `SSL_CERT_DIR` are honoured), as the `redis` crate does.
pub fn tls_config(ca: Option<&[u8]>) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("--redis-ca: {e}"))?;
                roots.add(cert).map_err(|e| format!("--redis-ca: {e}"))?;
            }
            if roots.is_empty() {
                return Err("--redis-ca: no certificate in the file (expected PEM)".into());
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(format!(
                    "no system CA certificates for rediss:// ({:?}); give the Redis server's CA with --redis-ca",
                    found.errors
                ));
            }
        }
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Whatever carries the bytes: TCP, TLS over TCP, a Unix socket.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens the byte stream to the address of `info`.
async fn open(info: &ConnectionInfo, tls: Option<&TlsConnector>) -> Result<Box<dyn Io>, String> {
    let tcp = |host: &str, port: u16| {
        let addr = format!("{host}:{port}");
        async move {
            let tcp = TcpStream::connect(&addr).await.map_err(|e| format!("{addr}: {e}"))?;
            let _ = tcp.set_nodelay(true);
            Ok::<_, String>(tcp)
        }
    };
    Ok(match &info.addr {
        ConnectionAddr::Tcp(host, port) => Box::new(tcp(host, *port).await?),
        ConnectionAddr::TcpTls { insecure: true, .. } => {
            return Err("rediss://…#insecure: certificates are always checked; \
                        give the Redis server's CA certificate with --redis-ca FILE"
                .into())
        }
        ConnectionAddr::TcpTls { host, port, .. } => {
            let tls = tls.ok_or("rediss:// without a TLS configuration")?;
            let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
            let stream = tcp(host, *port).await?;
            let stream = tls
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
            Box::new(stream)
        }
        ConnectionAddr::Unix(path) => Box::new(
            UnixStream::connect(path)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?,
        ),
    })
}

/// One RESP2 connection: one command at a time.
pub struct Conn {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    out: Vec<u8>,
    /// How far the reply at the start of `buf` has been scanned.
    scan: Scan,
}

impl Conn {
    fn new(io: Box<dyn Io>) -> Conn {
        Conn {
            io,
            buf: Vec::with_capacity(64 * 1024),
            out: Vec::new(),
            scan: Scan::default(),
        }
    }

    /// Connects (with TLS for `rediss://`) and authenticates, within `wait`.
    pub async fn connect(info: &ConnectionInfo, tls: Option<&TlsConnector>, wait: Duration) -> Result<Conn, String> {
        let connect = async {
            let mut conn = Conn::new(open(info, tls).await?);
            let r = &info.redis;
            if let Some(password) = &r.password {
                let mut args = vec![&b"AUTH"[..]];
                if let Some(user) = &r.username {
                    args.push(user.as_bytes());
                }
                args.push(password.as_bytes());
                conn.call(&args, |_| ()).await?;
            }
            if r.db != 0 {
                conn.call(&[b"SELECT", r.db.to_string().as_bytes()], |_| ()).await?;
            }
            Ok(conn)
        };
        timeout(wait, connect).await.unwrap_or_else(|_| Err("timed out".into()))
    }

    /// Sends a command and hands its reply to `then` (an error reply is an `Err`).
    pub async fn call<T>(&mut self, args: &[&[u8]], then: impl FnOnce(&Reply) -> T) -> Result<T, String> {
        self.send(args).await?;
        self.reply(then).await
    }

    /// Sends a command without waiting for its reply: commands sent one
    /// after the other are answered in that order ([`Conn::reply`]).
    pub async fn send(&mut self, args: &[&[u8]]) -> Result<(), String> {
        use std::io::Write;
        self.out.clear();
        let _ = write!(self.out, "*{}\r\n", args.len());
        for arg in args {
            let _ = write!(self.out, "${}\r\n", arg.len());
            self.out.extend_from_slice(arg);
            self.out.extend_from_slice(b"\r\n");
        }
        let mut sent = self.io.write_all(&self.out).await;
        if sent.is_ok() {
            // A no-op on TCP; TLS keeps what it encrypted until flushed.
            sent = self.io.flush().await;
        }
        let sent = sent.map_err(|e| e.to_string());
        if self.out.capacity() > 1024 * 1024 {
            self.out = Vec::new();
        }
        sent
    }

    /// The reply to the oldest command sent and not answered yet, handed to
    /// `then` (an error reply is an `Err`). Cancel-safe: what was read
    /// stays in the buffer for the next call.
    pub async fn reply<T>(&mut self, then: impl FnOnce(&Reply) -> T) -> Result<T, String> {
        self.any_reply(|reply| match reply {
            Reply::Error(e) => Err(String::from_utf8_lossy(e).into_owned()),
            reply => Ok(then(reply)),
        })
        .await?
    }

    /// As [`Conn::reply`], with an error reply handed to `then` too: `Err`
    /// only when the connection failed.
    pub async fn any_reply<T>(&mut self, then: impl FnOnce(&Reply) -> T) -> Result<T, String> {
        let used = loop {
            if let Some(used) = self.scan.on(&self.buf)? {
                break used;
            }
            if self.buf.capacity() - self.buf.len() < 16 * 1024 {
                self.buf.reserve(self.buf.capacity().max(64 * 1024));
            }
            let n = self.io.read_buf(&mut self.buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("Redis closed the connection".into());
            }
        };
        let result = {
            let mut pos = 0;
            let reply = parse(&self.buf[..used], &mut pos)?;
            then(&reply)
        };
        self.buf.drain(..used);
        if self.buf.is_empty() && self.buf.capacity() > 1024 * 1024 {
            self.buf = Vec::with_capacity(64 * 1024);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(buf: &[u8]) -> Result<Option<usize>, String> {
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
}
