// Soundness and robustness cases shared by `soundness.rs` (interpreter)
// and `native.rs` (Cranelift) and `baseline.rs`: each includes this file after defining
// `config()`, the configuration every engine here starts from.

use kiln::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn trap_code(err: &anyhow::Error) -> Option<TrapCode> {
    err.downcast_ref::<Trap>().and_then(|t| t.code())
}

/// Silences the default panic message of the panics these tests provoke on
/// purpose (other panics still print).
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let deliberate = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|s| s.starts_with("deliberate"));
            if !deliberate {
                default(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------
// Host panics unwinding through the interpreter
// ---------------------------------------------------------------------------

const PANICKY: &str = r#"(module
    (import "host" "boom" (func $boom (param i32)))
    (import "host" "reenter" (func $reenter (param i32) (result i32)))
    (func $f (export "f") (param i32) (result i32)
      ;; a large frame, so each leaked frame costs a lot of stack
      (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
      (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
      (local.set 1 (i64.const 99))
      (call $boom (local.get 0))
      (i32.wrap_i64 (local.get 1)))
    (func (export "nested") (param i32) (result i32)
      (call $reenter (local.get 0)))
    (func $fib (export "fib") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
        (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                       (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#;

fn panicky_store(max_stack: usize) -> (Store<()>, Instance) {
    quiet_panics();
    let mut config = config();
    config.max_wasm_stack(max_stack);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, PANICKY).unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "boom", |x: i32| {
            if x != 0 {
                panic!("deliberate panic from a host function");
            }
        })
        .unwrap();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
                let f = caller.get_export("f").unwrap().into_func().unwrap();
                f.typed::<i32, i32>(&caller)?.call(&mut caller, x)
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

/// A host panic propagates (that is fine), but must not leave the
/// interpreter's stack pointing at the dead frames: before the fix every
/// caught panic leaked the frames it unwound through, and after a few dozen
/// the store only ever trapped with "call stack exhausted".
#[test]
fn host_panic_resets_the_wasm_stack() {
    let (mut store, instance) = panicky_store(16 * 1024);
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    let nested = instance
        .get_typed_func::<i32, i32>(&mut store, "nested")
        .unwrap();
    for i in 0..200 {
        let r = catch_unwind(AssertUnwindSafe(|| f.call(&mut store, 1)));
        assert!(
            r.is_err(),
            "iteration {i}: expected the host panic, got {r:?}"
        );
        // Host → wasm → host panic, two invocations deep.
        let r = catch_unwind(AssertUnwindSafe(|| nested.call(&mut store, 1)));
        assert!(
            r.is_err(),
            "iteration {i}: expected the host panic, got {r:?}"
        );
    }
    assert_eq!(f.call(&mut store, 0).unwrap(), 99);
    assert_eq!(nested.call(&mut store, 0).unwrap(), 99);
}

/// After a caught host panic the store must still be movable to another
/// thread: the runtime's record of the native stack at the outermost wasm
/// entry used to survive the unwind, so every later call on another thread
/// (whose stack is elsewhere) trapped with "call stack exhausted".
#[test]
fn host_panic_then_store_moves_to_another_thread() {
    let (mut store, instance) = panicky_store(1 << 20);
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| f.call(&mut store, 1)));
    assert!(r.is_err());
    let result = std::thread::spawn(move || {
        let a = fib.call(&mut store, 15).map_err(|e| format!("{e:?}"));
        let b = f.call(&mut store, 0).map_err(|e| format!("{e:?}"));
        (a, b)
    })
    .join()
    .unwrap();
    assert_eq!(result, (Ok(610), Ok(99)));
}

// ---------------------------------------------------------------------------
// Cached memory/table pointers across growth and re-entry
// ---------------------------------------------------------------------------

/// The interpreter caches memory 0's base and length; a host function that
/// grows the memory (moving it) must not leave wasm using the old base.
#[test]
fn host_grows_memory_under_running_wasm() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "grow" (func $grow (param i32)))
            (memory (export "mem") 1)
            (func (export "run") (result i32)
              (i32.store (i32.const 100) (i32.const 0x1234))
              (call $grow (i32.const 63))
              ;; the old contents survived the move
              (if (i32.ne (i32.load (i32.const 100)) (i32.const 0x1234)) (then unreachable))
              ;; the new last word is addressable
              (i32.store (i32.const 4194300) (i32.const 7))
              (i32.add (i32.load (i32.const 4194300)) (memory.size))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "grow",
            |mut caller: Caller<'_, ()>, delta: i32| -> Result<()> {
                let mem = caller.get_export("mem").unwrap().into_memory().unwrap();
                // Fill the allocator so the grown memory cannot stay in place.
                let _hog: Vec<Vec<u8>> = (0..8).map(|_| vec![1u8; 70_000]).collect();
                mem.grow(&mut caller, delta as u64)?;
                Ok(())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 7 + 64);
}

/// Instance A imports B's memory; A calls B (wasm → wasm across instances)
/// and B grows the shared memory; back in A, the cached base must be fresh.
/// Then the same through a host function re-entering B.
#[test]
fn shared_memory_grown_by_another_instance() {
    let engine = engine();
    let b = Module::new(
        &engine,
        r#"(module
            (memory (export "mem") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )
    .unwrap();
    let a = Module::new(
        &engine,
        r#"(module
            (import "b" "mem" (memory 1))
            (import "b" "grow" (func $grow (param i32) (result i32)))
            (import "host" "grow_via_host" (func $hgrow (param i32) (result i32)))
            (func (export "direct") (result i32)
              (i32.store (i32.const 8) (i32.const 42))
              (drop (call $grow (i32.const 15)))
              (i32.store (i32.const 1048572) (i32.const 5))
              (i32.add (i32.load (i32.const 8)) (i32.load (i32.const 1048572))))
            (func (export "via_host") (result i32)
              (drop (call $hgrow (i32.const 16)))
              (i32.store (i32.const 2097148) (i32.const 6))
              (i32.add (i32.load (i32.const 8)) (i32.load (i32.const 2097148)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let bi = linker.instantiate(&mut store, &b).unwrap();
    linker.instance(&mut store, "b", bi).unwrap();
    let grow_b = bi.get_func(&mut store, "grow").unwrap();
    linker
        .func_wrap(
            "host",
            "grow_via_host",
            move |mut caller: Caller<'_, ()>, delta: i32| -> Result<i32> {
                let _hog: Vec<Vec<u8>> = (0..8).map(|_| vec![1u8; 70_000]).collect();
                grow_b.typed::<i32, i32>(&caller)?.call(&mut caller, delta)
            },
        )
        .unwrap();
    let ai = linker.instantiate(&mut store, &a).unwrap();
    let direct = ai.get_typed_func::<(), i32>(&mut store, "direct").unwrap();
    assert_eq!(direct.call(&mut store, ()).unwrap(), 47);
    let via_host = ai
        .get_typed_func::<(), i32>(&mut store, "via_host")
        .unwrap();
    assert_eq!(via_host.call(&mut store, ()).unwrap(), 48);
    let mem = bi.get_memory(&mut store, "mem").unwrap();
    assert_eq!(mem.size(&store), 32);
}

/// `table.grow` moves the table's storage; `table.get`, `table.set` and
/// `call_indirect` afterwards (also after a host-side `Table::grow` during
/// a host call) must use the new storage.
#[test]
fn table_grow_then_access() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "tgrow" (func $tgrow))
            (table $t (export "t") 1 funcref)
            (type $r (func (result i32)))
            (func $seven (result i32) (i32.const 7))
            (elem declare func $seven)
            (func (export "run") (result i32)
              (drop (table.grow $t (ref.func $seven) (i32.const 1000)))
              (table.set $t (i32.const 999) (ref.func $seven))
              (call $tgrow)
              ;; slot 5000 exists only after the host's growth
              (table.set $t (i32.const 5000) (table.get $t (i32.const 999)))
              (i32.add (call_indirect $t (type $r) (i32.const 5000))
                       (table.size $t))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "tgrow",
            |mut caller: Caller<'_, ()>| -> Result<()> {
                let t = caller.get_export("t").unwrap().into_table().unwrap();
                t.grow(&mut caller, 9000, Val::FuncRef(None))?;
                Ok(())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 7 + 10001);
}

/// Host → wasm → host → wasm re-entry deep enough to reallocate the value
/// stack many times; the outer frames' values must survive the moves.
#[test]
fn reentry_reallocates_the_value_stack() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "down" (func $down (param i32) (result i32)))
            (func $rec (export "rec") (param i32) (result i32)
              (local i64 i64 i64 i64 i64 i64 i64 i64)
              (local.set 1 (i64.extend_i32_u (local.get 0)))
              (local.set 8 (i64.const 0x5555))
              (if (result i32) (i32.eqz (local.get 0))
                (then (i32.const 0))
                (else
                  (i32.add
                    ;; every 16th level re-enters through the host (each
                    ;; re-entry nests the interpreter on the native stack)
                    (if (result i32) (i32.eqz (i32.and (local.get 0) (i32.const 15)))
                      (then (call $down (i32.sub (local.get 0) (i32.const 1))))
                      (else (call $rec (i32.sub (local.get 0) (i32.const 1)))))
                    ;; locals of this frame are intact after the callee
                    (i32.add
                      (i32.wrap_i64 (local.get 1))
                      (i32.sub (i32.wrap_i64 (local.get 8)) (i32.const 0x5555))))))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "down",
            |mut caller: Caller<'_, ()>, n: i32| -> Result<i32> {
                let rec = caller.get_export("rec").unwrap().into_func().unwrap();
                rec.typed::<i32, i32>(&caller)?.call(&mut caller, n)
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let rec = instance
        .get_typed_func::<i32, i32>(&mut store, "rec")
        .unwrap();
    let n = 400;
    assert_eq!(rec.call(&mut store, n).unwrap(), n * (n + 1) / 2);
}

// ---------------------------------------------------------------------------
// Bounds checks at the edges
// ---------------------------------------------------------------------------

/// Every load and store width, including `v128` and lane accesses: the
/// effective address is `addr + offset` without wrapping, and an access
/// ending exactly at the memory's end is in bounds.
#[test]
fn effective_address_edges_for_every_width() {
    let engine = engine();
    // (name, access size, wat taking $a as the address; result i32 or none)
    let cases: &[(&str, u32)] = &[
        ("i32.load8_u", 1),
        ("i32.load16_s", 2),
        ("i32.load", 4),
        ("i64.load8_s", 1),
        ("i64.load16_u", 2),
        ("i64.load32_s", 4),
        ("i64.load", 8),
        ("f32.load", 4),
        ("f64.load", 8),
        ("i32.store8", 1),
        ("i32.store16", 2),
        ("i32.store", 4),
        ("i64.store8", 1),
        ("i64.store16", 2),
        ("i64.store32", 4),
        ("i64.store", 8),
        ("f32.store", 4),
        ("f64.store", 8),
        ("v128.load", 16),
        ("v128.load8x8_s", 8),
        ("v128.load16x4_u", 8),
        ("v128.load32x2_s", 8),
        ("v128.load8_splat", 1),
        ("v128.load64_splat", 8),
        ("v128.load32_zero", 4),
        ("v128.load64_zero", 8),
        ("v128.store", 16),
        ("v128.load8_lane", 1),
        ("v128.load16_lane", 2),
        ("v128.load32_lane", 4),
        ("v128.load64_lane", 8),
        ("v128.store8_lane", 1),
        ("v128.store16_lane", 2),
        ("v128.store32_lane", 4),
        ("v128.store64_lane", 8),
    ];
    for &(op, size) in cases {
        let body = |offset: u32| -> String {
            let ty = op.split('.').next().unwrap();
            let addr = "(local.get 0)";
            if op.ends_with("_lane") {
                if op.contains("store") {
                    format!("({op} offset={offset} 0 {addr} (v128.const i64x2 -1 -1))")
                } else {
                    format!("(drop ({op} offset={offset} 0 {addr} (v128.const i64x2 0 0)))")
                }
            } else if op.contains("store") {
                let val = match ty {
                    "v128" => "(v128.const i64x2 -1 -1)".to_string(),
                    t => format!("({t}.const 1)"),
                };
                format!("({op} offset={offset} {addr} {val})")
            } else {
                format!("(drop ({op} offset={offset} {addr}))")
            }
        };
        let wat = format!(
            r#"(module
                (memory 1)
                (func (export "lo") (param i32) {})
                (func (export "hi") (param i32) {}))"#,
            body(0),
            body(u32::MAX),
        );
        let module = Module::new(&engine, &wat).unwrap_or_else(|e| panic!("{op}: {e:#}"));
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let lo = instance
            .get_typed_func::<i32, ()>(&mut store, "lo")
            .unwrap();
        let hi = instance
            .get_typed_func::<i32, ()>(&mut store, "hi")
            .unwrap();
        let end = 65536u32;
        // Ends exactly at the memory's end: fine.
        lo.call(&mut store, (end - size) as i32)
            .unwrap_or_else(|e| panic!("{op} at end-{size}: {e:#}"));
        // One byte further, and addresses that would wrap in 32 bits.
        for addr in [
            end - size + 1,
            end,
            0x8000_0000,
            u32::MAX - size + 1,
            u32::MAX,
        ] {
            let err = lo.call(&mut store, addr as i32).unwrap_err();
            assert_eq!(
                trap_code(&err),
                Some(TrapCode::MemoryOutOfBounds),
                "{op} at {addr:#x}"
            );
        }
        // A huge static offset must not wrap back into the memory.
        for addr in [0u32, 1, 2, 16, u32::MAX] {
            let err = hi.call(&mut store, addr as i32).unwrap_err();
            assert_eq!(
                trap_code(&err),
                Some(TrapCode::MemoryOutOfBounds),
                "{op} offset=u32::MAX at {addr:#x}"
            );
        }
    }
}

/// Bulk memory and table operations: length 0 at the very end is fine, one
/// past it traps; after `data.drop`/`elem.drop` only empty inits at 0 work.
#[test]
fn bulk_operations_at_the_edges() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (memory 1)
            (table $t 4 funcref)
            (data $d "abcd")
            (elem $e func $f $f)
            (func $f)
            (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 9) (local.get 1)))
            (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
            (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
            (func (export "ddrop") (data.drop $d))
            (func (export "tinit") (param i32 i32 i32) (table.init $t $e (local.get 0) (local.get 1) (local.get 2)))
            (func (export "edrop") (elem.drop $e))
            (func (export "tfill") (param i32 i32) (table.fill $t (local.get 0) (ref.null func) (local.get 1)))
            (func (export "tcopy") (param i32 i32 i32) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
            (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let i = Instance::new(&mut store, &module, &[]).unwrap();
    let fill = i
        .get_typed_func::<(i32, i32), ()>(&mut store, "fill")
        .unwrap();
    let copy = i
        .get_typed_func::<(i32, i32, i32), ()>(&mut store, "copy")
        .unwrap();
    let init = i
        .get_typed_func::<(i32, i32, i32), ()>(&mut store, "init")
        .unwrap();
    let ddrop = i.get_typed_func::<(), ()>(&mut store, "ddrop").unwrap();
    let tinit = i
        .get_typed_func::<(i32, i32, i32), ()>(&mut store, "tinit")
        .unwrap();
    let edrop = i.get_typed_func::<(), ()>(&mut store, "edrop").unwrap();
    let tfill = i
        .get_typed_func::<(i32, i32), ()>(&mut store, "tfill")
        .unwrap();
    let tcopy = i
        .get_typed_func::<(i32, i32, i32), ()>(&mut store, "tcopy")
        .unwrap();
    let load = i.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    let mem_oob = |r: Result<()>| {
        assert_eq!(
            trap_code(&r.unwrap_err()),
            Some(TrapCode::MemoryOutOfBounds)
        )
    };
    let tab_oob =
        |r: Result<()>| assert_eq!(trap_code(&r.unwrap_err()), Some(TrapCode::TableOutOfBounds));
    let end = 65536;

    fill.call(&mut store, (end, 0)).unwrap();
    mem_oob(fill.call(&mut store, (end + 1, 0)));
    mem_oob(fill.call(&mut store, (end - 1, 2)));
    mem_oob(fill.call(&mut store, (1, -1)));
    fill.call(&mut store, (end - 2, 2)).unwrap();
    assert_eq!(load.call(&mut store, end - 1).unwrap(), 9);

    copy.call(&mut store, (end, end, 0)).unwrap();
    copy.call(&mut store, (0, end, 0)).unwrap();
    mem_oob(copy.call(&mut store, (end + 1, 0, 0)));
    mem_oob(copy.call(&mut store, (0, end + 1, 0)));
    mem_oob(copy.call(&mut store, (-1, 0, 2)));
    // Overlapping copies in both directions.
    fill.call(&mut store, (100, 0)).unwrap();
    init.call(&mut store, (100, 0, 4)).unwrap();
    copy.call(&mut store, (101, 100, 4)).unwrap();
    let bytes: Vec<i32> = (100..105)
        .map(|a| load.call(&mut store, a).unwrap())
        .collect();
    assert_eq!(bytes, [b'a', b'a', b'b', b'c', b'd'].map(i32::from));
    copy.call(&mut store, (100, 101, 4)).unwrap();
    let bytes: Vec<i32> = (100..104)
        .map(|a| load.call(&mut store, a).unwrap())
        .collect();
    assert_eq!(bytes, [b'a', b'b', b'c', b'd'].map(i32::from));

    init.call(&mut store, (end, 4, 0)).unwrap();
    mem_oob(init.call(&mut store, (end - 3, 0, 4)));
    mem_oob(init.call(&mut store, (0, 5, 0)));
    mem_oob(init.call(&mut store, (0, 1, -1)));
    ddrop.call(&mut store, ()).unwrap();
    ddrop.call(&mut store, ()).unwrap();
    init.call(&mut store, (end, 0, 0)).unwrap();
    mem_oob(init.call(&mut store, (0, 1, 0)));
    mem_oob(init.call(&mut store, (0, 0, 1)));

    tinit.call(&mut store, (4, 2, 0)).unwrap();
    tinit.call(&mut store, (2, 0, 2)).unwrap();
    tab_oob(tinit.call(&mut store, (3, 0, 2)));
    tab_oob(tinit.call(&mut store, (0, 3, 0)));
    edrop.call(&mut store, ()).unwrap();
    tinit.call(&mut store, (4, 0, 0)).unwrap();
    tab_oob(tinit.call(&mut store, (0, 1, 0)));
    tab_oob(tinit.call(&mut store, (0, 0, 1)));

    tfill.call(&mut store, (4, 0)).unwrap();
    tab_oob(tfill.call(&mut store, (5, 0)));
    tab_oob(tfill.call(&mut store, (1, -1)));
    tcopy.call(&mut store, (4, 4, 0)).unwrap();
    tcopy.call(&mut store, (0, 1, 3)).unwrap();
    tab_oob(tcopy.call(&mut store, (0, 5, 0)));
    tab_oob(tcopy.call(&mut store, (-1, 0, 1)));
}

// ---------------------------------------------------------------------------
// Resource limits: clear failures, never aborts (also on 32-bit hosts)
// ---------------------------------------------------------------------------

#[test]
fn huge_memory_growth_fails_gracefully() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "mem") 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "size") (result i32) (memory.size)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let i = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = i.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let size = i.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    // Beyond 4 GiB: always refused.
    assert_eq!(grow.call(&mut store, 65536).unwrap(), -1);
    assert_eq!(grow.call(&mut store, -1).unwrap(), -1);
    // To exactly 4 GiB: impossible on a 32-bit host (the size does not fit
    // `usize`), possible but not guaranteed on a 64-bit one.
    let r = grow.call(&mut store, 65535).unwrap();
    if cfg!(target_pointer_width = "32") {
        assert_eq!(r, -1);
        assert_eq!(size.call(&mut store, ()).unwrap(), 1);
    } else {
        assert!(r == -1 || r == 1, "{r}");
    }
    let mem = i.get_memory(&mut store, "mem").unwrap();
    assert!(mem.grow(&mut store, 1 << 40).is_err());
    assert!(mem.grow(&mut store, u64::MAX).is_err());
    // Half the address space: refused on 32-bit (allocation or `isize`
    // limit), and the memory is unchanged.
    if cfg!(target_pointer_width = "32") {
        assert_eq!(grow.call(&mut store, 32768).unwrap(), -1);
        assert!(Memory::new(&mut store, MemoryType::new(65536, None)).is_err());
        assert!(Memory::new(&mut store, MemoryType::new(40000, None)).is_err());
        assert_eq!(size.call(&mut store, ()).unwrap(), 1);
    }
    // Whatever happened above, the memory is still usable.
    let pages = size.call(&mut store, ()).unwrap();
    let expect = if pages < 65536 { pages } else { -1 };
    assert_eq!(grow.call(&mut store, 1).unwrap(), expect);
}

