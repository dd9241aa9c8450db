//! One WebSocket connection on `/v1/ws`, in the shape of axum's chat
//! example: a writer task owns the socket's sending half and drains a
//! bounded queue; this task reads the client's frames; a [`Feed`] task
//! offers it events. Whichever decides to close (a bad frame, a lagging
//! feed, an expired token, shutdown) ends the other two.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::future::{ready, BoxFuture};
use futures_util::stream::{FuturesOrdered, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use kaiwa_bus::core::names::parse_pattern;
use tokio::sync::{mpsc, oneshot};

use crate::auth::{self, Grant};
use crate::event::{now_ms, Offset};
use crate::feed::{reason, Ending, Feed, Filter, MAX_PATTERNS};
use crate::protocol::*;
use crate::publish::{check, settle, Request};
use crate::server::State;

/// Replies (acks, refusals, pongs) a connection may have pending; past
/// that, its frames are not read until the oldest is answered.
const IN_FLIGHT: usize = 256;

/// Replies in the order of the frames that asked for them.
type Pending = FuturesOrdered<BoxFuture<'static, String>>;

/// Frames written between two flushes at most.
const WRITE_BATCH: usize = 64;

/// How long a client has to send `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the writer tries to deliver a close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing connection may take to finish the frame it is
/// writing and its close frame (a client that stopped reading holds it).
const WRITER_TIMEOUT: Duration = Duration::from_secs(30);

type Close = (u16, String);

/// Serves one connection until it closes.
pub async fn serve(socket: WebSocket, state: Arc<State>) {
    state.metrics.connections.fetch_add(1, Relaxed);
    let id = state.next_connection.fetch_add(1, Relaxed);
    let (sink, stream) = socket.split();
    let (out, out_rx) = mpsc::channel(state.config.queue);
    let (close_tx, close_rx) = oneshot::channel();
    let writer = tokio::spawn(write(sink, out_rx, close_rx));
    let mut conn = Conn {
        origin: format!("{}/{id}", state.instance),
        state: state.clone(),
        stream,
        out,
        filter: Arc::new(RwLock::new(Filter::default())),
        grant: Grant::anonymous(),
        tokens: f64::from(state.config.rate),
        refill: Instant::now(),
    };
    let close = conn.run().await;
    drop(conn);
    if let Some(close) = close {
        let _ = close_tx.send(close);
    }
    let mut writer = writer;
    if tokio::time::timeout(WRITER_TIMEOUT, &mut writer).await.is_err() {
        // A client that reads nothing at all cannot be told why; drop it.
        writer.abort();
    }
    state.metrics.connections.fetch_sub(1, Relaxed);
}

/// Writes queued frames; on a close request, writes the close frame next.
/// Queued frames are dropped (the client resumes from its offset), except
/// when the relay is going away: then they are flushed first.
async fn write(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Message>,
    mut close: oneshot::Receiver<Close>,
) {
    let close = loop {
        tokio::select! {
            biased;
            c = &mut close => break c.ok(),
            m = queue.recv() => match m {
                Some(m) => if write_batch(&mut sink, &mut queue, m).await.is_err() { return },
                None => break (&mut close).await.ok(),
            },
        }
    };
    if let Some((code, text)) = close {
        if code == CLOSE_GOING_AWAY {
            while let Ok(m) = queue.try_recv() {
                if tokio::time::timeout(CLOSE_TIMEOUT, sink.send(m)).await.is_err() {
                    return;
                }
            }
        }
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason(&text).into(),
        }));
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(frame)).await;
    }
}

