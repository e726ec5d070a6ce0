//! The baseline compiler (`Strategy::Baseline`): every embedding-API,
//! soundness and native-code case the Cranelift backend runs (with
//! fallback on, as shipped: what the baseline compiler does not translate
//! yet is compiled by Cranelift in the same module, so these also test
//! the two compilers' code calling each other), then differential tests
//! with fallback off: each operator family run on baseline code and on
//! Cranelift code with the same inputs, results and traps compared.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

/// The configuration every engine of the shared cases starts from.
fn config() -> kiln::Config {
    let mut config = kiln::Config::new();
    config.strategy(kiln::Strategy::Baseline);
    config
}

/// Whether collections run while this backend's code runs.
const COLLECTS_WHILE_RUNNING: bool = true;

include!("common/api_cases.rs");
include!("common/child.rs");

/// The soundness cases of `soundness.rs`, on baseline code.
mod soundness {
    fn config() -> kiln::Config {
        super::config()
    }

    include!("common/soundness_cases.rs");
}

include!("common/native_cases.rs");

#[path = "baseline/differential.rs"]
mod differential;
