//! The HTTP side: `POST /v1/events` for app servers and webhooks,
//! `GET /healthz` for load balancers, `GET /metrics` for Prometheus.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as Extract;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::auth::{self, Grant};
use crate::publish::{publish, Request};
use crate::server::State;

/// Items one request may carry.
const MAX_ITEMS: usize = 1000;
/// Bytes one request body may have (axum's default limit, made explicit
/// so that the refusal can say so).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(default)]
    name: Option<String>,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(rename = "ref", default)]
    reference: Option<String>,
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
            Err(m) => return error(StatusCode::UNAUTHORIZED, m),
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
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        // Longer than the limit (a chunked body), or the client went away.
        return too_large();
    };
    let items: Vec<Item> = match serde_json::from_slice(&body) {
        Ok(items) => items,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected a JSON array of {{name, payload, ref?}}: {e}"),
            )
        }
    };
    if items.len() > MAX_ITEMS {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} items; the limit is {MAX_ITEMS}", items.len()),
        );
    }
    let mut answers: Vec<Value> = Vec::with_capacity(items.len());
    for item in &items {
        let req = Request {
            reference: item.reference.as_deref(),
            name: item.name.as_deref(),
            payload: item.payload,
        };
        answers.push(match publish(&state, &grant, String::new(), req).await {
            Ok(offset) => json!({ "offset": offset.to_string() }),
            Err(refusal) => json!({ "refused": refusal }),
        });
    }
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
    let body = state.metrics.render(state.engine.errors(), state.engine.gaps());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
