//! # kaiwa-bus
//!
//! A typed, schema-validated event bus. The JavaScript package wraps this
//! crate's WebAssembly build; this page is the map of the Rust side.
//!
//! | module | owns |
//! |---|---|
//! | [`base`] | what every layer shares: a validation issue, the naming convention, number text without `core::fmt` |
//! | [`contract`] | `js/core/contract.js`, generated: what JS shares with Rust |
//! | [`core`] | names and patterns, the handler registry, history, statistics, and [`core::Core`], the emit state machine |
//! | [`schema`] | schemas, the seed's 21-event [`schema::catalog`], the descriptor notation, and validation |
//! | [`local`] | [`local::LocalBus`], a Rust-native bus over the core with `Fn` handlers |
//! | [`error`] | one error type per operation ([`error::NameError`], [`error::InternError`], [`error::EmitError`], [`error::SchemaError`]) and [`Error`], any of them |
//! | [`intern`] | strings to small integers |
//! | [`limits`] | every limit the bus enforces |
//! | `wasm` | (wasm32 only) the bindings the JavaScript layer calls; not a public API |
//!
//! ## How an emit runs
//!
//! The core never calls a handler itself. A dispatcher (the JS layer in the
//! browser, [`local::LocalBus`] in Rust) asks [`core::Core::begin`] to
//! validate and record the event, gets a snapshot of the handlers, calls them
//! with its own error handling, then reports with [`core::Core::finish`].
//! That keeps every `RefCell` borrow short and lets the JS layer cross the
//! JS/wasm boundary twice per emit, whatever the number of handlers.
#![deny(missing_docs, missing_debug_implementations)]
// The npm package's build (`make pkg`, feature `wasm-no-std`) links no `std`:
// std's panic handler formats its message with `core::fmt` and brings
// several KB of formatting code into the `.wasm` even with
// `panic = "abort"`; `wasm::trap` (a bare `unreachable`) replaces it.
// Every other build (host, `cargo test`, the wasm tests) is a `std` crate.
#![cfg_attr(all(target_arch = "wasm32", feature = "wasm-no-std"), no_std)]
// A panic in wasm poisons the instance: no code path that input can reach
// may unwrap, index out of bounds or panic (tests may).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

pub mod base;
pub mod contract;
pub mod core;
pub mod error;
pub mod intern;
pub mod limits;
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-no-std")))]
pub mod local;
mod prelude;
pub mod schema;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use crate::core::{Core, Mode, Options};
pub use crate::error::{EmitError, Error, InternError, NameError, Result, SchemaError};
#[cfg(not(all(target_arch = "wasm32", feature = "wasm-no-std")))]
pub use crate::local::LocalBus;
