//! `kiln-bench`: the benchmark harness.
//!
//! **What it does.** It builds the benchmark programs of
//! `benches/programs` for `wasm32-wasip1` and for the host, builds the
//! `kiln` command, finds the other runtimes (Wasmtime with its three
//! compilers, wasmi, wasm3, Node) on `$PATH` and in the peers' cache, and
//! races them all, program by program, taking turns. It measures run time
//! and peak RSS of one process per run, Wasmtime's ahead-of-time compile
//! and start-up, and Kiln's in-process compile and instantiate times; each
//! figure is the median of several runs after a warm-up, with min and
//! max. Every run's output line and checksum are checked; a failure is
//! reported, never timed. It then writes `results.json` (every sample),
//! `run-times.svg` and `summary.md` (tables with Kiln's ratio to every
//! other runtime) under `target/bench/`, and prints the summary.
//!
//! **What it doesn't do.** It does not install peers
//! (`benches/peers/install.sh` does), write the programs, or compare runs
//! with each other: machines drift, so only ratios from one run count.
//! Linux is the platform it is written for (`/proc`, `getrusage`).
//!
//! **Who calls it.** Developers, with `cargo run --release -p kiln-bench
//! -- [--quick]`, when they want figures for `docs/performance.md`; CI,
//! with `--quick --programs fib`, to prove the harness works.

mod build;
mod cli;
mod inproc;
mod machine;
mod measure;
mod ratios;
mod report;
mod results;
mod runtimes;
mod stats;
mod suite;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Parser as _;

