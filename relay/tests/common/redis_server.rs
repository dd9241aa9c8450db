//! A `redis-server` of our own, for the tests on the Redis engine.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::{free_port, scratch, WAIT};

/// A `redis-server` of our own.
pub struct Redis {
    pub port: u16,
    pub dir: PathBuf,
    persistent: bool,
    child: Option<Child>,
    /// More `redis-server` arguments (later ones win: `--port 0` turns
    /// plain TCP off), and the `redis-cli` arguments that go with them.
    server_args: Vec<String>,
    cli_args: Vec<String>,
}

impl Redis {
    /// Starts one; `persistent` turns on the append-only file (fsync always).
    pub async fn start(name: &str, persistent: bool) -> Redis {
        Redis::start_with(name, persistent, |_| (Vec::new(), Vec::new())).await
    }

    /// Starts one with the server and `redis-cli` arguments that `args`
    /// makes from its port and directory.
    pub async fn start_with(
        name: &str,
        persistent: bool,
        args: impl FnOnce(&Redis) -> (Vec<String>, Vec<String>),
    ) -> Redis {
        let mut r = Redis {
            port: free_port(),
            dir: scratch(&format!("redis-{name}")),
            persistent,
            child: None,
            server_args: Vec::new(),
            cli_args: Vec::new(),
        };
        (r.server_args, r.cli_args) = args(&r);
        r.restart().await;
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts it on the same port and directory.
    pub async fn restart(&mut self) {
        let aof = if self.persistent {
            ["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            ["--appendonly", "no", "--appendfsync", "no"]
        };
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(aof)
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.server_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server (scripts/setup.sh redis installs it)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs a command with `redis-cli` (with `password`, once one is set).
    pub async fn cli(&self, password: Option<&str>, args: &[&str]) -> String {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-p", &self.port.to_string()]).args(&self.cli_args);
        if let Some(p) = password {
            cmd.args(["-a", p, "--no-auth-warning"]);
        }
        let out = cmd.args(args).output().await.expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `kill -9`.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().await.unwrap();
        }
    }
}
