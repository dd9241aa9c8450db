//! The command line and the environment: everything the relay is told at
//! start, parsed by clap (`derive(Parser)` on [`Config`]); every mistake is
//! an error that names the flag, and `--help` lists them all.
//!
//! Every flag that takes a value may also come from the environment as
//! `KAIWA_RELAY_<FLAG>` (`--max-payload` is `KAIWA_RELAY_MAX_PAYLOAD`); the
//! command line wins. `--insecure-dev` is taken from the command line only,
//! where whoever starts the relay sees it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
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

/// How the fan-out writes events to the sockets of idle connections (`lane.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanoutWrites {
    /// io_uring where the kernel allows it, else `writev`.
    Auto,
    /// io_uring, or the relay does not start.
    IoUring,
    /// One `writev` per socket.
    Writev,
}

/// What `--help` says after the flags.
const AFTER_HELP: &str = "Each flag but --insecure-dev may also be set as KAIWA_RELAY_<FLAG> (--max-payload: \
KAIWA_RELAY_MAX_PAYLOAD); the command line wins.
The HS256 secret for tokens comes from KAIWA_RELAY_SECRET; without it the relay refuses \
to start unless --insecure-dev.";

/// The relay's configuration: the command line as clap reads it (each
/// field's doc is its flag's `--help`), with each flag's `KAIWA_RELAY_*`
/// variable, then the secret.
#[derive(Clone, Debug, Parser)]
#[command(name = "kaiwa-relay", version, about, after_help = AFTER_HELP, allow_negative_numbers = true)]
pub struct Config {
    /// Where to listen (port 0 picks a free port).
    #[arg(long, env = "KAIWA_RELAY_LISTEN", default_value = "127.0.0.1:8787", value_name = "HOST:PORT", value_parser = address)]
    pub listen: SocketAddr,
    /// Where the events are stored: a bounded log in this process, or Redis streams shared by every relay on it.
    #[arg(long, env = "KAIWA_RELAY_ENGINE", default_value = "memory", value_name = "memory|redis", value_parser = engine)]
    pub engine: EngineKind,
    /// The Redis server (redis:// or rediss://, or redis+unix:// for a socket).
    #[arg(
        long,
        env = "KAIWA_RELAY_REDIS_URL",
        hide_env_values = true,
        default_value = "redis://127.0.0.1:6379",
        value_name = "URL"
    )]
    pub redis_url: String,
    /// The CA certificate (PEM) of a rediss:// server, when it is not one the system trusts.
    #[arg(long, env = "KAIWA_RELAY_REDIS_CA", value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
    /// The prefix of the relay's Redis keys (no braces).
    #[arg(long, env = "KAIWA_RELAY_STREAM_PREFIX", default_value = "kaiwa", value_name = "PREFIX", value_parser = prefix)]
    pub stream_prefix: String,
    /// The app's schemas, JSON (`JSON.stringify(events.schemas)`).
    #[arg(long, env = "KAIWA_RELAY_SCHEMAS", value_name = "FILE")]
    pub schemas: Option<PathBuf>,
    /// strict: refuse events without a schema.
    #[arg(long, env = "KAIWA_RELAY_MODE", default_value = "development", value_name = "development|strict", value_parser = mode)]
    pub mode: Mode,
    /// Events kept for resume and idempotent refs.
    #[arg(long, env = "KAIWA_RELAY_RETAIN", default_value = "100000", value_name = "N", value_parser = count)]
    pub retain: usize,
    /// Frames a connection may have waiting to be written.
    #[arg(long, env = "KAIWA_RELAY_QUEUE", default_value = "1024", value_name = "N", value_parser = count)]
    pub queue: usize,
    /// The largest payload accepted, in bytes of JSON.
    #[arg(long, env = "KAIWA_RELAY_MAX_PAYLOAD", default_value = "65536", value_name = "BYTES", value_parser = count)]
    pub max_payload: usize,
    /// Publishes per second per connection (the burst is the same number).
    #[arg(long, env = "KAIWA_RELAY_RATE", default_value = "1000", value_name = "N", value_parser = rate)]
    pub rate: u32,
    /// Publishes per second of one user, over all its connections and HTTP requests.
    #[arg(long, env = "KAIWA_RELAY_USER_RATE", default_value = "1000", value_name = "N", value_parser = rate)]
    pub user_rate: u32,
    /// `auth` frames per minute per connection.
    #[arg(long, env = "KAIWA_RELAY_AUTH_RATE", default_value = "30", value_name = "N", value_parser = rate)]
    pub auth_rate: u32,
    /// How often the relay pings each WebSocket, in seconds (0: never).
    #[arg(long, env = "KAIWA_RELAY_PING_INTERVAL", default_value = "30", value_name = "SECONDS", value_parser = interval)]
    pub ping_interval: Duration,
    /// How long the head of an HTTP request may take to arrive, in seconds.
    #[arg(long, env = "KAIWA_RELAY_HEADER_TIMEOUT", default_value = "10", value_name = "SECONDS", value_parser = seconds)]
    pub header_timeout: Duration,
    /// How long an HTTP answer may wait to be read, and a request body to arrive, in seconds.
    #[arg(long, env = "KAIWA_RELAY_IDLE_TIMEOUT", default_value = "30", value_name = "SECONDS", value_parser = seconds)]
    pub idle_timeout: Duration,
    /// Open TCP connections in this process at most (0: no limit; lowered to what `ulimit -n` allows).
    #[arg(long, env = "KAIWA_RELAY_MAX_CONNECTIONS", default_value = "10000", value_name = "N", value_parser = limit)]
    pub max_connections: usize,
    /// Open TCP connections from one client address at most (0: no limit).
    #[arg(long, env = "KAIWA_RELAY_MAX_CONNECTIONS_PER_ADDRESS", default_value = "1000", value_name = "N", value_parser = limit)]
    pub max_connections_per_address: usize,
    /// Open WebSocket connections of one user (token `sub`) at most (0: no limit).
    #[arg(long, env = "KAIWA_RELAY_MAX_CONNECTIONS_PER_USER", default_value = "64", value_name = "N", value_parser = limit)]
    pub max_connections_per_user: usize,
    /// How the fan-out writes to idle connections: io_uring where the kernel allows it (auto), or always writev.
    #[arg(long, env = "KAIWA_RELAY_FANOUT_WRITES", default_value = "auto", value_name = "auto|io-uring|writev", value_parser = fanout_writes)]
    pub fanout_writes: FanoutWrites,
    /// A web origin whose pages may connect (repeatable, or comma-separated; `*`: any).
    #[arg(long, env = "KAIWA_RELAY_ALLOW_ORIGIN", value_name = "ORIGIN", value_parser = origins)]
    allow_origin: Vec<Origins>,
    /// The origins of every `--allow-origin`, together (see [`Origins`]).
    #[arg(skip)]
    pub origins: Origins,
    /// `KAIWA_RELAY_SECRET`: the HS256 secret for tokens.
    #[arg(skip)]
    pub secret: Option<String>,
    /// Accept connections without a token (anonymous admins): for development only.
    #[arg(long)]
    pub insecure_dev: bool,
}

