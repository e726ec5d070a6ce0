//! `kiln settings`: what this host offers the native backend.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
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
        let isa = kiln_cranelift::IsaBuilder::host()
            .build()
            .map_err(|e| anyhow!("cannot detect the host for native code: {e}"))?;
        let auto = Engine::new(&Config::new())?;
        let backend = match auto.strategy() {
            Strategy::Cranelift => "cranelift",
            _ => "interp",
        };
        let mut text = format!(
            "target: {}\ndefault compiler (-C compiler=auto): {backend}\nISA features:\n",
            isa.triple()
        );
        for flag in isa.isa_flags() {
            match flag.as_bool() {
                Some(on) => text.push_str(&format!("  {:<24} {on}\n", flag.name)),
                None => text.push_str(&format!("  {flag}\n")),
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
