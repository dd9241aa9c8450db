//! What every connection and request shares ([`State`]): the
//! configuration, the engine, the counters, the shutdown and ping signal,
//! and admission (the caps on open connections, [`State::admit`]). Below
//! every module that serves a connection, so that none of them needs
//! `server`, which starts them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::config::Config;
use crate::engine::{self, random_id, Engine};
use crate::lane::Lanes;
use crate::metrics::{Metrics, Turned};
use crate::users::Users;

/// Descriptors kept for what is not a client connection: the listener,
/// Redis connections, logs, and the sockets being refused.
const RESERVED_FDS: usize = 128;

/// Why the relay cannot start.
#[derive(Debug)]
pub enum StartError {
    /// A file a flag names cannot be read: the flag, the file, why.
    Read(&'static str, std::path::PathBuf, std::io::Error),
    /// The engine cannot start (Redis unreachable, refused the login...), in the engine's words.
    Engine(crate::engine::redis::ConnectError),
    /// `--listen` cannot be bound.
    Listen(std::net::SocketAddr, std::io::Error),
    /// `--fanout-writes io-uring`, where io_uring is refused.
    Fanout(std::io::Error),
}

impl StartError {
    /// The file of `flag` at `path` cannot be read.
    pub fn read(flag: &'static str, path: &std::path::Path, e: std::io::Error) -> StartError {
        StartError::Read(flag, path.to_path_buf(), e)
    }
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            StartError::Read(flag, path, e) => write!(f, "{flag} {}: {e}", path.display()),
            StartError::Engine(why) => write!(f, "{why}"),
            StartError::Listen(addr, e) => write!(f, "--listen {addr}: {e}"),
            StartError::Fanout(e) => write!(f, "--fanout-writes io-uring: io_uring refused here ({e})"),
        }
    }
}

impl std::error::Error for StartError {}

/// What every connection watches: one channel, so that an idle connection
/// waits on one future for both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signal {
    /// `true` once shutting down.
    pub going: bool,
    /// Ticks of the ping clock (`--ping-interval`) so far.
    pub tick: u64,
}

/// What every connection and request shares.
#[derive(Debug)]
pub struct State {
    /// The configuration.
    pub config: Config,
    /// The engine.
    pub engine: Arc<dyn Engine>,
    /// The counters.
    pub metrics: Metrics,
    /// This instance's id (part of each connection's origin).
    pub instance: String,
    /// The next connection number.
    pub next_connection: AtomicU64,
    /// The shutdown and the ping clock, which every connection watches.
    pub signal: watch::Sender<Signal>,
    /// Tasks serving a TCP connection (HTTP or WebSocket).
    pub open: AtomicUsize,
    /// `--max-connections`, lowered to what the descriptor limit allows.
    pub max_connections: usize,
    /// Open connections per client address (with `--max-connections-per-address`).
    pub(crate) addresses: Mutex<HashMap<IpAddr, usize>>,
    /// Refused connections being answered.
    pub(crate) refusing: AtomicUsize,
    /// When a refusal by address was last logged (ms since the epoch).
    pub(crate) warned: AtomicU64,
    /// The limits per user.
    pub users: Users,
    /// The connections the hub's fan-out writes to directly (see `lane.rs`).
    pub lanes: Arc<Lanes>,
}

/// What reading the log needs of the relay ([`crate::feed::Feed::catch_up`]).
impl AsRef<dyn Engine> for State {
    fn as_ref(&self) -> &(dyn Engine + 'static) {
        &*self.engine
    }
}