/// Why the relay cannot start with what it was told.
#[derive(Debug)]
pub enum ConfigError {
    /// A flag or variable clap refused, or `--help` and `--version` (which
    /// are not mistakes: [`clap::Error::exit`] prints them and exits 0).
    Flags(clap::Error),
    /// `KAIWA_RELAY_INSECURE_DEV` is set: the flag is taken from the command line only.
    InsecureDevFromEnv(String),
    /// No `KAIWA_RELAY_SECRET` and no `--insecure-dev`.
    NoSecret,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ConfigError::Flags(e) => write!(f, "{e}"),
            ConfigError::InsecureDevFromEnv(value) => write!(
                f,
                "KAIWA_RELAY_INSECURE_DEV={value} (--insecure-dev): --insecure-dev is taken from the command line only, where it can be seen"
            ),
            ConfigError::NoSecret => f.write_str(
                "KAIWA_RELAY_SECRET is not set: set it to the HS256 secret your app signs \
                 tokens with, or pass --insecure-dev to accept anonymous connections",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

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

    /// Parses the command line (with the program name first) and this
    /// process's environment: each flag's `KAIWA_RELAY_*` variable, and the
    /// secret, `KAIWA_RELAY_SECRET`.
    pub fn parse<I: IntoIterator<Item = T>, T: Into<OsString> + Clone>(args: I) -> Result<Config, ConfigError> {
        let mut config = Config::try_parse_from(args).map_err(ConfigError::Flags)?;
        if let Some(value) = std::env::var_os("KAIWA_RELAY_INSECURE_DEV") {
            return Err(ConfigError::InsecureDevFromEnv(value.to_string_lossy().into_owned()));
        }
        config.secret = std::env::var("KAIWA_RELAY_SECRET").ok().filter(|s| !s.is_empty());
        if config.secret.is_none() && !config.insecure_dev {
            return Err(ConfigError::NoSecret);
        }
        for listed in std::mem::take(&mut config.allow_origin) {
            config.origins.merge(listed);
        }
        Ok(config)
    }
}

// The value parsers: each says what it expected, after clap's "invalid
// value 'X' for '--flag <N>':".

fn address(value: &str) -> Result<SocketAddr, &'static str> {
    value.parse().map_err(|_| "expected host:port")
}

