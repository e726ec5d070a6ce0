//! `kiln run`: instantiate a module, with WASI, and call one of its
//! exports.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Args;
use kiln::{
    Config, Engine, Func, Linker, Module, Store, Strategy, Trap, TrapCode, Val, ValType,
    WasmBacktrace,
};

use crate::host::{self, Host, MemoryLimit, Preopen, Timeout, UnknownImportCalled, WasiSetup};
use crate::options;

/// Runs a WebAssembly module, with WASI preview 1.
///
/// FILE is a `.wasm` binary or `.wat` text. Its imports are resolved
/// against WASI preview 1 (`wasi_snapshot_preview1`); any other import is
/// an error naming it, unless `-W unknown-imports-trap=y`. Instantiation
/// runs the module's start function, if any, then `_initialize` if
/// exported. Then, with `--invoke NAME`, the export NAME is called with
/// ARGS as its parameters; without it, `_start` is called if exported (a
/// WASI command), and otherwise nothing more happens.
///
/// WASI: the module sees the arguments FILE (as given) then ARGS, the
/// host's stdin, stdout and stderr, only the environment variables given
/// with --env/--inherit-env, and only the directories given with
/// --dir/--dir-ro. `_start` returning normally exits 0; `proc_exit(N)`
/// exits N (its low 8 bits, as the OS keeps).
///
/// With --invoke, ARGS are the function's parameters, one each: i32/i64 in
/// decimal or `0x` hex (optionally negative), f32/f64 as decimal numbers,
/// `nan` or `inf`. Results are printed to stdout, one per line.
///
/// Exit status: the module's (0, or its `proc_exit` code); 1 on an error
/// (bad input, compile or link error); 134 if wasm trapped (the trap and a
/// wasm backtrace are printed to stderr); 124 if --timeout ran out.
///
/// Example: kiln run --dir .::/ wc.wasm /README.md
#[derive(Args, Debug)]
pub struct RunCommand {
    /// Code generation option (repeatable):
    /// `compiler=auto|interp|cranelift|baseline|tiered`,
    /// `baseline-fallback=y|n`, `tier-threshold=N`, `tier-threads=N`,
    /// `tier-log=y` (print what tiering promotes, and when), `tier-sync=y`
    /// (compile hot code before going on: deterministic).
    #[arg(short = 'C', value_name = "KEY=VALUE")]
    codegen: Vec<String>,

    /// Native memory layout option (repeatable), a byte count with an
    /// optional K, M or G suffix: `memory_reservation=BYTES` reserved per
    /// linear memory (4G or more: guard pages, no bounds checks; less:
    /// explicit checks), `memory_guard_size=BYTES` after it,
    /// `memory_reservation_for_growth=BYTES` extra when a memory moves.
    #[arg(short = 'O', value_name = "KEY=VALUE", verbatim_doc_comment)]
    opts: Vec<String>,

    /// WebAssembly option (repeatable): `fuel=N` runs with N units of fuel;
    /// `max-memory-size=BYTES` caps every linear memory (suffix K, M or G
    /// for KiB, MiB, GiB): `memory.grow` beyond it returns -1;
    /// `unknown-imports-trap=y` defines each unknown function import as a
    /// function that traps when called, instead of failing to instantiate;
    /// `signals-based-traps=n` compiles native code that relies on no
    /// signal (explicit checks; docs/signal-free.md).
    #[arg(short = 'W', value_name = "KEY=VALUE", verbatim_doc_comment)]
    wasm: Vec<String>,

    /// Preopen the host directory HOST for WASI, read-write, under the name
    /// GUEST (default: HOST). Repeatable. E.g. `--dir .::/` shows the
    /// current directory as `/`.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,

    /// Like --dir, but read-only: the module can read files and list
    /// directories, and every change is refused. Repeatable.
    #[arg(long = "dir-ro", value_name = "HOST[::GUEST]")]
    dirs_ro: Vec<String>,

    /// Set the WASI environment variable NAME to VALUE, or with `NAME`
    /// alone, pass the host's value of NAME (if set). Repeatable.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<String>,

