// The native-code cases (included by native.rs and baseline.rs): bounds
// checks and guard pages at every boundary, traps leaving the store
// usable, stack overflow on the thread's own stack, faults in host code.
// The including file defines `config()`.

/// A native engine from `config()` with `adjust` applied.
fn native_engine(adjust: impl FnOnce(&mut Config)) -> Engine {
    let mut config = config();
    adjust(&mut config);
    Engine::new(&config).unwrap()
}

/// The two ways native code keeps memory accesses in bounds: guard pages
/// (the default 4 GiB reservation) and explicit checks (a reservation too
/// small for guard pages, so memories also move when they grow).
fn both_bounds_strategies() -> Vec<(&'static str, Engine)> {
    vec![
        ("guard pages", native_engine(|_| {})),
        (
            "explicit checks",
            native_engine(|c| {
                c.memory_reservation(1 << 20)
                    .memory_guard_size(0)
                    .memory_reservation_for_growth(64 << 10);
            }),
        ),
    ]
}

/// Static offsets tried at every boundary: small ones, ones at and past
/// the guard region, and ones near 4 GiB.
const OFFSETS: &[u64] = &[
    0,
    1,
    0xffff,
    0x1_0000,
    (32 << 20) - 1,
    32 << 20,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fff0,
    0xffff_fffc,
    0xffff_ffff,
];

/// (name, access size, load instruction, store instruction): every width.
const ACCESSES: &[(&str, u64, &str, &str)] = &[
    ("i32_8", 1, "i32.load8_u", "i32.store8"),
    ("i32_16", 2, "i32.load16_u", "i32.store16"),
    ("i32", 4, "i32.load", "i32.store"),
    ("i64", 8, "i64.load", "i64.store"),
    ("v128", 16, "v128.load", "v128.store"),
];

