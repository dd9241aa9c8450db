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

/// A reply that breaks RESP2.
#[derive(Debug, Clone, PartialEq)]
pub enum Malformed {
    /// A reply line with no type byte.
    EmptyLine,
    /// A length or integer that is not a number: the text.
    BadLength(String),
    /// A bulk string length that overflows.
    TooLong,
    /// A reply that ends before its end.
    Cut,
    /// A type byte RESP2 does not have.
    UnexpectedType(char),
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Malformed::EmptyLine => f.write_str("an empty reply line"),
            Malformed::BadLength(s) => write!(f, "bad length {s:?}"),
            Malformed::TooLong => f.write_str("bad length"),
            Malformed::Cut => f.write_str("a cut reply"),
            Malformed::UnexpectedType(c) => write!(f, "unexpected reply type {c:?}"),
        }
    }
}

/// Why a call on the engine's own connection failed, or one cannot be made.
pub enum Error {
    /// The address cannot be reached: the address (or socket path), why.
    Connect(String, std::io::Error),
    /// `--redis-ca` cannot be used: why.
    Ca(String),
    /// `--redis-ca` holds no certificate.
    NoCa,
    /// No `--redis-ca`, and the system has no CA certificates: what loading them said.
    NoSystemCa(String),
    /// A `rediss://…#insecure` URL: refused.
    Insecure,
    /// A `rediss://` URL without TLS settings.
    NoTls,
    /// The host is not a valid TLS server name: the host, why.
    ServerName(String, rustls::pki_types::InvalidDnsNameError),
    /// The TLS handshake failed: the host and port, why.
    Handshake(String, u16, std::io::Error),
    /// Reading or writing failed.
    Io(std::io::Error),
    /// Redis closed the connection.
    Closed,
    /// No answer in time.
    TimedOut,
    /// What Redis sent is not RESP2.
    Malformed(Malformed),
    /// Redis answered with an error: its text.
    Reply(String),
    /// A reply of another kind than the command has: the reply, as debug text.
    Unexpected(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Error::Connect(addr, e) => write!(f, "{addr}: {e}"),
            Error::Ca(e) => write!(f, "--redis-ca: {e}"),
            Error::NoCa => f.write_str("--redis-ca: no certificate in the file (expected PEM)"),
            Error::NoSystemCa(errors) => write!(
                f,
                "no system CA certificates for rediss:// ({errors}); give the Redis server's CA with --redis-ca"
            ),
            Error::Insecure => f.write_str(
                "rediss://…#insecure: certificates are always checked; \
                 give the Redis server's CA certificate with --redis-ca FILE",
            ),
            Error::NoTls => f.write_str("rediss:// without a TLS configuration"),
            Error::ServerName(host, e) => write!(f, "{host}: {e}"),
            Error::Handshake(host, port, e) => write!(f, "TLS with {host}:{port}: {e}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Closed => f.write_str("Redis closed the connection"),
            Error::TimedOut => f.write_str("timed out"),
            Error::Malformed(m) => write!(f, "{m}"),
            Error::Reply(e) => f.write_str(e),
            Error::Unexpected(reply) => write!(f, "unexpected reply {reply}"),
        }
    }
}

/// As the message, quoted: logs show failed calls with `{:?}`.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl std::error::Error for Error {}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Error {
        Error::Malformed(m)
    }
}

/// The line at `pos` without its CRLF, and where the next one starts.
fn line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let cr = rest.iter().position(|&b| b == b'\r')?;
    (rest.get(cr + 1) == Some(&b'\n')).then(|| (&rest[..cr], pos + cr + 2))
}

