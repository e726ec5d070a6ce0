//! The `errno` type of `wasi_snapshot_preview1` and the mapping from host
//! I/O errors to it.

use std::fmt;
use std::io;

macro_rules! errnos {
    ($($variant:ident = $code:literal, $name:literal, $doc:literal;)*) => {
        /// An error code of `wasi_snapshot_preview1`, numbered exactly as the
        /// specification's `errno` enum (a `u16`; `Success` is 0,
        /// `Notcapable` is 76).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum Errno {
            $(#[doc = $doc] $variant = $code,)*
        }

        impl Errno {
            /// Every code, in numeric order.
            pub const ALL: &'static [Errno] = &[$(Errno::$variant,)*];

            /// The specification's name of the code, e.g. `"notcapable"`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$variant => $name,)*
                }
            }
        }
    };
}

errnos! {
    Success = 0, "success", "No error occurred.";
    TooBig = 1, "2big", "Argument list too long.";
    Acces = 2, "acces", "Permission denied.";
    Addrinuse = 3, "addrinuse", "Address in use.";
    Addrnotavail = 4, "addrnotavail", "Address not available.";
    Afnosupport = 5, "afnosupport", "Address family not supported.";
    Again = 6, "again", "Resource unavailable, or operation would block.";
    Already = 7, "already", "Connection already in progress.";
    Badf = 8, "badf", "Bad file descriptor.";
    Badmsg = 9, "badmsg", "Bad message.";
    Busy = 10, "busy", "Device or resource busy.";
    Canceled = 11, "canceled", "Operation canceled.";
    Child = 12, "child", "No child processes.";
    Connaborted = 13, "connaborted", "Connection aborted.";
    Connrefused = 14, "connrefused", "Connection refused.";
    Connreset = 15, "connreset", "Connection reset.";
    Deadlk = 16, "deadlk", "Resource deadlock would occur.";
    Destaddrreq = 17, "destaddrreq", "Destination address required.";
    Dom = 18, "dom", "Mathematics argument out of domain of function.";
    Dquot = 19, "dquot", "Reserved.";
    Exist = 20, "exist", "File exists.";
    Fault = 21, "fault", "Bad address.";
    Fbig = 22, "fbig", "File too large.";
    Hostunreach = 23, "hostunreach", "Host is unreachable.";
    Idrm = 24, "idrm", "Identifier removed.";
    Ilseq = 25, "ilseq", "Illegal byte sequence.";
    Inprogress = 26, "inprogress", "Operation in progress.";
    Intr = 27, "intr", "Interrupted function.";
    Inval = 28, "inval", "Invalid argument.";
    Io = 29, "io", "I/O error.";
    Isconn = 30, "isconn", "Socket is connected.";
    Isdir = 31, "isdir", "Is a directory.";
    Loop = 32, "loop", "Too many levels of symbolic links.";
    Mfile = 33, "mfile", "File descriptor value too large.";
    Mlink = 34, "mlink", "Too many links.";
    Msgsize = 35, "msgsize", "Message too large.";
    Multihop = 36, "multihop", "Reserved.";
    Nametoolong = 37, "nametoolong", "Filename too long.";
    Netdown = 38, "netdown", "Network is down.";
    Netreset = 39, "netreset", "Connection aborted by network.";
    Netunreach = 40, "netunreach", "Network unreachable.";
    Nfile = 41, "nfile", "Too many files open in system.";
    Nobufs = 42, "nobufs", "No buffer space available.";
    Nodev = 43, "nodev", "No such device.";
    Noent = 44, "noent", "No such file or directory.";
    Noexec = 45, "noexec", "Executable file format error.";
    Nolck = 46, "nolck", "No locks available.";
    Nolink = 47, "nolink", "Reserved.";
    Nomem = 48, "nomem", "Not enough space.";
    Nomsg = 49, "nomsg", "No message of the desired type.";
    Noprotoopt = 50, "noprotoopt", "Protocol not available.";
    Nospc = 51, "nospc", "No space left on device.";
    Nosys = 52, "nosys", "Function not supported.";
    Notconn = 53, "notconn", "The socket is not connected.";
    Notdir = 54, "notdir", "Not a directory or a symbolic link to a directory.";
    Notempty = 55, "notempty", "Directory not empty.";
    Notrecoverable = 56, "notrecoverable", "State not recoverable.";
    Notsock = 57, "notsock", "Not a socket.";
    Notsup = 58, "notsup", "Not supported, or operation not supported on socket.";
    Notty = 59, "notty", "Inappropriate I/O control operation.";
    Nxio = 60, "nxio", "No such device or address.";
    Overflow = 61, "overflow", "Value too large to be stored in data type.";
    Ownerdead = 62, "ownerdead", "Previous owner died.";
    Perm = 63, "perm", "Operation not permitted.";
    Pipe = 64, "pipe", "Broken pipe.";
    Proto = 65, "proto", "Protocol error.";
    Protonosupport = 66, "protonosupport", "Protocol not supported.";
    Prototype = 67, "prototype", "Protocol wrong type for socket.";
    Range = 68, "range", "Result too large.";
    Rofs = 69, "rofs", "Read-only file system.";
    Spipe = 70, "spipe", "Invalid seek.";
    Srch = 71, "srch", "No such process.";
    Stale = 72, "stale", "Reserved.";
    Timedout = 73, "timedout", "Connection timed out.";
    Txtbsy = 74, "txtbsy", "Text file busy.";
    Xdev = 75, "xdev", "Cross-device link.";
    Notcapable = 76, "notcapable", "Capabilities insufficient (also: the path would leave the sandbox).";
}

