//! One WebSocket connection on `/v1/ws`, served by **one** task: it reads
//! the client's frames, answers them in order, feeds the connection its
//! events (from the hub, or from the log while catching up) and writes
//! everything queued, in one `select!` loop. An idle connection is that
//! task, its socket and its subscriptions, nothing more: no other tasks, no
//! channels, no timer of its own, no queue while there is nothing to queue.
//!
//! ## Pings
//!
//! On each tick of the relay's ping clock (`--ping-interval`, one shared
//! timer, watched on the same channel as the shutdown) the connection queues
//! a WebSocket ping; a pong clears the count. A connection that has not
//! answered the ping it was sent two ticks earlier is closed with 4009: its
//! peer is most likely gone without a FIN, and nothing else would notice
//! until a write failed.
//!
//! The client's own pings are answered by the WebSocket layer; one that pings
//! without reading is closed with 4008 (see [`crate::outbox`]).
//!
//! ## Events without waking the task
//!
//! While the connection has nothing of its own to write, the hub's fan-out
//! writes its live events straight to its socket, and the task sleeps (see
//! [`crate::lane`]); it takes them back when the socket is full.
//!
//! ## Backpressure
//!
//! Frames to send wait in `out` ([`Outbox`]), bounded by `--queue`. Replies are taken
//! only while it has room (so a client that does not read stops being
//! read); live events that find it full close the connection with 4008;
//! the log is read only as far as it has room.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::future::{ready as done, BoxFuture};
use futures_util::stream::SplitStream;
use futures_util::{FutureExt, StreamExt};
use kaiwa_bus::core::names::parse_pattern;
use tokio_tungstenite::tungstenite::Message;

use crate::auth::{self, Grant};
use crate::engine::Fed;
use crate::event::{now_ms, Event, Offset};
use crate::feed::{Ending, Feed, Reading, Step, MAX_PATTERNS};
use crate::lane::{Added, Lane, Sent};
use crate::metrics::Turned;
use crate::outbox::{Outbox, WebSocket};
use crate::protocol::*;
use crate::publish::{check, settle, Request};
use crate::state::{signalled, State};
use crate::users::Connected;

mod frame;
mod limits;

use frame::{field, next_frame, strict, typed, Frame};

/// Replies (acks, refusals, pongs) a connection may have pending; past
/// that, its frames are not read until the oldest is answered.
const IN_FLIGHT: usize = 256;

/// Replies in the order of the frames that asked for them. Only the oldest
/// is polled: the others do not need it to make progress (the engine
/// answers them on its own), and an empty queue allocates nothing.
type Pending = VecDeque<BoxFuture<'static, String>>;

/// How long a client has to send `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection may take to finish the frames it is
/// writing and its close frame (a client that stopped reading holds it).
const WRITER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the socket stays open after a 1009 close frame. The client is
/// still sending the frame the relay did not read: closing the socket with
/// those bytes unread resets it, and a reset that reaches the client before
/// it read the close frame shows as 1006, which a client cannot tell from a
/// network failure (it would send the frame again).
const TOO_BIG_LINGER: Duration = Duration::from_secs(1);

/// Serves one connection until it closes. The connection's state and its
/// loop live in one allocation, the returned future.
pub fn serve(socket: WebSocket, lane: Arc<Lane>, id: u64, state: Arc<State>) -> BoxFuture<'static, ()> {
    state.metrics.connections.fetch_add(1, Relaxed);
    let (sink, stream) = socket.split();
    let conn = Conn {
        _added: state.lanes.add(id, lane.clone()),
        lane,
        stream,
        out: Outbox::new(sink),
        user: None,
        tokens: f64::from(state.config.rate),
        refill: Instant::now(),
        auth_full_at: 0,
        rate_blocked: None,
        unanswered: 0,
        state,
    };
    Box::pin(conn.serve())
}

