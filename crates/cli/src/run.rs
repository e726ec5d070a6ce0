//! `kiln run`: instantiate a module and call one of its exports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;
use kiln::{Config, Engine, Func, Linker, Module, Store, Trap, Val, ValType};

use crate::options;

/// Instantiates a WebAssembly module and calls one of its exports.
///
/// FILE is a `.wasm` binary or `.wat` text. The module gets no imports
/// (WASI is not available yet): a module that imports anything is rejected.
/// Instantiation runs the module's start function, if any. Then, with
/// `--invoke NAME`, the export NAME is called; without it, the export
/// `_start` is called if present, and otherwise nothing more happens.
///
/// ARGS are the arguments of the called function, one per parameter:
/// i32/i64 in decimal or `0x` hex (optionally negative), f32/f64 as decimal
/// numbers, `nan` or `inf`. Results are printed to stdout, one per line.
///
/// Exit status: 0 on success, 1 on an error, 134 if wasm trapped.
#[derive(Args, Debug)]
pub struct RunCommand {
    /// Code generation option: `compiler=auto|interp`.
    #[arg(short = 'C', value_name = "KEY=VALUE")]
    codegen: Vec<String>,

    /// WebAssembly option: `fuel=N` runs with N units of fuel.
    #[arg(short = 'W', value_name = "KEY=VALUE")]
    wasm: Vec<String>,

    /// The exported function to call (default: `_start`, if exported).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// The module: a `.wasm` binary or `.wat` text file.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Arguments for the called function.
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
}

impl RunCommand {
    /// Runs the command; `Err` is reported as one error line, exit 1.
    pub fn execute(self) -> Result<ExitCode> {
        let mut config = Config::new();
        options::apply_codegen(&mut config, &self.codegen)?;
        let wasm = options::apply_wasm(&mut config, &self.wasm)?;
        let engine = Engine::new(&config)?;

        let file = self.file.display().to_string();
        let module = load_module(&engine, &self.file)?;

        if let Some(import) = module.imports().next() {
            bail!(
                "failed to instantiate `{file}`: unknown import: `{}::{}` has not been defined (kiln run provides no imports yet)",
                import.module(),
                import.name()
            );
        }

        let mut store = Store::new(&engine, ());
        if let Some(fuel) = wasm.fuel {
            store.set_fuel(fuel)?;
        }
        let linker = Linker::new(&engine);
        let instance = match linker.instantiate(&mut store, &module) {
            Ok(instance) => instance,
            Err(err) => return report_failure(err, format!("failed to instantiate `{file}`")),
        };

        let (name, func) = match &self.invoke {
            Some(name) => {
                let func = match instance.get_func(&mut store, name) {
                    Some(func) => func,
                    None if instance.get_export(&mut store, name).is_some() => {
                        bail!("export `{name}` of `{file}` is not a function")
                    }
                    None => bail!("`{file}` has no exported function `{name}`"),
                };
                (name.as_str(), func)
            }
            None => match instance.get_func(&mut store, "_start") {
                Some(func) => ("_start", func),
                None => {
                    if !self.args.is_empty() {
                        bail!(
                            "arguments given but `{file}` exports no `_start`; use --invoke NAME to choose a function"
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
            },
        };

        let params = parse_args(&store, func, name, &self.args)?;
        let ty = func.ty(&store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        if let Err(err) = func.call(&mut store, &params, &mut results) {
            return report_failure(err, format!("failed to invoke `{name}`"));
        }
        for result in &results {
            println!("{}", format_val(result));
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// A trap prints its message and backtrace and exits 134; any other error
/// goes back to `main` as one line.
fn report_failure(err: anyhow::Error, context: String) -> Result<ExitCode> {
    if let Some(trap) = err.downcast_ref::<Trap>() {
        eprintln!("error: {context}: wasm trap: {trap}");
        return Ok(ExitCode::from(crate::EXIT_TRAP));
    }
    Err(err.context(context))
}

/// Reads and compiles FILE. Text is parsed here (rather than by
/// `Module::new`) so a syntax error names the file, line and column.
fn load_module(engine: &Engine, path: &Path) -> Result<Module> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("failed to read `{file}`"))?;
    let is_text_ext = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wat" | "wast")
    );
    let wasm = if bytes.starts_with(b"\0asm") {
        bytes
    } else if let (Ok(text), true) = (
        std::str::from_utf8(&bytes),
        is_text_ext || looks_like_text(&bytes),
    ) {
        parse_wat(&file, text)?
    } else {
        bytes
    };
    Module::from_binary(engine, &wasm).with_context(|| format!("failed to compile `{file}`"))
}

/// Whether a file without a `.wat` extension should be read as text: it
/// starts (after whitespace and comments) with `(`.
fn looks_like_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'(' || *b == b';')
}

/// Parses and encodes `.wat` text, reporting errors as `file:line:col: msg`.
fn parse_wat(file: &str, text: &str) -> Result<Vec<u8>> {
    let locate = |err: wast::Error| {
        let (line, col) = err.span().linecol_in(text);
        anyhow!(
            "failed to parse `{file}`: {file}:{}:{}: {}",
            line + 1,
            col + 1,
            err.message()
        )
    };
    let buf = wast::parser::ParseBuffer::new(text).map_err(locate)?;
    let mut wat = wast::parser::parse::<wast::Wat<'_>>(&buf).map_err(locate)?;
    if matches!(wat, wast::Wat::Component(_)) {
        bail!("failed to parse `{file}`: components are not supported");
    }
    wat.encode().map_err(locate)
}

/// Parses the command-line arguments according to `func`'s parameters.
fn parse_args(store: &Store<()>, func: Func, name: &str, args: &[String]) -> Result<Vec<Val>> {
    let ty = func.ty(store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != args.len() {
        let types = params.iter().map(|t| type_name(*t)).collect::<Vec<_>>();
        bail!(
            "`{name}` takes {} argument{}{} but {} {} given",
            params.len(),
            if params.len() == 1 { "" } else { "s" },
            if types.is_empty() {
                String::new()
            } else {
                format!(" ({})", types.join(", "))
            },
            args.len(),
            if args.len() == 1 { "was" } else { "were" }
        );
    }
    params
        .iter()
        .zip(args)
        .enumerate()
        .map(|(i, (ty, arg))| {
            parse_val(*ty, arg).map_err(|why| {
                anyhow!(
                    "invalid argument `{arg}` for parameter {i} ({}) of `{name}`: {why}",
                    type_name(*ty)
                )
            })
        })
        .collect()
}

fn type_name(ty: ValType) -> &'static str {
    match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::FuncRef => "funcref",
        ValType::ExternRef => "externref",
    }
}

/// Parses an integer in decimal or `0x` hex, with an optional sign, that
/// fits in `bits` bits either signed or unsigned; returns it as two's
/// complement bits.
fn parse_int(text: &str, bits: u32) -> Result<u64, String> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    }
    .map_err(|_| "not an integer".to_string())?;
    let out_of_range = || format!("out of range for a {bits}-bit integer");
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    if neg {
        let limit = 1u64 << (bits - 1);
        if magnitude > limit {
            return Err(out_of_range());
        }
        Ok(magnitude.wrapping_neg() & mask)
    } else if magnitude > mask {
        Err(out_of_range())
    } else {
        Ok(magnitude)
    }
}

