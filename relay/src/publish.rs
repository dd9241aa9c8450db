//! The publish pipeline, the same for a WebSocket `publish` frame and an
//! item of `POST /v1/events`: checks in this order, and stores only what
//! passes all of them (a refused event is never stored).
//!
//! 1. `malformed`: no name or no payload;
//! 2. `too-large`: payload JSON longer than `--max-payload` bytes;
//! 3. `malformed`: a name the bus refuses (empty, too long, with `*`);
//! 4. `forbidden`: the token's `publish` patterns do not cover the name;
//! 5. `unknown` / `validation`: the bus's schemas (in strict mode, also its naming convention);
//! 6. `forbidden`: a non-admin publishing another user's `userId`;
//! 7. `unavailable`: the engine could not store it (retry with the same `ref`).

use std::time::Instant;

use kaiwa_bus::core::names::check_event_name;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::auth::Grant;
use crate::engine::{Draft, Unavailable};
use crate::event::Offset;
use crate::protocol::{Refusal, RefusalKind, WireIssue};
use crate::server::State;
use crate::validate::{self, Invalid};

/// One event to publish, as received.
#[derive(Debug)]
pub struct Request<'a> {
    /// The client's idempotency id.
    pub reference: Option<&'a str>,
    /// The event name.
    pub name: Option<&'a str>,
    /// The payload JSON.
    pub payload: Option<&'a RawValue>,
}

/// Checks and stores one event; the offset it got, or why not.
pub async fn publish(state: &State, grant: &Grant, origin: String, req: Request<'_>) -> Result<Offset, Refusal> {
    let started = Instant::now();
    let draft = check(state, grant, origin, req)?;
    settle(state, state.engine.append(draft).await, started)
}

/// Steps 1 to 6: the event to store, or why not.
pub fn check(state: &State, grant: &Grant, origin: String, req: Request<'_>) -> Result<Draft, Refusal> {
    let result = checked(state, grant, origin, req);
    if let Err(refusal) = &result {
        state.metrics.refused(refusal.kind);
    }
    result
}

fn checked(state: &State, grant: &Grant, origin: String, req: Request<'_>) -> Result<Draft, Refusal> {
    let (Some(name), Some(raw)) = (req.name, req.payload) else {
        return Err(Refusal::new(
            RefusalKind::Malformed,
            "a publish needs a string name and a payload",
        ));
    };
    let max = state.config.max_payload;
    if raw.get().len() > max {
        return Err(Refusal::new(
            RefusalKind::TooLarge,
            format!("payload is {} bytes of JSON; the limit is {max}", raw.get().len()),
        ));
    }
    check_event_name(name).map_err(|e| Refusal::new(RefusalKind::Malformed, e.to_string()))?;
    grant
        .may_publish(name, None)
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m))?;
    let payload: Value =
        serde_json::from_str(raw.get()).map_err(|e| Refusal::new(RefusalKind::Malformed, format!("payload: {e}")))?;
    validate::check(name, &payload).map_err(|invalid| match invalid {
        Invalid::Name(m) => Refusal::new(RefusalKind::Malformed, m),
        Invalid::Unknown(m) => Refusal::new(RefusalKind::Unknown, m),
        Invalid::Issues(event, issues) => Refusal {
            kind: RefusalKind::Validation,
            message: issues
                .first()
                .map_or_else(|| format!("{event}: invalid payload"), |i| format!("{event}: {i}")),
            issues: issues.iter().map(WireIssue::from).collect(),
        },
    })?;
    let user = payload.get("userId").and_then(Value::as_str);
    grant
        .may_publish(name, user)
        .map_err(|m| Refusal::new(RefusalKind::Forbidden, m))?;
    let owner = grant.user.as_deref().unwrap_or("");
    Ok(Draft {
        name: name.to_string(),
        payload: raw.get().to_string(),
        user: user.map(String::from),
        origin,
        idem: req.reference.map(|r| format!("{}:{owner}:{r}", owner.len())),
    })
}

/// Step 7: the engine's answer for a checked event, counted; `started` is
/// when its publish arrived.
pub fn settle(state: &State, stored: Result<(Offset, bool), Unavailable>, started: Instant) -> Result<Offset, Refusal> {
    match stored {
        Ok((offset, new)) => {
            if new {
                state.metrics.stored(started.elapsed());
            }
            Ok(offset)
        }
        Err(e) => {
            state.metrics.refused(RefusalKind::Unavailable);
            Err(Refusal::new(RefusalKind::Unavailable, e.0))
        }
    }
}
