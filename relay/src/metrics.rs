//! The counters behind `GET /metrics`, in Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::protocol::RefusalKind;

/// Upper bounds of the publish latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0];

/// Why a connection was refused (see [`Metrics::refused_connection`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turned {
    /// `--max-connections` open already (503).
    Process,
    /// `--max-connections-per-address` open from its address already (429).
    Address,
    /// `--max-connections-per-user` open for its user already (1013 at `hello`).
    User,
    /// An `Origin` that `--allow-origin` does not allow (403).
    Origin,
}

impl Turned {
    const ALL: [Turned; 4] = [Turned::Process, Turned::Address, Turned::User, Turned::Origin];

    fn label(self) -> &'static str {
        match self {
            Turned::Process => "max-connections",
            Turned::Address => "per-address",
            Turned::User => "per-user",
            Turned::Origin => "origin",
        }
    }
}

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub connections: AtomicI64,
    /// Events stored.
    pub events_in: AtomicU64,
    /// Event frames queued to connections.
    pub events_out: AtomicU64,
    /// Connections closed with 4008.
    pub lagging_closes: AtomicU64,
    /// Of those, connections closed because the reader found a gap.
    pub gap_closes: AtomicU64,
    /// Connections closed with 4009 (pings unanswered).
    pub ping_timeouts: AtomicU64,
    /// HTTP connections closed by `--header-timeout` or `--idle-timeout`.
    pub http_timeouts: AtomicU64,
    /// Connections closed with 4400 for sending `auth` over `--auth-rate`.
    pub auth_floods: AtomicU64,
    turned: [AtomicU64; 4],
    refusals: [AtomicU64; RefusalKind::ALL.len()],
    latency_buckets: [AtomicU64; 10],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
}

impl Metrics {
    /// Counts a refusal.
    pub fn refused(&self, kind: RefusalKind) {
        if let Some(i) = RefusalKind::ALL.iter().position(|k| *k == kind) {
            if let Some(c) = self.refusals.get(i) {
                c.fetch_add(1, Relaxed);
            }
        }
    }

    /// Counts a connection refused.
    pub fn refused_connection(&self, why: Turned) {
        if let Some(c) = Turned::ALL
            .iter()
            .position(|t| *t == why)
            .and_then(|i| self.turned.get(i))
        {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Records how long a publish took to be stored.
    pub fn stored(&self, took: Duration) {
        self.events_in.fetch_add(1, Relaxed);
        let seconds = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_micros
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The Prometheus text, with the engine's error and gap counts and the open TCP connections.
    pub fn render(&self, engine_errors: u64, reader_gaps: u64, tcp: usize) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        metric(
            "kaiwa_relay_connections",
            "gauge",
            "Open WebSocket connections.",
            self.connections.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_tcp_connections",
            "gauge",
            "Open TCP connections (HTTP and WebSocket; --max-connections).",
            tcp.to_string(),
        );
        metric(
            "kaiwa_relay_http_timeouts_total",
            "counter",
            "HTTP connections closed by --header-timeout or --idle-timeout.",
            self.http_timeouts.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_auth_floods_total",
            "counter",
            "Connections closed with 4400 for auth frames over --auth-rate.",
            self.auth_floods.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_events_in_total",
            "counter",
            "Events stored.",
            self.events_in.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_events_out_total",
            "counter",
            "Event frames sent to connections.",
            self.events_out.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_lagging_closes_total",
            "counter",
            "Connections closed with 4008 (lagging).",
            self.lagging_closes.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_reader_gaps_total",
            "counter",
            "Times the Redis reader found entries trimmed before it read them.",
            reader_gaps.to_string(),
        );
        metric(
            "kaiwa_relay_gap_closes_total",
            "counter",
            "Connections closed with 4008 because the Redis reader found a gap (counted in lagging closes too).",
            self.gap_closes.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_ping_timeouts_total",
            "counter",
            "Connections closed with 4009 (no pong for two ping intervals).",
            self.ping_timeouts.load(Relaxed).to_string(),
        );
        metric(
            "kaiwa_relay_engine_errors_total",
            "counter",
            "Engine (Redis) errors and timeouts.",
            engine_errors.to_string(),
        );
        let turned = Turned::ALL.iter().map(|t| t.label()).zip(&self.turned);
        let help = "Connections refused, by the limit that refused them.";
        labeled(
            &mut out,
            "kaiwa_relay_refused_connections_total",
            help,
            "reason",
            turned,
        );
        let refusals = RefusalKind::ALL.iter().map(|k| k.as_str()).zip(&self.refusals);
        labeled(
            &mut out,
            "kaiwa_relay_refusals_total",
            "Publishes refused, by kind.",
            "kind",
            refusals,
        );
        let name = "kaiwa_relay_publish_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a publish frame to its event stored.\n# TYPE {name} histogram"
        );
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", bucket.load(Relaxed));
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.latency_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}

/// A counter family with one label.
fn labeled<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    rows: impl Iterator<Item = (&'a str, &'a AtomicU64)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (value, count) in rows {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {}", count.load(Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let m = Metrics::default();
        m.refused(RefusalKind::TooLarge);
        m.stored(Duration::from_millis(3));
        m.refused_connection(Turned::Address);
        let text = m.render(2, 1, 5);
        assert!(text.contains("kaiwa_relay_tcp_connections 5"), "{text}");
        assert!(
            text.contains("kaiwa_relay_refused_connections_total{reason=\"per-address\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kaiwa_relay_refusals_total{kind=\"too-large\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kaiwa_relay_publish_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kaiwa_relay_publish_seconds_bucket{le=\"0.0025\"} 0"),
            "{text}"
        );
        assert!(text.contains("kaiwa_relay_engine_errors_total 2"), "{text}");
        assert!(text.contains("kaiwa_relay_reader_gaps_total 1"), "{text}");
    }
}
