//! The `fd_*` functions.
//!
//! Conventions: an fd that is not open is `EBADF`; an operation that does
//! not apply to what the fd is (reading a directory, `fd_readdir` on a
//! file) is `EBADF` or `ENOTDIR`; seeking a stream is `ESPIPE`; an fd that
//! lacks the right the operation needs is `ENOTCAPABLE`.

use super::WasiResult;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fd_table::{DirFd, Entry, Kind, Listed};
#[cfg(unix)]
use crate::fd_table::{Input, Output};
use crate::memory::{GuestMemory, Iovec};
use crate::sys;
use crate::types::{
    Fdstat, Filestat, encode_dirent, encode_prestat_dir, fdflags, filetype, fstflags, rights,
    whence,
};
use cap_fs_ext::SystemTimeSpec;
use cap_std::fs::Dir;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, UNIX_EPOCH};

/// `ENOTCAPABLE` unless `have` includes every right of `needed`.
pub(crate) fn need(have: u64, needed: u64) -> WasiResult {
    if have & needed == needed {
        Ok(())
    } else {
        Err(Errno::Notcapable)
    }
}

/// One side of a `*_set_times` request: `EINVAL` if both the value and
/// "now" are asked for.
fn time_spec(ts: u64, flags: u16, set: u16, now: u16) -> Result<Option<SystemTimeSpec>, Errno> {
    match (flags & set != 0, flags & now != 0) {
        (true, true) => Err(Errno::Inval),
        (true, false) => {
            let t = UNIX_EPOCH + Duration::from_nanos(ts);
            Ok(Some(SystemTimeSpec::Absolute(
                cap_std::time::SystemTime::from_std(t),
            )))
        }
        (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
        (false, false) => Ok(None),
    }
}

/// The access and modification times a `*_set_times` call asks for.
pub(crate) fn times(
    atim: u64,
    mtim: u64,
    fst: u32,
) -> Result<(Option<SystemTimeSpec>, Option<SystemTimeSpec>), Errno> {
    let fst = u16::try_from(fst).map_err(|_| Errno::Inval)?;
    if fst & !(fstflags::ATIM | fstflags::ATIM_NOW | fstflags::MTIM | fstflags::MTIM_NOW) != 0 {
        return Err(Errno::Inval);
    }
    Ok((
        time_spec(atim, fst, fstflags::ATIM, fstflags::ATIM_NOW)?,
        time_spec(mtim, fst, fstflags::MTIM, fstflags::MTIM_NOW)?,
    ))
}

/// Reads into the iovecs in order. Files fill one buffer after another;
/// streams are read once, so a call never blocks after data has arrived.
fn read_iovecs(
    mem: &mut GuestMemory<'_>,
    iovs: &[Iovec],
    is_stream: bool,
    mut read: impl FnMut(&mut [u8]) -> io::Result<usize>,
) -> Result<u32, Errno> {
    let mut total = 0u32;
    for v in iovs.iter().filter(|v| v.len > 0) {
        let buf = mem.bytes_mut(v.ptr, v.len)?;
        let n = match read(buf) {
            Ok(n) => n,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e.into()),
        };
        total = total.saturating_add(n as u32);
        if is_stream || n < buf.len() {
            break;
        }
    }
    Ok(total)
}

fn stream_filestat(kind: &Kind) -> Result<Filestat, Errno> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = match kind {
            Kind::Stdin(Input::Inherit) => Some(rustix::stdio::stdin()),
            Kind::Stdout(Output::Stdout) => Some(rustix::stdio::stdout()),
            Kind::Stdout(Output::Stderr) => Some(rustix::stdio::stderr()),
            Kind::Listener(l) => Some(l.as_fd()),
            Kind::Stream(s) => Some(s.as_fd()),
            _ => None,
        };
        if let Some(fd) = fd {
            return sys::fd_filestat(fd);
        }
    }
    Ok(Filestat {
        filetype: match kind {
            Kind::Listener(_) | Kind::Stream(_) => filetype::SOCKET_STREAM,
            _ => filetype::UNKNOWN,
        },
        ..Filestat::default()
    })
}

