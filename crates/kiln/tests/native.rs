//! The native backend (`Strategy::Cranelift`): every embedding-API case of
//! `api.rs`, then what only native code has to get right — bounds checks
//! and guard pages at every boundary, traps leaving the store usable,
//! stack overflow on the thread's own stack, faults in host code.

#![cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "s390x",
        target_arch = "riscv64"
    )
))]

/// The configuration every engine of the shared cases starts from.
fn config() -> kiln::Config {
    let mut config = kiln::Config::new();
    config.strategy(kiln::Strategy::Cranelift);
    config
}

/// Whether collections run while this backend's code runs (not yet on
/// Cranelift: its frames have no stack maps).
const COLLECTS_WHILE_RUNNING: bool = true;

include!("common/api_cases.rs");
include!("common/child.rs");

/// The soundness cases of `soundness.rs`, on Cranelift.
mod soundness {
    fn config() -> kiln::Config {
        super::config()
    }

    include!("common/soundness_cases.rs");
}

include!("common/native_cases.rs");
