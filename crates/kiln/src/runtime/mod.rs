//! The runtime: everything a store owns, laid out for both backends.
//!
//! A store's memories, tables, globals, function references and instances
//! are the shared instance model of [`kiln_environ::vm`], each allocated
//! once at a stable address and freed only when the store is dropped,
//! whichever backend runs the store's code. The interpreter reads and
//! writes them through raw pointers while wasm runs; native code reads the
//! same memory, table, global and function records through each
//! instance's `VMContext` ([`native`], on the platform layer [`sys`]); the
//! public API reaches them through the safe methods here. All of the
//! crate's `unsafe` code lives under this module.

pub(crate) mod const_eval;
pub(crate) mod exceptions;
#[cfg(feature = "gc")]
mod gc_collect;
pub(crate) mod gc_heap;
pub(crate) mod gc_ops;
pub(crate) mod gc_roots;
pub(crate) mod host;
pub(crate) mod instantiate;
pub(crate) mod memory;
pub(crate) mod native;
pub(crate) mod owned;
pub(crate) mod store_data;
pub(crate) mod sys;
pub(crate) mod table;

pub(crate) use store_data::{HostFunc, StoreId};
pub use store_data::{StoreInner, StoreOpaque};
