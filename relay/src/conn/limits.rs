//! A connection's rate limits: `--auth-rate` on `auth` frames, `--rate`
//! and `--user-rate` on publishes, in the connection's publish order.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::Conn;
use crate::event::now_ms;
use crate::protocol::*;
use crate::publish::user_rate;
use crate::state::State;

/// How long, at most, publishes wait for the one refused with `rate` before them.
const RATE_BLOCK: Duration = Duration::from_secs(10);

/// A connection's rate limits, from the first frame that counts.
#[derive(Debug)]
pub(super) struct Limits {
    /// The publish rate limit's token bucket.
    tokens: f64,
    refill: Instant,
    /// The `auth` rate limit (GCRA): when its bucket is full again, in ms since the epoch.
    auth_full_at: u64,
    /// The ref of the publish refused with `rate` that later ones wait for, and when.
    rate_blocked: Option<(Box<str>, Instant)>,
}

impl Conn {
    /// The limits' state: full buckets the first time.
    fn limits(&mut self) -> &mut Limits {
        let rate = self.state.config.rate;
        self.limits.get_or_insert_with(|| {
            Box::new(Limits {
                tokens: f64::from(rate),
                refill: Instant::now(),
                auth_full_at: 0,
                rate_blocked: None,
            })
        })
    }

    /// The `auth` rate limit: `--auth-rate` frames per minute, bursts of as
    /// many; over it, 4400 (a client refreshing in a loop).
    pub(super) fn take_auth(&mut self) -> Result<(), Close> {
        let per_minute = self.state.config.auth_rate;
        let interval = 60_000 / u64::from(per_minute.max(1));
        let now = now_ms();
        let next = self.limits().auth_full_at.max(now).saturating_add(interval);
        if next > now.saturating_add(60_000) {
            self.state.metrics.auth_floods.fetch_add(1, Relaxed);
            return Err(Close::new(
                CLOSE_MALFORMED,
                format!("more than {per_minute} auth frames in a minute (--auth-rate): refresh a token once, shortly before it expires"),
            ));
        }
        self.limits().auth_full_at = next;
        Ok(())
    }

    /// The rate limit, in the connection's publish order: once a publish is
    /// refused with `rate`, the later ones are refused too (without spending
    /// the bucket) until that ref is sent again, so a client that retries in
    /// order never has a later event stored before an earlier one. The block
    /// lapses after [`RATE_BLOCK`] (a client that gave that event up). The
    /// same for `--rate` (this connection's bucket) and `--user-rate` (its user's).
    pub(super) fn may_publish(&mut self, reference: Option<&str>) -> Result<(), Refusal> {
        let over_rate = |state: &State| {
            state.metrics.refused(RefusalKind::Rate);
            let rate = state.config.rate;
            Err(Refusal::new(
                RefusalKind::Rate,
                format!("over {rate} publishes per second; retry later"),
            ))
        };
        if let Some((blocked, since)) = &self.limits().rate_blocked {
            if reference != Some(&**blocked) && since.elapsed() < RATE_BLOCK {
                return over_rate(&self.state);
            }
        }
        let allowed = match self.take_token() {
            true => user_rate(&self.state, self.user.as_ref().map(|u| &*u.0)),
            false => over_rate(&self.state),
        };
        self.limits().rate_blocked = match (&allowed, reference) {
            (Ok(()), _) | (Err(_), None) => None,
            (Err(_), Some(r)) => Some((r.into(), Instant::now())),
        };
        allowed
    }

    /// The rate limit: `--rate` publishes per second, bursts of as many.
    fn take_token(&mut self) -> bool {
        let rate = f64::from(self.state.config.rate);
        let now = Instant::now();
        let limits = self.limits();
        limits.tokens = (limits.tokens + now.duration_since(limits.refill).as_secs_f64() * rate).min(rate);
        limits.refill = now;
        if limits.tokens >= 1.0 {
            limits.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
