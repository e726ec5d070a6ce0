//! Kiln without `std`: this program links the `kiln` crate built with
//! `default-features = false, features = ["runtime", "interp"]`, and runs a
//! WebAssembly module on the interpreter.
//!
//! It is its own proof that no `std` is in the graph: it defines
//! `#[panic_handler]`, which would be a duplicate lang item if `std` were
//! linked. It also provides what an embedder of the `no_std` build must:
//! a global allocator and the functions of `include/kiln-platform.h` (the
//! per-thread slot and locks). It has no C library; it starts at its own
//! `_start` and reaches Linux through raw system calls, so the same binary
//! runs natively (x86_64) or under user-mode qemu (riscv32, arm) and prints
//! what it checked. Any failed check exits with status 1.

#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kiln::{Caller, Config, Engine, Linker, Module, Store, Trap, TrapCode};

mod sys;

static WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/check.wasm"));

/// Output through the `write` system call, a line at a time.
struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        sys::write(1, s.as_bytes());
        Ok(())
    }
}

macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(Stdout, $($arg)*);
    }};
}

/// What the host import `host.print` saw last: (which, value).
struct Printed {
    which: i32,
    value: i64,
}

fn check(what: &str, ok: bool) {
    say!("{} {what}", if ok { "ok  " } else { "FAIL" });
    if !ok {
        sys::exit(1);
    }
}

fn run() -> kiln::Result<()> {
    let engine = Engine::default();
    let module = Module::new(&engine, WASM)?;
    let mut linker = Linker::<Printed>::new(&engine);
    linker.func_wrap(
        "host",
        "print",
        |mut caller: Caller<'_, Printed>, which: i32, value: i64| {
            *caller.data_mut() = Printed { which, value };
        },
    )?;
    let mut store = Store::new(
        &engine,
        Printed {
            which: -1,
            value: 0,
        },
    );
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(i32, i32), ()>(&mut store, "run")?;
    let oob = instance.get_typed_func::<(), i32>(&mut store, "out_of_bounds")?;

    run.call(&mut store, (0, 25))?;
    let p = store.data();
    say!(
        "fib(25) = {} (through call_indirect and a host call)",
        p.value
    );
    check("fib(25) is 75025", p.which == 0 && p.value == 75025);

    run.call(&mut store, (1, 1000))?;
    let p = store.data();
    say!(
        "sum of i*i for i < 1000 = {} (through linear memory)",
        p.value
    );
    check(
        "the sum is 332833500",
        p.which == 1 && p.value == 332_833_500,
    );

    let err = oob
        .call(&mut store, ())
        .expect_err("the load is out of bounds");
    let trap = err.downcast_ref::<Trap>().and_then(Trap::code);
    check(
        "an out-of-bounds load traps",
        trap == Some(TrapCode::MemoryOutOfBounds),
    );
    let err = run
        .call(&mut store, (2, 0))
        .expect_err("table entry 2 is out of bounds");
    let trap = err.downcast_ref::<Trap>().and_then(Trap::code);
    check(
        "a call_indirect past the table traps (undefined element)",
        trap == Some(TrapCode::UndefinedElement),
    );

    run.call(&mut store, (0, 10))?;
    check("the store runs after traps", store.data().value == 55);
    check(
        "the engine's locks went through kiln_lock_acquire",
        LOCKED.load(Ordering::Relaxed),
    );

    // Built without the `simd` feature: SIMD modules are an error, and an
    // engine cannot be asked to accept them.
    let simd = include_bytes!(concat!(env!("OUT_DIR"), "/simd.wasm"));
    let refused = Module::new(&engine, simd).is_err();
    check("a SIMD module is refused without the simd feature", refused);
    let asked = Engine::new(Config::new().wasm_simd(true)).is_err();
    check(
        "an engine with SIMD enabled cannot be made without it",
        asked,
    );
    Ok(())
}

/// Called by `_start` (in `sys`) with a usable stack.
#[unsafe(no_mangle)]
extern "C" fn kiln_no_std_main() -> ! {
    match run() {
        Ok(()) => {
            say!("no_std check passed");
            sys::exit(0)
        }
        Err(e) => {
            say!("FAIL error: {e:?}");
            sys::exit(1)
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    say!("FAIL panic: {info}");
    sys::exit(101)
}

// ---- What a no_std embedder provides: memory, and the platform header ----

/// A bump allocator over a static arena: enough for this program, which
/// frees little and exits.
struct Arena {
    bytes: UnsafeCell<[u8; ARENA]>,
    used: AtomicUsize,
}

const ARENA: usize = 16 << 20;

// SAFETY: `used` hands out each byte range once (atomically), so no two
// allocations overlap; the arena is only reached through those ranges.
unsafe impl Sync for Arena {}

// SAFETY: every returned pointer is aligned as asked, inside the arena, and
// disjoint from every other live allocation; null signals exhaustion.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.bytes.get() as usize;
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let start = (base + used).next_multiple_of(layout.align()) - base;
            let Some(end) = start.checked_add(layout.size()).filter(|&e| e <= ARENA) else {
                return core::ptr::null_mut();
            };
            match self
                .used
                .compare_exchange(used, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return (base + start) as *mut u8,
                Err(now) => used = now,
            }
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static HEAP: Arena = Arena {
    bytes: UnsafeCell::new([0; ARENA]),
    used: AtomicUsize::new(0),
};

/// The per-thread slot: one thread, one word.
static TLS: AtomicUsize = AtomicUsize::new(0);

#[unsafe(no_mangle)]
extern "C" fn kiln_tls_get() -> *mut u8 {
    TLS.load(Ordering::Relaxed) as *mut u8
}

#[unsafe(no_mangle)]
extern "C" fn kiln_tls_set(value: *mut u8) {
    TLS.store(value as usize, Ordering::Relaxed);
}

/// Locks: a spin lock on Kiln's word (one thread here, so it never spins,
/// but a held lock taken again would hang rather than pass).
#[unsafe(no_mangle)]
extern "C" fn kiln_lock_acquire(lock: *mut usize) {
    // SAFETY: Kiln passes a live, aligned word that only these two
    // functions touch (the header's contract).
    let word = unsafe { AtomicUsize::from_ptr(lock) };
    while word
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    LOCKED.store(true, Ordering::Relaxed);
}

#[unsafe(no_mangle)]
extern "C" fn kiln_lock_release(lock: *mut usize) {
    // SAFETY: as in `kiln_lock_acquire`.
    let word = unsafe { AtomicUsize::from_ptr(lock) };
    word.store(0, Ordering::Release);
}

/// Whether Kiln took a lock at all (the engine's signature registry does).
static LOCKED: AtomicBool = AtomicBool::new(false);
