//! A `no_std` build of Kiln packaged as a static library with a small C
//! API (`minp_*`, declared in `host.c`), for a C host that provides
//! `include/kiln-platform.h` (`platform.c`). Nothing here uses `std`: the
//! heap is dlmalloc over the header's `kiln_mmap_new` (or, without the
//! `vm-and-signals` feature, over a static arena), and a panic stops the
//! process with a trap instruction.
//!
//! The host loads each module in one of three ways ([`MINP_INTERPRETED`],
//! [`MINP_PRECOMPILED_SIGNAL_FREE`], [`MINP_PRECOMPILED_SIGNALS`]) from
//! bytes ([`minp_load`]) or, for native code linked into the program, from
//! its descriptor ([`minp_load_static`]); instantiates it with one host
//! function; and calls its exports.

#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use alloc::format;
use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_char;
use core::sync::atomic::{AtomicBool, Ordering};

use kiln::{Config, Engine, Instance, Linker, Module, Store, Strategy, Trap};

/// Load a `.wasm` binary and run it on the interpreter.
pub const MINP_INTERPRETED: u32 = 0;
/// Load a `.kwasm` compiled with `-W signals-based-traps=n`: native code
/// that checks everything explicitly and never faults on purpose.
pub const MINP_PRECOMPILED_SIGNAL_FREE: u32 = 1;
/// Load a `.kwasm` compiled with the defaults: native code that relies on
/// guard pages and trap instructions, which reach Kiln through the host's
/// fault handler (`kiln_traps_init` in `platform.c`).
pub const MINP_PRECOMPILED_SIGNALS: u32 = 2;

/// The function a module imports as `env.host`, provided by the C host.
pub type HostFn = unsafe extern "C" fn(i32) -> i32;

/// A loaded module with its store and instance.
pub struct MinpInstance {
    store: Store<HostFn>,
    instance: Instance,
}

/// Writes `message` into the caller's buffer as a C string (truncated).
///
/// # Safety
/// `err` must be null or valid for `err_len` bytes.
unsafe fn report(err: *mut c_char, err_len: usize, message: &str) {
    if err.is_null() || err_len == 0 {
        return;
    }
    let n = message.len().min(err_len - 1);
    // SAFETY: `err` is valid for `err_len` bytes and `n < err_len`.
    unsafe {
        core::ptr::copy_nonoverlapping(message.as_ptr(), err.cast::<u8>(), n);
        *err.add(n) = 0;
    }
}

/// Where a module comes from.
enum Source<'a> {
    /// A `.wasm` binary or a `.kwasm` artifact.
    Bytes(&'a [u8]),
    /// Native code linked into the program by `kiln compile --emit-object`.
    Linked(&'static kiln::StaticModule),
}

fn load(kind: u32, source: Source<'_>, host: HostFn) -> kiln::Result<Box<MinpInstance>> {
    let mut config = Config::new();
    match kind {
        MINP_INTERPRETED => config.strategy(Strategy::Interpreter),
        MINP_PRECOMPILED_SIGNAL_FREE => config
            .strategy(Strategy::Cranelift)
            .signals_based_traps(false),
        MINP_PRECOMPILED_SIGNALS => config.strategy(Strategy::Cranelift),
        _ => return Err(anyhow::Error::msg(format!("unknown module kind {kind}"))),
    };
    let engine = Engine::new(&config)?;
    let module = match source {
        Source::Bytes(bytes) if kind == MINP_INTERPRETED => Module::new(&engine, bytes)?,
        // SAFETY: the host passes artifacts `kiln compile` wrote for this
        // machine; the loader checks the format, target, CPU features and
        // configuration before using any of it.
        Source::Bytes(bytes) => unsafe { Module::deserialize(&engine, bytes)? },
        // SAFETY: the descriptor is the one `kiln compile --emit-object`
        // wrote into the object the host linked in, unchanged.
        Source::Linked(module) => unsafe { Module::from_static(&engine, module)? },
    };
    let mut linker = Linker::<HostFn>::new(&engine);
    linker.func_wrap("env", "host", |caller: kiln::Caller<'_, HostFn>, x: i32| {
        let host = *caller.data();
        // SAFETY: the C host passed a function of this signature.
        unsafe { host(x) }
    })?;
    let mut store = Store::new(&engine, host);
    let instance = linker.instantiate(&mut store, &module)?;
    Ok(Box::new(MinpInstance { store, instance }))
}

/// Loads module `bytes` of `kind` (a `MINP_*` constant) and instantiates
/// it with `host` as `env.host`. Returns the instance, or null with a
/// message in `err`.
///
/// # Safety
/// `bytes` must be valid for `len` bytes, `err` null or valid for
/// `err_len` bytes, and `host` a function of the declared signature.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minp_load(
    kind: u32,
    bytes: *const u8,
    len: usize,
    host: HostFn,
    err: *mut c_char,
    err_len: usize,
) -> *mut MinpInstance {
    if bytes.is_null() {
        // SAFETY: forwarded.
        unsafe { report(err, err_len, "no module bytes") };
        return core::ptr::null_mut();
    }
    // SAFETY: the caller's contract.
    let bytes = unsafe { core::slice::from_raw_parts(bytes, len) };
    // SAFETY: forwarded.
    unsafe { finish(load(kind, Source::Bytes(bytes), host), err, err_len) }
}

