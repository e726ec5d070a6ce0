//! `-C key=value` (code generation), `-O key=value` (native memory layout)
//! and `-W key=value` (wasm) options,
//! turned into a [`kiln::Config`], and the size and duration syntax other
//! options use.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use kiln::{Config, Strategy};

/// Splits `key=value`, naming the flag in the error.
fn split<'a>(flag: &str, option: &'a str) -> Result<(&'a str, &'a str)> {
    match option.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key, value)),
        _ => bail!("invalid option `{flag} {option}`: expected `{flag} key=value`"),
    }
}

/// Applies `-C` options to `config`. Supported:
/// `compiler=auto|interp|cranelift|baseline|tiered`, `lazy-translation=y|n`,
/// `baseline-fallback=y|n`, and for the tiered compiler
/// `tier-threshold=N`, `tier-threads=N`, `tier-log=y|n` and
/// `tier-sync=y|n`.
pub fn apply_codegen(config: &mut Config, options: &[String]) -> Result<()> {
    for option in options {
        let (key, value) = split("-C", option)?;
        match key {
            "compiler" => {
                let strategy = match value {
                    "auto" => Strategy::Auto,
                    "interp" | "interpreter" | "pulley" => Strategy::Interpreter,
                    "cranelift" => Strategy::Cranelift,
                    "baseline" => Strategy::Baseline,
                    "tiered" => Strategy::Tiered,
                    _ => bail!(
                        "unknown compiler `{value}` in `-C {option}` (available: auto, interp, cranelift, baseline, tiered)"
                    ),
                };
                config.strategy(strategy);
            }
            "lazy-translation" => {
                let lazy = parse_bool(value).ok_or_else(|| {
                    anyhow!("invalid value `{value}` for `-C lazy-translation`: expected y or n")
                })?;
                config.lazy_translation(lazy);
            }
            "baseline-fallback" => {
                let on = parse_bool(value).ok_or_else(|| {
                    anyhow!("invalid value `{value}` for `-C baseline-fallback`: expected y or n")
                })?;
                config.baseline_fallback(on);
            }
            "tier-threshold" | "tier-threads" => {
                let n: u32 = value.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    anyhow!("invalid value `{value}` for `-C {key}`: expected a positive integer")
                })?;
                if key == "tier-threshold" {
                    config.tier_threshold(n);
                } else {
                    config.tier_threads(n as usize);
                }
            }
            "tier-log" | "tier-sync" => {
                let on = parse_bool(value).ok_or_else(|| {
                    anyhow!("invalid value `{value}` for `-C {key}`: expected y or n")
                })?;
                if key == "tier-log" {
                    config.tier_log(on);
                } else {
                    config.tier_synchronously(on);
                }
            }
            _ => bail!(
                "unknown option `-C {key}` (supported: compiler, lazy-translation, baseline-fallback, \
                 tier-threshold, tier-threads, tier-log, tier-sync)"
            ),
        }
    }
    Ok(())
}

/// The `-O` keys, for error messages.
const OPT_KEYS: &str = "memory_reservation, memory_guard_size, memory_reservation_for_growth";

/// Applies `-O` options (the native backend's memory layout) to `config`.
/// Supported, each a byte count with an optional K, M or G suffix:
/// `memory_reservation`, `memory_guard_size`,
/// `memory_reservation_for_growth` (dashes work as well as underscores).
pub fn apply_opts(config: &mut Config, options: &[String]) -> Result<()> {
    for option in options {
        let (key, value) = split("-O", option)?;
        let bytes = || -> Result<u64> {
            let n = parse_size(value)
                .map_err(|why| anyhow!("invalid value `{value}` for `-O {key}`: {why}"))?;
            u64::try_from(n)
                .map_err(|_| anyhow!("invalid value `{value}` for `-O {key}`: too large"))
        };
        match key.replace('-', "_").as_str() {
            "memory_reservation" => {
                config.memory_reservation(bytes()?);
            }
            "memory_guard_size" => {
                config.memory_guard_size(bytes()?);
            }
            "memory_reservation_for_growth" => {
                config.memory_reservation_for_growth(bytes()?);
            }
            _ => bail!("unknown option `-O {key}` (supported: {OPT_KEYS})"),
        }
    }
    Ok(())
}

