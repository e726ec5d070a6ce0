//! Kiln's ratios to every other runtime, per program and as a geometric
//! mean. Only figures from one harness run are compared: machines drift,
//! so a ratio between two runs would measure the drift too.

use crate::results::{ProgramResult, RatioSet, Role, RuntimeInfo};
use crate::stats;

/// Which figure a ratio compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Run time of the run-time programs.
    Run,
    /// Start-up time (compilation included) of the large modules.
    Startup,
    /// Ahead-of-time compile command, as a process, on the large modules
    /// (for runtimes that have one: Wasmtime, kiln-cranelift).
    Compile,
    /// In-process instantiation (WASI context + `Linker` + `instantiate`),
    /// on every program, for runtimes measured in-process.
    Instantiate,
}

impl Metric {
    /// The name used in `results.json`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Run => "run",
            Metric::Startup => "startup",
            Metric::Compile => "compile",
            Metric::Instantiate => "instantiate",
        }
    }

    /// Whether `program` takes part in this metric.
    fn covers(self, program: &ProgramResult) -> bool {
        match self {
            Metric::Run => !program.large,
            Metric::Startup | Metric::Compile => program.large,
            Metric::Instantiate => true,
        }
    }

    /// The median this metric compares for `runtime` on `program`, if it
    /// was measured and succeeded.
    fn median(self, program: &ProgramResult, runtime: &str) -> Option<f64> {
        if self == Metric::Instantiate {
            return program
                .in_process
                .iter()
                .find(|m| m.runtime == runtime && m.error.is_none())?
                .instantiate
                .as_ref()
                .map(|m| m.median);
        }
        let pair = program.pairs.iter().find(|pair| pair.runtime == runtime)?;
        if !pair.ok() {
            return None;
        }
        match self {
            Metric::Run => pair.run.as_ref().map(|m| m.median),
            Metric::Startup => pair.startup_time().map(|m| m.median),
            Metric::Compile => pair.compile.as_ref().map(|m| m.median),
            Metric::Instantiate => None,
        }
    }

    /// Whether `runtime` has a figure for this metric on `program`.
    fn measured(self, program: &ProgramResult, runtime: &str) -> bool {
        match self {
            Metric::Instantiate => program.in_process.iter().any(|m| m.runtime == runtime),
            Metric::Compile => program
                .pairs
                .iter()
                .any(|pair| pair.runtime == runtime && pair.compile.is_some()),
            _ => program.pairs.iter().any(|pair| pair.runtime == runtime),
        }
    }
}

/// Every Kiln backend against every runtime that is not Kiln, for both
/// metrics (a metric no program covers is left out).
pub fn compute(runtimes: &[RuntimeInfo], programs: &[ProgramResult]) -> Vec<RatioSet> {
    let found = |role: fn(Role) -> bool| {
        runtimes
            .iter()
            .filter(move |r| r.found && role(r.role))
            .map(|r| r.name.as_str())
    };
    let mut sets = Vec::new();
    for metric in [
        Metric::Run,
        Metric::Startup,
        Metric::Compile,
        Metric::Instantiate,
    ] {
        if !programs.iter().any(|p| metric.covers(p)) {
            continue;
        }
        // A runtime raced on none of these programs (such as a lazy
        // translation mode on run-time programs) has nothing to compare,
        // on either side.
        let raced = |name: &str| {
            programs
                .iter()
                .filter(|p| metric.covers(p))
                .any(|p| metric.measured(p, name))
        };
        for kiln in found(|r| r == Role::Kiln).filter(|k| raced(k)) {
            for other in found(|r| r != Role::Kiln).filter(|o| raced(o)) {
                sets.push(ratio_set(metric, kiln, other, programs));
            }
        }
    }
    sets
}

