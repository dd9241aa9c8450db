//! The relay as a whole: shared [`State`], the router, start, admission
//! (the caps on open connections), and the graceful shutdown (SIGTERM or
//! Ctrl-C: stop accepting, tell every connection "going away" after its
//! queued frames, then exit).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::config::Config;
use crate::engine::{self, random_id, Engine};
use crate::metrics::{Metrics, Turned};
use crate::users::Users;
use crate::{http, upgrade};

/// How long a shutdown waits for connections to close.
const GRACE: Duration = Duration::from_secs(10);

/// Descriptors kept for what is not a client connection: the listener,
/// Redis connections, logs, and the sockets being refused.
const RESERVED_FDS: usize = 128;

/// Refused connections answered at once at most; beyond that a refused
/// connection is closed without an answer (each answer holds a descriptor
/// for up to [`REFUSAL_TIME`]).
const MAX_REFUSING: usize = 64;
const REFUSAL_TIME: Duration = Duration::from_secs(1);

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
    addresses: Mutex<HashMap<IpAddr, usize>>,
    /// Refused connections being answered.
    refusing: AtomicUsize,
    /// When a refusal by address was last logged (ms since the epoch).
    warned: AtomicU64,
    /// The limits per user.
    pub users: Users,
}

impl State {
    /// Connects the engine.
    pub async fn new(config: Config) -> Result<Arc<State>, String> {
        let engine = engine::open(&config).await?;
        Ok(Arc::new(State {
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

/// Answers a connection that a cap refused (503 or 429, with why) and
/// closes it, or just closes it when many are being answered already.
fn refuse(mut tcp: TcpStream, peer: IpAddr, why: Turned, state: &Arc<State>) {
    state.metrics.refused_connection(why);
    let (status, message) = match why {
        Turned::Address => {
            let per_address = state.config.max_connections_per_address;
            let (now, last) = (crate::event::now_ms(), state.warned.load(Relaxed));
            // At most one warning every 10 s, however many refusals.
            if now.saturating_sub(last) > 10_000 && state.warned.compare_exchange(last, now, Relaxed, Relaxed).is_ok() {
                tracing::warn!(
                    "refused a connection from {peer}: {per_address} are open from that address \
                     (--max-connections-per-address; behind a proxy every client has the proxy's address)"
                );
            }
            (
                "429 Too Many Requests",
                format!(
                    "{per_address} connections are open from your address, the most this relay allows; retry later"
                ),
            )
        }
        _ => (
            "503 Service Unavailable",
            format!(
                "this relay has {} connections open, the most it allows; retry later",
                state.max_connections
            ),
        ),
    };
    if state.refusing.fetch_add(1, Relaxed) >= MAX_REFUSING {
        state.refusing.fetch_sub(1, Relaxed);
        return;
    }
    let body = serde_json::json!({ "error": message }).to_string();
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let state = state.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let answered = async {
            tcp.write_all(answer.as_bytes()).await?;
            tcp.shutdown().await?;
            // Read what the client sent until it closes, so that closing does
            // not reset the connection before the client read the answer.
            let mut sink = [0u8; 1024];
            while tcp.read(&mut sink).await? > 0 {}
            Ok::<(), std::io::Error>(())
        };
        let _ = tokio::time::timeout(REFUSAL_TIME, answered).await;
        state.refusing.fetch_sub(1, Relaxed);
    });
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

/// The routes, but for the WebSocket upgrade on `/v1/ws` (see `upgrade.rs`).
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/events", post(http::post_events))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics))
        .with_state(state)
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully. Prints
/// `listening on ADDR` once bound (tests read it to find the port).
pub async fn serve(state: Arc<State>) -> Result<(), String> {
    let listener = TcpListener::bind(state.config.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", state.config.listen))?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut stop = std::pin::pin!(terminated());
    println!("listening on {addr}");
    tracing::info!(
        "kaiwa-relay listening on {addr}, engine {:?}, at most {} connections",
        state.config.engine,
        state.max_connections
    );
    if !state.config.origins.is_set() && !state.config.insecure_dev {
        tracing::info!("no --allow-origin: pages of any web origin may connect with a token");
    }
    let app = router(state.clone());
    let clock = tokio::spawn(ping_clock(state.clone()));
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => match state.admit(peer.ip()) {
                    Ok(slot) => {
                        tokio::spawn(upgrade::connection(tcp, slot, app.clone()));
                    }
                    Err(why) => refuse(tcp, peer.ip(), why, &state),
                },
                Err(e) => {
                    // Out of file descriptors, most likely: let some close.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections, closing open ones with 1001 going away");
    state.signal.send_modify(|s| s.going = true);
    clock.abort();
    // Connections close themselves on the shutdown signal (conn.rs,
    // upgrade.rs); wait for them to finish their close frames, but not for
    // a client that never reads: at most GRACE.
    let closed = async {
        while state.open.load(Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let _ = tokio::time::timeout(GRACE, closed).await;
    Ok(())
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

/// Ticks every `--ping-interval` (never with 0): one timer for the whole
/// relay rather than one per connection.
async fn ping_clock(state: Arc<State>) {
    let every = state.config.ping_interval;
    if every.is_zero() {
        return;
    }
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        state.signal.send_modify(|s| s.tick += 1);
    }
}

/// SIGTERM or Ctrl-C. The handlers are installed here, before the future
/// is first polled: a SIGTERM right after `listening on` must not find the
/// default action (exit at once) still in place.
fn terminated() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => std::future::pending().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
