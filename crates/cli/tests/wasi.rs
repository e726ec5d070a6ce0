//! WASI preview 1 end to end: Rust programs from `crates/wasi/test-programs`
//! built for `wasm32-wasip1` and run through `kiln run` (sockets through the
//! `kiln-wasi` API, which the CLI has no flag for). Every test checks what
//! the program printed, not only its exit status. [`COVERAGE`] maps each of
//! the 46 preview 1 functions to the programs that call it, and
//! `coverage_table_is_complete_and_true` checks the table lists them all and
//! that each program named really imports the function.
//!
//! The real-use tools (cat, ls -R, cp -r, grep, wc) are in `wasi_tools.rs`.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiln::{Engine, Linker, Module, Store};
use support::{Kiln, TempDir, assert_exit, assert_stdout, expected, program, stderr, stdout};

/// Every function of WASI preview 1 (`wasi_snapshot_preview1`).
const PREVIEW1: [&str; 46] = [
    "args_get",
    "args_sizes_get",
    "environ_get",
    "environ_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
    "poll_oneoff",
    "proc_exit",
    "proc_raise",
    "sched_yield",
    "random_get",
    "sock_accept",
    "sock_recv",
    "sock_send",
    "sock_shutdown",
];

/// Each preview 1 function and the test programs that call it (and whose
/// test checks the outcome). `std` covers some (`fs_std`, `stdio`, the
/// tools); the raw `wasi` crate the rest.
const COVERAGE: &[(&str, &[&str])] = &[
    ("args_get", &["args_env", "cat"]),
    ("args_sizes_get", &["args_env", "cat"]),
    ("environ_get", &["args_env"]),
    ("environ_sizes_get", &["args_env"]),
    ("clock_res_get", &["clocks"]),
    ("clock_time_get", &["clocks", "poll", "fs_raw"]),
    ("fd_advise", &["fs_raw"]),
    ("fd_allocate", &["fs_raw"]),
    ("fd_close", &["fs_raw", "fs_readdir", "fs_std"]),
    ("fd_datasync", &["fs_raw"]),
    ("fd_fdstat_get", &["fs_raw", "sock_server"]),
    ("fd_fdstat_set_flags", &["fs_raw"]),
    ("fd_fdstat_set_rights", &["fs_raw"]),
    ("fd_filestat_get", &["fs_raw", "fs_std"]),
    ("fd_filestat_set_size", &["fs_raw", "fs_std"]),
    ("fd_filestat_set_times", &["fs_raw", "fs_std"]),
    ("fd_pread", &["fs_raw"]),
    ("fd_prestat_get", &["fs_raw", "fs_std"]),
    ("fd_prestat_dir_name", &["fs_raw", "fs_std"]),
    ("fd_pwrite", &["fs_raw"]),
    ("fd_read", &["stdio", "fs_raw", "cat"]),
    ("fd_readdir", &["fs_readdir", "fs_std", "ls_r"]),
    ("fd_renumber", &["fs_raw"]),
    ("fd_seek", &["fs_raw", "fs_std"]),
    ("fd_sync", &["fs_raw", "fs_std"]),
    ("fd_tell", &["fs_raw"]),
    ("fd_write", &["stdio", "fs_raw", "fs_std"]),
    ("path_create_directory", &["fs_raw", "fs_std"]),
    ("path_filestat_get", &["fs_raw", "fs_std"]),
    ("path_filestat_set_times", &["fs_raw"]),
    ("path_link", &["fs_raw", "fs_std"]),
    ("path_open", &["fs_raw", "fs_std", "fs_readonly"]),
    ("path_readlink", &["fs_raw"]),
    ("path_remove_directory", &["fs_raw", "fs_std"]),
    ("path_rename", &["fs_raw", "fs_std"]),
    ("path_symlink", &["fs_raw"]),
    ("path_unlink_file", &["fs_raw", "fs_std"]),
    ("poll_oneoff", &["poll", "clocks"]),
    ("proc_exit", &["exit_code"]),
    ("proc_raise", &["proc_raise"]),
    ("sched_yield", &["clocks"]),
    ("random_get", &["clocks"]),
    ("sock_accept", &["sock_server"]),
    ("sock_recv", &["sock_server"]),
    ("sock_send", &["sock_server"]),
    ("sock_shutdown", &["sock_server"]),
];

/// The names a module imports from `wasi_snapshot_preview1`.
fn wasi_imports(name: &str) -> BTreeSet<String> {
    let engine = Engine::default();
    let module = Module::from_file(&engine, program(name))
        .unwrap_or_else(|e| panic!("compile {name}.wasm: {e:#}"));
    module
        .imports()
        .filter(|i| i.module() == "wasi_snapshot_preview1")
        .map(|i| i.name().to_string())
        .collect()
}

