// The embedding API's behaviours, shared by `api.rs` (interpreter) and
// `native.rs` (Cranelift) and `baseline.rs`: each includes this file after defining
// `config()`, the configuration every engine here starts from.

use kiln::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn instantiate(wat: &str) -> (Store<()>, Instance) {
    let engine = engine();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn trap_code(err: &anyhow::Error) -> Option<TrapCode> {
    err.downcast_ref::<Trap>().and_then(|t| t.code())
}

#[test]
fn func_wrap_with_caller_reads_memory() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "print" (func $print (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 8) "hi there")
            (func (export "go") (call $print (i32.const 8) (i32.const 8))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "print",
            |mut caller: Caller<'_, Vec<String>>, ptr: i32, len: i32| -> Result<()> {
                let mem = caller.get_export("memory").unwrap().into_memory().unwrap();
                let bytes = &mem.data(&caller)[ptr as usize..(ptr + len) as usize];
                let s = String::from_utf8(bytes.to_vec())?;
                caller.data_mut().push(s);
                Ok(())
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let go = instance.get_typed_func::<(), ()>(&mut store, "go").unwrap();
    go.call(&mut store, ()).unwrap();
    go.call(&mut store, ()).unwrap();
    assert_eq!(store.data(), &["hi there", "hi there"]);
}

#[test]
fn typed_funcs() {
    let (mut store, instance) = instantiate(
        r#"(module
            (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
            (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
            (func (export "fsum") (param f32 f64) (result f64)
                (f64.add (f64.promote_f32 (local.get 0)) (local.get 1)))
            (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
            (func (export "v") (param v128) (result v128) (i32x4.add (local.get 0) (local.get 0))))"#,
    );
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "add")
        .unwrap();
    assert_eq!(add.call(&mut store, (2, 40)).unwrap(), 42);
    assert_eq!(add.call(&mut store, (i32::MAX, 1)).unwrap(), i32::MIN);
    let mul = instance
        .get_typed_func::<(i64, i64), i64>(&mut store, "mul64")
        .unwrap();
    assert_eq!(mul.call(&mut store, (1 << 40, 3)).unwrap(), 3 << 40);
    let fsum = instance
        .get_typed_func::<(f32, f64), f64>(&mut store, "fsum")
        .unwrap();
    assert_eq!(fsum.call(&mut store, (1.5, 2.25)).unwrap(), 3.75);
    let swap = instance
        .get_typed_func::<(i32, i64), (i64, i32)>(&mut store, "swap")
        .unwrap();
    assert_eq!(swap.call(&mut store, (7, -8)).unwrap(), (-8, 7));
    let v = instance
        .get_typed_func::<u128, u128>(&mut store, "v")
        .unwrap();
    let x = 1u128 | (2u128 << 32) | (3u128 << 64) | (4u128 << 96);
    assert_eq!(v.call(&mut store, x).unwrap(), x * 2);

    // Wrong types are rejected up front.
    let err = instance
        .get_typed_func::<i32, i32>(&mut store, "add")
        .unwrap_err();
    assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    assert!(
        instance
            .get_typed_func::<(), ()>(&mut store, "nope")
            .is_err()
    );
}

#[test]
fn dynamic_call_checks_arity_and_types() {
    let (mut store, instance) = instantiate(
        r#"(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#,
    );
    let add = instance.get_func(&mut store, "add").unwrap();
    assert_eq!(
        add.ty(&store).to_string(),
        "(func (param i32 i32) (result i32))"
    );
    let mut results = [Val::I32(0)];
    add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut results)
        .unwrap();
    assert_eq!(results[0].i32(), Some(3));
    let err = add
        .call(&mut store, &[Val::I32(1)], &mut results)
        .unwrap_err();
    assert!(err.to_string().contains("expects 2 arguments"), "{err}");
    let err = add
        .call(&mut store, &[Val::I32(1), Val::I64(2)], &mut results)
        .unwrap_err();
    assert!(format!("{err:#}").contains("type mismatch"), "{err:#}");
    assert!(
        add.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut [])
            .is_err()
    );
}

#[test]
fn trap_leaves_store_usable() {
    let (mut store, instance) = instantiate(
        r#"(module $m
            (memory 1)
            (func $boom (export "boom") (param i32) (result i32) (i32.load (local.get 0)))
            (func (export "outer") (param i32) (result i32) (call $boom (local.get 0)))
            (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))"#,
    );
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    let err = outer.call(&mut store, 70000).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::MemoryOutOfBounds));
    let text = trap.to_string();
    assert!(text.starts_with("out of bounds memory access"), "{text}");
    assert!(text.contains("\nwasm backtrace:\n"), "{text}");
    assert!(text.contains("m!boom"), "{text}");
    assert_eq!(trap.trace().len(), 2);
    assert_eq!(trap.trace()[0].func_name(), Some("boom"));
    assert_eq!(trap.trace()[0].module_name(), Some("m"));
    assert!(trap.trace()[0].module_offset().is_some());
    assert_eq!(trap.trace()[1].func_index(), 1);

    // The store still works.
    assert_eq!(outer.call(&mut store, 0).unwrap(), 0);
    let div = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "div")
        .unwrap();
    let err = div.call(&mut store, (1, 0)).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::IntegerDivisionByZero));
    assert_eq!(div.call(&mut store, (9, 3)).unwrap(), 3);
}

#[test]
fn host_errors_propagate_unchanged() {
    #[derive(Debug)]
    struct MyError(u32);
    impl std::fmt::Display for MyError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "my error {}", self.0)
        }
    }
    impl std::error::Error for MyError {}

    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module (import "h" "fail" (func $f)) (func (export "run") (call $f)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let fail = Func::wrap(&mut store, || -> Result<()> { Err(MyError(7).into()) });
    let instance = Instance::new(&mut store, &module, &[fail.into()]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>().map(|e| e.0), Some(7));
    assert!(err.downcast_ref::<Trap>().is_none());
    assert!(format!("{err:?}").contains("my error 7"));
    // Called directly from the embedder.
    let err = fail.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>().map(|e| e.0), Some(7));
}

#[test]
fn fuel_exhaustion_traps() {
    let mut config = config();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (func (export "spin") (loop br 0))
            (func (export "count") (param i32) (result i32)
              (local i32)
              (block (loop
                (br_if 1 (i32.eqz (local.get 0)))
                (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
                (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                (br 0)))
              (local.get 1)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    let count = instance
        .get_typed_func::<i32, i32>(&mut store, "count")
        .unwrap();

    assert_eq!(store.get_fuel().unwrap(), 0);
    store.set_fuel(10_000).unwrap();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::OutOfFuel));
    assert!(err.to_string().contains("all fuel consumed"));
    // Whatever is left is less than one more iteration's charge.
    assert!(store.get_fuel().unwrap() < 100);

    store.set_fuel(1_000_000).unwrap();
    assert_eq!(count.call(&mut store, 100).unwrap(), 100);
    let left = store.get_fuel().unwrap();
    assert!(left < 1_000_000 && left > 0, "fuel left: {left}");

    // Without fuel enabled, the fuel API errors.
    let mut plain = Store::new(&crate::engine(), ());
    assert!(plain.set_fuel(10).is_err());
    assert!(plain.get_fuel().is_err());
}

#[test]
fn interrupt_from_another_thread() {
    let (mut store, instance) = instantiate(
        r#"(module
            (func (export "spin") (loop br 0))
            (func (export "one") (result i32) (i32.const 1)))"#,
    );
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    let handle = store.interrupt_handle();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        handle.interrupt();
    });
    let err = spin.call(&mut store, ()).unwrap_err();
    thread.join().unwrap();
    assert_eq!(trap_code(&err), Some(TrapCode::Interrupt));
    // The interrupt was consumed; the store keeps working.
    let one = instance
        .get_typed_func::<(), i32>(&mut store, "one")
        .unwrap();
    assert_eq!(one.call(&mut store, ()).unwrap(), 1);
}

struct MaxPages(usize);

impl ResourceLimiter for MaxPages {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= self.0 * 65536)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(desired <= 10)
    }
}

#[test]
fn limiter_refuses_growth() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "mem") 1)
            (table (export "tab") 1 funcref)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, MaxPages(3));
    store.limiter(|l| l as &mut dyn ResourceLimiter);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 2).unwrap(), -1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), 2);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    assert_eq!(mem.size(&store), 3);
    assert!(mem.grow(&mut store, 1).is_err());
    let tgrow = instance
        .get_typed_func::<i32, i32>(&mut store, "tgrow")
        .unwrap();
    assert_eq!(tgrow.call(&mut store, 9).unwrap(), 1);
    assert_eq!(tgrow.call(&mut store, 1).unwrap(), -1);

    // Creation is limited too.
    let big = Module::new(&engine, "(module (memory 4))").unwrap();
    assert!(Instance::new(&mut store, &big, &[]).is_err());
}

#[test]
fn engine_module_store_are_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Engine>();
    send_sync::<Module>();
    send_sync::<Config>();
    send_sync::<Func>();
    send_sync::<Instance>();
    send_sync::<Memory>();
    send_sync::<Trap>();
    send_sync::<InterruptHandle>();
    send_sync::<Linker<()>>();
    send::<Store<()>>();
    send::<Store<Vec<String>>>();
}

