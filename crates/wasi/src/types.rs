//! The constants and memory layouts of `wasi_snapshot_preview1`: rights,
//! flags, file types, and the little-endian encodings of the structs the
//! guest and host exchange (`fdstat`, `filestat`, `prestat`, `dirent`,
//! `iovec`, `subscription`, `event`).

use crate::errno::Errno;

/// `rights`: what an fd may be used for (a `u64` bit set).
pub mod rights {
    /// `fd_datasync`.
    pub const FD_DATASYNC: u64 = 1 << 0;
    /// `fd_read` and `sock_recv`.
    pub const FD_READ: u64 = 1 << 1;
    /// `fd_seek` (implies `FD_TELL`).
    pub const FD_SEEK: u64 = 1 << 2;
    /// `fd_fdstat_set_flags`.
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    /// `fd_sync`.
    pub const FD_SYNC: u64 = 1 << 4;
    /// `fd_tell` and `fd_seek(0, cur)`.
    pub const FD_TELL: u64 = 1 << 5;
    /// `fd_write` and `sock_send`.
    pub const FD_WRITE: u64 = 1 << 6;
    /// `fd_advise`.
    pub const FD_ADVISE: u64 = 1 << 7;
    /// `fd_allocate`.
    pub const FD_ALLOCATE: u64 = 1 << 8;
    /// `path_create_directory`.
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    /// `path_open` with `O_CREAT`.
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    /// `path_link` on the source directory.
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    /// `path_link` on the target directory.
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    /// `path_open`.
    pub const PATH_OPEN: u64 = 1 << 13;
    /// `fd_readdir`.
    pub const FD_READDIR: u64 = 1 << 14;
    /// `path_readlink`.
    pub const PATH_READLINK: u64 = 1 << 15;
    /// `path_rename` on the source directory.
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    /// `path_rename` on the target directory.
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    /// `path_filestat_get`.
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    /// `path_open` with `O_TRUNC` (changing a size by path).
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    /// `path_filestat_set_times`.
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    /// `fd_filestat_get`.
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    /// `fd_filestat_set_size`.
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    /// `fd_filestat_set_times`.
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    /// `path_symlink`.
    pub const PATH_SYMLINK: u64 = 1 << 24;
    /// `path_remove_directory`.
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    /// `path_unlink_file`.
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    /// `poll_oneoff` read/write subscriptions.
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    /// `sock_shutdown`.
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    /// `sock_accept`.
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// Every right a regular file can use.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
    /// The rights of [`FILE`] that do not change anything.
    pub const FILE_READ_ONLY: u64 = FD_READ
        | FD_SEEK
        | FD_TELL
        | FD_ADVISE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE;
    /// Every right a directory can use.
    pub const DIR: u64 = FD_DATASYNC
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;
    /// The rights of [`DIR`] that do not change anything.
    pub const DIR_READ_ONLY: u64 = FD_FDSTAT_SET_FLAGS
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_FILESTAT_GET
        | FD_FILESTAT_GET;
    /// The rights of standard input.
    pub const STDIN: u64 = FD_READ | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
    /// The rights of standard output and standard error.
    pub const STDOUT: u64 = FD_WRITE | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
    /// The rights of a listening socket.
    pub const LISTENER: u64 =
        SOCK_ACCEPT | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
    /// The rights of a connected stream socket.
    pub const STREAM: u64 = FD_READ
        | FD_WRITE
        | SOCK_SHUTDOWN
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE;
}

