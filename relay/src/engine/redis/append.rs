//! The Redis engine's writing side: one task per instance stores the
//! publishes waiting in batches, one script call each (see the parent
//! module's "Writing").

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use super::{text_or_error, RedisEngine};
use crate::engine::{entries, random_id, resp, Draft, Stored, Unavailable, ENGINE_TIMEOUT};
use crate::event::Offset;

/// Appends sent to Redis in one pipeline at most.
pub(super) const APPEND_BATCH: usize = 256;

/// An event waiting for the appender, and who waits for its offset.
pub(super) struct Append {
    draft: Draft,
    done: oneshot::Sender<Result<(Offset, bool), Unavailable>>,
}

/// Stores a batch of events in one call: one epoch check for all of them,
/// one `HMGET` per ref hash for every ref of the batch at once, then per
/// event `XADD` (or, for a ref seen before, `XRANGE` of its entry to check
/// it is still in the stream), one `XTRIM` and one `HSET` for the new refs.
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
/// Every argument of the script and of each `redis.call` costs Redis time
/// (measured: arguments and calls took about a third of a publish's Redis
/// time), so an entry is two fields (see [`entries::head`]), the time
/// stored is the id's, and the stream is trimmed once per batch instead of
/// once per `XADD`.
///
/// `KEYS`: stream, epoch, current refs, previous refs. `ARGV`: retain, a
/// new epoch, the number of events, then three per event: its ref field
/// (empty without a ref), its `head` field, its payload.
/// Returns one string (one reply to parse, not two per event): the epoch,
/// then per event its id and `1` if stored now (`0` if stored before under
/// that ref), separated by spaces.
///
/// A ref in both hashes (stored again after its entry was trimmed) is
/// checked newest first; a ref repeated within the batch gets the id of its
/// first event.
///
/// The trim keeps at least the whole batch: a batch larger than `retain`
/// (a small `--retain`) would otherwise trim its own first events before
/// any reader saw them. Readers blocked in `XREAD` are answered as soon as
/// the script ends, so they get the batch whole.
pub(super) const APPEND_MANY: &str = r"
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[2], epoch)
end
local n = tonumber(ARGV[3])
local fields = {}
for i = 1, n do
  local f = ARGV[1 + 3 * i]
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
local added = false
local last = nil
local a = 4
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
    id = redis.call('XADD', KEYS[1], '*', 'head', ARGV[a + 1], 'payload', ARGV[a + 2])
    added = true
    if f ~= '' then
      ids[f] = id
      new[#new + 1] = f
      new[#new + 1] = id
      last = id
    end
    out[#out + 1] = id
    out[#out + 1] = '1'
  end
  a = a + 3
end
if added then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', math.max(tonumber(ARGV[1]), n))
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

impl RedisEngine {
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
    /// The batches go on a connection of the appender's own, the next one
    /// sent while Redis runs the one before
    /// ([`RedisEngine::append_pipelined`]).
    pub(super) async fn append_forever(self: Arc<Self>, mut queue: mpsc::Receiver<Append>) {
        let mut batch = Vec::with_capacity(APPEND_BATCH);
        while queue.recv_many(&mut batch, APPEND_BATCH).await > 0 {
            let first = std::mem::take(&mut batch);
            match self.own_connection(Duration::from_secs(1)).await {
                Ok(conn) => self.append_pipelined(conn, first, &mut queue).await,
                Err(e) => self.answer(first, Err(self.failed("XADD", e))),
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
                            if matches!(&e, resp::Error::Reply(text) if text.starts_with("NOSCRIPT")) {
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
                            break resp::Error::TimedOut;
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
            numbers: [self.retain.to_string(), random_id(), batch.len().to_string()],
            heads: batch
                .iter()
                .map(|Append { draft: d, .. }| entries::head(&d.name, &d.origin, &d.scope))
                .collect(),
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
}

/// Batches sent to Redis before the first of them is answered, at most.
const APPENDS_IN_FLIGHT: usize = 2;

/// The owned parts of an `EVAL` of [`APPEND_MANY`].
struct AppendArgs<'a> {
    engine: &'a RedisEngine,
    sha: &'a str,
    batch: &'a [Append],
    /// Retain, a new epoch, the number of events.
    numbers: [String; 3],
    /// The `head` field of each entry.
    heads: Vec<String>,
}

impl AppendArgs<'_> {
    fn as_args(&self) -> Vec<&[u8]> {
        let e = self.engine;
        let mut args: Vec<&[u8]> = Vec::with_capacity(10 + 3 * self.batch.len());
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
        for (Append { draft: d, .. }, head) in self.batch.iter().zip(&self.heads) {
            args.extend([
                d.idem.as_deref().unwrap_or("").as_bytes(),
                head.as_bytes(),
                d.payload.as_bytes(),
            ]);
        }
        args
    }
}
