//! What the `std` prelude would give every module, from `alloc`: the crate
//! is `no_std` in the npm package's build (see `src/lib.rs`).

pub(crate) use alloc::boxed::Box;
pub(crate) use alloc::string::String;
pub(crate) use alloc::vec::Vec;
pub(crate) use alloc::{format, vec};