    /// Pass the host's whole environment to the module (--env still adds
    /// or overrides variables).
    #[arg(long)]
    inherit_env: bool,

    /// Stop the module after DURATION (`500ms`, `5s`, `1m`, `2h`; a bare
    /// number is seconds), printing `timed out` and exiting with 124.
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,

    /// After the run, print what the garbage collector did to stderr:
    /// collections, bytes allocated, bytes live after the last one, and
    /// the longest and median pauses.
    #[arg(long)]
    gc_stats: bool,

    /// The exported function to call (default: `_start`, if exported).
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,

    /// Allow FILE to be a precompiled module written by `kiln compile`.
    /// Its machine code runs as it is, so only use this for files you
    /// trust. The -C, -O and -W options must match the ones it was
    /// compiled with.
    #[arg(long)]
    allow_precompiled: bool,

    /// The module: a `.wasm` binary, `.wat` text, or (with
    /// --allow-precompiled) a `.kwasm` file from `kiln compile`.
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Arguments: passed to the module through WASI, and with --invoke,
    /// the called function's parameters. Kiln's own options may follow
    /// FILE too; put ARGS after `--` when one looks like a Kiln option
    /// (`kiln run app.wasm -- -V` passes `-V` to the module).
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
        options::apply_opts(&mut config, &self.opts)?;
        let wasm = options::apply_wasm(&mut config, &self.wasm)?;
        let timeout = match &self.timeout {
            Some(text) => Some((
                options::parse_duration(text)
                    .map_err(|why| anyhow!("invalid value `{text}` for `--timeout`: {why}"))?,
                text.as_str(),
            )),
            None => None,
        };
        let mut preopens = Vec::new();
        for dir in &self.dirs {
            preopens.push(Preopen::parse(dir, true)?);
        }
        for dir in &self.dirs_ro {
            preopens.push(Preopen::parse(dir, false)?);
        }
        // A precompiled module needs the Cranelift strategy (as a loader)
        // even where the default interprets, as in a build without
        // Cranelift: unless `-C compiler=` says otherwise, take it.
        let names_compiler = self.codegen.iter().any(|c| c.starts_with("compiler="));
        if self.allow_precompiled && !names_compiler && is_precompiled_file(&self.file) {
            config.strategy(Strategy::Cranelift);
        }
        let engine = Engine::new(&config)?;

        let file = self.file.display().to_string();
        let module = load_module(&engine, &self.file, self.allow_precompiled)?;

        let mut wasi_args = vec![file.clone()];
        wasi_args.extend(self.args.iter().cloned());
        let wasi = WasiSetup {
            args: &wasi_args,
            env: &self.env,
            inherit_env: self.inherit_env,
            preopens: &preopens,
        }
        .build()?;
        let host = Host {
            wasi,
            limits: MemoryLimit {
                max_bytes: wasm.max_memory_size,
            },
        };
        let mut store = Store::new(&engine, host);
        store.limiter(|host: &mut Host| &mut host.limits);
        if let Some(fuel) = wasm.fuel {
            store.set_fuel(fuel)?;
        }

        let mut linker: Linker<Host> = Linker::new(&engine);
        host::link_wasi(&mut linker, &module, &file)?;
        if wasm.unknown_imports_trap {
            host::define_unknown_imports(&mut linker, &mut store, &module)?;
        }

