//! End-to-end tests of the `kiln` binary: every kind of bad input gives one
//! clear error line and a non-zero exit (never a panic), and the happy paths
//! print what they should.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run kiln")
}

/// A temp file with a unique name that is removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(suffix: &str, contents: &[u8]) -> TempFile {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "kiln-cli-test-{}-{}{suffix}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }

    fn file_name(&self) -> &str {
        self.0.file_name().unwrap().to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The process failed with a normal non-zero exit (not a signal), wrote
/// exactly one `error:` line mentioning every `needle`, and did not panic.
#[track_caller]
fn assert_clean_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(!out.status.success(), "expected failure; stderr:\n{err}");
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}; stderr:\n{err}",
        out.status
    );
    assert!(!err.contains("panicked"), "panic in stderr:\n{err}");
    assert!(
        !err.contains("RUST_BACKTRACE"),
        "backtrace hint in stderr:\n{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one error line, got:\n{err}");
    assert!(lines[0].starts_with("error: "), "not an error line: {err}");
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "error line lacks `{needle}`: {err}"
        );
    }
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn example(name: &str) -> String {
    examples().join(name).to_str().unwrap().to_string()
}

#[test]
fn random_bytes() {
    let file = TempFile::new(
        ".wasm",
        &[0x9f, 0x13, 0xee, 0x00, 0xc4, 0x7a, 0x01, 0xff, 0x80],
    );
    let out = kiln(&["run", file.path()]);
    assert_clean_error(&out, &[file.file_name(), "offset"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn truncated_module() {
    // A valid header, then a type section that claims 5 bytes but ends.
    let file = TempFile::new(".wasm", b"\0asm\x01\0\0\0\x01\x05\x01\x60");
    let out = kiln(&["run", file.path()]);
    assert_clean_error(&out, &[file.file_name(), "offset"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn wat_syntax_error() {
    let file = TempFile::new(
        ".wat",
        b"(module\n  (func (result i32)\n    (i32.const 1)\n    (i32.bogus)))\n",
    );
    let out = kiln(&["run", file.path()]);
    // The error names the file, line 4.
    assert_clean_error(&out, &[file.file_name(), ":4:"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn missing_file() {
    let path = std::env::temp_dir().join(format!(
        "kiln-cli-test-{}-does-not-exist.wasm",
        std::process::id()
    ));
    let out = kiln(&["run", path.to_str().unwrap()]);
    assert_clean_error(&out, &["does-not-exist.wasm"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn missing_import() {
    let file = TempFile::new(
        ".wat",
        b"(module (import \"env\" \"missing_fn\" (func)) (func (export \"f\")))",
    );
    let out = kiln(&["run", "--invoke", "f", file.path()]);
    assert_clean_error(
        &out,
        &["unknown import", "env::missing_fn", file.file_name()],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unknown_export() {
    let out = kiln(&["run", &example("hello.wat"), "--invoke", "no_such_function"]);
    assert_clean_error(&out, &["no_such_function", "hello.wat"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn argument_of_wrong_type() {
    let out = kiln(&["run", &example("hello.wat"), "--invoke", "fib", "twenty"]);
    assert_clean_error(&out, &["twenty", "fib", "parameter 0", "i32"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn wrong_number_of_arguments() {
    let out = kiln(&["run", &example("hello.wat"), "--invoke", "add", "1"]);
    assert_clean_error(&out, &["add", "2 arguments", "1 was given"]);
}

#[test]
fn unknown_option_keys() {
    let out = kiln(&["run", "-C", "optimize=3", &example("hello.wat")]);
    assert_clean_error(&out, &["-C optimize"]);
    let out = kiln(&["run", "-W", "magic=1", &example("hello.wat")]);
    assert_clean_error(&out, &["-W magic"]);
    let out = kiln(&["run", "-C", "compiler=winch", &example("hello.wat")]);
    assert_clean_error(&out, &["unknown compiler `winch`", "baseline"]);
    let out = kiln(&["run", "-O", "memory_guard=1", &example("hello.wat")]);
    assert_clean_error(&out, &["-O memory_guard"]);
}

#[test]
fn proposal_flags_turn_features_on_and_off() {
    let two = TempFile::new(
        ".wat",
        br#"(module (memory 1) (memory $b 1)
              (func (export "_start") (i32.store $b (i32.const 0) (i32.const 1))))"#,
    );
    let out = kiln(&["run", two.path()]);
    assert!(
        out.status.success(),
        "multi-memory is on by default: {}",
        stderr(&out)
    );
    let out = kiln(&["run", "-W", "multi-memory=n", two.path()]);
    assert_clean_error(&out, &["multiple memories"]);
    let out = kiln(&["run", "-W", "multi-memory=maybe", two.path()]);
    assert_clean_error(&out, &["-W multi-memory", "expected y or n"]);

    // Every proposal the help lists is a flag (wide-arithmetic was listed
    // but missing from the table once).
    let wide = TempFile::new(
        ".wat",
        br#"(module (memory i64 1)
              (func (export "_start")
                (i64.add128 (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4))
                drop
                drop
                (i64.store (i64.const 0x100) (i64.const 1))))"#,
    );
    let out = kiln(&["run", wide.path()]);
    assert!(out.status.success(), "on by default: {}", stderr(&out));
    let out = kiln(&["run", "-W", "memory64=n", wide.path()]);
    assert_clean_error(&out, &["memory64"]);
    let out = kiln(&["run", "-W", "wide-arithmetic=n", wide.path()]);
    assert_clean_error(&out, &["wide arithmetic"]);
}

#[test]
fn unknown_flag() {
    let out = kiln(&["run", "--frobnicate", &example("hello.wat")]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(out.status.code().is_some(), "killed by a signal");
    assert!(err.contains("--frobnicate"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn run_invoke_prints_results() {
    let out = kiln(&["run", &example("hello.wat"), "--invoke", "fib", "20"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6765\n");

    let out = kiln(&[
        "run",
        "-C",
        "compiler=interp",
        "--invoke",
        "add",
        &example("hello.wat"),
        "-2",
        "0x10",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "14\n");

    let out = kiln(&[
        "run",
        &example("floats.wat"),
        "--invoke",
        "divmod",
        "-7",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "-3\n-1\n");

    let out = kiln(&["run", &example("floats.wat"), "--invoke", "hypot", "3", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "5\n");
}

#[test]
fn run_without_invoke_just_instantiates() {
    let out = kiln(&["run", &example("hello.wat")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn binary_module_runs() {
    // (module (func (export "_start") (result i32) i32.const 7))
    let wasm = b"\0asm\x01\0\0\0\x01\x05\x01\x60\0\x01\x7f\x03\x02\x01\0\x07\x0a\x01\x06_start\0\0\x0a\x06\x01\x04\0\x41\x07\x0b";
    let file = TempFile::new(".wasm", wasm);
    let out = kiln(&["run", file.path()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "7\n");
}

#[test]
fn trap_exits_134_with_backtrace() {
    let out = kiln(&["run", &example("trap.wat"), "--invoke", "divide", "1", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(134), "{err}");
    assert!(err.contains("integer divide by zero"), "{err}");
    assert!(err.contains("wasm backtrace"), "{err}");
    assert!(
        err.contains("quotient"),
        "backtrace lacks the function name:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn fuel_runs_out() {
    let out = kiln(&[
        "run",
        "-W",
        "fuel=100",
        &example("hello.wat"),
        "--invoke",
        "fib_rec",
        "30",
    ]);
    assert_eq!(out.status.code(), Some(134), "{}", stderr(&out));
    assert!(stderr(&out).contains("fuel"), "{}", stderr(&out));

    let out = kiln(&[
        "run",
        "-W",
        "fuel=100000",
        &example("hello.wat"),
        "--invoke",
        "fib",
        "10",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "55\n");
}

#[test]
fn wast_passes() {
    let out = kiln(&["wast", &example("hello.wast")]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).ends_with("6 passed, 0 failed\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn wast_reports_failures() {
    let file = TempFile::new(
        ".wast",
        b"(module (func (export \"f\") (result i32) (i32.const 1)))\n(assert_return (invoke \"f\") (i32.const 2))\n",
    );
    let out = kiln(&["wast", file.path()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("{}:2:2: assert_return", file.path())),
        "{text}"
    );
    assert!(text.ends_with("1 passed, 1 failed\n"), "{text}");
}

#[test]
fn wast_unparsable_file() {
    let file = TempFile::new(".wast", b"(module\n(assert_return");
    let out = kiln(&["wast", file.path()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains(file.file_name()),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn version_and_help() {
    let out = kiln(&["--version"]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("kiln "), "{}", stdout(&out));
    for args in [&["--help"][..], &["run", "--help"], &["wast", "--help"]] {
        let out = kiln(args);
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage"), "{args:?}: {}", stdout(&out));
    }
}

#[test]
fn lazy_translation_option() {
    let out = kiln(&[
        "run",
        "-C",
        "compiler=interp",
        "-C",
        "lazy-translation=y",
        &example("hello.wat"),
        "--invoke",
        "fib",
        "20",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6765\n");

    let out = kiln(&["run", "-C", "lazy-translation=maybe", &example("hello.wat")]);
    assert_clean_error(&out, &["lazy-translation", "expected y or n"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn settings_prints_target_and_features() {
    let out = kiln(&["settings"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("target: "), "{text}");
    assert!(
        text.contains("default compiler (-C compiler=auto): "),
        "{text}"
    );
    assert!(text.contains("ISA features:"), "{text}");
    #[cfg(target_arch = "x86_64")]
    assert!(text.contains("has_sse41"), "{text}");
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    assert!(
        text.contains("baseline compiler (-C compiler=baseline|tiered): x64"),
        "{text}"
    );
}

#[test]
fn every_compiler_and_memory_layout_runs_the_example() {
    let hello = example("hello.wat");
    for args in [
        &["-C", "compiler=interp"][..],
        &["-C", "compiler=auto"][..],
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        &["-C", "compiler=cranelift"][..],
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        &[
            "-C",
            "compiler=cranelift",
            "-O",
            "memory_reservation=1M",
            "-O",
            "memory_guard_size=0",
            "-O",
            "memory-reservation-for-growth=64K",
        ][..],
    ] {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend([hello.as_str(), "--invoke", "fib", "20"]);
        let out = kiln(&all);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "6765\n", "{args:?}");
    }
}

/// `-C compiler=tiered`: the same answer, a log of what was promoted on
/// standard error with `-C tier-log=y`, and no precompiling.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn tiered_runs_logs_promotions_and_is_not_precompiled() {
    let hello = example("hello.wat");
    let out = kiln(&[
        "run",
        "-C",
        "compiler=tiered",
        "-C",
        "tier-threshold=100",
        "-C",
        "tier-log=y",
        hello.as_str(),
        "--invoke",
        "fib_rec",
        "25",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "75025\n");
    let log = stderr(&out);
    assert!(log.contains("queued function"), "{log}");
    let out = kiln(&[
        "run",
        "-C",
        "compiler=tiered",
        "-C",
        "tier-threshold=0",
        &hello,
    ]);
    assert_clean_error(&out, &["tier-threshold", "positive integer"]);
    let out = kiln(&["compile", "-C", "compiler=tiered", &hello]);
    assert_clean_error(&out, &["tiered code", "compiler=baseline"]);
    assert_eq!(out.status.code(), Some(1));
}

/// A WASI command printing one line, with its text in a data segment.
const HELLO_AOT: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 8) "hello aot\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 8))
    (i32.store (i32.const 4) (i32.const 10))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))))"#;

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn compile_then_run_precompiled() {
    let wat = TempFile::new(".wat", HELLO_AOT.as_bytes());
    let out = TempFile::new(".kwasm", b"");
    let compiled = kiln(&["compile", wat.path(), "-o", out.path()]);
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    assert!(std::fs::read(out.path()).unwrap().starts_with(b"\0kilnaot"));

    let ran = kiln(&["run", "--allow-precompiled", out.path()]);
    assert_eq!(stdout(&ran), "hello aot\n", "{}", stderr(&ran));
    assert!(ran.status.success());

    // Without the flag the file is refused, with the reason and the fix.
    let refused = kiln(&["run", out.path()]);
    assert_clean_error(&refused, &["precompiled", "--allow-precompiled"]);
    // Options that change the code must match the compile's.
    let fuel = kiln(&["run", "-W", "fuel=1000", "--allow-precompiled", out.path()]);
    assert_clean_error(&fuel, &["fuel", "compile it again"]);
    // Given to both commands, they do.
    let fueled = TempFile::new(".kwasm", b"");
    let compiled = kiln(&["compile", "-W", "fuel=1", wat.path(), "-o", fueled.path()]);
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let ran = kiln(&[
        "run",
        "-W",
        "fuel=1000",
        "--allow-precompiled",
        fueled.path(),
    ]);
    assert_eq!(stdout(&ran), "hello aot\n", "{}", stderr(&ran));

    // Another machine's code is written, and refused here.
    let foreign = if cfg!(target_arch = "x86_64") {
        "aarch64-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    };
    let cross = TempFile::new(".kwasm", b"");
    let compiled = kiln(&[
        "compile",
        "--target",
        foreign,
        wat.path(),
        "-o",
        cross.path(),
    ]);
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let ran = kiln(&["run", "--allow-precompiled", cross.path()]);
    assert_clean_error(&ran, &["target", foreign]);

    // Without -o the artifact lands beside FILE, as FILE.kwasm.
    let compiled = kiln(&["compile", wat.path()]);
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let beside = TempFile(wat.0.with_extension("kwasm"));
    let ran = kiln(&["run", "--allow-precompiled", beside.path()]);
    assert_eq!(stdout(&ran), "hello aot\n", "{}", stderr(&ran));

    // A corrupt artifact is an error, not a crash.
    let mut bytes = std::fs::read(out.path()).unwrap();
    bytes.truncate(bytes.len() / 2);
    let cut = TempFile::new(".kwasm", &bytes);
    let ran = kiln(&["run", "--allow-precompiled", cut.path()]);
    assert_clean_error(&ran, &["corrupt"]);
}

/// `-W signals-based-traps=n`: native code that relies on no signal
/// (docs/signal-free.md), precompiled and run, and over a spec script.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn signal_free_code_compiles_runs_and_is_refused_by_the_other_mode() {
    let wat = TempFile::new(".wat", HELLO_AOT.as_bytes());
    let out = TempFile::new(".kwasm", b"");
    let free = ["-W", "signals-based-traps=n"];
    let compiled = kiln(&[&["compile"][..], &free, &[wat.path(), "-o", out.path()]].concat());
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let ran = kiln(&[&["run"][..], &free, &["--allow-precompiled", out.path()]].concat());
    assert_eq!(stdout(&ran), "hello aot\n", "{}", stderr(&ran));
    // An engine of the other mode names the setting.
    let ran = kiln(&["run", "--allow-precompiled", out.path()]);
    assert_clean_error(&ran, &["signals_based_traps", "compile it again"]);

    let wast = kiln(
        &[
            &["wast", "-C", "compiler=cranelift"][..],
            &free,
            &[&example("hello.wast")],
        ]
        .concat(),
    );
    assert!(wast.status.success(), "{}{}", stdout(&wast), stderr(&wast));
    // `wast` takes no option that would change what the script asserts.
    let fuel = kiln(&["wast", "-W", "fuel=10", &example("hello.wast")]);
    assert_clean_error(&fuel, &["signals-based-traps"]);
    let bad = kiln(&["run", "-W", "signals-based-traps=sometimes", wat.path()]);
    assert_clean_error(&bad, &["signals-based-traps", "y or n"]);
}

#[test]
fn compile_rejects_bad_input() {
    let wat = TempFile::new(".wat", HELLO_AOT.as_bytes());
    let out = kiln(&["compile", "--target", "mips-unknown-linux-gnu", wat.path()]);
    assert_clean_error(&out, &["mips"]);
    let out = kiln(&["compile", "-C", "compiler=interp", wat.path()]);
    assert_clean_error(&out, &["native code"]);
    let out = kiln(&["compile", "/no/such/file.wasm"]);
    assert_clean_error(&out, &["/no/such/file.wasm"]);
    let bad = TempFile::new(".wasm", b"\0asm\x01\0\0\0\x01");
    let out = kiln(&[
        "compile",
        "--target",
        "x86_64-unknown-linux-gnu",
        bad.path(),
    ]);
    assert_clean_error(&out, &[bad.file_name()]);
}

/// Arguments after `--` reach the module even when they look like Kiln's
/// own options (`-V` is Kiln's version flag).
#[test]
fn arguments_after_double_dash_go_to_the_module() {
    let echo = TempFile::new(
        ".wat",
        br#"(module
          (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start")
            (drop (call $sizes (i32.const 0) (i32.const 4)))
            (call $exit (i32.load (i32.const 0)))))"#,
    );
    // argc: the file, `-V`, `x`.
    let out = kiln(&["run", echo.path(), "--", "-V", "x"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}