/// A module with one page of memory (growable) and, per access width and
/// static offset, a load and a store function taking the dynamic address.
fn bounds_module() -> String {
    let mut wat = String::from(
        "(module (memory (export \"mem\") 1)
           (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n",
    );
    for (name, _, load, store) in ACCESSES {
        for off in OFFSETS {
            let (load_tail, value) = if *name == "v128" {
                ("i32x4.extract_lane 0", "(v128.const i64x2 0 0)")
            } else if name.starts_with("i64") {
                ("i32.wrap_i64", "(i64.const 0)")
            } else {
                ("", "(i32.const 0)")
            };
            wat.push_str(&format!(
                "(func (export \"load_{name}_{off}\") (param i32) (result i32)
                   (local.get 0) ({load} offset={off}) {load_tail})
                 (func (export \"store_{name}_{off}\") (param i32)
                   (local.get 0) {value} ({store} offset={off}))\n"
            ));
        }
    }
    wat.push(')');
    wat
}

/// Checks every access width at every static offset around the current end
/// of memory: the last in-bounds address works, one byte further traps.
fn check_boundaries(store: &mut Store<()>, instance: &Instance, what: &str) {
    let mem = instance.get_memory(&mut *store, "mem").unwrap();
    let len = mem.data_size(&*store) as u64;
    for (name, size, _, _) in ACCESSES {
        for off in OFFSETS {
            let load = instance
                .get_typed_func::<i32, i32>(&mut *store, &format!("load_{name}_{off}"))
                .unwrap();
            let write = instance
                .get_typed_func::<i32, ()>(&mut *store, &format!("store_{name}_{off}"))
                .unwrap();
            // The highest address whose access ends exactly at `len`.
            let last_ok = len.checked_sub(off + size);
            for addr in [
                last_ok,
                last_ok.map(|a| a + 1),
                Some(0),
                Some(u32::MAX as u64),
            ]
            .into_iter()
            .flatten()
            .filter(|a| *a <= u32::MAX as u64)
            {
                let in_bounds = addr + off + size <= len;
                let ctx = format!("{what}: {name} at {addr:#x}+{off:#x} (len {len:#x})");
                let loaded = load.call(&mut *store, addr as u32 as i32);
                let stored = write.call(&mut *store, addr as u32 as i32);
                if in_bounds {
                    loaded.unwrap_or_else(|e| panic!("{ctx}: load trapped: {e}"));
                    stored.unwrap_or_else(|e| panic!("{ctx}: store trapped: {e}"));
                } else {
                    for (op, r) in [("load", loaded.map(drop)), ("store", stored)] {
                        let err = r.expect_err(&format!("{ctx}: {op} did not trap"));
                        assert_eq!(
                            trap_code(&err),
                            Some(TrapCode::MemoryOutOfBounds),
                            "{ctx}: {op}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn out_of_bounds_at_every_boundary_before_and_after_growth() {
    let wat = bounds_module();
    for (what, engine) in both_bounds_strategies() {
        let module = Module::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        check_boundaries(&mut store, &instance, what);
        let grow = instance
            .get_typed_func::<i32, i32>(&mut store, "grow")
            .unwrap();
        // Past the explicit-check engine's 1 MiB reservation: it moves.
        assert_eq!(grow.call(&mut store, 20).unwrap(), 1, "{what}");
        check_boundaries(&mut store, &instance, &format!("{what} after growth"));
        let mem = instance.get_memory(&mut store, "mem").unwrap();
        mem.grow(&mut store, 3).unwrap();
        check_boundaries(&mut store, &instance, &format!("{what} after host growth"));
    }
}

#[test]
fn memory_contents_survive_growth_and_traps() {
    for (what, engine) in both_bounds_strategies() {
        let module = Module::new(
            &engine,
            r#"(module (memory (export "mem") 1 100)
                 (data (i32.const 65530) "kiln!!")
                 (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
                 (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
                 (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let grow = instance
            .get_typed_func::<i32, i32>(&mut store, "grow")
            .unwrap();
        let peek = instance
            .get_typed_func::<i32, i32>(&mut store, "peek")
            .unwrap();
        let poke = instance
            .get_typed_func::<(i32, i32), ()>(&mut store, "poke")
            .unwrap();
        assert!(peek.call(&mut store, 65536).is_err(), "{what}");
        for round in 1..=40 {
            assert_eq!(grow.call(&mut store, 1).unwrap(), round, "{what}");
            let last = (round + 1) * 65536 - 1;
            poke.call(&mut store, (last, round)).unwrap();
            assert_eq!(peek.call(&mut store, last).unwrap(), round, "{what}");
            assert_eq!(
                peek.call(&mut store, 65530).unwrap(),
                i32::from(b'k'),
                "{what}"
            );
            let err = peek.call(&mut store, last + 1).unwrap_err();
            assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds), "{what}");
        }
        // Growing past the declared maximum is refused, not a trap.
        assert_eq!(grow.call(&mut store, 60).unwrap(), -1, "{what}");
        let mem = instance.get_memory(&mut store, "mem").unwrap();
        assert_eq!(&mem.data(&store)[65530..65536], b"kiln!!");
    }
}

/// A recursion whose frames are as small as they get (16 bytes on x86-64),
/// so depth alone decides whether it overflows.
const DEEP: &str = r#"(module
    (func $rec (export "rec") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1))))))))"#;

#[test]
fn deep_recursion_overflows_cleanly_and_the_store_survives() {
    for (engine, depth) in [
        // Capped by the test thread's own (2 MiB) stack. `$rec`'s frame is
        // as small as Wasmtime's (return address and frame pointer, 16
        // bytes on x86-64), so 100,000 of them fit in 2 MiB: go deeper.
        (native_engine(|_| {}), 1_000_000),
        // Capped by the configured limit: 100,000 frames do not fit.
        (
            native_engine(|c| {
                c.max_wasm_stack(512 << 10);
            }),
            100_000,
        ),
    ] {
        let module = Module::new(&engine, DEEP).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let rec = instance
            .get_typed_func::<i32, i32>(&mut store, "rec")
            .unwrap();
        for _ in 0..3 {
            let err = rec.call(&mut store, depth).unwrap_err();
            assert_eq!(trap_code(&err), Some(TrapCode::StackOverflow), "{err:?}");
            assert_eq!(rec.call(&mut store, 1000).unwrap(), 1000);
        }
    }
}

#[test]
fn deep_recursion_fits_a_big_enough_stack() {
    let engine = native_engine(|c| {
        c.max_wasm_stack(48 << 20);
    });
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let module = Module::new(&engine, DEEP).unwrap();
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let rec = instance
                .get_typed_func::<i32, i32>(&mut store, "rec")
                .unwrap();
            assert_eq!(rec.call(&mut store, 100_000).unwrap(), 100_000);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn every_trap_code_leaves_the_store_usable() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (type $t (func (result i32)))
            (table 2 funcref)
            (elem (i32.const 0) $one)
            (memory 1)
            (func $one (result i32) (i32.const 1))
            (func (export "unreachable") unreachable)
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
            (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
            (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0)))
            (func (export "fill") (param i32) (memory.fill (local.get 0) (i32.const 1) (i32.const 16)))
            (func (export "ok") (result i32) (i32.const 42)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let ok = instance
        .get_typed_func::<(), i32>(&mut store, "ok")
        .unwrap();
    let unreachable = instance
        .get_typed_func::<(), ()>(&mut store, "unreachable")
        .unwrap();
    let div = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "div")
        .unwrap();
    let trunc = instance
        .get_typed_func::<f32, i32>(&mut store, "trunc")
        .unwrap();
    let call = instance
        .get_typed_func::<i32, i32>(&mut store, "call")
        .unwrap();
    let fill = instance
        .get_typed_func::<i32, ()>(&mut store, "fill")
        .unwrap();
    let cases: Vec<(TrapCode, anyhow::Error)> = vec![
        (
            TrapCode::UnreachableCodeReached,
            unreachable.call(&mut store, ()).unwrap_err(),
        ),
        (
            TrapCode::IntegerDivisionByZero,
            div.call(&mut store, (1, 0)).unwrap_err(),
        ),
        (
            TrapCode::IntegerOverflow,
            div.call(&mut store, (i32::MIN, -1)).unwrap_err(),
        ),
        (
            TrapCode::BadConversionToInteger,
            trunc.call(&mut store, f32::NAN).unwrap_err(),
        ),
        (
            TrapCode::IndirectCallToNull,
            call.call(&mut store, 1).unwrap_err(),
        ),
        (
            TrapCode::UndefinedElement,
            call.call(&mut store, 2).unwrap_err(),
        ),
        (
            TrapCode::MemoryOutOfBounds,
            fill.call(&mut store, 65530).unwrap_err(),
        ),
    ];
    for (code, err) in cases {
        assert_eq!(trap_code(&err), Some(code), "{err:?}");
        assert_eq!(ok.call(&mut store, ()).unwrap(), 42);
    }
    assert_eq!(call.call(&mut store, 0).unwrap(), 1);
    fill.call(&mut store, 0).unwrap();
}

#[test]
fn traps_on_many_threads_at_once() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (memory 1)
             (func (export "f") (param i32) (result i32) (i32.load (local.get 0))))"#,
    )
    .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (engine, module) = (engine.clone(), module.clone());
            std::thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let f = instance
                    .get_typed_func::<i32, i32>(&mut store, "f")
                    .unwrap();
                for i in 0..200 {
                    let err = f.call(&mut store, 70_000 + i).unwrap_err();
                    assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds));
                    assert_eq!(f.call(&mut store, 0).unwrap(), 0);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn host_panics_unwind_through_wasm_and_the_store_survives() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "boom" (func $boom (param i32)))
             (func (export "f") (param i32) (call $boom (local.get 0))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "boom", |x: i32| {
            if x == 1 {
                panic!("host panic");
            }
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<i32, ()>(&mut store, "f").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(&mut store, 1)));
    assert!(caught.is_err());
    f.call(&mut store, 0).unwrap();
}

