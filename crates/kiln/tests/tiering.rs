//! Tiering (`Strategy::Tiered`): every embedding-API, soundness and
//! native-code case the other native backends run, with a threshold of 1
//! and synchronous compilation, so that each function runs as baseline
//! code on its first call, as Cranelift's code from its second, and every
//! loop moves into optimized code by on-stack replacement on its first
//! iteration; then the transition's own cases (`tiering/transitions.rs`):
//! results across the switch, traps, exceptions and collections in the
//! middle of it, recursion across tiers, many threads tiering at once,
//! and modules dropped while their code compiles.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

/// The configuration every engine of the shared cases starts from.
fn config() -> kiln::Config {
    let mut config = kiln::Config::new();
    config
        .strategy(kiln::Strategy::Tiered)
        .tier_threshold(1)
        .tier_synchronously(true);
    config
}

/// Whether collections run while this backend's code runs.
const COLLECTS_WHILE_RUNNING: bool = true;

include!("common/api_cases.rs");
include!("common/child.rs");

/// The soundness cases of `soundness.rs`, on tiered code.
mod soundness {
    fn config() -> kiln::Config {
        super::config()
    }

    include!("common/soundness_cases.rs");
}

include!("common/native_cases.rs");

#[path = "tiering/transitions.rs"]
mod transitions;
