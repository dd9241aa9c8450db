//! [`Lock`]: the state behind one `BusCore`, lent out only while pure Rust
//! runs, and never left locked by a JS exception.
//!
//! ## Why not a `RefCell`
//!
//! A JS exception thrown while wasm code runs (in practice "Maximum call
//! stack size exceeded", which any wasm call near the JS stack limit can
//! raise) unwinds the wasm frames without running their destructors. A
//! `RefCell` borrow taken in such a frame is never released, and every later
//! call finds the bus "already borrowed": one deep call killed the bus for
//! good (issue 9, item 1).
//!
//! ## Re-entrancy
//!
//! [`Lock::with`] lends `&mut T` to a closure that runs Rust code only: the
//! closures in `src/wasm/mod.rs` call the core and copy data out, and build
//! no JS object, run no JS getter and call no JS function that could reach
//! user code or this bus again (every JS object is built after `with`
//! returns). So while a closure runs, nothing can enter the same `Lock`; and
//! when a `BusCore` method is entered, no live frame holds a loan. A loan
//! whose frame was unwound by an exception is gone with that frame, and the
//! next call simply takes the state again: there is no borrow flag to leave
//! set. What the unwound call had half done is completed or ignored by the
//! next one (see `Core::fill_info`), never trusted blindly.
//!
//! This is the crate's one `unsafe` block, besides the `Sync` of the
//! `no_std` build's catalog cache (`src/schema/mod.rs`).

use core::cell::UnsafeCell;
use core::fmt;

/// See the module documentation.
pub(crate) struct Lock<T>(UnsafeCell<T>);

impl<T> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lock")
    }
}

impl<T> Lock<T> {
    pub(crate) fn new(value: T) -> Self {
        Lock(UnsafeCell::new(value))
    }

    /// Runs `f` on the state. `f` must not call JS (see the module docs).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: wasm32 here is single-threaded, and `f` runs only Rust code
        // that does not call `with` on this lock again nor call out to JS, so
        // no other reference to the value exists while `f` runs: a frame that
        // held one and was unwound by a JS exception no longer exists.
        f(unsafe { &mut *self.0.get() })
    }
}
