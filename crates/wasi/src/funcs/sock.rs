//! `sock_accept`, `sock_recv`, `sock_send` and `sock_shutdown` on the
//! preopened listening sockets and the streams accepted from them.

use super::WasiResult;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fd_table::{Entry, Kind};
use crate::memory::GuestMemory;
use crate::types::{RECV_PEEK, RECV_WAITALL, SHUT_RD, SHUT_WR, fdflags, rights};
use std::io::{Read, Write};
use std::net::Shutdown;

/// `sock_accept(fd, flags, fd_ptr)`: the only flag allowed is `NONBLOCK`,
/// for the new stream.
pub(crate) fn sock_accept(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    fd_ptr: u32,
) -> WasiResult {
    if flags & !u32::from(fdflags::NONBLOCK) != 0 {
        return Err(Errno::Inval);
    }
    mem.check(fd_ptr, 1, 4)?;
    let e = ctx.table.get(fd)?;
    let Kind::Listener(l) = &e.kind else {
        return Err(Errno::Notsock);
    };
    e.require(rights::SOCK_ACCEPT)?;
    let inheriting = e.rights_inheriting;
    let (stream, _peer) = l.accept()?;
    let nonblock = flags != 0;
    stream.set_nonblocking(nonblock)?;
    let mut entry = Entry::new(Kind::Stream(stream), rights::STREAM & inheriting, 0);
    if nonblock {
        entry.flags = fdflags::NONBLOCK;
    }
    let new_fd = ctx.table.push(entry)?;
    mem.write_u32(fd_ptr, new_fd)
}

/// `sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen_ptr,
/// ro_flags_ptr)`: `RECV_PEEK` leaves the data queued, `RECV_WAITALL`
/// waits until every buffer is full or the peer closes. `ro_flags` is
/// always 0 (no truncation on a stream).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sock_recv(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    ri_flags: u32,
    len_ptr: u32,
    flags_ptr: u32,
) -> WasiResult {
    let ri_flags = u16::try_from(ri_flags).map_err(|_| Errno::Inval)?;
    if ri_flags & !(RECV_PEEK | RECV_WAITALL) != 0 {
        return Err(Errno::Inval);
    }
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(len_ptr, 1, 4)?;
    mem.check(flags_ptr, 1, 2)?;
    let e = ctx.table.get_mut(fd)?;
    let have = e.rights_base;
    let Kind::Stream(s) = &mut e.kind else {
        return Err(Errno::Notsock);
    };
    super::fd::need(have, rights::FD_READ)?;
    let total: usize = iovs.iter().map(|v| v.len as usize).sum();
    let mut data = vec![0u8; total];
    let n = if ri_flags & RECV_PEEK != 0 {
        s.peek(&mut data)?
    } else if ri_flags & RECV_WAITALL != 0 {
        let mut got = 0;
        while got < total {
            match s.read(&mut data[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) if got > 0 => break,
                Err(e) => return Err(e.into()),
            }
        }
        got
    } else if total == 0 {
        0
    } else {
        s.read(&mut data)?
    };
    mem.scatter(&iovs, &data[..n])?;
    mem.write_u32(len_ptr, n as u32)?;
    mem.write_u16(flags_ptr, 0)
}

/// `sock_send(fd, si_data, si_data_len, si_flags, so_datalen_ptr)`; no
/// `si_flags` are defined, so any is `EINVAL`.
pub(crate) fn sock_send(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    si_flags: u32,
    len_ptr: u32,
) -> WasiResult {
    if si_flags != 0 {
        return Err(Errno::Inval);
    }
    let iovs = mem.iovecs(iovs, iovs_len)?;
    mem.check(len_ptr, 1, 4)?;
    let e = ctx.table.get_mut(fd)?;
    let have = e.rights_base;
    let Kind::Stream(s) = &mut e.kind else {
        return Err(Errno::Notsock);
    };
    super::fd::need(have, rights::FD_WRITE)?;
    let data = mem.gather(&iovs)?;
    let n = if data.is_empty() { 0 } else { s.write(&data)? };
    mem.write_u32(len_ptr, n as u32)
}

/// `sock_shutdown(fd, how)`: `how` is `RD`, `WR` or both.
pub(crate) fn sock_shutdown(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMemory<'_>,
    fd: u32,
    how: u32,
) -> WasiResult {
    let how = match u8::try_from(how).map_err(|_| Errno::Inval)? {
        SHUT_RD => Shutdown::Read,
        SHUT_WR => Shutdown::Write,
        x if x == SHUT_RD | SHUT_WR => Shutdown::Both,
        _ => return Err(Errno::Inval),
    };
    let e = ctx.table.get(fd)?;
    let Kind::Stream(s) = &e.kind else {
        return Err(Errno::Notsock);
    };
    e.require(rights::SOCK_SHUTDOWN)?;
    Ok(s.shutdown(how)?)
}