impl Errno {
    /// The numeric code, as the guest sees it.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The code as the `i32` a WASI function returns.
    pub fn raw(self) -> i32 {
        i32::from(self as u16)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {} ({})", self.code(), self.name())
    }
}

impl std::error::Error for Errno {}

impl From<io::Error> for Errno {
    /// Maps a host error. An OS error code is translated code for code; an
    /// error without one is mapped by its kind, and in particular
    /// `PermissionDenied` without an OS code is how `cap-std` reports a
    /// path that would leave its directory, which becomes `Notcapable`.
    fn from(err: io::Error) -> Errno {
        if let Some(e) = err.raw_os_error().and_then(from_raw_os_error) {
            return e;
        }
        from_kind(err.kind())
    }
}

fn from_kind(kind: io::ErrorKind) -> Errno {
    use io::ErrorKind as K;
    match kind {
        K::NotFound => Errno::Noent,
        K::PermissionDenied => Errno::Notcapable,
        K::ConnectionRefused => Errno::Connrefused,
        K::ConnectionReset => Errno::Connreset,
        K::HostUnreachable => Errno::Hostunreach,
        K::NetworkUnreachable => Errno::Netunreach,
        K::ConnectionAborted => Errno::Connaborted,
        K::NotConnected => Errno::Notconn,
        K::AddrInUse => Errno::Addrinuse,
        K::AddrNotAvailable => Errno::Addrnotavail,
        K::NetworkDown => Errno::Netdown,
        K::BrokenPipe => Errno::Pipe,
        K::AlreadyExists => Errno::Exist,
        K::WouldBlock => Errno::Again,
        K::NotADirectory => Errno::Notdir,
        K::IsADirectory => Errno::Isdir,
        K::DirectoryNotEmpty => Errno::Notempty,
        K::ReadOnlyFilesystem => Errno::Rofs,
        K::StaleNetworkFileHandle => Errno::Stale,
        K::InvalidInput => Errno::Inval,
        K::InvalidData => Errno::Ilseq,
        K::TimedOut => Errno::Timedout,
        K::StorageFull => Errno::Nospc,
        K::NotSeekable => Errno::Spipe,
        K::QuotaExceeded => Errno::Dquot,
        K::FileTooLarge => Errno::Fbig,
        K::ResourceBusy => Errno::Busy,
        K::ExecutableFileBusy => Errno::Txtbsy,
        K::Deadlock => Errno::Deadlk,
        K::CrossesDevices => Errno::Xdev,
        K::TooManyLinks => Errno::Mlink,
        K::InvalidFilename => Errno::Nametoolong,
        K::ArgumentListTooLong => Errno::TooBig,
        K::Interrupted => Errno::Intr,
        K::Unsupported => Errno::Notsup,
        K::OutOfMemory => Errno::Nomem,
        _ => Errno::Io,
    }
}