fn filestat(kind: &Kind) -> Result<Filestat, Errno> {
    match kind {
        Kind::File(f) => Ok(sys::filestat_of(&f.metadata()?)),
        Kind::Dir(d) => Ok(sys::filestat_of(&d.dir.dir_metadata()?)),
        other => stream_filestat(other),
    }
}

/// `fd_advise(fd, offset, len, advice)`.
pub(crate) fn fd_advise(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    len: u64,
    advice: u32,
) -> WasiResult {
    if advice > 5 {
        return Err(Errno::Inval);
    }
    let e = ctx.table.get(fd)?;
    match &e.kind {
        Kind::File(f) => {
            e.require(rights::FD_ADVISE)?;
            sys::advise(f, offset, len, advice as u8)
        }
        Kind::Dir(_) => Err(Errno::Badf),
        _ => Err(Errno::Spipe),
    }
}

/// `fd_allocate(fd, offset, len)`: makes the file at least `offset + len`
/// bytes long (blocks are not reserved ahead, only the size is ensured).
pub(crate) fn fd_allocate(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    len: u64,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    let Kind::File(f) = &e.kind else {
        return Err(Errno::Badf);
    };
    e.require(rights::FD_ALLOCATE)?;
    let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
    if end > i64::MAX as u64 {
        return Err(Errno::Fbig);
    }
    if f.metadata()?.len() < end {
        f.set_len(end)?;
    }
    Ok(())
}

/// `fd_close(fd)`.
pub(crate) fn fd_close(ctx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
    ctx.table.remove(fd).map(drop)
}

fn sync(ctx: &mut WasiCtx, fd: u32, data_only: bool) -> WasiResult {
    let e = ctx.table.get(fd)?;
    e.require(if data_only {
        rights::FD_DATASYNC
    } else {
        rights::FD_SYNC
    })?;
    match &e.kind {
        Kind::File(f) if data_only => Ok(f.sync_data()?),
        Kind::File(f) => Ok(f.sync_all()?),
        Kind::Dir(d) => sys::sync_fd(&d.dir, data_only),
        _ => Err(Errno::Inval),
    }
}

/// `fd_datasync(fd)`.
pub(crate) fn fd_datasync(ctx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
    sync(ctx, fd, true)
}

/// `fd_sync(fd)`.
pub(crate) fn fd_sync(ctx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, fd: u32) -> WasiResult {
    sync(ctx, fd, false)
}

/// `fd_fdstat_get(fd, fdstat_ptr)`.
pub(crate) fn fd_fdstat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    let filetype = match &e.kind {
        Kind::Dir(_) => filetype::DIRECTORY,
        Kind::File(f) => f
            .metadata()
            .map_or(filetype::UNKNOWN, |m| sys::filetype_of(m.file_type())),
        Kind::Listener(_) | Kind::Stream(_) => filetype::SOCKET_STREAM,
        other => stream_filestat(other).map_or(filetype::UNKNOWN, |s| s.filetype),
    };
    let stat = Fdstat {
        filetype,
        flags: e.flags,
        rights_base: e.rights_base,
        rights_inheriting: e.rights_inheriting,
    };
    mem.write(ptr, &stat.encode())
}

/// `fd_fdstat_set_flags(fd, flags)`: `APPEND` and `NONBLOCK` can change;
/// asking to change the synchronisation flags of an open fd is `ENOTSUP`.
pub(crate) fn fd_fdstat_set_flags(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
) -> WasiResult {
    let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
    if flags & !fdflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    let e = ctx.table.get_mut(fd)?;
    e.require(rights::FD_FDSTAT_SET_FLAGS)?;
    let sync_bits = fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC;
    if (flags ^ e.flags) & sync_bits != 0 {
        return Err(Errno::Notsup);
    }
    let append = flags & fdflags::APPEND != 0;
    let nonblock = flags & fdflags::NONBLOCK != 0;
    match &e.kind {
        Kind::File(f) => sys::set_fd_flags(f, append, nonblock)?,
        Kind::Listener(l) => l.set_nonblocking(nonblock)?,
        Kind::Stream(s) => s.set_nonblocking(nonblock)?,
        // Standard streams and directories only record the flags: changing
        // the host's own standard streams would affect the host.
        _ => {}
    }
    e.flags = flags;
    Ok(())
}

