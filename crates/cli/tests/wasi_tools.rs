//! Real use of WASI: Rust versions of `cat`, `ls -R`, `cp -r`, `grep -F`
//! and `wc` (from `crates/wasi/test-programs`) run through `kiln run` on a
//! directory tree made here — nested directories, several files, unicode
//! names, an empty file, a ~1 MB file — and must give byte for byte what
//! the host's tools give (run with `LC_ALL=C`).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{Kiln, TempDir, assert_exit, stderr, stdout};

/// Deterministic text of about `bytes` bytes: lines of 0 to 12 words
/// drawn from a list with ASCII, accented and non-Latin words.
fn text(bytes: usize, seed: u64) -> String {
    const WORDS: [&str; 10] = [
        "alpha",
        "beta",
        "gamma",
        "foo",
        "δέλτα",
        "x",
        "lorem",
        "ipsum",
        "foobar",
        "日本語",
    ];
    let mut state = seed;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut out = String::new();
    while out.len() < bytes {
        let words = next(13);
        let line: Vec<&str> = (0..words).map(|_| WORDS[next(10) as usize]).collect();
        out += &line.join(if next(4) == 0 { "  " } else { " " });
        out.push('\n');
    }
    out
}

/// Makes `ROOT/tree`.
fn make_tree(root: &Path) {
    let tree = root.join("tree");
    for dir in ["sub/deep", "日本語", "empty_dir", "café"] {
        std::fs::create_dir_all(tree.join(dir)).unwrap();
    }
    let files: [(&str, String); 7] = [
        ("a.txt", "hello world\nfoo bar baz\n".to_string()),
        ("empty.txt", String::new()),
        ("日本語/ファイル.txt", "café crème\nnaïve foo\n".to_string()),
        (
            "sub/deep/d.txt",
            "deep foo\n\tline two  \nno newline at end foo".to_string(),
        ),
        ("sub/big.txt", text(1_000_000, 1)),
        ("café/menu.txt", text(2_000, 2)),
        ("Zebra.txt", "capital letters sort first\n".to_string()),
    ];
    for (name, contents) in files {
        std::fs::write(tree.join(name), contents).unwrap();
    }
    let big = std::fs::metadata(tree.join("sub/big.txt")).unwrap().len();
    assert!((1_000_000..1_001_000).contains(&big), "{big}");
}

/// Runs a host tool in `dir` with `LC_ALL=C`.
fn host(dir: &Path, tool: &str, args: &[&str]) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run host {tool}: {e}"))
}

/// Runs the wasm `tool` with `dir` preopened as `/` (the module's current
/// directory), so relative paths name the same files as on the host.
fn guest(dir: &Path, tool: &str, args: &[&str]) -> Output {
    let preopen = format!("{}::/", dir.display());
    Kiln::run(&["--dir", &preopen], tool, args).output()
}

/// Runs both and asserts the same stdout and exit status; returns stdout.
#[track_caller]
fn same_as_host(
    dir: &Path,
    host_tool: &str,
    host_args: &[&str],
    tool: &str,
    args: &[&str],
) -> String {
    let want = host(dir, host_tool, host_args);
    let got = guest(dir, tool, args);
    assert_eq!(
        got.status.code(),
        want.status.code(),
        "{tool} {args:?}: exit status; stderr: {}",
        stderr(&got)
    );
    if got.stdout != want.stdout {
        panic!(
            "{tool} {args:?} differs from host {host_tool}\n--- host\n{}--- kiln\n{}--- kiln stderr\n{}",
            stdout(&want),
            stdout(&got),
            stderr(&got)
        );
    }
    assert!(!got.stdout.is_empty() || want.stdout.is_empty());
    stdout(&got)
}

#[test]
fn cat_matches_host() {
    let dir = TempDir::new("cat");
    make_tree(dir.path());
    let files = [
        "tree/a.txt",
        "tree/empty.txt",
        "tree/日本語/ファイル.txt",
        "tree/sub/big.txt",
    ];
    let out = same_as_host(dir.path(), "cat", &files, "cat", &files);
    assert!(out.len() > 1_000_000);
    same_as_host(
        dir.path(),
        "cat",
        &["tree/sub/deep/d.txt"],
        "cat",
        &["tree/sub/deep/d.txt"],
    );
    same_as_host(
        dir.path(),
        "cat",
        &["tree/empty.txt"],
        "cat",
        &["tree/empty.txt"],
    );
    // A missing file: same status (1), and the other files still printed.
    let args = ["tree/a.txt", "tree/missing.txt"];
    same_as_host(dir.path(), "cat", &args, "cat", &args);
    // stdin.
    let out = Kiln::run(&[], "cat", &[])
        .stdin("piped ünïcode\n".as_bytes())
        .output();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "piped ünïcode\n");
}

