//! `proc_raise`, `sched_yield` and `random_get` (`proc_exit` is in
//! `linker.rs`: it ends the call with [`I32Exit`](crate::I32Exit) rather
//! than returning an errno).

use super::WasiResult;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::memory::GuestMemory;

/// `proc_raise(sig)`: signals are not supported, so `ENOSYS`.
pub(crate) fn proc_raise(_ctx: &mut WasiCtx, _mem: &mut GuestMemory<'_>, _sig: u32) -> WasiResult {
    Err(Errno::Nosys)
}

/// `sched_yield()`.
pub(crate) fn sched_yield(_ctx: &mut WasiCtx, _mem: &mut GuestMemory<'_>) -> WasiResult {
    std::thread::yield_now();
    Ok(())
}

/// `random_get(buf, len)`: the host's secure random source.
pub(crate) fn random_get(
    _ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    buf: u32,
    len: u32,
) -> WasiResult {
    let dst = mem.bytes_mut(buf, len)?;
    getrandom::fill(dst).map_err(|_| Errno::Io)
}
