//! Adversarial tests of the runtime's soundness and robustness: cached
//! pointers across growth and re-entry, bounds checks at the edges, panics
//! from host code, bad embedder input, and many stores on many threads.
//!
//! The cases live in `common/soundness_cases.rs`; `native.rs` runs them on
//! Cranelift.

/// The configuration every engine of these tests starts from.
fn config() -> kiln::Config {
    let mut config = kiln::Config::new();
    config.strategy(kiln::Strategy::Interpreter);
    config
}

include!("common/soundness_cases.rs");
