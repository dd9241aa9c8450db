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
//! | `{P}:events` | stream | one entry per event: `name`, `payload` (JSON text), `ts` (ISO time stored), `user` (payload `userId` or empty), `origin` (publishing connection or empty); trimmed with `MAXLEN ~ retain` |
//! | `{P}:epoch` | string | the log's epoch; a new one when the stream is lost (Redis restarted without persistence, or flushed) |
//! | `{P}:refs` | hash | field `<length of user>:<user>:<ref>`, value the offset that publish got, for idempotent retries; field `""`: the newest offset in the hash |
//! | `{P}:refs:old` | hash | the same, the refs before those of `{P}:refs`: it is dropped when `{P}:refs` holds `retain` refs and none of its own entries is left in the stream, and `{P}:refs` takes its name; so a ref counts exactly while its entry is in the stream, and Redis holds about twice as many refs as the stream holds entries at most |
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::StreamRangeReply;
use redis::{AsyncConnectionConfig, Client, RedisResult, Script};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep, timeout};

use super::{entries, random_id, resp, Draft, Hub, Stored, Unavailable, ENGINE_TIMEOUT};
use crate::event::{iso_now, Event, Offset};

/// Milliseconds one `XREAD` blocks.
const BLOCK_MS: u64 = 2000;
/// Entries one `XREAD` returns at most.
const READ_COUNT: usize = 1000;
/// The longest wait between two attempts of the reader to reach Redis
/// again; the wait starts at 100 ms and doubles after each failure.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Appends sent to Redis in one pipeline at most.
const APPEND_BATCH: usize = 256;

/// An event waiting for the appender, and who waits for its offset.
struct Append {
    draft: Draft,
    done: oneshot::Sender<Result<(Offset, bool), Unavailable>>,
}