#[test]
fn deep_recursion_traps_with_stack_exhausted() {
    let (mut store, instance) = instantiate(
        r#"(module
            (func $rec (export "rec") (param i32) (result i32)
              (if (result i32) (i32.eqz (local.get 0))
                (then (i32.const 0))
                (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get 0) (i32.const 1))))))))"#,
    );
    let rec = instance
        .get_typed_func::<i32, i32>(&mut store, "rec")
        .unwrap();
    // Deep, but within a test thread's 2 MiB stack: every s390x frame
    // carries the ABI's 160-byte register save area for its callees, so
    // native frames there are several times the size they are elsewhere.
    let deep = if cfg!(target_arch = "s390x") { 5_000 } else { 20_000 };
    assert_eq!(rec.call(&mut store, deep).unwrap(), deep);
    let err = rec.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::StackOverflow));
    assert!(err.to_string().contains("call stack exhausted"), "{err}");
    // And the store is still fine afterwards.
    assert_eq!(rec.call(&mut store, 10).unwrap(), 10);
}

#[test]
fn missing_import_names_module_and_field() {
    let engine = engine();
    let module = Module::new(&engine, r#"(module (import "env" "f" (func)))"#).unwrap();
    let linker = Linker::<()>::new(&engine);
    let mut store = Store::new(&engine, ());
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown import: `env::f` has not been defined"
    );
}

#[test]
fn import_type_checks() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i32))) (import "env" "m" (memory 2 4)))"#,
    )
    .unwrap();
    let good_f = Func::wrap(&mut store, |_: i32| {});
    let bad_f = Func::wrap(&mut store, |_: i64| {});
    let mem =
        |store: &mut Store<()>, min, max| Memory::new(store, MemoryType::new(min, max)).unwrap();
    let ok_mem = mem(&mut store, 3, Some(4));
    assert!(Instance::new(&mut store, &module, &[good_f.into(), ok_mem.into()]).is_ok());
    let err = Instance::new(&mut store, &module, &[bad_f.into(), ok_mem.into()]).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
    assert!(err.to_string().contains("env::f"), "{err}");
    for (min, max) in [(1, Some(4)), (2, None), (2, Some(5))] {
        let m = mem(&mut store, min, max);
        let err = Instance::new(&mut store, &module, &[good_f.into(), m.into()]).unwrap_err();
        assert!(
            err.to_string().contains("incompatible import type"),
            "{err}"
        );
    }
    let err = Instance::new(&mut store, &module, &[ok_mem.into(), good_f.into()]).unwrap_err();
    assert!(
        err.to_string().contains("incompatible import type"),
        "{err}"
    );
    assert!(Instance::new(&mut store, &module, &[good_f.into()]).is_err());
}

#[test]
fn failed_segment_keeps_earlier_writes() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "mem" (memory 1))
            (data (i32.const 0) "abc")
            (data (i32.const 65535) "xy"))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[memory.into()]).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds));
    assert!(err.to_string().contains("out of bounds memory access"));
    assert_eq!(&memory.data(&store)[..3], b"abc");

    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Val::FuncRef(None),
    )
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "tab" (table 2 funcref))
            (func $f (result i32) (i32.const 5))
            (elem (i32.const 0) $f)
            (elem (i32.const 2) $f))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[table.into()]).unwrap_err();
    assert!(
        err.to_string().contains("out of bounds table access"),
        "{err}"
    );
    // The function written by the first segment is callable.
    let f = table
        .get(&mut store, 0)
        .unwrap()
        .funcref()
        .unwrap()
        .copied()
        .unwrap();
    let f = f.typed::<(), i32>(&store).unwrap();
    assert_eq!(f.call(&mut store, ()).unwrap(), 5);
}

#[test]
fn start_function_runs() {
    let (mut store, instance) = instantiate(
        r#"(module
            (global $g (export "g") (mut i32) (i32.const 1))
            (func $start (global.set $g (i32.const 42)))
            (start $start))"#,
    );
    let g = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&store).i32(), Some(42));
}

#[test]
fn globals_tables_and_refs() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let base = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(10),
    )
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "base" (global $base i32))
            (global $c (export "c") i32 (i32.add (global.get $base) (i32.const 5)))
            (global $m (export "m") (mut i64) (i64.const 0))
            (global $r (export "r") (mut externref) (ref.null extern))
            (table $t (export "t") 3 funcref)
            (func $seven (export "seven") (result i32) (i32.const 7))
            (elem (i32.const 1) $seven)
            (func (export "call_t") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
            (func (export "get_m") (result i64) (global.get $m))
            (func (export "id") (param externref) (result externref) (local.get 0))
            (func (export "fref") (result funcref) (ref.func $seven)))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[base.into()]).unwrap();
    assert_eq!(
        instance
            .get_global(&mut store, "c")
            .unwrap()
            .get(&store)
            .i32(),
        Some(15)
    );
    let c = instance.get_global(&mut store, "c").unwrap();
    assert!(c.set(&mut store, Val::I32(1)).is_err());
    let m = instance.get_global(&mut store, "m").unwrap();
    assert!(m.set(&mut store, Val::I32(1)).is_err());
    m.set(&mut store, Val::I64(-3)).unwrap();
    let get_m = instance
        .get_typed_func::<(), i64>(&mut store, "get_m")
        .unwrap();
    assert_eq!(get_m.call(&mut store, ()).unwrap(), -3);

    let t = instance.get_table(&mut store, "t").unwrap();
    assert_eq!(t.size(&store), 3);
    assert!(t.get(&mut store, 0).unwrap().funcref().unwrap().is_none());
    let seven = instance.get_func(&mut store, "seven").unwrap();
    assert_eq!(
        t.get(&mut store, 1).unwrap().funcref().unwrap(),
        Some(&seven)
    );
    let call_t = instance
        .get_typed_func::<i32, i32>(&mut store, "call_t")
        .unwrap();
    assert_eq!(call_t.call(&mut store, 1).unwrap(), 7);
    let err = call_t.call(&mut store, 0).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::IndirectCallToNull));
    // A host function in a table, called indirectly.
    let host = Func::wrap(&mut store, || 99i32);
    t.set(&mut store, 2, host.into()).unwrap();
    assert_eq!(call_t.call(&mut store, 2).unwrap(), 99);
    assert!(t.set(&mut store, 3, Val::FuncRef(None)).is_err());
    assert_eq!(t.grow(&mut store, 2, Val::FuncRef(Some(seven))).unwrap(), 3);
    assert_eq!(call_t.call(&mut store, 4).unwrap(), 7);

    let fref = instance
        .get_typed_func::<(), Option<Func>>(&mut store, "fref")
        .unwrap();
    assert_eq!(fref.call(&mut store, ()).unwrap(), Some(seven));

    let id = instance
        .get_typed_func::<Option<ExternRef>, Option<ExternRef>>(&mut store, "id")
        .unwrap();
    let r = ExternRef::new(&mut store, String::from("hello"));
    let back = id.call(&mut store, Some(r)).unwrap().unwrap();
    assert_eq!(back.data(&store).unwrap().downcast_ref::<String>().unwrap(), "hello");
    assert_eq!(id.call(&mut store, None).unwrap(), None);
    let rg = instance.get_global(&mut store, "r").unwrap();
    rg.set(&mut store, r.into()).unwrap();
    assert!(
        matches!(rg.get(&store), Val::ExternRef(Some(x)) if ExternRef::ref_eq(&store, &x, &r).unwrap())
    );
}

#[test]
fn host_reenters_wasm() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "twice" (func $twice (param i32) (result i32)))
            (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
            (func (export "run") (param i32) (result i32) (call $twice (local.get 0))))"#,
    )
    .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut linker = Linker::new(&engine);
    let counter = calls.clone();
    linker
        .func_wrap(
            "env",
            "twice",
            move |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
                counter.fetch_add(1, Ordering::Relaxed);
                let inc = caller.get_export("inc").unwrap().into_func().unwrap();
                let inc = inc.typed::<i32, i32>(&caller)?;
                let y = inc.call(&mut caller, x)?;
                inc.call(&mut caller, y)
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 40).unwrap(), 42);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[test]
fn func_new_untyped_host() {
    let engine = engine();
    let mut store = Store::new(&engine, 0i64);
    let ty = FuncType::new(&engine, [ValType::I64, ValType::I64], [ValType::I64]);
    let f = Func::new(
        &mut store,
        ty,
        |mut caller: Caller<'_, i64>, params: &[Val], results: &mut [Val]| {
            *caller.data_mut() += 1;
            results[0] = Val::I64(params[0].unwrap_i64() - params[1].unwrap_i64());
            Ok(())
        },
    );
    let module = Module::new(
        &engine,
        r#"(module (import "" "sub" (func $sub (param i64 i64) (result i64)))
            (func (export "run") (result i64) (call $sub (i64.const 50) (i64.const 8))))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[f.into()]).unwrap();
    let run = instance
        .get_typed_func::<(), i64>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    let mut out = [Val::I64(0)];
    f.call(&mut store, &[Val::I64(1), Val::I64(2)], &mut out)
        .unwrap();
    assert_eq!(out[0].i64(), Some(-1));
    assert_eq!(*store.data(), 2);

    // A host function returning the wrong type is an error, not UB.
    let bad_ty = FuncType::new(&engine, [], [ValType::I32]);
    let bad = Func::new(&mut store, bad_ty, |_, _, results| {
        results[0] = Val::F32(0);
        Ok(())
    });
    assert!(bad.call(&mut store, &[], &mut [Val::I32(0)]).is_err());
}

