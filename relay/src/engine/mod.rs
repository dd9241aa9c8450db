//! Engines store events and fan them out to this instance's connections.
//! Each is a module here implementing [`Engine`] (the seam: the rest of
//! the relay holds an `Arc<dyn Engine>` made by [`open`]): [`memory`] and
//! [`redis`]; relay/tests/conformance.rs runs the same tests on each.
//!
//! Every engine feeds one [`Hub`]: a bounded `tokio::sync::broadcast` of
//! stored events in offset order, plus the newest offset sent through it.
//! A connection subscribes to the hub and learns the head offset in one
//! step, so it knows exactly which events the hub will bring it and which it
//! must read from the log ([`Engine::read_after`]).
//!
//! ## Lagging
//!
//! The broadcast holds [`HUB_CAPACITY`] events. A connection task that falls
//! further behind gets `RecvError::Lagged` and reads what it missed from the
//! log instead of dropping it (see `feed.rs`).
//!
//! ## Gaps
//!
//! The Redis engine's reader may find that entries were trimmed before it
//! read them (the instance stalled, Redis came back slowly, another relay
//! took a burst larger than `--retain`). It then sends [`Fed::Gap`] before
//! the events it read next, and every connection that has not dealt with
//! those events yet closes with 4008: its client resumes, and the resume
//! says `recovered: false` for what is gone. Never a silent gap.

mod entries;
pub mod memory;
pub mod redis;
mod resp;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::config::{Config, EngineKind};
use crate::event::{Event, Offset, Scope};

/// Events the hub keeps for connections that are behind: a few of the
/// Redis reader's batches (1,000 entries), so a burst read at once does
/// not send every connection to the log.
pub const HUB_CAPACITY: usize = 4096;

/// How long an engine call may take before it counts as unavailable.
pub const ENGINE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the hub carries, in offset order.
#[derive(Debug, Clone)]
pub enum Fed {
    /// A stored event.
    Event(Arc<Event>),
    /// Events stored before this offset (and after the one sent before it)
    /// may never come through the hub: they were trimmed before the
    /// engine read them.
    Gap(Offset),
}

/// Where the hub hands every batch of events and every gap after its
/// receivers: the direct fan-out (`lane.rs`), which lives above the engines
/// (it reads the feed, which reads the engine) and is set by [`Hub::set_fanout`].
pub trait Direct: Send + Sync + std::fmt::Debug {
    /// Stored events, in offset order.
    fn deliver(&self, events: &[Arc<Event>]);
    /// See [`Fed::Gap`].
    fn gap(&self, next: Offset);
}

/// The fan-out of stored events inside one instance.
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Fed>,
    head: Mutex<Offset>,
    /// The connections the fan-out writes to directly (see `lane.rs`).
    fanout: OnceLock<Arc<dyn Direct>>,
    /// Whether connections hand their sockets to the fan-out when idle.
    pub direct: bool,
}

impl Hub {
    /// A hub whose head is `head`. With `direct`, the fan-out writes to
    /// idle connections' sockets itself; that pays when events come in
    /// batches (the Redis reader hands over a whole read). The memory
    /// engine fans out one event at a time from the publishing connection,
    /// where the connections' own tasks, writing many events at once under
    /// load, deliver several times more at saturation.
    pub fn new(head: Offset, direct: bool) -> Hub {
        Hub {
            tx: broadcast::channel(HUB_CAPACITY).0,
            head: Mutex::new(head),
            fanout: OnceLock::new(),
            direct,
        }
    }

    /// Sets where events go after the receivers (once; the relay's start does).
    pub fn set_fanout(&self, fanout: Arc<dyn Direct>) {
        let _ = self.fanout.set(fanout);
    }

    /// Sends a stored event to every subscriber; events must come in offset order.
    pub fn send(&self, event: Arc<Event>) {
        self.send_all(std::slice::from_ref(&event));
    }

