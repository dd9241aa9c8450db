//! The relay as a whole: the router, start, refusing what the caps turn
//! away, and the graceful shutdown (SIGTERM or Ctrl-C: stop accepting, tell
//! every connection "going away" after its queued frames, then exit). What
//! connections share is [`crate::state`].

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::{TcpListener, TcpStream};

use crate::metrics::Turned;
use crate::state::{StartError, State};
use crate::{http, upgrade};

/// How long a shutdown waits for connections to close.
const GRACE: Duration = Duration::from_secs(10);

/// Refused connections answered at once at most; beyond that a refused
/// connection is closed without an answer (each answer holds a descriptor
/// for up to [`REFUSAL_TIME`]).
const MAX_REFUSING: usize = 64;
const REFUSAL_TIME: Duration = Duration::from_secs(1);

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
pub async fn serve(state: Arc<State>) -> Result<(), StartError> {
    let listen = |e| StartError::Listen(state.config.listen, e);
    let listener = TcpListener::bind(state.config.listen).await.map_err(listen)?;
    let addr: SocketAddr = listener.local_addr().map_err(listen)?;
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
