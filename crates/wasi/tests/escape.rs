//! The escape battery: every path-taking WASI function, called with paths
//! that try to leave the preopened directory — `..`, absolute paths,
//! symlinks pointing outside (absolute and relative, as the last component
//! and in the middle), symlink loops, and hard links out — must fail with
//! the expected errno and leave everything outside the preopen exactly as
//! it was; results that would describe outside files must not reach guest
//! memory.

mod common;

use common::errno::{INVAL, LOOP, NOTCAPABLE};
use common::{ALL_RIGHTS, BUF, Harness, OUT, READ_RIGHTS};
use kiln_wasi::{DirPerms, WasiCtxBuilder};
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};

const FOLLOW: u32 = 1;
const CREAT: u32 = 1;
const DIRECTORY: u32 = 2;
const TRUNC: u32 = 8;
const SENTINEL: u8 = 0xA5;

/// A temp dir `root` holding files outside the sandbox and `root/sandbox`,
/// the preopen, with links that point out of it.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    sandbox: PathBuf,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let sandbox = root.join("sandbox");
    let w = |p: &Path, s: &str| std::fs::write(p, s).unwrap();
    w(&root.join("secret.txt"), "top secret");
    std::fs::create_dir(root.join("outside_dir")).unwrap();
    w(&root.join("outside_dir/x"), "outside x");
    std::fs::create_dir(root.join("outside_dir/emptysub")).unwrap();
    symlink("x", root.join("outside_dir/out_link")).unwrap();
    std::fs::create_dir(root.join("empty_out")).unwrap();
    symlink("secret.txt", root.join("out_link")).unwrap();

    std::fs::create_dir(&sandbox).unwrap();
    w(&sandbox.join("inside.txt"), "hello");
    std::fs::create_dir_all(sandbox.join("sub/deeper")).unwrap();
    symlink(root.join("secret.txt"), sandbox.join("link_abs")).unwrap();
    symlink("../secret.txt", sandbox.join("link_rel")).unwrap();
    symlink("../../secret.txt", sandbox.join("sub/link_up2")).unwrap();
    symlink(root.join("outside_dir"), sandbox.join("dirlink_abs")).unwrap();
    symlink("../outside_dir", sandbox.join("dirlink_rel")).unwrap();
    symlink("loop_b", sandbox.join("loop_a")).unwrap();
    symlink("loop_a", sandbox.join("loop_b")).unwrap();
    Tree {
        _tmp: tmp,
        root,
        sandbox,
    }
}

/// Everything observable about one file outside the sandbox (not its
/// access time, which reading metadata does not change anyway).
#[derive(Debug, PartialEq, Eq)]
struct Snap {
    mode: u32,
    len: u64,
    ino: u64,
    nlink: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    content: Vec<u8>,
}

fn snapshot(tree: &Tree) -> BTreeMap<PathBuf, Snap> {
    let mut out = BTreeMap::new();
    let mut stack = vec![tree.root.clone()];
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        let content = if m.file_type().is_symlink() {
            std::fs::read_link(&p)
                .unwrap()
                .into_os_string()
                .into_encoded_bytes()
        } else if m.is_file() {
            std::fs::read(&p).unwrap()
        } else {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e != tree.sandbox {
                    stack.push(e);
                }
            }
            Vec::new()
        };
        let snap = Snap {
            mode: m.mode(),
            len: m.len(),
            ino: m.ino(),
            nlink: m.nlink(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            content,
        };
        out.insert(p, snap);
    }
    out
}

