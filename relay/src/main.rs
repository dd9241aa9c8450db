//! `kaiwa-relay`: parses the command line, installs the schemas, connects
//! the engine and serves (see README.md).

use kaiwa_relay::config::{Config, ConfigError};
use kaiwa_relay::state::StartError;
use kaiwa_relay::{server, state, validate};

/// mimalloc instead of glibc's allocator: with many small, short-lived
/// allocations per event (frames, replies) on a multi-threaded runtime,
/// glibc's spent a fifth of the relay's time in `malloc`/`free` and kept
/// per-thread arenas of freed memory; see README, "Scaling", for the figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "kaiwa_relay=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(message) = run().await {
        eprintln!("kaiwa-relay: {message}");
        std::process::exit(2);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = match Config::parse(std::env::args_os()) {
        Ok(config) => config,
        // clap's own message (and exit code: 0 for --help, 2 for a mistake).
        Err(ConfigError::Flags(e)) => e.exit(),
        Err(e) => return Err(e.into()),
    };
    let defs = match &config.schemas {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| StartError::read("--schemas", path, e))?;
            validate::read_file(&text)?
        }
        None => Vec::new(),
    };
    validate::install(defs, config.mode)?;
    if config.insecure_dev {
        let warning = "INSECURE DEV MODE: connections without a token are anonymous admins: \
                       anyone who can reach this port may publish anything and see every user's events";
        eprintln!("\n  *** {warning} ***\n");
        tracing::warn!("{warning}");
    }
    let state = state::State::new(config).await?;
    Ok(server::serve(state).await?)
}