/// Set in the child process of `host_fault_is_not_a_wasm_trap`.
const CRASH_CHILD: &str = "KILN_NATIVE_HOST_FAULT_CHILD";

/// In the child process: wasm calls a host function that dereferences a
/// bad pointer. The runtime must not turn that into a wasm trap.
#[test]
fn host_fault_child() {
    if std::env::var_os(CRASH_CHILD).is_none() {
        return;
    }
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (import "env" "crash" (func $crash))
             (func (export "f") (call $crash)))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "crash", || {
            let bad = std::hint::black_box(16usize) as *const u8;
            // SAFETY: not safe at all, on purpose: this child process must
            // die of the fault it causes.
            let byte = unsafe { bad.read_volatile() };
            std::hint::black_box(byte);
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let result = f.call(&mut store, ());
    // Reaching this line means the fault was swallowed.
    println!("survived the host fault: {result:?}");
    std::process::exit(0);
}

#[test]
fn host_fault_is_not_a_wasm_trap() {
    use std::os::unix::process::ExitStatusExt;
    let output = rerun_in_child("host_fault_child", CRASH_CHILD);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.signal(),
        Some(libc_sigsegv()),
        "child should die of SIGSEGV: {:?}\n{stdout}",
        output.status
    );
    assert!(!stdout.contains("survived"), "{stdout}");
}