#[test]
fn huge_tables_fail_gracefully() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    // 10M elements is the cap: allowed.
    let ok = Module::new(&engine, "(module (table 10000000 funcref))").unwrap();
    Instance::new(&mut store, &ok, &[]).unwrap();
    let too_big = Module::new(&engine, "(module (table 10000001 funcref))").unwrap();
    let err = Instance::new(&mut store, &too_big, &[]).unwrap_err();
    assert!(err.to_string().contains("table"), "{err}");
    let max = Module::new(&engine, "(module (table 0xffffffff externref))").unwrap();
    assert!(Instance::new(&mut store, &max, &[]).is_err());

    let module = Module::new(
        &engine,
        r#"(module
            (table (export "t") 1 funcref)
            (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#,
    )
    .unwrap();
    let i = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = i.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, -1).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 10_000_000).unwrap(), -1);
    let t = i.get_table(&mut store, "t").unwrap();
    assert!(t.grow(&mut store, u64::MAX, Val::FuncRef(None)).is_err());
    assert!(t.grow(&mut store, 1 << 33, Val::FuncRef(None)).is_err());
    assert_eq!(t.size(&store), 1);
    assert!(t.get(&store, u64::MAX).is_none());
    assert!(t.set(&mut store, u64::MAX, Val::FuncRef(None)).is_err());
    assert!(
        Table::new(
            &mut store,
            TableType::new(RefType::FUNCREF, u32::MAX, None),
            Val::FuncRef(None)
        )
        .is_err()
    );
}

