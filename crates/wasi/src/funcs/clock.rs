//! `clock_res_get` and `clock_time_get`. Real time is the host's wall
//! clock; monotonic time counts from the context's creation; the CPU-time
//! clocks are the host's (Linux and Android; `ENOTSUP` elsewhere).

use super::WasiResult;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::memory::GuestMemory;
use crate::types::clockid;
use std::time::{SystemTime, UNIX_EPOCH};

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The current time of clock `id` in nanoseconds.
pub(crate) fn now(ctx: &WasiCtx, id: u32) -> Result<u64, Errno> {
    match id {
        clockid::REALTIME => {
            let d = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(|_| Errno::Overflow)?;
            Ok(nanos(d))
        }
        clockid::MONOTONIC => Ok(nanos(ctx.start.elapsed())),
        clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => cpu_time(id),
        _ => Err(Errno::Inval),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn host_clock(id: u32) -> rustix::time::ClockId {
    use rustix::time::ClockId;
    match id {
        clockid::REALTIME => ClockId::Realtime,
        clockid::MONOTONIC => ClockId::Monotonic,
        clockid::PROCESS_CPUTIME_ID => ClockId::ProcessCPUTime,
        _ => ClockId::ThreadCPUTime,
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn timespec_nanos(t: rustix::time::Timespec) -> u64 {
    (t.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as u64)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn cpu_time(id: u32) -> Result<u64, Errno> {
    Ok(timespec_nanos(rustix::time::clock_gettime(host_clock(id))))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn cpu_time(_id: u32) -> Result<u64, Errno> {
    Err(Errno::Notsup)
}

/// `clock_res_get(id, resolution_ptr)`.
pub(crate) fn clock_res_get(
    _ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    ptr: u32,
) -> WasiResult {
    if id > clockid::THREAD_CPUTIME_ID {
        return Err(Errno::Inval);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let res = timespec_nanos(rustix::time::clock_getres(host_clock(id))).max(1);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let res = match id {
        clockid::REALTIME | clockid::MONOTONIC => 1_000,
        _ => return Err(Errno::Notsup),
    };
    mem.write_u64(ptr, res)
}

/// `clock_time_get(id, precision, time_ptr)`; the precision is a hint and
/// is ignored.
pub(crate) fn clock_time_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    id: u32,
    _precision: u64,
    ptr: u32,
) -> WasiResult {
    let t = now(ctx, id)?;
    mem.write_u64(ptr, t)
}
