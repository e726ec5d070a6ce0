//! Running the race: every selected runtime on every selected program,
//! program by program.
//!
//! Within a program the runtimes take turns, one run each per round (a
//! warm-up round, then the measured rounds), so that whatever the machine
//! does meanwhile (thermal drift, a neighbour's build) falls on every
//! runtime alike rather than on whichever happened to run then. Each run
//! is checked (exit status, the one output line, the checksum) and the
//! first failure ends that pair: its timings are dropped and the failure
//! is recorded with the tail of its standard error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::build::Program;
use crate::inproc;
use crate::measure::{self, Exit, Measurer, Spec};
use crate::results::{Failure, InProcess, Pair, ProgramResult, Role};
use crate::runtimes::{KILN_BACKENDS, Runtime};
use crate::stats::Measure;

/// What to race and how.
#[derive(Debug)]
pub struct Plan {
    /// The programs, in order.
    pub programs: Vec<Program>,
    /// The runtimes, found or not (those not found are skipped).
    pub runtimes: Vec<Runtime>,
    /// Measured runs per pair.
    pub runs: usize,
    /// Where precompiled artifacts go.
    pub artifacts: PathBuf,
    /// `wasmtime-embed`, for Wasmtime's in-process compile and
    /// instantiate times, when it is installed and Wasmtime races.
    pub wasmtime_embed: Option<PathBuf>,
    /// Runs and times processes.
    pub measurer: Measurer,
}

/// The state of one (runtime, program) pair while its rounds go on.
struct PairState<'a> {
    runtime: &'a Runtime,
    failure: Option<Failure>,
    checksum: Option<String>,
    run: Vec<f64>,
    rss: Vec<f64>,
    compile: Vec<f64>,
    startup: Vec<f64>,
    compile_spec: Option<Spec>,
    run_spec: Option<Spec>,
    startup_spec: Option<Spec>,
}

impl PairState<'_> {
    fn fail(&mut self, stage: &str, reason: String, stderr: &str) {
        eprintln!("  {:<20} FAILED ({stage}): {reason}", self.runtime.name());
        self.failure = Some(Failure {
            stage: stage.to_string(),
            reason,
            stderr_tail: measure::tail(stderr, 15, 2000),
        });
    }

    /// Records a checksum, failing the pair if it changed between runs.
    fn note_checksum(&mut self, stage: &str, sum: String) {
        match &self.checksum {
            Some(old) if *old != sum => {
                let reason = format!("checksum changed between runs: {old} then {sum}");
                self.fail(stage, reason, "");
            }
            _ => self.checksum = Some(sum),
        }
    }
}

/// Which step of a pair a round runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Compile,
    Startup,
    Run,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Compile => "compile",
            Step::Startup => "startup",
            Step::Run => "run",
        }
    }
}

/// Races every runtime on every program, calling `after_each` with the
/// results so far whenever a program is done (so a long run that is
/// stopped part-way still leaves its figures behind).
pub fn run(plan: &Plan, mut after_each: impl FnMut(&[ProgramResult])) -> Vec<ProgramResult> {
    let total = plan.programs.len();
    let mut done = Vec::with_capacity(total);
    for (i, program) in plan.programs.iter().enumerate() {
        eprintln!("kiln-bench: [{}/{total}] {}", i + 1, program.name);
        done.push(run_program(plan, program));
        after_each(&done);
    }
    done
}

/// One progress line for a runtime's in-process figures.
fn report_in_process(m: &InProcess) {
    match (&m.compile, &m.instantiate, &m.error) {
        (Some(c), Some(i), _) => eprintln!(
            "  {:<20} in-process compile {} ({:.1} MB/s), instantiate {}",
            m.runtime,
            seconds(c.median),
            m.compile_mb_per_s.unwrap_or(0.0),
            seconds(i.median)
        ),
        (_, _, error) => eprintln!(
            "  {:<20} in-process: {}",
            m.runtime,
            error.as_deref().unwrap_or("no figures")
        ),
    }
}