#[test]
fn coverage_table_is_complete_and_true() {
    let all: BTreeSet<&str> = PREVIEW1.iter().copied().collect();
    assert_eq!(all.len(), 46, "PREVIEW1 has duplicates");
    let listed: Vec<&str> = COVERAGE.iter().map(|(f, _)| *f).collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        listed.len(),
        listed_set.len(),
        "COVERAGE lists a function twice"
    );
    let missing: Vec<_> = all.difference(&listed_set).collect();
    let unknown: Vec<_> = listed_set.difference(&all).collect();
    assert!(missing.is_empty(), "not covered: {missing:?}");
    assert!(unknown.is_empty(), "not preview 1 functions: {unknown:?}");

    // Each program named really imports the function it is said to cover.
    let mut imports = std::collections::HashMap::new();
    for (func, programs) in COVERAGE {
        assert!(!programs.is_empty(), "{func}: no program");
        for name in *programs {
            let names = imports.entry(*name).or_insert_with(|| wasi_imports(name));
            assert!(
                names.contains(*func),
                "{name}.wasm does not import {func}; it imports {names:?}"
            );
        }
    }
}

#[test]
fn stdio_reads_stdin_and_writes_both_streams() {
    let out = Kiln::run(&[], "stdio", &[])
        .stdin("hello\nwörld\n".as_bytes())
        .output();
    assert_exit(&out, 0);
    assert_stdout(
        &out,
        "stdin: 13 bytes, 2 lines\nHELLO\nWÖRLD\nread at eof: 0 bytes\n",
    );
    assert_eq!(stderr(&out), "this line goes to stderr\n");
}

#[test]
fn args_and_env() {
    let prog = program("args_env");
    let out = Kiln::run(
        &[
            "--env",
            "A=1",
            "--env",
            "EMPTY=",
            "--env",
            "KILN_T_FROM_HOST",
            "--env",
            "KILN_T_NOT_SET",
            "--env",
            "A=2=two",
        ],
        "args_env",
        &["first", "two words", "--flag", "ünï"],
    )
    .env("KILN_T_FROM_HOST", "host value")
    .env_remove("KILN_T_NOT_SET")
    .output();
    assert_exit(&out, 0);
    let expected = format!(
        "5 args\narg 0: {:?}\narg 1: \"first\"\narg 2: \"two words\"\narg 3: \"--flag\"\narg 4: \"ünï\"\n\
         3 env vars\nenv A=\"2=two\"\nenv EMPTY=\"\"\nenv KILN_T_FROM_HOST=\"host value\"\n\
         KILN_MISSING set: false\nargs_sizes_get agrees: true\nenviron_sizes_get agrees: true\n",
        prog.display().to_string()
    );
    assert_stdout(&out, &expected);
}

#[test]
fn inherit_env_passes_the_host_environment() {
    let out = Kiln::run(
        &["--inherit-env", "--env", "KILN_T_OVERRIDE=new"],
        "args_env",
        &[],
    )
    .env("KILN_T_INHERITED", "yes")
    .env("KILN_T_OVERRIDE", "old")
    .output();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("env KILN_T_INHERITED=\"yes\"\n"), "{text}");
    assert!(text.contains("env KILN_T_OVERRIDE=\"new\"\n"), "{text}");
    assert!(!text.contains("KILN_T_OVERRIDE=\"old\""), "{text}");
    assert!(text.contains("environ_sizes_get agrees: true\n"), "{text}");
    // Without --inherit-env the module sees none of it.
    let out = Kiln::run(&[], "args_env", &[])
        .env("KILN_T_INHERITED", "yes")
        .output();
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("\n0 env vars\n"), "{}", stdout(&out));
}

#[test]
fn proc_exit_sets_the_exit_status() {
    for code in [0, 3, 255] {
        let out = Kiln::run(&[], "exit_code", &[&code.to_string()]).output();
        assert_exit(&out, code);
        assert_stdout(&out, &format!("exiting with {code}\n"));
        assert_eq!(stderr(&out), "stderr before exit\n");
    }
}

