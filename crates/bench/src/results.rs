//! The data model of one harness run: what `results.json` holds and what
//! every report is drawn from.

use serde::Serialize;

use crate::machine::Machine;
use crate::stats::Measure;

/// Everything one run of the harness measured, with the context needed to
/// trust and reproduce it.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The harness and its version.
    pub harness: String,
    /// The machine the figures come from.
    pub machine: Machine,
    /// When the run started, `YYYY-MM-DDTHH:MM:SSZ`.
    pub started_utc: String,
    /// How long the whole run took, builds included.
    pub wall_seconds: f64,
    /// A command that repeats this run.
    pub command: String,
    /// The harness's own argument vector, exactly as received.
    pub argv: Vec<String>,
    /// Settings that shape every measurement.
    pub settings: Settings,
    /// Every runtime of the catalog that was selected, found or not.
    pub runtimes: Vec<RuntimeInfo>,
    /// One entry per program, in the order they ran.
    pub programs: Vec<ProgramResult>,
    /// Kiln's ratios to every other runtime (derived from `programs`).
    pub ratios: Vec<RatioSet>,
}

/// Settings that shape every measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Whether `--quick` was given.
    pub quick: bool,
    /// Measured runs per (runtime, program) pair, after the warm-up.
    pub runs: usize,
    /// Unmeasured warm-up runs before them.
    pub warmups: usize,
    /// A single run taking longer than this is killed and counts as a
    /// failure.
    pub timeout_seconds: f64,
}

/// What a runtime is in the race.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One of Kiln's backends: the contestant.
    Kiln,
    /// Another WebAssembly runtime.
    Peer,
    /// The program compiled for the host: the floor.
    Native,
}

/// A runtime as found (or not) on this machine.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeInfo {
    /// Its name in the reports, e.g. `wasmtime-winch`.
    pub name: String,
    /// Its part in the race.
    pub role: Role,
    /// Whether its executable was found (and its helper files exist).
    pub found: bool,
    /// The executable run.
    pub path: Option<String>,
    /// The first line of its `--version` output.
    pub version: Option<String>,
    /// Why it is missing, or anything else worth knowing.
    pub note: Option<String>,
}

/// Everything measured on one program.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramResult {
    /// The program's name (its `src/bin` file stem).
    pub name: String,
    /// Whether it is a compile-time input (`large_*`) rather than a
    /// run-time benchmark.
    pub large: bool,
    /// Size of the `.wasm` file.
    pub wasm_bytes: u64,
    /// Size of its code section, the input compilers work through.
    pub code_section_bytes: u64,
    /// The checksum every runtime must print: the native build's, or else
    /// the one most runtimes agreed on.
    pub checksum: Option<String>,
    /// Kiln's compile and instantiate times, measured inside the harness.
    pub in_process: Vec<InProcess>,
    /// One entry per runtime that was found.
    pub pairs: Vec<Pair>,
}

/// Kiln's in-process compile (`Module::new`) and instantiate (`Linker` +
/// WASI + `instantiate`) times for one backend.
#[derive(Debug, Clone, Serialize)]
pub struct InProcess {
    /// The runtime name of the backend, e.g. `kiln-interp`.
    pub runtime: String,
    /// Time of `Module::new` on the binary.
    pub compile: Option<Measure>,
    /// Time of building the WASI context and linker and instantiating.
    pub instantiate: Option<Measure>,
    /// Code-section megabytes (10^6 bytes) compiled per second, from the
    /// median compile time.
    pub compile_mb_per_s: Option<f64>,
    /// Why it could not be measured.
    pub error: Option<String>,
}

/// One (runtime, program) pair.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    /// The runtime's name.
    pub runtime: String,
    /// Why the pair failed; `None` when every run succeeded. A failed
    /// pair keeps no timings.
    pub failure: Option<Failure>,
    /// The checksum the program printed.
    pub checksum: Option<String>,
    /// Wall time of one process, spawn to exit (for Wasmtime, of running
    /// the precompiled `.cwasm`).
    pub run: Option<Measure>,
    /// Peak resident set size of that process.
    pub peak_rss: Option<Measure>,
    /// Wall time of the ahead-of-time compile command (Wasmtime only).
    pub compile: Option<Measure>,
    /// Wall time of running the `.wasm` itself with no cache, which
    /// includes compiling it (Wasmtime only, large modules only; for the
    /// other runtimes `run` already is this).
    pub startup: Option<Measure>,
    /// The commands run, for reproduction.
    pub commands: Vec<String>,
}

impl Pair {
    /// Whether every run of the pair succeeded.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }

    /// The start-up time of a large module: running the `.wasm` from
    /// scratch, compilation included.
    pub fn startup_time(&self) -> Option<&Measure> {
        self.startup.as_ref().or(self.run.as_ref())
    }
}

/// Why a pair failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// What was being done: `compile`, `run`, `startup` or `checksum`.
    pub stage: String,
    /// What went wrong, in one line.
    pub reason: String,
    /// The last lines of the failing process's standard error.
    pub stderr_tail: String,
}

/// The ratio of one Kiln backend to one other runtime on every program
/// both ran, and their geometric mean.
#[derive(Debug, Clone, Serialize)]
pub struct RatioSet {
    /// `run` (run-time programs) or `startup` (large modules).
    pub metric: String,
    /// The Kiln backend (numerator).
    pub kiln: String,
    /// The other runtime (denominator).
    pub other: String,
    /// Kiln's median divided by the other's; above 1 means Kiln is slower.
    pub per_program: Vec<ProgramRatio>,
    /// The geometric mean of `per_program`.
    pub geomean: Option<f64>,
    /// Programs left out because one side failed or did not run.
    pub excluded: Vec<String>,
}

/// One program's ratio.
#[derive(Debug, Clone, Serialize)]
pub struct ProgramRatio {
    /// The program.
    pub program: String,
    /// Kiln's median over the other's.
    pub ratio: f64,
}