/// The ratios of `kiln` to `other` on the programs `metric` covers.
pub fn ratio_set(metric: Metric, kiln: &str, other: &str, programs: &[ProgramResult]) -> RatioSet {
    let mut per_program = Vec::new();
    let mut excluded = Vec::new();
    for program in programs.iter().filter(|p| metric.covers(p)) {
        let median = |runtime: &str| metric.median(program, runtime);
        match (median(kiln), median(other)) {
            (Some(k), Some(o)) if stats::ratio(k, o).is_some() => {
                per_program.push(crate::results::ProgramRatio {
                    program: program.name.clone(),
                    ratio: k / o,
                });
            }
            _ => excluded.push(program.name.clone()),
        }
    }
    let values: Vec<f64> = per_program.iter().map(|r| r.ratio).collect();
    RatioSet {
        metric: metric.name().to_string(),
        kiln: kiln.to_string(),
        other: other.to_string(),
        geomean: stats::geomean(&values),
        per_program,
        excluded,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::results::{Failure, Pair};
    use crate::stats::Measure;

    /// A successful pair whose runs all took `seconds`.
    pub(crate) fn pair(runtime: &str, seconds: f64) -> Pair {
        Pair {
            runtime: runtime.to_string(),
            failure: None,
            checksum: Some("0123456789abcdef".into()),
            run: Measure::new("s", vec![seconds; 3]),
            peak_rss: Measure::new("KiB", vec![2048.0; 3]),
            compile: None,
            startup: None,
            commands: vec![],
        }
    }

    pub(crate) fn failed(runtime: &str) -> Pair {
        Pair {
            failure: Some(Failure {
                stage: "run".into(),
                reason: "exit status 1".into(),
                stderr_tail: "boom".into(),
            }),
            run: None,
            peak_rss: None,
            ..pair(runtime, 1.0)
        }
    }

    pub(crate) fn program(name: &str, pairs: Vec<Pair>) -> ProgramResult {
        ProgramResult {
            name: name.to_string(),
            large: name.starts_with("large_"),
            wasm_bytes: 1000,
            code_section_bytes: 800,
            checksum: Some("0123456789abcdef".into()),
            in_process: vec![],
            pairs,
        }
    }

    pub(crate) fn runtime(name: &str, role: Role) -> RuntimeInfo {
        RuntimeInfo {
            name: name.to_string(),
            role,
            found: true,
            path: None,
            version: None,
            note: None,
        }
    }

    #[test]
    fn per_program_ratio_and_geomean() {
        let programs = vec![
            program("a", vec![pair("kiln-interp", 4.0), pair("native", 1.0)]),
            program("b", vec![pair("kiln-interp", 9.0), pair("native", 1.0)]),
        ];
        let set = ratio_set(Metric::Run, "kiln-interp", "native", &programs);
        let ratios: Vec<f64> = set.per_program.iter().map(|r| r.ratio).collect();
        assert_eq!(ratios, vec![4.0, 9.0]);
        assert!((set.geomean.unwrap() - 6.0).abs() < 1e-9);
        assert!(set.excluded.is_empty());
    }

    #[test]
    fn failures_and_missing_pairs_are_excluded_by_name() {
        let programs = vec![
            program("a", vec![pair("kiln-interp", 2.0), pair("wasm3", 1.0)]),
            program("simd", vec![pair("kiln-interp", 2.0), failed("wasm3")]),
            program("c", vec![pair("kiln-interp", 2.0)]),
        ];
        let set = ratio_set(Metric::Run, "kiln-interp", "wasm3", &programs);
        assert_eq!(set.per_program.len(), 1);
        assert_eq!(set.excluded, vec!["simd".to_string(), "c".to_string()]);
        assert_eq!(set.geomean, Some(2.0));
    }

    #[test]
    fn large_modules_count_only_for_startup() {
        let programs = vec![
            program("fib", vec![pair("kiln-interp", 2.0), pair("native", 1.0)]),
            program(
                "large_x",
                vec![pair("kiln-interp", 0.5), pair("native", 0.25)],
            ),
        ];
        let run = ratio_set(Metric::Run, "kiln-interp", "native", &programs);
        assert_eq!(run.per_program.len(), 1);
        assert_eq!(run.per_program[0].program, "fib");
        let startup = ratio_set(Metric::Startup, "kiln-interp", "native", &programs);
        assert_eq!(startup.per_program.len(), 1);
        assert_eq!(startup.per_program[0].ratio, 2.0);
    }

    #[test]
    fn instantiation_compares_in_process_figures() {
        use crate::results::InProcess;
        let measured = |runtime: &str, seconds: f64| InProcess {
            runtime: runtime.to_string(),
            compile: Measure::new("s", vec![1.0]),
            instantiate: Measure::new("s", vec![seconds; 3]),
            compile_mb_per_s: None,
            error: None,
        };
        let mut a = program("a", vec![pair("kiln-cranelift", 1.0)]);
        a.in_process = vec![
            measured("kiln-cranelift", 3e-5),
            measured("wasmtime-cranelift", 6e-5),
        ];
        let mut b = program("large_b", vec![]);
        b.in_process = vec![measured("kiln-cranelift", 8e-4)];
        let set = ratio_set(
            Metric::Instantiate,
            "kiln-cranelift",
            "wasmtime-cranelift",
            &[a, b],
        );
        assert_eq!(set.per_program.len(), 1);
        assert!((set.per_program[0].ratio - 0.5).abs() < 1e-9);
        assert_eq!(set.excluded, vec!["large_b".to_string()]);
    }

    #[test]
    fn compute_pairs_every_kiln_backend_with_every_other_runtime() {
        let runtimes = vec![
            runtime("kiln-interp", Role::Kiln),
            runtime("wasmtime-cranelift", Role::Peer),
            RuntimeInfo {
                found: false,
                ..runtime("wasm3", Role::Peer)
            },
            runtime("native", Role::Native),
            runtime("wasmi-lazy", Role::Peer),
            // Raced on large modules only: no run-time ratios either.
            runtime("kiln-interp-lazy", Role::Kiln),
        ];
        let programs = vec![program(
            "fib",
            vec![
                pair("kiln-interp", 2.0),
                pair("wasmtime-cranelift", 1.0),
                pair("native", 0.5),
            ],
        )];
        let sets = compute(&runtimes, &programs);
        let names: Vec<(&str, &str)> = sets
            .iter()
            .map(|s| (s.kiln.as_str(), s.other.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("kiln-interp", "wasmtime-cranelift"),
                ("kiln-interp", "native")
            ]
        );
        assert_eq!(sets[1].geomean, Some(4.0));
    }
}
