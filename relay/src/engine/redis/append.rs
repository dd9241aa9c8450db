//! The Redis engine's writing side: one task per instance stores the
//! publishes waiting in batches, one script call each (see the parent
//! module's "Writing").

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use super::{text_or_error, RedisEngine};
use crate::engine::{entries, random_id, resp, Appended, Draft, Idem, Stored, Unavailable, ENGINE_TIMEOUT};
use crate::event::Offset;
use crate::protocol::PRODUCER_WINDOW;

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
    done: oneshot::Sender<Result<Appended, Unavailable>>,
}

/// Stores a batch of events in one call: one epoch check for all of them,
/// then per event one `XADD` unless it was stored before, one `XTRIM`, and
/// the bookkeeping of what a retry must find: per batch, not per event, for
/// idempotent producers.
///
/// ## Producers (`producer` and `seq`)
///
/// The relay cuts the batch into runs: events of one producer with
/// consecutive seqs, one after the other in the batch. The script stores a
/// run's events one after the other, so they are consecutive entries of the
/// stream (nothing else runs meanwhile), and remembers the run as one
/// member of the producer's sorted set `{P}:seqs:<producer>`: score its
/// first seq, member `<first seq> <count> <id of its last entry>`. A
/// producer is a field of the producers hash, value its newest seq stored.
/// So a batch costs one `HMGET` of every producer in it, one `ZADD` per
/// producer that stored something and one `HSET` of them all, whatever the
/// number of events; per event, only its `XADD`.
///
/// A run whose first seq is above the producer's newest is new: stored
/// (the common case, no lookup). Otherwise each of its seqs is looked up: a
/// seq `PRODUCER_WINDOW` or more below the newest is stale; one in a run
/// remembered is answered with that run's entry (`ZREVRANGEBYSCORE` for the
/// run, `XREVRANGE` back from its last entry, once per run: retries only),
/// stale if the entry was trimmed; one in no run was never stored, and is
/// stored now. A producer's runs more than twice the window below its
/// newest are dropped as it passes each half window.
///
/// Producers live in two hashes, rolled as refs are (below): the field `""`
/// of each holds the newest id stored in it; when the current one holds
/// `min(retain, PRODUCER_WINDOW)` producers or more and the previous one's
/// newest id has been trimmed, the previous one is dropped with the runs of
/// every producer only it holds. So a producer is known at least as long
/// as its newest event is in the stream.
///
/// ## Refs (a publish without `producer`)
///
/// One `HMGET` per ref hash for every ref of the batch at once, then per
/// event `XADD` (or, for a ref seen before, `XRANGE` of its entry to check
/// it is still in the stream), and one `HSET` for the new refs.
///
/// Refs live in two hashes, the current one and the one before it. When the
/// current one holds `retain` refs or more, and the newest entry the
/// previous one points at has been trimmed from the stream (so none of its
/// refs counts any more), the previous one is dropped (`UNLINK`: freed in
/// the background) and the current one becomes the previous one. So a ref
/// counts exactly as long as its entry is in the stream, and Redis keeps
/// about two to three times `retain` refs, however long the stream lives.
/// The field `""` (never a ref: refs are `<length>:<user>:<ref>`) of each
/// hash holds the newest id stored in it. A ref in both hashes (stored
/// again after its entry was trimmed) is checked newest first.
///
/// ## Cost
///
/// Redis's time in this script goes mostly to moving arguments between
/// Lua and Redis and to each `redis.call` (measured with `INFO
/// commandstats`), so the script does no per-event work it can be spared:
/// - an entry is one field, `e`, made by the relay ([`entries::entry`]);
/// - a producer's events need no argument of their own (their run has
///   three), refs come as one block passed to both `HMGET`s as they are;
/// - a ref or seq repeated within a batch never reaches Redis: the relay
///   sends its first event only and answers the others with its offset;
/// - the stream is trimmed once per batch, the time stored is the id's.
///
/// `KEYS`: stream, epoch, current refs, previous refs, current producers,
/// previous producers. `ARGV`: retain, a new epoch, the number of events
/// `n`, of producers `np`, of refs `nr`, of runs `nu`, the window, the
/// prefix of the runs' keys; then the `np` producer fields, the `nr` ref
/// fields (empty for an event without a ref), three per run (the
/// producer's number from 1, its first seq, its count; producer 0: as many
/// events with the next refs), and the `n` entries.
/// Returns one string (one reply to parse, not one per event): the epoch,
/// then per event its id, prefixed with `=` when it was stored before, or
/// `!` for a stale seq, separated by spaces.
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
local retain = tonumber(ARGV[1])
local n, np, nr, nu = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local window, prefix = tonumber(ARGV[7]), ARGV[8]
local P = 8
local R = P + np
local U = R + nr
local e = U + 3 * nu
local seen
if nr > 0 then
  for k = 3, 4 do
    local got = call('HMGET', KEYS[k], unpack(ARGV, R + 1, R + nr))
    for j = 1, nr do
      if got[j] and ARGV[R + j] ~= '' then
        seen = seen or {}
        local list = seen[j] or {}
        seen[j] = list
        list[#list + 1] = got[j]
      end
    end
  end
end
local known, last = {}, {}
if np > 0 then
  local cur = call('HMGET', KEYS[5], unpack(ARGV, P + 1, P + np))
  local old
  for j = 1, np do
    local v = cur[j]
    if not v then
      old = old or call('HMGET', KEYS[6], unpack(ARGV, P + 1, P + np))
      v = old[j]
    end
    known[j] = tonumber(v) or 0
    last[j] = known[j]
  end
end
local function int(x) return string.format('%d', x) end
local runs = {}
-- What seq s of producer j got before: its id, false (stale), nil (never
-- stored; a seq stored earlier in this batch is no repeat: the relay
-- sends none).
local function before(j, s)
  if s + window <= last[j] then return false end
  local got = call('ZREVRANGEBYSCORE', prefix .. ARGV[P + j], int(s), '-inf', 'LIMIT', 0, 1)[1]
  if not got then return nil end
  local s0, c, id = string.match(got, '^(%d+) (%d+) (.+)$')
  s0, c = tonumber(s0), tonumber(c)
  if s >= s0 + c then return nil end
  local ids = runs[got]
  if not ids then
    ids = call('XREVRANGE', stream, id, '-', 'COUNT', c)
    runs[got] = ids
  end
  local k = s0 + c - s
  if ids[1] and ids[1][1] == id and ids[k] then return ids[k][1] end
  return false
end
local out = {epoch}
local o = 1
local adds = {}
local newest
-- Stores the c events from entry a on, of producer j's seqs from s0 on.
local function run(j, s0, c, a)
  for k = 1, c do
    out[o + k] = call('XADD', stream, '*', 'e', ARGV[a + k])
  end
  o = o + c
  newest = out[o]
  local list = adds[j] or {}
  adds[j] = list
  list[#list + 1] = int(s0)
  list[#list + 1] = string.format('%d %d %s', s0, c, newest)
  if s0 + c - 1 > last[j] then last[j] = s0 + c - 1 end
end
local new = {}
local m = 0
local r = R
for u = U + 1, U + 3 * nu, 3 do
  local j, s0, c = tonumber(ARGV[u]), tonumber(ARGV[u + 1]), tonumber(ARGV[u + 2])
  if j == 0 then
    for _ = 1, c do
      r = r + 1
      e = e + 1
      local id
      local list = seen and seen[r - R]
      if list then
        for _, old in ipairs(list) do
          if call('XRANGE', stream, old, old)[1] then
            id = old
            break
          end
        end
      end
      o = o + 1
      if id then
        out[o] = '=' .. id
      else
        id = call('XADD', stream, '*', 'e', ARGV[e])
        out[o] = id
        if ARGV[r] ~= '' then
          new[m + 1] = ARGV[r]
          new[m + 2] = id
          m = m + 2
        end
      end
    end
  else
    local k = 0
    while k < c and s0 + k <= last[j] do
      local id = before(j, s0 + k)
      if id == nil then
        run(j, s0 + k, 1, e + k)
      else
        o = o + 1
        out[o] = id and '=' .. id or '!'
      end
      k = k + 1
    end
    if k < c then run(j, s0 + k, c - k, e + k) end
    e = e + c
  end
end
call('XTRIM', stream, 'MAXLEN', '~', math.max(retain, n))
if m > 0 then
  if call('HLEN', KEYS[3]) >= retain then
    local kept = call('HGET', KEYS[4], '')
    if not kept or call('XRANGE', stream, kept, kept)[1] == nil then
      call('UNLINK', KEYS[4])
      call('RENAME', KEYS[3], KEYS[4])
    end
  end
  new[m + 1] = ''
  new[m + 2] = new[m]
  call('HSET', KEYS[3], unpack(new))
end
if newest then
  local save, saved = {}, {}
  local half = window / 2
  for j, list in pairs(adds) do
    local p = ARGV[P + j]
    call('ZADD', prefix .. p, unpack(list))
    if known[j] > 0 and math.floor(last[j] / half) > math.floor(known[j] / half) then
      call('ZREMRANGEBYSCORE', prefix .. p, '-inf', int(last[j] - 2 * window))
    end
    save[#save + 1] = p
    save[#save + 1] = int(last[j])
    saved[p] = true
  end
  if call('HLEN', KEYS[5]) >= math.min(retain, window) then
    local oldest = call('HGET', KEYS[6], '')
    if not oldest or call('XRANGE', stream, oldest, oldest)[1] == nil then
      for _, p in ipairs(call('HKEYS', KEYS[6])) do
        if p ~= '' and not saved[p] and call('HEXISTS', KEYS[5], p) == 0 then
          call('UNLINK', prefix .. p)
        end
      end
      call('UNLINK', KEYS[6])
      call('RENAME', KEYS[5], KEYS[6])
    end
  end
  save[#save + 1] = ''
  save[#save + 1] = newest
  call('HSET', KEYS[5], unpack(save))
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
                let batch = by_connection(batch);
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
    /// empty when `results` is an error) gets what its first got, not new.
    fn answer(&self, batch: Vec<Append>, repeats: &[Option<usize>], results: Result<Vec<Appended>, Unavailable>) {
        let mut sent = results.map(Vec::into_iter);
        let mut each: Vec<Result<Appended, Unavailable>> = Vec::with_capacity(batch.len());
        for i in 0..batch.len() {
            let result = match (repeats.get(i).copied().flatten(), &mut sent) {
                (Some(first), _) => each[first]
                    .clone()
                    .map(|first| first.offset().map_or(Appended::Stale, Appended::Before)),
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
        // Producers numbered from 1 in order of appearance; runs of one
        // producer's consecutive seqs, and of events going by ref (or
        // none), producer 0.
        let (mut producers, mut refs, mut runs) = (Vec::new(), Vec::new(), Vec::<(usize, u64, u64)>::new());
        let mut numbers = std::collections::HashMap::new();
        for d in &sent {
            let (j, seq) = match &d.idem {
                Some(Idem::Seq(key, seq)) => {
                    let j = *numbers.entry(key.as_str()).or_insert_with(|| {
                        producers.push(key.as_str());
                        producers.len()
                    });
                    (j, *seq)
                }
                idem => {
                    refs.push(match idem {
                        Some(Idem::Ref(key)) => key.as_str(),
                        _ => "",
                    });
                    (0, 0)
                }
            };
            match runs.last_mut() {
                Some((k, first, count)) if *k == j && (j == 0 || *first + *count == seq) => *count += 1,
                _ => runs.push((j, seq, 1)),
            }
        }
        let counts = [sent.len(), producers.len(), refs.len(), runs.len()];
        AppendArgs {
            engine: self,
            sha,
            numbers: [self.retain.to_string(), random_id()]
                .into_iter()
                .chain(counts.map(|c| c.to_string()))
                .chain([PRODUCER_WINDOW.to_string()])
                .collect(),
            producers,
            refs,
            runs: runs
                .iter()
                .flat_map(|(j, first, count)| [j.to_string(), first.to_string(), count.to_string()])
                .collect(),
            entries: sent
                .iter()
                .map(|d| entries::entry(&d.name, &d.origin, &d.scope, &d.payload))
                .collect(),
        }
    }

    /// The results of a batch from the script's reply.
    fn appended(&self, reply: &str) -> Result<Vec<Appended>, Unavailable> {
        let mut replies = reply.split(' ');
        let epoch = replies.next().unwrap_or_default();
        self.note_epoch(epoch);
        replies
            .map(|id| {
                if id == "!" {
                    return Ok(Appended::Stale);
                }
                let parse =
                    |id: &str| Offset::parse(id).ok_or_else(|| self.failed("XADD", format!("unexpected id {id}")));
                Ok(match id.strip_prefix('=') {
                    Some(seen) => Appended::Before(parse(seen)?),
                    None => Appended::New(parse(id)?),
                })
            })
            .collect()
    }
}

/// `batch` with each connection's appends together, in their order, the
/// connections in the order of their first append. A connection's events
/// keep their order (two connections' never had one), and a producer's
/// consecutive seqs make one run, one member of its sorted set (see
/// [`APPEND_MANY`]), however the connections' tasks took turns submitting.
/// Two tokio workers submitting at once (on a machine with a core to spare)
/// take turns event by event: the script cost Redis 5.4 µs a publish with
/// runs of one event, against 2.2-2.3 with long runs (docs/relay-benchmarks.md).
fn by_connection(batch: Vec<Append>) -> Vec<Append> {
    let mut firsts = std::collections::HashMap::new();
    let order: Vec<usize> = batch
        .iter()
        .enumerate()
        .map(|(i, append)| *firsts.entry(append.draft.origin.as_str()).or_insert(i))
        .collect();
    let mut keyed: Vec<(usize, Append)> = order.into_iter().zip(batch).collect();
    keyed.sort_by_key(|(first, _)| *first);
    keyed.into_iter().map(|(_, append)| append).collect()
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
            let key = append.draft.idem.as_ref()?;
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
    /// Retain, a new epoch, the number of events sent, of producers, of
    /// refs, of runs, the producer window.
    numbers: Vec<String>,
    /// The producer field of each producer, in number order.
    producers: Vec<&'a str>,
    /// The ref field of each event of producer 0 (empty without a ref).
    refs: Vec<&'a str>,
    /// Three per run: producer number, first seq, count.
    runs: Vec<String>,
    /// The entry of each event sent.
    entries: Vec<String>,
}

impl AppendArgs<'_> {
    fn as_args(&self) -> Vec<&[u8]> {
        let e = self.engine;
        let mut args: Vec<&[u8]> =
            Vec::with_capacity(20 + self.producers.len() + self.refs.len() + self.runs.len() + self.entries.len());
        args.extend([
            &b"EVALSHA"[..],
            self.sha.as_bytes(),
            b"6",
            e.stream.as_bytes(),
            e.epoch_key.as_bytes(),
            e.refs_key.as_bytes(),
            e.old_refs_key.as_bytes(),
            e.producers_key.as_bytes(),
            e.old_producers_key.as_bytes(),
        ]);
        args.extend(self.numbers.iter().map(String::as_bytes));
        args.push(e.runs_prefix.as_bytes());
        args.extend(self.producers.iter().map(|p| p.as_bytes()));
        args.extend(self.refs.iter().map(|r| r.as_bytes()));
        args.extend(self.runs.iter().map(String::as_bytes));
        args.extend(self.entries.iter().map(String::as_bytes));
        args
    }
}

#[cfg(test)]
#[path = "append_tests.rs"]
mod tests;
