//! The relay as a whole: shared [`State`], the router, start, and the
//! graceful shutdown (SIGTERM or Ctrl-C: stop accepting, tell every
//! connection "going away" after its queued frames, then exit).

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State as Extract;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, EngineKind};
use crate::engine::memory::Memory;
use crate::engine::redis::RedisEngine;
use crate::engine::{random_id, Engine};
use crate::metrics::Metrics;
use crate::{conn, http};

/// Bytes a connection reads at most per system call (see [`upgrade`]).
const READ_BUFFER: usize = 512;

/// How long a shutdown waits for connections to close.
const GRACE: Duration = Duration::from_secs(10);

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
    /// `true` once shutting down.
    pub shutdown: watch::Sender<bool>,
}

impl State {
    /// Connects the engine.
    pub async fn new(config: Config) -> Result<Arc<State>, String> {
        let engine = match config.engine {
            EngineKind::Memory => Engine::Memory(Memory::new(config.retain)),
            EngineKind::Redis => {
                Engine::Redis(RedisEngine::connect(&config.redis_url, &config.stream_prefix, config.retain).await?)
            }
        };
        Ok(Arc::new(State {
            config,
            engine,
            metrics: Metrics::default(),
            instance: random_id(),
            next_connection: AtomicU64::new(1),
            shutdown: watch::Sender::new(false),
        }))
    }
}

/// The routes.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/v1/ws", get(upgrade))
        .route("/v1/events", post(http::post_events))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics))
        .with_state(state)
}

async fn upgrade(ws: WebSocketUpgrade, Extract(state): Extract<Arc<State>>) -> Response {
    // Frames up to twice the payload limit are read and refused politely
    // (`too-large`); larger ones close the connection with 1009.
    let limit = state.config.max_payload.saturating_mul(2).saturating_add(64 * 1024);
    // Most connections are idle most of the time, and the read buffer is
    // held for a connection's whole life: 512 bytes (tungstenite's default
    // is 128 KiB; 4 KiB took 30% of an idle connection's memory). A larger
    // frame grows it as needed; a busy connection reads 512 bytes per system
    // call, which the publish benchmark did not tell apart from 4 KiB.
    // Frames are written in batches up to 16 KiB, then flushed.
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| conn::serve(socket, state))
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully. Prints
/// `listening on ADDR` once bound (tests read it to find the port).
pub async fn serve(state: Arc<State>) -> Result<(), String> {
    let listener = TcpListener::bind(state.config.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", state.config.listen))?;
    let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    tracing::info!("kaiwa-relay listening on {addr}, engine {:?}", state.config.engine);
    let signal_state = state.clone();
    let stop = async move {
        terminated().await;
        tracing::info!("shutting down: no new connections, closing open ones with 1001 going away");
        signal_state.shutdown.send_replace(true);
    };
    let app = router(state.clone());
    let server = axum::serve(listener, app).with_graceful_shutdown(stop);
    // Connections close themselves on the shutdown signal (conn.rs); wait
    // for them to finish their close frames, but not for a client that
    // never reads: at most GRACE.
    let mut going = state.shutdown.subscribe();
    let grace = async {
        shutting_down(&mut going).await;
        tokio::time::sleep(GRACE).await;
    };
    let closed = async {
        server.await.map_err(|e| e.to_string())?;
        while state.metrics.connections.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    };
    tokio::select! {
        r = closed => r,
        _ = grace => Ok(()),
    }
}

/// Returns once the relay is shutting down.
pub async fn shutting_down(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|going| *going).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn terminated() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
