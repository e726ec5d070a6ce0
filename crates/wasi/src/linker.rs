//! [`add_to_linker`]: defines every `wasi_snapshot_preview1` import.
//!
//! A WASI call needs the context (in the store's data) and the guest's
//! memory (in the store) at once, and the `kiln` API hands out only one
//! of them at a time. So each call moves the context out of the store,
//! leaving an empty placeholder that allocates nothing, runs with the
//! context and the memory, and moves the context back before returning.
//! No WASI function calls back into wasm, so nothing can observe the
//! placeholder.

use crate::ctx::{I32Exit, WasiCtx};
use crate::errno::Errno;
use crate::funcs::{args, clock, fd, path, poll, proc, sock};
use crate::memory::GuestMemory;
use kiln::{Caller, Extern, Linker};

/// The import module name of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// Runs `f` with the context found through `get` and the caller's
/// exported `memory` (an empty one if there is none, so every pointer is
/// `EFAULT`), and returns the errno as the guest sees it.
fn call<T>(
    caller: &mut Caller<'_, T>,
    get: impl Fn(&mut T) -> &mut WasiCtx,
    f: impl FnOnce(&mut WasiCtx, &mut GuestMemory<'_>) -> Result<(), Errno>,
) -> i32 {
    let mut ctx = std::mem::replace(get(caller.data_mut()), WasiCtx::placeholder());
    let result = match caller.get_export("memory").and_then(Extern::into_memory) {
        Some(memory) => f(
            &mut ctx,
            &mut GuestMemory::new(memory.data_mut(&mut *caller)),
        ),
        None => f(&mut ctx, &mut GuestMemory::new(&mut [])),
    };
    *get(caller.data_mut()) = ctx;
    match result {
        Ok(()) => 0,
        Err(e) => e.raw(),
    }
}

/// Defines all of `wasi_snapshot_preview1` in `linker`. `get` finds the
/// [`WasiCtx`] in the store's data:
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use kiln::{Engine, Linker, Module, Store};
/// use kiln_wasi::{WasiCtx, WasiCtxBuilder, add_to_linker};
///
/// let engine = Engine::default();
/// let mut linker: Linker<WasiCtx> = Linker::new(&engine);
/// add_to_linker(&mut linker, |ctx| ctx)?;
/// let mut store = Store::new(&engine, WasiCtxBuilder::new().arg("prog").build());
/// let module = Module::new(&engine, r#"(module
///     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
///     (memory (export "memory") 1)
///     (func (export "_start") (call $exit (i32.const 3))))"#)?;
/// let instance = linker.instantiate(&mut store, &module)?;
/// let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
/// let err = start.call(&mut store, ()).unwrap_err();
/// assert_eq!(err.downcast_ref::<kiln_wasi::I32Exit>(), Some(&kiln_wasi::I32Exit(3)));
/// # Ok(())
/// # }
/// ```
///
/// Functions return their errno as an `i32`; `proc_exit` instead ends the
/// call with an [`I32Exit`] error.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: impl Fn(&mut T) -> &mut WasiCtx + Send + Sync + Copy + 'static,
) -> anyhow::Result<()> {
    macro_rules! wasi {
        ($($name:literal => $f:path, ($($a:ident: $t:ty),*);)*) => {$(
            linker.func_wrap(
                MODULE,
                $name,
                move |mut caller: Caller<'_, T>, $($a: $t),*| -> anyhow::Result<i32> {
                    Ok(call(&mut caller, get, |ctx, mem| $f(ctx, mem, $($a),*)))
                },
            )?;
        )*};
    }
    wasi! {
        "args_get" => args::args_get, (argv: u32, buf: u32);
        "args_sizes_get" => args::args_sizes_get, (count: u32, size: u32);
        "environ_get" => args::environ_get, (ptrs: u32, buf: u32);
        "environ_sizes_get" => args::environ_sizes_get, (count: u32, size: u32);
        "clock_res_get" => clock::clock_res_get, (id: u32, out: u32);
        "clock_time_get" => clock::clock_time_get, (id: u32, precision: u64, out: u32);
        "fd_advise" => fd::fd_advise, (fd: u32, offset: u64, len: u64, advice: u32);
        "fd_allocate" => fd::fd_allocate, (fd: u32, offset: u64, len: u64);
        "fd_close" => fd::fd_close, (fd: u32);
        "fd_datasync" => fd::fd_datasync, (fd: u32);
        "fd_fdstat_get" => fd::fd_fdstat_get, (fd: u32, out: u32);
        "fd_fdstat_set_flags" => fd::fd_fdstat_set_flags, (fd: u32, flags: u32);
        "fd_fdstat_set_rights" => fd::fd_fdstat_set_rights, (fd: u32, base: u64, inheriting: u64);
        "fd_filestat_get" => fd::fd_filestat_get, (fd: u32, out: u32);
        "fd_filestat_set_size" => fd::fd_filestat_set_size, (fd: u32, size: u64);
        "fd_filestat_set_times" => fd::fd_filestat_set_times, (fd: u32, atim: u64, mtim: u64, fst: u32);
        "fd_pread" => fd::fd_pread, (fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32);
        "fd_prestat_get" => fd::fd_prestat_get, (fd: u32, out: u32);
        "fd_prestat_dir_name" => fd::fd_prestat_dir_name, (fd: u32, path: u32, len: u32);
        "fd_pwrite" => fd::fd_pwrite, (fd: u32, iovs: u32, iovs_len: u32, offset: u64, out: u32);
        "fd_read" => fd::fd_read, (fd: u32, iovs: u32, iovs_len: u32, out: u32);
        "fd_readdir" => fd::fd_readdir, (fd: u32, buf: u32, len: u32, cookie: u64, out: u32);
        "fd_renumber" => fd::fd_renumber, (from: u32, to: u32);
        "fd_seek" => fd::fd_seek, (fd: u32, offset: u64, whence: u32, out: u32);
        "fd_sync" => fd::fd_sync, (fd: u32);
        "fd_tell" => fd::fd_tell, (fd: u32, out: u32);
        "fd_write" => fd::fd_write, (fd: u32, iovs: u32, iovs_len: u32, out: u32);
        "path_create_directory" => path::path_create_directory, (fd: u32, p: u32, len: u32);
        "path_filestat_get" => path::path_filestat_get, (fd: u32, flags: u32, p: u32, len: u32, out: u32);
        "path_filestat_set_times" => path::path_filestat_set_times,
            (fd: u32, flags: u32, p: u32, len: u32, atim: u64, mtim: u64, fst: u32);
        "path_link" => path::path_link,
            (old_fd: u32, old_flags: u32, old: u32, old_len: u32, new_fd: u32, new: u32, new_len: u32);
        "path_open" => path::path_open,
            (fd: u32, dirflags: u32, p: u32, len: u32, oflags: u32, base: u64, inheriting: u64,
             fdflags: u32, out: u32);
        "path_readlink" => path::path_readlink,
            (fd: u32, p: u32, len: u32, buf: u32, buf_len: u32, out: u32);
        "path_remove_directory" => path::path_remove_directory, (fd: u32, p: u32, len: u32);
        "path_rename" => path::path_rename,
            (fd: u32, old: u32, old_len: u32, new_fd: u32, new: u32, new_len: u32);
        "path_symlink" => path::path_symlink, (old: u32, old_len: u32, fd: u32, new: u32, new_len: u32);
        "path_unlink_file" => path::path_unlink_file, (fd: u32, p: u32, len: u32);
        "poll_oneoff" => poll::poll_oneoff, (input: u32, out: u32, n: u32, nevents: u32);
        "proc_raise" => proc::proc_raise, (sig: u32);
        "sched_yield" => proc::sched_yield, ();
        "random_get" => proc::random_get, (buf: u32, len: u32);
        "sock_accept" => sock::sock_accept, (fd: u32, flags: u32, out: u32);
        "sock_recv" => sock::sock_recv,
            (fd: u32, iovs: u32, iovs_len: u32, flags: u32, out_len: u32, out_flags: u32);
        "sock_send" => sock::sock_send, (fd: u32, iovs: u32, iovs_len: u32, flags: u32, out: u32);
        "sock_shutdown" => sock::sock_shutdown, (fd: u32, how: u32);
    }
    linker.func_wrap(MODULE, "proc_exit", |code: i32| -> anyhow::Result<()> {
        Err(I32Exit(code).into())
    })?;
    Ok(())
}