/// `fd_fdstat_set_rights(fd, base, inheriting)`: rights can only be dropped.
pub(crate) fn fd_fdstat_set_rights(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    base: u64,
    inheriting: u64,
) -> WasiResult {
    let e = ctx.table.get_mut(fd)?;
    if base & !e.rights_base != 0 || inheriting & !e.rights_inheriting != 0 {
        return Err(Errno::Notcapable);
    }
    e.rights_base = base;
    e.rights_inheriting = inheriting;
    Ok(())
}

/// `fd_filestat_get(fd, filestat_ptr)`.
pub(crate) fn fd_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    e.require(rights::FD_FILESTAT_GET)?;
    let stat = filestat(&e.kind)?;
    mem.write(ptr, &stat.encode())
}

/// `fd_filestat_set_size(fd, size)`.
pub(crate) fn fd_filestat_set_size(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    size: u64,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    let Kind::File(f) = &e.kind else {
        return Err(Errno::Badf);
    };
    e.require(rights::FD_FILESTAT_SET_SIZE)?;
    if size > i64::MAX as u64 {
        return Err(Errno::Fbig);
    }
    Ok(f.set_len(size)?)
}

/// `fd_filestat_set_times(fd, atim, mtim, fst_flags)`.
pub(crate) fn fd_filestat_set_times(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let e = ctx.table.get(fd)?;
    e.require(rights::FD_FILESTAT_SET_TIMES)?;
    let (a, m) = times(atim, mtim, fst)?;
    match &e.kind {
        Kind::File(f) => sys::set_fd_times(f, a, m),
        Kind::Dir(d) => sys::set_fd_times(&d.dir, a, m),
        _ => Err(Errno::Badf),
    }
}

/// The file behind `fd` for positioned I/O (`fd_pread`/`fd_pwrite`), which
/// needs `needed` rights; a directory is EBADF, a stream ESPIPE.
fn positioned_file(ctx: &WasiCtx, fd: u32, needed: u64) -> Result<&cap_std::fs::File, Errno> {
    let e = ctx.table.get(fd)?;
    let f = match &e.kind {
        Kind::File(f) => f,
        Kind::Dir(_) => return Err(Errno::Badf),
        _ => return Err(Errno::Spipe),
    };
    e.require(needed)?;
    Ok(f)
}

/// `fd_pread(fd, iovs, iovs_len, offset, nread_ptr)`.
pub(crate) fn fd_pread(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nread_ptr: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nread_ptr, 1, 4)?;
    let f = positioned_file(ctx, fd, rights::FD_READ | rights::FD_SEEK)?;
    let mut pos = offset;
    let n = read_iovecs(mem, &iovs, false, |buf| {
        let n = read_at(f, buf, pos)?;
        pos += n as u64;
        Ok(n)
    })?;
    mem.write_u32(nread_ptr, n)
}

#[cfg(unix)]
fn read_at(f: &cap_std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    cap_std::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(unix)]
fn write_at(f: &cap_std::fs::File, buf: &[u8], offset: u64) -> io::Result<usize> {
    cap_std::fs::FileExt::write_at(f, buf, offset)
}

#[cfg(not(unix))]
fn read_at(_f: &cap_std::fs::File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(not(unix))]
fn write_at(_f: &cap_std::fs::File, _buf: &[u8], _offset: u64) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

/// `fd_pwrite(fd, iovs, iovs_len, offset, nwritten_ptr)`.
pub(crate) fn fd_pwrite(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nwritten_ptr: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nwritten_ptr, 1, 4)?;
    let f = positioned_file(ctx, fd, rights::FD_WRITE | rights::FD_SEEK)?;
    let data = mem.gather(&iovs)?;
    let n = if data.is_empty() {
        0
    } else {
        write_at(f, &data, offset)?
    };
    mem.write_u32(nwritten_ptr, n as u32)
}