#[test]
fn fs_raw_calls() {
    let dir = TempDir::new("fs-raw");
    let out = Kiln::run(&["--dir", &dir.dir_as("/sandbox")], "fs_raw", &[]).output();
    assert_exit(&out, 0);
    assert_stdout(&out, &expected("fs_raw.stdout"));
    // It cleaned up after itself, on the host too.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn fs_readdir_with_cookies() {
    let dir = TempDir::new("readdir");
    let out = Kiln::run(&["--dir", &dir.dir_as("/sandbox")], "fs_readdir", &[]).output();
    assert_exit(&out, 0);
    assert_stdout(&out, &expected("fs_readdir.stdout"));
    // The files it made are real files on the host.
    let host = std::fs::read_to_string(dir.path().join("list/file-07.txt")).unwrap();
    assert_eq!(host, "7\n");
}

#[test]
fn fs_through_std() {
    let dir = TempDir::new("fs-std");
    let out = Kiln::run(&["--dir", &dir.dir_as("/sandbox")], "fs_std", &[]).output();
    assert_exit(&out, 0);
    assert_stdout(&out, &expected("fs_std.stdout"));
    let host = std::fs::read_to_string(dir.path().join("std-result.txt")).unwrap();
    assert_eq!(host, "written by fs_std\n");
    assert!(!dir.path().join("std").exists());
}

#[test]
fn fs_read_only_preopen() {
    let dir = TempDir::new("ro");
    std::fs::write(dir.path().join("data.txt"), "read-only data\n").unwrap();
    let out = Kiln::run(&["--dir-ro", &dir.dir_as("/ro")], "fs_readonly", &[]).output();
    assert_exit(&out, 0);
    assert_stdout(&out, &expected("fs_readonly.stdout"));
    // Nothing changed on the host.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["data.txt"]);
    let data = std::fs::read_to_string(dir.path().join("data.txt")).unwrap();
    assert_eq!(data, "read-only data\n");
}

#[test]
fn no_preopen_no_files() {
    let out = Kiln::run(&[], "ls_r", &["/"]).output();
    assert_exit(&out, 2);
    assert_stdout(&out, "");
    assert!(stderr(&out).starts_with("ls_r: /: "), "{}", stderr(&out));
}

