//! `summary.md`: the tables `docs/performance.md` takes, headed by the
//! machine, the date and the exact command, so every figure can be traced
//! to the run it came from.

use std::fmt::Write as _;

use crate::results::{Pair, ProgramResult, RatioSet, Results, Role};
use crate::stats::Measure;

/// The summary for `results`.
pub fn render(results: &Results) -> String {
    let mut md = String::new();
    header(&mut md, results);
    runtimes_table(&mut md, results);
    run_table(&mut md, results);
    ratio_tables(&mut md, results);
    compile_table(&mut md, results);
    startup_table(&mut md, results);
    rss_table(&mut md, results);
    failures(&mut md, results);
    md
}

fn header(md: &mut String, r: &Results) {
    let _ = writeln!(md, "# Kiln benchmark results\n");
    let _ = writeln!(md, "- **Machine:** {}", r.machine.one_line());
    let _ = writeln!(
        md,
        "- **Date:** {} (the run took {})",
        r.started_utc,
        minutes(r.wall_seconds)
    );
    let _ = writeln!(md, "- **Command:** `{}`", r.command);
    let _ = writeln!(
        md,
        "- **Method:** each figure is the median of {} runs after {} warm-up, with min–max \
         beside it. A run is one process, timed from spawn to exit; peak RSS is that \
         process's. Wasmtime and kiln-cranelift run a module precompiled beforehand \
         (`wasmtime compile`, `kiln compile`; the compile is timed separately). All runtimes take turns on each program, so ratios come from one \
         run of one machine.\n",
        r.settings.runs, r.settings.warmups
    );
}

fn runtimes_table(md: &mut String, r: &Results) {
    let _ = writeln!(md, "## Runtimes\n");
    let _ = writeln!(md, "| runtime | version |");
    let _ = writeln!(md, "|---|---|");
    for rt in &r.runtimes {
        let version = if rt.found {
            rt.version.clone().unwrap_or_else(|| "unknown".into())
        } else {
            format!(
                "*{}*",
                rt.note.clone().unwrap_or_else(|| "not found".into())
            )
        };
        let _ = writeln!(md, "| {} | {} |", rt.name, cell_text(&version));
    }
    md.push('\n');
}

/// The runtimes found, in report order.
fn found(r: &Results) -> Vec<&str> {
    r.runtimes
        .iter()
        .filter(|rt| rt.found)
        .map(|rt| rt.name.as_str())
        .collect()
}

/// The runtimes found that raced on at least one of `programs`, in
/// report order: a column of nothing but dashes says nothing.
fn raced<'a>(r: &'a Results, programs: &[&ProgramResult]) -> Vec<&'a str> {
    found(r)
        .into_iter()
        .filter(|rt| programs.iter().any(|p| pair(p, rt).is_some()))
        .collect()
}

fn pair<'a>(program: &'a ProgramResult, runtime: &str) -> Option<&'a Pair> {
    program.pairs.iter().find(|p| p.runtime == runtime)
}

/// A table header row and its alignment row.
fn table_head(md: &mut String, first: &str, columns: &[String]) {
    let _ = writeln!(md, "| {first} | {} |", columns.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(columns.len()));
}

/// A pair's figure: the measure chosen by `pick`, `failed`, or `–` when
/// the runtime did not run the program.
fn pair_cell(
    program: &ProgramResult,
    runtime: &str,
    pick: impl Fn(&Pair) -> Option<&Measure>,
    show: impl Fn(&Measure) -> String,
) -> String {
    match pair(program, runtime) {
        None => "–".into(),
        Some(p) if !p.ok() => "failed".into(),
        Some(p) => pick(p).map_or("–".into(), show),
    }
}

fn run_table(md: &mut String, r: &Results) {
    let programs: Vec<&ProgramResult> = r.programs.iter().filter(|p| !p.large).collect();
    if programs.is_empty() {
        return;
    }
    let runtimes = raced(r, &programs);
    let _ = writeln!(md, "## Run time\n");
    let _ = writeln!(md, "Median (min–max) wall time of one run.\n");
    let columns: Vec<String> = runtimes.iter().map(|s| s.to_string()).collect();
    table_head(md, "program", &columns);
    for program in programs {
        let cells: Vec<String> = runtimes
            .iter()
            .map(|rt| pair_cell(program, rt, |p| p.run.as_ref(), time_range))
            .collect();
        let _ = writeln!(md, "| {} | {} |", program.name, cells.join(" | "));
    }
    md.push('\n');
}