struct Conn {
    state: Arc<State>,
    stream: SplitStream<WebSocket>,
    out: Outbox,
    /// The socket, the subscriptions and the grant, shared with the fan-out.
    lane: Arc<Lane>,
    /// Keeps the lane in the hub's fan-out while the connection lives.
    _added: Added,
    /// The user's limits, held while the connection lives (none when anonymous).
    user: Option<Connected>,
    /// The publish rate limit's token bucket.
    tokens: f64,
    refill: Instant,
    /// The `auth` rate limit (GCRA): when its bucket is full again, in ms since the epoch.
    auth_full_at: u64,
    /// The ref of the publish refused with `rate` that later ones wait for,
    /// and when (boxed: a connection rarely has one).
    rate_blocked: Option<Box<(Box<str>, Instant)>>,
    /// Pings sent since the last pong.
    unanswered: u8,
}

/// When a token that expires at `exp` expires, as a timer deadline (far away without `exp`).
fn expiry(exp: Option<u64>) -> tokio::time::Instant {
    let left = exp.map_or(u64::MAX / 4, |exp| exp.saturating_mul(1000).saturating_sub(now_ms()));
    tokio::time::Instant::now() + Duration::from_millis(left.min(u64::MAX / 4))
}

impl Conn {
    /// The connection from `hello` to its close. Not an `async fn`: that
    /// would hold `self` twice (as the argument and as the local it moves
    /// to), and an idle connection is mostly this future.
    #[allow(clippy::manual_async_fn)]
    fn serve(mut self) -> impl std::future::Future<Output = ()> + Send {
        async move {
            let close = self.run().await;
            // From here on the fan-out writes nothing to this socket.
            self.lane.take_back();
            if let Some(close) = close {
                // Boxed, as is every rare or large step below: a task is as
                // large as its largest state, and an idle connection should
                // not carry the room its closing or a publish needs.
                let too_big = close.code == CLOSE_TOO_BIG;
                let _ = tokio::time::timeout(WRITER_TIMEOUT, Box::pin(self.out.close(close))).await;
                if too_big {
                    tokio::time::sleep(TOO_BIG_LINGER).await;
                }
            }
            self.state.metrics.connections.fetch_sub(1, Relaxed);
        }
    }

    /// Room left in the outbound queue.
    fn room(&self) -> usize {
        self.state.config.queue.saturating_sub(self.out.queue.len())
    }

    /// Whether this connection receives `event`.
    fn admits(&self, event: &Event) -> bool {
        self.lane.lock().admits(&self.lane.origin, event)
    }

    /// The grant's expiry (seconds since the epoch).
    fn exp(&self) -> Option<u64> {
        self.lane.lock().grant.exp
    }

    /// Counts a 4008 close of a client that pings without reading.
    fn lagging(&self, close: Close) -> Close {
        self.state.metrics.lagging_closes.fetch_add(1, Relaxed);
        close
    }

    /// Offers a live event; `Err` when the queue is full (4008).
    fn offer(&mut self, event: &Event) -> Result<(), Close> {
        if !self.admits(event) {
            return Ok(());
        }
        if self.room() == 0 {
            self.state.metrics.lagging_closes.fetch_add(1, Relaxed);
            return Err(Close::new(CLOSE_LAGGING, "lagging: resume from your last offset"));
        }
        self.out.queue.push_back(Message::Text(event.frame.clone()));
        self.state.metrics.events_out.fetch_add(1, Relaxed);
        Ok(())
    }

