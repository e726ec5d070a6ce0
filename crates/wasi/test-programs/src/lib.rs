//! Helpers shared by the test programs: reporting results in a stable text
//! form, and (on WASI) thin wrappers over the raw preview 1 calls.

use std::fmt::Debug;

/// Unwraps `result`, or prints `what` and the error to stderr and exits
/// with status 1, so a failing step names itself in the test's output.
pub fn check<T, E: Debug>(what: &str, result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => {
            eprintln!("{what}: {err:?}");
            std::process::exit(1);
        }
    }
}

/// `ok`, or the [`std::io::ErrorKind`] of an error and its OS error code
/// (on WASI, the preview 1 errno), for printing.
pub fn io_outcome<T>(result: std::io::Result<T>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(err) => match err.raw_os_error() {
            Some(code) => format!("{:?} (errno {code})", err.kind()),
            None => format!("{:?}", err.kind()),
        },
    }
}

/// Raw WASI preview 1 helpers (only built for `wasm32-wasip1`).
#[cfg(target_os = "wasi")]
pub mod raw {
    pub use wasi::*;

    /// Every right, for opening files and directories.
    pub const ALL_RIGHTS: Rights = u64::MAX >> 34;

    /// `ok` or the errno's name (`BADF`, `NOENT`, ...), for printing.
    pub fn outcome<T>(result: Result<T, Errno>) -> String {
        match result {
            Ok(_) => "ok".to_string(),
            Err(err) => err.name().to_string(),
        }
    }

    /// Unwraps a raw call's result or exits 1 naming the step and errno.
    pub fn must<T>(what: &str, result: Result<T, Errno>) -> T {
        match result {
            Ok(value) => value,
            Err(err) => {
                eprintln!("{what}: {}", err.name());
                std::process::exit(1);
            }
        }
    }

    /// The preopened directories, as (fd, guest name), found by asking
    /// `fd_prestat_get` for fds 3, 4, ... until it reports `BADF`.
    pub fn preopens() -> Vec<(Fd, String)> {
        let mut out = Vec::new();
        for fd in 3.. {
            // SAFETY: plain WASI calls on integers and a buffer we own.
            let prestat = match unsafe { fd_prestat_get(fd) } {
                Ok(prestat) => prestat,
                Err(ERRNO_BADF) => break,
                Err(err) => panic!("fd_prestat_get({fd}): {}", err.name()),
            };
            if prestat.tag != PREOPENTYPE_DIR.raw() {
                continue;
            }
            // SAFETY: the tag says `dir` is the active field.
            let len = unsafe { prestat.u.dir.pr_name_len };
            let mut name = vec![0u8; len];
            // SAFETY: `name` has room for `len` bytes.
            must("fd_prestat_dir_name", unsafe {
                fd_prestat_dir_name(fd, name.as_mut_ptr(), len)
            });
            out.push((fd, String::from_utf8_lossy(&name).into_owned()));
        }
        out
    }

    /// The fd of the preopened directory named `name`; exits 1 if none.
    pub fn preopen(name: &str) -> Fd {
        match preopens().into_iter().find(|(_, n)| n == name) {
            Some((fd, _)) => fd,
            None => {
                eprintln!("no preopened directory named {name}");
                std::process::exit(1);
            }
        }
    }

    /// `path_open` relative to `dir`, without lookup flags, asking for
    /// every right `dir` can pass on (as wasi-libc does), but no write
    /// rights when opening a directory.
    pub fn open(dir: Fd, path: &str, oflags: Oflags, fdflags: Fdflags) -> Result<Fd, Errno> {
        // SAFETY: WASI calls with a valid fd and string.
        unsafe {
            let inheriting = fd_fdstat_get(dir)?.fs_rights_inheriting;
            let base = if oflags & OFLAGS_DIRECTORY != 0 {
                inheriting
                    & !(RIGHTS_FD_WRITE
                        | RIGHTS_FD_DATASYNC
                        | RIGHTS_FD_ALLOCATE
                        | RIGHTS_FD_FILESTAT_SET_SIZE)
            } else {
                inheriting
            };
            path_open(dir, 0, path, oflags, base, inheriting, fdflags)
        }
    }

    /// Writes all of `data` at the current position with `fd_write`.
    pub fn write(fd: Fd, data: &[u8]) -> Result<usize, Errno> {
        let iov = Ciovec {
            buf: data.as_ptr(),
            buf_len: data.len(),
        };
        // SAFETY: `iov` points at `data`, alive for the call.
        unsafe { fd_write(fd, &[iov]) }
    }

    /// Reads up to `max` bytes at the current position with `fd_read`.
    pub fn read(fd: Fd, max: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; max];
        let iov = Iovec {
            buf: buf.as_mut_ptr(),
            buf_len: buf.len(),
        };
        // SAFETY: `iov` points at `buf`, alive for the call.
        let n = unsafe { fd_read(fd, &[iov]) }?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Reads up to `max` bytes at `offset` with `fd_pread`.
    pub fn pread(fd: Fd, max: usize, offset: u64) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; max];
        let iov = Iovec {
            buf: buf.as_mut_ptr(),
            buf_len: buf.len(),
        };
        // SAFETY: `iov` points at `buf`, alive for the call.
        let n = unsafe { fd_pread(fd, &[iov], offset) }?;
        buf.truncate(n);
        Ok(buf)
    }

    /// `path_filestat_get` following symlinks when `follow`.
    pub fn stat(dir: Fd, path: &str, follow: bool) -> Result<Filestat, Errno> {
        let flags = if follow {
            LOOKUPFLAGS_SYMLINK_FOLLOW
        } else {
            0
        };
        // SAFETY: a WASI call with a valid string.
        unsafe { path_filestat_get(dir, flags, path) }
    }

    /// A file type's short name.
    pub fn filetype_name(ty: Filetype) -> &'static str {
        match ty {
            FILETYPE_DIRECTORY => "dir",
            FILETYPE_REGULAR_FILE => "file",
            FILETYPE_SYMBOLIC_LINK => "symlink",
            FILETYPE_CHARACTER_DEVICE => "chardev",
            FILETYPE_SOCKET_STREAM => "socket-stream",
            FILETYPE_SOCKET_DGRAM => "socket-dgram",
            FILETYPE_BLOCK_DEVICE => "blockdev",
            _ => "unknown",
        }
    }
}
