//! Accepting connections: HTTP/1.1 by hyper, and the WebSocket upgrade on
//! `/v1/ws` done here rather than by axum's `WebSocketUpgrade`.
//!
//! Why: memory per idle connection. axum upgrades in a second task that
//! waits for hyper to hand over the socket, boxed behind `dyn Io`; here one
//! task serves a TCP connection from accept to close: first hyper's HTTP/1
//! connection (boxed, and freed once it ends), then, when it answered `101`,
//! the same socket as a WebSocket with the bytes hyper read past the request,
//! and the connection's own future (`conn.rs`). Every other path goes to the
//! axum router (see `server.rs`). HTTP/2 is not served (no client of the
//! relay needs it; browsers open WebSockets over HTTP/1.1).
//!
//! ## Slow and idle clients
//!
//! While a connection speaks HTTP, a request's head must arrive within
//! `--header-timeout` of the connection's start or of the previous answer
//! (so a kept-alive connection idle that long is closed too), a request's
//! body within `--idle-timeout` (`http.rs`), and a connection whose answer
//! the client has not read for `--idle-timeout` is closed. Every
//! request with an `Origin` header is checked against `--allow-origin`
//! first (see `origin.rs`): a refused one is answered 403, the upgrade
//! included.

use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Version};
use axum::Router;
use futures_util::future::{BoxFuture, Either};
use futures_util::{Future, FutureExt};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tower_service::Service as _;

use crate::conn;
use crate::lane::Lane;
use crate::metrics::Turned;
use crate::state::{shutting_down, Slot, State};

/// The WebSocket path.
pub const WS_PATH: &str = "/v1/ws";

/// Serves one accepted TCP connection until it closes; the slot counts it
/// in the caps while it lives (and a shutdown waits for it).
///
/// The HTTP part is boxed: the task holds its room only while it lives.
/// Then the WebSocket connection's future is the task's whole state (not an
/// `async fn`: its arguments would keep their room in the task for the
/// connection's whole life).
pub fn connection(tcp: TcpStream, slot: Slot, router: Router) -> impl Future<Output = ()> + Send {
    let _ = tcp.set_nodelay(true);
    let upgrade = Box::pin(async move {
        let upgraded = http(tcp, &slot, router).await;
        upgraded.map(|(tcp, read)| (tcp, read, slot))
    });
    upgrade.then(|upgraded| match upgraded {
        None => Either::Left(std::future::ready(())),
        Some((tcp, read, slot)) => {
            let id = slot.next_connection.fetch_add(1, Relaxed);
            let lane = Lane::new(tcp, format!("{}/{id}", slot.instance));
            Either::Right(conn::serve(read, lane, id, slot))
        }
    })
}

/// Serves HTTP until the connection closes, or until it answered a
/// WebSocket upgrade: then the socket and the bytes read past the request.
async fn http(tcp: TcpStream, state: &Arc<State>, router: Router) -> Option<(TcpStream, Vec<u8>)> {
    let upgraded = Arc::new(AtomicBool::new(false));
    let service = Http {
        router,
        state: state.clone(),
        upgraded: upgraded.clone(),
    };
    let start = Instant::now();
    let stalled = AtomicU64::new(NOT_STALLED);
    let io = Watched {
        tcp,
        start,
        stalled: &stalled,
    };
    let mut http = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout)
        .serve_connection(TokioIo::new(io), service);
    let mut going = state.signal.subscribe();
    let mut draining = false;
    let idle = state.config.idle_timeout;
    let stalled_since = || match stalled.load(Relaxed) {
        NOT_STALLED => None,
        ms => Some(start + Duration::from_millis(ms)),
    };
    let served = loop {
        tokio::select! {
            served = poll_fn(|cx| http.poll_without_shutdown(cx)) => break served,
            () = shutting_down(&mut going), if !draining => {
                // Finish the request in progress, then close.
                std::pin::Pin::new(&mut http).graceful_shutdown();
                draining = true;
            }
            () = tokio::time::sleep(idle) => {
                // Checked every interval: cut off at most two after the stall began.
                if stalled_since().is_some_and(|since| since + idle <= Instant::now()) {
                    state.metrics.http_timeouts.fetch_add(1, Relaxed);
                    return None;
                }
            }
        }
    };
    if let Err(e) = &served {
        if e.is_timeout() {
            state.metrics.http_timeouts.fetch_add(1, Relaxed);
        }
    }
    if served.is_err() || !upgraded.load(Relaxed) {
        return None;
    }
    let parts = http.into_parts();
    // Copied: `read_buf` is a slice of hyper's 8 KiB read buffer (usually
    // empty: a client waits for the `101` before it sends frames).
    Some((parts.io.into_inner().tcp, parts.read_buf.to_vec()))
}

/// [`Watched::stalled`] while writes go through.
const NOT_STALLED: u64 = u64::MAX;