fn ratio_tables(md: &mut String, r: &Results) {
    for (metric, title) in [
        ("run", "Kiln relative to each runtime: run time"),
        (
            "startup",
            "Kiln relative to each runtime: start-up of the large modules",
        ),
        (
            "compile",
            "Kiln relative to each runtime: compile command on the large modules",
        ),
        (
            "instantiate",
            "Kiln relative to each runtime: in-process instantiation",
        ),
    ] {
        let sets: Vec<&RatioSet> = r.ratios.iter().filter(|s| s.metric == metric).collect();
        if sets.is_empty() {
            continue;
        }
        let _ = writeln!(md, "## {title}\n");
        let _ = writeln!(
            md,
            "Geometric mean over the programs both ran of Kiln's median divided by the \
             other runtime's: above 1× Kiln is slower, below 1× faster. `n` counts the \
             programs in the mean.\n"
        );
        let mut kilns: Vec<&str> = sets.iter().map(|s| s.kiln.as_str()).collect();
        kilns.dedup();
        let mut others: Vec<&str> = Vec::new();
        for s in &sets {
            if !others.contains(&s.other.as_str()) {
                others.push(&s.other);
            }
        }
        let columns: Vec<String> = others.iter().map(|o| format!("vs {o}")).collect();
        table_head(md, "Kiln backend", &columns);
        let mut excluded = Vec::new();
        for kiln in &kilns {
            let cells: Vec<String> = others
                .iter()
                .map(|other| {
                    let Some(set) = sets.iter().find(|s| s.kiln == *kiln && s.other == *other)
                    else {
                        return "–".into();
                    };
                    if !set.excluded.is_empty() {
                        excluded.push(format!("{kiln} vs {other}: {}", set.excluded.join(", ")));
                    }
                    match set.geomean {
                        Some(g) => format!("{} (n={})", ratio(g), set.per_program.len()),
                        None => "–".into(),
                    }
                })
                .collect();
            let _ = writeln!(md, "| {kiln} | {} |", cells.join(" | "));
        }
        md.push('\n');
        if !excluded.is_empty() {
            let _ = writeln!(md, "Excluded (one side failed or did not run):\n");
            for line in excluded {
                let _ = writeln!(md, "- {line}");
            }
            md.push('\n');
        }
        // Per-program ratios, one table per Kiln backend, for the run
        // metric only (the start-up table above already lists each).
        if metric == "run" {
            for kiln in &kilns {
                let _ = writeln!(md, "Per program, {kiln} ÷ each runtime:\n");
                table_head(md, "program", &columns);
                for program in r.programs.iter().filter(|p| !p.large) {
                    let cells: Vec<String> = others
                        .iter()
                        .map(|other| {
                            sets.iter()
                                .find(|s| s.kiln == *kiln && s.other == *other)
                                .and_then(|s| {
                                    s.per_program.iter().find(|p| p.program == program.name)
                                })
                                .map_or("–".into(), |p| ratio(p.ratio))
                        })
                        .collect();
                    let _ = writeln!(md, "| {} | {} |", program.name, cells.join(" | "));
                }
                md.push('\n');
            }
        }
    }
}

