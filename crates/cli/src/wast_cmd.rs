//! `kiln wast`: run spec scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use kiln::Config;
use kiln_wast::WastRunner;

use crate::options;

/// Runs WebAssembly spec scripts (`.wast`).
///
/// Prints each failing directive as `FILE:LINE:COL: directive: reason`, a
/// line per file, and finally `N passed, M failed` (directives). Exits
/// non-zero if any directive failed or a file could not be read or parsed.
#[derive(Args, Debug)]
pub struct WastCommand {
    /// Code generation option (repeatable):
    /// `compiler=auto|interp|cranelift|baseline|tiered`,
    /// `baseline-fallback=y|n`, `tier-threshold=N`, `tier-threads=N`,
    /// `tier-log=y` (print what tiering promotes, and when), `tier-sync=y`
    /// (compile hot code before going on: deterministic).
    #[arg(short = 'C', value_name = "KEY=VALUE")]
    codegen: Vec<String>,

    /// Native memory layout option (repeatable), a byte count with an
    /// optional K, M or G suffix: `memory_reservation=BYTES` reserved per
    /// linear memory (4G or more: guard pages, no bounds checks; less:
    /// explicit checks), `memory_guard_size=BYTES` after it,
    /// `memory_reservation_for_growth=BYTES` extra when a memory moves.
    #[arg(short = 'O', value_name = "KEY=VALUE", verbatim_doc_comment)]
    opts: Vec<String>,

    /// WebAssembly option (repeatable): `signals-based-traps=y|n` (n:
    /// native code that never relies on a fault; see `kiln run -W`). The
    /// options that only make sense for one program (`fuel`,
    /// `max-memory-size`, `unknown-imports-trap`) are refused.
    #[arg(short = 'W', value_name = "KEY=VALUE")]
    wasm: Vec<String>,

    /// The scripts to run.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

impl WastCommand {
    /// Runs the command; `Err` is reported as one error line, exit 1.
    pub fn execute(self) -> Result<ExitCode> {
        let mut config = Config::new();
        options::apply_codegen(&mut config, &self.codegen)?;
        options::apply_opts(&mut config, &self.opts)?;
        let wasm = options::apply_wasm(&mut config, &self.wasm)?;
        if wasm.fuel.is_some() || wasm.max_memory_size.is_some() || wasm.unknown_imports_trap {
            anyhow::bail!(
                "`kiln wast` takes only `-W signals-based-traps`: fuel, memory caps and \
                 unknown imports would change what the scripts assert"
            );
        }
        let runner = WastRunner::new(&config)?;
        let (mut passed, mut failed, mut broken_files) = (0usize, 0usize, 0usize);
        for file in &self.files {
            match runner.run_file(file) {
                Ok(report) => {
                    for note in &report.notes {
                        println!("{}:{note}", report.name);
                    }
                    println!("{report}");
                    passed += report.passed;
                    failed += report.failed();
                }
                Err(err) => {
                    crate::print_error(&err);
                    broken_files += 1;
                }
            }
        }
        println!("{passed} passed, {failed} failed");
        if failed > 0 || broken_files > 0 {
            Ok(ExitCode::from(crate::EXIT_ERROR))
        } else {
            Ok(ExitCode::SUCCESS)
        }
    }
}