use crate::build::Program;
use crate::cli::{Cli, Hidden};
use crate::results::{Results, Settings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.wrapper {
        Some(Hidden::Measure(args)) => measure::wrapper_main(args),
        None => race(cli),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The whole run: select, build, discover, race, report.
fn race(cli: Cli) -> Result<()> {
    let started = Instant::now();
    let started_utc = machine::utc_now();
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();

    // Everything the user can get wrong is checked before anything slow.
    let repo = build::find_repo()?;
    let programs_dir = cli
        .programs_dir
        .clone()
        .unwrap_or_else(|| repo.join("benches/programs"));
    let available = build::discover_programs(&programs_dir)?;
    let names = cli.select_programs(&available)?;
    let (selected_runtimes, named) = cli.select_runtimes()?;
    let out = cli.out.clone().unwrap_or_else(|| repo.join("target/bench"));
    let build_dir = repo.join("target/bench/build");
    // The host build of the programs is only for racing them natively.
    let wants_native = selected_runtimes.contains("native");
    let wants_kiln = runtimes::KILN_BACKENDS
        .iter()
        .any(|b| selected_runtimes.contains(b.runtime));

    let kiln = if !wants_kiln {
        None
    } else if let Some(kiln) = &cli.kiln {
        if !kiln.is_file() {
            bail!("--kiln: `{}` is not a file", kiln.display());
        }
        Some(kiln.clone())
    } else if cli.no_build {
        let kiln = build::kiln_path(&build::harness_target_dir()?);
        kiln.is_file().then_some(kiln)
    } else {
        Some(build::build_kiln(&repo, &build::harness_target_dir()?)?)
    };
    if !cli.no_build {
        // Only the selected programs, unless all are selected.
        let only = (names.len() < available.len()).then_some(names.as_slice());
        build::build_programs(&repo, &programs_dir, &build_dir, only, wants_native)?;
    }
    let programs: Vec<Program> = names
        .iter()
        .map(|n| Program::in_target_dir(n, &build_dir))
        .collect();
    for program in &programs {
        if !program.wasm.is_file() || (wants_native && !program.native.is_file()) {
            bail!(
                "`{}` has not been built (run without --no-build)",
                program.name
            );
        }
    }

    let machine = machine::Machine::detect();
    let catalog = runtimes::discover(
        &selected_runtimes,
        named,
        kiln.as_deref(),
        &repo,
        &runtimes::Search::from_env(),
        &machine.rustc,
    );
    eprintln!("kiln-bench: machine: {}", machine.one_line());
    for rt in &catalog {
        let what = match (&rt.info.version, &rt.info.note) {
            _ if !rt.info.found => rt.info.note.clone().unwrap_or_default(),
            (Some(v), _) => v.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => "version unknown".into(),
        };
        eprintln!("kiln-bench: runtime {:<20} {what}", rt.info.name);
    }
    eprintln!(
        "kiln-bench: {} program(s), {} run(s) each after 1 warm-up, timeout {} s",
        programs.len(),
        cli.runs,
        cli.timeout
    );

    // Wasmtime's in-process figures, when its embedding driver is
    // installed and Wasmtime's Cranelift races.
    let wasmtime_embed = catalog
        .iter()
        .any(|r| r.info.found && r.info.name == inproc::WASMTIME_IN_PROCESS)
        .then(|| runtimes::Search::from_env().find("wasmtime-embed"))
        .flatten();
    if let Some(driver) = &wasmtime_embed {
        eprintln!(
            "kiln-bench: Wasmtime in-process figures from {}",
            driver.display()
        );
    }
    let plan = suite::Plan {
        programs,
        runtimes: catalog,
        wasmtime_embed,
        runs: cli.runs as usize,
        artifacts: out.join("artifacts"),
        measurer: measure::Measurer::new(
            &suite::scratch_dir(&out),
            Duration::from_secs_f64(cli.timeout),
        )?,
    };
    std::fs::create_dir_all(&plan.artifacts)
        .with_context(|| format!("cannot create `{}`", plan.artifacts.display()))?;
    let runtimes_info: Vec<_> = plan.runtimes.iter().map(|r| r.info.clone()).collect();
    let mut results = Results {
        harness: format!("kiln-bench {}", env!("CARGO_PKG_VERSION")),
        machine,
        started_utc,
        wall_seconds: 0.0,
        command: reproducing_command(&argv),
        argv,
        settings: Settings {
            quick: cli.quick,
            runs: cli.runs as usize,
            warmups: 1,
            timeout_seconds: cli.timeout,
        },
        runtimes: runtimes_info,
        programs: Vec::new(),
        ratios: Vec::new(),
    };
    let finish = |results: &mut Results, programs: &[results::ProgramResult]| {
        results.programs = programs.to_vec();
        results.ratios = ratios::compute(&results.runtimes, programs);
        results.wall_seconds = started.elapsed().as_secs_f64();
    };
    suite::run(&plan, |so_far| {
        // Reports of the programs done so far, rewritten after each one.
        finish(&mut results, so_far);
        if let Err(e) = report::write_all(&results, &out) {
            eprintln!("kiln-bench: warning: {e:#}");
        }
    });
    let done = std::mem::take(&mut results.programs);
    finish(&mut results, &done);
    let written = report::write_all(&results, &out)?;
    println!("{}", report::markdown::render(&results));
    for path in written {
        eprintln!("kiln-bench: wrote {}", relative(&path, &repo).display());
    }
    eprintln!(
        "kiln-bench: done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The command that repeats this run: under `cargo run` (which sets
/// `CARGO`), the `cargo run` line; otherwise the harness as invoked.
fn reproducing_command(argv: &[String]) -> String {
    let args = argv
        .iter()
        .skip(1)
        .map(|a| measure::shell_quote(OsStr::new(a)))
        .collect::<Vec<_>>();
    let exe = std::env::current_exe().ok();
    let in_release = exe
        .as_deref()
        .and_then(Path::parent)
        .is_some_and(|d| d.ends_with("release"));
    let head = if std::env::var_os("CARGO").is_some() {
        let profile = if in_release { " --release" } else { "" };
        format!("cargo run{profile} -p kiln-bench --")
    } else {
        "kiln-bench".to_string()
    };
    if args.is_empty() {
        head.trim_end_matches(" --").to_string()
    } else {
        format!("{head} {}", args.join(" "))
    }
}

/// `path` relative to `base` when it is inside it.
fn relative(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base).unwrap_or(path).to_path_buf()
}
