//! The `kiln` command line.
//!
//! * `kiln run [OPTIONS] FILE [ARGS...]` instantiates a module with WASI
//!   preview 1 and runs it (`_start`) or calls one of its exports;
//! * `kiln compile [OPTIONS] FILE [-o OUT]` compiles a module ahead of
//!   time, for this host or (`--target`) another machine;
//! * `kiln wast [-C compiler=interp|cranelift] FILE...` runs spec scripts;
//! * `kiln settings` prints the host's target, its ISA features and the
//!   default compiler.
//!
//! Errors are reported as one `error: ...` line on stderr with exit code 1;
//! a wasm trap prints its message and wasm backtrace and exits with 134;
//! `kiln run --timeout` running out exits with 124; a WASI `proc_exit(N)`
//! exits with N.

mod compile;
mod host;
mod options;
mod run;
mod settings;
mod wast_cmd;

use std::panic;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A WebAssembly runtime.
#[derive(Parser, Debug)]
#[command(name = "kiln", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Run(run::RunCommand),
    Compile(compile::CompileCommand),
    Wast(wast_cmd::WastCommand),
    Settings(settings::SettingsCommand),
}

/// Exit code of a failed command (bad input, compile or link error).
const EXIT_ERROR: u8 = 1;

/// Exit code of a wasm trap, as `abort()` would give.
const EXIT_TRAP: u8 = 134;

/// Exit code when `kiln run --timeout` runs out, as GNU `timeout` gives.
const EXIT_TIMEOUT: u8 = 124;

/// Prints an error as exactly one line.
fn print_error(err: &anyhow::Error) {
    let text = format!("{err:#}");
    let one_line = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    eprintln!("error: {one_line}");
}

fn main() -> ExitCode {
    // Bugs must not surface as a Rust panic message and backtrace hint:
    // report them as one error line instead.
    panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error in kiln{at}: {msg}");
    }));

    let cli = Cli::parse();
    let outcome = panic::catch_unwind(|| match cli.command {
        Command::Run(cmd) => cmd.execute(),
        Command::Compile(cmd) => cmd.execute(),
        Command::Wast(cmd) => cmd.execute(),
        Command::Settings(cmd) => cmd.execute(),
    });
    match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            print_error(&err);
            ExitCode::from(EXIT_ERROR)
        }
        // The hook already printed the error line.
        Err(_) => ExitCode::from(EXIT_ERROR),
    }
}
