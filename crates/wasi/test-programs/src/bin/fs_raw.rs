//! Raw preview 1 file calls where `std` has no wrapper (or hides the call):
//! prestat, path_open flags, fd_read/fd_write with several buffers,
//! fd_seek/fd_tell, fd_pread/fd_pwrite, fd_filestat_*, fd_advise,
//! fd_allocate, fd_datasync/fd_sync, fd_fdstat_get/set_flags/set_rights,
//! fd_filestat_set_times, path_filestat_set_times, fd_renumber, path_link,
//! path_symlink/path_readlink, path_rename, path_unlink_file,
//! path_create_directory/path_remove_directory, fd_close, and sandbox
//! escapes. Works in the preopened directory `/sandbox`.

#[cfg(target_os = "wasi")]
fn main() {
    use kiln_wasi_test_programs::raw::*;

    for (fd, name) in preopens() {
        println!("preopen {fd}: {name}");
    }
    let dir = preopen("/sandbox");

    // SAFETY (all `unsafe` below): raw WASI calls with valid fds, strings
    // and buffers owned by this function.
    unsafe {
        println!("mkdir raw: {}", outcome(path_create_directory(dir, "raw")));
        println!(
            "mkdir raw again: {}",
            outcome(path_create_directory(dir, "raw"))
        );

        let fd = must(
            "open f",
            open(dir, "raw/f.txt", OFLAGS_CREAT | OFLAGS_TRUNC, 0),
        );
        let parts = [b"hello ".as_slice(), b"world".as_slice()];
        let iovs: Vec<Ciovec> = parts
            .iter()
            .map(|p| Ciovec {
                buf: p.as_ptr(),
                buf_len: p.len(),
            })
            .collect();
        println!(
            "fd_write 2 iovecs: {}",
            must("fd_write", fd_write(fd, &iovs))
        );
        println!("fd_tell: {}", must("fd_tell", fd_tell(fd)));
        println!(
            "fd_seek set 0: {}",
            must("seek", fd_seek(fd, 0, WHENCE_SET))
        );
        let (mut a, mut b) = ([0u8; 5], [0u8; 16]);
        let iovs = [
            Iovec {
                buf: a.as_mut_ptr(),
                buf_len: a.len(),
            },
            Iovec {
                buf: b.as_mut_ptr(),
                buf_len: b.len(),
            },
        ];
        let n = must("fd_read", fd_read(fd, &iovs));
        println!(
            "fd_read 2 iovecs: {n} bytes {:?} + {:?}",
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b[..n - 5])
        );
        println!(
            "fd_read at end: {} bytes",
            must("read eof", read(fd, 8)).len()
        );
        println!(
            "fd_seek end -5: {}",
            must("seek", fd_seek(fd, -5, WHENCE_END))
        );
        println!(
            "fd_seek cur +2: {}",
            must("seek", fd_seek(fd, 2, WHENCE_CUR))
        );
        println!(
            "fd_seek before start: {}",
            outcome(fd_seek(fd, -100, WHENCE_CUR))
        );
        let data = b"WORLD";
        let iov = Ciovec {
            buf: data.as_ptr(),
            buf_len: data.len(),
        };
        println!(
            "fd_pwrite at 6: {}",
            must("fd_pwrite", fd_pwrite(fd, &[iov], 6))
        );
        println!("fd_tell after pwrite: {}", must("fd_tell", fd_tell(fd)));
        let got = must("fd_pread", pread(fd, 64, 0));
        println!("fd_pread at 0: {:?}", String::from_utf8_lossy(&got));
        let got = must("fd_pread", pread(fd, 3, 4));
        println!("fd_pread 3 at 4: {:?}", String::from_utf8_lossy(&got));
        println!("fd_tell after pread: {}", must("fd_tell", fd_tell(fd)));

        let st = must("fd_filestat_get", fd_filestat_get(fd));
        println!(
            "fd_filestat_get: {} size {} nlink {}",
            filetype_name(st.filetype),
            st.size,
            st.nlink
        );
        println!(
            "fd_filestat_set_size 20: {}",
            outcome(fd_filestat_set_size(fd, 20))
        );
        let st = must("fd_filestat_get", fd_filestat_get(fd));
        let tail = must("fd_pread", pread(fd, 64, 8));
        println!(
            "  size {} tail {:?}",
            st.size,
            String::from_utf8_lossy(&tail)
        );
        println!(
            "fd_filestat_set_size 11: {}",
            outcome(fd_filestat_set_size(fd, 11))
        );
        println!(
            "fd_advise sequential: {}",
            outcome(fd_advise(fd, 0, 11, ADVICE_SEQUENTIAL))
        );
        println!(
            "fd_advise dontneed: {}",
            outcome(fd_advise(fd, 0, 0, ADVICE_DONTNEED))
        );
        println!("fd_allocate 0+4096: {}", outcome(fd_allocate(fd, 0, 4096)));
        let st = must("fd_filestat_get", fd_filestat_get(fd));
        println!("  size after fd_allocate: {}", st.size);
        must("fd_filestat_set_size", fd_filestat_set_size(fd, 11));
        println!("fd_datasync: {}", outcome(fd_datasync(fd)));
        println!("fd_sync: {}", outcome(fd_sync(fd)));

        let fdst = must("fd_fdstat_get", fd_fdstat_get(fd));
        println!(
            "fd_fdstat_get: {} flags {} can write {}",
            filetype_name(fdst.fs_filetype),
            fdst.fs_flags,
            fdst.fs_rights_base & RIGHTS_FD_WRITE != 0
        );
        println!(
            "fd_fdstat_set_flags append: {}",
            outcome(fd_fdstat_set_flags(fd, FDFLAGS_APPEND))
        );
        let fdst = must("fd_fdstat_get", fd_fdstat_get(fd));
        println!("  flags now {}", fdst.fs_flags);
        must("seek", fd_seek(fd, 0, WHENCE_SET));
        must("append", write(fd, b"!"));
        let got = must("fd_pread", pread(fd, 64, 0));
        println!("  after append write: {:?}", String::from_utf8_lossy(&got));
        must("set flags", fd_fdstat_set_flags(fd, 0));

        // Times: explicit values, then "now".
        let (atim, mtim) = (1_600_000_000_000_000_000u64, 1_700_000_000_000_000_000u64);
        println!(
            "fd_filestat_set_times: {}",
            outcome(fd_filestat_set_times(
                fd,
                atim,
                mtim,
                FSTFLAGS_ATIM | FSTFLAGS_MTIM
            ))
        );
        let st = must("fd_filestat_get", fd_filestat_get(fd));
        println!("  atim ok {} mtim ok {}", st.atim == atim, st.mtim == mtim);
        println!(
            "path_filestat_set_times mtim: {}",
            outcome(path_filestat_set_times(
                dir,
                LOOKUPFLAGS_SYMLINK_FOLLOW,
                "raw/f.txt",
                0,
                1_500_000_000_000_000_000,
                FSTFLAGS_MTIM
            ))
        );
        let st = must("stat", stat(dir, "raw/f.txt", true));
        println!(
            "  atim kept {} mtim ok {}",
            st.atim == atim,
            st.mtim == 1_500_000_000_000_000_000
        );
        let now = must("clock", clock_time_get(CLOCKID_REALTIME, 1));
        println!(
            "path_filestat_set_times mtim now: {}",
            outcome(path_filestat_set_times(
                dir,
                0,
                "raw/f.txt",
                0,
                0,
                FSTFLAGS_MTIM_NOW
            ))
        );
        let st = must("stat", stat(dir, "raw/f.txt", true));
        println!(
            "  mtim within 60 s of now: {}",
            st.mtim.abs_diff(now) < 60_000_000_000
        );
        println!(
            "fd_filestat_set_times both atim flags: {}",
            outcome(fd_filestat_set_times(
                fd,
                0,
                0,
                FSTFLAGS_ATIM | FSTFLAGS_ATIM_NOW
            ))
        );

        // Rights can only shrink: drop FD_WRITE, then writing is refused.
        let fdst = must("fd_fdstat_get", fd_fdstat_get(fd));
        println!(
            "fd_fdstat_set_rights drop write: {}",
            outcome(fd_fdstat_set_rights(
                fd,
                fdst.fs_rights_base & !RIGHTS_FD_WRITE,
                fdst.fs_rights_inheriting
            ))
        );
        let fdst = must("fd_fdstat_get", fd_fdstat_get(fd));
        println!("  can write {}", fdst.fs_rights_base & RIGHTS_FD_WRITE != 0);
        println!("  fd_write now: {}", outcome(write(fd, b"x")));
        println!(
            "fd_fdstat_set_rights grow back: {}",
            outcome(fd_fdstat_set_rights(fd, ALL_RIGHTS, ALL_RIGHTS))
        );

        // fd_renumber: `fd` replaces `other`, and `fd` is closed.
        let other = must("open g", open(dir, "raw/g.txt", OFLAGS_CREAT, 0));
        must("write g", write(other, b"second file"));
        println!("fd_renumber: {}", outcome(fd_renumber(fd, other)));
        let got = must("fd_pread", pread(other, 64, 0));
        println!("  renumbered fd reads {:?}", String::from_utf8_lossy(&got));
        println!("  old fd: {}", outcome(fd_fdstat_get(fd)));
        println!(
            "fd_renumber from closed fd: {}",
            outcome(fd_renumber(fd, other))
        );
        println!("fd_close: {}", outcome(fd_close(other)));
        println!("fd_close again: {}", outcome(fd_close(other)));
        println!("fd_write closed: {}", outcome(write(other, b"x")));

        // Links, symlinks, renames, removal.
        println!(
            "path_link: {}",
            outcome(path_link(dir, 0, "raw/f.txt", dir, "raw/hard.txt"))
        );
        let st = must("stat", stat(dir, "raw/hard.txt", false));
        println!("  hard link nlink {} size {}", st.nlink, st.size);
        println!(
            "path_link onto existing: {}",
            outcome(path_link(dir, 0, "raw/f.txt", dir, "raw/g.txt"))
        );
        println!(
            "path_symlink: {}",
            outcome(path_symlink("f.txt", dir, "raw/sym"))
        );
        let mut buf = [0u8; 64];
        let n = must(
            "readlink",
            path_readlink(dir, "raw/sym", buf.as_mut_ptr(), buf.len()),
        );
        println!("path_readlink: {:?}", String::from_utf8_lossy(&buf[..n]));
        println!(
            "path_readlink on a file: {}",
            outcome(path_readlink(dir, "raw/f.txt", buf.as_mut_ptr(), buf.len()))
        );
        let st = must("stat", stat(dir, "raw/sym", false));
        println!("  nofollow: {}", filetype_name(st.filetype));
        let st = must("stat", stat(dir, "raw/sym", true));
        println!("  follow: {} size {}", filetype_name(st.filetype), st.size);
        println!(
            "  open without SYMLINK_FOLLOW: {}",
            outcome(open(dir, "raw/sym", 0, 0))
        );
        let rights = must("fdstat", fd_fdstat_get(dir)).fs_rights_inheriting;
        let via = must(
            "open sym",
            path_open(
                dir,
                LOOKUPFLAGS_SYMLINK_FOLLOW,
                "raw/sym",
                0,
                rights,
                rights,
                0,
            ),
        );
        let got = must("read sym", read(via, 64));
        println!(
            "  read through symlink: {:?}",
            String::from_utf8_lossy(&got)
        );
        must("close", fd_close(via));
        println!(
            "path_rename: {}",
            outcome(path_rename(dir, "raw/hard.txt", dir, "raw/moved.txt"))
        );
        println!("  old name: {}", outcome(stat(dir, "raw/hard.txt", false)));
        println!("  new name: {}", outcome(stat(dir, "raw/moved.txt", false)));
        println!(
            "path_rename missing: {}",
            outcome(path_rename(dir, "raw/nope", dir, "raw/x"))
        );
        println!(
            "path_remove_directory non-empty: {}",
            outcome(path_remove_directory(dir, "raw"))
        );
        println!(
            "path_remove_directory on file: {}",
            outcome(path_remove_directory(dir, "raw/f.txt"))
        );
        println!(
            "path_unlink_file on dir: {}",
            outcome(path_unlink_file(dir, "raw"))
        );
        for name in ["raw/moved.txt", "raw/sym", "raw/g.txt"] {
            println!(
                "path_unlink_file {name}: {}",
                outcome(path_unlink_file(dir, name))
            );
        }
        println!(
            "path_unlink_file missing: {}",
            outcome(path_unlink_file(dir, "raw/g.txt"))
        );

        // path_open flags.
        println!(
            "open excl existing: {}",
            outcome(open(dir, "raw/f.txt", OFLAGS_CREAT | OFLAGS_EXCL, 0))
        );
        println!(
            "open directory flag on file: {}",
            outcome(open(dir, "raw/f.txt", OFLAGS_DIRECTORY, 0))
        );
        println!("open missing: {}", outcome(open(dir, "raw/missing", 0, 0)));
        let t = must("open trunc", open(dir, "raw/f.txt", OFLAGS_TRUNC, 0));
        let st = must("fd_filestat_get", fd_filestat_get(t));
        println!("open trunc: size {}", st.size);
        must("close", fd_close(t));
        let d = must("open dir", open(dir, "raw", OFLAGS_DIRECTORY, 0));
        let fdst = must("fd_fdstat_get", fd_fdstat_get(d));
        println!("open subdir: {}", filetype_name(fdst.fs_filetype));
        println!(
            "  path_filestat_get relative to it: {}",
            outcome(stat(d, "f.txt", false))
        );
        println!("  fd_read on a dir: {}", outcome(read(d, 8)));
        must("close", fd_close(d));

        // C's `open(path, O_CREAT | O_TRUNC | O_WRONLY | O_APPEND)`, as
        // wasi-libc passes it on: oflags CREAT|TRUNC, fdflags APPEND, and
        // the directory's rights less the read ones. Each open empties the
        // file; every write goes to the end, wherever the fd was seeked.
        let inheriting = must("fdstat", fd_fdstat_get(dir)).fs_rights_inheriting;
        let wronly = inheriting & !(RIGHTS_FD_READ | RIGHTS_FD_READDIR);
        for (round, text) in [(1, "first open\n"), (2, "second\n")] {
            let a = path_open(
                dir,
                0,
                "raw/log.txt",
                OFLAGS_CREAT | OFLAGS_TRUNC,
                wronly,
                inheriting,
                FDFLAGS_APPEND,
            );
            println!("open creat|trunc + append #{round}: {}", outcome(a));
            let a = must("open creat|trunc + append", a);
            let st = must("fd_filestat_get", fd_filestat_get(a));
            println!("  size after open: {}", st.size);
            let fdst = must("fd_fdstat_get", fd_fdstat_get(a));
            println!(
                "  fd_fdstat_get: flags {} can read {} can write {}",
                fdst.fs_flags,
                fdst.fs_rights_base & RIGHTS_FD_READ != 0,
                fdst.fs_rights_base & RIGHTS_FD_WRITE != 0
            );
            must("write", write(a, text.as_bytes()));
            must("seek", fd_seek(a, 0, WHENCE_SET));
            must("write", write(a, b"!"));
            println!("  fd_tell after write at 0: {}", must("tell", fd_tell(a)));
            if round == 2 {
                // Turning APPEND off makes writes land where the fd is.
                println!(
                    "  fd_fdstat_set_flags 0: {}",
                    outcome(fd_fdstat_set_flags(a, 0))
                );
                let fdst = must("fd_fdstat_get", fd_fdstat_get(a));
                println!("  flags now {}", fdst.fs_flags);
                must("seek", fd_seek(a, 0, WHENCE_SET));
                must("write", write(a, b"S"));
            }
            must("close", fd_close(a));
            let r = must("open log", open(dir, "raw/log.txt", 0, 0));
            let got = must("read log", read(r, 64));
            println!("  file holds {:?}", String::from_utf8_lossy(&got));
            must("close", fd_close(r));
        }
        println!(
            "path_unlink_file raw/log.txt: {}",
            outcome(path_unlink_file(dir, "raw/log.txt"))
        );

        // Nothing outside the preopen is reachable.
        println!("escape ..: {}", outcome(open(dir, "../outside", 0, 0)));
        println!(
            "escape raw/../..: {}",
            outcome(stat(dir, "raw/../../outside", false))
        );
        println!(
            "escape absolute: {}",
            outcome(open(dir, "/etc/passwd", 0, 0))
        );
        // An escaping symlink is refused when made, or else when followed.
        match path_symlink("../..", dir, "up") {
            Ok(()) => {
                println!(
                    "escape through symlink: {}",
                    outcome(stat(dir, "up/etc", true))
                );
                must("unlink up", path_unlink_file(dir, "up"));
            }
            Err(err) => println!("escaping symlink refused: {}", err.name()),
        }

        println!(
            "path_unlink_file f.txt: {}",
            outcome(path_unlink_file(dir, "raw/f.txt"))
        );
        println!(
            "path_remove_directory: {}",
            outcome(path_remove_directory(dir, "raw"))
        );

        println!("done");
    }
}

#[cfg(not(target_os = "wasi"))]
fn main() {
    eprintln!("fs_raw only runs on wasm32-wasip1");
    std::process::exit(2);
}