/// Stores a batch of events in one call: one epoch check for all of them,
/// one `HMGET` per ref hash for every ref of the batch at once, then per
/// event `XADD` (or, for a ref seen before, `XRANGE` of its entry to check
/// it is still in the stream), then one `HSET` for the new refs.
///
/// Refs live in two hashes, the current one and the one before it. When the
/// current one holds `retain` refs or more, and the newest entry the
/// previous one points at has been trimmed from the stream (so none of its
/// refs counts any more), the previous one is dropped (`UNLINK`: freed in
/// the background) and the current one becomes the previous one. So a ref
/// counts exactly as long as its entry is in the stream, and Redis keeps
/// about two to three times `retain` refs, however long the stream lives.
/// The field `""` (never a ref: refs are `<length>:<user>:<ref>`) of each
/// hash holds the newest id stored in it.
///
/// `KEYS`: stream, epoch, current refs, previous refs. `ARGV`: retain, a
/// new epoch, the time stored, the number of events, then five per event:
/// its ref field (empty without a ref), name, payload, user, origin.
/// Returns one string (one reply to parse, not two per event): the epoch,
/// then per event its id and `1` if stored now (`0` if stored before under
/// that ref), separated by spaces.
///
/// A ref in both hashes (stored again after its entry was trimmed) is
/// checked newest first; a ref repeated within the batch gets the id of its
/// first event.
const APPEND_MANY: &str = r"
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
end
local n = tonumber(ARGV[4])
local fields = {}
for i = 1, n do
  local f = ARGV[5 * i]
  if f ~= '' then fields[#fields + 1] = f end
end
local before = {}
if #fields > 0 then
  for k = 3, 4 do
    if redis.call('EXISTS', KEYS[k]) == 1 then
      local got = redis.call('HMGET', KEYS[k], unpack(fields))
      for j = 1, #fields do
        if got[j] then
          local list = before[fields[j]]
          if not list then
            list = {}
            before[fields[j]] = list
          end
          list[#list + 1] = got[j]
        end
      end
    end
  end
end
local ids = {}
local new = {}
local out = {epoch}
local last = nil
local a = 5
for _ = 1, n do
  local f = ARGV[a]
  local id = nil
  if f ~= '' then
    id = ids[f]
    local list = before[f]
    if not id and list then
      before[f] = nil
      for _, seen in ipairs(list) do
        if #redis.call('XRANGE', KEYS[1], seen, seen) > 0 then
          id = seen
          ids[f] = seen
          break
        end
      end
    end
  end
  if id then
    out[#out + 1] = id
    out[#out + 1] = '0'
  else
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
      'name', ARGV[a + 1], 'payload', ARGV[a + 2], 'ts', ARGV[3], 'user', ARGV[a + 3], 'origin', ARGV[a + 4])
    if f ~= '' then
      ids[f] = id
      new[#new + 1] = f
      new[#new + 1] = id
      last = id
    end
    out[#out + 1] = id
    out[#out + 1] = '1'
  end
  a = a + 5
end
if last then
  if redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[1]) then
    local newest = redis.call('HGET', KEYS[4], '')
    if not newest or redis.call('XRANGE', KEYS[1], newest, newest)[1] == nil then
      redis.call('UNLINK', KEYS[4])
      redis.call('RENAME', KEYS[3], KEYS[4])
    end
  end
  new[#new + 1] = ''
  new[#new + 1] = last
  redis.call('HSET', KEYS[3], unpack(new))
end
return table.concat(out, ' ')
";

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

/// The Redis engine.
pub struct RedisEngine {
    client: Client,
    conn: ConnectionManager,
    stream: String,
    epoch_key: String,
    refs_key: String,
    old_refs_key: String,
    retain: usize,
    epoch: RwLock<String>,
    hub: Hub,
    errors: AtomicU64,
    appends: mpsc::Sender<Append>,
    append_many: Script,
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
    /// Connects, agrees on the epoch, and starts the reader.
    pub async fn connect(url: &str, prefix: &str, retain: usize) -> Result<Arc<RedisEngine>, String> {
        let client = Client::open(url).map_err(|e| format!("--redis-url {url}: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(1))
            .set_response_timeout(ENGINE_TIMEOUT)
            .set_number_of_retries(2)
            .set_max_delay(1000);
        let mut conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| format!("cannot reach Redis at {url}: {e}"))?;
        let stream = format!("{{{prefix}}}:events");
        let epoch_key = format!("{{{prefix}}}:epoch");
        let fail = |e: redis::RedisError| format!("Redis at {url}: {e}");
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
            append_many: Script::new(APPEND_MANY),
            client,
            conn,
            refs_key: format!("{{{prefix}}}:refs"),
            old_refs_key: format!("{{{prefix}}}:refs:old"),
            stream,
            epoch_key,
            retain,
            epoch: RwLock::new(epoch),
            hub: Hub::new(head),
            errors: AtomicU64::new(0),
        });
        tokio::spawn(engine.clone().read_forever(head));
        tokio::spawn(engine.clone().append_forever(queue));
        Ok(engine)
    }

    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The epoch last seen in Redis.
    pub fn epoch(&self) -> String {
        self.epoch.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Engine errors so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
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

    /// Queues an event for `XADD` (or for finding the entry of a repeated
    /// ref) by the instance's appender (see [`RedisEngine::append_forever`]).
    pub async fn submit(&self, draft: Draft) -> Stored {
        let (done, result) = oneshot::channel();
        let queued = self.appends.send(Append { draft, done }).await.is_ok();
        Box::pin(async move {
            let unavailable = || Unavailable("the event store is unavailable; retry".into());
            if !queued {
                return Err(unavailable());
            }
            result.await.unwrap_or_else(|_| Err(unavailable()))
        })
    }

    /// Group commit: takes every append waiting (up to [`APPEND_BATCH`]) and
    /// stores them with one script call ([`APPEND_MANY`]), so one round trip
    /// and one epoch check store many events. One task per instance, so events are stored in
    /// the order they were submitted (a connection's publishes keep their order).
    /// Over plain TCP the batches go on a connection of the appender's own,
    /// the next one sent while Redis runs the one before
    /// ([`RedisEngine::append_pipelined`]); otherwise (TLS, Unix socket)
    /// through the connection manager, one at a time.
    async fn append_forever(self: Arc<Self>, mut queue: mpsc::Receiver<Append>) {
        let mut batch = Vec::with_capacity(APPEND_BATCH);
        while queue.recv_many(&mut batch, APPEND_BATCH).await > 0 {
            if let Some(conn) = resp::Conn::connect(self.client.get_connection_info(), Duration::from_secs(1)).await {
                // Plain TCP: pipelined on a connection of the appender's own.
                let first = std::mem::take(&mut batch);
                match conn {
                    Ok(conn) => self.append_pipelined(conn, first, &mut queue).await,
                    Err(e) => {
                        let e = self.failed("XADD", e);
                        for append in first {
                            let _ = append.done.send(Err(e.clone()));
                        }
                    }
                }
                continue;
            }
            let results = self.append_batch(&batch).await;
            for (i, append) in batch.drain(..).enumerate() {
                let result = match &results {
                    Ok(all) => all.get(i).cloned().ok_or_else(|| self.failed("XADD", "short reply")),
                    Err(e) => Err(e.clone()),
                };
                let _ = append.done.send(result);
            }
        }
    }

    /// The appender over its own RESP2 connection: while Redis runs one
    /// batch, the next is sent behind it (up to [`APPENDS_IN_FLIGHT`]), so
    /// Redis does not wait for a round trip between two. One connection,
    /// so Redis runs the batches in the order they were sent. Returns when
    /// the queue is closed or the connection failed (every batch in flight
    /// then answers `unavailable`; the caller connects again for the next).
    async fn append_pipelined(&self, mut conn: resp::Conn, first: Vec<Append>, queue: &mut mpsc::Receiver<Append>) {
        // Loaded once per connection: a Redis that restarted (and forgot
        // its scripts) comes with a new connection.
        let load: [&[u8]; 3] = [b"SCRIPT", b"LOAD", APPEND_MANY.as_bytes()];
        let loaded = conn.call(&load, |r| r.text().map(String::from));
        let sha = match timeout(ENGINE_TIMEOUT, loaded).await {
            Ok(Ok(Some(sha))) => sha,
            failed => {
                let e = self.failed("SCRIPT LOAD", format!("{failed:?}"));
                for append in first {
                    let _ = append.done.send(Err(e.clone()));
                }
                return;
            }
        };
        let mut in_flight: std::collections::VecDeque<(Vec<Append>, tokio::time::Instant)> = Default::default();
        let mut next = Vec::with_capacity(APPEND_BATCH);
        let mut waiting = Some(first);
        let failure = loop {
            if let Some(batch) = waiting.take() {
                if let Err(e) = conn.send(&self.append_args(&sha, &batch).as_args()).await {
                    in_flight.push_back((batch, tokio::time::Instant::now()));
                    break e;
                }
                in_flight.push_back((batch, tokio::time::Instant::now() + ENGINE_TIMEOUT));
            }
            let Some(deadline) = in_flight.front().map(|(_, d)| *d) else {
                // Idle: a connection Redis closes meanwhile is dropped now,
                // not found closed by the next batch.
                tokio::select! {
                    n = queue.recv_many(&mut next, APPEND_BATCH) => match n {
                        0 => return,
                        _ => waiting = Some(std::mem::replace(&mut next, Vec::with_capacity(APPEND_BATCH))),
                    },
                    gone = conn.any_reply(|_| ()) => {
                        tracing::debug!("appender connection closed while idle: {gone:?}");
                        return;
                    }
                }
                continue;
            };
            tokio::select! {
                biased;
                reply = tokio::time::timeout_at(deadline, conn.any_reply(text_or_error)) => {
                    let Some((batch, _)) = in_flight.pop_front() else { continue };
                    let reply = match reply {
                        Ok(Ok(Ok(text))) => text,
                        // Redis answered with an error: the connection is
                        // still in step, unless the script is gone.
                        Ok(Ok(Err(e))) => {
                            self.answer(batch, Err(self.failed("XADD", &e)));
                            if e.starts_with("NOSCRIPT") {
                                break e;
                            }
                            continue;
                        }
                        Ok(Err(e)) => {
                            self.answer(batch, Err(self.failed("XADD", &e)));
                            break e;
                        }
                        Err(_) => {
                            self.answer(batch, Err(self.failed("XADD", "timed out")));
                            break "timed out".to_string();
                        }
                    };
                    let results = self.appended(&reply);
                    self.answer(batch, results);
                }
                n = queue.recv_many(&mut next, APPEND_BATCH), if in_flight.len() < APPENDS_IN_FLIGHT => {
                    if n == 0 {
                        // Closed: answer what is in flight, then stop.
                        while let Some((batch, deadline)) = in_flight.pop_front() {
                            let reply = tokio::time::timeout_at(deadline, conn.any_reply(text_or_error)).await;
                            let results = match reply {
                                Ok(Ok(Ok(text))) => self.appended(&text),
                                _ => Err(Unavailable("the event store is unavailable; retry".into())),
                            };
                            self.answer(batch, results);
                        }
                        return;
                    }
                    waiting = Some(std::mem::replace(&mut next, Vec::with_capacity(APPEND_BATCH)));
                }
            }
        };
        // The connection is lost: nothing in flight is known to be stored.
        let e = Unavailable("the event store is unavailable; retry".into());
        for (batch, _) in in_flight {
            self.answer(batch, Err(e.clone()));
        }
        tracing::debug!("appender connection dropped: {failure}");
    }

    /// Hands each append of `batch` its result.
    fn answer(&self, batch: Vec<Append>, results: Result<Vec<(Offset, bool)>, Unavailable>) {
        for (i, append) in batch.into_iter().enumerate() {
            let result = match &results {
                Ok(all) => all.get(i).cloned().ok_or_else(|| self.failed("XADD", "short reply")),
                Err(e) => Err(e.clone()),
            };
            let _ = append.done.send(result);
        }
    }

    /// The arguments of `EVALSHA` of [`APPEND_MANY`] (loaded as `sha`) for `batch`.
    fn append_args<'a>(&'a self, sha: &'a str, batch: &'a [Append]) -> AppendArgs<'a> {
        AppendArgs {
            engine: self,
            sha,
            batch,
            numbers: [self.retain.to_string(), random_id(), iso_now(), batch.len().to_string()],
        }
    }

    /// The results of a batch from the script's reply.
    fn appended(&self, reply: &str) -> Result<Vec<(Offset, bool)>, Unavailable> {
        let mut replies = reply.split(' ');
        let epoch = replies.next().unwrap_or_default();
        self.note_epoch(epoch);
        let mut out = Vec::new();
        while let (Some(id), Some(new)) = (replies.next(), replies.next()) {
            let offset = Offset::parse(id).ok_or_else(|| self.failed("XADD", format!("unexpected id {id}")))?;
            out.push((offset, new == "1"));
        }
        Ok(out)
    }

    async fn append_batch(&self, batch: &[Append]) -> Result<Vec<(Offset, bool)>, Unavailable> {
        // `EVALSHA` built here rather than through `ScriptInvocation`, which
        // copies every argument twice (payloads included).
        let mut call = redis::cmd("EVALSHA");
        call.arg(self.append_many.get_hash())
            .arg(4)
            .arg(&self.stream)
            .arg(&self.epoch_key)
            .arg(&self.refs_key)
            .arg(&self.old_refs_key)
            .arg(self.retain)
            .arg(random_id())
            .arg(iso_now())
            .arg(batch.len());
        for Append { draft: d, .. } in batch {
            call.arg(d.idem.as_deref().unwrap_or(""))
                .arg(&d.name)
                .arg(&d.payload)
                .arg(d.user.as_deref().unwrap_or(""))
                .arg(&d.origin);
        }
        let mut conn = self.conn.clone();
        let reply = match timeout(ENGINE_TIMEOUT, call.query_async::<redis::Value>(&mut conn)).await {
            // Redis forgot the script (a restart): load it and call again.
            Ok(Err(e)) if e.kind() == redis::ErrorKind::NoScriptError => {
                let load = async {
                    let _: String = redis::cmd("SCRIPT")
                        .arg("LOAD")
                        .arg(APPEND_MANY)
                        .query_async(&mut conn)
                        .await?;
                    call.query_async::<redis::Value>(&mut conn).await
                };
                self.run("XADD", load).await?
            }
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(self.failed("XADD", e)),
            Err(_) => return Err(self.failed("XADD", "timed out")),
        };
        let reply = match &reply {
            redis::Value::BulkString(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
        .ok_or_else(|| self.failed("XADD", format!("unexpected reply {reply:?}")))?;
        let mut replies = reply.split(' ');
        let epoch = replies.next().unwrap_or_default();
        self.note_epoch(epoch);
        let mut out = Vec::with_capacity(batch.len());
        while let (Some(id), Some(new)) = (replies.next(), replies.next()) {
            let offset = Offset::parse(id).ok_or_else(|| self.failed("XADD", format!("unexpected id {id}")))?;
            out.push((offset, new == "1"));
        }
        Ok(out)
    }

    /// Up to `count` entries after `after` (`XRANGE (after + COUNT n`).
    pub async fn read_after(&self, after: Offset, count: usize) -> Result<Vec<Arc<Event>>, Unavailable> {
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
    }

    /// Whether every entry after `offset` is still in the stream of `epoch`.
    /// Trimming removes the oldest entries, so that holds when `offset` is
    /// not older than the first entry kept, or when nothing was ever trimmed.
    pub async fn can_resume(&self, epoch: &str, offset: Offset) -> Result<bool, Unavailable> {
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
    }

    /// `PING`, bounded.
    pub async fn healthy(&self) -> bool {
        let conn = &self.conn;
        let cmd = redis::cmd("PING");
        let cmd = &cmd;
        let ping = again(move || async move { cmd.query_async::<String>(&mut conn.clone()).await });
        matches!(timeout(Duration::from_secs(1), ping).await, Ok(Ok(_)))
    }

    async fn reader_connection(&self) -> Result<Reader, String> {
        let wait = Duration::from_secs(1);
        if let Some(raw) = resp::Conn::connect(self.client.get_connection_info(), wait).await {
            return raw.map(Reader::Raw);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(wait)
            .set_response_timeout(Duration::from_millis(BLOCK_MS) + ENGINE_TIMEOUT);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map(Reader::Crate)
            .map_err(|e| e.to_string())
    }

    /// Reads the stream into the hub until the process ends.
    async fn read_forever(self: Arc<Self>, mut last: Offset) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut conn = match self.reader_connection().await {
                Ok(conn) => conn,
                Err(e) => {
                    self.failed("reader connect", e);
                    sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            match conn.epoch(&self.epoch_key).await {
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
                match conn.read(&self.stream, last).await {
                    Ok(events) => {
                        for event in events {
                            last = event.offset;
                            self.hub.send(event);
                        }
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

/// A string reply's text, or an error reply's.
fn text_or_error(reply: &resp::Reply) -> Result<String, String> {
    match reply {
        resp::Reply::Error(e) => Err(String::from_utf8_lossy(e).into_owned()),
        reply => reply
            .text()
            .map(String::from)
            .ok_or_else(|| format!("unexpected reply {reply:?}")),
    }
}

/// Batches sent to Redis before the first of them is answered, at most.
const APPENDS_IN_FLIGHT: usize = 2;

/// The owned parts of an `EVAL` of [`APPEND_MANY`].
struct AppendArgs<'a> {
    engine: &'a RedisEngine,
    sha: &'a str,
    batch: &'a [Append],
    /// Retain, a new epoch, the time stored, the number of events.
    numbers: [String; 4],
}

impl AppendArgs<'_> {
    fn as_args(&self) -> Vec<&[u8]> {
        let e = self.engine;
        let mut args: Vec<&[u8]> = Vec::with_capacity(11 + 5 * self.batch.len());
        args.extend([
            &b"EVALSHA"[..],
            self.sha.as_bytes(),
            b"4",
            e.stream.as_bytes(),
            e.epoch_key.as_bytes(),
            e.refs_key.as_bytes(),
            e.old_refs_key.as_bytes(),
        ]);
        args.extend(self.numbers.iter().map(String::as_bytes));
        for Append { draft: d, .. } in self.batch {
            args.extend([
                d.idem.as_deref().unwrap_or("").as_bytes(),
                d.name.as_bytes(),
                d.payload.as_bytes(),
                d.user.as_deref().unwrap_or("").as_bytes(),
                d.origin.as_bytes(),
            ]);
        }
        args
    }
}

/// The reader's connection: its own RESP2 one over plain TCP, else the
/// `redis` crate's (TLS, Unix socket).
enum Reader {
    Raw(resp::Conn),
    Crate(MultiplexedConnection),
}

impl Reader {
    /// The epoch key's value.
    async fn epoch(&mut self, key: &str) -> Result<Option<String>, String> {
        match self {
            Reader::Raw(conn) => {
                let args: [&[u8]; 2] = [b"GET", key.as_bytes()];
                let get = conn.call(&args, |r| r.text().map(String::from));
                timeout(ENGINE_TIMEOUT, get)
                    .await
                    .unwrap_or_else(|_| Err("timed out".into()))
            }
            Reader::Crate(conn) => redis::cmd("GET")
                .arg(key)
                .query_async::<Option<String>>(conn)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// The events after `last` (`XREAD COUNT … BLOCK … STREAMS stream last`),
    /// none when the block timed out.
    async fn read(&mut self, stream: &str, last: Offset) -> Result<Vec<Arc<Event>>, String> {
        let (count, block, last) = (READ_COUNT.to_string(), BLOCK_MS.to_string(), last.to_string());
        match self {
            Reader::Raw(conn) => {
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
                    .unwrap_or_else(|_| Err("timed out".into()))
            }
            Reader::Crate(conn) => redis::cmd("XREAD")
                .arg("COUNT")
                .arg(count)
                .arg("BLOCK")
                .arg(block)
                .arg("STREAMS")
                .arg(stream)
                .arg(last)
                .query_async::<redis::Value>(conn)
                .await
                .map(|reply| entries::from_read(&reply))
                .map_err(|e| e.to_string()),
        }
    }
}
