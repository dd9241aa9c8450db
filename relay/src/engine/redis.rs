//! `--engine redis`: every stored event is an entry of one Redis stream,
//! shared by every relay instance on that Redis.
//!
//! ## Layout
//!
//! With `--stream-prefix P` (default `kaiwa`), all keys share the hash tag
//! `{P}`, so Redis Cluster puts them in one slot and the scripts below may
//! touch them together:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{P}:events` | stream | one entry per event, one field `e`: its head (name, publishing connection, scope) and its payload (JSON text), see `entries::entry`; the time stored is the id's; trimmed with `MAXLEN ~ retain` once per batch |
//! | `{P}:epoch` | string | the log's epoch; a new one when the stream is lost (Redis restarted without persistence, or flushed) |
//! | `{P}:refs` | hash | field `<length of user>:<user>:<ref>`, value the offset that publish got, for idempotent retries; field `""`: the newest offset in the hash |
//! | `{P}:refs:old` | hash | the same, the refs before those of `{P}:refs`: it is dropped when `{P}:refs` holds `retain` refs and none of its own entries is left in the stream, and `{P}:refs` takes its name; so a ref counts exactly while its entry is in the stream, and Redis holds about twice as many refs as the stream holds entries at most |
//! | `{P}:producers` | hash | field `<length of user>:<user>:<producer>`, value the newest `seq` that producer stored; field `""`: the newest offset stored by any producer in the hash |
//! | `{P}:producers:old` | hash | the same, rolled as `{P}:refs:old` is; a producer only in it is forgotten (with its runs) when it is dropped |
//! | `{P}:seqs:<producer field>` | sorted set | the producer's runs (consecutive seqs stored one after the other): score the first seq, member `<first seq> <count> <id of the run's last entry>`; runs more than twice `PRODUCER_WINDOW` below its newest seq are dropped |
//!
//! One stream, not one per domain: the protocol promises one total order and
//! one offset per connection, which resume needs. See README, "Scaling".
//!
//! ## Writing
//!
//! One task per instance stores events in batches, one script call each;
//! over plain TCP on a RESP2 connection of its own, with the next batch
//! sent while Redis runs the one before (one connection, so Redis runs them
//! in the order sent), so Redis does not sit idle for a round trip between
//! two batches. A lost connection answers every batch in flight
//! `unavailable` (retried with the same `ref`, a publish is stored once).
//!
//! ## Reading
//!
//! One task per instance reads the stream with `XREAD BLOCK` on a connection
//! of its own (a blocking read stalls a shared one; over plain TCP it is the
//! engine's own RESP2 connection, which parses replies in place: see
//! `resp.rs`). It starts from the
//! stream's newest id, found once at start (the `$` of the first read,
//! without the race of using `$` again), and always continues from the last
//! id it saw, so nothing stored between two reads is missed. When Redis goes
//! away it reconnects with backoff and continues from that id.
//!
//! Continuing from the last id is not enough when the stream was trimmed
//! past it before the next read (the instance stalled, Redis came back
//! slowly, another relay took a burst larger than `--retain`): `XREAD`
//! then answers with the oldest entry left, and what was trimmed in
//! between is gone. So after a read that returned entries, the reader
//! checks, as a resume does, that nothing after the id it continued from
//! was trimmed (the id is not older than the stream's first entry, or
//! nothing was ever trimmed); trimming only moves forward, so what holds
//! after the read held during it. (Only after a read of `retain` entries or
//! more, or of a full `COUNT`: a trim keeps at least the `retain` newest
//! entries, so fewer than that after the id means none was trimmed.) If it
//! does not hold, the hub is told ([`Hub::gap`]) before the entries are
//! sent, and connections that have not dealt with them close with 4008.
//! The check cannot tell a trim that took only entries the reader had read
//! from one that took more: it may report a gap that is not one (the clients
//! then resume with `recovered: false`), never miss one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::StreamRangeReply;
use redis::{Client, ConnectionAddr, RedisResult, Script, TlsCertificates};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};

use super::{entries, random_id, resp, Boxed, Draft, Engine, Hub, Stored, Unavailable, ENGINE_TIMEOUT};
use crate::event::{Event, Offset};

mod append;
use append::{Append, APPEND_BATCH};

/// Milliseconds one `XREAD` blocks.
const BLOCK_MS: u64 = 2000;
/// Entries one `XREAD` returns at most.
const READ_COUNT: usize = 1000;
/// The longest wait between two attempts of the reader to reach Redis
/// again; the wait starts at 100 ms and doubles after each failure.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const RESUME_INFO: &str = r"
local epoch = redis.call('GET', KEYS[2]) or ''
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {epoch, '', '0-0', '0-0', 0, 0}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
return {epoch, 'x', f['last-generated-id'], f['recorded-first-entry-id'], f['entries-added'], f['length']}
";

