//! The `kiln-bench` binary from the outside: argument errors, the
//! measuring wrapper, and one small end-to-end run on a program of the
//! test's own (natively only, so it needs no peer and stays fast; CI runs
//! the real `--quick` race).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln-bench"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("cannot run kiln-bench")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A programs workspace with one program, `tiny`, that prints the
/// expected line.
fn tiny_programs(dir: &Path) -> PathBuf {
    let programs = dir.join("programs");
    std::fs::create_dir_all(programs.join("src/bin")).unwrap();
    std::fs::write(
        programs.join("Cargo.toml"),
        "[package]\nname = \"tiny-programs\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         [workspace]\n",
    )
    .unwrap();
    std::fs::write(
        programs.join("src/bin/tiny.rs"),
        "fn main() {\n    let mut h = 1u64;\n    for i in 0..1000u64 {\n        \
         h = h.wrapping_mul(31).wrapping_add(i);\n    }\n    \
         println!(\"tiny ok {h:016x}\");\n}\n",
    )
    .unwrap();
    programs
}

#[test]
fn unknown_names_and_bad_flags_are_clear_errors() {
    let dir = scratch("errors");
    let programs = tiny_programs(&dir);
    let programs = programs.to_str().unwrap();

    let out = harness(&[
        "--programs-dir",
        programs,
        "--programs",
        "nope",
        "--no-build",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: unknown program `nope`; known: tiny"
    );

    let out = harness(&["--programs-dir", programs, "--runtimes", "v8", "--no-build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: unknown runtime `v8`; known: kiln-interp"));

    let out = harness(&["--programs-dir", "/nonexistent", "--no-build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot list the benchmark programs"));

    for bad in [&["--runs", "0"][..], &["--timeout", "soon"], &["--bogus"]] {
        let out = harness(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(stderr(&out).starts_with("error:"), "{bad:?}");
    }
    for out in [harness(&["--runs", "0"]), harness(&["--programs", "x"])] {
        assert!(!stderr(&out).contains("panicked"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_wrapper_reports_time_rss_and_exit() {
    let dir = scratch("wrapper");
    let (out_file, err_file) = (dir.join("out"), dir.join("err"));
    let out = harness(&[
        "__measure",
        "--stdout",
        out_file.to_str().unwrap(),
        "--stderr",
        err_file.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "echo to-out; echo to-err >&2; exit 3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = report.lines().collect();
    assert!(lines[0].starts_with("wall_ns "), "{report}");
    assert!(lines[1].starts_with("peak_rss_kib "), "{report}");
    let rss: u64 = lines[1]["peak_rss_kib ".len()..].parse().unwrap();
    assert!(rss > 0);
    assert_eq!(lines[2], "exit 3");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), "to-out\n");
    assert_eq!(std::fs::read_to_string(&err_file).unwrap(), "to-err\n");

    let out = harness(&[
        "__measure",
        "--stdout",
        out_file.to_str().unwrap(),
        "--stderr",
        err_file.to_str().unwrap(),
        "--",
        "/nonexistent/program",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot run `/nonexistent/program`"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn end_to_end_on_a_tiny_program() {
    let dir = scratch("e2e");
    let programs = tiny_programs(&dir);
    let out_dir = dir.join("out");
    let out = harness(&[
        "--programs-dir",
        programs.to_str().unwrap(),
        "--runtimes",
        "native",
        "--runs",
        "5",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("# Kiln benchmark results"), "{summary}");
    assert!(summary.contains("| tiny |"), "{summary}");
    // The summary printed is the summary written.
    let written = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert_eq!(format!("{written}\n"), summary);
    let json = std::fs::read_to_string(out_dir.join("results.json")).unwrap();
    assert!(json.contains("\"name\": \"tiny\""));
    assert!(json.contains("\"samples\""));
    assert!(json.contains("\"failure\": null"));
    let svg = std::fs::read_to_string(out_dir.join("run-times.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    std::fs::remove_dir_all(&dir).unwrap();
}