/// Loads native code linked into the program: `module` is the symbol that
/// `kiln compile --emit-object --symbol NAME` defined. Otherwise as
/// `minp_load`.
///
/// # Safety
/// `module` must be such a symbol, linked unchanged; the rest as for
/// `minp_load`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minp_load_static(
    kind: u32,
    module: *const kiln::StaticModule,
    host: HostFn,
    err: *mut c_char,
    err_len: usize,
) -> *mut MinpInstance {
    // SAFETY: the caller's contract: a descriptor in the program's image,
    // which lives as long as the program.
    let Some(module) = (unsafe { module.as_ref() }) else {
        // SAFETY: forwarded.
        unsafe { report(err, err_len, "no module descriptor") };
        return core::ptr::null_mut();
    };
    // SAFETY: forwarded.
    unsafe { finish(load(kind, Source::Linked(module), host), err, err_len) }
}

/// Hands a loaded instance to C, or reports why there is none.
///
/// # Safety
/// `err` as for `minp_load`.
unsafe fn finish(
    loaded: kiln::Result<Box<MinpInstance>>,
    err: *mut c_char,
    err_len: usize,
) -> *mut MinpInstance {
    match loaded {
        Ok(instance) => Box::into_raw(instance),
        Err(e) => {
            // SAFETY: forwarded.
            unsafe { report(err, err_len, &format!("{e:#}")) };
            core::ptr::null_mut()
        }
    }
}

/// Calls export `name` (`name_len` bytes of UTF-8; type `[i32] -> [i32]`)
/// with `arg`. Returns 0 and
/// stores the result in `*result`; 1 if wasm trapped; 2 for another error.
/// The message goes to `err` in both failure cases. The instance stays
/// usable after a trap.
///
/// # Safety
/// `instance` must come from `minp_load` and not be freed; `name` must be
/// valid for `name_len` bytes; `result` valid for a write; `err` as for
/// `minp_load`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minp_call(
    instance: *mut MinpInstance,
    name: *const u8,
    name_len: usize,
    arg: i32,
    result: *mut i32,
    err: *mut c_char,
    err_len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    let (this, name) = unsafe { (&mut *instance, core::slice::from_raw_parts(name, name_len)) };
    let outcome = core::str::from_utf8(name)
        .map_err(|_| anyhow::Error::msg("export name is not UTF-8"))
        .and_then(|name| {
            this.instance
                .get_typed_func::<i32, i32>(&mut this.store, name)
        })
        .and_then(|func| func.call(&mut this.store, arg));
    match outcome {
        Ok(value) => {
            // SAFETY: the caller's contract.
            unsafe { *result = value };
            0
        }
        Err(e) => {
            let trapped = e.downcast_ref::<Trap>().is_some();
            // SAFETY: forwarded.
            unsafe { report(err, err_len, &format!("{e:#}")) };
            if trapped { 1 } else { 2 }
        }
    }
}

/// Frees an instance from `minp_load` (null is ignored).
///
/// # Safety
/// `instance` must come from `minp_load` and not have been freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn minp_free(instance: *mut MinpInstance) {
    if !instance.is_null() {
        // SAFETY: the caller's contract: ours, from `Box::into_raw`.
        drop(unsafe { Box::from_raw(instance) });
    }
}

/// Pages for dlmalloc: from the platform header's `kiln_mmap_new`, or
/// (without `vm-and-signals`, where the header has no memory functions)
/// from a static arena.
struct Pages;

// The platform functions this allocator needs (defined by the host in
// platform.c, declared in include/kiln-platform.h).
#[cfg(feature = "vm-and-signals")]
unsafe extern "C" {
    fn kiln_mmap_new(size: usize, prot: u32) -> *mut u8;
    fn kiln_munmap(addr: *mut u8, size: usize) -> i32;
    fn kiln_page_size() -> usize;
}

#[cfg(feature = "vm-and-signals")]
impl Pages {
    fn get(&self, size: usize) -> *mut u8 {
        // SAFETY: asks for fresh memory; KILN_PROT_READ | KILN_PROT_WRITE.
        unsafe { kiln_mmap_new(size, 1 | 2) }
    }
    fn give_back(&self, ptr: *mut u8, size: usize) -> bool {
        // SAFETY: dlmalloc frees only whole regions `alloc` returned.
        unsafe { kiln_munmap(ptr, size) == 0 }
    }
    fn page(&self) -> usize {
        // SAFETY: takes nothing.
        unsafe { kiln_page_size() }
    }
}

/// The arena: zero-initialised, so it costs no space in the file, and the
/// OS only backs the pages that are touched.
#[cfg(not(feature = "vm-and-signals"))]
const ARENA_BYTES: usize = 256 << 20;