fn number(s: &[u8]) -> Result<i64, Malformed> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Malformed::BadLength(String::from_utf8_lossy(s).into_owned()))
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
    fn on(&mut self, buf: &[u8]) -> Result<Option<usize>, Malformed> {
        loop {
            let Some((head, next)) = line(buf, self.pos) else {
                self.scanned += buf.len().saturating_sub(self.pos);
                return Ok(None);
            };
            self.scanned += next - self.pos;
            let Some((&kind, rest)) = head.split_first() else {
                return Err(Malformed::EmptyLine);
            };
            match kind {
                b'+' | b'-' | b':' => self.pos = next,
                b'$' => match usize::try_from(number(rest)?) {
                    Err(_) => self.pos = next,
                    Ok(n) => {
                        let end = next
                            .checked_add(n)
                            .and_then(|e| e.checked_add(2))
                            .ok_or(Malformed::TooLong)?;
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
                other => return Err(Malformed::UnexpectedType(other as char)),
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
fn parse<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Reply<'a>, Malformed> {
    let (head, next) = line(buf, *pos).ok_or(Malformed::Cut)?;
    *pos = next;
    let (&kind, rest) = head.split_first().ok_or(Malformed::EmptyLine)?;
    Ok(match kind {
        b'+' => Reply::Text(rest),
        b'-' => Reply::Error(rest),
        b':' => Reply::Int(number(rest)?),
        b'$' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let text = buf.get(next..next + n as usize).ok_or(Malformed::Cut)?;
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
        other => return Err(Malformed::UnexpectedType(other as char)),
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
pub fn tls_config(ca: Option<&[u8]>) -> Result<TlsConnector, Error> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| Error::Ca(e.to_string()))?;
                roots.add(cert).map_err(|e| Error::Ca(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(Error::NoCa);
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(Error::NoSystemCa(format!("{:?}", found.errors)));
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
async fn open(info: &ConnectionInfo, tls: Option<&TlsConnector>) -> Result<Box<dyn Io>, Error> {
    let tcp = |host: &str, port: u16| {
        let addr = format!("{host}:{port}");
        async move {
            let tcp = TcpStream::connect(&addr).await.map_err(|e| Error::Connect(addr, e))?;
            let _ = tcp.set_nodelay(true);
            Ok::<_, Error>(tcp)
        }
    };
    Ok(match &info.addr {
        ConnectionAddr::Tcp(host, port) => Box::new(tcp(host, *port).await?),
        ConnectionAddr::TcpTls { insecure: true, .. } => return Err(Error::Insecure),
        ConnectionAddr::TcpTls { host, port, .. } => {
            let tls = tls.ok_or(Error::NoTls)?;
            let name = ServerName::try_from(host.clone()).map_err(|e| Error::ServerName(host.clone(), e))?;
            let stream = tcp(host, *port).await?;
            let stream = tls
                .connect(name, stream)
                .await
                .map_err(|e| Error::Handshake(host.clone(), *port, e))?;
            Box::new(stream)
        }
        ConnectionAddr::Unix(path) => Box::new(
            UnixStream::connect(path)
                .await
                .map_err(|e| Error::Connect(path.display().to_string(), e))?,
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
    pub async fn connect(info: &ConnectionInfo, tls: Option<&TlsConnector>, wait: Duration) -> Result<Conn, Error> {
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
        timeout(wait, connect).await.unwrap_or(Err(Error::TimedOut))
    }

    /// Sends a command and hands its reply to `then` (an error reply is an `Err`).
    pub async fn call<T>(&mut self, args: &[&[u8]], then: impl FnOnce(&Reply) -> T) -> Result<T, Error> {
        self.send(args).await?;
        self.reply(then).await
    }

    /// Sends a command without waiting for its reply: commands sent one
    /// after the other are answered in that order ([`Conn::reply`]).
    pub async fn send(&mut self, args: &[&[u8]]) -> Result<(), Error> {
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
        let sent = sent.map_err(Error::Io);
        if self.out.capacity() > 1024 * 1024 {
            self.out = Vec::new();
        }
        sent
    }

    /// The reply to the oldest command sent and not answered yet, handed to
    /// `then` (an error reply is an `Err`). Cancel-safe: what was read
    /// stays in the buffer for the next call.
    pub async fn reply<T>(&mut self, then: impl FnOnce(&Reply) -> T) -> Result<T, Error> {
        self.any_reply(|reply| match reply {
            Reply::Error(e) => Err(Error::Reply(String::from_utf8_lossy(e).into_owned())),
            reply => Ok(then(reply)),
        })
        .await?
    }

    /// As [`Conn::reply`], with an error reply handed to `then` too: `Err`
    /// only when the connection failed.
    pub async fn any_reply<T>(&mut self, then: impl FnOnce(&Reply) -> T) -> Result<T, Error> {
        let used = loop {
            if let Some(used) = self.scan.on(&self.buf)? {
                break used;
            }
            if self.buf.capacity() - self.buf.len() < 16 * 1024 {
                self.buf.reserve(self.buf.capacity().max(64 * 1024));
            }
            let n = self.io.read_buf(&mut self.buf).await.map_err(Error::Io)?;
            if n == 0 {
                return Err(Error::Closed);
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
mod tests;