impl State {
    /// Connects the engine.
    pub async fn new(config: Config) -> Result<Arc<State>, StartError> {
        let ca = match &config.redis_ca {
            Some(path) => Some(std::fs::read(path).map_err(|e| StartError::read("--redis-ca", path, e))?),
            None => None,
        };
        let engine = engine::open(&config, ca.as_deref()).await.map_err(StartError::Engine)?;
        let (lanes, writes) = Lanes::new(config.fanout_writes).map_err(StartError::Fanout)?;
        tracing::info!("{writes}");
        let lanes = Arc::new(lanes);
        engine.hub().set_fanout(lanes.clone());
        Ok(Arc::new(State {
            lanes,
            max_connections: descriptors(config.max_connections),
            users: Users::new(config.user_rate, config.max_connections_per_user),
            config,
            engine,
            metrics: Metrics::default(),
            instance: random_id(),
            next_connection: AtomicU64::new(1),
            signal: watch::Sender::new(Signal::default()),
            open: AtomicUsize::new(0),
            addresses: Mutex::new(HashMap::new()),
            refusing: AtomicUsize::new(0),
            warned: AtomicU64::new(0),
        }))
    }

    /// Admits a connection from `peer` under the caps, or says which cap refused it.
    pub fn admit(self: &Arc<State>, peer: IpAddr) -> Result<Slot, Turned> {
        let max = self.max_connections;
        self.open
            .fetch_update(Relaxed, Relaxed, |n| (n < max).then_some(n + 1))
            .map_err(|_| Turned::Process)?;
        let mut slot = Slot {
            state: self.clone(),
            peer: None,
        };
        let per_address = self.config.max_connections_per_address;
        if per_address == 0 {
            return Ok(slot);
        }
        let mut addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        let open = addresses.entry(peer).or_insert(0);
        if *open >= per_address {
            // (Dropping the slot does not take this lock: it has no peer yet.)
            return Err(Turned::Address);
        }
        *open += 1;
        slot.peer = Some(peer);
        Ok(slot)
    }
}

/// A connection admitted by [`State::admit`]: counted while it lives.
#[derive(Debug)]
pub struct Slot {
    /// The relay.
    pub state: Arc<State>,
    /// Its address, when counted by address.
    peer: Option<IpAddr>,
}

/// A connection's slot stands for the relay (its connection's state holds
/// the slot rather than a second reference to the relay).
impl std::ops::Deref for Slot {
    type Target = Arc<State>;

    fn deref(&self) -> &Arc<State> {
        &self.state
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(peer) = self.peer {
            let mut addresses = self.state.addresses.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(open) = addresses.get_mut(&peer) {
                *open -= 1;
                if *open == 0 {
                    addresses.remove(&peer);
                }
            }
        }
        self.state.open.fetch_sub(1, Relaxed);
    }
}

/// `--max-connections` (0: none) as far as the descriptor limit allows:
/// raises the soft limit (`ulimit -n`) toward the hard one if needed, and
/// warns when even that is too low.
fn descriptors(wanted: usize) -> usize {
    let wanted = if wanted == 0 { usize::MAX } else { wanted };
    let Some(limit) = raise_descriptor_limit(wanted.saturating_add(RESERVED_FDS)) else {
        return wanted;
    };
    let allowed = limit.saturating_sub(RESERVED_FDS).max(1);
    if allowed < wanted {
        if wanted != usize::MAX {
            tracing::warn!(
                "the descriptor limit ({limit}) allows {allowed} connections, not --max-connections {wanted}: \
                 serving at most {allowed}; raise it (ulimit -n, LimitNOFILE=) to serve more"
            );
        }
        return allowed;
    }
    wanted
}

/// Raises the soft descriptor limit to `wanted` (at most the hard limit);
/// the soft limit now, or `None` where it is not known.
#[cfg(unix)]
fn raise_descriptor_limit(wanted: usize) -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let wanted = libc::rlim_t::try_from(wanted).unwrap_or(libc::rlim_t::MAX);
        if limit.rlim_cur < wanted && limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: wanted.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX))
}

#[cfg(not(unix))]
fn raise_descriptor_limit(_wanted: usize) -> Option<usize> {
    None
}

/// Returns once the relay is shutting down.
pub async fn shutting_down(rx: &mut watch::Receiver<Signal>) {
    if rx.wait_for(|s| s.going).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The next signal after the one `rx` saw last.
pub async fn signalled(rx: &mut watch::Receiver<Signal>) -> Signal {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
    *rx.borrow_and_update()
}