fn compile_table(md: &mut String, r: &Results) {
    // Kiln's backends, then any peer measured in-process too (Wasmtime,
    // through `wasmtime-embed`).
    let mut kilns: Vec<&str> = r
        .runtimes
        .iter()
        .filter(|rt| rt.role == Role::Kiln)
        .map(|rt| rt.name.as_str())
        .collect();
    for p in &r.programs {
        for m in &p.in_process {
            if !kilns.contains(&m.runtime.as_str()) {
                kilns.push(m.runtime.as_str());
            }
        }
    }
    let aot: Vec<&str> = found(r)
        .into_iter()
        .filter(|rt| {
            r.programs.iter().any(|p| {
                pair(p, rt).is_some_and(|p| {
                    p.compile.is_some() || p.failure.as_ref().is_some_and(|f| f.stage == "compile")
                })
            })
        })
        .collect();
    if kilns.is_empty() && aot.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Compile\n");
    let _ = writeln!(
        md,
        "Kiln's figures are measured inside the harness: `Module::new` (compile) and \
         `Linker` + WASI + `instantiate`; MB/s is code-section megabytes compiled per \
         second. Wasmtime's in-process columns, when present, come from \
         `wasmtime-embed`, which does the same with Wasmtime's default `Config`. The `compile command` columns time the ahead-of-time compile command \
         (`kiln compile`; `wasmtime compile`, cache off) as a process: {} runs on the large \
         modules, one elsewhere.\n",
        r.settings.runs
    );
    let mut columns = vec!["code section".to_string()];
    for k in &kilns {
        columns.push(format!("{k} compile"));
        columns.push(format!("{k} MB/s"));
        columns.push(format!("{k} instantiate"));
    }
    columns.extend(aot.iter().map(|a| format!("{a} compile command")));
    table_head(md, "program", &columns);
    for program in &r.programs {
        let mut cells = vec![bytes(program.code_section_bytes)];
        for k in &kilns {
            match program.in_process.iter().find(|m| m.runtime == *k) {
                Some(m) if m.error.is_none() => {
                    cells.push(m.compile.as_ref().map_or("–".into(), time_range));
                    cells.push(m.compile_mb_per_s.map_or("–".into(), |v| format!("{v:.1}")));
                    cells.push(m.instantiate.as_ref().map_or("–".into(), time_range));
                }
                Some(_) => cells.extend(["failed".to_string(), "–".into(), "–".into()]),
                None => cells.extend(["–".to_string(), "–".into(), "–".into()]),
            }
        }
        for a in &aot {
            cells.push(pair_cell(program, a, |p| p.compile.as_ref(), time_range));
        }
        let _ = writeln!(md, "| {} | {} |", program.name, cells.join(" | "));
    }
    md.push('\n');
}

fn startup_table(md: &mut String, r: &Results) {
    let programs: Vec<&ProgramResult> = r.programs.iter().filter(|p| p.large).collect();
    if programs.is_empty() {
        return;
    }
    let runtimes = raced(r, &programs);
    let precompiled: Vec<&str> = runtimes
        .iter()
        .copied()
        .filter(|rt| {
            programs
                .iter()
                .any(|p| pair(p, rt).is_some_and(|p| p.startup.is_some()))
        })
        .collect();
    let _ = writeln!(md, "## Start-up of the large modules\n");
    let _ = writeln!(
        md,
        "Wall time of running each large module (which does a few ms of work) from its \
         `.wasm`, compilation or translation included, no cache. The `(precompiled)` columns \
         run the runtime's precompiled module instead (`kiln compile`, `wasmtime compile`): \
         load, instantiate and run.\n"
    );
    let mut columns: Vec<String> = runtimes.iter().map(|s| s.to_string()).collect();
    columns.extend(precompiled.iter().map(|rt| format!("{rt} (precompiled)")));
    table_head(md, "module", &columns);
    for program in programs {
        let mut cells: Vec<String> = runtimes
            .iter()
            .map(|rt| pair_cell(program, rt, Pair::startup_time, time_range))
            .collect();
        for rt in &precompiled {
            cells.push(pair_cell(program, rt, |p| p.run.as_ref(), time_range));
        }
        let _ = writeln!(
            md,
            "| {} ({}) | {} |",
            program.name,
            bytes(program.code_section_bytes),
            cells.join(" | ")
        );
    }
    md.push('\n');
}

fn rss_table(md: &mut String, r: &Results) {
    if r.programs.is_empty() {
        return;
    }
    let all: Vec<&ProgramResult> = r.programs.iter().collect();
    let runtimes = raced(r, &all);
    let _ = writeln!(md, "## Peak RSS\n");
    let _ = writeln!(md, "Median peak resident set size of one run, in MiB.\n");
    let columns: Vec<String> = runtimes.iter().map(|s| s.to_string()).collect();
    table_head(md, "program", &columns);
    for program in &r.programs {
        let cells: Vec<String> = runtimes
            .iter()
            .map(|rt| {
                pair_cell(
                    program,
                    rt,
                    |p| p.peak_rss.as_ref(),
                    |m| format!("{:.1}", m.median / 1024.0),
                )
            })
            .collect();
        let _ = writeln!(md, "| {} | {} |", program.name, cells.join(" | "));
    }
    md.push('\n');
}