/// `filetype` values (a `u8`).
pub mod filetype {
    /// The type is unknown or something else.
    pub const UNKNOWN: u8 = 0;
    /// A block device.
    pub const BLOCK_DEVICE: u8 = 1;
    /// A character device.
    pub const CHARACTER_DEVICE: u8 = 2;
    /// A directory.
    pub const DIRECTORY: u8 = 3;
    /// A regular file.
    pub const REGULAR_FILE: u8 = 4;
    /// A datagram socket.
    pub const SOCKET_DGRAM: u8 = 5;
    /// A byte-stream socket.
    pub const SOCKET_STREAM: u8 = 6;
    /// A symbolic link.
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `fdflags` bits (a `u16`).
pub mod fdflags {
    /// Writes go to the end of the file.
    pub const APPEND: u16 = 1 << 0;
    /// Data integrity on write.
    pub const DSYNC: u16 = 1 << 1;
    /// Non-blocking mode.
    pub const NONBLOCK: u16 = 1 << 2;
    /// Synchronized reads.
    pub const RSYNC: u16 = 1 << 3;
    /// File integrity on write.
    pub const SYNC: u16 = 1 << 4;
    /// Every defined bit.
    pub const ALL: u16 = APPEND | DSYNC | NONBLOCK | RSYNC | SYNC;
}

/// `oflags` bits of `path_open` (a `u16`).
pub mod oflags {
    /// Create the file if it does not exist.
    pub const CREAT: u16 = 1 << 0;
    /// Fail if not a directory.
    pub const DIRECTORY: u16 = 1 << 1;
    /// Fail if the file already exists.
    pub const EXCL: u16 = 1 << 2;
    /// Truncate to size 0.
    pub const TRUNC: u16 = 1 << 3;
}

/// `lookupflags` bit (a `u32`): follow a symlink in the last component.
pub const LOOKUP_SYMLINK_FOLLOW: u32 = 1;

/// `fstflags` bits (a `u16`) of the `*_set_times` functions.
pub mod fstflags {
    /// Set the access time to the given value.
    pub const ATIM: u16 = 1 << 0;
    /// Set the access time to now.
    pub const ATIM_NOW: u16 = 1 << 1;
    /// Set the modification time to the given value.
    pub const MTIM: u16 = 1 << 2;
    /// Set the modification time to now.
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// `clockid` values (a `u32`).
pub mod clockid {
    /// Wall-clock time since 1970-01-01T00:00:00Z.
    pub const REALTIME: u32 = 0;
    /// A clock that never goes back.
    pub const MONOTONIC: u32 = 1;
    /// CPU time of the process.
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    /// CPU time of the calling thread.
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// `whence` of `fd_seek` (a `u8`).
pub mod whence {
    /// From the start.
    pub const SET: u8 = 0;
    /// From the current offset.
    pub const CUR: u8 = 1;
    /// From the end.
    pub const END: u8 = 2;
}

/// `eventtype` (a `u8`).
pub mod eventtype {
    /// A clock's timeout passed.
    pub const CLOCK: u8 = 0;
    /// An fd has data to read.
    pub const FD_READ: u8 = 1;
    /// An fd can take data.
    pub const FD_WRITE: u8 = 2;
}

/// `subclockflags` bit: the timeout is an absolute time of the clock.
pub const SUBCLOCK_ABSTIME: u16 = 1;
/// `eventrwflags` bit: the peer hung up.
pub const EVENT_FD_READWRITE_HANGUP: u16 = 1;
/// `riflags` bit of `sock_recv`: peek without consuming.
pub const RECV_PEEK: u16 = 1;
/// `riflags` bit of `sock_recv`: wait until every buffer is full.
pub const RECV_WAITALL: u16 = 2;
/// `sdflags` bit: shut down reading.
pub const SHUT_RD: u8 = 1;
/// `sdflags` bit: shut down writing.
pub const SHUT_WR: u8 = 2;
/// `preopentype` of a directory.
pub const PREOPENTYPE_DIR: u8 = 0;

/// Size of `iovec` / `ciovec`: `buf: u32` at 0, `buf_len: u32` at 4.
pub const IOVEC_SIZE: u32 = 8;
/// Size of `fdstat`.
pub const FDSTAT_SIZE: usize = 24;
/// Size of `filestat`.
pub const FILESTAT_SIZE: usize = 64;
/// Size of `prestat`.
pub const PRESTAT_SIZE: usize = 8;
/// Size of a `dirent` header (the name follows it).
pub const DIRENT_SIZE: usize = 24;
/// Size of `subscription`.
pub const SUBSCRIPTION_SIZE: u32 = 48;
/// Size of `event`.
pub const EVENT_SIZE: u32 = 32;

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}
fn get16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// `fdstat`: `fs_filetype: u8` at 0, `fs_flags: u16` at 2,
/// `fs_rights_base: u64` at 8, `fs_rights_inheriting: u64` at 16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fdstat {
    /// The `filetype`.
    pub filetype: u8,
    /// The `fdflags`.
    pub flags: u16,
    /// Rights that apply to this fd.
    pub rights_base: u64,
    /// Rights that fds opened through this one may get.
    pub rights_inheriting: u64,
}

impl Fdstat {
    /// The guest encoding.
    pub fn encode(&self) -> [u8; FDSTAT_SIZE] {
        let mut b = [0; FDSTAT_SIZE];
        b[0] = self.filetype;
        put16(&mut b, 2, self.flags);
        put64(&mut b, 8, self.rights_base);
        put64(&mut b, 16, self.rights_inheriting);
        b
    }
}

/// `filestat`: `dev` at 0, `ino` at 8, `filetype: u8` at 16, `nlink` at
/// 24, `size` at 32, `atim` at 40, `mtim` at 48, `ctim` at 56 (all `u64`
/// but the file type; times in nanoseconds since the Unix epoch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filestat {
    /// Device id.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// The `filetype`.
    pub filetype: u8,
    /// Number of hard links.
    pub nlink: u64,
    /// Size in bytes.
    pub size: u64,
    /// Last access time.
    pub atim: u64,
    /// Last modification time.
    pub mtim: u64,
    /// Last status change time.
    pub ctim: u64,
}