fn engine(value: &str) -> Result<EngineKind, &'static str> {
    match value {
        "memory" => Ok(EngineKind::Memory),
        "redis" => Ok(EngineKind::Redis),
        _ => Err("expected memory or redis"),
    }
}

fn fanout_writes(value: &str) -> Result<FanoutWrites, &'static str> {
    match value {
        "auto" => Ok(FanoutWrites::Auto),
        "io-uring" => Ok(FanoutWrites::IoUring),
        "writev" => Ok(FanoutWrites::Writev),
        _ => Err("expected auto, io-uring or writev"),
    }
}

fn mode(value: &str) -> Result<Mode, &'static str> {
    match value {
        "development" => Ok(Mode::Development),
        "strict" => Ok(Mode::Strict),
        _ => Err("expected development or strict"),
    }
}

fn prefix(value: &str) -> Result<String, &'static str> {
    if value.is_empty() || value.contains(['{', '}']) {
        return Err("expected a non-empty prefix without braces");
    }
    Ok(value.to_string())
}

fn count(value: &str) -> Result<usize, &'static str> {
    value
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or("expected a positive integer")
}

fn rate(value: &str) -> Result<u32, &'static str> {
    count(value).and_then(|n| u32::try_from(n).map_err(|_| "expected a positive integer"))
}

fn limit(value: &str) -> Result<usize, &'static str> {
    value.parse::<usize>().map_err(|_| "expected a number (0: no limit)")
}

fn duration(value: &str) -> Option<Duration> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

fn interval(value: &str) -> Result<Duration, &'static str> {
    duration(value).ok_or("expected seconds (0 turns pings off)")
}

fn seconds(value: &str) -> Result<Duration, &'static str> {
    duration(value)
        .filter(|d| !d.is_zero())
        .ok_or("expected a positive number of seconds")
}