/// SIGSEGV's number on Linux (every architecture this test runs on).
fn libc_sigsegv() -> i32 {
    11
}

#[test]
fn traps_raised_by_builtins_and_host_errors_carry_wasm_frames() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module $m
            (import "env" "fail" (func $fail))
            (memory 1)
            (func $fill (export "fill") (param i32)
              (memory.fill (local.get 0) (i32.const 0) (i32.const 8)))
            (func (export "outer") (param i32) (call $fill (local.get 0)))
            (func $calls_host (export "host") (call $fail)))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("env", "fail", || -> Result<()> {
            anyhow::bail!("host says no")
        })
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let outer = instance
        .get_typed_func::<i32, ()>(&mut store, "outer")
        .unwrap();
    let err = outer.call(&mut store, 65530).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::MemoryOutOfBounds));
    let names: Vec<_> = trap.trace().iter().map(|f| f.func_name()).collect();
    assert_eq!(names, [Some("fill"), None], "{trap}");
    assert_eq!(trap.trace()[1].func_index(), 2);

    let host = instance
        .get_typed_func::<(), ()>(&mut store, "host")
        .unwrap();
    let err = host.call(&mut store, ()).unwrap_err();
    assert!(err.downcast_ref::<Trap>().is_none(), "{err:?}");
    assert_eq!(err.root_cause().to_string(), "host says no");
    let trace = err
        .downcast_ref::<WasmBacktrace>()
        .expect("wasm frames as context");
    assert_eq!(
        trace.frames()[0].func_name(),
        Some("calls_host"),
        "{trace:?}"
    );
    outer.call(&mut store, 0).unwrap();
}

/// The address ranges of this process's mappings of Kiln's memory images
/// (`memfd:kiln-memory-image` in `/proc/self/maps`).
fn image_mappings() -> Vec<(usize, usize)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter(|l| l.contains("kiln-memory-image"))
        .map(|l| {
            let range = l.split_whitespace().next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            (
                usize::from_str_radix(a, 16).unwrap(),
                usize::from_str_radix(b, 16).unwrap(),
            )
        })
        .collect()
}

/// Two overlapping segments (the later wins) and one on its own page.
const IMAGED: &str = r#"(module (memory (export "mem") 2)
    (data (i32.const 100) "abcdef")
    (data (i32.const 102) "XY")
    (data (i32.const 70000) "far")
    (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
    (func (export "init") (param i32 i32 i32)
      (memory.init 0 (local.get 0) (local.get 1) (local.get 2))))"#;

fn expected_imaged_memory() -> Vec<u8> {
    let mut want = vec![0u8; 2 * 65536];
    want[100..106].copy_from_slice(b"abXYef");
    want[70000..70003].copy_from_slice(b"far");
    want
}

#[test]
fn memory_images_are_mapped_and_private_to_each_instance() {
    for (what, engine) in both_bounds_strategies() {
        let module = Module::new(&engine, IMAGED).unwrap();
        let mut store = Store::new(&engine, ());
        let mut other_store = Store::new(&engine, ());
        let a = Instance::new(&mut store, &module, &[]).unwrap();
        let b = Instance::new(&mut store, &module, &[]).unwrap();
        let c = Instance::new(&mut other_store, &module, &[]).unwrap();
        let mem_a = a.get_memory(&mut store, "mem").unwrap();
        let mem_b = b.get_memory(&mut store, "mem").unwrap();
        let mem_c = c.get_memory(&mut other_store, "mem").unwrap();

        // The data came from an image, not from copying.
        let base = mem_a.data(&store).as_ptr() as usize;
        let len = mem_a.data_size(&store);
        assert!(
            image_mappings()
                .iter()
                .any(|&(lo, hi)| lo >= base && hi <= base + len),
            "{what}: no image mapped inside the memory"
        );

        let want = expected_imaged_memory();
        assert_eq!(mem_a.data(&store), &want[..], "{what}");
        let poke = a
            .get_typed_func::<(i32, i32), ()>(&mut store, "poke")
            .unwrap();
        poke.call(&mut store, (101, i32::from(b'!'))).unwrap();
        poke.call(&mut store, (70002, 0)).unwrap();
        assert_eq!(&mem_a.data(&store)[100..106], b"a!XYef", "{what}");
        assert_eq!(&mem_a.data(&store)[70000..70003], b"fa\0", "{what}");
        // Neither the other instances nor later ones see the writes.
        assert_eq!(mem_b.data(&store), &want[..], "{what}");
        assert_eq!(mem_c.data(&other_store), &want[..], "{what}");
        let d = Instance::new(&mut other_store, &module, &[]).unwrap();
        let mem_d = d.get_memory(&mut other_store, "mem").unwrap();
        assert_eq!(mem_d.data(&other_store), &want[..], "{what}");

        // The active segments were dropped as if copied: `memory.init`
        // from one traps unless it copies nothing.
        let init = a
            .get_typed_func::<(i32, i32, i32), ()>(&mut store, "init")
            .unwrap();
        init.call(&mut store, (0, 0, 0)).unwrap();
        let err = init.call(&mut store, (0, 0, 1)).unwrap_err();
        assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds), "{what}");

        // Growing keeps the image's bytes and the private writes.
        mem_a.grow(&mut store, 3).unwrap();
        assert_eq!(&mem_a.data(&store)[100..106], b"a!XYef", "{what}");
        assert_eq!(&mem_a.data(&store)[70000..70003], b"fa\0", "{what}");
    }
}