        let mut timer = timeout
            .map(|(duration, text)| Timeout::start(duration, text, store.interrupt_handle()))
            .transpose()?;
        let outcome = self.instantiate_and_call(&linker, &mut store, &module, &file);
        if let Some(timer) = &mut timer {
            timer.stop();
        }
        if self.gc_stats {
            let s = store.gc_stats();
            eprintln!(
                "gc: {} collections ({} full), {:.1} MiB allocated, {:.1} KiB held after the last; pauses: longest {:.3} ms, median {:.3} ms",
                s.collections,
                s.full_collections,
                s.allocated_bytes as f64 / (1 << 20) as f64,
                s.live_bytes as f64 / 1024.0,
                s.longest_pause_ns as f64 / 1e6,
                s.median_pause_ns as f64 / 1e6,
            );
        }
        match outcome {
            Ok(results) => {
                for result in &results {
                    println!("{}", format_val(result));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(Failure::Error(err)) => Err(err),
            Err(Failure::Wasm(err, context)) => report_failure(err, &context, timer.as_ref()),
        }
    }

    /// Instantiates `module`, runs `_initialize` if exported, then calls
    /// the chosen export; returns its results.
    fn instantiate_and_call(
        &self,
        linker: &Linker<Host>,
        store: &mut Store<Host>,
        module: &Module,
        file: &str,
    ) -> Result<Vec<Val>, Failure> {
        let instance = linker
            .instantiate(&mut *store, module)
            .map_err(|err| Failure::Wasm(err, format!("failed to instantiate `{file}`")))?;
        if let Some(init) = instance.get_func(&mut *store, "_initialize") {
            init.call(&mut *store, &[], &mut [])
                .map_err(|err| Failure::Wasm(err, "failed to invoke `_initialize`".to_string()))?;
        }

        let (name, func) = match &self.invoke {
            Some(name) => {
                let func = match instance.get_func(&mut *store, name) {
                    Some(func) => func,
                    None if instance.get_export(&mut *store, name).is_some() => {
                        return Err(anyhow!("export `{name}` of `{file}` is not a function").into());
                    }
                    None => {
                        return Err(anyhow!("`{file}` has no exported function `{name}`").into());
                    }
                };
                (name.as_str(), func)
            }
            None => match instance.get_func(&mut *store, "_start") {
                Some(func) => ("_start", func),
                None => {
                    if !self.args.is_empty() {
                        return Err(anyhow!(
                            "arguments given but `{file}` exports no `_start`; use --invoke NAME to choose a function"
                        )
                        .into());
                    }
                    return Ok(Vec::new());
                }
            },
        };

        // A WASI command's `_start` takes no parameters and gets ARGS
        // through WASI; any other called function takes them as parameters.
        let takes_params = func.ty(&*store).params().len() > 0;
        let args: &[String] = if self.invoke.is_some() || takes_params {
            &self.args
        } else {
            &[]
        };
        let params = parse_args(store, func, name, args)?;
        let ty = func.ty(&*store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut *store, &params, &mut results)
            .map_err(|err| Failure::Wasm(err, format!("failed to invoke `{name}`")))?;
        Ok(results)
    }
}

/// Why running failed: a plain error (one line, exit 1), or an error from
/// wasm (a trap, `proc_exit`, ...) that [`report_failure`] sorts out, with
/// what was being done.
enum Failure {
    Error(anyhow::Error),
    Wasm(anyhow::Error, String),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Failure {
        Failure::Error(err)
    }
}

/// Sorts out an error from running wasm: `proc_exit(N)` exits N; a trap
/// prints its message and backtrace and exits 134 (124 when it is the
/// --timeout interrupt); anything else goes back to `main` as one line.
fn report_failure(err: anyhow::Error, context: &str, timer: Option<&Timeout>) -> Result<ExitCode> {
    if let Some(status) = host::wasi_exit_status(&err) {
        return Ok(ExitCode::from(status));
    }
    if let Some(trap) = err.downcast_ref::<Trap>() {
        if let Some(timer) = timer.filter(|t| t.fired() && trap.code() == Some(TrapCode::Interrupt))
        {
            eprintln!("error: {context}: {}", timer.message());
            if !trap.trace().is_empty() {
                let backtrace = trap.to_string();
                if let Some((_, frames)) = backtrace.split_once('\n') {
                    eprintln!("{frames}");
                }
            }
            return Ok(ExitCode::from(crate::EXIT_TIMEOUT));
        }
        eprintln!("error: {context}: wasm trap: {trap}");
        return Ok(ExitCode::from(crate::EXIT_TRAP));
    }
    if let Some(call) = err.downcast_ref::<UnknownImportCalled>() {
        eprintln!("error: {context}: wasm trap: {call}");
        if let Some(backtrace) = err.downcast_ref::<WasmBacktrace>() {
            eprintln!("{backtrace}");
        }
        return Ok(ExitCode::from(crate::EXIT_TRAP));
    }
    Err(err.context(context.to_string()))
}

/// Reads and compiles FILE, or loads it if it is a precompiled module and
/// `allow_precompiled` says the user trusts it.
fn load_module(engine: &Engine, path: &Path, allow_precompiled: bool) -> Result<Module> {
    let file = path.display().to_string();
    let refuse = || {
        anyhow!(
            "`{file}` is a precompiled module: pass --allow-precompiled to run it (only for files you trust)"
        )
    };
    if is_precompiled_file(path) {
        if !allow_precompiled {
            return Err(refuse());
        }
        // SAFETY: the user vouched for the file with --allow-precompiled,
        // which is documented as running its machine code as it is.
        return unsafe { Module::deserialize_file(engine, path) };
    }
    let bytes = std::fs::read(path).with_context(|| format!("failed to read `{file}`"))?;
    if Module::is_precompiled(&bytes) {
        if !allow_precompiled {
            return Err(refuse());
        }
        // SAFETY: as above.
        return unsafe { Module::deserialize(engine, &bytes) }
            .with_context(|| format!("failed to load `{file}`"));
    }
    let wasm = wasm_from_file_bytes(path, bytes)?;
    Module::from_binary(engine, &wasm).with_context(|| format!("failed to compile `{file}`"))
}

/// Whether `path` is a regular file that starts like a precompiled module.
/// Only regular files are probed, so that a precompiled one can be mapped
/// rather than read: anything else (a pipe, /dev/stdin) can be read only
/// once, and probing would eat its first bytes.
fn is_precompiled_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file()) && starts_like_precompiled(path)
}

