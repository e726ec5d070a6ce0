//! `args_*` and `environ_*`: NUL-terminated strings packed into one guest
//! buffer, with an array of pointers to them.

use super::WasiResult;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::memory::GuestMemory;

fn sizes(items: &[Vec<u8>]) -> Result<(u32, u32), Errno> {
    let count = u32::try_from(items.len()).map_err(|_| Errno::Overflow)?;
    let bytes: usize = items.iter().map(|s| s.len() + 1).sum();
    let bytes = u32::try_from(bytes).map_err(|_| Errno::Overflow)?;
    Ok((count, bytes))
}

fn put(mem: &mut GuestMemory<'_>, items: &[Vec<u8>], ptrs: u32, buf: u32) -> WasiResult {
    let (count, bytes) = sizes(items)?;
    mem.check(ptrs, count, 4)?;
    mem.check(buf, 1, bytes)?;
    let mut at = buf;
    for (i, s) in items.iter().enumerate() {
        mem.write_u32(ptrs + 4 * i as u32, at)?;
        mem.write(at, s)?;
        mem.write_u8(at + s.len() as u32, 0)?;
        at += s.len() as u32 + 1;
    }
    Ok(())
}

fn args(ctx: &WasiCtx) -> Vec<Vec<u8>> {
    ctx.args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn environ(ctx: &WasiCtx) -> Vec<Vec<u8>> {
    ctx.env
        .iter()
        .map(|(k, v)| format!("{k}={v}").into_bytes())
        .collect()
}

/// `args_get(argv, argv_buf)`.
pub(crate) fn args_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    argv: u32,
    buf: u32,
) -> WasiResult {
    put(mem, &args(ctx), argv, buf)
}

/// `args_sizes_get(argc_ptr, argv_buf_size_ptr)`.
pub(crate) fn args_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    count_ptr: u32,
    size_ptr: u32,
) -> WasiResult {
    let (count, bytes) = sizes(&args(ctx))?;
    mem.write_u32(count_ptr, count)?;
    mem.write_u32(size_ptr, bytes)
}

/// `environ_get(environ, environ_buf)`: `KEY=value` strings.
pub(crate) fn environ_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    ptrs: u32,
    buf: u32,
) -> WasiResult {
    put(mem, &environ(ctx), ptrs, buf)
}

/// `environ_sizes_get(count_ptr, buf_size_ptr)`.
pub(crate) fn environ_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    count_ptr: u32,
    size_ptr: u32,
) -> WasiResult {
    let (count, bytes) = sizes(&environ(ctx))?;
    mem.write_u32(count_ptr, count)?;
    mem.write_u32(size_ptr, bytes)
}
