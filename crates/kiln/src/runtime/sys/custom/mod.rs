//! The platform layer of a `no_std` build: what the embedder provides
//! through `include/kiln-platform.h`, declared in [`capi`].
//!
//! The header is generated from `capi.rs` (a test fails when the checked-in
//! copy differs), so the declarations here are the single source of truth,
//! and their documentation is the contract the embedder implements.

pub(crate) mod capi;
