//! Shared by the WASI tests: builds the programs of
//! `crates/wasi/test-programs` for `wasm32-wasip1` (once per test binary;
//! cargo rebuilds only what changed), runs them through the `kiln` binary,
//! and makes scratch directories.

#![allow(dead_code)] // each test binary uses a different part

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The test programs' cargo project.
pub fn programs_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wasi/test-programs/Cargo.toml")
}

/// Builds the test programs (once per process) and returns the folder of
/// their `.wasm` files. The target dir lies inside the main target dir
/// (beside `CARGO_TARGET_TMPDIR`), so `cargo clean` removes it.
pub fn programs_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("CARGO_TARGET_TMPDIR has a parent")
            .join("wasi-test-programs");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let out = Command::new(cargo)
            .args(["build", "--release", "--locked", "--target", "wasm32-wasip1"])
            .arg("--manifest-path")
            .arg(programs_manifest())
            .arg("--target-dir")
            .arg(&target_dir)
            // The outer build's settings are not the programs'.
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("run cargo to build the WASI test programs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            let hint = if stderr.contains("wasm32-wasip1") && stderr.contains("target may not be installed") {
                "\n(the wasm32-wasip1 target is missing: run ci/setup.sh, or `rustup target add wasm32-wasip1`)"
            } else {
                ""
            };
            panic!("building the WASI test programs failed:\n{stderr}{hint}");
        }
        target_dir.join("wasm32-wasip1/release")
    })
}

/// The `.wasm` file of test program `name`, built.
pub fn program(name: &str) -> PathBuf {
    let path = programs_dir().join(format!("{name}.wasm"));
    assert!(path.exists(), "no test program {}", path.display());
    path
}

/// The expected output file `expected/NAME` of the test programs.
pub fn expected(name: &str) -> String {
    let path = programs_manifest().with_file_name("expected").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `kiln` command line under construction.
pub struct Kiln {
    command: Command,
    stdin: Option<Vec<u8>>,
}

impl Kiln {
    /// `kiln run OPTIONS PROGRAM.wasm ARGS...`.
    pub fn run(options: &[&str], program_name: &str, args: &[&str]) -> Kiln {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kiln"));
        command
            .arg("run")
            .args(options)
            .arg(program(program_name))
            .args(args)
            .env_remove("RUST_BACKTRACE");
        Kiln {
            command,
            stdin: None,
        }
    }

    /// Feeds `data` to kiln's stdin (otherwise stdin is empty).
    pub fn stdin(mut self, data: &[u8]) -> Kiln {
        self.stdin = Some(data.to_vec());
        self
    }

    /// Sets an environment variable of the kiln process.
    pub fn env(mut self, key: &str, value: &str) -> Kiln {
        self.command.env(key, value);
        self
    }

    /// Removes an environment variable from the kiln process.
    pub fn env_remove(mut self, key: &str) -> Kiln {
        self.command.env_remove(key);
        self
    }

    /// Runs kiln to completion.
    pub fn output(mut self) -> Output {
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("start kiln");
        let mut stdin = child.stdin.take().unwrap();
        let data = self.stdin.take().unwrap_or_default();
        let writer = std::thread::spawn(move || {
            // The program may exit without reading; ignore EPIPE.
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait for kiln");
        writer.join().unwrap();
        out
    }
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts kiln exited with `code` (normally, not by a signal), showing
/// both streams otherwise.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// Asserts the whole stdout, showing stderr on a mismatch.
#[track_caller]
pub fn assert_stdout(out: &Output, expected: &str) {
    let got = stdout(out);
    if got != expected {
        panic!(
            "stdout differs\n--- expected\n{expected}--- got\n{got}--- stderr\n{}",
            stderr(out)
        );
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `kiln-wasi-test-<pid>-<n>-<label>`.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kiln-wasi-test-{}-{}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The directory as a `str`.
    pub fn str(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }

    /// `--dir` value preopening this directory as `guest`.
    pub fn dir_as(&self, guest: &str) -> String {
        format!("{}::{guest}", self.str())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
