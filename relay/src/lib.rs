//! # kaiwa-relay
//!
//! Carries kaiwa-bus events between browsers and servers over WebSockets,
//! validates them with the bus's own schemas, and stores them in Redis
//! Streams (or a bounded in-memory log) so a client can resume after a drop.
//! PROTOCOL.md is the wire protocol; README.md is how to run it.
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | the command line and the environment |
//! | [`protocol`] | frames and close codes |
//! | [`contract`] | `js/relay/contract.js`, the protocol's facts for the JS client |
//! | [`auth`] | tokens and who sees what |
//! | [`validate`] | payload validation with `kaiwa_bus::schema` |
//! | [`event`] | stored events and offsets |
//! | [`engine`] | `trait Engine`, the memory and Redis engines, and the in-process fan-out |
//! | [`publish`] | the publish pipeline shared by WebSocket and HTTP |
//! | [`conn`] | one WebSocket connection |
//! | [`outbox`] | a connection's sending half: batches, pongs, the close |
//! | [`feed`] | what a connection receives: resume, live events, catch-up |
//! | [`lane`] | a connection's socket, shared with the fan-out: events written without waking its task |
//! | [`filter`] | sets of patterns: subscriptions, and what a token allows |
//! | [`http`] | `POST /v1/events`, `/healthz`, `/metrics` |
//! | [`metrics`] | the counters |
//! | [`state`] | what connections share: config, engine, counters, admission, the shutdown signal |
//! | [`server`] | the router, start and graceful shutdown |
//! | [`upgrade`] | accepting connections, HTTP/1.1 and the WebSocket upgrade |
//! | [`origin`] | which web pages may connect (`--allow-origin`) |
//! | [`users`] | limits per user: publishes per second, connections |
#![deny(missing_docs, missing_debug_implementations)]

pub mod auth;
pub mod config;
pub mod conn;
pub mod contract;
pub mod engine;
pub mod event;
pub mod feed;
pub mod filter;
pub mod http;
pub mod lane;
pub mod metrics;
pub mod origin;
pub mod outbox;
pub mod protocol;
pub mod publish;
pub mod server;
pub mod state;
pub mod upgrade;
pub mod users;
pub mod validate;