// ---------------------------------------------------------------------------
// Bad embedder input: errors, not panics
// ---------------------------------------------------------------------------

#[test]
fn references_from_another_store_are_errors() {
    let engine = engine();
    let mut a = Store::new(&engine, ());
    let mut b = Store::new(&engine, ());
    let fa = Func::wrap(&mut a, || {});
    let ra = ExternRef::new(&mut a, 5u32);
    let module = Module::new(
        &engine,
        r#"(module
            (func (export "take") (param funcref externref))
            (global (export "g") (mut funcref) (ref.null func))
            (table (export "t") 1 funcref))"#,
    )
    .unwrap();
    let i = Instance::new(&mut b, &module, &[]).unwrap();
    let take = i.get_func(&mut b, "take").unwrap();
    let err = take
        .call(
            &mut b,
            &[Val::FuncRef(Some(fa)), Val::ExternRef(None)],
            &mut [],
        )
        .unwrap_err();
    assert!(format!("{err:#}").contains("different store"), "{err:#}");
    let err = take
        .call(
            &mut b,
            &[Val::FuncRef(None), Val::ExternRef(Some(ra))],
            &mut [],
        )
        .unwrap_err();
    assert!(format!("{err:#}").contains("different store"), "{err:#}");
    let g = i.get_global(&mut b, "g").unwrap();
    assert!(g.set(&mut b, Val::FuncRef(Some(fa))).is_err());
    let t = i.get_table(&mut b, "t").unwrap();
    assert!(t.set(&mut b, 0, Val::FuncRef(Some(fa))).is_err());
    assert!(t.grow(&mut b, 1, Val::FuncRef(Some(fa))).is_err());
    let gt = GlobalType::new(ValType::FUNCREF, Mutability::Var);
    assert!(Global::new(&mut b, gt, Val::FuncRef(Some(fa))).is_err());
    let tt = TableType::new(RefType::FUNCREF, 1, None);
    assert!(Table::new(&mut b, tt, Val::FuncRef(Some(fa))).is_err());
    // Instantiating with an import from another store.
    let imp = Module::new(&engine, r#"(module (import "" "f" (func)))"#).unwrap();
    let err = Instance::new(&mut b, &imp, &[fa.into()]).unwrap_err();
    assert!(err.to_string().contains("different store"), "{err}");
    // Defining another store's item in a linker used with this store.
    let mut linker = Linker::new(&engine);
    let r = catch_unwind(AssertUnwindSafe(|| {
        linker.define(&b, "", "f", fa).map(drop)
    }));
    match r {
        Ok(Err(e)) => assert!(e.to_string().contains("different store"), "{e}"),
        Ok(Ok(())) => panic!("defining another store's function succeeded"),
        Err(_) => panic!("Linker::define panicked instead of returning an error"),
    }
}

