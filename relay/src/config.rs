//! The command line and the environment: everything the relay is told at
//! start. Parsed by hand (a dozen flags do not need a parser crate); every
//! mistake is an error that names the flag (or the variable).
//!
//! Every flag that takes a value may also come from the environment as
//! `KAIWA_RELAY_<FLAG>` (`--max-payload` is `KAIWA_RELAY_MAX_PAYLOAD`); the
//! command line wins. `--insecure-dev` is taken from the command line only,
//! where whoever starts the relay sees it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use kaiwa_bus::Mode;

use crate::origin::Origins;

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
    /// `--redis-url` (or `KAIWA_RELAY_REDIS_URL`).
    pub redis_url: String,
    /// `--redis-ca FILE`: the CA certificate (PEM) of a `rediss://` server,
    /// when it is not one the system trusts.
    pub redis_ca: Option<PathBuf>,
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
    /// `--allow-origin` (repeatable, or comma-separated): the web origins
    /// whose pages may connect (see [`Origins`]).
    pub origins: Origins,
    /// `--max-connections`: open TCP connections (HTTP and WebSocket) at
    /// most, in this process (0: no limit).
    pub max_connections: usize,
    /// `--max-connections-per-address`: open TCP connections from one
    /// client address at most (0: no limit).
    pub max_connections_per_address: usize,
    /// `--max-connections-per-user`: open WebSocket connections of one user
    /// (token `sub`) at most (0: no limit).
    pub max_connections_per_user: usize,
    /// `--user-rate`: publishes per second of one user across all its
    /// connections and HTTP requests (the burst is the same number).
    pub user_rate: u32,
    /// `--auth-rate`: `auth` frames per minute per connection (the burst is the same number).
    pub auth_rate: u32,
    /// `--header-timeout`: how long the head of an HTTP request may take to
    /// arrive, counted from the connection's start or the previous answer.
    pub header_timeout: Duration,
    /// `--idle-timeout`: how long an HTTP answer may wait for the client to
    /// read it, and the longest a request body may take to arrive.
    pub idle_timeout: Duration,
    /// `KAIWA_RELAY_SECRET`: the HS256 secret for tokens.
    pub secret: Option<String>,
}

/// The usage text for `--help` and for mistakes.
pub const USAGE: &str = "usage: kaiwa-relay [--listen 127.0.0.1:8787] [--engine memory|redis] \
[--redis-url redis://127.0.0.1:6379] [--redis-ca FILE] [--stream-prefix kaiwa] [--schemas FILE] \
[--mode development|strict] [--retain 100000] [--queue 1024] [--max-payload 65536] \
[--rate 1000] [--user-rate 1000] [--auth-rate 30] [--ping-interval 30] [--header-timeout 10] \
[--idle-timeout 30] [--max-connections 10000] [--max-connections-per-address 1000] \
[--max-connections-per-user 64] [--allow-origin ORIGIN]... [--insecure-dev]
Each flag but --insecure-dev may also be set as KAIWA_RELAY_<FLAG> (--max-payload: \
KAIWA_RELAY_MAX_PAYLOAD); the command line wins.
The HS256 secret for tokens comes from KAIWA_RELAY_SECRET; without it the relay refuses \
to start unless --insecure-dev.";