/// Why the Redis engine cannot start. The URL in each is `--redis-url`
/// with its password hidden.
#[derive(Debug)]
pub enum ConnectError {
    /// `--redis-url` cannot be used: the URL, why.
    Url(String, String),
    /// A `rediss://…#insecure` URL: refused.
    Insecure(String),
    /// `--redis-ca` with a URL that is not `rediss://`.
    CaWithoutTls(String),
    /// The TLS settings cannot be made.
    Tls(resp::Error),
    /// Redis does not answer: the URL, why.
    Unreachable(String, redis::RedisError),
    /// A first command failed: the URL, why.
    Redis(String, redis::RedisError),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ConnectError::Url(shown, why) => write!(f, "--redis-url {shown}: {why}"),
            ConnectError::Insecure(shown) => write!(
                f,
                "--redis-url {shown}: #insecure is not supported: certificates are always checked; \
                 give the Redis server's CA certificate with --redis-ca FILE"
            ),
            ConnectError::CaWithoutTls(shown) => {
                write!(
                    f,
                    "--redis-ca is for rediss:// URLs, and --redis-url {shown} is not one"
                )
            }
            ConnectError::Tls(e) => write!(f, "{e}"),
            ConnectError::Unreachable(shown, e) => write!(f, "cannot reach Redis at {shown}: {e}"),
            ConnectError::Redis(shown, e) => write!(f, "Redis at {shown}: {e}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// The Redis engine.
pub struct RedisEngine {
    client: Client,
    conn: ConnectionManager,
    stream: String,
    epoch_key: String,
    refs_key: String,
    old_refs_key: String,
    producers_key: String,
    old_producers_key: String,
    /// Of each producer's runs: this, then its field (see `append.rs`).
    runs_prefix: String,
    retain: usize,
    epoch: RwLock<String>,
    hub: Hub,
    errors: AtomicU64,
    gaps: AtomicU64,
    appends: mpsc::Sender<Append>,
    /// For `rediss://`: the TLS settings of the engine's own connections.
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for RedisEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEngine")
            .field("stream", &self.stream)
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

impl RedisEngine {
    /// Connects, agrees on the epoch, and starts the reader. `ca`: the PEM
    /// file of `--redis-ca`, for a `rediss://` URL.
    pub async fn connect(
        url: &str,
        ca: Option<&[u8]>,
        prefix: &str,
        retain: usize,
    ) -> Result<Arc<RedisEngine>, ConnectError> {
        let shown = redacted(url);
        let url_error = |e: redis::RedisError| ConnectError::Url(shown.clone(), e.to_string().replace(url, &shown));
        let client = Client::open(url).map_err(url_error)?;
        let tls = match &client.get_connection_info().addr {
            ConnectionAddr::TcpTls { insecure: true, .. } => return Err(ConnectError::Insecure(shown)),
            ConnectionAddr::TcpTls { .. } => Some(resp::tls_config(ca).map_err(ConnectError::Tls)?),
            _ if ca.is_some() => return Err(ConnectError::CaWithoutTls(shown)),
            _ => None,
        };
        let client = match ca {
            // The same roots for the crate's connection as for the engine's own.
            Some(pem) => Client::build_with_tls(
                url,
                TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem.to_vec()),
                },
            )
            .map_err(url_error)?,
            None => client,
        };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(1))
            .set_response_timeout(ENGINE_TIMEOUT)
            .set_number_of_retries(2)
            .set_max_delay(1000);
        let mut conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| ConnectError::Unreachable(shown.clone(), e))?;
        let stream = format!("{{{prefix}}}:events");
        let epoch_key = format!("{{{prefix}}}:epoch");
        let fail = |e: redis::RedisError| ConnectError::Redis(shown.clone(), e);
        let _: () = redis::cmd("SET")
            .arg(&epoch_key)
            .arg(random_id())
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(fail)?;
        let epoch: String = redis::cmd("GET")
            .arg(&epoch_key)
            .query_async(&mut conn)
            .await
            .map_err(fail)?;
        let newest: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(fail)?;
        let head = newest
            .ids
            .first()
            .and_then(|e| Offset::parse(&e.id))
            .unwrap_or(Offset::ZERO);
        let (appends, queue) = mpsc::channel(4 * APPEND_BATCH);
        let engine = Arc::new(RedisEngine {
            appends,
            tls,
            client,
            conn,
            refs_key: format!("{{{prefix}}}:refs"),
            old_refs_key: format!("{{{prefix}}}:refs:old"),
            producers_key: format!("{{{prefix}}}:producers"),
            old_producers_key: format!("{{{prefix}}}:producers:old"),
            runs_prefix: format!("{{{prefix}}}:seqs:"),
            stream,
            epoch_key,
            retain,
            epoch: RwLock::new(epoch),
            hub: Hub::new(head, true),
            errors: AtomicU64::new(0),
            gaps: AtomicU64::new(0),
        });
        tokio::spawn(engine.clone().read_forever(head));
        tokio::spawn(engine.clone().append_forever(queue));
        Ok(engine)
    }

    fn failed(&self, what: &str, e: impl std::fmt::Display) -> Unavailable {
        self.errors.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("redis {what}: {e}");
        Unavailable(format!("the event store is unavailable ({what}); retry"))
    }

    fn note_epoch(&self, seen: &str) -> bool {
        let mut epoch = self.epoch.write().unwrap_or_else(|e| e.into_inner());
        if *epoch == seen {
            return false;
        }
        tracing::warn!("the Redis log has a new epoch ({seen}, was {epoch}): the stream was lost; resumes from before it get recovered:false");
        *epoch = seen.to_string();
        true
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        what: &str,
        call: impl std::future::Future<Output = RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        match timeout(ENGINE_TIMEOUT, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.failed(what, e)),
            Err(_) => Err(self.failed(what, "timed out")),
        }
    }

    /// A connection of the engine's own (see `resp.rs`), within `wait`.
    async fn own_connection(&self, wait: Duration) -> Result<resp::Conn, resp::Error> {
        resp::Conn::connect(self.client.get_connection_info(), self.tls.as_ref(), wait).await
    }

    /// Reads the stream into the hub until the process ends.
    async fn read_forever(self: Arc<Self>, mut last: Offset) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut conn = match self.own_connection(Duration::from_secs(1)).await {
                Ok(conn) => conn,
                Err(e) => {
                    self.failed("reader connect", e);
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            match read_epoch(&mut conn, &self.epoch_key).await {
                Ok(Some(epoch)) => {
                    if self.note_epoch(&epoch) {
                        last = Offset::ZERO;
                    }
                }
                // The epoch is gone with the stream: the next append makes a new one.
                Ok(None) => last = Offset::ZERO,
                Err(e) => {
                    self.failed("reader epoch", e);
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            backoff = Duration::from_millis(100);
            loop {
                match read_stream(&mut conn, &self.stream, last).await {
                    Ok(events) => {
                        let Some(first) = events.first() else { continue };
                        // Whether anything after `last` was trimmed before
                        // this read (see "Reading"); unanswered, the events
                        // are read again after a reconnect. Not asked when
                        // the read returned every entry after `last` and
                        // they are fewer than `retain`: a trim keeps at
                        // least the `retain` newest, so one that took an
                        // entry after `last` left `retain` of them.
                        let all_after = events.len() < READ_COUNT && events.len() < self.retain;
                        match if all_after {
                            Ok(true)
                        } else {
                            self.can_resume(&self.epoch(), last).await
                        } {
                            Ok(true) => {}
                            Ok(false) => {
                                self.gaps.fetch_add(1, Ordering::Relaxed);
                                tracing::warn!(
                                    "the stream was trimmed past {last} before this relay read it (next: {}); \
                                     closing connections that missed events with 4008",
                                    first.offset
                                );
                                self.hub.gap(first.offset);
                            }
                            Err(_) => break,
                        }
                        if let Some(newest) = events.last() {
                            last = newest.offset;
                        }
                        self.hub.send_all(&events);
                    }
                    Err(e) => {
                        self.failed("XREAD", e);
                        break;
                    }
                }
            }
            sleep(backoff).await;
        }
    }
}

impl Engine for RedisEngine {
    fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The epoch last seen in Redis.
    fn epoch(&self) -> String {
        self.epoch.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Queued for the appender (see `append.rs`).
    fn submit(&self, draft: Draft) -> Boxed<'_, Stored> {
        Box::pin(RedisEngine::submit(self, draft))
    }

    /// Up to `count` entries after `after` (`XRANGE (after + COUNT n`).
    fn read_after(&self, after: Offset, count: usize) -> Boxed<'_, Result<Vec<Arc<Event>>, Unavailable>> {
        Box::pin(async move {
            let conn = &self.conn;
            let mut cmd = redis::cmd("XRANGE");
            cmd.arg(&self.stream)
                .arg(format!("({after}"))
                .arg("+")
                .arg("COUNT")
                .arg(count);
            let cmd = &cmd;
            let reply: redis::Value = self
                .run(
                    "XRANGE",
                    again(move || async move { cmd.query_async(&mut conn.clone()).await }),
                )
                .await?;
            Ok(entries::from_range(&reply))
        })
    }

    /// Whether every entry after `offset` is still in the stream of `epoch`.
    /// Trimming removes the oldest entries, so that holds when `offset` is
    /// not older than the first entry kept, or when nothing was ever trimmed.
    fn can_resume<'a>(&'a self, epoch: &'a str, offset: Offset) -> Boxed<'a, Result<bool, Unavailable>> {
        Box::pin(async move {
            let conn = &self.conn;
            let script = Script::new(RESUME_INFO);
            let mut call = script.key(&self.stream);
            call.key(&self.epoch_key);
            let (stored_epoch, _, last, first, added, length): (String, String, String, String, u64, u64) = self
                .run("XINFO", again(|| async { call.invoke_async(&mut conn.clone()).await }))
                .await?;
            let (Some(last), Some(first)) = (Offset::parse(&last), Offset::parse(&first)) else {
                return Ok(false);
            };
            Ok(stored_epoch == epoch && offset <= last && (offset >= first || added == length))
        })
    }

    /// `PING`, bounded.
    fn healthy(&self) -> Boxed<'_, bool> {
        Box::pin(async move {
            let conn = &self.conn;
            let cmd = redis::cmd("PING");
            let cmd = &cmd;
            let ping = again(move || async move { cmd.query_async::<String>(&mut conn.clone()).await });
            matches!(timeout(Duration::from_secs(1), ping).await, Ok(Ok(_)))
        })
    }

    fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn gaps(&self) -> u64 {
        self.gaps.load(Ordering::Relaxed)
    }
}