#[test]
fn linker_shadowing_and_instances() {
    let engine = engine();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("a", "f", || 1i32).unwrap();
    assert!(linker.func_wrap("a", "f", || 2i32).is_err());
    linker.allow_shadowing(true);
    linker.func_wrap("a", "f", || 3i32).unwrap();

    let mut store = Store::new(&engine, ());
    let provider = Module::new(
        &engine,
        r#"(module (import "a" "f" (func $f (result i32)))
            (func (export "g") (result i32) (i32.mul (call $f) (i32.const 2))))"#,
    )
    .unwrap();
    let p = linker.instantiate(&mut store, &provider).unwrap();
    linker.instance(&mut store, "p", p).unwrap();
    let user = Module::new(
        &engine,
        r#"(module (import "p" "g" (func $g (result i32)))
            (func (export "h") (result i32) (i32.add (call $g) (i32.const 1))))"#,
    )
    .unwrap();
    let u = linker.instantiate(&mut store, &user).unwrap();
    let h = u.get_typed_func::<(), i32>(&mut store, "h").unwrap();
    assert_eq!(h.call(&mut store, ()).unwrap(), 7);
    assert!(linker.get(&mut store, "p", "g").is_some());
    assert!(linker.get(&mut store, "p", "nope").is_none());
}

#[test]
fn module_metadata_and_errors() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module $named
            (import "env" "f" (func (param i32) (result i64)))
            (import "env" "g" (global (mut f32)))
            (memory (export "mem") 1 2)
            (table (export "tab") 1 externref)
            (func (export "run")))"#,
    )
    .unwrap();
    assert_eq!(module.name(), Some("named"));
    let imports: Vec<_> = module
        .imports()
        .map(|i| (i.module(), i.name(), i.ty()))
        .collect();
    assert_eq!(imports.len(), 2);
    assert_eq!(imports[0].2.to_string(), "(func (param i32) (result i64))");
    assert_eq!(
        imports[1].2,
        ExternType::Global(GlobalType::new(ValType::F32, Mutability::Var))
    );
    let exports: Vec<_> = module
        .exports()
        .map(|e| (e.name().to_string(), e.ty()))
        .collect();
    assert_eq!(
        exports[0].1,
        ExternType::Memory(MemoryType::new(1, Some(2)))
    );
    assert_eq!(
        exports[1].1,
        ExternType::Table(TableType::new(RefType::EXTERNREF, 1, None))
    );
    assert!(matches!(exports[2].1, ExternType::Func(_)));

    // Binary errors carry the offset.
    let err = Module::new(&engine, b"\0asm\x01\0\0\0\x01\xff").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("failed to parse WebAssembly module:"),
        "{msg}"
    );
    assert!(msg.contains("(at offset 0x"), "{msg}");
    assert!(Module::validate(&engine, b"\0asm\x01\0\0\0").is_ok());
    assert!(Module::validate(&engine, b"\0asm\x02\0\0\0").is_err());
    let err = Module::from_file(&engine, "/nonexistent/dir/x.wasm").unwrap_err();
    assert!(
        format!("{err:#}").contains("/nonexistent/dir/x.wasm"),
        "{err:#}"
    );

    // Disabled proposals are rejected.
    let mut config = config();
    config.wasm_simd(false);
    let no_simd = Engine::new(&config).unwrap();
    assert!(Module::new(&no_simd, "(module (func (param v128)))").is_err());
}

#[test]
fn memory_read_write() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mem = Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    assert_eq!(mem.size(&store), 1);
    assert_eq!(mem.data_size(&store), 65536);
    mem.write(&mut store, 100, b"kiln").unwrap();
    let mut buf = [0; 4];
    mem.read(&store, 100, &mut buf).unwrap();
    assert_eq!(&buf, b"kiln");
    assert!(mem.write(&mut store, 65534, b"abc").is_err());
    assert!(mem.read(&store, usize::MAX, &mut buf).is_err());
    mem.data_mut(&mut store)[0] = 9;
    assert_eq!(mem.grow(&mut store, 1).unwrap(), 1);
    assert_eq!(mem.data(&store)[0], 9);
    assert_eq!(&mem.data(&store)[100..104], b"kiln");
    assert!(mem.grow(&mut store, 1).is_err());
    assert_eq!(mem.ty(&store).minimum(), 2);
}

#[test]
fn runaway_host_reentry_traps_instead_of_crashing() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "h" (func $h (param i32) (result i32)))
            (func (export "f") (param i32) (result i32)
              (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
                (else (call $h (i32.sub (local.get 0) (i32.const 1)))))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "env",
            "h",
            |mut caller: Caller<'_, ()>, n: i32| -> Result<i32> {
                let f = caller.get_export("f").unwrap().into_func().unwrap();
                let f = f.typed::<i32, i32>(&caller)?;
                Ok(f.call(&mut caller, n)? + 1)
            },
        )
        .unwrap();
    // A 2 MiB thread, like the test harness's own, and a 384 KiB one:
    // smaller than a fixed re-entry budget of 1 MiB would allow, so only
    // a limit taken from the thread's real stack keeps it from crashing
    // (it did crash, in unoptimized builds, before the limit was).
    for stack in [2 << 20, 384 << 10] {
        let (engine, module, linker) = (engine.clone(), module.clone(), linker.clone());
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = linker.instantiate(&mut store, &module).unwrap();
                let f = instance
                    .get_typed_func::<i32, i32>(&mut store, "f")
                    .unwrap();
                assert_eq!(f.call(&mut store, 5).unwrap(), 5);
                let err = f.call(&mut store, 1_000_000).unwrap_err();
                assert_eq!(trap_code(&err), Some(TrapCode::StackOverflow), "{err:?}");
                // Usable afterwards.
                assert_eq!(f.call(&mut store, 3).unwrap(), 3);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}

fn engine() -> Engine {
    Engine::new(&config()).unwrap()
}

#[test]
fn multi_memory_accesses_reach_the_memory_they_name() {
    // Memory 0 is larger than memory 1, so an access that is in bounds for
    // the first but not the second shows which bounds were checked.
    let (mut store, instance) = instantiate(
        r#"(module
            (memory $a (export "a") 2)
            (memory $b (export "b") 1 3)
            (data (memory $b) (i32.const 16) "\01\02\03\04\05\06\07\08\f0")
            (data $later "xyz")
            (func (export "scalars") (result i64)
              (i64.store $b (i32.const 100) (i64.const 0x1122334455667788))
              (i64.add
                (i64.add (i64.load $b (i32.const 100)) (i64.load8_s $b (i32.const 24)))
                (i64.extend_i32_u (i32.load16_u $b offset=2 (i32.const 16)))))
            (func (export "load_b") (param i32) (result i32) (i32.load $b (local.get 0)))
            (func (export "load_a") (param i32) (result i32) (i32.load $a (local.get 0)))
            (func (export "simd") (result i32)
              (v128.store $b (i32.const 200) (v128.load $b (i32.const 16)))
              (v128.store8_lane $b 3 (i32.const 300) (v128.load $b (i32.const 200)))
              (i32.add
                (i8x16.extract_lane_u 8 (v128.load $b (i32.const 200)))
                (i32.load8_u $b (i32.const 300))))
            (func (export "simd_oob") (v128.store $b (i32.const 65530) (v128.const i64x2 0 0)))
            (func (export "bulk") (result i32)
              (memory.copy $a $b (i32.const 0) (i32.const 16) (i32.const 4))
              (memory.fill $b (i32.const 400) (i32.const 7) (i32.const 3))
              (memory.init $b $later (i32.const 500) (i32.const 0) (i32.const 3))
              (memory.copy $b $b (i32.const 501) (i32.const 500) (i32.const 2))
              (i32.add
                (i32.add (i32.load $a (i32.const 0)) (i32.load8_u $b (i32.const 402)))
                (i32.load16_u $b (i32.const 501))))
            (func (export "grow_b") (param i32) (result i32) (memory.grow $b (local.get 0)))
            (func (export "size_b") (result i32) (memory.size $b)))"#,
    );
    let scalars = instance.get_typed_func::<(), i64>(&mut store, "scalars").unwrap();
    // 0x1122334455667788 + sign-extended 0xf0 (-16) + 0x0403.
    assert_eq!(scalars.call(&mut store, ()).unwrap(), 0x1122334455667788 - 16 + 0x0403);

    let load_a = instance.get_typed_func::<i32, i32>(&mut store, "load_a").unwrap();
    let load_b = instance.get_typed_func::<i32, i32>(&mut store, "load_b").unwrap();
    assert_eq!(load_a.call(&mut store, 70000).unwrap(), 0);
    let err = load_b.call(&mut store, 70000).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds));
    assert_eq!(load_b.call(&mut store, 16).unwrap(), 0x04030201);

    let simd = instance.get_typed_func::<(), i32>(&mut store, "simd").unwrap();
    // Lane 8 of the copied vector is 0xf0; lane 3 stored alone is 4.
    assert_eq!(simd.call(&mut store, ()).unwrap(), 0xf0 + 4);
    let simd_oob = instance.get_typed_func::<(), ()>(&mut store, "simd_oob").unwrap();
    let err = simd_oob.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds));
    // After the trap, memory 0 is memory 0 again.
    assert_eq!(load_a.call(&mut store, 70000).unwrap(), 0);

    let bulk = instance.get_typed_func::<(), i32>(&mut store, "bulk").unwrap();
    // 0x04030201 + 7 + "xy" (the overlapping copy moved "xy" up by one).
    assert_eq!(bulk.call(&mut store, ()).unwrap(), 0x04030201 + 7 + 0x7978);

    let grow_b = instance.get_typed_func::<i32, i32>(&mut store, "grow_b").unwrap();
    let size_b = instance.get_typed_func::<(), i32>(&mut store, "size_b").unwrap();
    assert_eq!(grow_b.call(&mut store, 1).unwrap(), 1);
    assert_eq!(size_b.call(&mut store, ()).unwrap(), 2);
    assert_eq!(grow_b.call(&mut store, 2).unwrap(), -1, "past the maximum of 3");
    assert_eq!(load_b.call(&mut store, 70000).unwrap(), 0, "the grown page is in bounds");

    let a = instance.get_memory(&mut store, "a").unwrap();
    let b = instance.get_memory(&mut store, "b").unwrap();
    assert_eq!(a.size(&store), 2);
    assert_eq!(b.size(&store), 2);
    assert_eq!(&b.data(&store)[400..403], &[7, 7, 7]);
    assert_eq!(&a.data(&store)[0..4], &[1, 2, 3, 4]);
}