/// The parsed `-W` options.
#[derive(Debug, Default)]
pub struct WasmOptions {
    /// `fuel=N`: enable fuel metering and start the store with N units.
    pub fuel: Option<u64>,
    /// `max-memory-size=BYTES`: no linear memory may grow beyond this.
    pub max_memory_size: Option<usize>,
    /// `unknown-imports-trap=y`: define every unknown function import as a
    /// function that traps when called, instead of failing to instantiate.
    pub unknown_imports_trap: bool,
}

/// The `-W` keys, for error messages.
const WASM_KEYS: &str = "fuel, max-memory-size, unknown-imports-trap, signals-based-traps, gc-stress, \
    and the proposals: simd, bulk-memory, reference-types, multi-value, tail-call, \
    extended-const, multi-memory, memory64, function-references, exceptions, legacy-exceptions, \
    relaxed-simd, relaxed-simd-deterministic, wide-arithmetic, custom-page-sizes";

/// A `Config` method that turns a proposal on or off.
type ProposalSetter = fn(&mut Config, bool) -> &mut Config;

/// The proposals `-W NAME=y|n` turns on or off, named as Wasmtime names
/// them.
const PROPOSALS: &[(&str, ProposalSetter)] = &[
    ("simd", Config::wasm_simd),
    ("bulk-memory", Config::wasm_bulk_memory),
    ("reference-types", Config::wasm_reference_types),
    ("multi-value", Config::wasm_multi_value),
    ("tail-call", Config::wasm_tail_call),
    ("extended-const", Config::wasm_extended_const),
    ("multi-memory", Config::wasm_multi_memory),
    ("memory64", Config::wasm_memory64),
    ("function-references", Config::wasm_function_references),
    ("exceptions", Config::wasm_exceptions),
    ("legacy-exceptions", Config::wasm_legacy_exceptions),
    ("wide-arithmetic", Config::wasm_wide_arithmetic),
    ("custom-page-sizes", Config::wasm_custom_page_sizes),
    ("relaxed-simd", Config::wasm_relaxed_simd),
    (
        "relaxed-simd-deterministic",
        Config::relaxed_simd_deterministic,
    ),
];

/// Parses `-W` options and applies them to `config`. Supported: `fuel=N`,
/// `max-memory-size=BYTES`, `unknown-imports-trap=y|n`,
/// `signals-based-traps=y|n` ([`Config::signals_based_traps`]; as
/// Wasmtime spells it), `gc-stress=y|n` ([`Config::gc_stress`]), and `NAME=y|n` for each proposal in [`PROPOSALS`].
pub fn apply_wasm(config: &mut Config, options: &[String]) -> Result<WasmOptions> {
    let mut out = WasmOptions::default();
    for option in options {
        let (key, value) = split("-W", option)?;
        match key {
            "fuel" => {
                let fuel = value.parse::<u64>().map_err(|_| {
                    anyhow!(
                        "invalid value `{value}` for `-W fuel`: expected a non-negative integer"
                    )
                })?;
                config.consume_fuel(true);
                out.fuel = Some(fuel);
            }
            "max-memory-size" => {
                out.max_memory_size = Some(parse_size(value).map_err(|why| {
                    anyhow!("invalid value `{value}` for `-W max-memory-size`: {why}")
                })?);
            }
            "unknown-imports-trap" => {
                out.unknown_imports_trap = parse_bool(value).ok_or_else(|| {
                    anyhow!(
                        "invalid value `{value}` for `-W unknown-imports-trap`: expected y or n"
                    )
                })?;
            }
            "gc-stress" => {
                let on = parse_bool(value).ok_or_else(|| {
                    anyhow!("invalid value `{value}` for `-W gc-stress`: expected y or n")
                })?;
                config.gc_stress(on);
            }
            "signals-based-traps" => {
                let on = parse_bool(value).ok_or_else(|| {
                    anyhow!("invalid value `{value}` for `-W signals-based-traps`: expected y or n")
                })?;
                config.signals_based_traps(on);
            }
            _ => match PROPOSALS.iter().find(|(name, _)| *name == key) {
                Some((_, set)) => {
                    let on = parse_bool(value).ok_or_else(|| {
                        anyhow!("invalid value `{value}` for `-W {key}`: expected y or n")
                    })?;
                    set(config, on);
                }
                None => bail!("unknown option `-W {key}` (supported: {WASM_KEYS})"),
            },
        }
    }
    Ok(out)
}