#[test]
fn out_of_range_memory_access_from_the_api() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mem = Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    let mut buf = [0u8; 8];
    assert!(mem.read(&store, 65536 - 8, &mut buf).is_ok());
    assert!(mem.read(&store, 65536 - 7, &mut buf).is_err());
    assert!(mem.read(&store, usize::MAX, &mut buf).is_err());
    assert!(mem.read(&store, usize::MAX - 3, &mut buf).is_err());
    assert!(mem.write(&mut store, usize::MAX - 3, &buf).is_err());
    assert!(mem.write(&mut store, 65536, &[]).is_ok());
    assert!(mem.grow(&mut store, 2).is_err());
    assert_eq!(mem.grow(&mut store, 1).unwrap(), 1);
    assert!(mem.grow(&mut store, 1).is_err());
}

#[test]
fn trapping_start_and_failing_limiter_leave_store_usable() {
    struct Fails;
    impl ResourceLimiter for Fails {
        fn memory_growing(&mut self, current: usize, _: usize, _: Option<usize>) -> Result<bool> {
            if current == 0 {
                return Ok(true);
            }
            anyhow::bail!("limiter says no")
        }
        fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
            anyhow::bail!("tables are forbidden")
        }
    }
    let engine = engine();
    let mut store = Store::new(&engine, Fails);
    store.limiter(|l| l as &mut dyn ResourceLimiter);
    let start = Module::new(&engine, "(module (func unreachable) (start 0))").unwrap();
    let err = Instance::new(&mut store, &start, &[]).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::UnreachableCodeReached));
    let table = Module::new(&engine, "(module (table 1 funcref))").unwrap();
    let err = Instance::new(&mut store, &table, &[]).unwrap_err();
    assert!(
        format!("{err:#}").contains("tables are forbidden"),
        "{err:#}"
    );
    let module = Module::new(
        &engine,
        r#"(module
            (memory 1)
            (func (export "grow") (result i32) (memory.grow (i32.const 1)))
            (func (export "ok") (result i32) (i32.const 3)))"#,
    )
    .unwrap();
    let i = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = i.get_typed_func::<(), i32>(&mut store, "grow").unwrap();
    let err = grow.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:#}").contains("limiter says no"), "{err:#}");
    let ok = i.get_typed_func::<(), i32>(&mut store, "ok").unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 3);
}