    /// Sends stored events, in offset order: to every subscriber's
    /// receiver first, then to the direct connections, in bursts (see `lane.rs`).
    pub fn send_all(&self, events: &[Arc<Event>]) {
        let mut head = self.head.lock().unwrap_or_else(|e| e.into_inner());
        for event in events {
            if event.offset > *head {
                *head = event.offset;
            }
            let _ = self.tx.send(Fed::Event(event.clone()));
        }
        drop(head);
        if let Some(fanout) = self.fanout.get() {
            fanout.deliver(events);
        }
    }

    /// Says that events before `next` (the next one it will send) may be
    /// missing: see [`Fed::Gap`].
    pub fn gap(&self, next: Offset) {
        let _ = self.tx.send(Fed::Gap(next));
        if let Some(fanout) = self.fanout.get() {
            fanout.gap(next);
        }
    }

    /// A receiver of every event after the returned head offset.
    pub fn subscribe(&self) -> (broadcast::Receiver<Fed>, Offset) {
        let head = self.head.lock().unwrap_or_else(|e| e.into_inner());
        (self.tx.subscribe(), *head)
    }

    /// The newest offset sent.
    pub fn head(&self) -> Offset {
        *self.head.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An event to store.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Its name.
    pub name: String,
    /// Its payload, JSON text.
    pub payload: String,
    /// Who receives it.
    pub scope: Scope,
    /// The publishing connection, `instance/connection` ("" for HTTP).
    pub origin: String,
    /// What makes a retry of it the same publish, if anything.
    pub idem: Option<Idem>,
}

/// What identifies a publish across retries, within its user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Idem {
    /// `<length of user>:<user>:<ref>`: a ref, looked up per event.
    Ref(String),
    /// `<length of user>:<user>:<producer>` and the producer's `seq`:
    /// checked once per producer per batch (see `redis/append.rs`).
    Seq(String, u64),
}

/// What became of an event handed to the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored now, at this offset.
    New(Offset),
    /// Stored before under the same ref or producer `seq`, at this offset.
    Before(Offset),
    /// Its producer's `seq` is older than the window kept
    /// ([`crate::protocol::PRODUCER_WINDOW`]), or its event was trimmed:
    /// not stored again, offset no longer known.
    Stale,
}

impl Appended {
    /// The offset, if known.
    pub fn offset(self) -> Option<Offset> {
        match self {
            Appended::New(o) | Appended::Before(o) => Some(o),
            Appended::Stale => None,
        }
    }
}

/// A future an engine returns: boxed, so that [`Engine`] can be used as
/// `dyn Engine` (one allocation per call; the fan-out calls none).
pub type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What [`Engine::submit`] promises.
pub type Stored = Boxed<'static, Result<Appended, Unavailable>>;

/// What [`Engine::submit_all`] promises: for each event, in order, what
/// [`Stored`] promises for one.
pub type StoredAll = Boxed<'static, Vec<Result<Appended, Unavailable>>>;

/// The engine cannot answer now.
#[derive(Debug, Clone, PartialEq)]
pub struct Unavailable(pub String);

/// Where events are stored: one log in offset order, with an epoch, a
/// bounded length, idempotency keys, and a [`Hub`] that brings every event
/// stored (by this instance or any other sharing the log) to this
/// instance's connections. The relay only ever holds an `Arc<dyn Engine>`
/// ([`open`] makes it); every engine passes the conformance suite
/// (relay/tests/conformance.rs).
///
/// As Centrifuge's `Broker` (Publish, History, Subscribe, StreamPosition):
/// [`submit`](Engine::submit) appends one event and [`submit_all`](Engine::submit_all)
/// a batch (an engine may store what is submitted in batches of its own,
/// as the Redis engine does), [`read_after`](Engine::read_after)
/// reads from an offset, [`hub`](Engine::hub) follows, [`epoch`](Engine::epoch)
/// tells a lost log from a kept one, and [`can_resume`](Engine::can_resume)
/// says whether anything after an offset has been trimmed.
pub trait Engine: Send + Sync + std::fmt::Debug {
    /// The hub of stored events, in offset order: every event stored after
    /// [`Hub::subscribe`] comes through it (or a [`Fed::Gap`] says it may not).
    fn hub(&self) -> &Hub;

