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

/// Appends sent to Redis in one script call at most. Not more: Redis
/// serves nothing else while a script runs, and the reader (two round trips
/// per read of 1,000 entries) then falls behind; with 1,024 it fell more
/// than `--retain` behind at 55,000-74,000 publishes/s on this 2-core
/// machine under load (gaps, 4008), with 256 it did not, and Redis's CPU
/// per publish was no lower. (The script passes twice as many arguments to
/// one `HSET`: Redis's Lua takes 8,000.)
pub(super) const APPEND_BATCH: usize = 256;

/// An event waiting for the appender, and who waits for its offset.
pub(super) struct Append {
    draft: Draft,
    done: oneshot::Sender<Result<(Offset, bool), Unavailable>>,
}

/// Stores a batch of events in one call: one epoch check for all of them,
/// one `HMGET` per ref hash for every ref of the batch at once, then per
/// event one `XADD` (or, for a ref seen before, `XRANGE` of its entry to
/// check it is still in the stream), one `XTRIM` and one `HSET` for the new
/// refs.
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
/// Redis's time in this script goes mostly to moving arguments between
/// Lua and Redis and to each `redis.call` (measured with `INFO
/// commandstats` and the process's CPU time: the `XADD`s were a fifth of
/// it), so the script does no per-event work it can be spared:
/// - an entry is one field, `e`, made by the relay ([`entries::entry`]):
///   one argument per event and four per `XADD`;
/// - the refs come as one block, passed to both `HMGET`s as they are
///   (`unpack(ARGV, …)`, no table built), and only a ref found there costs
///   more;
/// - a ref repeated within a batch never reaches Redis: the relay sends its
///   first event only and answers the others with its offset;
/// - the stream is trimmed once per batch, the time stored is the id's.
///
/// `KEYS`: stream, epoch, current refs, previous refs. `ARGV`: retain, a
/// new epoch, the number of events `n`, then `n` ref fields (empty for an
/// event without a ref), then `n` entries.
/// Returns one string (one reply to parse, not one per event): the epoch,
/// then per event its id, prefixed with `=` when it was stored before under
/// that ref, separated by spaces.
///
/// A ref in both hashes (stored again after its entry was trimmed) is
/// checked newest first.
///
/// The trim keeps at least the whole batch: a batch larger than `retain`
/// (a small `--retain`) would otherwise trim its own first events before
/// any reader saw them. Readers blocked in `XREAD` are answered as soon as
/// the script ends, so they get the batch whole.
pub(super) const APPEND_MANY: &str = r"
local call = redis.call
local stream = KEYS[1]
local epoch = call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[2]
  call('SET', KEYS[2], epoch)
