//! The command line and the environment: everything the relay is told at
//! start. Parsed by hand (a dozen flags do not need a parser crate); every
//! mistake is an error that names the flag.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kaiwa_bus::Mode;

/// Which store holds the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineKind {
    /// A bounded log in this process.
    Memory,
    /// A Redis stream shared by every relay on the same Redis.
    Redis,
}

/// The relay's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (`--listen`, port 0 picks a free port).
    pub listen: SocketAddr,
    /// `--engine memory|redis`.
    pub engine: EngineKind,
    /// `--redis-url`.
    pub redis_url: String,
    /// `--stream-prefix`: the Redis key prefix (see README, stream layout).
    pub stream_prefix: String,
    /// `--schemas FILE`: extra schemas, JSON (see README).
    pub schemas: Option<PathBuf>,
    /// `--mode development|strict`.
    pub mode: Mode,
    /// `--retain`: events kept for resume and idempotent refs.
    pub retain: usize,
    /// `--queue`: events a connection may have waiting to be written.
    pub queue: usize,
    /// `--max-payload`: the largest payload accepted, in bytes of JSON.
    pub max_payload: usize,
    /// `--rate`: publishes per second per connection (the burst is the same number).
    pub rate: u32,
    /// `--ping-interval`: how often the relay pings each WebSocket (zero: never).
    pub ping_interval: Duration,
    /// `--insecure-dev`: accept connections without a token.
    pub insecure_dev: bool,
    /// `KAIWA_RELAY_SECRET`: the HS256 secret for tokens.
    pub secret: Option<String>,
}

/// The usage text for `--help` and for mistakes.
pub const USAGE: &str = "usage: kaiwa-relay [--listen 127.0.0.1:8787] [--engine memory|redis] \
[--redis-url redis://127.0.0.1:6379] [--stream-prefix kaiwa] [--schemas FILE] \
[--mode development|strict] [--retain 100000] [--queue 1024] [--max-payload 65536] \
[--rate 1000] [--ping-interval 30] [--insecure-dev]
The HS256 secret for tokens comes from KAIWA_RELAY_SECRET; without it the relay refuses \
to start unless --insecure-dev.";

impl Config {
    /// The largest frame a connection reads: frames up to twice the payload
    /// limit are read and refused politely (`too-large`); larger ones close
    /// the connection with 1009.
    pub fn frame_limit(&self) -> usize {
        self.max_payload.saturating_mul(2).saturating_add(64 * 1024)
    }

    /// What `welcome` tells clients they may send.
    pub fn limits(&self) -> crate::protocol::Limits {
        crate::protocol::Limits {
            payload: self.max_payload,
            frame: self.frame_limit(),
            reference: crate::protocol::MAX_REF_BYTES,
        }
    }

    /// Parses the arguments (without the program name) and the secret.
    pub fn parse(args: &[String], secret: Option<String>) -> Result<Config, String> {
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            engine: EngineKind::Memory,
            redis_url: "redis://127.0.0.1:6379".into(),
            stream_prefix: "kaiwa".into(),
            schemas: None,
            mode: Mode::Development,
            retain: 100_000,
            queue: 1024,
            max_payload: 65_536,
            rate: 1000,
            ping_interval: Duration::from_secs(30),
            insecure_dev: false,
            secret: secret.filter(|s| !s.is_empty()),
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if flag == "--insecure-dev" {
                config.insecure_dev = true;
                continue;
            }
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.into());
            }
            let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let bad = |what: &str| format!("{flag} {value}: {what}");
            match flag.as_str() {
                "--listen" => config.listen = value.parse().map_err(|_| bad("expected host:port"))?,
                "--engine" => {
                    config.engine = match value.as_str() {
                        "memory" => EngineKind::Memory,
                        "redis" => EngineKind::Redis,
                        _ => return Err(bad("expected memory or redis")),
                    }
                }
                "--redis-url" => config.redis_url = value.clone(),
                "--stream-prefix" => {
                    if value.is_empty() || value.contains(['{', '}']) {
                        return Err(bad("expected a non-empty prefix without braces"));
                    }
                    config.stream_prefix = value.clone();
                }
                "--schemas" => config.schemas = Some(PathBuf::from(value)),
                "--mode" => {
                    config.mode = match value.as_str() {
                        "development" => Mode::Development,
                        "strict" => Mode::Strict,
                        _ => return Err(bad("expected development or strict")),
                    }
                }
                "--retain" => config.retain = positive(value).ok_or_else(|| bad("expected a positive integer"))?,
                "--queue" => config.queue = positive(value).ok_or_else(|| bad("expected a positive integer"))?,
                "--max-payload" => {
                    config.max_payload = positive(value).ok_or_else(|| bad("expected a positive integer"))?
                }
                "--rate" => {
                    config.rate = positive(value)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| bad("expected a positive integer"))?
                }
                "--ping-interval" => {
                    config.ping_interval = value
                        .parse::<f64>()
                        .ok()
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or_else(|| bad("expected seconds (0 turns pings off)"))?
                }
                _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
            }
        }
        if config.secret.is_none() && !config.insecure_dev {
            return Err(
                "KAIWA_RELAY_SECRET is not set: set it to the HS256 secret your app signs \
                        tokens with, or pass --insecure-dev to accept anonymous connections"
                    .into(),
            );
        }
        Ok(config)
    }
}

fn positive(text: &str) -> Option<usize> {
    text.parse::<usize>().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn defaults_and_flags() {
        let c = Config::parse(&args(""), Some("s".into())).unwrap();
        assert_eq!(c.engine, EngineKind::Memory);
        assert_eq!((c.retain, c.queue, c.max_payload), (100_000, 1024, 65_536));
        let c = Config::parse(
            &args("--engine redis --listen 127.0.0.1:0 --mode strict --retain 10 --insecure-dev"),
            None,
        )
        .unwrap();
        assert_eq!(c.engine, EngineKind::Redis);
        assert_eq!(c.mode, Mode::Strict);
        assert_eq!(c.listen.port(), 0);
        assert!(c.insecure_dev);
        assert_eq!(c.ping_interval, Duration::from_secs(30));
        let c = Config::parse(&args("--ping-interval 0.25"), Some("s".into())).unwrap();
        assert_eq!(c.ping_interval, Duration::from_millis(250));
    }

    #[test]
    fn mistakes_name_the_flag() {
        let err = |a: &str| Config::parse(&args(a), Some("s".into())).unwrap_err();
        assert!(err("--engine postgres").starts_with("--engine postgres"));
        assert!(err("--retain 0").starts_with("--retain 0"));
        assert!(err("--queue").starts_with("--queue needs a value"));
        assert!(err("--frobnicate 1").starts_with("unknown flag --frobnicate"));
        assert!(err("--ping-interval -1").starts_with("--ping-interval -1"));
        assert!(err("--stream-prefix a{b}").starts_with("--stream-prefix"));
        let no_secret = Config::parse(&args(""), None).unwrap_err();
        assert!(no_secret.contains("KAIWA_RELAY_SECRET"), "{no_secret}");
    }
}