/// A call on the connection manager, made again once when the connection
/// failed: the manager reconnects after a failed call, and it is the
/// appender's own connection, not the manager's, that sees Redis come back
/// first. Bounded by the caller's timeout.
async fn again<T, F: std::future::Future<Output = RedisResult<T>>>(call: impl Fn() -> F) -> RedisResult<T> {
    match call().await {
        Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() => call().await,
        result => result,
    }
}

/// `url` without its password, for messages and logs.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        None => url.to_string(),
    }
}

/// A string reply's text, or an error reply's.
fn text_or_error(reply: &resp::Reply) -> Result<String, resp::Error> {
    match reply {
        resp::Reply::Error(e) => Err(resp::Error::Reply(String::from_utf8_lossy(e).into_owned())),
        reply => reply
            .text()
            .map(String::from)
            .ok_or_else(|| resp::Error::Unexpected(format!("{reply:?}"))),
    }
}

/// The epoch key's value, on the reader's connection.
async fn read_epoch(conn: &mut resp::Conn, key: &str) -> Result<Option<String>, resp::Error> {
    let args: [&[u8]; 2] = [b"GET", key.as_bytes()];
    let get = conn.call(&args, |r| r.text().map(String::from));
    timeout(ENGINE_TIMEOUT, get).await.unwrap_or(Err(resp::Error::TimedOut))
}