/// The socket while it speaks HTTP, noting since when (ms after `start`) an
/// answer waits for the client to read it, for `--idle-timeout`.
struct Watched<'a> {
    tcp: TcpStream,
    start: Instant,
    stalled: &'a AtomicU64,
}

impl Watched<'_> {
    fn note(&self, done: &Poll<io::Result<usize>>) {
        match done {
            Poll::Pending => {
                if self.stalled.load(Relaxed) == NOT_STALLED {
                    let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
                    self.stalled.store(ms, Relaxed);
                }
            }
            Poll::Ready(_) => self.stalled.store(NOT_STALLED, Relaxed),
        }
    }
}

impl AsyncRead for Watched<'_> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Watched<'_> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.tcp).poll_write(cx, buf);
        self.note(&done);
        done
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        self.note(&done);
        done
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// The HTTP service of one connection: the origin check, then the upgrade
/// on [`WS_PATH`], the router for the rest.
#[derive(Clone)]
struct Http {
    router: Router,
    state: Arc<State>,
    /// Set once this connection answered `101 Switching Protocols`.
    upgraded: Arc<AtomicBool>,
}

impl hyper::service::Service<Request<Incoming>> for Http {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let config = &self.state.config;
        let origin = req.headers().get(header::ORIGIN).map(HeaderValue::as_bytes);
        if let Err(why) = config.origins.check(origin, config.insecure_dev) {
            self.state.metrics.refused_connection(Turned::Origin);
            let mut answer = Response::new(Body::from(serde_json::json!({ "error": why.to_string() }).to_string()));
            *answer.status_mut() = StatusCode::FORBIDDEN;
            answer
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return Box::pin(std::future::ready(Ok(answer)));
        }
        if req.uri().path() == WS_PATH {
            let answer = handshake(&req);
            if answer.status() == StatusCode::SWITCHING_PROTOCOLS {
                self.upgraded.store(true, Relaxed);
            }
            return Box::pin(std::future::ready(Ok(answer)));
        }
        let mut router = self.router.clone();
        Box::pin(async move { router.call(req).await })
    }
}

/// Checks a WebSocket upgrade request (RFC 6455, section 4.2.1) and
/// answers it: `101` with the accept key, or why not.
fn handshake<B>(req: &Request<B>) -> Response<Body> {
    let headers = req.headers();
    let refusal = if req.method() != Method::GET {
        Some((StatusCode::METHOD_NOT_ALLOWED, "a WebSocket upgrade uses GET"))
    } else if req.version() != Version::HTTP_11 {
        Some((StatusCode::BAD_REQUEST, "a WebSocket upgrade needs HTTP/1.1"))
    } else if !has_token(headers, header::CONNECTION, "upgrade") {
        Some((StatusCode::BAD_REQUEST, "Connection header did not include 'upgrade'"))
    } else if !has_token(headers, header::UPGRADE, "websocket") {
        Some((StatusCode::BAD_REQUEST, "Upgrade header did not include 'websocket'"))
    } else if headers.get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        Some((StatusCode::BAD_REQUEST, "Sec-WebSocket-Version must be 13"))
    } else {
        None
    };
    let key = headers.get(header::SEC_WEBSOCKET_KEY);
    let (status, body, accept) = match (refusal, key) {
        (Some((status, why)), _) => (status, why, None),
        (None, None) => (StatusCode::BAD_REQUEST, "Sec-WebSocket-Key header missing", None),
        (None, Some(key)) => (
            StatusCode::SWITCHING_PROTOCOLS,
            "",
            Some(derive_accept_key(key.as_bytes())),
        ),
    };
    let mut answer = Response::new(Body::from(body));
    *answer.status_mut() = status;
    if let Some(accept) = accept.and_then(|a| HeaderValue::from_str(&a).ok()) {
        let h = answer.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    answer
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, headers: &[(&'static str, &'static str)]) -> Request<()> {
        let mut req = Request::builder().method(method).uri(WS_PATH);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(()).unwrap()
    }

    const UPGRADE: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn answers_an_upgrade_with_the_accept_key() {
        let answer = handshake(&request(Method::GET, &UPGRADE));
        assert_eq!(answer.status(), StatusCode::SWITCHING_PROTOCOLS);
        // The example of RFC 6455, section 1.3.
        assert_eq!(
            answer.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn refuses_what_is_not_an_upgrade() {
        assert_eq!(
            handshake(&request(Method::POST, &UPGRADE)).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        for (missing, (name, _)) in UPGRADE.iter().enumerate() {
            let headers: Vec<_> = UPGRADE
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, h)| *h)
                .collect();
            assert_eq!(
                handshake(&request(Method::GET, &headers)).status(),
                StatusCode::BAD_REQUEST,
                "without {name}"
            );
        }
    }
}
