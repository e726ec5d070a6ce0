//! The guest's file descriptor table: what each fd number refers to and
//! the rights and flags it carries.

use crate::errno::Errno;
use cap_std::fs::{Dir, File};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Where standard input comes from.
pub(crate) enum Input {
    /// The host process's standard input.
    Inherit,
    /// A reader supplied by the embedder.
    Reader(Box<dyn Read + Send + Sync>),
    /// Always at end of file.
    Empty,
}

/// Where standard output or standard error goes.
pub(crate) enum Output {
    /// The host process's standard output.
    Stdout,
    /// The host process's standard error.
    Stderr,
    /// A writer supplied by the embedder.
    Writer(Box<dyn Write + Send + Sync>),
    /// Discarded.
    Sink,
}

impl Input {
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Inherit => io::stdin().read(buf),
            Input::Reader(r) => r.read(buf),
            Input::Empty => Ok(0),
        }
    }
}

impl Output {
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(data)?;
                out.flush()
            }
            Output::Stderr => io::stderr().write_all(data),
            Output::Writer(w) => {
                w.write_all(data)?;
                w.flush()
            }
            Output::Sink => Ok(()),
        }
    }
}

/// A directory fd.
pub(crate) struct DirFd {
    pub dir: Dir,
    /// The guest name, for a preopened directory.
    pub preopen: Option<String>,
    /// Depth below the preopened directory it was opened through, as the
    /// guest named it (used to refuse symlinks that point above the root).
    pub depth: usize,
    /// The listing `fd_readdir` serves cookies from, made at cookie 0.
    pub listing: Option<Vec<Listed>>,
}

/// One entry of a directory listing.
#[derive(Clone, Debug)]
pub(crate) struct Listed {
    pub name: Vec<u8>,
    pub ino: u64,
    pub filetype: u8,
}

/// What an fd refers to.
pub(crate) enum Kind {
    File(File),
    Dir(DirFd),
    Stdin(Input),
    Stdout(Output),
    Listener(TcpListener),
    Stream(TcpStream),
}

/// An open fd.
pub(crate) struct Entry {
    pub kind: Kind,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    /// The `fdflags` in force.
    pub flags: u16,
}

impl Entry {
    pub fn new(kind: Kind, rights_base: u64, rights_inheriting: u64) -> Entry {
        Entry {
            kind,
            rights_base,
            rights_inheriting,
            flags: 0,
        }
    }

    /// `ENOTCAPABLE` unless the fd has every right in `needed`.
    pub fn require(&self, needed: u64) -> Result<(), Errno> {
        if self.rights_base & needed == needed {
            Ok(())
        } else {
            Err(Errno::Notcapable)
        }
    }
}

/// Fd numbers to open fds.
#[derive(Default)]
pub(crate) struct FdTable {
    entries: BTreeMap<u32, Entry>,
}

impl FdTable {
    /// Places `entry` at `fd`, replacing what was there.
    pub fn insert_at(&mut self, fd: u32, entry: Entry) {
        self.entries.insert(fd, entry);
    }

    /// Places `entry` at the lowest free number and returns it.
    pub fn push(&mut self, entry: Entry) -> Result<u32, Errno> {
        let mut fd = 0u32;
        for &used in self.entries.keys() {
            if used != fd {
                break;
            }
            fd = fd.checked_add(1).ok_or(Errno::Mfile)?;
        }
        self.entries.insert(fd, entry);
        Ok(fd)
    }

    pub fn get(&self, fd: u32) -> Result<&Entry, Errno> {
        self.entries.get(&fd).ok_or(Errno::Badf)
    }

    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.entries.get_mut(&fd).ok_or(Errno::Badf)
    }

    pub fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        self.entries.remove(&fd).ok_or(Errno::Badf)
    }

    /// The directory at `fd`, which must have the rights in `needed`
    /// (`EBADF` if not open, `ENOTDIR` if not a directory).
    pub fn dir(&self, fd: u32, needed: u64) -> Result<&DirFd, Errno> {
        let e = self.get(fd)?;
        match &e.kind {
            Kind::Dir(d) => {
                e.require(needed)?;
                Ok(d)
            }
            _ => Err(Errno::Notdir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_number_is_reused() {
        let mut t = FdTable::default();
        let e = || Entry::new(Kind::Stdin(Input::Empty), 0, 0);
        assert_eq!(t.push(e()), Ok(0));
        assert_eq!(t.push(e()), Ok(1));
        assert_eq!(t.push(e()), Ok(2));
        t.remove(1).unwrap();
        assert_eq!(t.push(e()), Ok(1));
        assert_eq!(t.push(e()), Ok(3));
        assert!(matches!(t.remove(9), Err(Errno::Badf)));
        assert!(matches!(
            t.get(0).unwrap().require(1),
            Err(Errno::Notcapable)
        ));
    }
}