/// Translates a host OS error number.
#[cfg(unix)]
fn from_raw_os_error(raw: i32) -> Option<Errno> {
    use rustix::io::Errno as E;
    const TABLE: &[(E, Errno)] = &[
        (E::TOOBIG, Errno::TooBig),
        (E::ACCESS, Errno::Acces),
        (E::ADDRINUSE, Errno::Addrinuse),
        (E::ADDRNOTAVAIL, Errno::Addrnotavail),
        (E::AFNOSUPPORT, Errno::Afnosupport),
        (E::AGAIN, Errno::Again),
        (E::ALREADY, Errno::Already),
        (E::BADF, Errno::Badf),
        (E::BADMSG, Errno::Badmsg),
        (E::BUSY, Errno::Busy),
        (E::CANCELED, Errno::Canceled),
        (E::CHILD, Errno::Child),
        (E::CONNABORTED, Errno::Connaborted),
        (E::CONNREFUSED, Errno::Connrefused),
        (E::CONNRESET, Errno::Connreset),
        (E::DEADLK, Errno::Deadlk),
        (E::DESTADDRREQ, Errno::Destaddrreq),
        (E::DOM, Errno::Dom),
        (E::DQUOT, Errno::Dquot),
        (E::EXIST, Errno::Exist),
        (E::FAULT, Errno::Fault),
        (E::FBIG, Errno::Fbig),
        (E::HOSTUNREACH, Errno::Hostunreach),
        (E::IDRM, Errno::Idrm),
        (E::ILSEQ, Errno::Ilseq),
        (E::INPROGRESS, Errno::Inprogress),
        (E::INTR, Errno::Intr),
        (E::INVAL, Errno::Inval),
        (E::IO, Errno::Io),
        (E::ISCONN, Errno::Isconn),
        (E::ISDIR, Errno::Isdir),
        (E::LOOP, Errno::Loop),
        (E::MFILE, Errno::Mfile),
        (E::MLINK, Errno::Mlink),
        (E::MSGSIZE, Errno::Msgsize),
        (E::MULTIHOP, Errno::Multihop),
        (E::NAMETOOLONG, Errno::Nametoolong),
        (E::NETDOWN, Errno::Netdown),
        (E::NETRESET, Errno::Netreset),
        (E::NETUNREACH, Errno::Netunreach),
        (E::NFILE, Errno::Nfile),
        (E::NOBUFS, Errno::Nobufs),
        (E::NODEV, Errno::Nodev),
        (E::NOENT, Errno::Noent),
        (E::NOEXEC, Errno::Noexec),
        (E::NOLCK, Errno::Nolck),
        (E::NOLINK, Errno::Nolink),
        (E::NOMEM, Errno::Nomem),
        (E::NOMSG, Errno::Nomsg),
        (E::NOPROTOOPT, Errno::Noprotoopt),
        (E::NOSPC, Errno::Nospc),
        (E::NOSYS, Errno::Nosys),
        (E::NOTCONN, Errno::Notconn),
        (E::NOTDIR, Errno::Notdir),
        (E::NOTEMPTY, Errno::Notempty),
        (E::NOTRECOVERABLE, Errno::Notrecoverable),
        (E::NOTSOCK, Errno::Notsock),
        (E::NOTSUP, Errno::Notsup),
        (E::OPNOTSUPP, Errno::Notsup),
        (E::NOTTY, Errno::Notty),
        (E::NXIO, Errno::Nxio),
        (E::OVERFLOW, Errno::Overflow),
        (E::OWNERDEAD, Errno::Ownerdead),
        (E::PERM, Errno::Perm),
        (E::PIPE, Errno::Pipe),
        (E::PROTO, Errno::Proto),
        (E::PROTONOSUPPORT, Errno::Protonosupport),
        (E::PROTOTYPE, Errno::Prototype),
        (E::RANGE, Errno::Range),
        (E::ROFS, Errno::Rofs),
        (E::SPIPE, Errno::Spipe),
        (E::SRCH, Errno::Srch),
        (E::STALE, Errno::Stale),
        (E::TIMEDOUT, Errno::Timedout),
        (E::TXTBSY, Errno::Txtbsy),
        (E::XDEV, Errno::Xdev),
    ];
    let host = E::from_raw_os_error(raw);
    TABLE.iter().find(|(h, _)| *h == host).map(|&(_, e)| e)
}

/// Without a Unix errno table, errors are mapped by their kind.
#[cfg(not(unix))]
fn from_raw_os_error(_raw: i32) -> Option<Errno> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_the_specification() {
        assert_eq!(Errno::ALL.len(), 77);
        for (i, e) in Errno::ALL.iter().enumerate() {
            assert_eq!(usize::from(e.code()), i, "{e}");
        }
        assert_eq!(Errno::TooBig.code(), 1);
        assert_eq!(Errno::Badf.code(), 8);
        assert_eq!(Errno::Fault.code(), 21);
        assert_eq!(Errno::Inval.code(), 28);
        assert_eq!(Errno::Loop.code(), 32);
        assert_eq!(Errno::Noent.code(), 44);
        assert_eq!(Errno::Nosys.code(), 52);
        assert_eq!(Errno::Notdir.code(), 54);
        assert_eq!(Errno::Notsup.code(), 58);
        assert_eq!(Errno::Perm.code(), 63);
        assert_eq!(Errno::Spipe.code(), 70);
        assert_eq!(Errno::Xdev.code(), 75);
        assert_eq!(Errno::Notcapable.code(), 76);
        assert_eq!(Errno::Notcapable.name(), "notcapable");
    }

    #[cfg(unix)]
    #[test]
    fn host_errors_map_by_code_and_kind() {
        let os = |e: rustix::io::Errno| Errno::from(io::Error::from_raw_os_error(e.raw_os_error()));
        assert_eq!(os(rustix::io::Errno::NOENT), Errno::Noent);
        assert_eq!(os(rustix::io::Errno::LOOP), Errno::Loop);
        assert_eq!(os(rustix::io::Errno::ACCESS), Errno::Acces);
        assert_eq!(os(rustix::io::Errno::PERM), Errno::Perm);
        assert_eq!(os(rustix::io::Errno::NOTEMPTY), Errno::Notempty);
        assert_eq!(os(rustix::io::Errno::AGAIN), Errno::Again);
        // cap-std's "a path led outside of the filesystem": no OS code.
        let escape = io::Error::new(io::ErrorKind::PermissionDenied, "escape");
        assert_eq!(Errno::from(escape), Errno::Notcapable);
        let other = io::Error::other("x");
        assert_eq!(Errno::from(other), Errno::Io);
    }
}