#[test]
fn memory64_addresses_are_never_truncated() {
    // Every address and index here would be in bounds if anything cut it
    // to 32 bits: 2^32 + 8 wraps to 8, 2^32 to 0.
    let (mut store, instance) = instantiate(
        r#"(module
            (memory $m (export "m") i64 1 3)
            (table $t i64 2 funcref)
            (elem (table $t) (i64.const 0) func $seven)
            (func $seven (result i32) (i32.const 7))
            (func (export "load") (param i64) (result i32) (i32.load (local.get 0)))
            (func (export "load_offset") (param i64) (result i32)
              (i32.load offset=0x100000000 (local.get 0)))
            (func (export "load_narrow") (param i32) (result i32)
              (i32.load (i64.extend_i32_u (local.get 0))))
            (func (export "store") (param i64 i32) (i32.store (local.get 0) (local.get 1)))
            (func (export "simd") (param i64) (result i32)
              (i32x4.extract_lane 1 (v128.load (local.get 0))))
            (func (export "fill") (param i64 i64) (memory.fill (local.get 0) (i32.const 1) (local.get 1)))
            (func (export "copy") (param i64 i64 i64)
              (memory.copy (local.get 0) (local.get 1) (local.get 2)))
            (func (export "size") (result i64) (memory.size))
            (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
            (func (export "call") (param i64) (result i32) (call_indirect $t (result i32) (local.get 0)))
            (func (export "table_get_null") (param i64) (result i32)
              (ref.is_null (table.get $t (local.get 0))))
            (func (export "table_grow") (param i64) (result i64)
              (table.grow $t (ref.null func) (local.get 0)))
            (func (export "table_size") (result i64) (table.size $t)))"#,
    );
    let oob = |r: Result<i32>| trap_code(&r.unwrap_err()) == Some(TrapCode::MemoryOutOfBounds);
    let store_fn = instance.get_typed_func::<(i64, i32), ()>(&mut store, "store").unwrap();
    store_fn.call(&mut store, (8, 0x55)).unwrap();
    store_fn.call(&mut store, (20, 0x66)).unwrap();
    let load = instance.get_typed_func::<i64, i32>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 8).unwrap(), 0x55);
    assert!(oob(load.call(&mut store, (1 << 32) + 8)));
    assert!(oob(load.call(&mut store, -1)));
    assert!(oob(load.call(&mut store, 65533)));
    assert_eq!(load.call(&mut store, 65532).unwrap(), 0);
    let load_offset = instance.get_typed_func::<i64, i32>(&mut store, "load_offset").unwrap();
    assert!(oob(load_offset.call(&mut store, 8)));
    // The offset plus the address overflows 64 bits.
    assert!(oob(load_offset.call(&mut store, -0x1_0000_0000 + 8)));
    let load_narrow = instance.get_typed_func::<i32, i32>(&mut store, "load_narrow").unwrap();
    assert_eq!(load_narrow.call(&mut store, 8).unwrap(), 0x55);
    assert!(oob(load_narrow.call(&mut store, -1)));
    let simd = instance.get_typed_func::<i64, i32>(&mut store, "simd").unwrap();
    assert_eq!(simd.call(&mut store, 16).unwrap(), 0x66);
    assert!(oob(simd.call(&mut store, (1 << 32) + 16)));
    assert!(oob(simd.call(&mut store, 65521)));
    assert_eq!(simd.call(&mut store, 65520).unwrap(), 0);
    // After a trapped memory64 SIMD access the memory is whole again.
    assert_eq!(load.call(&mut store, 8).unwrap(), 0x55);

    let fill = instance.get_typed_func::<(i64, i64), ()>(&mut store, "fill").unwrap();
    let copy = instance.get_typed_func::<(i64, i64, i64), ()>(&mut store, "copy").unwrap();
    let bulk_oob = |r: Result<()>| trap_code(&r.unwrap_err()) == Some(TrapCode::MemoryOutOfBounds);
    assert!(bulk_oob(fill.call(&mut store, (1 << 32, 1))));
    assert!(bulk_oob(fill.call(&mut store, (0, (1 << 32) + 1))));
    assert!(bulk_oob(copy.call(&mut store, (1 << 32, 0, 4))));
    assert!(bulk_oob(copy.call(&mut store, (0, -4, 8))));
    copy.call(&mut store, (100, 8, 4)).unwrap();
    assert_eq!(load.call(&mut store, 100).unwrap(), 0x55);

    let size = instance.get_typed_func::<(), i64>(&mut store, "size").unwrap();
    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow").unwrap();
    assert_eq!(grow.call(&mut store, 1 << 32).unwrap(), -1, "past the maximum");
    assert_eq!(grow.call(&mut store, 1).unwrap(), 1);
    assert_eq!(size.call(&mut store, ()).unwrap(), 2);
    assert_eq!(load.call(&mut store, 65533).unwrap(), 0);

    let call = instance.get_typed_func::<i64, i32>(&mut store, "call").unwrap();
    assert_eq!(call.call(&mut store, 0).unwrap(), 7);
    let err = call.call(&mut store, 1 << 32).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::UndefinedElement));
    let get = instance.get_typed_func::<i64, i32>(&mut store, "table_get_null").unwrap();
    assert_eq!(get.call(&mut store, 1).unwrap(), 1);
    let err = get.call(&mut store, 1 << 32).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::TableOutOfBounds));
    let table_grow = instance.get_typed_func::<i64, i64>(&mut store, "table_grow").unwrap();
    let table_size = instance.get_typed_func::<(), i64>(&mut store, "table_size").unwrap();
    assert_eq!(table_grow.call(&mut store, 1 << 40).unwrap(), -1, "64-bit failure value");
    assert_eq!(table_grow.call(&mut store, 3).unwrap(), 2);
    assert_eq!(table_size.call(&mut store, ()).unwrap(), 5);

    let m = instance.get_memory(&mut store, "m").unwrap();
    assert!(m.ty(&store).is_64());
    assert_eq!(m.ty(&store).to_string(), "(memory i64 2 3)");
}

#[test]
fn memory64_is_a_proposal_that_can_be_turned_off() {
    let wat = r#"(module (memory i64 1))"#;
    let mut cfg = config();
    cfg.wasm_memory64(false);
    let engine = Engine::new(&cfg).unwrap();
    let err = Module::new(&engine, wat).unwrap_err();
    assert!(format!("{err:#}").contains("memory64"), "{err:#}");
    assert!(Module::new(&self::engine(), wat).is_ok());
}

#[test]
fn table64_and_memory64_imports_match_only_their_own_index_type() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let t32 = Table::new(&mut store, TableType::new(RefType::FUNCREF, 1, None), Val::FuncRef(None))
        .unwrap();
    let t64 = Table::new(
        &mut store,
        TableType::new64(RefType::FUNCREF, 1, None),
        Val::FuncRef(None),
    )
    .unwrap();
    let m32 = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let m64 = Memory::new(&mut store, MemoryType::new64(1, None)).unwrap();
    let wants64 = Module::new(
        &engine,
        r#"(module (import "" "t" (table i64 1 funcref)) (import "" "m" (memory i64 1)))"#,
    )
    .unwrap();
    let ok = Instance::new(&mut store, &wants64, &[t64.into(), m64.into()]);
    assert!(ok.is_ok(), "{:#}", ok.err().unwrap());
    let err = Instance::new(&mut store, &wants64, &[t32.into(), m64.into()]).unwrap_err();
    assert!(format!("{err:#}").contains("expected (table i64 1"), "{err:#}");
    let err = Instance::new(&mut store, &wants64, &[t64.into(), m32.into()]).unwrap_err();
    assert!(format!("{err:#}").contains("expected (memory i64 1"), "{err:#}");
}