/// `fd_read(fd, iovs, iovs_len, nread_ptr)`.
pub(crate) fn fd_read(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nread_ptr: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nread_ptr, 1, 4)?;
    let e = ctx.table.get_mut(fd)?;
    let have = e.rights_base;
    let n = match &mut e.kind {
        Kind::File(f) => {
            need(have, rights::FD_READ)?;
            read_iovecs(mem, &iovs, false, |b| f.read(b))?
        }
        Kind::Stdin(input) => {
            need(have, rights::FD_READ)?;
            read_iovecs(mem, &iovs, true, |b| input.read(b))?
        }
        Kind::Stream(s) => {
            need(have, rights::FD_READ)?;
            read_iovecs(mem, &iovs, true, |b| s.read(b))?
        }
        Kind::Stdout(_) => return Err(Errno::Notcapable),
        Kind::Dir(_) | Kind::Listener(_) => return Err(Errno::Badf),
    };
    mem.write_u32(nread_ptr, n)
}

/// `fd_write(fd, iovs, iovs_len, nwritten_ptr)`.
pub(crate) fn fd_write(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nwritten_ptr: u32,
) -> WasiResult {
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(nwritten_ptr, 1, 4)?;
    let e = ctx.table.get_mut(fd)?;
    let have = e.rights_base;
    let data = mem.gather(&iovs)?;
    let n = match &mut e.kind {
        Kind::File(f) => {
            need(have, rights::FD_WRITE)?;
            if data.is_empty() { 0 } else { f.write(&data)? }
        }
        Kind::Stdout(out) => {
            need(have, rights::FD_WRITE)?;
            out.write_all(&data)?;
            data.len()
        }
        Kind::Stream(s) => {
            need(have, rights::FD_WRITE)?;
            if data.is_empty() { 0 } else { s.write(&data)? }
        }
        Kind::Stdin(_) => return Err(Errno::Notcapable),
        Kind::Dir(_) | Kind::Listener(_) => return Err(Errno::Badf),
    };
    mem.write_u32(nwritten_ptr, n as u32)
}

/// `fd_prestat_get(fd, prestat_ptr)`: `EBADF` for any fd that is not a
/// preopened directory, which ends a guest's scan of its preopens.
pub(crate) fn fd_prestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
) -> WasiResult {
    let name = preopen_name(&ctx.table.get(fd)?.kind)?;
    let len = u32::try_from(name.len()).map_err(|_| Errno::Nametoolong)?;
    mem.write(ptr, &encode_prestat_dir(len))
}

fn preopen_name(kind: &Kind) -> Result<&str, Errno> {
    match kind {
        Kind::Dir(DirFd {
            preopen: Some(name),
            ..
        }) => Ok(name),
        _ => Err(Errno::Badf),
    }
}

