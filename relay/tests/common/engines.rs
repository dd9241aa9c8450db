//! Suites that run on both engines: a relay on each, with its own
//! `redis-server` for the Redis engine.

use super::{Redis, Relay};

/// The two engines, for the suites that run on both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Engine {
    Memory,
    Redis,
}

pub const ENGINES: [Engine; 2] = [Engine::Memory, Engine::Redis];

/// A relay on one engine, with its own `redis-server` for `Engine::Redis`
/// (alive as long as this).
pub struct OnEngine {
    pub relay: Relay,
    pub redis: Option<Redis>,
}

impl OnEngine {
    pub async fn start(engine: Engine, name: &str, extra: &[&str]) -> OnEngine {
        match engine {
            Engine::Memory => OnEngine {
                relay: Relay::memory(extra).await,
                redis: None,
            },
            Engine::Redis => {
                let redis = Redis::start(name, false).await;
                let relay = Relay::redis(&redis, extra).await;
                OnEngine {
                    relay,
                    redis: Some(redis),
                }
            }
        }
    }
}
