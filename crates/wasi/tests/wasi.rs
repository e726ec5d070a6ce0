//! Function-level tests of `wasi_snapshot_preview1` through a `.wat`
//! harness: arguments, streams, files, directories, rights, clocks,
//! polling, sockets, exit codes and bad pointers.

mod common;

use common::errno::*;
use common::{ALL_RIGHTS, BUF, Harness, MEMORY_SIZE, OUT, OUT2, READ_RIGHTS};
use kiln_wasi::{DirPerms, I32Exit, MemoryOutput, WasiCtxBuilder};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CREAT: u32 = 1;
const DIRECTORY: u32 = 2;
const EXCL: u32 = 4;
const TRUNC: u32 = 8;
const FD_WRITE: u64 = 1 << 6;
const PATH_OPEN: u64 = 1 << 13;
const POLL: u64 = 1 << 27;

fn with_dir(perms: DirPerms) -> (tempfile::TempDir, Harness) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("file.txt"), "0123456789").unwrap();
    std::fs::create_dir(tmp.path().join("dir")).unwrap();
    let h = Harness::new(
        WasiCtxBuilder::new()
            .preopened_dir(tmp.path(), "/sandbox", perms)
            .unwrap(),
    );
    (tmp, h)
}

#[test]
fn args_and_environ() {
    let mut h = Harness::new(
        WasiCtxBuilder::new()
            .args(&["prog", "a b", ""])
            .env("K", "v")
            .env("X", "1=2"),
    );
    assert_eq!(
        h.call("args_sizes_get", &[OUT.into(), OUT2.into()]),
        SUCCESS
    );
    assert_eq!((h.u32(OUT), h.u32(OUT2)), (3, 5 + 4 + 1));
    assert_eq!(
        h.call("args_get", &[BUF.into(), (BUF + 64).into()]),
        SUCCESS
    );
    let ptrs: Vec<u32> = (0..3).map(|i| h.u32(BUF + 4 * i)).collect();
    assert_eq!(ptrs, [BUF + 64, BUF + 69, BUF + 73]);
    assert_eq!(h.read(BUF + 64, 10), b"prog\0a b\0\0");
    assert_eq!(
        h.call("environ_sizes_get", &[OUT.into(), OUT2.into()]),
        SUCCESS
    );
    assert_eq!((h.u32(OUT), h.u32(OUT2)), (2, 4 + 6));
    assert_eq!(
        h.call("environ_get", &[BUF.into(), (BUF + 64).into()]),
        SUCCESS
    );
    assert_eq!(h.read(BUF + 64, 10), b"K=v\0X=1=2\0");
}

#[test]
fn stdio_in_memory() {
    let out = MemoryOutput::new();
    let err = MemoryOutput::new();
    let mut h = Harness::new(
        WasiCtxBuilder::new()
            .stdin(&b"input!"[..])
            .stdout(out.clone())
            .stderr(err.clone()),
    );
    let (p, _) = h.str("hello, ");
    let (q, _) = h.str("world\n");
    h.iovec(BUF, p as u32, 7);
    h.iovec(BUF + 8, q as u32, 6);
    assert_eq!(h.call("fd_write", &[1, BUF.into(), 2, OUT.into()]), SUCCESS);
    assert_eq!(h.u32(OUT), 13);
    assert_eq!(h.call("fd_write", &[2, BUF.into(), 1, OUT.into()]), SUCCESS);
    assert_eq!(out.contents_string(), "hello, world\n");
    assert_eq!(err.contents(), b"hello, ");

    h.iovec(BUF, BUF + 100, 4);
    h.iovec(BUF + 8, BUF + 200, 10);
    assert_eq!(h.call("fd_read", &[0, BUF.into(), 2, OUT.into()]), SUCCESS);
    assert_eq!(h.u32(OUT), 4, "a stream is read once");
    assert_eq!(h.read(BUF + 100, 4), b"inpu");
    assert_eq!(h.call("fd_read", &[0, BUF.into(), 2, OUT.into()]), SUCCESS);
    assert_eq!(h.u32(OUT), 2);
    assert_eq!(h.call("fd_read", &[0, BUF.into(), 2, OUT.into()]), SUCCESS);
    assert_eq!(h.u32(OUT), 0, "end of input");

    // Streams cannot seek; stdout cannot be read; fd 9 is not open.
    assert_eq!(h.call("fd_seek", &[1, 0, 0, OUT.into()]), SPIPE);
    assert_eq!(h.call("fd_tell", &[0, OUT.into()]), SPIPE);
    assert_eq!(
        h.call("fd_read", &[1, BUF.into(), 1, OUT.into()]),
        NOTCAPABLE
    );
    assert_eq!(h.call("fd_write", &[9, BUF.into(), 1, OUT.into()]), BADF);
    assert_eq!(h.call("fd_fdstat_get", &[1, BUF.into()]), SUCCESS);
    assert_eq!(h.u64(BUF + 8) & FD_WRITE, FD_WRITE);
}