/// The events after `last` (`XREAD COUNT … BLOCK … STREAMS stream last`),
/// none when the block timed out.
async fn read_stream(conn: &mut resp::Conn, stream: &str, last: Offset) -> Result<Vec<Arc<Event>>, resp::Error> {
    let (count, block, last) = (READ_COUNT.to_string(), BLOCK_MS.to_string(), last.to_string());
    let args: [&[u8]; 8] = [
        b"XREAD",
        b"COUNT",
        count.as_bytes(),
        b"BLOCK",
        block.as_bytes(),
        b"STREAMS",
        stream.as_bytes(),
        last.as_bytes(),
    ];
    let read = conn.call(&args, resp::events);
    timeout(Duration::from_millis(BLOCK_MS) + ENGINE_TIMEOUT, read)
        .await
        .unwrap_or(Err(resp::Error::TimedOut))
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        for (url, shown) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("rediss://relay:s3cr:et@host:6380/0", "rediss://relay:***@host:6380/0"),
            ("redis://:pw@host", "redis://:***@host"),
            ("redis+unix:///run/redis.sock", "redis+unix:///run/redis.sock"),
            ("rediss://u:p@h/#insecure", "rediss://u:***@h/#insecure"),
        ] {
            assert_eq!(super::redacted(url), shown);
        }
    }
}
