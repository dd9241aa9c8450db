//! # kaiwa-relay
//!
//! Carries kaiwa-bus events between browsers and servers over WebSockets,
//! validates them with the bus's own schemas, and stores them in Redis
//! Streams (or a bounded in-memory log) so a client can resume after a drop.
//! PROTOCOL.md is the wire protocol; README.md is how to run it.
//!
//! | module | owns |
//! |---|---|
//! | [`config`] | the command line |
//! | [`protocol`] | frames and close codes |
//! | [`auth`] | tokens and who sees what |
//! | [`validate`] | payload validation with `kaiwa_bus::schema` |
//! | [`event`] | stored events and offsets |
//! | [`engine`] | the memory and Redis engines and the in-process fan-out |
//! | [`publish`] | the publish pipeline shared by WebSocket and HTTP |
//! | [`conn`] | one WebSocket connection |
//! | [`feed`] | what a connection receives: resume, live events, catch-up |
//! | [`http`] | `POST /v1/events`, `/healthz`, `/metrics` |
//! | [`metrics`] | the counters |
//! | [`server`] | the router, start and graceful shutdown |
//! | [`upgrade`] | accepting connections, HTTP/1.1 and the WebSocket upgrade |
#![deny(missing_docs, missing_debug_implementations)]

pub mod auth;
pub mod config;
pub mod conn;
pub mod engine;
pub mod event;
pub mod feed;
pub mod http;
pub mod metrics;
pub mod protocol;
pub mod publish;
pub mod server;
pub mod upgrade;
pub mod validate;