#[test]
fn one_byte_pages_bound_every_access_to_the_byte() {
    let wat = r#"(module
        (memory (export "m") 3 (pagesize 1))
        (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
        (func (export "load_wide") (param i32) (result i32) (i32.load (local.get 0)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "size") (result i32) (memory.size)))"#;
    // Off by default, as in Wasmtime.
    assert!(Module::new(&engine(), wat).is_err());
    let mut cfg = config();
    cfg.wasm_custom_page_sizes(true);
    let engine = Engine::new(&cfg).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    let load_wide = instance.get_typed_func::<i32, i32>(&mut store, "load_wide").unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let size = instance.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    assert_eq!(load.call(&mut store, 2).unwrap(), 0);
    // Byte 3 lies in the same host page as byte 2, so only an explicit
    // check can catch these.
    for (f, addr) in [(&load, 3), (&load_wide, 0)] {
        let err = f.call(&mut store, addr).unwrap_err();
        assert_eq!(trap_code(&err), Some(TrapCode::MemoryOutOfBounds), "at {addr}");
    }
    assert_eq!(grow.call(&mut store, 5).unwrap(), 3);
    assert_eq!(size.call(&mut store, ()).unwrap(), 8);
    assert_eq!(load_wide.call(&mut store, 4).unwrap(), 0);
    let m = instance.get_memory(&mut store, "m").unwrap();
    assert_eq!(m.data_size(&store), 8);
    assert_eq!(m.ty(&store).page_size(), 1);
    assert_eq!(m.ty(&store).to_string(), "(memory 8 (pagesize 1))");

    // Host-made memories: page sizes are checked and must match imports.
    assert!(MemoryType::new(1, None).with_page_size_log2(3).is_err());
    let small = MemoryType::new(3, None).with_page_size_log2(0).unwrap();
    let host = Memory::new(&mut store, small).unwrap();
    assert_eq!(host.data_size(&store), 3);
    let wants_small = Module::new(&engine, r#"(module (import "" "m" (memory 1 (pagesize 1))))"#)
        .unwrap();
    assert!(Instance::new(&mut store, &wants_small, &[host.into()]).is_ok());
    let big = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let err = Instance::new(&mut store, &wants_small, &[big.into()]).unwrap_err();
    assert!(format!("{err:#}").contains("(pagesize 1)"), "{err:#}");
}

#[test]
fn typed_function_references_cross_the_host_boundary_checked() {
    let engine = engine();
    let wat = r#"(module
        (type $t (func (param i32) (result i32)))
        (type $r (func (param (ref null $t))))
        (func $double (export "double") (type $t) (i32.mul (local.get 0) (i32.const 2)))
        (func (export "apply") (param $f (ref $t)) (param i32) (result i32)
          (call_ref $t (local.get 1) (local.get $f)))
        (func (export "maybe") (param $f (ref null $t)) (result i32)
          (block $null
            (return (call_ref $t (i32.const 5) (br_on_null $null (local.get $f)))))
          (i32.const -1))
        (func (export "get") (result (ref $t)) (ref.func $double))
        (func (export "self") (type $r))
        (elem declare func $double))"#;
    let module = Module::new(&engine, wat).unwrap();
    let other = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let double = instance.get_func(&mut store, "double").unwrap();
    let apply = instance.get_func(&mut store, "apply").unwrap();
    let maybe = instance.get_func(&mut store, "maybe").unwrap();

    // The parameter's type names the module's type $t.
    let param = apply.ty(&store).params().next().unwrap();
    let ValType::Ref(r) = &param else { panic!("{param}") };
    assert!(!r.is_nullable());
    assert_eq!(r.heap_type().as_concrete_func(), Some(&double.ty(&store)));
    // Equal types of two modules, those naming other types included, are
    // one type.
    let self_ty = instance.get_func(&mut store, "self").unwrap().ty(&store);
    let other_self = other
        .exports()
        .find(|e| e.name() == "self")
        .and_then(|e| e.ty().func().cloned())
        .unwrap();
    assert_eq!(self_ty, other_self);
    assert!(self_ty.to_string().starts_with("(func (param (ref null "), "{self_ty}");
    let ValType::Ref(inner) = self_ty.params().next().unwrap() else { panic!() };
    assert_eq!(inner.heap_type().as_concrete_func(), Some(&double.ty(&store)));

    let mut out = [Val::I32(0)];
    apply
        .call(&mut store, &[double.into(), Val::I32(21)], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i32(), 42);
    // Null for a non-nullable parameter, and a function of another type,
    // are errors before anything runs.
    let err = apply
        .call(&mut store, &[Val::FuncRef(None), Val::I32(1)], &mut out)
        .unwrap_err();
    assert!(format!("{err:#}").contains("found null"), "{err:#}");
    let err = apply
        .call(&mut store, &[apply.into(), Val::I32(1)], &mut out)
        .unwrap_err();
    assert!(format!("{err:#}").contains("found a function of type"), "{err:#}");
    // A nullable one takes null; br_on_null sees it.
    maybe.call(&mut store, &[Val::FuncRef(None)], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i32(), -1);
    maybe.call(&mut store, &[double.into()], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i32(), 10);

    // A typed view must accept every value either side can produce.
    assert!(apply.typed::<(Option<Func>, i32), i32>(&store).is_err());
    let get = instance
        .get_typed_func::<(), Option<Func>>(&mut store, "get")
        .unwrap();
    assert_eq!(get.call(&mut store, ()).unwrap(), Some(double));
    assert!(Val::from(double).matches_ty(&store, &param));
    assert!(!Val::FuncRef(None).matches_ty(&store, &param));

    // A host function with a typed result is checked too.
    let t = double.ty(&store);
    let result = ValType::Ref(RefType::new(false, HeapType::ConcreteFunc(t.clone())));
    let host_ty = FuncType::new(&engine, [], [result]);
    let bad = Func::new(&mut store, host_ty.clone(), |_, _, _| Ok(()));
    let err = bad.call(&mut store, &[], &mut [Val::I32(0)]).unwrap_err();
    assert!(format!("{err:#}").contains("found null"), "{err:#}");
    let good = Func::new(&mut store, host_ty, move |_, _, results| {
        results[0] = double.into();
        Ok(())
    });
    let mut res = [Val::I32(0)];
    good.call(&mut store, &[], &mut res).unwrap();
    assert_eq!(res[0].funcref(), Some(Some(&double)));
    assert!(Val::default_for(&ValType::Ref(RefType::new(false, HeapType::Func))).is_none());
}

#[test]
fn typed_reference_globals_import_by_subtyping() {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let exporter = Module::new(
        &engine,
        r#"(module
            (type $t (func))
            (func $f (type $t))
            (global (export "g") (ref $t) (ref.func $f))
            (global (export "m") (mut (ref null $t)) (ref.null $t)))"#,
    )
    .unwrap();
    let e = Instance::new(&mut store, &exporter, &[]).unwrap();
    let g = e.get_global(&mut store, "g").unwrap();
    let m = e.get_global(&mut store, "m").unwrap();
    // An immutable global may be imported at a supertype...
    let wants_funcref =
        Module::new(&engine, r#"(module (import "" "g" (global funcref)))"#).unwrap();
    assert!(Instance::new(&mut store, &wants_funcref, &[g.into()]).is_ok());
    // ...a mutable one only at its own type.
    let wants_mut_funcref =
        Module::new(&engine, r#"(module (import "" "m" (global (mut funcref))))"#).unwrap();
    let err = Instance::new(&mut store, &wants_mut_funcref, &[m.into()]).unwrap_err();
    assert!(format!("{err:#}").contains("incompatible import type"), "{err:#}");
    // Null cannot be stored in a non-nullable global.
    let ty = g.ty(&store);
    assert!(Global::new(&mut store, ty, Val::FuncRef(None)).is_err());
}

// ---- GC values at the API ----

#[test]
fn gc_heap_limit_traps_and_leaves_the_store_usable() {
    let mut config = config();
    config.max_gc_heap_size(64 * 1024);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (type $bytes (array (mut i8)))
            (global $keep (mut (ref null $bytes)) (ref.null $bytes))
            (func (export "alloc") (param i32) (result i32)
              (global.set $keep (array.new_default $bytes (local.get 0)))
              (array.len (global.get $keep)))
            (func (export "i31") (param i32) (result i32)
              (i31.get_s (ref.i31 (local.get 0)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let alloc = instance
        .get_typed_func::<i32, i32>(&mut store, "alloc")
        .unwrap();
    assert_eq!(alloc.call(&mut store, 1000).unwrap(), 1000);
    // More than the whole heap (live or not): a trap, not an abort, and
    // the store goes on.
    let err = alloc.call(&mut store, 100_000).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::GcHeapOutOfMemory));
    let err = alloc.call(&mut store, -1).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::GcHeapOutOfMemory));
    let i31 = instance.get_typed_func::<i32, i32>(&mut store, "i31").unwrap();
    assert_eq!(i31.call(&mut store, -5).unwrap(), -5);
    assert_eq!(i31.call(&mut store, 0x4000_0000).unwrap(), -0x4000_0000);

    // A constant expression asking for a huge array fails instantiation
    // with the same trap; it once tried to build the array's values on
    // the host first (a 36 GB allocation, and an abort).
    let module = Module::new(
        &engine,
        r#"(module
            (type $big (array (mut i64)))
            (global (ref $big) (array.new $big (i64.const 1) (i32.const -1))))"#,
    )
    .unwrap();
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::GcHeapOutOfMemory));
    assert_eq!(i31.call(&mut store, 7).unwrap(), 7);
}

