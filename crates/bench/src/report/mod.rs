//! The three outputs of a run, all drawn from one [`Results`]:
//! `results.json` (everything), `run-times.svg` (a chart) and
//! `summary.md` (tables for `docs/performance.md`).

pub mod json;
pub mod markdown;
pub mod svg;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::results::Results;

/// Writes the three reports into `out` and returns their paths.
pub fn write_all(results: &Results, out: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create `{}`", out.display()))?;
    let files = [
        ("results.json", json::render(results)),
        ("run-times.svg", svg::render(results)),
        ("summary.md", markdown::render(results)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::machine::Machine;
    use crate::ratios::tests::{failed, pair, program, runtime};
    use crate::results::{InProcess, Results, Role, Settings};
    use crate::stats::Measure;

    /// A small but complete set of results: two programs (one large),
    /// Kiln, one peer that fails on one program, and native.
    pub(crate) fn sample_results() -> Results {
        let runtimes = vec![
            runtime("kiln-interp", Role::Kiln),
            runtime("wasmtime-cranelift", Role::Peer),
            runtime("wasm3", Role::Peer),
            crate::results::RuntimeInfo {
                found: false,
                note: Some("not found".into()),
                ..runtime("node", Role::Peer)
            },
            runtime("native", Role::Native),
        ];
        let mut fib = program(
            "fib",
            vec![
                pair("kiln-interp", 2.0),
                pair("wasmtime-cranelift", 0.2),
                failed("wasm3"),
                pair("native", 0.1),
            ],
        );
        fib.in_process.push(InProcess {
            runtime: "kiln-interp".into(),
            compile: Measure::new("s", vec![0.001, 0.002, 0.003]),
            instantiate: Measure::new("s", vec![0.0001; 3]),
            compile_mb_per_s: Some(0.4),
            error: None,
        });
        fib.pairs[1].compile = Measure::new("s", vec![0.05]);
        let mut large = program(
            "large_init",
            vec![
                pair("kiln-interp", 0.5),
                pair("wasmtime-cranelift", 0.02),
                pair("wasm3", 0.3),
                pair("native", 0.001),
            ],
        );
        large.pairs[1].startup = Measure::new("s", vec![1.0, 1.1, 1.2]);
        large.pairs[1].compile = Measure::new("s", vec![0.9, 1.0, 1.1]);
        let programs = vec![fib, large];
        let ratios = crate::ratios::compute(&runtimes, &programs);
        Results {
            harness: "kiln-bench test".into(),
            machine: Machine {
                cpu: "Test CPU".into(),
                cores: 2,
                kernel: "Linux 6.0".into(),
                memory_gib: Some(4.0),
                rustc: "rustc 1.95.0".into(),
            },
            started_utc: "2026-01-01T00:00:00Z".into(),
            wall_seconds: 12.0,
            command: "cargo run --release -p kiln-bench -- --quick".into(),
            argv: vec!["kiln-bench".into(), "--quick".into()],
            settings: Settings {
                quick: true,
                runs: 3,
                warmups: 1,
                timeout_seconds: 120.0,
            },
            runtimes,
            programs,
            ratios,
        }
    }
}
