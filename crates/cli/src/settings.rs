//! `kiln settings`: what this host offers the native backend.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use kiln::{Config, Engine, Strategy};

/// Prints the host's target triple, the CPU features Cranelift detected
/// (what native code is compiled for), and the backend `-C compiler=auto`
/// picks here.
#[derive(Args, Debug)]
pub struct SettingsCommand {}

impl SettingsCommand {
    /// Runs the command; `Err` is reported as one error line, exit 1.
    pub fn execute(self) -> Result<ExitCode> {
        let auto = Engine::new(&Config::new())?;
        let backend = match auto.strategy() {
            Strategy::Cranelift => "cranelift",
            _ => "interp",
        };
        // What Cranelift would compile for here, even where `auto` picks
        // the interpreter; or why it cannot.
        let mut native = Config::new();
        native.strategy(Strategy::Cranelift);
        let mut text = String::new();
        match Engine::new(&native).map(|e| e.native_settings()) {
            Ok(Some(settings)) => {
                let field = |name: &str| {
                    settings
                        .lines()
                        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                        .unwrap_or("")
                        .to_string()
                };
                text.push_str(&format!(
                    "target: {}\ndefault compiler (-C compiler=auto): {backend}\nISA features:\n",
                    field("triple")
                ));
                for word in field("isa").split_whitespace() {
                    match word.split_once('=') {
                        Some((name, value)) => text.push_str(&format!("  {name:<24} {value}\n")),
                        None => text.push_str(&format!("  {word}\n")),
                    }
                }
                // The baseline compiler (and tiering) where it runs: the
                // CPU features its code uses.
                let mut baseline = Config::new();
                baseline.strategy(Strategy::Baseline);
                if let Ok(Some(settings)) = Engine::new(&baseline).map(|e| e.native_settings())
                    && let Some(line) = settings.lines().find_map(|l| l.strip_prefix("baseline="))
                {
                    let mut words = line.split_whitespace();
                    let isa = words.next().unwrap_or("");
                    text.push_str(&format!(
                        "baseline compiler (-C compiler=baseline|tiered): {isa}, CPU features:\n"
                    ));
                    for word in words {
                        if let Some((name, value)) = word.split_once('=') {
                            text.push_str(&format!("  {name:<24} {value}\n"));
                        }
                    }
                }
            }
            Ok(None) | Err(_) => {
                let why = Engine::new(&native)
                    .err()
                    .map_or_else(|| "unavailable".to_string(), |e| format!("{e:#}"));
                text.push_str(&format!(
                    "target: {}\ndefault compiler (-C compiler=auto): {backend}\nnative code: {why}\n",
                    host_target()
                ));
            }
        }
        // A reader that stops early (`kiln settings | head`) is not an
        // error worth reporting.
        match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(ExitCode::SUCCESS),
        }
    }
}

/// This build's target, as `arch-os` (what `kiln settings` shows where no
/// native compiler can name the full triple).
fn host_target() -> String {
    match std::env::consts::OS {
        "" => std::env::consts::ARCH.to_string(),
        os => format!("{}-{os}", std::env::consts::ARCH),
    }
}