    /// The whole connection; the close to send, if any.
    async fn run(&mut self) -> Ending {
        let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
        let hello = loop {
            match tokio::time::timeout_at(deadline, next_frame(&mut self.stream)).await {
                Err(_) => return Some(Close::new(CLOSE_MALFORMED, "no hello within 10 s")),
                Ok(Err(close)) => return Some(close),
                Ok(Ok(Frame::Gone)) => return None,
                Ok(Ok(Frame::Pong)) => continue,
                Ok(Ok(Frame::Ping)) => {
                    if let Err(close) = poll_fn(|cx| self.out.pinged(cx)).await {
                        return Some(self.lagging(close));
                    }
                }
                Ok(Ok(Frame::Text(text))) => break text,
            }
        };
        let (rx, last, from_log) = match Box::pin(self.hello(&hello)).await {
            Ok(start) => start,
            Err(close) => return Some(close),
        };
        drop(hello);
        let epoch = self.state.engine.epoch();
        let mut feed = Feed {
            rx: Some(rx),
            last,
            epoch,
        };
        let mut reading: Option<Reading> = from_log.then(|| feed.catch_up(&self.state, self.room()));
        let mut signal = self.state.signal.subscribe();
        if signal.borrow().going {
            return Some(Close::new(CLOSE_GOING_AWAY, "going away: reconnect"));
        }
        let mut pending = Pending::new();
        // Boxed, and only for a token that expires.
        let mut expired = self
            .exp()
            .map(|exp| Box::pin(tokio::time::sleep_until(expiry(Some(exp)))));
        // Whether the fan-out writes this connection's live events (see `lane.rs`).
        let mut direct = false;
        loop {
            // Nothing of its own in flight: hand the socket to the fan-out,
            // unless the hub holds events for it.
            if !direct && reading.is_none() && !self.out.busy() && self.state.engine.hub().direct {
                match self.lane.go_direct(&mut feed) {
                    None => direct = true,
                    Some(step) => {
                        if let Err(ending) = self.take(step, &mut feed, &mut reading) {
                            return ending;
                        }
                        continue;
                    }
                }
            }
            let room = self.room();
            // In this order: the ends first (they must not starve), then
            // what fills the queue, and writing last, when nothing else is
            // ready, so a burst of replies or events costs one flush.
            tokio::select! {
                biased;
                true = async { match expired.as_mut() { Some(timer) => { timer.await; true } None => false } }, if expired.is_some() => {
                    return Some(Close::new(CLOSE_AUTH, "token expired"));
                }
                now = signalled(&mut signal) => {
                    if now.going {
                        return Some(Close::new(CLOSE_GOING_AWAY, "going away: reconnect"));
                    }
                    // A tick of the ping clock.
                    if self.unanswered >= 2 {
                        self.state.metrics.ping_timeouts.fetch_add(1, Relaxed);
                        return Some(Close::new(CLOSE_NO_PONG, "no pong for two ping intervals"));
                    }
                    self.unanswered += 1;
                    self.out.queue.push_back(Message::Ping(Default::default()));
                }
                reply = poll_fn(|cx| match pending.front_mut() {
                    Some(oldest) => oldest.poll_unpin(cx),
                    None => Poll::Pending,
                }), if !pending.is_empty() && room > 0 => {
                    pending.pop_front();
                    self.out.push(reply);
                    // And every reply ready behind it, as far as the queue
                    // has room: one wake-up for a batch the engine answered.
                    // (One still pending is polled again, with this task's
                    // waker, by the branch above before the task sleeps.)
                    while self.room() > 0 {
                        let Some(reply) = pending.front_mut().and_then(|oldest| oldest.now_or_never()) else {
                            break;
                        };
                        pending.pop_front();
                        self.out.push(reply);
                    }
                    if pending.is_empty() && pending.capacity() > 64 {
                        pending = Pending::new();
                    }
                }
                Some(read) = async { Some(reading.as_mut()?.await) }, if reading.is_some() && room > 0 => {
                    reading = None;
                    let (events, more) = match feed.caught(read) {
                        Ok(caught) => caught,
                        Err(close) => {
                            self.state.metrics.lagging_closes.fetch_add(1, Relaxed);
                            return Some(close);
                        }
                    };
                    let lane = self.lane.lock();
                    for event in &events {
                        if lane.admits(&self.lane.origin, event) {
                            self.out.queue.push_back(Message::Text(event.frame.clone()));
                            self.state.metrics.events_out.fetch_add(1, Relaxed);
                        }
                    }
                    drop(lane);
                    if more {
                        reading = Some(feed.catch_up(&self.state, self.room()));
                    }
                }
                (last, rx) = poll_fn(|cx| self.lane.poll_given_back(cx)), if direct => {
                    // The socket was full (or the hub had a gap): the task
                    // writes again, first what the socket did not take.
                    direct = false;
                    feed.last = feed.last.max(last);
                    feed.rx = rx;
                    self.out.must_flush();
                }
                // Boxed when polled: a direct connection does not poll it,
                // and does not carry its room (the hub's waiter) while idle.
                step = async { Box::pin(feed.live()).await }, if reading.is_none() && !direct => {
                    if let Err(ending) = self.take(step, &mut feed, &mut reading) {
                        return ending;
                    }
                }
                frame = next_frame(&mut self.stream), if pending.len() < IN_FLIGHT => match frame {
                    Ok(Frame::Gone) => return None,
                    Ok(Frame::Pong) => self.unanswered = 0,
                    Ok(Frame::Ping) => {
                        if let Err(close) = poll_fn(|cx| self.out.pinged(cx)).await {
                            return Some(self.lagging(close));
                        }
                    }
                    Ok(Frame::Text(text)) => {
                        let exp = self.exp();
                        if let Err(close) = Box::pin(self.frame(&text, &mut pending)).await {
                            return Some(close);
                        }
                        if self.exp() != exp {
                            expired = self.exp().map(|exp| Box::pin(tokio::time::sleep_until(expiry(Some(exp)))));
                        }
                    }
                    Err(close) => return Some(close),
                },
                written = poll_fn(|cx| self.out.poll_write(cx)), if self.out.busy() => {
                    if written.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Deals with what the hub gave, and with every other event it holds
    /// now, in one wake-up; `Err` ends the connection.
    fn take(&mut self, step: Step, feed: &mut Feed, reading: &mut Option<Reading>) -> Result<(), Ending> {
        let mut step = Some(step);
        while let Some(s) = step.take() {
            match s {
                Step::Live(event) => {
                    self.offer(&event).map_err(Some)?;
                    step = feed.ready();
                }
                Step::Lagged => *reading = Some(feed.catch_up(&self.state, self.room())),
                // Without a subscription, nothing was missed.
                Step::Gap if self.lane.lock().filter.is_empty() => step = feed.ready(),
                Step::Gap => {
                    self.state.metrics.lagging_closes.fetch_add(1, Relaxed);
                    self.state.metrics.gap_closes.fetch_add(1, Relaxed);
                    return Err(Some(Close::new(
                        CLOSE_LAGGING,
                        "events were trimmed before this relay read them: resume",
                    )));
                }
                Step::Closed => return Err(None),
            }
        }
        Ok(())
    }

    /// Checks `hello`, subscribes, welcomes; where the feed starts.
    async fn hello(&mut self, text: &str) -> Result<(tokio::sync::broadcast::Receiver<Fed>, Offset, bool), Close> {
        let kind = typed(text)?;
        if kind != "hello" {
            return Err(Close::new(
                CLOSE_MALFORMED,
                format!("the first frame must be hello, not {kind:?}"),
            ));
        }
        let hello: Hello = serde_json::from_str(text).map_err(|e| malformed("hello", e))?;
        if let Some(newer) = hello.protocol.filter(|&p| p > PROTOCOL) {
            return Err(Close::new(
                CLOSE_MALFORMED,
                format!("protocol {newer} is newer than this relay's {PROTOCOL}: upgrade kaiwa-relay"),
            ));
        }
        let grant = match &hello.token {
            Some(token) => auth::verify(token, self.state.config.secret.as_deref())
                .map_err(|m| Close::new(CLOSE_AUTH, m.to_string()))?,
            None if self.state.config.insecure_dev => Grant::anonymous(),
            None => return Err(Close::new(CLOSE_AUTH, "a token is required")),
        };
        let user = grant.user.clone();
        self.lane.lock().grant = grant;
        if let Some(sub) = &user {
            let connected = self.state.users.connect(sub).map_err(|why| {
                self.state.metrics.refused_connection(Turned::User);
                Close::new(CLOSE_TRY_LATER, why.to_string())
            })?;
            self.user = Some(connected);
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
                        .map_err(|e| Close::new(CLOSE_TRY_LATER, e.0))?,
                    None => false,
                };
                Some(offset.filter(|_| known))
            }
        };
        let recovered = matches!(resume, Some(Some(_)));
        let welcome = Reply::Welcome {
            protocol: PROTOCOL,
            epoch: &epoch,
            offset: head.to_string(),
            recovered,
            user: user.as_deref(),
            limits: self.state.config.limits(),
        };
        let welcome = welcome.to_text();
        match self.lane.write_text(&welcome) {
            Sent::Whole => {}
            Sent::Partly => self.out.must_flush(),
            Sent::Not => self.out.push(welcome),
        }
        Ok(match resume {
            Some(Some(from)) => (rx, from, true),
            _ => (rx, head, false),
        })
    }

    /// Handles one frame after `hello`; a reply it owes goes to `pending`.
    async fn frame(&mut self, text: &str, pending: &mut Pending) -> Result<(), Close> {
        let started = Instant::now();
        // One parse of the frame, whatever its type. One that does not parse
        // as a frame is parsed by its type: `ping` and `hello` need nothing
        // more, the others close with 4400 saying what is wrong.
        let mut frame = match serde_json::from_str::<Publish>(text) {
            Ok(frame) if frame.kind.is_some() => frame,
            _ => {
                let kind = typed(text)?;
                if kind == "auth" {
                    self.take_auth()?;
                }
                if ["publish", "subscribe", "unsubscribe", "auth"].contains(&kind.as_str()) {
                    return Err(strict(&kind, text));
                }
                Publish {
                    kind: Some(kind.into()),
                    ..Publish::default()
                }
            }
        };
        let kind = frame.kind.take().unwrap_or_default();
        match &*kind {
            "publish" => {
                let p = frame;
                let req = Request::new(p.reference.as_ref(), p.name.as_ref(), p.payload)
                    .sequenced(p.producer.as_ref(), p.seq);
                let checked = self
                    .may_publish(req.reference)
                    .and_then(|()| check(&self.state, &self.lane.lock().grant, self.lane.origin.to_string(), req));
                // The refusal of a ref over the limit does not carry it back.
                let reference: Option<String> = match p.reference {
                    Some(Text::Str(r)) if r.len() <= MAX_REF_BYTES => Some(r.into_owned()),
                    _ => None,
                };
                // Submitted here, in frame order; answered in `pending`, in the same order.
                let state = self.state.clone();
                let reply = move |stored: Result<Offset, Refusal>| {
                    let reference = reference.as_deref();
                    match stored {
                        Ok(offset) => ack(reference, offset),
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
                    Err(refusal) => pending.push_back(done(reply(Err(refusal))).boxed()),
                }
            }
            "subscribe" => {
                let patterns: Vec<String> = field(frame.patterns).ok_or_else(|| strict(&kind, text))?;
                self.subscribe(&patterns)?;
            }
            "unsubscribe" => {
                let patterns: Vec<String> = field(frame.patterns).ok_or_else(|| strict(&kind, text))?;
                let mut lane = self.lane.lock();
                for pattern in &patterns {
                    lane.filter.remove(pattern);
                }
            }
            "auth" => {
                self.take_auth()?;
                let token: String = field(frame.token).ok_or_else(|| strict(&kind, text))?;
                let grant = auth::verify(&token, self.state.config.secret.as_deref())
                    .map_err(|m| Close::new(CLOSE_AUTH, m.to_string()))?;
                let mut lane = self.lane.lock();
                if grant.user != lane.grant.user {
                    return Err(Close::new(CLOSE_AUTH, "the new token is for another user"));
                }
                // A refresh with the same subscribe claim, the usual one, has nothing to check.
                if grant.subscribe != lane.grant.subscribe {
                    let allowed = grant.subscriptions();
                    if let Some(p) = lane.filter.uncovered(&allowed) {
                        return Err(Close::new(
                            CLOSE_FORBIDDEN,
                            format!("the new token does not allow {p:?}"),
                        ));
                    }
                }
                lane.grant = grant;
            }
            "ping" => pending.push_back(done(Reply::Pong.to_text()).boxed()),
            "hello" => return Err(Close::new(CLOSE_MALFORMED, "hello was already received")),
            other => return Err(Close::new(CLOSE_MALFORMED, format!("unknown message type {other:?}"))),
        }
        Ok(())
    }

    fn subscribe(&mut self, patterns: &[String]) -> Result<(), Close> {
        let mut lane = self.lane.lock();
        let allowed = lane.grant.subscriptions();
        for p in patterns {
            parse_pattern(p).map_err(|e| Close::new(CLOSE_MALFORMED, format!("pattern {p:?}: {e}")))?;
            if !allowed.covers(p) {
                return Err(Close::new(CLOSE_FORBIDDEN, format!("forbidden subscription {p:?}")));
            }
        }
        for p in patterns {
            lane.filter.add(p);
            if lane.filter.len() > MAX_PATTERNS {
                return Err(Close::new(
                    CLOSE_MALFORMED,
                    format!("more than {MAX_PATTERNS} patterns on one connection"),
                ));
            }
        }
        Ok(())
    }
}