#[test]
fn missing_preopen_dir_is_a_clear_error() {
    let dir = TempDir::new("gone");
    let gone = dir.path().join("does-not-exist");
    let arg = format!("{}::/x", gone.display());
    let out = Kiln::run(&["--dir", &arg], "fs_std", &[]).output();
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains("does-not-exist"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let out = Kiln::run(&["--dir", "::/x"], "fs_std", &[]).output();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("--dir HOST[::GUEST]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn clocks_random_and_yield() {
    let out = Kiln::run(&[], "clocks", &[]).output();
    assert_exit(&out, 0);
    assert_stdout(&out, &expected("clocks.stdout"));
}

#[test]
fn poll_oneoff_clocks_and_fds() {
    let dir = TempDir::new("poll");
    let out = Kiln::run(&["--dir", &dir.dir_as("/sandbox")], "poll", &[])
        .stdin(b"ping\n")
        .output();
    assert_exit(&out, 0);
    assert_stdout(&out, &expected("poll.stdout"));
}

#[test]
fn proc_raise_is_reported() {
    let out = Kiln::run(&[], "proc_raise", &[]).output();
    assert_stdout(&out, &expected("proc_raise.stdout"));
    let code: i32 = expected("proc_raise.status").trim().parse().unwrap();
    assert_exit(&out, code);
}

#[test]
fn trap_prints_message_and_named_backtrace() {
    let out = Kiln::run(&[], "trap", &[]).output();
    assert_exit(&out, 134);
    assert_stdout(&out, "about to trap\n");
    let err = stderr(&out);
    assert!(err.contains("deliberate panic at depth 3"), "{err}");
    assert!(
        err.contains("error: failed to invoke `_start`: wasm trap: "),
        "{err}"
    );
    assert!(err.contains("wasm backtrace:"), "{err}");
    assert!(err.contains("innermost_function"), "{err}");
    assert!(err.contains("middle_function"), "{err}");
}

#[test]
fn timeout_interrupts_a_loop() {
    let start = Instant::now();
    let out = Kiln::run(&["--timeout", "300ms"], "spin", &[]).output();
    assert_exit(&out, 124);
    assert_stdout(&out, "spinning\n");
    let err = stderr(&out);
    assert!(err.contains("timed out after 300ms"), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    // A program that finishes in time is not affected.
    let out = Kiln::run(&["--timeout", "1m"], "exit_code", &["5"]).output();
    assert_exit(&out, 5);
    assert_stdout(&out, "exiting with 5\n");
}

#[test]
fn timeout_while_blocked_in_a_host_call() {
    // stdin stays open and empty: the program blocks in fd_read, where an
    // interrupt cannot reach it; kiln still ends after the grace period.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["run", "--timeout", "200ms"])
        .arg(program("stdio"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_exit(&out, 124);
    assert!(
        stderr(&out).contains("timed out after 200ms"),
        "{}",
        stderr(&out)
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn bad_timeout_values() {
    for value in ["soon", "5 s", "3d", ""] {
        let out = Kiln::run(&["--timeout", value], "spin", &[]).output();
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("--timeout"),
            "{value}: {}",
            stderr(&out)
        );
        assert_stdout(&out, "");
    }
}

#[test]
fn fuel_stops_a_loop() {
    let out = Kiln::run(&["-W", "fuel=1000000"], "spin", &[]).output();
    assert_exit(&out, 134);
    assert_stdout(&out, "spinning\n");
    assert!(stderr(&out).contains("fuel"), "{}", stderr(&out));
}

#[test]
fn max_memory_size_limits_growth() {
    let out = Kiln::run(&["-W", "max-memory-size=4M"], "memory", &["64"]).output();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("memory.grow refused: true\n"), "{text}");
    let size: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("memory size: "))
        .and_then(|l| l.strip_suffix(" bytes"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(size <= 4 << 20 && size + (1 << 20) > 4 << 20, "{size}");
    assert!(
        text.ends_with("try_reserve 64 MiB more: failed\n"),
        "{text}"
    );

    let out = Kiln::run(&[], "memory", &["64"]).output();
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.starts_with("memory.grow refused: false\n"), "{text}");
    assert!(text.ends_with("try_reserve 64 MiB more: ok\n"), "{text}");

    // Less than the module's initial memory: it cannot even start.
    let out = Kiln::run(&["-W", "max-memory-size=64K"], "memory", &["8"]).output();
    assert_exit(&out, 1);
    assert_stdout(&out, "");
    assert!(
        stderr(&out).contains("exceeds memory limits"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_imports() {
    // By default: a clear error naming the import; nothing runs.
    let out = Kiln::run(&[], "unknown_import", &[]).output();
    assert_exit(&out, 1);
    assert_stdout(&out, "");
    let err = stderr(&out);
    assert!(
        err.contains("unknown import") && err.contains("kiln_test::not_provided"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // With -W unknown-imports-trap=y it runs while the import is not called.
    let trap = ["-W", "unknown-imports-trap=y"];
    let out = Kiln::run(&trap, "unknown_import", &[]).output();
    assert_exit(&out, 0);
    assert_stdout(&out, "started\ndone without calling it\n");

    // ... and calling it traps, naming it, with a backtrace.
    let out = Kiln::run(&trap, "unknown_import", &["call"]).output();
    assert_exit(&out, 134);
    assert_stdout(&out, "started\n");
    let err = stderr(&out);
    assert!(
        err.contains("wasm trap: called unknown import `kiln_test::not_provided`"),
        "{err}"
    );
    assert!(
        err.contains("wasm backtrace:") && err.contains("unknown_import"),
        "{err}"
    );
}

/// A `Write` that collects into a buffer the test can read afterwards.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn sockets_on_a_preopened_listener() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let mut builder = kiln_wasi::WasiCtxBuilder::new();
    builder
        .arg("sock_server")
        .stdout(out.clone())
        .stderr(err.clone());
    builder.preopened_socket(listener).unwrap();
    let ctx = builder.build();

    let client = std::thread::spawn(move || {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(b"hello from the test\n").unwrap();
        let mut reply = String::new();
        // Ends when the program shuts down its write side.
        stream.read_to_string(&mut reply).unwrap();
        reply
        // Dropping `stream` closes it: the program sees end of stream.
    });

    let engine = Engine::default();
    let module = Module::from_file(&engine, program("sock_server")).unwrap();
    let mut store = Store::new(&engine, ctx);
    let mut linker = Linker::new(&engine);
    kiln_wasi::add_to_linker(&mut linker, |ctx| ctx).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    match start.call(&mut store, ()) {
        Ok(()) => {}
        Err(e) => match e.downcast_ref::<kiln_wasi::I32Exit>() {
            Some(exit) => assert_eq!(exit.0, 0, "stderr: {}", err.text()),
            None => panic!("{e:#}\nstdout: {}\nstderr: {}", out.text(), err.text()),
        },
    }
    let reply = client.join().unwrap();
    assert_eq!(reply, "reply: HELLO FROM THE TEST\n");
    assert_eq!(
        out.text(),
        expected("sock_server.stdout"),
        "stderr: {}",
        err.text()
    );
    assert_eq!(err.text(), "");
}