#[test]
fn failed_instantiation_leaves_an_imaged_memory_empty() {
    // The first element segment stores `peek` in the imported table, the
    // second is out of bounds: instantiation fails before the data
    // segments, so `peek`, still reachable through the table, must see a
    // memory without them.
    let engine = native_engine(|_| {});
    let module = Module::new(
        &engine,
        r#"(module
             (import "host" "table" (table 2 funcref))
             (memory 1)
             (data (i32.const 8) "\2a")
             (func $peek (result i32) (i32.load8_u (i32.const 8)))
             (elem (i32.const 0) $peek)
             (elem (i32.const 2) $peek))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Val::FuncRef(None),
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[table.into()]).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::TableOutOfBounds));
    let Some(Val::FuncRef(Some(peek))) = table.get(&store, 0) else {
        panic!("the first element segment was not applied");
    };
    let peek = peek.typed::<(), i32>(&store).unwrap();
    assert_eq!(peek.call(&mut store, ()).unwrap(), 0);
}

/// `memory.copy` of short lengths is inlined (loads of every chunk before
/// any store): it must behave as `memmove` for every length around the
/// inline limit and every overlap, and trap without writing when either
/// range is out of bounds, in both bounds-check modes.
#[test]
fn short_memory_copies_behave_like_memmove() {
    for (what, engine) in both_bounds_strategies() {
        let module = Module::new(
            &engine,
            r#"(module (memory (export "mem") 1)
                 (func (export "copy") (param i32 i32 i32)
                   (memory.copy (local.get 0) (local.get 1) (local.get 2))))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let copy = instance
            .get_typed_func::<(i32, i32, i32), ()>(&mut store, "copy")
            .unwrap();
        let mem = instance.get_memory(&mut store, "mem").unwrap();
        let pattern: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
        let base = 1000usize;
        for len in 0..=100usize {
            for shift in -20i32..=20 {
                mem.data_mut(&mut store)[..512].copy_from_slice(&pattern);
                let src = base - 700;
                let dst = (src as i32 + shift) as usize;
                let mut want = pattern.clone();
                want.copy_within(src..src + len, dst);
                copy.call(&mut store, (dst as i32, src as i32, len as i32))
                    .unwrap();
                assert_eq!(
                    &mem.data(&store)[..512],
                    &want[..],
                    "{what}: len {len}, shift {shift}"
                );
            }
        }
        // Out of bounds at either end: a trap, and nothing written.
        let size = mem.data_size(&store) as i32;
        for len in [1, 8, 33, 64] {
            for (dst, src) in [(size - len + 1, 0), (0, size - len + 1)] {
                mem.data_mut(&mut store)[..512].copy_from_slice(&pattern);
                let before = mem.data(&store).to_vec();
                let err = copy.call(&mut store, (dst, src, len)).unwrap_err();
                assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds), "{what}");
                assert!(
                    mem.data(&store) == &before[..],
                    "{what}: a trapping copy wrote"
                );
            }
        }
    }
}