#[test]
fn ls_r_matches_host() {
    let dir = TempDir::new("ls");
    make_tree(dir.path());
    let out = same_as_host(dir.path(), "ls", &["-R", "tree"], "ls_r", &["tree"]);
    assert!(out.contains("tree/日本語:\nファイル.txt\n"), "{out}");
    same_as_host(dir.path(), "ls", &["-R", "tree/sub"], "ls_r", &["tree/sub"]);
    same_as_host(
        dir.path(),
        "ls",
        &["-R", "tree/empty_dir"],
        "ls_r",
        &["tree/empty_dir"],
    );
}

/// Every path under `root` (relative, sorted) with its contents (`None`
/// for a directory).
fn snapshot(root: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Option<Vec<u8>>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            if path.is_dir() {
                out.push((rel, None));
                walk(root, &path, out);
            } else {
                out.push((rel, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn cp_r_matches_host() {
    let dir = TempDir::new("cp");
    make_tree(dir.path());
    let want = host(dir.path(), "cp", &["-r", "tree", "host_copy"]);
    assert!(want.status.success(), "{}", stderr(&want));
    let got = guest(dir.path(), "cp_r", &["tree", "kiln_copy"]);
    assert_exit(&got, 0);
    assert_eq!(stderr(&got), "cp_r: copied 7 files\n");
    let (host_tree, kiln_tree) = (
        snapshot(&dir.path().join("host_copy")),
        snapshot(&dir.path().join("kiln_copy")),
    );
    assert_eq!(
        host_tree.len(),
        12,
        "{:?}",
        host_tree.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    assert!(host_tree == kiln_tree, "copies differ");
    assert!(
        kiln_tree == snapshot(&dir.path().join("tree")),
        "copy differs from the source"
    );
    // The destination exists now: refused, nothing changed.
    let again = guest(dir.path(), "cp_r", &["tree", "kiln_copy"]);
    assert_exit(&again, 1);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn grep_matches_host() {
    let dir = TempDir::new("grep");
    make_tree(dir.path());
    let files = [
        "tree/a.txt",
        "tree/empty.txt",
        "tree/sub/big.txt",
        "tree/sub/deep/d.txt",
        "tree/日本語/ファイル.txt",
    ];
    let cases: [(&[&str], &str); 7] = [
        (&["-F", "foo"], "several files"),
        (&["-F", "-n", "foo"], "line numbers"),
        (&["-F", "-c", "foo"], "counts"),
        (&["-F", "-v", "foo"], "inverted"),
        (&["-F", "日本語"], "unicode pattern"),
        (&["-F", "café"], "accented pattern"),
        (&["-F", "no such text anywhere"], "no match: status 1"),
    ];
    for (options, what) in cases {
        let mut args = options.to_vec();
        args.extend(files);
        let out = same_as_host(dir.path(), "grep", &args, "grep", &args);
        assert!(
            !what.is_empty() && (out.is_empty() == what.starts_with("no match")),
            "{what}"
        );
    }
    // One file: no file name prefix.
    let args = ["-F", "foo", "tree/sub/deep/d.txt"];
    let out = same_as_host(dir.path(), "grep", &args, "grep", &args);
    assert_eq!(out, "deep foo\nno newline at end foo\n");
}

#[test]
fn wc_matches_host() {
    let dir = TempDir::new("wc");
    make_tree(dir.path());
    let files = [
        "tree/a.txt",
        "tree/empty.txt",
        "tree/sub/big.txt",
        "tree/sub/deep/d.txt",
        "tree/日本語/ファイル.txt",
        "tree/café/menu.txt",
    ];
    let out = same_as_host(dir.path(), "wc", &files, "wc", &files);
    assert!(out.ends_with(" total\n"), "{out}");
    for file in files {
        same_as_host(dir.path(), "wc", &[file], "wc", &[file]);
    }
    // stdin: 7-wide columns and no name.
    let out = Kiln::run(&[], "wc", &[])
        .stdin(b"one two\nthree\n")
        .output();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out), "      2       3      14\n");
}
