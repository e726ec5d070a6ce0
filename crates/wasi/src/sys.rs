//! Host operations `cap-std` does not offer, done through `rustix` on Unix.
//! Elsewhere they fall back to `ENOTSUP` or to doing nothing, as noted.

use crate::errno::Errno;
use crate::types::{Filestat, filetype};
use cap_fs_ext::SystemTimeSpec;

/// Converts a time in seconds and nanoseconds since the epoch (negative
/// times become 0): what Unix `stat` gives.
#[cfg(unix)]
pub(crate) fn epoch_nanos(secs: i64, nsecs: i64) -> u64 {
    if secs < 0 {
        return 0;
    }
    (secs as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsecs.max(0) as u64)
}

/// The `filestat` of a cap-std metadata record.
pub(crate) fn filestat_of(m: &cap_std::fs::Metadata) -> Filestat {
    #[cfg(unix)]
    {
        use cap_std::fs::MetadataExt;
        Filestat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: filetype_of(m.file_type()),
            nlink: m.nlink(),
            size: m.len(),
            atim: epoch_nanos(m.atime(), m.atime_nsec()),
            mtim: epoch_nanos(m.mtime(), m.mtime_nsec()),
            ctim: epoch_nanos(m.ctime(), m.ctime_nsec()),
        }
    }
    #[cfg(not(unix))]
    {
        use cap_fs_ext::MetadataExt;
        let t = |r: std::io::Result<cap_std::time::SystemTime>| {
            r.ok()
                .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        };
        Filestat {
            dev: m.dev(),
            ino: m.ino(),
            filetype: filetype_of(m.file_type()),
            nlink: m.nlink(),
            size: m.len(),
            atim: t(m.accessed()),
            mtim: t(m.modified()),
            ctim: t(m.created()),
        }
    }
}

/// The WASI `filetype` of a cap-std file type.
pub(crate) fn filetype_of(ft: cap_std::fs::FileType) -> u8 {
    use cap_fs_ext::FileTypeExt;
    if ft.is_dir() {
        filetype::DIRECTORY
    } else if ft.is_file() {
        filetype::REGULAR_FILE
    } else if ft.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if ft.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if ft.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if ft.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(unix)]
mod unix {
    use super::*;
    use rustix::fs::{OFlags, Timestamps};
    use rustix::time::Timespec;
    use std::os::fd::{AsFd, BorrowedFd};

    /// The `filestat` of any host fd (standard streams, sockets).
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    pub(crate) fn fd_filestat(fd: BorrowedFd<'_>) -> Result<Filestat, Errno> {
        let st = rustix::fs::fstat(fd).map_err(std::io::Error::from)?;
        use rustix::fs::FileType as F;
        let filetype = match F::from_raw_mode(st.st_mode as _) {
            F::RegularFile => filetype::REGULAR_FILE,
            F::Directory => filetype::DIRECTORY,
            F::Symlink => filetype::SYMBOLIC_LINK,
            F::CharacterDevice => filetype::CHARACTER_DEVICE,
            F::BlockDevice => filetype::BLOCK_DEVICE,
            F::Socket => filetype::SOCKET_STREAM,
            _ => filetype::UNKNOWN,
        };
        Ok(Filestat {
            dev: st.st_dev as u64,
            ino: st.st_ino as u64,
            filetype,
            nlink: st.st_nlink as u64,
            size: st.st_size.max(0) as u64,
            atim: epoch_nanos(st.st_atime as i64, st.st_atime_nsec as i64),
            mtim: epoch_nanos(st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctim: epoch_nanos(st.st_ctime as i64, st.st_ctime_nsec as i64),
        })
    }

    fn timespec(t: Option<SystemTimeSpec>) -> Timespec {
        match t {
            None => Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_OMIT,
            },
            Some(SystemTimeSpec::SymbolicNow) => Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_NOW,
            },
            Some(SystemTimeSpec::Absolute(t)) => {
                let d = t
                    .into_std()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Timespec {
                    tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
                    tv_nsec: d.subsec_nanos().into(),
                }
            }
        }
    }

    /// Sets the access and modification times of an open file or directory.
    pub(crate) fn set_fd_times(
        fd: impl AsFd,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> Result<(), Errno> {
        let ts = Timestamps {
            last_access: timespec(atime),
            last_modification: timespec(mtime),
        };
        rustix::fs::futimens(fd, &ts).map_err(|e| std::io::Error::from(e).into())
    }

    /// Turns `O_APPEND` and `O_NONBLOCK` on or off.
    pub(crate) fn set_fd_flags(fd: impl AsFd, append: bool, nonblock: bool) -> Result<(), Errno> {
        let io = |e: rustix::io::Errno| Errno::from(std::io::Error::from(e));
        let mut flags = rustix::fs::fcntl_getfl(&fd).map_err(io)?;
        flags.set(OFlags::APPEND, append);
        flags.set(OFlags::NONBLOCK, nonblock);
        rustix::fs::fcntl_setfl(&fd, flags).map_err(io)
    }

    /// `fsync` (`data_only`: `fdatasync`) of any fd, such as a directory.
    /// Apple systems have no `fdatasync`: there it is `fsync`, which does
    /// at least as much.
    pub(crate) fn sync_fd(fd: impl AsFd, data_only: bool) -> Result<(), Errno> {
        #[cfg(not(target_vendor = "apple"))]
        let r = if data_only {
            rustix::fs::fdatasync(fd)
        } else {
            rustix::fs::fsync(fd)
        };
        #[cfg(target_vendor = "apple")]
        let r = {
            let _ = data_only;
            rustix::fs::fsync(fd)
        };
        r.map_err(|e| std::io::Error::from(e).into())
    }

    /// Passes an `fd_advise` hint on (Linux and Android; a no-op elsewhere).
    #[allow(unused_variables)]
    pub(crate) fn advise(fd: impl AsFd, offset: u64, len: u64, advice: u8) -> Result<(), Errno> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::Advice;
            let advice = match advice {
                0 => Advice::Normal,
                1 => Advice::Sequential,
                2 => Advice::Random,
                3 => Advice::WillNeed,
                4 => Advice::DontNeed,
                _ => Advice::NoReuse,
            };
            rustix::fs::fadvise(fd, offset, std::num::NonZeroU64::new(len), advice)
                .map_err(|e| Errno::from(std::io::Error::from(e)))?;
        }
        Ok(())
    }

    /// How many bytes can be read from `fd` without blocking, if known.
    pub(crate) fn bytes_readable(fd: BorrowedFd<'_>) -> u64 {
        rustix::io::ioctl_fionread(fd).unwrap_or(0)
    }
}

#[cfg(not(unix))]
pub(crate) use other::*;

#[cfg(not(unix))]
mod other {
    use super::*;

    pub(crate) fn set_fd_times<F>(
        _fd: F,
        _atime: Option<SystemTimeSpec>,
        _mtime: Option<SystemTimeSpec>,
    ) -> Result<(), Errno> {
        Err(Errno::Notsup)
    }

    pub(crate) fn set_fd_flags<F>(_fd: F, _append: bool, _nonblock: bool) -> Result<(), Errno> {
        Err(Errno::Notsup)
    }

    pub(crate) fn sync_fd<F>(_fd: F, _data_only: bool) -> Result<(), Errno> {
        Ok(())
    }

    pub(crate) fn advise<F>(_fd: F, _offset: u64, _len: u64, _advice: u8) -> Result<(), Errno> {
        Ok(())
    }
}