fn run_program(plan: &Plan, program: &Program) -> ProgramResult {
    let wasm = std::fs::read(&program.wasm).unwrap_or_default();
    let code_section_bytes = inproc::code_section_bytes(&wasm).unwrap_or(0);
    let mut result = ProgramResult {
        name: program.name.clone(),
        large: program.large,
        wasm_bytes: wasm.len() as u64,
        code_section_bytes,
        checksum: None,
        in_process: Vec::new(),
        pairs: Vec::new(),
    };

    for runtime in plan.runtimes.iter().filter(|r| r.info.role == Role::Kiln) {
        let Some(backend) = KILN_BACKENDS.iter().find(|b| b.runtime == runtime.name()) else {
            continue;
        };
        let m = inproc::measure(backend, &program.name, &wasm, plan.runs);
        report_in_process(&m);
        result.in_process.push(m);
    }
    if let Some(driver) = &plan.wasmtime_embed {
        let m = inproc::measure_wasmtime(driver, &program.wasm, &wasm, plan.runs);
        report_in_process(&m);
        result.in_process.push(m);
    }

    let mut pairs: Vec<PairState> = plan
        .runtimes
        .iter()
        .filter(|r| r.runs(program))
        .map(|runtime| {
            let artifact =
                plan.artifacts
                    .join(format!("{}.{}.cwasm", program.name, runtime.name()));
            let compile_spec = runtime.compile_spec(program, &artifact);
            let run_spec =
                runtime.run_spec(program, compile_spec.as_ref().map(|_| artifact.as_path()));
            let startup_spec = if program.large {
                runtime.startup_spec(program)
            } else {
                None
            };
            PairState {
                runtime,
                failure: None,
                checksum: None,
                run: Vec::new(),
                rss: Vec::new(),
                compile: Vec::new(),
                startup: Vec::new(),
                compile_spec,
                run_spec,
                startup_spec,
            }
        })
        .collect();

    if !program.wasm.is_file() {
        let reason = format!("`{}` is missing", program.wasm.display());
        for pair in pairs
            .iter_mut()
            .filter(|p| !matches!(p.runtime.kind, crate::runtimes::Kind::Native))
        {
            pair.fail("build", reason.clone(), "");
        }
    }

    // Compiling ahead of time is cheap next to running, except on the
    // large modules, which exist to measure it: only there is it repeated.
    let compile_runs = if program.large { plan.runs } else { 0 };
    rounds(plan, program, &mut pairs, Step::Compile, compile_runs);
    if program.large {
        rounds(plan, program, &mut pairs, Step::Startup, plan.runs);
    }
    rounds(plan, program, &mut pairs, Step::Run, plan.runs);

    result.checksum = reconcile_checksums(&mut pairs);
    for pair in &pairs {
        if let (None, Some(run)) = (&pair.failure, Measure::new("s", pair.run.clone())) {
            let rss = Measure::new("KiB", pair.rss.clone());
            eprintln!(
                "  {:<20} run median {} ({}–{}){}",
                pair.runtime.name(),
                seconds(run.median),
                seconds(run.min),
                seconds(run.max),
                rss.map(|r| format!(", peak RSS {:.1} MiB", r.median / 1024.0))
                    .unwrap_or_default()
            );
        }
    }
    result.pairs = pairs.into_iter().map(finish).collect();
    result
}