#[test]
fn anyref_values_cross_the_host_boundary() {
    let (mut store, instance) = instantiate(
        r#"(module
            (type $pt (struct (field i32) (field (mut i64))))
            (func (export "make") (param i32) (result anyref)
              (struct.new $pt (local.get 0) (i64.const 7)))
            (func (export "x") (param anyref) (result i32)
              (struct.get $pt 0 (ref.cast (ref $pt) (local.get 0))))
            (func (export "is_pt") (param anyref) (result i32)
              (ref.test (ref $pt) (local.get 0)))
            (func (export "i31") (param i32) (result anyref) (ref.i31 (local.get 0)))
            (func (export "intern") (param externref) (result anyref)
              (any.convert_extern (local.get 0)))
            (func (export "extern") (param anyref) (result externref)
              (extern.convert_any (local.get 0))))"#,
    );
    let call = |store: &mut Store<()>, name: &str, arg: Val| -> anyhow::Result<Val> {
        let f = instance.get_func(&mut *store, name).unwrap();
        let mut out = [Val::I32(0)];
        f.call(&mut *store, &[arg], &mut out)?;
        Ok(out[0])
    };
    let made = call(&mut store, "make", Val::I32(42)).unwrap();
    let Val::AnyRef(Some(pt)) = made else {
        panic!("expected a struct, got {made:?}");
    };
    assert!(pt.is_struct(&store) && !pt.is_array(&store) && pt.is_eqref(&store));
    assert_eq!(call(&mut store, "x", made).unwrap().i32(), Some(42));
    // An i31 made by the host is not a struct: the cast traps, the test
    // says no, and the store goes on.
    let small = Val::AnyRef(Some(AnyRef::from_i31(&store, I31::wrapping_i32(-3))));
    let err = call(&mut store, "x", small).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::CastFailure));
    assert_eq!(call(&mut store, "is_pt", small).unwrap().i32(), Some(0));
    let Val::AnyRef(Some(r)) = call(&mut store, "i31", Val::I32(-9)).unwrap() else {
        panic!("expected an i31");
    };
    assert_eq!(r.as_i31().map(I31::get_i32), Some(-9));
    // A host value goes into the `any` hierarchy and comes back itself.
    let host = ExternRef::new(&mut store, String::from("host"));
    let inside = call(&mut store, "intern", Val::ExternRef(Some(host))).unwrap();
    let Val::AnyRef(Some(a)) = inside else {
        panic!("expected an anyref, got {inside:?}");
    };
    assert!(!a.is_eqref(&store) && !a.is_i31());
    assert_eq!(call(&mut store, "is_pt", inside).unwrap().i32(), Some(0));
    let Val::ExternRef(Some(back)) = call(&mut store, "extern", inside).unwrap() else {
        panic!("expected an externref");
    };
    let data = back.data(&store).unwrap().downcast_ref::<String>().unwrap();
    assert_eq!(data, "host");
    // A wasm struct made external has no host data.
    let outside = ExternRef::convert_any(&store, pt);
    assert!(outside.data(&store).is_none());
    // A value of another store is refused, not misread.
    let other = Store::new(store.engine(), ());
    let f = instance.get_func(&mut store, "x").unwrap();
    let foreign = AnyRef::from_i31(&other, I31::wrapping_u32(1));
    let mut out = [Val::I32(0)];
    assert!(f.call(&mut store, &[Val::AnyRef(Some(foreign))], &mut out).is_err());
}

#[test]
fn struct_and_array_types_are_canonical() {
    let engine = engine();
    let fields = [
        FieldType::new(Mutability::Const, StorageType::I8),
        FieldType::new(Mutability::Var, StorageType::ValType(ValType::ANYREF)),
    ];
    let a = StructType::new(&engine, fields.clone()).unwrap();
    let b = StructType::new(&engine, fields).unwrap();
    assert_eq!(a, b);
    assert!(a.matches(&b));
    assert_eq!(a.fields().len(), 2);
    assert_eq!(a.field(0).unwrap().element_type(), &StorageType::I8);
    assert_eq!(a.field(1).unwrap().mutability(), Mutability::Var);
    assert!(a.field(2).is_none());
    let arr = ArrayType::new(
        &engine,
        FieldType::new(Mutability::Var, StorageType::ValType(ValType::I64)),
    )
    .unwrap();
    assert_eq!(
        arr.element_type().element_type(),
        &StorageType::ValType(ValType::I64)
    );
    // A struct type names a concrete heap type that subtyping knows.
    let r = RefType::new(false, HeapType::ConcreteStruct(a.clone()));
    assert!(HeapType::ConcreteStruct(a).matches(&HeapType::Struct));
    assert!(HeapType::Struct.matches(&HeapType::Any));
    assert!(!HeapType::Struct.matches(&HeapType::ConcreteStruct(b)));
    assert!(r.matches(&RefType::new(true, HeapType::Eq)));
    assert!(!HeapType::I31.matches(&HeapType::Struct));
}

// ---- the collector ----

/// A module that allocates far more than its heap may hold, keeping a
/// little: only a collector lets `churn` finish. `make`/`x` cross the
/// host boundary with a struct.
const CHURN: &str = r#"(module
    (type $cell (struct (field i64) (field (ref null $cell))))
    (func (export "churn") (param $n i32) (result i64)
      (local $i i32) (local $list (ref null $cell)) (local $sum i64) (local $p (ref null $cell))
      (loop $l
        (local.set $list (struct.new $cell (i64.extend_i32_u (local.get $i)) (local.get $list)))
        ;; Every 100 cells: sum the list, then drop it.
        (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 100)))
          (then
            (local.set $p (local.get $list))
            (block $done
              (loop $walk
                (br_if $done (ref.is_null (local.get $p)))
                (local.set $sum (i64.add (local.get $sum) (struct.get $cell 0 (local.get $p))))
                (local.set $p (struct.get $cell 1 (local.get $p)))
                (br $walk)))
            (local.set $list (ref.null $cell))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $sum))
    (func (export "make") (param i32) (result anyref)
      (struct.new $cell (i64.extend_i32_u (local.get 0)) (ref.null $cell)))
    (func (export "x") (param anyref) (result i64)
      (struct.get $cell 0 (ref.cast (ref $cell) (local.get 0)))))"#;

/// The sum `churn(n)` returns: cells `i` with `i % 100 == 0` close a list
/// of the cells since the last one.
fn churn_sum(n: u64) -> i64 {
    let mut sum = 0u64;
    let mut start = 0u64;
    for i in 0..n {
        if i % 100 == 0 {
            sum += (start..=i).sum::<u64>();
            start = i + 1;
        }
    }
    sum as i64
}

#[test]
fn collection_frees_garbage_and_keeps_what_is_reachable() {
    let mut config = config();
    // 240,000 cells of 24 bytes: over 5 MiB through a 1 MiB heap.
    config.max_gc_heap_size(1 << 20);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, CHURN).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let churn = instance.get_typed_func::<i32, i64>(&mut store, "churn").unwrap();
    let make = instance.get_func(&mut store, "make").unwrap();
    let x = instance.get_typed_func::<Option<AnyRef>, i64>(&mut store, "x").unwrap();
    let mut out = [Val::I32(0)];
    make.call(&mut store, &[Val::I32(42)], &mut out).unwrap();
    let Val::AnyRef(Some(kept)) = out[0] else {
        panic!("expected a struct");
    };
    let result = churn.call(&mut store, 240_000);
    if COLLECTS_WHILE_RUNNING {
        assert_eq!(result.unwrap(), churn_sum(240_000));
        assert!(store.gc_stats().collections > 0);
    } else {
        // Native frames are not scanned yet: the heap fills up.
        assert_eq!(trap_code(&result.unwrap_err()), Some(TrapCode::GcHeapOutOfMemory));
    }
    // Between calls every backend collects; the host's handle was a
    // root, rewritten if the struct moved.
    store.gc();
    assert!(store.gc_stats().collections > 0);
    assert!(store.gc_stats().live_bytes <= 64, "{:?}", store.gc_stats());
    assert_eq!(x.call(&mut store, Some(kept)).unwrap(), 42);
    assert_eq!(churn.call(&mut store, 1000).unwrap(), churn_sum(1000));
}

#[test]
fn root_scopes_end_their_handles_and_unreachable_host_values_are_freed() {
    let (mut store, instance) = instantiate(
        r#"(module
            (type $s (struct (field i32)))
            (global $g (export "g") (mut externref) (ref.null extern))
            (func (export "keep") (param externref) (global.set $g (local.get 0)))
            (func (export "make") (param i32) (result anyref)
              (struct.new_default $s)))"#,
    );
    let keep = instance.get_typed_func::<Option<ExternRef>, ()>(&mut store, "keep").unwrap();
    let make = instance.get_func(&mut store, "make").unwrap();
    let token = Arc::new(());
    let stale = {
        let mut scope = RootScope::new(&mut store);
        let r = ExternRef::new(&mut scope, token.clone());
        keep.call(&mut scope, Some(r)).unwrap();
        let mut out = [Val::I32(0)];
        make.call(&mut scope, &[Val::I32(1)], &mut out).unwrap();
        let Val::AnyRef(Some(obj)) = out[0] else {
            panic!("expected a struct");
        };
        assert!(obj.is_struct(&scope));
        obj
    };
    // The handle's scope ended: refused with an error, never misread.
    let err = make.call(&mut store, &[Val::AnyRef(Some(stale))], &mut [Val::I32(0)]);
    assert!(format!("{:#}", err.unwrap_err()).contains("root scope"));
    // The global keeps the host value alive through a collection...
    store.gc();
    assert_eq!(Arc::strong_count(&token), 2);
    let Val::ExternRef(Some(held)) = instance.get_global(&mut store, "g").unwrap().get(&store)
    else {
        panic!("expected the host value");
    };
    assert!(held.data(&store).unwrap().downcast_ref::<Arc<()>>().is_some());
    // ...and once nothing refers to it, the next collection drops it.
    keep.call(&mut store, None).unwrap();
    {
        // `held` is still rooted at the store level; a scope of its own
        // shows the difference: a value only the scope held is freed.
        let token2 = Arc::new(());
        {
            let mut scope = RootScope::new(&mut store);
            ExternRef::new(&mut scope, token2.clone());
        }
        store.gc();
        assert_eq!(Arc::strong_count(&token2), 1);
    }
    assert_eq!(Arc::strong_count(&token), 2, "a store-level handle still roots it");
}

