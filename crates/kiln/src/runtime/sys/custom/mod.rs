//! The platform layer of a `no_std` build: what the embedder provides
//! through `include/kiln-platform.h`, declared in [`capi`]: always the
//! per-thread slot and locks (`sync.rs` uses them); with
//! `custom-virtual-memory` the memory functions ([`vm`]); with
//! `custom-native-signals` fault handling ([`signals`]).
//!
//! The header is generated from `capi.rs` (a test fails when the checked-in
//! copy differs), so the declarations here are the single source of truth,
//! and their documentation is the contract the embedder implements.

pub(crate) mod capi;
#[cfg(kiln_custom_signals)]
pub(super) mod signals;
#[cfg(kiln_custom_vm)]
pub(super) mod vm;