end
local n = tonumber(ARGV[3])
local retain = tonumber(ARGV[1])
local seen
for k = 3, 4 do
  local got = call('HMGET', KEYS[k], unpack(ARGV, 4, 3 + n))
  for j = 1, n do
    if got[j] and ARGV[3 + j] ~= '' then
      seen = seen or {}
      local list = seen[j] or {}
      seen[j] = list
      list[#list + 1] = got[j]
    end
  end
end
local out = {epoch}
local new = {}
local m = 0
local a = 3 + n
for i = 1, n do
  local id
  if seen and seen[i] then
    for _, old in ipairs(seen[i]) do
      if call('XRANGE', stream, old, old)[1] then
        id = old
        break
      end
    end
  end
  if id then
    out[i + 1] = '=' .. id
  else
    id = call('XADD', stream, '*', 'e', ARGV[a + i])
    out[i + 1] = id
    local f = ARGV[3 + i]
    if f ~= '' then
      new[m + 1] = f
      new[m + 2] = id
      m = m + 2
    end
  end
end
call('XTRIM', stream, 'MAXLEN', '~', math.max(retain, n))
if m > 0 then
  if call('HLEN', KEYS[3]) >= retain then
    local newest = call('HGET', KEYS[4], '')
    if not newest or call('XRANGE', stream, newest, newest)[1] == nil then
      call('UNLINK', KEYS[4])
      call('RENAME', KEYS[3], KEYS[4])
    end
  end
  new[m + 1] = ''
  new[m + 2] = new[m]
  call('HSET', KEYS[3], unpack(new))
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
                Err(e) => self.answer(first, &[], Err(self.failed("XADD", e))),
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
        let mut in_flight: std::collections::VecDeque<(Vec<Append>, Vec<Option<usize>>, tokio::time::Instant)> =
            Default::default();
        let mut next = Vec::with_capacity(APPEND_BATCH);
        let mut waiting = Some(first);
        let failure = loop {
            if let Some(batch) = waiting.take() {
                let repeats = repeats(&batch);
                if let Err(e) = conn.send(&self.append_args(&sha, &batch, &repeats).as_args()).await {
                    in_flight.push_back((batch, repeats, tokio::time::Instant::now()));
                    break e;
                }
                in_flight.push_back((batch, repeats, tokio::time::Instant::now() + ENGINE_TIMEOUT));
            }
            let Some(deadline) = in_flight.front().map(|(_, _, d)| *d) else {
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
                    let Some((batch, repeats, _)) = in_flight.pop_front() else { continue };
                    let reply = match reply {
                        Ok(Ok(Ok(text))) => text,
                        // Redis answered with an error: the connection is
                        // still in step, unless the script is gone.
                        Ok(Ok(Err(e))) => {
                            self.answer(batch, &[], Err(self.failed("XADD", &e)));
                            if matches!(&e, resp::Error::Reply(text) if text.starts_with("NOSCRIPT")) {
                                break e;
                            }
                            continue;
                        }
                        Ok(Err(e)) => {
                            self.answer(batch, &[], Err(self.failed("XADD", &e)));
                            break e;
                        }
                        Err(_) => {
                            self.answer(batch, &[], Err(self.failed("XADD", "timed out")));
                            break resp::Error::TimedOut;
                        }
                    };
                    let results = self.appended(&reply);
                    self.answer(batch, &repeats, results);
                }
                n = queue.recv_many(&mut next, APPEND_BATCH), if in_flight.len() < APPENDS_IN_FLIGHT => {
                    if n == 0 {
                        // Closed: answer what is in flight, then stop.
                        while let Some((batch, repeats, deadline)) = in_flight.pop_front() {
                            let reply = tokio::time::timeout_at(deadline, conn.any_reply(text_or_error)).await;
                            let results = match reply {
                                Ok(Ok(Ok(text))) => self.appended(&text),
                                _ => Err(Unavailable("the event store is unavailable; retry".into())),
                            };
                            self.answer(batch, &repeats, results);
                        }
                        return;
                    }
                    waiting = Some(std::mem::replace(&mut next, Vec::with_capacity(APPEND_BATCH)));
                }
            }
        };
        // The connection is lost: nothing in flight is known to be stored.
        let e = Unavailable("the event store is unavailable; retry".into());
        for (batch, _, _) in in_flight {
            self.answer(batch, &[], Err(e.clone()));
        }
        tracing::debug!("appender connection dropped: {failure}");
    }

    /// Hands each append of `batch` its result: `results` has one per
    /// append sent, in order; a repeat (see [`repeats`]; `repeats` may be
    /// empty when `results` is an error) gets the offset of its first, not new.
    fn answer(&self, batch: Vec<Append>, repeats: &[Option<usize>], results: Result<Vec<(Offset, bool)>, Unavailable>) {
        let mut sent = results.map(Vec::into_iter);
        let mut each: Vec<Result<(Offset, bool), Unavailable>> = Vec::with_capacity(batch.len());
        for i in 0..batch.len() {
            let result = match (repeats.get(i).copied().flatten(), &mut sent) {
                (Some(first), _) => each[first].clone().map(|(offset, _)| (offset, false)),
                (None, Ok(sent)) => sent.next().ok_or_else(|| self.failed("XADD", "short reply")),
                (None, Err(e)) => Err(e.clone()),
            };
            each.push(result);
        }
        for (append, result) in batch.into_iter().zip(each) {
            let _ = append.done.send(result);
        }
    }

    /// The arguments of `EVALSHA` of [`APPEND_MANY`] (loaded as `sha`) for
    /// the appends of `batch` that are no repeats.
    fn append_args<'a>(&'a self, sha: &'a str, batch: &'a [Append], repeats: &[Option<usize>]) -> AppendArgs<'a> {
        let sent: Vec<&Draft> = batch
            .iter()
            .zip(repeats)
            .filter(|(_, repeat)| repeat.is_none())
            .map(|(append, _)| &append.draft)
            .collect();
        AppendArgs {
            engine: self,
            sha,
            numbers: [self.retain.to_string(), random_id(), sent.len().to_string()],
            entries: sent
                .iter()
                .map(|d| entries::entry(&d.name, &d.origin, &d.scope, &d.payload))
                .collect(),
            sent,
        }
    }

    /// The results of a batch from the script's reply.
    fn appended(&self, reply: &str) -> Result<Vec<(Offset, bool)>, Unavailable> {
        let mut replies = reply.split(' ');
        let epoch = replies.next().unwrap_or_default();
        self.note_epoch(epoch);
        replies
            .map(|id| {
                let (id, new) = match id.strip_prefix('=') {
                    Some(seen) => (seen, false),
                    None => (id, true),
                };
                let offset = Offset::parse(id).ok_or_else(|| self.failed("XADD", format!("unexpected id {id}")))?;
                Ok((offset, new))
            })
            .collect()
    }
}

/// For each append of `batch`, the earlier append of the batch with the
/// same ref, if there is one: such a repeat is not sent to Redis, and is
/// answered with its first's offset, as stored before.
fn repeats(batch: &[Append]) -> Vec<Option<usize>> {
    let mut firsts = std::collections::HashMap::new();
    batch
        .iter()
        .enumerate()
        .map(|(i, append)| {
            let key = append.draft.idem.as_deref()?;
            match firsts.entry(key) {
                std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(i);
                    None
                }
            }
        })
        .collect()
}

/// Batches sent to Redis before the first of them is answered, at most.
const APPENDS_IN_FLIGHT: usize = 2;

/// The owned parts of an `EVAL` of [`APPEND_MANY`].
struct AppendArgs<'a> {
    engine: &'a RedisEngine,
    sha: &'a str,
    /// The events sent.
    sent: Vec<&'a Draft>,
    /// Retain, a new epoch, the number of events sent.
    numbers: [String; 3],
    /// The entry of each event sent.
    entries: Vec<String>,
}

impl AppendArgs<'_> {
    fn as_args(&self) -> Vec<&[u8]> {
        let e = self.engine;
        let mut args: Vec<&[u8]> = Vec::with_capacity(10 + 2 * self.sent.len());
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
        args.extend(self.sent.iter().map(|d| d.idem.as_deref().unwrap_or("").as_bytes()));
        args.extend(self.entries.iter().map(String::as_bytes));
        args
    }
}