impl Filestat {
    /// The guest encoding.
    pub fn encode(&self) -> [u8; FILESTAT_SIZE] {
        let mut b = [0; FILESTAT_SIZE];
        put64(&mut b, 0, self.dev);
        put64(&mut b, 8, self.ino);
        b[16] = self.filetype;
        put64(&mut b, 24, self.nlink);
        put64(&mut b, 32, self.size);
        put64(&mut b, 40, self.atim);
        put64(&mut b, 48, self.mtim);
        put64(&mut b, 56, self.ctim);
        b
    }
}

/// `prestat` of a directory: tag `0` at 0, `pr_name_len: u32` at 4.
pub fn encode_prestat_dir(name_len: u32) -> [u8; PRESTAT_SIZE] {
    let mut b = [0; PRESTAT_SIZE];
    b[0] = PREOPENTYPE_DIR;
    put32(&mut b, 4, name_len);
    b
}

/// A `dirent` header: `d_next: u64` at 0, `d_ino: u64` at 8,
/// `d_namlen: u32` at 16, `d_type: u8` at 20; the name's bytes follow.
pub fn encode_dirent(next: u64, ino: u64, namlen: u32, filetype: u8) -> [u8; DIRENT_SIZE] {
    let mut b = [0; DIRENT_SIZE];
    put64(&mut b, 0, next);
    put64(&mut b, 8, ino);
    put32(&mut b, 16, namlen);
    b[20] = filetype;
    b
}

/// What a `subscription` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionKind {
    /// `subscription_clock`: `id: u32` at 16, `timeout: u64` at 24,
    /// `precision: u64` at 32, `flags: u16` at 40.
    Clock {
        /// The `clockid`.
        id: u32,
        /// Relative or absolute timeout, in nanoseconds.
        timeout: u64,
        /// Accepted imprecision (ignored).
        precision: u64,
        /// `subclockflags`.
        flags: u16,
    },
    /// `subscription_fd_readwrite` for reading: `fd: u32` at 16.
    FdRead(u32),
    /// `subscription_fd_readwrite` for writing: `fd: u32` at 16.
    FdWrite(u32),
}

/// `subscription`: `userdata: u64` at 0, the union tag (`eventtype: u8`)
/// at 8, the union's contents from 16; 48 bytes in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Returned unchanged in the event.
    pub userdata: u64,
    /// What to wait for.
    pub kind: SubscriptionKind,
}

impl Subscription {
    /// Decodes the guest encoding; an unknown tag is `EINVAL`.
    pub fn decode(b: &[u8; SUBSCRIPTION_SIZE as usize]) -> Result<Subscription, Errno> {
        let userdata = get64(b, 0);
        let kind = match b[8] {
            eventtype::CLOCK => SubscriptionKind::Clock {
                id: get32(b, 16),
                timeout: get64(b, 24),
                precision: get64(b, 32),
                flags: get16(b, 40),
            },
            eventtype::FD_READ => SubscriptionKind::FdRead(get32(b, 16)),
            eventtype::FD_WRITE => SubscriptionKind::FdWrite(get32(b, 16)),
            _ => return Err(Errno::Inval),
        };
        Ok(Subscription { userdata, kind })
    }
}

/// `event`: `userdata: u64` at 0, `error: u16` at 8, `type: u8` at 10,
/// then for fd events `nbytes: u64` at 16 and `flags: u16` at 24; 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The subscription's user data.
    pub userdata: u64,
    /// The error of this subscription, `Success` if none.
    pub error: Errno,
    /// The `eventtype`.
    pub kind: u8,
    /// For fd events: bytes available to read or room to write.
    pub nbytes: u64,
    /// For fd events: `eventrwflags`.
    pub flags: u16,
}

