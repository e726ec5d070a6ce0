//! `-C key=value` (code generation) and `-W key=value` (wasm) options,
//! turned into a [`kiln::Config`].

use anyhow::{Result, bail};
use kiln::{Config, Strategy};

/// Splits `key=value`, naming the flag in the error.
fn split<'a>(flag: &str, option: &'a str) -> Result<(&'a str, &'a str)> {
    match option.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key, value)),
        _ => bail!("invalid option `{flag} {option}`: expected `{flag} key=value`"),
    }
}

/// Applies `-C` options to `config`. Supported: `compiler=auto|interp`.
pub fn apply_codegen(config: &mut Config, options: &[String]) -> Result<()> {
    for option in options {
        let (key, value) = split("-C", option)?;
        match key {
            "compiler" => {
                let strategy = match value {
                    "auto" => Strategy::Auto,
                    "interp" | "interpreter" | "pulley" => Strategy::Interpreter,
                    "cranelift" | "baseline" | "winch" => {
                        bail!(
                            "compiler `{value}` is not available in this build (available: auto, interp)"
                        )
                    }
                    _ => bail!(
                        "unknown compiler `{value}` in `-C {option}` (available: auto, interp)"
                    ),
                };
                config.strategy(strategy);
            }
            _ => bail!("unknown option `-C {key}` (supported: compiler)"),
        }
    }
    Ok(())
}

/// The parsed `-W` options.
#[derive(Debug, Default)]
pub struct WasmOptions {
    /// `fuel=N`: enable fuel metering and start the store with N units.
    pub fuel: Option<u64>,
}

/// Parses `-W` options and applies them to `config`. Supported: `fuel=N`.
pub fn apply_wasm(config: &mut Config, options: &[String]) -> Result<WasmOptions> {
    let mut out = WasmOptions::default();
    for option in options {
        let (key, value) = split("-W", option)?;
        match key {
            "fuel" => {
                let fuel = value.parse::<u64>().map_err(|_| {
                    anyhow::anyhow!(
                        "invalid value `{value}` for `-W fuel`: expected a non-negative integer"
                    )
                })?;
                config.consume_fuel(true);
                out.fuel = Some(fuel);
            }
            _ => bail!("unknown option `-W {key}` (supported: fuel)"),
        }
    }
    Ok(out)
}