#[test]
fn huge_frames_are_rejected_cleanly() {
    let engine = engine();
    // 40000 v128 locals need 80000 slots, over the 65535-slot frame limit.
    let mut wasm = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    wasm.extend([0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type: [] -> []
    wasm.extend([0x03, 0x02, 0x01, 0x00]); // one function of type 0
    // code: one body with 40000 v128 locals
    let body = [0x01, 0xc0, 0xb8, 0x02, 0x7b, 0x0b];
    wasm.extend([0x0a, (body.len() + 2) as u8, 0x01, body.len() as u8]);
    wasm.extend(body);
    match engine.strategy() {
        // Native frames have no slot limit: the module is fine.
        Strategy::Cranelift | Strategy::Baseline | Strategy::Tiered => {
            Module::new(&engine, &wasm).unwrap();
        }
        _ => {
            let err = Module::new(&engine, &wasm).unwrap_err();
            assert!(format!("{err:#}").contains("65535"), "{err:#}");
        }
    }
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

const WORK: &str = r#"(module
    (memory (export "mem") 1)
    (func $fib (export "fib") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
        (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                       (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    ;; grows the memory to `pages`, fills it with a per-store byte, sums it
    (func (export "churn") (param $pages i32) (param $byte i32) (result i64)
      (local $i i32) (local $sum i64)
      (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))
      (memory.fill (i32.const 0) (local.get $byte) (i32.mul (memory.size) (i32.const 65536)))
      (block $done
        (loop $l
          (br_if $done (i32.ge_u (local.get $i) (i32.mul (memory.size) (i32.const 65536))))
          (local.set $sum (i64.add (local.get $sum) (i64.load8_u (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 4096)))
          (br $l)))
      (local.get $sum))
    (func (export "spin") (loop br 0)))"#;

/// Many stores on many threads at once, sharing one `Engine` and one
/// `Module` (and a `Linker` with host functions).
#[test]
fn many_stores_on_many_threads() {
    let engine = engine();
    let module = Module::new(&engine, WORK).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let engine = engine.clone();
            let module = module.clone();
            std::thread::spawn(move || {
                for round in 0..4 {
                    let mut store = Store::new(&engine, t);
                    let i = Instance::new(&mut store, &module, &[]).unwrap();
                    let fib = i.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
                    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
                    let churn = i
                        .get_typed_func::<(i32, i32), i64>(&mut store, "churn")
                        .unwrap();
                    let pages = 16 + t + round;
                    let byte = t * 7 + round + 1;
                    let sum = churn.call(&mut store, (pages, byte)).unwrap();
                    assert_eq!(sum, i64::from(pages) * 16 * i64::from(byte));
                    let mem = i.get_memory(&mut store, "mem").unwrap();
                    assert!(mem.data(&store).iter().all(|&b| i32::from(b) == byte));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Interrupting one store's wasm from another thread stops only that store.
#[test]
fn interrupts_are_per_store() {
    let engine = engine();
    let module = Module::new(&engine, WORK).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..4 {
        let mut store = Store::new(&engine, ());
        let i = Instance::new(&mut store, &module, &[]).unwrap();
        handles.push(store.interrupt_handle());
        let spin = i.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
        let fib = i.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
        threads.push(std::thread::spawn(move || {
            let err = spin.call(&mut store, ()).unwrap_err();
            assert_eq!(trap_code(&err), Some(TrapCode::Interrupt));
            fib.call(&mut store, 10).unwrap()
        }));
    }
    // A store that is never interrupted keeps computing meanwhile. It
    // counts its finished calls, so the checks below wait for progress
    // instead of guessing how long a slow (emulated, loaded) host needs.
    let calls = Arc::new(AtomicUsize::new(0));
    let bystander = {
        let engine = engine.clone();
        let module = module.clone();
        let done = done.clone();
        let calls = calls.clone();
        std::thread::spawn(move || {
            let mut store = Store::new(&engine, ());
            let i = Instance::new(&mut store, &module, &[]).unwrap();
            let fib = i.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
            while !done.load(Ordering::Relaxed) {
                assert_eq!(fib.call(&mut store, 15).unwrap(), 610);
                calls.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let wait_for_call_after = |seen: usize| {
        while calls.load(Ordering::Relaxed) <= seen {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    };
    wait_for_call_after(0);
    std::thread::sleep(std::time::Duration::from_millis(50));
    for h in &handles {
        h.interrupt();
    }
    for t in threads {
        assert_eq!(t.join().unwrap(), 55);
    }
    // The bystander finishes calls after the interrupts too.
    wait_for_call_after(calls.load(Ordering::Relaxed));
    done.store(true, Ordering::Relaxed);
    bystander.join().unwrap();
}

fn engine() -> Engine {
    Engine::new(&config()).unwrap()
}