fn failures(md: &mut String, r: &Results) {
    let failed: Vec<(&str, &Pair)> = r
        .programs
        .iter()
        .flat_map(|p| p.pairs.iter().map(move |pair| (p.name.as_str(), pair)))
        .filter(|(_, pair)| !pair.ok())
        .collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Failures\n");
    for (program, pair) in failed {
        let Some(f) = &pair.failure else { continue };
        let last = f.stderr_tail.lines().last().unwrap_or("").trim();
        let detail = if last.is_empty() {
            String::new()
        } else {
            format!(" — `{}`", last.replace('`', "'"))
        };
        let _ = writeln!(
            md,
            "- {program} on {} ({}): {}{detail}",
            pair.runtime,
            f.stage,
            cell_text(&f.reason)
        );
    }
    md.push('\n');
}

/// `median (min–max)` with one unit chosen by the median.
fn time_range(m: &Measure) -> String {
    let (scale, unit, digits) = if m.median >= 1.0 {
        (1.0, "s", 2)
    } else if m.median >= 1e-3 {
        (1e3, "ms", 1)
    } else {
        (1e6, "µs", 0)
    };
    if m.samples.len() == 1 || m.min == m.max {
        return format!("{:.*} {unit}", digits, m.median * scale);
    }
    format!(
        "{:.*} {unit} ({:.*}–{:.*})",
        digits,
        m.median * scale,
        digits,
        m.min * scale,
        digits,
        m.max * scale
    )
}

/// A ratio with enough digits to read.
fn ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}×")
    } else if x >= 10.0 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

/// A byte count in KB or MB (powers of ten, as MB/s is).
fn bytes(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.2} MB", n as f64 / 1e6)
    } else {
        format!("{:.1} KB", n as f64 / 1e3)
    }
}

/// A duration in minutes and seconds.
fn minutes(s: f64) -> String {
    let whole = s.round() as u64;
    if whole >= 60 {
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        format!("{s:.1} s")
    }
}

/// Text made safe for a table cell: no pipes or line breaks.
fn cell_text(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_results;

    #[test]
    fn has_every_section_with_figures() {
        let md = render(&sample_results());
        for heading in [
            "# Kiln benchmark results",
            "## Runtimes",
            "## Run time",
            "## Kiln relative to each runtime: run time",
            "## Kiln relative to each runtime: start-up of the large modules",
            "## Compile",
            "## Start-up of the large modules",
            "## Peak RSS",
            "## Failures",
        ] {
            assert!(md.contains(heading), "missing {heading}:\n{md}");
        }
        assert!(md.contains("`cargo run --release -p kiln-bench -- --quick`"));
        assert!(
            md.contains("| fib | 2.00 s | 200.0 ms | failed | 100.0 ms |"),
            "{md}"
        );
        assert!(
            md.contains("| kiln-interp | 10.0× (n=1) | – | 20.0× (n=1) |"),
            "{md}"
        );
        assert!(md.contains("kiln-interp vs wasm3: fib"));
        assert!(md.contains("| node | *not found* |"));
        assert!(md.contains("fib on wasm3 (run): exit status 1 — `boom`"));
        // Wasmtime's start-up from the .wasm, then from the .cwasm.
        assert!(md.contains("1.10 s (1.00–1.20)"), "{md}");
    }

    #[test]
    fn formats_figures() {
        let m = Measure::new("s", vec![0.0012, 0.0010, 0.0015]).unwrap();
        assert_eq!(time_range(&m), "1.2 ms (1.0–1.5)");
        assert_eq!(ratio(123.4), "123×");
        assert_eq!(ratio(1.234), "1.23×");
        assert_eq!(bytes(5_500_000), "5.50 MB");
        assert_eq!(minutes(125.0), "2 min 5 s");
        assert_eq!(cell_text("a|b\nc"), "a\\|b c");
    }
}
