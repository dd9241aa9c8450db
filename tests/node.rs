//! wasm-bindgen tests of the bindings, run in Node.
#![cfg(target_arch = "wasm32")]

mod common;