/// Where a setting came from, for the error that names it.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Args,
    Env,
}

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

    /// Parses the arguments (without the program name) and the environment
    /// (its `KAIWA_RELAY_*` variables: the secret and flags; others are ignored).
    pub fn parse(args: &[String], env: &[(String, String)]) -> Result<Config, String> {
        let secret = env
            .iter()
            .find(|(k, _)| k == "KAIWA_RELAY_SECRET")
            .map(|(_, v)| v.clone());
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            engine: EngineKind::Memory,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_ca: None,
            stream_prefix: "kaiwa".into(),
            schemas: None,
            mode: Mode::Development,
            retain: 100_000,
            queue: 1024,
            max_payload: 65_536,
            rate: 1000,
            ping_interval: Duration::from_secs(30),
            insecure_dev: false,
            origins: Origins::default(),
            max_connections: 10_000,
            max_connections_per_address: 1000,
            max_connections_per_user: 64,
            user_rate: 1000,
            auth_rate: 30,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            secret: secret.filter(|s| !s.is_empty()),
        };
        let mut pairs: Vec<(String, Option<&String>, Source)> = Vec::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" {
                return Err(USAGE.into());
            }
            let value = if flag == "--insecure-dev" {
                None
            } else {
                Some(it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?)
            };
            pairs.push((flag.clone(), value, Source::Args));
        }
        // The environment first, for the flags the command line does not set.
        let from_env = env.iter().filter_map(|(key, value)| {
            let flag = format!(
                "--{}",
                key.strip_prefix("KAIWA_RELAY_")?.to_lowercase().replace('_', "-")
            );
            (flag != "--secret" && !pairs.iter().any(|(f, _, _)| *f == flag)).then_some((
                flag,
                Some(value),
                Source::Env,
            ))
        });
        let env_pairs: Vec<_> = from_env.collect();
        for (flag, value, source) in env_pairs.into_iter().chain(pairs) {
            match config.set(&flag, value.map(String::as_str)) {
                Ok(()) => {}
                // Other programs' KAIWA_RELAY_* variables (KAIWA_RELAY_URL...) are not the relay's.
                Err(None) if source == Source::Env => {}
                Err(None) => return Err(format!("unknown flag {flag}\n{USAGE}")),
                Err(Some(what)) => {
                    let value = value.map_or("", String::as_str);
                    return Err(match source {
                        Source::Args => format!("{flag} {value}: {what}"),
                        Source::Env => {
                            let var = format!(
                                "KAIWA_RELAY_{}",
                                flag.trim_start_matches('-').to_uppercase().replace('-', "_")
                            );
                            format!("{var}={value} ({flag}): {what}")
                        }
                    });
                }
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

    /// Sets one flag: `Err(None)` for an unknown flag, `Err(Some(why))` for a bad value.
    fn set(&mut self, flag: &str, value: Option<&str>) -> Result<(), Option<String>> {
        let Some(value) = value else {
            if flag != "--insecure-dev" {
                return Err(None);
            }
            self.insecure_dev = true;
            return Ok(());
        };
        let bad = |what: &str| Some(what.to_string());
        let count = || positive(value).ok_or_else(|| bad("expected a positive integer"));
        let limit = || {
            value
                .parse::<usize>()
                .map_err(|_| bad("expected a number (0: no limit)"))
        };
        let rate = || count().and_then(|n| u32::try_from(n).map_err(|_| bad("expected a positive integer")));
        let seconds = |zero: bool| {
            value
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .filter(|d| zero || !d.is_zero())
                .ok_or_else(|| {
                    bad(if zero {
                        "expected seconds (0 turns pings off)"
                    } else {
                        "expected a positive number of seconds"
                    })
                })
        };
        match flag {
            "--insecure-dev" => {
                return Err(bad(
                    "--insecure-dev is taken from the command line only, where it can be seen",
                ))
            }
            "--listen" => self.listen = value.parse().map_err(|_| bad("expected host:port"))?,
            "--engine" => {
                self.engine = match value {
                    "memory" => EngineKind::Memory,
                    "redis" => EngineKind::Redis,
                    _ => return Err(bad("expected memory or redis")),
                }
            }
            "--redis-url" => self.redis_url = value.to_string(),
            "--redis-ca" => self.redis_ca = Some(PathBuf::from(value)),
            "--stream-prefix" => {
                if value.is_empty() || value.contains(['{', '}']) {
                    return Err(bad("expected a non-empty prefix without braces"));
                }
                self.stream_prefix = value.to_string();
            }
            "--schemas" => self.schemas = Some(PathBuf::from(value)),
            "--mode" => {
                self.mode = match value {
                    "development" => Mode::Development,
                    "strict" => Mode::Strict,
                    _ => return Err(bad("expected development or strict")),
                }
            }
            "--retain" => self.retain = count()?,
            "--queue" => self.queue = count()?,
            "--max-payload" => self.max_payload = count()?,
            "--rate" => self.rate = rate()?,
            "--user-rate" => self.user_rate = rate()?,
            "--auth-rate" => self.auth_rate = rate()?,
            "--ping-interval" => self.ping_interval = seconds(true)?,
            "--header-timeout" => self.header_timeout = seconds(false)?,
            "--idle-timeout" => self.idle_timeout = seconds(false)?,
            "--max-connections" => self.max_connections = limit()?,
            "--max-connections-per-address" => self.max_connections_per_address = limit()?,
            "--max-connections-per-user" => self.max_connections_per_user = limit()?,
            "--allow-origin" => self.origins.add(value).map_err(Some)?,
            _ => return Err(None),
        }
        Ok(())
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

    fn secret() -> Vec<(String, String)> {
        vec![("KAIWA_RELAY_SECRET".into(), "s".into())]
    }

    #[test]
    fn defaults_and_flags() {
        let c = Config::parse(&args(""), &secret()).unwrap();
        assert_eq!(c.engine, EngineKind::Memory);
        assert_eq!((c.retain, c.queue, c.max_payload), (100_000, 1024, 65_536));
        let c = Config::parse(
            &args("--engine redis --listen 127.0.0.1:0 --mode strict --retain 10 --insecure-dev"),
            &[],
        )
        .unwrap();
        assert_eq!(c.engine, EngineKind::Redis);
        assert_eq!(c.mode, Mode::Strict);
        assert_eq!(c.listen.port(), 0);
        assert!(c.insecure_dev);
        assert_eq!(c.ping_interval, Duration::from_secs(30));
        let c = Config::parse(&args("--redis-ca ca.pem"), &secret()).unwrap();
        assert_eq!(c.redis_ca, Some(PathBuf::from("ca.pem")));
        let c = Config::parse(&args("--ping-interval 0.25 --max-connections 0"), &secret()).unwrap();
        assert_eq!(c.ping_interval, Duration::from_millis(250));
        assert_eq!(c.max_connections, 0);
    }

    #[test]
    fn flags_come_from_the_environment_too_and_the_command_line_wins() {
        let mut env = secret();
        env.push(("KAIWA_RELAY_MAX_PAYLOAD".into(), "100".into()));
        env.push(("KAIWA_RELAY_RATE".into(), "7".into()));
        env.push((
            "KAIWA_RELAY_ALLOW_ORIGIN".into(),
            "https://a.example,https://b.example".into(),
        ));
        env.push(("KAIWA_RELAY_URL".into(), "http://127.0.0.1:1".into()));
        let c = Config::parse(&args("--rate 9"), &env).unwrap();
        assert_eq!((c.max_payload, c.rate), (100, 9));
        assert!(c.origins.check(Some(b"https://b.example"), false).is_ok());
        assert!(c.origins.check(Some(b"https://c.example"), false).is_err());
        let c = Config::parse(&args("--allow-origin https://c.example"), &env).unwrap();
        assert!(
            c.origins.check(Some(b"https://a.example"), false).is_err(),
            "the command line's list replaces the environment's"
        );
        env.push(("KAIWA_RELAY_QUEUE".into(), "none".into()));
        let err = Config::parse(&[], &env).unwrap_err();
        assert!(err.starts_with("KAIWA_RELAY_QUEUE=none (--queue)"), "{err}");
        let dev = Config::parse(&[], &[("KAIWA_RELAY_INSECURE_DEV".into(), "1".into())]).unwrap_err();
        assert!(dev.contains("command line only"), "{dev}");
    }

    #[test]
    fn mistakes_name_the_flag() {
        let err = |a: &str| Config::parse(&args(a), &secret()).unwrap_err();
        assert!(err("--engine postgres").starts_with("--engine postgres"));
        assert!(err("--retain 0").starts_with("--retain 0"));
        assert!(err("--queue").starts_with("--queue needs a value"));
        assert!(err("--frobnicate 1").starts_with("unknown flag --frobnicate"));
        assert!(err("--ping-interval -1").starts_with("--ping-interval -1"));
        assert!(err("--header-timeout 0").starts_with("--header-timeout 0"));
        assert!(err("--stream-prefix a{b}").starts_with("--stream-prefix"));
        assert!(err("--allow-origin https://a.example/x").starts_with("--allow-origin"));
        let no_secret = Config::parse(&args(""), &[]).unwrap_err();
        assert!(no_secret.contains("KAIWA_RELAY_SECRET"), "{no_secret}");
    }
}
