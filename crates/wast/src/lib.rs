//! Runs WebAssembly spec scripts (`.wast`) against Kiln.
//!
//! A `.wast` script is a sequence of directives: define a module, register
//! it under a name, invoke an export, and assert what happens (a result, a
//! trap, stack exhaustion, rejection by the decoder or the validator, a
//! linking failure). [`WastRunner`] executes every directive of a script
//! through the public `kiln` API and returns a [`Report`]: how many
//! directives passed and, for each one that failed, where it is and why.
//!
//! Every script runs in a fresh [`kiln::Store`] with the spec's `spectest`
//! host module (see [`spectest`]) available for imports.
//!
//! ```no_run
//! let runner = kiln_wast::WastRunner::new(&kiln::Config::new())?;
//! let report = runner.run_file("tests/i32.wast")?;
//! println!("{report}");
//! # anyhow::Ok(())
//! ```

#![deny(missing_docs)]

mod legacy;
mod report;
mod runner;
pub mod spectest;
mod values;

pub use report::{Failure, Note, Report};
pub use runner::WastRunner;