fn parse_val(ty: ValType, text: &str) -> Result<Val, String> {
    Ok(match ty {
        ValType::I32 => Val::I32(parse_int(text, 32)? as u32 as i32),
        ValType::I64 => Val::I64(parse_int(text, 64)? as i64),
        ValType::F32 => Val::F32(
            text.parse::<f32>()
                .map_err(|_| "not a number".to_string())?
                .to_bits(),
        ),
        ValType::F64 => Val::F64(
            text.parse::<f64>()
                .map_err(|_| "not a number".to_string())?
                .to_bits(),
        ),
        other => {
            return Err(format!(
                "{} parameters cannot be given on the command line",
                type_name(other)
            ));
        }
    })
}

fn format_val(val: &Val) -> String {
    match val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(v) => format!("0x{v:032x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
        Val::FuncRef(Some(_)) => "funcref".to_string(),
        Val::ExternRef(Some(_)) => "externref".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int("42", 32), Ok(42));
        assert_eq!(parse_int("-1", 32), Ok(0xffff_ffff));
        assert_eq!(parse_int("0xff", 32), Ok(255));
        assert_eq!(parse_int("-0x80000000", 32), Ok(0x8000_0000));
        assert_eq!(parse_int("4294967295", 32), Ok(0xffff_ffff));
        assert!(parse_int("4294967296", 32).is_err());
        assert!(parse_int("-2147483649", 32).is_err());
        assert_eq!(parse_int("-9223372036854775808", 64), Ok(1 << 63));
        assert!(parse_int("abc", 32).is_err());
        assert!(parse_int("", 32).is_err());
    }

    #[test]
    fn floats() {
        assert!(
            matches!(parse_val(ValType::F32, "nan"), Ok(Val::F32(b)) if f32::from_bits(b).is_nan())
        );
        assert_eq!(
            parse_val(ValType::F64, "-inf").unwrap().unwrap_f64_bits(),
            f64::NEG_INFINITY.to_bits()
        );
        assert!(parse_val(ValType::V128, "0").is_err());
    }

    trait F64Bits {
        fn unwrap_f64_bits(self) -> u64;
    }
    impl F64Bits for Val {
        fn unwrap_f64_bits(self) -> u64 {
            match self {
                Val::F64(b) => b,
                _ => panic!("not f64"),
            }
        }
    }
}