impl Event {
    /// The guest encoding.
    pub fn encode(&self) -> [u8; EVENT_SIZE as usize] {
        let mut b = [0; EVENT_SIZE as usize];
        put64(&mut b, 0, self.userdata);
        put16(&mut b, 8, self.error.code());
        b[10] = self.kind;
        put64(&mut b, 16, self.nbytes);
        put16(&mut b, 24, self.flags);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdstat_layout() {
        let b = Fdstat {
            filetype: filetype::REGULAR_FILE,
            flags: fdflags::APPEND | fdflags::NONBLOCK,
            rights_base: 0x0102_0304_0506_0708,
            rights_inheriting: 0x1112_1314_1516_1718,
        }
        .encode();
        assert_eq!(b.len(), 24);
        assert_eq!(b[0], 4);
        assert_eq!(b[1], 0, "padding");
        assert_eq!(&b[2..4], &[5, 0]);
        assert_eq!(&b[4..8], &[0; 4], "padding");
        assert_eq!(&b[8..16], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(&b[16..24], &0x1112_1314_1516_1718u64.to_le_bytes());
    }

    #[test]
    fn filestat_layout() {
        let b = Filestat {
            dev: 1,
            ino: 2,
            filetype: filetype::DIRECTORY,
            nlink: 3,
            size: 4,
            atim: 5,
            mtim: 6,
            ctim: 7,
        }
        .encode();
        assert_eq!(b.len(), 64);
        let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        assert_eq!(
            [
                word(0),
                word(8),
                word(24),
                word(32),
                word(40),
                word(48),
                word(56)
            ],
            [1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(b[16], 3);
        assert_eq!(&b[17..24], &[0; 7]);
    }

    #[test]
    fn prestat_and_dirent_layouts() {
        assert_eq!(encode_prestat_dir(9), [0, 0, 0, 0, 9, 0, 0, 0]);
        let d = encode_dirent(0x11, 0x22, 5, filetype::SYMBOLIC_LINK);
        assert_eq!(d.len(), 24);
        assert_eq!(&d[0..8], &0x11u64.to_le_bytes());
        assert_eq!(&d[8..16], &0x22u64.to_le_bytes());
        assert_eq!(&d[16..20], &5u32.to_le_bytes());
        assert_eq!(d[20], 7);
        assert_eq!(&d[21..24], &[0; 3]);
    }

    #[test]
    fn subscription_and_event_layouts() {
        let mut b = [0u8; 48];
        b[0..8].copy_from_slice(&0xabcdu64.to_le_bytes());
        b[8] = eventtype::CLOCK;
        b[16..20].copy_from_slice(&clockid::MONOTONIC.to_le_bytes());
        b[24..32].copy_from_slice(&1_000_000u64.to_le_bytes());
        b[32..40].copy_from_slice(&7u64.to_le_bytes());
        b[40..42].copy_from_slice(&SUBCLOCK_ABSTIME.to_le_bytes());
        let s = Subscription::decode(&b).unwrap();
        assert_eq!(s.userdata, 0xabcd);
        assert_eq!(
            s.kind,
            SubscriptionKind::Clock {
                id: 1,
                timeout: 1_000_000,
                precision: 7,
                flags: 1
            }
        );
        b[8] = eventtype::FD_WRITE;
        assert_eq!(
            Subscription::decode(&b).unwrap().kind,
            SubscriptionKind::FdWrite(1)
        );
        b[8] = 3;
        assert_eq!(Subscription::decode(&b), Err(Errno::Inval));

        let e = Event {
            userdata: 0x55,
            error: Errno::Badf,
            kind: eventtype::FD_READ,
            nbytes: 0x1234,
            flags: EVENT_FD_READWRITE_HANGUP,
        }
        .encode();
        assert_eq!(e.len(), 32);
        assert_eq!(&e[0..8], &0x55u64.to_le_bytes());
        assert_eq!(&e[8..10], &8u16.to_le_bytes());
        assert_eq!(e[10], 1);
        assert_eq!(&e[16..24], &0x1234u64.to_le_bytes());
        assert_eq!(&e[24..26], &1u16.to_le_bytes());
    }
}
