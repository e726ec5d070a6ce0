//! End-to-end tests of the embedding API, on the interpreter. The cases
//! live in `common/api_cases.rs`; `native.rs` runs them on Cranelift.

/// The configuration every engine of these tests starts from.
fn config() -> kiln::Config {
    let mut config = kiln::Config::new();
    config.strategy(kiln::Strategy::Interpreter);
    config
}

/// Whether collections run while this backend's code runs (not yet on
/// Cranelift: its frames have no stack maps).
const COLLECTS_WHILE_RUNNING: bool = true;

include!("common/api_cases.rs");
