//! The HTTP side: `POST /v1/events` for app servers and webhooks,
//! `GET /healthz` for load balancers, `GET /metrics` for Prometheus.
//!
//! A request's memory is about its body's size: the body (2 MiB at most)
//! is read whole, its items borrow from it, and reading stops at the first
//! item past the 1,000 a request may carry.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as Extract;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::auth::{self, Grant};
use crate::protocol::{json_error, Text};
use crate::publish::{publish_all, user_rate, Request};
use crate::state::State;

/// Items one request may carry.
const MAX_ITEMS: usize = 1000;
/// Bytes one request body may have (axum's default limit, made explicit
/// so that the refusal can say so).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(rename = "ref", borrow, default)]
    reference: Option<Text<'a>>,
    #[serde(borrow, default)]
    producer: Option<Text<'a>>,
    #[serde(borrow, default)]
    seq: Option<&'a RawValue>,
}

/// Reads the body's array of items, and stops (an error, with `over` set)
/// at the first item past [`MAX_ITEMS`].
struct Items<'c> {
    over: &'c Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = Vec<Item<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Vec<Item<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            if items.len() == MAX_ITEMS {
                self.over.set(true);
                return Err(serde::de::Error::custom("too many items"));
            }
            items.push(item);
        }
        Ok(items)
    }
}

fn read_items<'a>(body: &'a [u8], over: &Cell<bool>) -> serde_json::Result<Vec<Item<'a>>> {
    let mut d = serde_json::Deserializer::from_slice(body);
    let items = Items { over }.deserialize(&mut d)?;
    d.end()?;
    Ok(items)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `POST /v1/events`: a JSON array of `{name, payload, ref?}`; answers one
/// `{"offset"}` or `{"refused": {...}}` per item, in order.
pub async fn post_events(Extract(state): Extract<Arc<State>>, headers: HeaderMap, body: Body) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let grant = match bearer {
        Some(token) => match auth::verify(token, state.config.secret.as_deref()) {
            Ok(g) => g,
            Err(m) => return error(StatusCode::UNAUTHORIZED, m.to_string()),
        },
        None if state.config.insecure_dev => Grant::anonymous(),
        None => return error(StatusCode::UNAUTHORIZED, "Authorization: Bearer <token> is required"),
    };
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY} bytes; send fewer events per request"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let idle = state.config.idle_timeout;
    let body = match tokio::time::timeout(idle, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(body)) => body,
        // Longer than the limit (a chunked body), or the client went away.
        Ok(Err(_)) => return too_large(),
        Err(_) => {
            state.metrics.http_timeouts.fetch_add(1, Relaxed);
            let message = format!(
                "the request body did not arrive within {} s (--idle-timeout)",
                idle.as_secs_f64()
            );
            return error(StatusCode::REQUEST_TIMEOUT, message);
        }
    };
    let over = Cell::new(false);
    let items = match read_items(&body, &over) {
        Ok(items) => items,
        Err(_) if over.get() => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("more than {MAX_ITEMS} items; send at most {MAX_ITEMS} per request"),
            )
        }
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected a JSON array of {{name, payload, ref?}}: {}", json_error(&e)),
            )
        }
    };
    // Every item of a user's requests counts in the user's `--user-rate`.
    let user = grant.user.as_deref().map(|sub| state.users.user(sub));
    // Stored in one batch, in order.
    let reqs = items
        .iter()
        .map(|item| {
            user_rate(&state, user.as_deref())?;
            Ok(Request::new(item.reference.as_ref(), item.name.as_ref(), item.payload)
                .sequenced(item.producer.as_ref(), item.seq))
        })
        .collect();
    let answers: Vec<Value> = publish_all(&state, &grant, "", reqs)
        .await
        .into_iter()
        .map(|published| match published {
            Ok(offset) => json!({ "offset": offset.to_string() }),
            Err(refusal) => json!({ "refused": refusal }),
        })
        .collect();
    Json(answers).into_response()
}

/// `GET /healthz`: 200 when the engine answers, 503 when not.
pub async fn healthz(Extract(state): Extract<Arc<State>>) -> Response {
    if state.engine.healthy().await {
        (StatusCode::OK, "ok\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "engine unreachable\n").into_response()
    }
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(Extract(state): Extract<Arc<State>>) -> Response {
    // The frames the fan-out wrote straight to sockets (see `lane.rs`).
    let direct = state.lanes.take_written();
    state.metrics.events_out.fetch_add(direct, Relaxed);
    let body = state
        .metrics
        .render(state.engine.errors(), state.engine.gaps(), state.open.load(Relaxed));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
