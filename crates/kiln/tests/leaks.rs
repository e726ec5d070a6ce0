//! Everything a store allocates (instances, functions, memories, tables,
//! globals, the wasm stack) is freed when the store is dropped, including
//! after traps, failed instantiations and caught host panics. Its own test
//! binary, because it counts every allocation of the process.

use kiln::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged, only counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MODULE: &str = r#"(module
    (import "host" "cb" (func $cb (param i32) (result i32)))
    (memory (export "mem") 1)
    (table 4 funcref)
    (global $g (mut i64) (i64.const 1))
    (data "some bytes")
    (elem (i32.const 0) $f $f)
    (func $f (export "f") (param i32) (result i32)
      (drop (memory.grow (i32.const 2)))
      (drop (table.grow (ref.func $f) (i32.const 10)))
      (global.set $g (i64.const 2))
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (call $cb (i32.sub (local.get 0) (i32.const 1)))))))"#;

fn one_store(engine: &Engine, module: &Module, linker: &Linker<()>) {
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, module).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    assert_eq!(f.call(&mut store, 3).unwrap(), 0);
    // A trap, deep inside host → wasm re-entry.
    assert!(f.call(&mut store, 100).is_err());
    // A caught host panic unwinding through the interpreter.
    assert!(catch_unwind(AssertUnwindSafe(|| f.call(&mut store, 50))).is_err());
    // A failed instantiation (segment out of bounds) leaves a partial
    // instance in the store.
    let bad = Module::new(
        engine,
        r#"(module (memory 1) (func $x) (table 1 funcref) (elem (i32.const 5) $x))"#,
    )
    .unwrap();
    assert!(Instance::new(&mut store, &bad, &[]).is_err());
    ExternRef::new(&mut store, vec![0u8; 1000]);
    Memory::new(&mut store, MemoryType::new(3, None)).unwrap();
}

#[test]
fn dropping_a_store_frees_everything() {
    std::panic::set_hook(Box::new(|_| {}));
    for strategy in [Strategy::Interpreter, Strategy::Auto] {
        let mut config = Config::new();
        config.strategy(strategy);
        stores_leave_nothing_behind(&Engine::new(&config).unwrap());
    }
    let _ = std::panic::take_hook();
}

/// Runs many stores on `engine` (whose backend `Config::strategy` chose)
/// and checks their drops free everything they allocated.
fn stores_leave_nothing_behind(engine: &Engine) {
    let engine = engine.clone();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "cb",
            |mut caller: Caller<'_, ()>, n: i32| -> Result<i32> {
                match n {
                    48 => panic!("deliberate"),
                    97 => anyhow::bail!("deliberate error"),
                    _ => {}
                }
                let f = caller.get_export("f").unwrap().into_func().unwrap();
                f.typed::<i32, i32>(&caller)?.call(&mut caller, n)
            },
        )
        .unwrap();
    // Warm up lazily initialised process state (thread-locals, the panic
    // machinery, the engine's signature registry).
    for _ in 0..3 {
        one_store(&engine, &module, &linker);
    }
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..50 {
        one_store(&engine, &module, &linker);
    }
    let after = LIVE.load(Ordering::Relaxed);
    // A few bytes of slack for allocator-internal or lazily grown state;
    // a leaked instance or memory would be tens of KiB per store.
    assert!(
        after - before < 4096,
        "{} bytes still allocated after 50 stores were dropped",
        after - before
    );
}