/// `fd_prestat_dir_name(fd, path, path_len)`: the name without a NUL;
/// `ENAMETOOLONG` if the buffer is too small.
pub(crate) fn fd_prestat_dir_name(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> WasiResult {
    let name = preopen_name(&ctx.table.get(fd)?.kind)?;
    if name.len() > path_len as usize {
        return Err(Errno::Nametoolong);
    }
    mem.write(path, name.as_bytes())
}

/// `fd_renumber(from, to)`: moves `from` to `to`, closing what `to` was;
/// both must be open.
pub(crate) fn fd_renumber(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    from: u32,
    to: u32,
) -> WasiResult {
    ctx.table.get(from)?;
    ctx.table.get(to)?;
    if from != to {
        let e = ctx.table.remove(from)?;
        ctx.table.insert_at(to, e);
    }
    Ok(())
}

fn seek(e: &mut Entry, pos: SeekFrom) -> Result<u64, Errno> {
    match &mut e.kind {
        Kind::File(f) => Ok(f.seek(pos)?),
        Kind::Dir(_) => Err(Errno::Badf),
        _ => Err(Errno::Spipe),
    }
}

/// `fd_seek(fd, offset, whence, newoffset_ptr)`. With only the `fd_tell`
/// right, just `fd_seek(fd, 0, cur)` is allowed.
pub(crate) fn fd_seek(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    whence: u32,
    ptr: u32,
) -> WasiResult {
    let offset = offset as i64;
    let pos = match u8::try_from(whence).map_err(|_| Errno::Inval)? {
        whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        whence::CUR => SeekFrom::Current(offset),
        whence::END => SeekFrom::End(offset),
        _ => return Err(Errno::Inval),
    };
    mem.check(ptr, 1, 8)?;
    let e = ctx.table.get_mut(fd)?;
    if !matches!(e.kind, Kind::File(_) | Kind::Dir(_)) {
        return Err(Errno::Spipe);
    }
    if pos == SeekFrom::Current(0) && e.rights_base & rights::FD_TELL != 0 {
        // Asking for the position only: `fd_tell` suffices.
    } else {
        e.require(rights::FD_SEEK)?;
    }
    let n = seek(e, pos)?;
    mem.write_u64(ptr, n)
}

/// `fd_tell(fd, offset_ptr)`.
pub(crate) fn fd_tell(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
) -> WasiResult {
    mem.check(ptr, 1, 8)?;
    let e = ctx.table.get_mut(fd)?;
    if !matches!(e.kind, Kind::File(_) | Kind::Dir(_)) {
        return Err(Errno::Spipe);
    }
    e.require(rights::FD_TELL)?;
    let n = seek(e, SeekFrom::Current(0))?;
    mem.write_u64(ptr, n)
}

/// Lists a directory for `fd_readdir`: `.` and `..` first, then the
/// entries sorted by name, so the cookie (an index into this list) means
/// the same thing however often the listing is rebuilt. Both `.` and `..`
/// carry the directory's own inode number (`..` of a preopen lies outside
/// the sandbox and is not examined).
fn list(dir: &Dir) -> Result<Vec<Listed>, Errno> {
    #[cfg(not(unix))]
    use cap_fs_ext::MetadataExt;
    #[cfg(unix)]
    use cap_std::fs::MetadataExt;
    let ino = dir.dir_metadata()?.ino();
    let mut out = vec![
        Listed {
            name: b".".to_vec(),
            ino,
            filetype: filetype::DIRECTORY,
        },
        Listed {
            name: b"..".to_vec(),
            ino,
            filetype: filetype::DIRECTORY,
        },
    ];
    let mut rest = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        let filetype = entry
            .file_type()
            .map_or(filetype::UNKNOWN, sys::filetype_of);
        #[cfg(unix)]
        let (name, ino) = {
            use rustix::fs::DirEntryExt;
            use std::os::unix::ffi::OsStringExt;
            (entry.file_name().into_vec(), entry.ino())
        };
        #[cfg(not(unix))]
        let (name, ino) = (
            entry
                .file_name()
                .to_string_lossy()
                .into_owned()
                .into_bytes(),
            entry.metadata().map_or(0, |m| m.ino()),
        );
        rest.push(Listed {
            name,
            ino,
            filetype,
        });
    }
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(rest);
    Ok(out)
}

/// `fd_readdir(fd, buf, buf_len, cookie, bufused_ptr)`: packs `dirent`
/// headers and names from entry number `cookie` on; the last one is cut
/// off when the buffer is full (the guest sees `bufused == buf_len` and
/// asks again). Cookie 0 re-reads the directory; later cookies are served
/// from that listing.
pub(crate) fn fd_readdir(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    bufused_ptr: u32,
) -> WasiResult {
    mem.check(bufused_ptr, 1, 4)?;
    let e = ctx.table.get_mut(fd)?;
    let have = e.rights_base;
    let Kind::Dir(d) = &mut e.kind else {
        return Err(Errno::Notdir);
    };
    need(have, rights::FD_READDIR)?;
    if cookie == 0 || d.listing.is_none() {
        d.listing = Some(list(&d.dir)?);
    }
    let listing = d.listing.as_deref().unwrap_or_default();
    let out = mem.bytes_mut(buf, buf_len)?;
    let mut used = 0usize;
    let start = usize::try_from(cookie).unwrap_or(usize::MAX);
    for (i, item) in listing.iter().enumerate().skip(start) {
        let header = encode_dirent(
            i as u64 + 1,
            item.ino,
            item.name.len() as u32,
            item.filetype,
        );
        for part in [&header[..], &item.name[..]] {
            let n = part.len().min(out.len() - used);
            out[used..used + n].copy_from_slice(&part[..n]);
            used += n;
        }
        if used == out.len() {
            break;
        }
    }
    mem.write_u32(bufused_ptr, used as u32)
}