/// Writes `first` and whatever else is queued now (up to [`WRITE_BATCH`]
/// frames), then flushes once: one system call for many frames.
async fn write_batch(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    queue: &mut mpsc::Receiver<Message>,
    first: Message,
) -> Result<(), axum::Error> {
    sink.feed(first).await?;
    for _ in 1..WRITE_BATCH {
        match queue.try_recv() {
            Ok(m) => sink.feed(m).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}

struct Conn {
    state: Arc<State>,
    stream: SplitStream<WebSocket>,
    out: mpsc::Sender<Message>,
    filter: Arc<RwLock<Filter>>,
    grant: Grant,
    origin: String,
    /// The publish rate limit's token bucket.
    tokens: f64,
    refill: Instant,
}

enum Frame {
    Text(String),
    /// A WebSocket ping or pong (answered by the WebSocket layer).
    Control,
    Gone,
}

impl Conn {
    async fn next_frame(&mut self) -> Result<Frame, Close> {
        match self.stream.next().await {
            None | Some(Ok(Message::Close(_))) => Ok(Frame::Gone),
            Some(Ok(Message::Text(t))) => Ok(Frame::Text(t.to_string())),
            Some(Ok(Message::Binary(_))) => Err((CLOSE_MALFORMED, "binary frames are not part of protocol v1".into())),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(Frame::Control),
            Some(Err(e)) => {
                let text = e.to_string();
                if text.contains("too long") || text.contains("Space limit") {
                    Err((CLOSE_TOO_BIG, format!("frame larger than this relay reads: {text}")))
                } else {
                    Ok(Frame::Gone)
                }
            }
        }
    }

    async fn send(&self, reply: Reply<'_>) {
        let _ = self.out.send(Message::Text(reply.to_text().into())).await;
    }

    /// The whole connection; the close to send, if any.
    async fn run(&mut self) -> Option<Close> {
        let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
        let hello = loop {
            match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Err(_) => return Some((CLOSE_MALFORMED, "no hello within 10 s".into())),
                Ok(Err(close)) => return Some(close),
                Ok(Ok(Frame::Gone)) => return None,
                Ok(Ok(Frame::Control)) => continue,
                Ok(Ok(Frame::Text(text))) => break text,
            }
        };
        let (rx, last, from_log) = match self.hello(&hello).await {
            Ok(start) => start,
            Err(close) => return Some(close),
        };
        let feed = Feed {
            state: self.state.clone(),
            filter: self.filter.clone(),
            out: self.out.clone(),
            origin: self.origin.clone(),
            epoch: self.state.engine.epoch(),
        };
        let mut feed = tokio::spawn(feed.run(rx, last, from_log));
        let mut shutdown = self.state.shutdown.subscribe();
        let mut pending = Pending::new();
        let ending: Ending = loop {
            let expiry = self
                .grant
                .exp
                .map(|exp| exp.saturating_mul(1000).saturating_sub(now_ms()));
            let expired = tokio::time::sleep(Duration::from_millis(expiry.unwrap_or(u64::MAX / 4)));
            tokio::select! {
                Some(reply) = pending.next(), if !pending.is_empty() => {
                    let _ = self.out.send(Message::Text(reply.into())).await;
                }
                frame = self.next_frame(), if pending.len() < IN_FLIGHT => match frame {
                    Ok(Frame::Gone) => break None,
                    Ok(Frame::Control) => {}
                    Ok(Frame::Text(text)) => {
                        if let Err(close) = self.frame(&text, &mut pending).await {
                            break Some(close);
                        }
                    }
                    Err(close) => break Some(close),
                },
                ended = &mut feed => break ended.ok().flatten(),
                _ = expired => break Some((CLOSE_AUTH, "token expired".into())),
                _ = crate::server::shutting_down(&mut shutdown) => break Some((CLOSE_GOING_AWAY, "going away: reconnect".into())),
            }
        };
        feed.abort();
        ending
    }

    /// Checks `hello`, subscribes, welcomes; where the feed starts.
    async fn hello(
        &mut self,
        text: &str,
    ) -> Result<(tokio::sync::broadcast::Receiver<Arc<crate::event::Event>>, Offset, bool), Close> {
        let kind = typed(text)?;
        if kind != "hello" {
            return Err((CLOSE_MALFORMED, format!("the first frame must be hello, not {kind:?}")));
        }
        let hello: Hello = serde_json::from_str(text).map_err(|e| (CLOSE_MALFORMED, format!("hello: {e}")))?;
        self.grant = match &hello.token {
            Some(token) => auth::verify(token, self.state.config.secret.as_deref()).map_err(|m| (CLOSE_AUTH, m))?,
            None if self.state.config.insecure_dev => Grant::anonymous(),
            None => return Err((CLOSE_AUTH, "a token is required".into())),
        };
        {
            let mut f = self.filter.write().unwrap_or_else(|e| e.into_inner());
            f.user = self.grant.user.clone();
            f.admin = self.grant.admin;
        }
        self.subscribe(&hello.subscribe)?;
        let engine = &self.state.engine;
        let (rx, head) = engine.hub().subscribe();
        let epoch = engine.epoch();
        let resume = match &hello.resume {
            None => None,
            Some(r) => {
                let offset = Offset::parse(&r.offset);
                let known = match offset {
                    Some(o) => engine
                        .can_resume(&r.epoch, o)
                        .await
                        .map_err(|e| (CLOSE_TRY_LATER, e.0))?,
                    None => false,
                };
                Some(offset.filter(|_| known))
            }
        };
        let recovered = matches!(resume, Some(Some(_)));
        self.send(Reply::Welcome {
            epoch: &epoch,
            offset: head.to_string(),
            recovered,
            user: self.grant.user.as_deref(),
        })
        .await;
        Ok(match resume {
            Some(Some(from)) => (rx, from, true),
            _ => (rx, head, false),
        })
    }

    /// Handles one frame after `hello`; a reply it owes goes to `pending`.
    async fn frame(&mut self, text: &str, pending: &mut Pending) -> Result<(), Close> {
        match &*typed(text)? {
            "publish" => {
                let started = Instant::now();
                let p: Publish = serde_json::from_str(text).map_err(|e| (CLOSE_MALFORMED, format!("publish: {e}")))?;
                let reference = p.reference.clone();
                let checked = if self.take_token() {
                    let req = Request {
                        reference: reference.as_deref(),
                        name: p.name.as_deref(),
                        payload: p.payload,
                    };
                    check(&self.state, &self.grant, self.origin.clone(), req)
                } else {
                    self.state.metrics.refused(RefusalKind::Rate);
                    let rate = self.state.config.rate;
                    Err(Refusal::new(
                        RefusalKind::Rate,
                        format!("over {rate} publishes per second; retry later"),
                    ))
                };
                // Submitted here, in frame order; answered in `pending`, in the same order.
                let state = self.state.clone();
                let reply = move |stored: Result<Offset, Refusal>| {
                    let reference = reference.as_deref();
                    match stored {
                        Ok(offset) => Reply::Ack {
                            reference,
                            offset: offset.to_string(),
                        }
                        .to_text(),
                        Err(refusal) => Reply::Refused {
                            reference,
                            refusal: &refusal,
                        }
                        .to_text(),
                    }
                };
                match checked {
                    Ok(draft) => {
                        let stored = state.engine.submit(draft).await;
                        pending.push_back(async move { reply(settle(&state, stored.await, started)) }.boxed());
                    }
                    Err(refusal) => pending.push_back(ready(reply(Err(refusal))).boxed()),
                }
            }
            "subscribe" => {
                let p: Patterns =
                    serde_json::from_str(text).map_err(|e| (CLOSE_MALFORMED, format!("subscribe: {e}")))?;
                self.subscribe(&p.patterns)?;
            }
            "unsubscribe" => {
                let p: Patterns =
                    serde_json::from_str(text).map_err(|e| (CLOSE_MALFORMED, format!("unsubscribe: {e}")))?;
                let mut f = self.filter.write().unwrap_or_else(|e| e.into_inner());
                for pattern in &p.patterns {
                    f.remove(pattern);
                }
            }
            "auth" => {
                let a: Auth = serde_json::from_str(text).map_err(|e| (CLOSE_MALFORMED, format!("auth: {e}")))?;
                let grant = auth::verify(&a.token, self.state.config.secret.as_deref()).map_err(|m| (CLOSE_AUTH, m))?;
                if grant.user != self.grant.user {
                    return Err((CLOSE_AUTH, "the new token is for another user".into()));
                }
                let mut f = self.filter.write().unwrap_or_else(|e| e.into_inner());
                if let Some(p) = f.patterns().into_iter().find(|p| !grant.may_subscribe(p)) {
                    return Err((CLOSE_FORBIDDEN, format!("the new token does not allow {p:?}")));
                }
                f.admin = grant.admin;
                self.grant = grant;
            }
            "ping" => pending.push_back(ready(Reply::Pong.to_text()).boxed()),
            "hello" => return Err((CLOSE_MALFORMED, "hello was already received".into())),
            other => return Err((CLOSE_MALFORMED, format!("unknown message type {other:?}"))),
        }
        Ok(())
    }

    fn subscribe(&mut self, patterns: &[String]) -> Result<(), Close> {
        for p in patterns {
            parse_pattern(p).map_err(|e| (CLOSE_MALFORMED, format!("pattern {p:?}: {e}")))?;
            if !self.grant.may_subscribe(p) {
                return Err((CLOSE_FORBIDDEN, format!("forbidden subscription {p:?}")));
            }
        }
        let mut f = self.filter.write().unwrap_or_else(|e| e.into_inner());
        for p in patterns {
            f.add(p);
            if f.len() > MAX_PATTERNS {
                return Err((
                    CLOSE_MALFORMED,
                    format!("more than {MAX_PATTERNS} patterns on one connection"),
                ));
            }
        }
        Ok(())
    }

    /// The rate limit: `--rate` publishes per second, bursts of as many.
    fn take_token(&mut self) -> bool {
        let rate = f64::from(self.state.config.rate);
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.refill).as_secs_f64() * rate).min(rate);
        self.refill = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn typed(text: &str) -> Result<String, Close> {
    match serde_json::from_str::<Typed>(text) {
        Ok(t) => Ok(t.kind.into_owned()),
        Err(e) => Err((CLOSE_MALFORMED, format!("malformed frame: {e}"))),
    }
}
