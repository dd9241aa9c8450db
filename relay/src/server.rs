//! The relay as a whole: shared [`State`], the router, start, and the
//! graceful shutdown (SIGTERM or Ctrl-C: stop accepting, tell every
//! connection "going away" after its queued frames, then exit).

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, EngineKind};
use crate::engine::memory::Memory;
use crate::engine::redis::RedisEngine;
use crate::engine::{random_id, Engine};
use crate::metrics::Metrics;
use crate::{http, upgrade};

/// How long a shutdown waits for connections to close.
const GRACE: Duration = Duration::from_secs(10);

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
    pub engine: Engine,
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
}

impl State {
    /// Connects the engine.
    pub async fn new(config: Config) -> Result<Arc<State>, String> {
        let engine = match config.engine {
            EngineKind::Memory => Engine::Memory(Memory::new(config.retain)),
            EngineKind::Redis => {
                let ca = match &config.redis_ca {
                    Some(path) => Some(std::fs::read(path).map_err(|e| format!("--redis-ca {}: {e}", path.display()))?),
                    None => None,
                };
                let engine =
                    RedisEngine::connect(&config.redis_url, ca.as_deref(), &config.stream_prefix, config.retain);
                Engine::Redis(engine.await?)
            }
        };
        Ok(Arc::new(State {
            config,
            engine,
            metrics: Metrics::default(),
            instance: random_id(),
            next_connection: AtomicU64::new(1),
            signal: watch::Sender::new(Signal::default()),
            open: AtomicUsize::new(0),
        }))
    }
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
    tracing::info!("kaiwa-relay listening on {addr}, engine {:?}", state.config.engine);
    let app = router(state.clone());
    let clock = tokio::spawn(ping_clock(state.clone()));
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    tokio::spawn(upgrade::connection(tcp, state.clone(), app.clone()));
                }
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