#[test]
fn preopens_are_listed() {
    let (_t, mut h) = with_dir(DirPerms::ReadWrite);
    assert_eq!(h.call("fd_prestat_get", &[3, OUT.into()]), SUCCESS);
    assert_eq!(h.read(OUT, 8), [0, 0, 0, 0, 8, 0, 0, 0]);
    assert_eq!(
        h.call("fd_prestat_dir_name", &[3, BUF.into(), 7]),
        NAMETOOLONG
    );
    assert_eq!(h.call("fd_prestat_dir_name", &[3, BUF.into(), 8]), SUCCESS);
    assert_eq!(h.read(BUF, 8), b"/sandbox");
    assert_eq!(h.call("fd_prestat_get", &[4, OUT.into()]), BADF);
    assert_eq!(h.call("fd_prestat_get", &[1, OUT.into()]), BADF);
    assert_eq!(h.call("fd_fdstat_get", &[3, BUF.into()]), SUCCESS);
    assert_eq!(h.read(BUF, 1), [3], "a directory");
}

#[test]
fn file_io() {
    let (tmp, mut h) = with_dir(DirPerms::ReadWrite);
    let fd = h.open(3, 0, "file.txt", 0, ALL_RIGHTS, 0).unwrap();
    assert_eq!(fd, 4);
    h.iovec(BUF, BUF + 100, 4);
    assert_eq!(
        h.call("fd_read", &[fd.into(), BUF.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!((h.u32(OUT), h.read(BUF + 100, 4)), (4, b"0123".to_vec()));
    assert_eq!(h.call("fd_tell", &[fd.into(), OUT.into()]), SUCCESS);
    assert_eq!(h.u64(OUT), 4);
    assert_eq!(
        h.call("fd_seek", &[fd.into(), (-2i64) as u64, 2, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.u64(OUT), 8);
    assert_eq!(h.call("fd_seek", &[fd.into(), 0, 3, OUT.into()]), INVAL);
    // pread / pwrite leave the position alone.
    assert_eq!(
        h.call("fd_pread", &[fd.into(), BUF.into(), 1, 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.read(BUF + 100, 4), b"1234");
    let (p, _) = h.str("AB");
    h.iovec(BUF + 16, p as u32, 2);
    assert_eq!(
        h.call(
            "fd_pwrite",
            &[fd.into(), (BUF + 16).into(), 1, 2, OUT.into()]
        ),
        SUCCESS
    );
    assert_eq!(h.call("fd_tell", &[fd.into(), OUT.into()]), SUCCESS);
    assert_eq!(h.u64(OUT), 8);
    assert_eq!(
        std::fs::read(tmp.path().join("file.txt")).unwrap(),
        b"01AB456789"
    );
    // Size, allocation, stat.
    assert_eq!(h.call("fd_filestat_set_size", &[fd.into(), 3]), SUCCESS);
    assert_eq!(h.call("fd_allocate", &[fd.into(), 10, 6]), SUCCESS);
    assert_eq!(h.call("fd_filestat_get", &[fd.into(), BUF.into()]), SUCCESS);
    assert_eq!(h.read(BUF + 16, 1), [4], "a regular file");
    assert_eq!(h.u64(BUF + 32), 16, "size");
    assert_eq!(h.call("fd_advise", &[fd.into(), 0, 0, 1]), SUCCESS);
    assert_eq!(h.call("fd_advise", &[fd.into(), 0, 0, 9]), INVAL);
    assert_eq!(h.call("fd_datasync", &[fd.into()]), SUCCESS);
    assert_eq!(h.call("fd_sync", &[fd.into()]), SUCCESS);
    // Times: mtime to exactly 5 s after the epoch.
    assert_eq!(
        h.call("fd_filestat_set_times", &[fd.into(), 0, 5_000_000_000, 4]),
        SUCCESS
    );
    assert_eq!(h.call("fd_filestat_get", &[fd.into(), BUF.into()]), SUCCESS);
    assert_eq!(h.u64(BUF + 48), 5_000_000_000);
    assert_eq!(
        h.call("fd_filestat_set_times", &[fd.into(), 0, 0, 1 | 2]),
        INVAL
    );
    // Rights can be dropped, not regained.
    assert_eq!(
        h.call(
            "fd_fdstat_set_rights",
            &[fd.into(), (1 << 1) | (1 << 2) | (1 << 5), 0]
        ),
        SUCCESS
    );
    assert_eq!(
        h.call("fd_write", &[fd.into(), (BUF + 16).into(), 1, OUT.into()]),
        NOTCAPABLE
    );
    assert_eq!(
        h.call("fd_fdstat_set_rights", &[fd.into(), ALL_RIGHTS, 0]),
        NOTCAPABLE
    );
    // Renumber onto stdin, then close.
    assert_eq!(h.call("fd_renumber", &[fd.into(), 0]), SUCCESS);
    assert_eq!(h.call("fd_tell", &[0, OUT.into()]), SUCCESS);
    assert_eq!(h.call("fd_close", &[fd.into()]), BADF);
    assert_eq!(h.call("fd_renumber", &[0, 42]), BADF);
    assert_eq!(h.call("fd_close", &[0]), SUCCESS);
}

#[test]
fn append_and_open_flags() {
    let (tmp, mut h) = with_dir(DirPerms::ReadWrite);
    let fd = h.open(3, 0, "file.txt", 0, ALL_RIGHTS, 1).unwrap();
    let (p, _) = h.str("++");
    h.iovec(BUF, p as u32, 2);
    assert_eq!(
        h.call("fd_write", &[fd.into(), BUF.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(
        std::fs::read(tmp.path().join("file.txt")).unwrap(),
        b"0123456789++"
    );
    assert_eq!(h.call("fd_fdstat_get", &[fd.into(), BUF.into()]), SUCCESS);
    assert_eq!(h.read(BUF + 2, 2), [1, 0], "APPEND");
    assert_eq!(h.call("fd_fdstat_set_flags", &[fd.into(), 0]), SUCCESS);
    assert_eq!(h.call("fd_seek", &[fd.into(), 0, 0, OUT.into()]), SUCCESS);
    h.iovec(BUF, p as u32, 2);
    assert_eq!(
        h.call("fd_write", &[fd.into(), BUF.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(
        std::fs::read(tmp.path().join("file.txt")).unwrap(),
        b"++23456789++"
    );
    assert_eq!(
        h.call("fd_fdstat_set_flags", &[fd.into(), 16]),
        58,
        "ENOTSUP: SYNC cannot change"
    );

    assert_eq!(
        h.open(3, 0, "file.txt", CREAT | EXCL, ALL_RIGHTS, 0),
        Err(EXIST)
    );
    assert_eq!(
        h.open(3, 0, "file.txt", DIRECTORY, READ_RIGHTS, 0),
        Err(NOTDIR)
    );
    assert_eq!(h.open(3, 0, "missing", 0, READ_RIGHTS, 0), Err(NOENT));
    assert_eq!(h.open(3, 0, "dir", 0, ALL_RIGHTS, 0), Err(ISDIR));
    let t = h.open(3, 0, "file.txt", TRUNC, ALL_RIGHTS, 0).unwrap();
    assert_eq!(
        std::fs::metadata(tmp.path().join("file.txt"))
            .unwrap()
            .len(),
        0
    );
    assert_eq!(h.call("fd_close", &[t.into()]), SUCCESS);
    let n = h
        .open(3, 0, "dir/new.txt", CREAT | EXCL, ALL_RIGHTS, 0)
        .unwrap();
    assert_eq!(h.call("fd_close", &[n.into()]), SUCCESS);
    assert!(tmp.path().join("dir/new.txt").is_file());
    // A directory opened without O_DIRECTORY is still a directory fd.
    let d = h.open(3, 0, "dir", 0, READ_RIGHTS | PATH_OPEN, 0).unwrap();
    assert_eq!(h.call("fd_fdstat_get", &[d.into(), BUF.into()]), SUCCESS);
    assert_eq!(h.read(BUF, 1), [3]);
    assert_eq!(
        h.open(d, 0, "new.txt", 0, READ_RIGHTS, 0).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        h.call("fd_read", &[d.into(), BUF.into(), 0, OUT.into()]),
        BADF
    );
    // A final symlink without SYMLINK_FOLLOW is ELOOP.
    std::os::unix::fs::symlink("file.txt", tmp.path().join("ln")).unwrap();
    assert_eq!(h.open(3, 0, "ln", 0, READ_RIGHTS, 0), Err(LOOP));
    assert!(h.open(3, 1, "ln", 0, READ_RIGHTS, 0).is_ok());
}

/// CREAT|TRUNC with the APPEND fdflag (C's `O_CREAT | O_TRUNC | O_APPEND`):
/// each open empties the file (or creates it), every write goes to the
/// end, and `fd_fdstat_get` reports APPEND.
#[test]
fn trunc_with_append() {
    let (tmp, mut h) = with_dir(DirPerms::ReadWrite);
    let (p, _) = h.str("ab");
    for name in ["file.txt", "new.txt"] {
        let host = tmp.path().join(name);
        for _ in 0..2 {
            let fd = h.open(3, 0, name, CREAT | TRUNC, ALL_RIGHTS, 1).unwrap();
            assert_eq!(std::fs::read(&host).unwrap(), b"", "{name} truncated");
            assert_eq!(h.call("fd_fdstat_get", &[fd.into(), BUF.into()]), SUCCESS);
            assert_eq!(h.read(BUF + 2, 2), [1, 0], "APPEND");
            for _ in 0..2 {
                h.iovec(BUF, p as u32, 2);
                assert_eq!(
                    h.call("fd_write", &[fd.into(), BUF.into(), 1, OUT.into()]),
                    SUCCESS
                );
                assert_eq!(h.call("fd_seek", &[fd.into(), 0, 0, OUT.into()]), SUCCESS);
            }
            assert_eq!(std::fs::read(&host).unwrap(), b"abab", "{name} appended");
            assert_eq!(h.call("fd_close", &[fd.into()]), SUCCESS);
        }
    }
}

#[test]
fn path_operations() {
    let (tmp, mut h) = with_dir(DirPerms::ReadWrite);
    let s = |h: &mut Harness, p: &str| h.str(p);
    let (p, l) = s(&mut h, "dir/sub");
    assert_eq!(h.call("path_create_directory", &[3, p, l]), SUCCESS);
    assert_eq!(h.call("path_create_directory", &[3, p, l]), EXIST);
    let (q, ql) = s(&mut h, "dir");
    assert_eq!(h.call("path_remove_directory", &[3, q, ql]), NOTEMPTY);
    assert_eq!(h.call("path_remove_directory", &[3, p, l]), SUCCESS);
    let (f, fl) = s(&mut h, "file.txt");
    let (g, gl) = s(&mut h, "dir/moved.txt");
    assert_eq!(h.call("path_rename", &[3, f, fl, 3, g, gl]), SUCCESS);
    assert!(tmp.path().join("dir/moved.txt").exists());
    let (k, kl) = s(&mut h, "hard.txt");
    assert_eq!(h.call("path_link", &[3, 0, g, gl, 3, k, kl]), SUCCESS);
    assert_eq!(
        h.call("path_filestat_get", &[3, 0, k, kl, BUF.into()]),
        SUCCESS
    );
    assert_eq!(h.u64(BUF + 24), 2, "nlink");
    assert_eq!(h.u64(BUF + 32), 10, "size");
    let (ln, lnl) = s(&mut h, "dir/link");
    let (t, tl) = s(&mut h, "moved.txt");
    assert_eq!(h.call("path_symlink", &[t, tl, 3, ln, lnl]), SUCCESS);
    assert_eq!(
        h.call("path_readlink", &[3, ln, lnl, BUF.into(), 64, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.read(BUF, h.u32(OUT)), b"moved.txt");
    assert_eq!(
        h.call("path_readlink", &[3, ln, lnl, BUF.into(), 4, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.u32(OUT), 4, "truncated to the buffer");
    assert_eq!(
        h.call("path_filestat_get", &[3, 0, ln, lnl, BUF.into()]),
        SUCCESS
    );
    assert_eq!(h.read(BUF + 16, 1), [7], "the link itself");
    assert_eq!(
        h.call("path_filestat_get", &[3, 1, ln, lnl, BUF.into()]),
        SUCCESS
    );
    assert_eq!(h.read(BUF + 16, 1), [4], "what it points to");
    assert_eq!(
        h.call(
            "path_filestat_set_times",
            &[3, 1, ln, lnl, 7_000_000_000, 0, 1 | 8]
        ),
        SUCCESS
    );
    assert_eq!(
        h.call("path_filestat_get", &[3, 1, ln, lnl, BUF.into()]),
        SUCCESS
    );
    assert_eq!(h.u64(BUF + 40), 7_000_000_000, "atime");
    assert_eq!(h.call("path_unlink_file", &[3, ln, lnl]), SUCCESS);
    assert_eq!(h.call("path_unlink_file", &[3, q, ql]), ISDIR);
    assert_eq!(h.call("path_unlink_file", &[3, k, kl]), SUCCESS);
    assert_eq!(h.call("path_create_directory", &[1, p, l]), NOTDIR);
    let (bad, badl) = h.alloc(&[0xff, 0xfe]);
    assert_eq!(
        h.call("path_create_directory", &[3, bad, badl]),
        25,
        "EILSEQ"
    );
}

#[test]
fn read_only_preopen_refuses_changes() {
    let (tmp, mut h) = with_dir(DirPerms::ReadOnly);
    let before = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(
        h.open(3, 0, "new.txt", CREAT, ALL_RIGHTS, 0),
        Err(NOTCAPABLE)
    );
    assert_eq!(
        h.open(3, 0, "file.txt", TRUNC, READ_RIGHTS, 0),
        Err(NOTCAPABLE)
    );
    assert_eq!(
        h.open(3, 0, "file.txt", 0, READ_RIGHTS | FD_WRITE, 0),
        Err(NOTCAPABLE)
    );
    assert_eq!(
        h.open(3, 0, "file.txt", 0, READ_RIGHTS, 1),
        Err(NOTCAPABLE),
        "APPEND"
    );
    let (p, l) = h.str("dir");
    let (f, fl) = h.str("file.txt");
    let (n, nl) = h.str("other");
    for (name, args) in [
        ("path_create_directory", vec![3, n, nl]),
        ("path_remove_directory", vec![3, p, l]),
        ("path_unlink_file", vec![3, f, fl]),
        ("path_rename", vec![3, f, fl, 3, n, nl]),
        ("path_link", vec![3, 0, f, fl, 3, n, nl]),
        ("path_symlink", vec![f, fl, 3, n, nl]),
        ("path_filestat_set_times", vec![3, 0, f, fl, 0, 0, 2 | 8]),
        ("fd_filestat_set_times", vec![3, 0, 0, 2 | 8]),
    ] {
        assert_eq!(h.call(name, &args), NOTCAPABLE, "{name}");
    }
    // Reading works, writing through the read-only fd does not (rights
    // beyond what the directory passes on are dropped, but for fd_write).
    let fd = h
        .open(3, 0, "file.txt", 0, ALL_RIGHTS & !FD_WRITE, 0)
        .unwrap();
    h.iovec(BUF, BUF + 64, 10);
    assert_eq!(
        h.call("fd_read", &[fd.into(), BUF.into(), 1, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.read(BUF + 64, 10), b"0123456789");
    assert_eq!(
        h.call("fd_write", &[fd.into(), BUF.into(), 1, OUT.into()]),
        NOTCAPABLE
    );
    assert_eq!(
        h.call("fd_pwrite", &[fd.into(), BUF.into(), 1, 0, OUT.into()]),
        NOTCAPABLE
    );
    assert_eq!(h.call("fd_filestat_set_size", &[fd.into(), 0]), NOTCAPABLE);
    assert_eq!(h.call("fd_allocate", &[fd.into(), 0, 100]), NOTCAPABLE);
    assert_eq!(h.call("fd_fdstat_get", &[fd.into(), BUF.into()]), SUCCESS);
    assert_eq!(h.u64(BUF + 8) & FD_WRITE, 0);
    let d = h.open(3, 0, "dir", DIRECTORY, READ_RIGHTS, 0).unwrap();
    assert_eq!(
        h.open(d, 0, "x", CREAT, ALL_RIGHTS, 0),
        Err(NOTCAPABLE),
        "inherited"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("file.txt")).unwrap(),
        b"0123456789"
    );
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), before);
}

/// Reads a directory the way wasi-libc does: ask from a cookie, take the
/// whole entries, continue from the last one's `d_next`.
fn read_dir(h: &mut Harness, fd: u32, buf_len: u32) -> Vec<(String, u8, u64)> {
    let mut cookie = 0u64;
    let mut out = Vec::new();
    loop {
        assert_eq!(
            h.call(
                "fd_readdir",
                &[fd.into(), BUF.into(), buf_len.into(), cookie, OUT.into()]
            ),
            SUCCESS
        );
        let used = h.u32(OUT);
        let data = h.read(BUF, used);
        let mut at = 0usize;
        let mut whole = 0;
        while at + 24 <= data.len() {
            let next = u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
            let ino = u64::from_le_bytes(data[at + 8..at + 16].try_into().unwrap());
            let namlen = u32::from_le_bytes(data[at + 16..at + 20].try_into().unwrap()) as usize;
            let ty = data[at + 20];
            if at + 24 + namlen > data.len() {
                break;
            }
            out.push((
                String::from_utf8(data[at + 24..at + 24 + namlen].to_vec()).unwrap(),
                ty,
                ino,
            ));
            cookie = next;
            at += 24 + namlen;
            whole += 1;
        }
        if used < buf_len {
            return out;
        }
        assert!(whole > 0, "buffer too small for one entry");
    }
}

#[test]
fn readdir_resumes_from_cookies() {
    let tmp = tempfile::tempdir().unwrap();
    let mut expected = vec![(".".to_string(), 3u8), ("..".to_string(), 3)];
    for i in 0..150 {
        let name = format!("entry_{i:03}_{}", "x".repeat(i % 7));
        std::fs::write(tmp.path().join(&name), "").unwrap();
        expected.push((name, 4));
    }
    std::fs::create_dir(tmp.path().join("zdir")).unwrap();
    expected.push(("zdir".to_string(), 3));
    std::os::unix::fs::symlink("nowhere", tmp.path().join("zlink")).unwrap();
    expected.push(("zlink".to_string(), 7));
    let mut h = Harness::new(
        WasiCtxBuilder::new()
            .preopened_dir(tmp.path(), ".", DirPerms::ReadOnly)
            .unwrap(),
    );
    let big = read_dir(&mut h, 3, 8192);
    assert_eq!(
        big.iter()
            .map(|(n, t, _)| (n.clone(), *t))
            .collect::<Vec<_>>(),
        expected
    );
    for buf_len in [40, 41, 57, 64, 100, 333] {
        let small = read_dir(&mut h, 3, buf_len);
        assert_eq!(small, big, "buffer of {buf_len} bytes");
    }
    // The inode numbers are real.
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(tmp.path().join("zdir")).unwrap().ino();
    assert!(big.iter().any(|(n, _, i)| n == "zdir" && *i == ino));
    // A cookie past the end gives nothing; a file is not a directory.
    assert_eq!(
        h.call("fd_readdir", &[3, BUF.into(), 100, 1000, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.u32(OUT), 0);
    let f = h
        .open(3, 0, "zdir/../entry_000_", 0, READ_RIGHTS, 0)
        .unwrap();
    assert_eq!(
        h.call("fd_readdir", &[f.into(), BUF.into(), 100, 0, OUT.into()]),
        NOTDIR
    );
}

fn clock_sub(h: &mut Harness, at: u32, userdata: u64, clock: u32, timeout: u64, flags: u16) {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = 0;
    b[16..20].copy_from_slice(&clock.to_le_bytes());
    b[24..32].copy_from_slice(&timeout.to_le_bytes());
    b[40..42].copy_from_slice(&flags.to_le_bytes());
    h.write(at, &b);
}

fn fd_sub(h: &mut Harness, at: u32, userdata: u64, kind: u8, fd: u32) {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = kind;
    b[16..20].copy_from_slice(&fd.to_le_bytes());
    h.write(at, &b);
}

#[test]
fn poll_oneoff_clock_sleeps() {
    let mut h = Harness::new(&mut WasiCtxBuilder::new());
    let start = Instant::now();
    clock_sub(&mut h, BUF, 0x1234, 1, 60_000_000, 0);
    assert_eq!(
        h.call(
            "poll_oneoff",
            &[BUF.into(), (BUF + 512).into(), 1, OUT.into()]
        ),
        SUCCESS
    );
    let slept = start.elapsed();
    assert!(slept >= Duration::from_millis(60), "{slept:?}");
    assert!(slept < Duration::from_secs(2), "{slept:?}");
    assert_eq!(h.u32(OUT), 1);
    assert_eq!(h.u64(BUF + 512), 0x1234);
    assert_eq!(h.read(BUF + 520, 3), [0, 0, 0], "no error, clock event");

    // Absolute monotonic time, 40 ms from now.
    assert_eq!(h.call("clock_time_get", &[1, 0, OUT2.into()]), SUCCESS);
    let now = h.u64(OUT2);
    let start = Instant::now();
    clock_sub(&mut h, BUF, 7, 1, now + 40_000_000, 1);
    assert_eq!(
        h.call(
            "poll_oneoff",
            &[BUF.into(), (BUF + 512).into(), 1, OUT.into()]
        ),
        SUCCESS
    );
    assert!(
        start.elapsed() >= Duration::from_millis(35),
        "{:?}",
        start.elapsed()
    );
    // Absolute real time in the past: at once.
    clock_sub(&mut h, BUF, 8, 0, 1, 1);
    let start = Instant::now();
    assert_eq!(
        h.call(
            "poll_oneoff",
            &[BUF.into(), (BUF + 512).into(), 1, OUT.into()]
        ),
        SUCCESS
    );
    assert!(start.elapsed() < Duration::from_millis(500));
    assert_eq!(
        h.call(
            "poll_oneoff",
            &[BUF.into(), (BUF + 512).into(), 0, OUT.into()]
        ),
        INVAL
    );
}

#[test]
fn poll_oneoff_ready_fds_win_over_clocks() {
    let (_t, mut h) = with_dir(DirPerms::ReadWrite);
    let fd = h.open(3, 0, "file.txt", 0, READ_RIGHTS | POLL, 0).unwrap();
    clock_sub(&mut h, BUF, 1, 1, 10_000_000_000, 0);
    fd_sub(&mut h, BUF + 48, 2, 1, fd);
    fd_sub(&mut h, BUF + 96, 3, 2, 1);
    fd_sub(&mut h, BUF + 144, 4, 1, 77);
    let start = Instant::now();
    assert_eq!(
        h.call(
            "poll_oneoff",
            &[BUF.into(), (BUF + 512).into(), 4, OUT.into()]
        ),
        SUCCESS
    );
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(h.u32(OUT), 3);
    let ev = |h: &Harness, i: u32| {
        (
            h.u64(BUF + 512 + 32 * i),
            h.read(BUF + 520 + 32 * i, 3),
            h.u64(BUF + 528 + 32 * i),
        )
    };
    assert_eq!(ev(&h, 0), (2, vec![0, 0, 1], 10), "10 bytes to read");
    assert_eq!(ev(&h, 1).0, 3);
    assert_eq!(ev(&h, 2), (4, vec![BADF as u8, 0, 1], 0));
}

#[test]
fn proc_exit_raise_yield_random() {
    let mut h = Harness::new(&mut WasiCtxBuilder::new());
    let err = h.try_call("proc_exit", &[42]).unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(42)));
    let err = h
        .try_call("proc_exit", &[(-1i32) as u32 as u64])
        .unwrap_err();
    assert_eq!(err.downcast_ref::<I32Exit>(), Some(&I32Exit(-1)));
    assert_eq!(h.call("proc_raise", &[2]), NOSYS);
    assert_eq!(h.call("sched_yield", &[]), SUCCESS);
    assert_eq!(h.call("random_get", &[BUF.into(), 64]), SUCCESS);
    let a = h.read(BUF, 64);
    assert_eq!(h.call("random_get", &[BUF.into(), 64]), SUCCESS);
    assert_ne!(a, h.read(BUF, 64));
}

#[test]
fn clocks() {
    let mut h = Harness::new(&mut WasiCtxBuilder::new());
    for id in 0..4 {
        assert_eq!(
            h.call("clock_res_get", &[id, OUT.into()]),
            SUCCESS,
            "clock {id}"
        );
        assert!(h.u64(OUT) > 0);
        assert_eq!(
            h.call("clock_time_get", &[id, 0, OUT.into()]),
            SUCCESS,
            "clock {id}"
        );
    }
    assert_eq!(h.call("clock_time_get", &[4, 0, OUT.into()]), INVAL);
    assert_eq!(h.call("clock_time_get", &[0, 0, OUT.into()]), SUCCESS);
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(h.u64(OUT).abs_diff(wall) < 5_000_000_000);
    assert_eq!(h.call("clock_time_get", &[1, 0, OUT.into()]), SUCCESS);
    let a = h.u64(OUT);
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(h.call("clock_time_get", &[1, 0, OUT.into()]), SUCCESS);
    assert!(h.u64(OUT) >= a + 2_000_000);
}

#[test]
fn bad_pointers_are_efault() {
    let (_t, mut h) = with_dir(DirPerms::ReadWrite);
    let end = u64::from(MEMORY_SIZE);
    assert_eq!(h.call("args_sizes_get", &[end, OUT.into()]), FAULT);
    assert_eq!(h.call("args_sizes_get", &[end - 2, OUT.into()]), FAULT);
    assert_eq!(h.call("clock_time_get", &[0, 0, end - 4]), FAULT);
    assert_eq!(h.call("random_get", &[end - 8, 16]), FAULT);
    assert_eq!(h.call("fd_fdstat_get", &[1, end - 8]), FAULT);
    assert_eq!(h.call("fd_filestat_get", &[3, u32::MAX.into()]), FAULT);
    // An iovec list past the end, and an iovec whose buffer is.
    assert_eq!(h.call("fd_write", &[1, end - 4, 1, OUT.into()]), FAULT);
    h.iovec(BUF, MEMORY_SIZE - 2, 8);
    assert_eq!(h.call("fd_write", &[1, BUF.into(), 1, OUT.into()]), FAULT);
    assert_eq!(h.call("fd_read", &[0, BUF.into(), 1, OUT.into()]), FAULT);
    assert_eq!(
        h.call("fd_write", &[1, BUF.into(), u32::MAX.into(), OUT.into()]),
        FAULT
    );
    // Paths and results.
    assert_eq!(
        h.call("path_open", &[3, 0, end - 2, 8, 0, 0, 0, 0, OUT.into()]),
        FAULT
    );
    let (p, l) = h.str("file.txt");
    assert_eq!(
        h.call("path_open", &[3, 0, p, l, 0, READ_RIGHTS, 0, 0, end]),
        FAULT
    );
    assert_eq!(h.call("path_filestat_get", &[3, 0, p, l, end - 32]), FAULT);
    assert_eq!(
        h.call("fd_readdir", &[3, end - 8, 64, 0, OUT.into()]),
        FAULT
    );
    assert_eq!(h.call("fd_prestat_dir_name", &[3, end - 2, 100]), FAULT);
    assert_eq!(
        h.call("poll_oneoff", &[BUF.into(), end - 16, 1, OUT.into()]),
        FAULT
    );
    assert_eq!(
        h.call("environ_get", &[end, end]),
        SUCCESS,
        "nothing to write"
    );
    // Nothing was opened by the failed path_open.
    assert_eq!(h.call("fd_close", &[4]), BADF);
}

#[test]
fn sockets() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tmp, _) = with_dir(DirPerms::ReadOnly);
    let mut builder = WasiCtxBuilder::new();
    builder.preopened_socket(listener).unwrap();
    builder
        .preopened_dir(tmp.path(), "d", DirPerms::ReadOnly)
        .unwrap();
    let mut h = Harness::new(&mut builder);
    // The directory comes first, the socket after it.
    assert_eq!(h.call("fd_prestat_get", &[3, OUT.into()]), SUCCESS);
    assert_eq!(h.call("fd_prestat_get", &[4, OUT.into()]), BADF);
    assert_eq!(h.call("fd_fdstat_get", &[4, BUF.into()]), SUCCESS);
    assert_eq!(h.read(BUF, 1), [6], "socket_stream");

    let client = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"ping").unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).unwrap();
        reply
    });
    // Wait on the listener for a connection with a real poll.
    fd_sub(&mut h, BUF, 9, 1, 4);
    assert_eq!(
        h.call(
            "poll_oneoff",
            &[BUF.into(), (BUF + 512).into(), 1, OUT.into()]
        ),
        SUCCESS
    );
    assert_eq!((h.u32(OUT), h.u64(BUF + 512)), (1, 9));
    assert_eq!(h.call("sock_accept", &[4, 0, OUT.into()]), SUCCESS);
    let conn = h.u32(OUT);
    assert_eq!(conn, 5);
    h.iovec(BUF, BUF + 100, 2);
    h.iovec(BUF + 8, BUF + 200, 2);
    assert_eq!(
        h.call(
            "sock_recv",
            &[conn.into(), BUF.into(), 2, 2, OUT.into(), OUT2.into()]
        ),
        SUCCESS
    );
    assert_eq!(h.u32(OUT), 4, "WAITALL fills both buffers");
    assert_eq!(
        [h.read(BUF + 100, 2), h.read(BUF + 200, 2)].concat(),
        b"ping"
    );
    let (p, l) = h.str("pong");
    h.iovec(BUF, p as u32, l as u32);
    assert_eq!(
        h.call("sock_send", &[conn.into(), BUF.into(), 1, 0, OUT.into()]),
        SUCCESS
    );
    assert_eq!(h.u32(OUT), 4);
    assert_eq!(
        h.call("sock_send", &[conn.into(), BUF.into(), 1, 1, OUT.into()]),
        INVAL
    );
    assert_eq!(h.call("sock_shutdown", &[conn.into(), 3]), SUCCESS);
    assert_eq!(h.call("sock_shutdown", &[3, 3]), 57, "ENOTSOCK");
    assert_eq!(client.join().unwrap(), b"pong");
    assert_eq!(h.call("fd_close", &[conn.into()]), SUCCESS);
    // Non-blocking accept with nobody connecting.
    assert_eq!(h.call("fd_fdstat_set_flags", &[4, 4]), SUCCESS);
    assert_eq!(h.call("sock_accept", &[4, 0, OUT.into()]), 6, "EAGAIN");
}

#[test]
fn missing_memory_export_is_efault() {
    use kiln::{Engine, Linker, Module, Store};
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $f (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "sched_yield" (func $y (result i32)))
            (func (export "f") (result i32) (call $f (i32.const 0) (i32.const 4)))
            (func (export "y") (result i32) (call $y)))"#,
    )
    .unwrap();
    let mut linker: Linker<kiln_wasi::WasiCtx> = Linker::new(&engine);
    kiln_wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let mut store = Store::new(&engine, WasiCtxBuilder::new().build());
    let i = linker.instantiate(&mut store, &module).unwrap();
    let f = i.get_typed_func::<(), i32>(&mut store, "f").unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), FAULT);
    let y = i.get_typed_func::<(), i32>(&mut store, "y").unwrap();
    assert_eq!(y.call(&mut store, ()).unwrap(), SUCCESS);
}