/// Whether the file at `path` starts like a precompiled module (false if
/// it cannot be read: the caller's read then reports why).
fn starts_like_precompiled(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .is_ok_and(|_| Module::is_precompiled(&head))
}

/// The wasm binary in a file's bytes: the bytes themselves, or the
/// encoding of `.wat` text. Text is parsed here (rather than by
/// `Module::new`) so a syntax error names the file, line and column.
pub(crate) fn wasm_from_file_bytes(path: &Path, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let file = path.display().to_string();
    let is_text_ext = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("wat" | "wast")
    );
    Ok(if bytes.starts_with(b"\0asm") {
        bytes
    } else if let (Ok(text), true) = (
        std::str::from_utf8(&bytes),
        is_text_ext || looks_like_text(&bytes),
    ) {
        parse_wat(&file, text)?
    } else {
        bytes
    })
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
fn parse_args<T>(store: &Store<T>, func: Func, name: &str, args: &[String]) -> Result<Vec<Val>> {
    let ty = func.ty(store);
    let params: Vec<ValType> = ty.params().collect();
    if params.len() != args.len() {
        let types = params.iter().map(ToString::to_string).collect::<Vec<_>>();
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
            parse_val(ty, arg).map_err(|why| {
                anyhow!("invalid argument `{arg}` for parameter {i} ({ty}) of `{name}`: {why}")
            })
        })
        .collect()
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

fn parse_val(ty: &ValType, text: &str) -> Result<Val, String> {
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
                "{other} parameters cannot be given on the command line"
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
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
            "null".to_string()
        }
        Val::FuncRef(Some(_)) => "funcref".to_string(),
        Val::ExternRef(Some(_)) => "externref".to_string(),
        Val::ExnRef(Some(_)) => "exnref".to_string(),
        Val::AnyRef(Some(r)) => match r.as_i31() {
            Some(i) => format!("i31 {}", i.get_i32()),
            None => "anyref".to_string(),
        },
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
            matches!(parse_val(&ValType::F32, "nan"), Ok(Val::F32(b)) if f32::from_bits(b).is_nan())
        );
        assert_eq!(
            parse_val(&ValType::F64, "-inf").unwrap().unwrap_f64_bits(),
            f64::NEG_INFINITY.to_bits()
        );
        assert!(parse_val(&ValType::V128, "0").is_err());
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