/// One attempted operation; `{ROOT}` in a path stands for the absolute
/// path of the directory holding the sandbox.
#[derive(Debug)]
enum Op {
    Open {
        path: &'static str,
        lookup: u32,
        oflags: u32,
    },
    Mkdir(&'static str),
    Rmdir(&'static str),
    Unlink(&'static str),
    Rename(&'static str, &'static str),
    Symlink {
        target: &'static str,
        link: &'static str,
    },
    Readlink(&'static str),
    Link {
        old: &'static str,
        new: &'static str,
        lookup: u32,
    },
    Stat {
        path: &'static str,
        lookup: u32,
    },
    SetTimes {
        path: &'static str,
        lookup: u32,
    },
}

/// Runs `op` against fd 3 and returns the errno; checks that a failed
/// call left its output buffers untouched.
fn run(h: &mut Harness, root: &Path, op: &Op) -> i32 {
    let root = root.to_str().unwrap();
    let mut s = |p: &str| h.str(&p.replace("{ROOT}", root));
    let (e, out_len) = match *op {
        Op::Open {
            path,
            lookup,
            oflags,
        } => {
            let (p, l) = s(path);
            let rights = if oflags & DIRECTORY != 0 {
                READ_RIGHTS
            } else {
                ALL_RIGHTS
            };
            let args = [
                3,
                lookup.into(),
                p,
                l,
                oflags.into(),
                rights,
                ALL_RIGHTS,
                0,
                OUT.into(),
            ];
            (h.call("path_open", &args), 4)
        }
        Op::Mkdir(path) => {
            let (p, l) = s(path);
            (h.call("path_create_directory", &[3, p, l]), 0)
        }
        Op::Rmdir(path) => {
            let (p, l) = s(path);
            (h.call("path_remove_directory", &[3, p, l]), 0)
        }
        Op::Unlink(path) => {
            let (p, l) = s(path);
            (h.call("path_unlink_file", &[3, p, l]), 0)
        }
        Op::Rename(old, new) => {
            let (o, ol) = s(old);
            let (n, nl) = s(new);
            (h.call("path_rename", &[3, o, ol, 3, n, nl]), 0)
        }
        Op::Symlink { target, link } => {
            let (t, tl) = s(target);
            let (n, nl) = s(link);
            (h.call("path_symlink", &[t, tl, 3, n, nl]), 0)
        }
        Op::Readlink(path) => {
            let (p, l) = s(path);
            h.write(BUF, &[SENTINEL; 256]);
            h.write(OUT, &[SENTINEL; 4]);
            (
                h.call("path_readlink", &[3, p, l, BUF.into(), 256, OUT.into()]),
                256,
            )
        }
        Op::Link { old, new, lookup } => {
            let (o, ol) = s(old);
            let (n, nl) = s(new);
            (h.call("path_link", &[3, lookup.into(), o, ol, 3, n, nl]), 0)
        }
        Op::Stat { path, lookup } => {
            let (p, l) = s(path);
            h.write(BUF, &[SENTINEL; 64]);
            (
                h.call("path_filestat_get", &[3, lookup.into(), p, l, BUF.into()]),
                64,
            )
        }
        Op::SetTimes { path, lookup } => {
            let (p, l) = s(path);
            // Both times to 1 s after the epoch.
            let args = [3, lookup.into(), p, l, 1_000_000_000, 1_000_000_000, 1 | 4];
            (h.call("path_filestat_set_times", &args), 0)
        }
    };
    if e != 0 && out_len > 0 {
        let buf = if matches!(op, Op::Open { .. }) {
            OUT
        } else {
            BUF
        };
        let untouched =
            h.read(buf, out_len).iter().all(|&b| b == SENTINEL) || matches!(op, Op::Open { .. });
        assert!(untouched, "{op:?} wrote a result although it failed");
        if matches!(op, Op::Readlink(_)) {
            assert_eq!(h.read(OUT, 4), [SENTINEL; 4], "{op:?} wrote bufused");
        }
    }
    e
}

fn battery() -> Vec<(Op, i32)> {
    use Op::*;
    let mut cases = Vec::new();
    let mut add = |op: Op, e: i32| cases.push((op, e));

    // path_open, reading, following symlinks.
    for path in [
        "../secret.txt",
        "sub/../../secret.txt",
        "{ROOT}/secret.txt",
        "link_abs",
        "link_rel",
        "sub/link_up2",
        "dirlink_abs/x",
        "dirlink_rel/x",
    ] {
        add(
            Open {
                path,
                lookup: FOLLOW,
                oflags: 0,
            },
            NOTCAPABLE,
        );
    }
    add(
        Open {
            path: "loop_a",
            lookup: FOLLOW,
            oflags: 0,
        },
        LOOP,
    );
    add(
        Open {
            path: "loop_a/x",
            lookup: 0,
            oflags: 0,
        },
        LOOP,
    );
    add(
        Open {
            path: "loop_a",
            lookup: 0,
            oflags: 0,
        },
        LOOP,
    );
    // path_open creating or truncating.
    for path in [
        "../created",
        "{ROOT}/created",
        "dirlink_abs/created",
        "dirlink_rel/created",
    ] {
        add(
            Open {
                path,
                lookup: FOLLOW,
                oflags: CREAT,
            },
            NOTCAPABLE,
        );
    }
    add(
        Open {
            path: "link_rel",
            lookup: FOLLOW,
            oflags: CREAT | TRUNC,
        },
        NOTCAPABLE,
    );
    add(
        Open {
            path: "link_abs",
            lookup: FOLLOW,
            oflags: TRUNC,
        },
        NOTCAPABLE,
    );
    add(
        Open {
            path: "loop_a/created",
            lookup: FOLLOW,
            oflags: CREAT,
        },
        LOOP,
    );
    // path_open of directories.
    for path in [
        "..",
        "../outside_dir",
        "{ROOT}",
        "dirlink_abs",
        "dirlink_rel",
    ] {
        add(
            Open {
                path,
                lookup: FOLLOW,
                oflags: DIRECTORY,
            },
            NOTCAPABLE,
        );
    }

    for path in [
        "../newdir",
        "{ROOT}/newdir",
        "dirlink_abs/newdir",
        "dirlink_rel/newdir",
    ] {
        add(Mkdir(path), NOTCAPABLE);
    }
    add(Mkdir("loop_a/newdir"), LOOP);

    for path in [
        "../empty_out",
        "{ROOT}/empty_out",
        "dirlink_abs/emptysub",
        "dirlink_rel/emptysub",
    ] {
        add(Rmdir(path), NOTCAPABLE);
    }
    add(Rmdir("loop_a/x"), LOOP);

    for path in [
        "../secret.txt",
        "{ROOT}/secret.txt",
        "dirlink_abs/x",
        "dirlink_rel/x",
        "sub/../../out_link",
    ] {
        add(Unlink(path), NOTCAPABLE);
    }
    add(Unlink("loop_a/x"), LOOP);

    // path_rename, source side then target side.
    for old in [
        "../secret.txt",
        "{ROOT}/secret.txt",
        "dirlink_abs/x",
        "dirlink_rel/x",
    ] {
        add(Rename(old, "stolen"), NOTCAPABLE);
    }
    add(Rename("loop_a/x", "stolen"), LOOP);
    for new in [
        "../planted",
        "{ROOT}/planted",
        "dirlink_abs/planted",
        "dirlink_rel/planted",
    ] {
        add(Rename("inside.txt", new), NOTCAPABLE);
    }
    add(Rename("inside.txt", "loop_a/planted"), LOOP);

    // path_symlink, target side then link side.
    for (target, link) in [
        ("../secret.txt", "newlink"),
        ("{ROOT}/secret.txt", "newlink"),
        ("../../secret.txt", "sub/newlink"),
        ("deeper/../../../secret.txt", "sub/newlink"),
    ] {
        add(Symlink { target, link }, NOTCAPABLE);
    }
    for link in [
        "../newlink",
        "{ROOT}/newlink",
        "dirlink_abs/newlink",
        "dirlink_rel/newlink",
    ] {
        add(
            Symlink {
                target: "inside.txt",
                link,
            },
            NOTCAPABLE,
        );
    }
    add(
        Symlink {
            target: "inside.txt",
            link: "loop_a/newlink",
        },
        LOOP,
    );

    for path in [
        "../out_link",
        "{ROOT}/out_link",
        "dirlink_abs/out_link",
        "dirlink_rel/out_link",
        "link_abs",
    ] {
        add(Readlink(path), NOTCAPABLE);
    }
    add(Readlink("loop_a/x"), LOOP);

    // path_link: hard links out of (or into) the sandbox.
    for old in [
        "../secret.txt",
        "{ROOT}/secret.txt",
        "dirlink_abs/x",
        "dirlink_rel/x",
    ] {
        add(
            Link {
                old,
                new: "stolen",
                lookup: 0,
            },
            NOTCAPABLE,
        );
    }
    for new in [
        "../planted",
        "{ROOT}/planted",
        "dirlink_abs/planted",
        "dirlink_rel/planted",
    ] {
        add(
            Link {
                old: "inside.txt",
                new,
                lookup: 0,
            },
            NOTCAPABLE,
        );
    }
    add(
        Link {
            old: "link_rel",
            new: "stolen",
            lookup: FOLLOW,
        },
        INVAL,
    );
    add(
        Link {
            old: "link_abs",
            new: "stolen",
            lookup: FOLLOW,
        },
        INVAL,
    );
    add(
        Link {
            old: "loop_a/x",
            new: "stolen",
            lookup: 0,
        },
        LOOP,
    );

    for path in [
        "../secret.txt",
        "{ROOT}/secret.txt",
        "link_abs",
        "link_rel",
        "sub/link_up2",
        "dirlink_abs/x",
        "dirlink_rel/x",
    ] {
        add(
            Stat {
                path,
                lookup: FOLLOW,
            },
            NOTCAPABLE,
        );
        add(
            SetTimes {
                path,
                lookup: FOLLOW,
            },
            NOTCAPABLE,
        );
    }
    for path in [
        "../secret.txt",
        "..",
        "{ROOT}/secret.txt",
        "dirlink_rel/x",
        "dirlink_abs/out_link",
    ] {
        add(Stat { path, lookup: 0 }, NOTCAPABLE);
        add(SetTimes { path, lookup: 0 }, NOTCAPABLE);
    }
    add(
        Stat {
            path: "loop_a",
            lookup: FOLLOW,
        },
        LOOP,
    );
    add(
        SetTimes {
            path: "loop_a",
            lookup: FOLLOW,
        },
        LOOP,
    );
    add(
        Stat {
            path: "loop_a/x",
            lookup: 0,
        },
        LOOP,
    );
    cases
}

#[test]
fn escape_battery() {
    let cases = battery();
    let mut failures = Vec::new();
    for (op, expected) in &cases {
        let t = tree();
        let before = snapshot(&t);
        let mut h = Harness::new(
            WasiCtxBuilder::new()
                .preopened_dir(&t.sandbox, ".", DirPerms::ReadWrite)
                .unwrap(),
        );
        let got = run(&mut h, &t.root, op);
        if got != *expected {
            failures.push(format!("{op:?}: errno {got}, expected {expected}"));
        }
        assert_eq!(
            snapshot(&t),
            before,
            "{op:?} changed something outside the sandbox"
        );
        assert_eq!(
            std::fs::read(t.sandbox.join("inside.txt")).unwrap(),
            b"hello"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(cases.len() > 90, "the battery has {} cases", cases.len());
}

/// The same tree allows what stays inside, so the battery's failures come
/// from the sandbox rather than from the setup.
#[test]
fn inside_the_sandbox_works() {
    let t = tree();
    let before = snapshot(&t);
    let mut h = Harness::new(
        WasiCtxBuilder::new()
            .preopened_dir(&t.sandbox, ".", DirPerms::ReadWrite)
            .unwrap(),
    );
    let root = t.root.clone();
    let ok = [
        Op::Open {
            path: "sub/../inside.txt",
            lookup: FOLLOW,
            oflags: 0,
        },
        Op::Open {
            path: "sub/deeper/..",
            lookup: FOLLOW,
            oflags: DIRECTORY,
        },
        Op::Open {
            path: "created",
            lookup: FOLLOW,
            oflags: CREAT,
        },
        Op::Mkdir("newdir"),
        Op::Rmdir("newdir"),
        Op::Symlink {
            target: "../inside.txt",
            link: "sub/ok_link",
        },
        Op::Symlink {
            target: "deeper/../../inside.txt",
            link: "sub/ok_link2",
        },
        Op::Open {
            path: "sub/ok_link",
            lookup: FOLLOW,
            oflags: 0,
        },
        Op::Readlink("link_rel"),
        Op::Readlink("sub/ok_link"),
        Op::Stat {
            path: "link_abs",
            lookup: 0,
        },
        Op::Stat {
            path: "sub/ok_link",
            lookup: FOLLOW,
        },
        Op::SetTimes {
            path: "inside.txt",
            lookup: FOLLOW,
        },
        Op::Link {
            old: "inside.txt",
            new: "sub/hard",
            lookup: 0,
        },
        Op::Rename("sub/hard", "hard2"),
        Op::Unlink("hard2"),
        Op::Unlink("link_abs"),
    ];
    for op in &ok {
        assert_eq!(run(&mut h, &root, op), 0, "{op:?}");
    }
    assert_eq!(snapshot(&t), before);
    assert_eq!(
        std::fs::read_link(t.sandbox.join("sub/ok_link")).unwrap(),
        Path::new("../inside.txt")
    );
    assert!(!t.sandbox.join("link_abs").exists());
    assert!(t.root.join("secret.txt").exists());
}