/// Page-aligned, as dlmalloc's segments are.
#[cfg(not(feature = "vm-and-signals"))]
#[repr(C, align(4096))]
struct ArenaBytes([u8; ARENA_BYTES]);

#[cfg(not(feature = "vm-and-signals"))]
struct Arena {
    bytes: core::cell::UnsafeCell<ArenaBytes>,
    used: core::sync::atomic::AtomicUsize,
}

// SAFETY: `used` hands each byte of the arena out at most once.
#[cfg(not(feature = "vm-and-signals"))]
unsafe impl Sync for Arena {}

#[cfg(not(feature = "vm-and-signals"))]
static ARENA: Arena = Arena {
    bytes: core::cell::UnsafeCell::new(ArenaBytes([0; ARENA_BYTES])),
    used: core::sync::atomic::AtomicUsize::new(0),
};

#[cfg(not(feature = "vm-and-signals"))]
impl Pages {
    fn get(&self, size: usize) -> *mut u8 {
        let mut used = ARENA.used.load(Ordering::Relaxed);
        loop {
            let Some(end) = used.checked_add(size).filter(|&end| end <= ARENA_BYTES) else {
                return core::ptr::null_mut();
            };
            match ARENA
                .used
                .compare_exchange(used, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: `used..end` lies inside the arena.
                Ok(_) => return unsafe { ARENA.bytes.get().cast::<u8>().add(used) },
                Err(now) => used = now,
            }
        }
    }
    fn give_back(&self, _ptr: *mut u8, _size: usize) -> bool {
        false
    }
    fn page(&self) -> usize {
        4096
    }
}

// SAFETY: `alloc` returns fresh zeroed read/write memory of the size it
// reports, never handed out before, and nothing is freed in part or moved.
unsafe impl dlmalloc::Allocator for Pages {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let ptr = self.get(size);
        (ptr, if ptr.is_null() { 0 } else { size }, 0)
    }
    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        core::ptr::null_mut()
    }
    fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
        false
    }
    fn free(&self, ptr: *mut u8, size: usize) -> bool {
        self.give_back(ptr, size)
    }
    fn can_release_part(&self, _flags: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        true
    }
    fn page_size(&self) -> usize {
        self.page()
    }
}

/// dlmalloc behind a spin lock (the host may call from several threads).
struct Heap {
    locked: AtomicBool,
    heap: core::cell::UnsafeCell<dlmalloc::Dlmalloc<Pages>>,
}

// SAFETY: the heap is only touched with `locked` held.
unsafe impl Sync for Heap {}

impl Heap {
    fn with<R>(&self, f: impl FnOnce(&mut dlmalloc::Dlmalloc<Pages>) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: we hold the lock, so this is the only reference.
        let r = f(unsafe { &mut *self.heap.get() });
        self.locked.store(false, Ordering::Release);
        r
    }
}

// SAFETY: each method forwards to dlmalloc with the layout's size and
// alignment, under the lock.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded layout.
        self.with(|h| unsafe { h.malloc(layout.size(), layout.align()) })
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded layout.
        self.with(|h| unsafe { h.calloc(layout.size(), layout.align()) })
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this heap with this layout.
        self.with(|h| unsafe { h.free(ptr, layout.size(), layout.align()) })
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this heap with this layout.
        self.with(|h| unsafe { h.realloc(ptr, layout.size(), layout.align(), new_size) })
    }
}

#[global_allocator]
static HEAP: Heap = Heap {
    locked: AtomicBool::new(false),
    heap: core::cell::UnsafeCell::new(dlmalloc::Dlmalloc::new_with_allocator(Pages)),
};

// The precompiled `core` and `alloc` of a hosted target (this library is
// built for x86_64-unknown-linux-gnu, whose C ABI the host uses) carry
// unwinding landing pads that end in `_Unwind_Resume` and name
// `rust_eh_personality`. With `panic = "abort"` nothing ever unwinds, so
// neither is called; defining them here keeps the archive from needing
// the C unwinder (libgcc_s) for code that cannot run.
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    panic_stop()
}

#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() -> ! {
    panic_stop()
}

// LLVM turns `memcmp(..) == 0` into `bcmp`, which the C libraries of
// hosted targets have; defining it here in terms of `memcmp` (whose result
// it returns, so no such rewrite applies inside) keeps the archive's
// imports to the four C memory routines.
unsafe extern "C" {
    fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32;
}

/// `bcmp`: zero when the `n` bytes at `a` and `b` are equal.
///
/// # Safety
/// As for `memcmp`: both ranges readable for `n` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { memcmp(a, b, n) }
}

/// A panic is a bug here (every error is returned to C); stop at once
/// with an illegal instruction, which the host's fault handler does not
/// claim (its pc is not wasm code), so the process dies of SIGILL.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    panic_stop()
}

/// Stops the process with an illegal instruction.
fn panic_stop() -> ! {
    loop {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: raises an invalid-opcode fault; nothing continues.
        unsafe {
            core::arch::asm!("ud2")
        };
        #[cfg(target_arch = "aarch64")]
        // SAFETY: as above.
        unsafe {
            core::arch::asm!("udf #0")
        };
    }
}