#[test]
fn roots_in_globals_tables_exceptions_and_host_calls_survive_stress_collections() {
    let mut config = config();
    config.gc_stress(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (type $box (struct (field i32) (field (ref null $box))))
            (type $arr (array (mut (ref null $box))))
            (import "host" "touch" (func $touch (param anyref) (result anyref)))
            (tag $t (param (ref $box)))
            (global $g (mut (ref null $box)) (ref.null $box))
            (table $tab 4 (ref null $box))
            (elem $seg (ref $box) (item (struct.new $box (i32.const 5) (ref.null $box))))
            (func $sum (param $b (ref null $box)) (result i32)
              (local $s i32)
              (block $done
                (loop $l
                  (br_if $done (ref.is_null (local.get $b)))
                  (local.set $s (i32.add (local.get $s) (struct.get $box 0 (local.get $b))))
                  (local.set $b (struct.get $box 1 (local.get $b)))
                  (br $l)))
              (local.get $s))
            (func (export "run") (result i32)
              (local $a (ref null $arr)) (local $i i32) (local $caught (ref null $box))
              (global.set $g (struct.new $box (i32.const 1) (ref.null $box)))
              (table.set $tab (i32.const 2) (struct.new $box (i32.const 10) (global.get $g)))
              (local.set $a (array.new $arr (table.get $tab (i32.const 2)) (i32.const 3)))
              (array.set $arr (local.get $a) (i32.const 1)
                (ref.cast (ref $box) (call $touch (struct.new $box (i32.const 100) (ref.null $box)))))
              (local.set $caught
                (block $h (result (ref $box))
                  (try_table (catch $t $h)
                    (throw $t (struct.new $box (i32.const 1000) (table.get $tab (i32.const 2)))))
                  (unreachable)))
              ;; Allocate while everything above is held only by roots.
              (loop $l
                (drop (struct.new $box (local.get $i) (ref.null $box)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $l (i32.lt_u (local.get $i) (i32.const 50))))
              (drop (array.new_elem $arr $seg (i32.const 0) (i32.const 1)))
              (i32.add
                (i32.add (call $sum (global.get $g)) (call $sum (table.get $tab (i32.const 2))))
                (i32.add
                  (i32.add (call $sum (array.get $arr (local.get $a) (i32.const 0)))
                           (call $sum (array.get $arr (local.get $a) (i32.const 1))))
                  (i32.add (call $sum (local.get $caught))
                           (call $sum (ref.cast (ref $box)
                             (array.get $arr (array.new_elem $arr $seg (i32.const 0) (i32.const 1))
                                             (i32.const 0)))))))))"#,
    )
    .unwrap();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "touch",
            |mut caller: Caller<'_, ()>, r: Option<AnyRef>| -> Result<Option<AnyRef>> {
                // The host collects while wasm frames wait below it.
                caller.gc();
                Ok(r)
            },
        )
        .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<(), i32>(&mut store, "run").unwrap();
    // g = 1; tab[2] = 10 -> 1; a[0] = tab[2]; a[1] = 100 (through the
    // host); caught = 1000 -> 10 -> 1; the segment's item = 5.
    assert_eq!(run.call(&mut store, ()).unwrap(), 1 + 11 + 11 + 100 + 1011 + 5);
    store.gc();
    assert_eq!(run.call(&mut store, ()).unwrap(), 1 + 11 + 11 + 100 + 1011 + 5);
}