/// One warm-up round and `measured` measured rounds of `step`, the
/// runtimes taking turns. With `measured == 0` there is a single round,
/// and it is measured (used where a step is too costly to repeat).
fn rounds(plan: &Plan, program: &Program, pairs: &mut [PairState], step: Step, measured: usize) {
    let (total, first_measured) = if measured == 0 {
        (1, 0)
    } else {
        (measured + 1, 1)
    };
    for round in 0..total {
        let mut round_seconds = 0.0;
        for pair in pairs.iter_mut() {
            if pair.failure.is_some() {
                continue;
            }
            let spec = match step {
                Step::Compile => &pair.compile_spec,
                Step::Startup => &pair.startup_spec,
                Step::Run => &pair.run_spec,
            };
            let Some(spec) = spec.clone() else {
                continue;
            };
            let outcome = match plan.measurer.run(&spec) {
                Ok(outcome) => outcome,
                Err(e) => {
                    pair.fail(step.name(), format!("{e:#}"), "");
                    continue;
                }
            };
            if outcome.exit != Exit::Code(0) {
                pair.fail(step.name(), outcome.exit.to_string(), &outcome.stderr);
                continue;
            }
            if step != Step::Compile {
                match measure::check_output(&program.name, &outcome.stdout) {
                    Ok(sum) => pair.note_checksum(step.name(), sum),
                    Err(reason) => {
                        pair.fail(step.name(), reason, &outcome.stderr);
                        continue;
                    }
                }
            }
            round_seconds += outcome.wall;
            if round == 0 && total > 1 && step == Step::Run {
                eprintln!(
                    "  {:<20} warm-up {}",
                    pair.runtime.name(),
                    seconds(outcome.wall)
                );
            }
            if round >= first_measured {
                match step {
                    Step::Compile => pair.compile.push(outcome.wall),
                    Step::Startup => pair.startup.push(outcome.wall),
                    Step::Run => {
                        pair.run.push(outcome.wall);
                        pair.rss.push(outcome.peak_rss_kib);
                    }
                }
            }
        }
        // A long suite should say how long it will be busy here.
        if round == 0 && total > 1 && step == Step::Run {
            eprintln!(
                "  (about {:.0} s more for {})",
                round_seconds * (total - 1) as f64,
                program.name
            );
        }
    }
}

/// Settles the checksum every runtime must print (the native build's,
/// else the most common one) and fails the pairs that printed another.
fn reconcile_checksums(pairs: &mut [PairState]) -> Option<String> {
    let native = pairs
        .iter()
        .find(|p| p.runtime.info.role == Role::Native && p.failure.is_none())
        .and_then(|p| p.checksum.clone());
    let reference = native.clone().or_else(|| {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for sum in pairs
            .iter()
            .filter(|p| p.failure.is_none())
            .filter_map(|p| p.checksum.as_deref())
        {
            *counts.entry(sum).or_default() += 1;
        }
        let best = counts
            .into_iter()
            .max_by_key(|&(sum, n)| (n, std::cmp::Reverse(sum)))?;
        Some(best.0.to_string())
    })?;
    let whose = if native.is_some() {
        "native"
    } else {
        "most runtimes"
    };
    for pair in pairs.iter_mut().filter(|p| p.failure.is_none()) {
        if let Some(sum) = pair.checksum.clone()
            && sum != reference
        {
            let reason = format!("checksum {sum} differs from {reference} ({whose})");
            pair.fail("checksum", reason, "");
        }
    }
    Some(reference)
}

/// The pair as reported: a failed pair keeps no timings.
fn finish(pair: PairState) -> Pair {
    let ok = pair.failure.is_none();
    let keep = |unit, samples: Vec<f64>| {
        if ok {
            Measure::new(unit, samples)
        } else {
            None
        }
    };
    let commands = [&pair.compile_spec, &pair.startup_spec, &pair.run_spec]
        .into_iter()
        .flatten()
        .map(ToString::to_string)
        .collect();
    Pair {
        runtime: pair.runtime.name().to_string(),
        checksum: pair.checksum,
        run: keep("s", pair.run),
        peak_rss: keep("KiB", pair.rss),
        compile: keep("s", pair.compile),
        startup: keep("s", pair.startup),
        failure: pair.failure,
        commands,
    }
}

/// A duration for progress lines and reports, with a unit that keeps
/// three significant digits readable.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// Where the harness keeps its scratch files under the output directory.
pub fn scratch_dir(out: &Path) -> PathBuf {
    out.join("scratch")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(seconds(12.345), "12.35 s");
        assert_eq!(seconds(0.01234), "12.3 ms");
        assert_eq!(seconds(0.000_012), "12 µs");
    }
}