fn origins(value: &str) -> Result<Origins, crate::origin::OriginError> {
    let mut origins = Origins::default();
    origins.add(value)?;
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// The environment is the process's: one test at a time sets it.
    static ENV: Mutex<()> = Mutex::new(());

    /// Parses `line` with exactly the `KAIWA_RELAY_*` variables `env`.
    fn parse(line: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let _lock = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let ours: Vec<String> = std::env::vars()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("KAIWA_RELAY_"))
            .collect();
        for key in ours {
            std::env::remove_var(key);
        }
        for (key, value) in env {
            std::env::set_var(key, value);
        }
        let parsed = Config::parse(std::iter::once("kaiwa-relay").chain(line.split_whitespace()));
        for (key, _) in env {
            std::env::remove_var(key);
        }
        parsed
    }

    const SECRET: (&str, &str) = ("KAIWA_RELAY_SECRET", "s");

    fn err(line: &str) -> String {
        parse(line, &[SECRET]).unwrap_err().to_string()
    }

    #[test]
    fn defaults_and_flags() {
        let c = parse("", &[SECRET]).unwrap();
        assert_eq!(c.engine, EngineKind::Memory);
        assert_eq!((c.retain, c.queue, c.max_payload), (100_000, 1024, 65_536));
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 8787)));
        assert_eq!((c.rate, c.user_rate, c.auth_rate), (1000, 1000, 30));
        assert_eq!(
            (
                c.max_connections,
                c.max_connections_per_address,
                c.max_connections_per_user
            ),
            (10_000, 1000, 64)
        );
        assert_eq!(
            (c.header_timeout, c.idle_timeout),
            (Duration::from_secs(10), Duration::from_secs(30))
        );
        assert_eq!(
            (c.redis_url.as_str(), c.stream_prefix.as_str()),
            ("redis://127.0.0.1:6379", "kaiwa")
        );
        assert!(!c.origins.is_set() && !c.insecure_dev && c.secret.as_deref() == Some("s"));
        let c = parse(
            "--engine redis --listen 127.0.0.1:0 --mode strict --retain 10 --insecure-dev",
            &[],
        )
        .unwrap();
        assert_eq!(c.engine, EngineKind::Redis);
        assert_eq!(c.mode, Mode::Strict);
        assert_eq!(c.listen.port(), 0);
        assert!(c.insecure_dev);
        assert_eq!(c.ping_interval, Duration::from_secs(30));
        let c = parse("--redis-ca ca.pem", &[SECRET]).unwrap();
        assert_eq!(c.redis_ca, Some(PathBuf::from("ca.pem")));
        let c = parse("--ping-interval 0.25 --max-connections 0", &[SECRET]).unwrap();
        assert_eq!(c.ping_interval, Duration::from_millis(250));
        assert_eq!(c.max_connections, 0);
        let c = parse(
            "--allow-origin https://a.example --allow-origin https://b.example,https://c.example",
            &[SECRET],
        )
        .unwrap();
        for origin in ["https://a.example", "https://b.example", "https://c.example"] {
            assert!(c.origins.check(Some(origin.as_bytes()), false).is_ok(), "{origin}");
        }
        assert!(c.origins.check(Some(b"https://d.example"), false).is_err());
    }

    #[test]
    fn flags_come_from_the_environment_too_and_the_command_line_wins() {
        let env = [
            SECRET,
            ("KAIWA_RELAY_MAX_PAYLOAD", "100"),
            ("KAIWA_RELAY_RATE", "7"),
            ("KAIWA_RELAY_ALLOW_ORIGIN", "https://a.example,https://b.example"),
            // Other programs' KAIWA_RELAY_* variables are not the relay's.
            ("KAIWA_RELAY_URL", "http://127.0.0.1:1"),
        ];
        let c = parse("--rate 9", &env).unwrap();
        assert_eq!((c.max_payload, c.rate), (100, 9));
        assert!(c.origins.check(Some(b"https://b.example"), false).is_ok());
        assert!(c.origins.check(Some(b"https://c.example"), false).is_err());
        let c = parse("--allow-origin https://c.example", &env).unwrap();
        assert!(
            c.origins.check(Some(b"https://a.example"), false).is_err(),
            "the command line's list replaces the environment's"
        );
        let e = parse("", &[SECRET, ("KAIWA_RELAY_QUEUE", "none")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("invalid value 'none' for '--queue <N>': expected a positive integer"),
            "{e}"
        );
        let dev = parse("", &[("KAIWA_RELAY_INSECURE_DEV", "1")]).unwrap_err().to_string();
        assert_eq!(
            dev,
            "KAIWA_RELAY_INSECURE_DEV=1 (--insecure-dev): --insecure-dev is taken from the command line only, where it can be seen"
        );
    }

    #[test]
    fn mistakes_name_the_flag() {
        for (line, says) in [
            (
                "--engine postgres",
                "invalid value 'postgres' for '--engine <memory|redis>': expected memory or redis",
            ),
            (
                "--retain 0",
                "invalid value '0' for '--retain <N>': expected a positive integer",
            ),
            ("--queue", "a value is required for '--queue <N>' but none was supplied"),
            ("--frobnicate 1", "unexpected argument '--frobnicate' found"),
            (
                "--ping-interval -1",
                "invalid value '-1' for '--ping-interval <SECONDS>': expected seconds (0 turns pings off)",
            ),
            (
                "--header-timeout 0",
                "invalid value '0' for '--header-timeout <SECONDS>': expected a positive number of seconds",
            ),
            (
                "--stream-prefix a{b}",
                "invalid value 'a{b}' for '--stream-prefix <PREFIX>'",
            ),
            (
                "--allow-origin https://a.example/x",
                "invalid value 'https://a.example/x' for '--allow-origin <ORIGIN>'",
            ),
            ("--max-connections x", "expected a number (0: no limit)"),
            (
                "--rate 5000000000",
                "invalid value '5000000000' for '--rate <N>': expected a positive integer",
            ),
        ] {
            let e = err(line);
            assert!(e.contains(says), "{line}: {e}");
        }
        let no_secret = parse("", &[]).unwrap_err().to_string();
        assert!(no_secret.starts_with("KAIWA_RELAY_SECRET is not set"), "{no_secret}");
    }

    #[test]
    fn help_lists_every_flag_and_is_not_a_mistake() {
        let Err(ConfigError::Flags(help)) = parse("--help", &[SECRET]) else {
            panic!("--help parsed as a configuration");
        };
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(help.exit_code(), 0);
        let text = help.to_string();
        let flags = [
            "listen",
            "engine",
            "redis-url",
            "redis-ca",
            "stream-prefix",
            "schemas",
            "mode",
            "retain",
            "queue",
            "max-payload",
            "rate",
            "user-rate",
            "auth-rate",
            "ping-interval",
            "header-timeout",
            "idle-timeout",
            "max-connections",
            "max-connections-per-address",
            "max-connections-per-user",
            "allow-origin",
            "insecure-dev",
        ];
        for flag in flags {
            assert!(
                text.contains(&format!("--{flag} ")) || text.contains(&format!("--{flag}\n")),
                "--{flag} in\n{text}"
            );
            if flag != "insecure-dev" {
                let var = format!("KAIWA_RELAY_{}", flag.to_uppercase().replace('-', "_"));
                assert!(text.contains(&format!("[env: {var}")), "{var} in\n{text}");
            }
        }
        assert!(text.contains("KAIWA_RELAY_SECRET"), "{text}");
        assert!(!text.contains("[env: KAIWA_RELAY_INSECURE_DEV"), "{text}");
        // A Redis URL may hold a password: --help does not print the variable's value.
        let Err(ConfigError::Flags(help)) = parse("--help", &[SECRET, ("KAIWA_RELAY_REDIS_URL", "redis://:pw@h")])
        else {
            panic!("--help parsed as a configuration");
        };
        assert!(!help.to_string().contains(":pw@"), "{help}");
        let Err(ConfigError::Flags(bad)) = parse("--retain 0", &[SECRET]) else {
            panic!("--retain 0 parsed");
        };
        assert_eq!(bad.exit_code(), 2);
    }
}
