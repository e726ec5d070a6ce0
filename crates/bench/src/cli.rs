//! The command line: flags, and turning them into the programs and
//! runtimes to race, with a clear error for anything unknown.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

use crate::measure::WrapperArgs;
use crate::runtimes;

/// The program `--quick` races when no `--programs` are given.
pub const QUICK_PROGRAM: &str = "fib";

/// Races Kiln against other WebAssembly runtimes and the native build of
/// the same programs, and writes `results.json`, `run-times.svg` and
/// `summary.md`.
///
/// Programs come from `benches/programs` (one binary each), built for
/// `wasm32-wasip1` and for the host. Runtimes not installed are reported as
/// "not found"; `benches/peers/install.sh` installs them.
#[derive(Parser, Debug)]
#[command(name = "kiln-bench", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Internal: the measuring wrapper the harness runs itself as.
    #[command(subcommand)]
    pub wrapper: Option<Hidden>,

    /// One program only (`fib` unless --programs says otherwise), every
    /// runtime found: proves the harness works in a few minutes.
    #[arg(long)]
    pub quick: bool,

    /// The programs to race, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub programs: Vec<String>,

    /// The runtimes to race, comma-separated (default: all found). Known:
    /// kiln-interp, kiln-interp-lazy (large modules only unless named),
    /// wasmtime-cranelift, wasmtime-winch, wasmtime-pulley, wasmi,
    /// wasmi-lazy (large modules only unless named), wasm3, node, native.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub runtimes: Vec<String>,

    /// Measured runs per runtime and program, after one warm-up.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,

    /// Where the reports go (default: `target/bench` in the repository).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Use the programs and `kiln` built earlier instead of building them.
    #[arg(long)]
    pub no_build: bool,

    /// The `kiln` command to race, instead of building one (for example the
    /// one `cargo test --workspace --release` made: CI's bench step, which
    /// would otherwise compile Kiln and Cranelift a second time).
    #[arg(long, value_name = "PATH")]
    pub kiln: Option<PathBuf>,

    /// Seconds one run may take before it is killed and counted as a
    /// failure.
    #[arg(long, default_value_t = 120.0, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: f64,

    /// The programs' cargo workspace (default: `benches/programs` in the
    /// repository).
    #[arg(long, value_name = "DIR")]
    pub programs_dir: Option<PathBuf>,
}

/// Hidden subcommands.
#[derive(Subcommand, Debug)]
pub enum Hidden {
    /// Runs a command as the only child, then prints its wall time, peak
    /// RSS and exit status.
    #[command(name = crate::measure::WRAPPER, hide = true)]
    Measure(WrapperArgs),
}

/// A positive, finite number of seconds.
fn parse_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

impl Cli {
    /// The programs to race, from those `available`, in their order.
    pub fn select_programs(&self, available: &[String]) -> Result<Vec<String>> {
        let requested: Vec<String> = if !self.programs.is_empty() {
            self.programs.clone()
        } else if self.quick {
            vec![QUICK_PROGRAM.to_string()]
        } else {
            return Ok(available.to_vec());
        };
        check_known("program", &requested, available.iter().map(String::as_str))?;
        if self.quick && requested.len() > 1 {
            bail!("--quick races one program; got {}", requested.join(","));
        }
        Ok(available
            .iter()
            .filter(|a| requested.contains(a))
            .cloned()
            .collect())
    }

    /// The runtimes to race (every one when none is named), and whether
    /// they were named.
    pub fn select_runtimes(&self) -> Result<(BTreeSet<String>, bool)> {
        let known = runtimes::all_names();
        if self.runtimes.is_empty() {
            return Ok((known.iter().map(|s| s.to_string()).collect(), false));
        }
        check_known("runtime", &self.runtimes, known.iter().copied())?;
        Ok((self.runtimes.iter().cloned().collect(), true))
    }
}

/// Fails naming every entry of `requested` not in `known`, and listing
/// what is known.
fn check_known<'a>(
    what: &str,
    requested: &[String],
    known: impl Iterator<Item = &'a str> + Clone,
) -> Result<()> {
    let unknown: Vec<&str> = requested
        .iter()
        .map(String::as_str)
        .filter(|r| !known.clone().any(|k| k == *r))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let plural = if unknown.len() > 1 { "s" } else { "" };
    bail!(
        "unknown {what}{plural} `{}`; known: {}",
        unknown.join("`, `"),
        known.collect::<Vec<_>>().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("kiln-bench").chain(args.iter().copied()))
    }

    fn available() -> Vec<String> {
        ["fib", "sieve", "large_a"].map(String::from).to_vec()
    }

    #[test]
    fn defaults() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.runs, 5);
        assert_eq!(cli.timeout, 120.0);
        assert!(!cli.quick && !cli.no_build && cli.kiln.is_none());
        assert_eq!(cli.select_programs(&available()).unwrap(), available());
        let cli = parse(&["--kiln", "target/release/kiln"]).unwrap();
        assert_eq!(
            cli.kiln.as_deref(),
            Some(std::path::Path::new("target/release/kiln"))
        );
        let (runtimes, named) = cli.select_runtimes().unwrap();
        assert!(!named);
        assert!(runtimes.contains("kiln-interp") && runtimes.contains("native"));
    }

    #[test]
    fn quick_picks_fib_and_lists_filter() {
        let cli = parse(&["--quick"]).unwrap();
        assert_eq!(cli.select_programs(&available()).unwrap(), ["fib"]);
        let cli = parse(&[
            "--programs",
            "large_a,fib",
            "--runtimes",
            "native,kiln-interp",
        ])
        .unwrap();
        // Programs keep the suite's order, not the flag's.
        assert_eq!(
            cli.select_programs(&available()).unwrap(),
            ["fib", "large_a"]
        );
        let (runtimes, named) = cli.select_runtimes().unwrap();
        assert!(named);
        assert_eq!(
            runtimes.into_iter().collect::<Vec<_>>(),
            ["kiln-interp", "native"]
        );
    }

    #[test]
    fn unknown_names_are_clear_errors() {
        let cli = parse(&["--programs", "fib,nope,zilch"]).unwrap();
        let err = cli.select_programs(&available()).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown programs `nope`, `zilch`; known: fib, sieve, large_a"
        );
        let cli = parse(&["--runtimes", "v8"]).unwrap();
        let err = cli.select_runtimes().unwrap_err().to_string();
        assert!(
            err.starts_with("unknown runtime `v8`; known: kiln-interp,"),
            "{err}"
        );
        let cli = parse(&["--quick", "--programs", "fib,sieve"]).unwrap();
        assert!(cli.select_programs(&available()).is_err());
    }

    #[test]
    fn bad_flags_are_rejected_by_the_parser() {
        for args in [
            &["--runs", "0"][..],
            &["--runs", "many"],
            &["--timeout", "-1"],
            &["--timeout", "inf"],
            &["--frobnicate"],
            &["--out"],
        ] {
            assert!(parse(args).is_err(), "{args:?} was accepted");
        }
    }

    #[test]
    fn the_wrapper_takes_its_command_after_a_double_dash() {
        let cli = parse(&[
            "__measure",
            "--stdout",
            "o",
            "--stderr",
            "e",
            "--",
            "ls",
            "-l",
        ])
        .unwrap();
        assert!(matches!(cli.wrapper, Some(Hidden::Measure(_))));
        assert!(parse(&["__measure", "--stdout", "o", "--stderr", "e"]).is_err());
    }
}