    /// The log's epoch: it changes when the log is lost.
    fn epoch(&self) -> String;

    /// Hands an event to the engine and returns a future of what became of
    /// it ([`Appended`]: stored now, stored before with the same
    /// idempotency key, or a stale producer `seq`). Events are stored in the order of `submit` calls
    /// (awaiting the returned future is not needed for that), so a
    /// connection can have many publishes in flight and keep their order.
    fn submit(&self, draft: Draft) -> Boxed<'_, Stored>;

    /// Hands several events to the engine at once, for publishes that are
    /// ready together (the items of one `POST /v1/events`): as
    /// [`submit`](Engine::submit) of each in turn (stored in this order,
    /// and after everything submitted before), with one future for all of
    /// their results, in the same order. A repeated idempotency key within
    /// the batch gets its first event's offset. The default submits each
    /// (the Redis engine's appender then stores them in one script call,
    /// or a few when it was already taking what waits); an engine may do
    /// better: the memory engine stores them under one lock and hands them
    /// to the hub at once.
    fn submit_all(&self, drafts: Vec<Draft>) -> Boxed<'_, StoredAll> {
        Box::pin(submit_each(self, drafts))
    }

    /// Up to `count` stored events after `after`, oldest first.
    fn read_after(&self, after: Offset, count: usize) -> Boxed<'_, Result<Vec<Arc<Event>>, Unavailable>>;

    /// Whether every event after `offset` of `epoch` is still stored
    /// (nothing after it was trimmed, and the log is the same). An engine
    /// may answer `false` when it cannot tell, never `true` wrongly.
    fn can_resume<'a>(&'a self, epoch: &'a str, offset: Offset) -> Boxed<'a, Result<bool, Unavailable>>;

    /// Whether the engine answers now.
    fn healthy(&self) -> Boxed<'_, bool>;

    /// Engine errors seen so far (connection losses, timeouts).
    fn errors(&self) -> u64 {
        0
    }

    /// Times the engine's reader found events trimmed before it read them
    /// (see [`Fed::Gap`]).
    fn gaps(&self) -> u64 {
        0
    }
}

/// [`Engine::submit`] of each draft in turn; one future for all results.
async fn submit_each<E: Engine + ?Sized>(engine: &E, drafts: Vec<Draft>) -> StoredAll {
    let mut stored = Vec::with_capacity(drafts.len());
    for draft in drafts {
        stored.push(engine.submit(draft).await);
    }
    Box::pin(futures_util::future::join_all(stored))
}

impl dyn Engine {
    /// Stores an event (or finds the one stored before with the same
    /// idempotency key) and says which ([`Appended`]).
    pub async fn append(&self, draft: Draft) -> Result<Appended, Unavailable> {
        self.submit(draft).await.await
    }

    /// [`append`](Self::append) of several events at once, in order (see
    /// [`Engine::submit_all`]): each one's result, in the same order.
    pub async fn append_all(&self, drafts: Vec<Draft>) -> Vec<Result<Appended, Unavailable>> {
        self.submit_all(drafts).await.await
    }
}

/// The engine `config` asks for (`--engine`), connected; `ca`: the PEM
/// file of `--redis-ca`, read. A new engine is a module of this folder that
/// implements [`Engine`], and its arm here.
pub async fn open(config: &Config, ca: Option<&[u8]>) -> Result<Arc<dyn Engine>, redis::ConnectError> {
    Ok(match config.engine {
        EngineKind::Memory => Arc::new(memory::Memory::new(config.retain)),
        EngineKind::Redis => {
            redis::RedisEngine::connect(&config.redis_url, ca, &config.stream_prefix, config.retain).await?
        }
    })
}

/// A random hex string (for epochs and instance ids), from the standard
/// library's randomly seeded hasher: unique, not secret.
pub fn random_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::event::now_ms());
    let a = h.finish();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}