/// `y`/`yes`/`true`/`1` or `n`/`no`/`false`/`0`.
fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "y" | "yes" | "true" | "1" => Some(true),
        "n" | "no" | "false" | "0" => Some(false),
        _ => None,
    }
}

/// A byte count: digits with an optional `K`, `M` or `G` suffix (powers of
/// 1024; `KiB`, `MiB`, `GiB` also accepted).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let shift = match suffix {
        "" => 0,
        "K" | "k" | "KiB" => 10,
        "M" | "m" | "MiB" => 20,
        "G" | "g" | "GiB" => 30,
        _ => return Err(format!("unknown unit `{suffix}` (use K, M or G)")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| "expected a number of bytes, like 65536 or 64M".to_string())?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| "too large".to_string())
}

/// A duration: a number (decimals allowed) followed by `ns`, `us`, `ms`,
/// `s`, `m` or `h`; a bare number is seconds. E.g. `500ms`, `5s`, `1.5m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("unknown unit `{unit}` (use ms, s, m or h)")),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| "expected a duration like 500ms, 5s or 1m".to_string())?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| "out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("3MiB"), Ok(3 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("").is_err());
        assert!(parse_size("12T").is_err());
        assert!(parse_size("-1").is_err());
    }

    #[test]
    fn codegen_and_memory_options() {
        let mut config = Config::new();
        apply_codegen(&mut config, &["compiler=cranelift".into()]).unwrap();
        apply_codegen(&mut config, &["compiler=interp".into()]).unwrap();
        apply_codegen(&mut config, &["compiler=baseline".into()]).unwrap();
        apply_codegen(&mut config, &["baseline-fallback=n".into()]).unwrap();
        assert!(apply_codegen(&mut config, &["baseline-fallback=maybe".into()]).is_err());
        assert!(apply_codegen(&mut config, &["compiler=winch".into()]).is_err());
        for ok in [
            "compiler=tiered",
            "tier-threshold=5",
            "tier-threads=2",
            "tier-log=y",
            "tier-sync=y",
        ] {
            apply_codegen(&mut config, &[ok.into()]).unwrap();
        }
        for bad in [
            "tier-threshold=0",
            "tier-threshold=-3",
            "tier-threads=x",
            "tier-log=maybe",
        ] {
            assert!(apply_codegen(&mut config, &[bad.into()]).is_err(), "{bad}");
        }
        assert!(apply_codegen(&mut config, &["compiler=gcc".into()]).is_err());
        let opts: Vec<String> = [
            "memory_reservation=4G",
            "memory-guard-size=64K",
            "memory_reservation_for_growth=0",
        ]
        .map(String::from)
        .to_vec();
        apply_opts(&mut config, &opts).unwrap();
        assert!(apply_opts(&mut config, &["memory_reservation=lots".into()]).is_err());
        assert!(apply_opts(&mut config, &["memory_guard=1".into()]).is_err());
        assert!(apply_opts(&mut config, &["memory_guard_size".into()]).is_err());
    }

    #[test]
    fn signals_based_traps_option() {
        let mut config = Config::new();
        assert!(format!("{config:?}").contains("signals_based_traps: true"));
        apply_wasm(&mut config, &["signals-based-traps=n".into()]).unwrap();
        assert!(format!("{config:?}").contains("signals_based_traps: false"));
        apply_wasm(&mut config, &["signals-based-traps=yes".into()]).unwrap();
        assert!(format!("{config:?}").contains("signals_based_traps: true"));
        let err = apply_wasm(&mut config, &["signals-based-traps=maybe".into()]).unwrap_err();
        assert!(err.to_string().contains("expected y or n"), "{err}");
        let err = apply_wasm(&mut config, &["signals=n".into()]).unwrap_err();
        assert!(err.to_string().contains("signals-based-traps"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5 s").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("3d").is_err());
    }
}