#[test]
fn host_allocates_structs_and_arrays_and_keeps_them_manually_rooted() {
    let mut config = config();
    // Every allocation collects and verifies the heap: handles must stay
    // valid across all of them.
    config.gc_stress(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (type $node (struct (field (mut i8)) (field (mut anyref))))
            (type $bytes (array (mut i8)))
            (func (export "tag") (param anyref) (result i32)
              (struct.get_s $node 0 (ref.cast (ref $node) (local.get 0))))
            (func (export "next") (param anyref) (result anyref)
              (struct.get $node 1 (ref.cast (ref $node) (local.get 0))))
            (func (export "sum") (param anyref) (result i32)
              (local $a (ref $bytes)) (local $i i32) (local $s i32)
              (local.set $a (ref.cast (ref $bytes) (local.get 0)))
              (block $done (loop $l
                (br_if $done (i32.ge_u (local.get $i) (array.len (local.get $a))))
                (local.set $s (i32.add (local.get $s) (array.get_u $bytes (local.get $a) (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $l)))
              (local.get $s)))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let tag = instance.get_typed_func::<Option<AnyRef>, i32>(&mut store, "tag").unwrap();
    let next = instance.get_typed_func::<Option<AnyRef>, Option<AnyRef>>(&mut store, "next").unwrap();
    let sum = instance.get_typed_func::<Option<AnyRef>, i32>(&mut store, "sum").unwrap();
    let node = StructType::new(
        &engine,
        [
            FieldType::new(Mutability::Var, StorageType::I8),
            FieldType::new(Mutability::Var, StorageType::ValType(ValType::ANYREF)),
        ],
    )
    .unwrap();
    let bytes = ArrayType::new(&engine, FieldType::new(Mutability::Var, StorageType::I8)).unwrap();

    let kept = {
        let mut scope = RootScope::new(&mut store);
        let tail = StructRef::new(&mut scope, &node, &[Val::I32(-2), Val::AnyRef(None)]).unwrap();
        let head = StructRef::new(&mut scope, &node, &[Val::I32(0x105), tail.into()]).unwrap();
        // Packed fields keep the low bits, read back zero-extended.
        assert_eq!(head.field(&scope, 0).unwrap().i32(), Some(5));
        assert_eq!(tail.field(&scope, 0).unwrap().i32(), Some(0xfe));
        assert_eq!(tag.call(&mut scope, Some(tail.to_anyref())).unwrap(), -2);
        head.set_field(&mut scope, 0, Val::I32(9)).unwrap();
        let Some(n) = next.call(&mut scope, Some(head.to_anyref())).unwrap() else {
            panic!("expected the tail");
        };
        assert!(AnyRef::ref_eq(&scope, &n, &tail.to_anyref()).unwrap());
        // Wrong arity, wrong type, out-of-range fields are errors.
        assert!(StructRef::new(&mut scope, &node, &[Val::I32(1)]).is_err());
        assert!(StructRef::new(&mut scope, &node, &[Val::I64(1), Val::AnyRef(None)]).is_err());
        assert!(head.field(&scope, 2).is_err());
        assert!(head.set_field(&mut scope, 1, Val::I32(0)).is_err());
        ManuallyRooted::new(&scope, &head).unwrap()
    };
    // The scope ended, the struct lives on through the manual root.
    store.gc();
    let head = kept.get(&store).unwrap();
    assert_eq!(tag.call(&mut store, Some(head.to_anyref())).unwrap(), 9);
    assert_eq!(head.ty(&store).unwrap(), node);

    let arr = ArrayRef::new(&mut store, &bytes, &Val::I32(3), 10).unwrap();
    arr.set(&mut store, 9, Val::I32(250)).unwrap();
    assert_eq!(arr.len(&store).unwrap(), 10);
    assert_eq!(arr.get(&store, 9).unwrap().i32(), Some(250));
    assert!(arr.get(&store, 10).is_err());
    assert!(arr.set(&mut store, 0, Val::F32(0)).is_err());
    assert_eq!(sum.call(&mut store, Some(arr.to_anyref())).unwrap(), 9 * 3 + 250);
    assert!(arr.to_anyref().as_array(&store).unwrap().is_some());
    assert!(arr.to_anyref().as_struct(&store).unwrap().is_none());

    kept.unroot(&store);
    let rooted = ManuallyRooted::new(&store, &arr).unwrap();
    store.gc();
    assert_eq!(rooted.get(&store).unwrap().get(&store, 9).unwrap().i32(), Some(250));
    rooted.unroot(&store);
}

/// Stores fresh nodes into an old array and an old struct by every
/// instruction that stores references (`array.set`, `struct.set`,
/// `array.fill`, `array.copy`), keeping the expected values in an `i64`
/// array; `run` checks them (trapping on a difference) and returns their
/// sum. `big` does the same with `array.set` over a 2,000-element array
/// (carded once old). `fresh` makes a node for the host to store, `churn` allocates
/// garbage, `slot0` reads slot 0's value.
const OLD_TO_YOUNG: &str = r#"(module
  (type $node (struct (field i64) (field (mut (ref null $node)))))
  (type $slots (array (mut (ref null $node))))
  (type $sums (array (mut i64)))
  (global $slots (export "slots") (mut (ref null $slots)) (ref.null $slots))
  (func (export "run") (param $n i32) (result i64)
    (local $s (ref $slots)) (local $e (ref $sums)) (local $h (ref $node))
    (local $i i32) (local $k i32) (local $sum i64)
    (local.set $s (array.new_default $slots (i32.const 16)))
    (global.set $slots (local.get $s))
    (local.set $e (array.new_default $sums (i32.const 16)))
    (local.set $h (struct.new $node (i64.const -1) (ref.null $node)))
    (loop $round
      (local.set $k (i32.and (local.get $i) (i32.const 15)))
      (array.set $slots (local.get $s) (local.get $k)
        (struct.new $node (i64.extend_i32_u (local.get $i)) (ref.null $node)))
      (array.set $sums (local.get $e) (local.get $k) (i64.extend_i32_u (local.get $i)))
      (drop (struct.new $node (i64.const 0) (ref.null $node)))
      (struct.set $node 1 (local.get $h)
        (struct.new $node (i64.extend_i32_u (local.get $i)) (ref.null $node)))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 7))) (then
        (array.fill $slots (local.get $s) (i32.const 0)
          (struct.new $node (i64.const 1000000) (ref.null $node)) (i32.const 4))
        (array.fill $sums (local.get $e) (i32.const 0) (i64.const 1000000) (i32.const 4))))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 11))) (then
        (array.copy $slots $slots (local.get $s) (i32.const 4) (local.get $s) (i32.const 8) (i32.const 4))
        (array.copy $sums $sums (local.get $e) (i32.const 4) (local.get $e) (i32.const 8) (i32.const 4))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $k (i32.const 0))
    (loop $check
      (if (i64.ne (struct.get $node 0 (array.get $slots (local.get $s) (local.get $k)))
                  (array.get $sums (local.get $e) (local.get $k)))
        (then unreachable))
      (local.set $sum (i64.add (local.get $sum) (array.get $sums (local.get $e) (local.get $k))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $check (i32.lt_u (local.get $k) (i32.const 16))))
    (if (i64.ne (struct.get $node 0 (struct.get $node 1 (local.get $h)))
                (i64.extend_i32_u (i32.sub (local.get $n) (i32.const 1))))
      (then unreachable))
    (local.get $sum))
  (func (export "churn") (param $n i32)
    (loop $l
      (drop (struct.new $node (i64.const 0) (ref.null $node)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))
  (func (export "big") (param $n i32) (result i64)
    (local $s (ref $slots)) (local $e (ref $sums)) (local $i i32) (local $k i32) (local $sum i64)
    (local.set $s (array.new_default $slots (i32.const 2000)))
    (local.set $e (array.new_default $sums (i32.const 2000)))
    (loop $round
      (local.set $k (i32.rem_u (i32.mul (local.get $i) (i32.const 389)) (i32.const 2000)))
      (array.set $slots (local.get $s) (local.get $k)
        (struct.new $node (i64.extend_i32_u (local.get $i)) (ref.null $node)))
      (array.set $sums (local.get $e) (local.get $k) (i64.extend_i32_u (local.get $i)))
      (drop (struct.new $node (i64.const 0) (ref.null $node)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $k (i32.const 0))
    (loop $check
      (if (i64.ne (struct.get $node 0 (array.get $slots (local.get $s) (local.get $k)))
                  (array.get $sums (local.get $e) (local.get $k)))
        (then unreachable))
      (local.set $sum (i64.add (local.get $sum) (array.get $sums (local.get $e) (local.get $k))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $check (i32.lt_u (local.get $k) (i32.const 2000))))
    (local.get $sum))
  (func (export "fresh") (param i64) (result anyref)
    (struct.new $node (local.get 0) (ref.null $node)))
  (func (export "slot0") (result i64)
    (struct.get $node 0 (array.get $slots (global.get $slots) (i32.const 0)))))"#;

/// What `OLD_TO_YOUNG`'s `run` returns, computed here.
fn old_to_young_sum(n: u32) -> i64 {
    let mut sums = [0i64; 16];
    for i in 0..n {
        sums[(i & 15) as usize] = i64::from(i);
        if i % 7 == 0 {
            sums[..4].fill(1_000_000);
        }
        if i % 11 == 0 {
            sums.copy_within(8..12, 4);
        }
    }
    sums.iter().sum()
}

/// References from old objects to young ones, stored by every kind of
/// store and by the host, and into a carded array, survive minor
/// collections: under `gc_stress`
/// (a collection at every allocation, the barrier's work checked before
/// each minor one) and in a small heap whose nursery fills naturally.
#[test]
fn old_objects_keep_the_young_objects_stored_into_them() {
    for stress in [true, false] {
        let mut config = config();
        config.gc_stress(stress);
        config.max_gc_heap_size(1 << 20);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, OLD_TO_YOUNG).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance.get_typed_func::<i32, i64>(&mut store, "run").unwrap();
        let churn = instance.get_typed_func::<i32, ()>(&mut store, "churn").unwrap();
        let slot0 = instance.get_typed_func::<(), i64>(&mut store, "slot0").unwrap();
        let n = if stress { 300 } else { 100_000 };
        assert_eq!(run.call(&mut store, n).unwrap(), old_to_young_sum(n as u32));
        let stats = store.gc_stats();
        assert!(stats.collections > stats.full_collections, "{stats:?}");

        // A big array, which the collector cards once it is old.
        let big = instance.get_typed_func::<i32, i64>(&mut store, "big").unwrap();
        let n = if stress { 2500 } else { 200_000 };
        let mut last = [0i64; 2000];
        for i in 0..n {
            last[(i * 389 % 2000) as usize] = i64::from(i);
        }
        assert_eq!(big.call(&mut store, n).unwrap(), last.iter().sum::<i64>());

        // The host stores a new node into the (old) array.
        let fresh = instance.get_typed_func::<i64, Option<AnyRef>>(&mut store, "fresh").unwrap();
        let Some(node) = fresh.call(&mut store, 77).unwrap() else {
            panic!("expected a node");
        };
        let Some(Val::AnyRef(Some(slots))) = instance
            .get_global(&mut store, "slots")
            .map(|g| g.get(&mut store))
        else {
            panic!("expected the array");
        };
        let slots = slots.as_array(&store).unwrap().unwrap();
        slots.set(&mut store, 0, Val::AnyRef(Some(node))).unwrap();
        churn.call(&mut store, 50_000).unwrap();
        assert_eq!(slot0.call(&mut store, ()).unwrap(), 77);
    }
}

/// A resource limiter that lets the GC heap grow to `max` bytes and
/// records what it was asked.
struct GcBudget {
    max: usize,
    asked: Vec<(usize, usize, usize)>,
}

impl ResourceLimiter for GcBudget {
    fn memory_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> anyhow::Result<bool> {
        Ok(true)
    }

    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> anyhow::Result<bool> {
        Ok(true)
    }

    fn gc_heap_growing(&mut self, current: usize, desired: usize, maximum: usize) -> bool {
        self.asked.push((current, desired, maximum));
        desired <= self.max
    }
}

/// The resource limiter decides how far the GC heap grows: garbage alone
/// does not grow it, a live set past the budget traps with
/// `GcHeapOutOfMemory`, and the store goes on once the set is dropped.
#[test]
fn the_resource_limiter_bounds_the_gc_heap() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
            (type $cell (struct (field i64) (field (ref null $cell))))
            (global $kept (mut (ref null $cell)) (ref.null $cell))
            (func (export "keep") (param $n i32)
              (loop $l
                (global.set $kept (struct.new $cell (i64.const 1) (global.get $kept)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br_if $l (local.get $n))))
            (func (export "clear") (global.set $kept (ref.null $cell)))
            (func (export "churn") (param $n i32)
              (loop $l
                (drop (struct.new $cell (i64.const 2) (ref.null $cell)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br_if $l (local.get $n)))))"#,
    )
    .unwrap();
    let budget = GcBudget {
        max: 12 << 20,
        asked: Vec::new(),
    };
    let mut store = Store::new(&engine, budget);
    store.limiter(|l| l as &mut dyn ResourceLimiter);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let keep = instance.get_typed_func::<i32, ()>(&mut store, "keep").unwrap();
    let clear = instance.get_typed_func::<(), ()>(&mut store, "clear").unwrap();
    let churn = instance.get_typed_func::<i32, ()>(&mut store, "churn").unwrap();

    // 48 MB of garbage: the heap keeps its first size.
    churn.call(&mut store, 2_000_000).unwrap();
    let asked = store.data().asked.clone();
    assert!(!asked.is_empty() && asked.len() <= 3, "{asked:?}");
    assert_eq!(asked[0].0, 0);
    assert!(asked.iter().all(|&(c, d, m)| c < d && d <= 12 << 20 && m == 1 << 30), "{asked:?}");
    assert!(store.gc_stats().collections > 4);

    // 24 MB kept alive: past the budget.
    let before = store.gc_stats();
    let err = keep.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(trap_code(&err), Some(TrapCode::GcHeapOutOfMemory));
    // Near the budget the heap stops rather than collect every few
    // objects.
    let after = store.gc_stats();
    assert!(after.collections - before.collections < 100, "{before:?} {after:?}");
    assert!(store.data().asked.iter().any(|&(_, d, _)| d > 12 << 20));
    clear.call(&mut store, ()).unwrap();
    churn.call(&mut store, 500_000).unwrap();
    keep.call(&mut store, 10_000).unwrap();
}
