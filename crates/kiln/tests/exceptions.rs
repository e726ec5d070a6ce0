//! Exceptions across the API: wasm throwing to the host, the host throwing
//! into wasm, exceptions crossing host frames, `exnref` values, the legacy
//! instructions, and the store after an uncaught throw.
//!
//! Every test runs on the interpreter and, where this host has it, on
//! Cranelift's code (whose unwinder resumes at handler sites of compiled
//! frames, `runtime/native/unwind.rs`).

use kiln::*;

/// The engines to test: the interpreter, and Cranelift where it runs.
fn engines() -> Vec<Engine> {
    let mut out = Vec::new();
    for strategy in [Strategy::Interpreter, Strategy::Cranelift] {
        let mut config = Config::new();
        config.strategy(strategy);
        if let Ok(engine) = Engine::new(&config) {
            out.push(engine);
        }
    }
    out
}

const MODULE: &str = r#"(module
  (tag $e (export "e") (param i32 i64))
  (tag $other (export "other"))
  (import "host" "throw" (func $host_throw (param i32)))
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (func (export "throw") (param i32) (throw $e (local.get 0) (i64.const 99)))
  (func $deep (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 5) (i64.const 6))))
    (call $deep (i32.sub (local.get 0) (i32.const 1))))
  (func (export "catch_deep") (param i32) (result i32)
    (block $h (result i32 i64)
      (try_table (catch $e $h) (call $deep (local.get 0)))
      (return (i32.const -1)))
    drop)
  (func (export "catch_host") (param i32) (result i32)
    (block $h (result i32 i64)
      (try_table (catch $e $h) (call $host_throw (local.get 0)))
      (return (i32.const -1)))
    drop)
  (func (export "through_host") (param i32) (result i32)
    (block $h (result i32 i64)
      (try_table (catch $e $h) (drop (call $reenter (local.get 0))))
      (return (i32.const -1)))
    drop)
  (func (export "catch_ref") (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e (i32.const 1) (i64.const 2)))
      (return (ref.null exn))))
  (func (export "rethrow") (param exnref) (throw_ref (local.get 0)))
  (func (export "legacy") (param i32) (result i32)
    (local $r i32)
    try
      try
        (call $deep (local.get 0))
      catch $e
        drop
        local.set $r
        rethrow 0
      end
    catch_all
      (local.set $r (i32.add (local.get $r) (i32.const 1000)))
    end
    (local.get $r)))"#;

fn setup(engine: &Engine) -> (Store<()>, Instance) {
    let module = Module::new(engine, MODULE).unwrap();
    setup_module(engine, &module)
}

fn setup_module(engine: &Engine, module: &Module) -> (Store<()>, Instance) {
    let engine = engine.clone();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "throw",
            |mut caller: Caller<'_, ()>, x: i32| -> Result<()> {
                let Some(Extern::Tag(tag)) = caller.get_export("e") else {
                    anyhow::bail!("no tag")
                };
                let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(x), Val::I64(0)])?;
                Ok(caller.throw(exn)?)
            },
        )
        .unwrap();
    linker
        .func_wrap(
            "host",
            "reenter",
            |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
                let Some(Extern::Func(f)) = caller.get_export("throw") else {
                    anyhow::bail!("no export")
                };
                // The wasm exception passes through this host frame as an
                // error, which `?` hands back to the wasm that called here.
                f.typed::<i32, ()>(&caller)?.call(&mut caller, x)?;
                Ok(0)
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, module).unwrap();
    (store, instance)
}

#[test]
fn uncaught_exceptions_reach_the_host_naming_their_tag() {
    for engine in engines() {
        uncaught_exceptions_reach_the_host_naming_their_tag_on(&engine);
    }
}

fn uncaught_exceptions_reach_the_host_naming_their_tag_on(engine: &Engine) {
    let (mut store, instance) = setup(engine);
    let throw = instance
        .get_typed_func::<i32, ()>(&mut store, "throw")
        .unwrap();
    let err = throw.call(&mut store, 42).unwrap_err();
    assert!(err.is::<ThrownException>(), "{err:#}");
    let text = format!("{err:#}");
    assert!(
        text.contains("`e`") && text.contains("(param i32)"),
        "{text}"
    );
    let exn = store.take_pending_exception().expect("pending");
    assert!(!store.has_pending_exception());
    let tag = instance.get_tag(&mut store, "e").unwrap();
    assert_eq!(exn.tag(&store), tag);
    assert_ne!(Some(tag), instance.get_tag(&mut store, "other"));
    let fields = exn.fields(&store);
    assert_eq!((fields[0].unwrap_i32(), fields[1].unwrap_i64()), (42, 99));
    // The store is as usable as after a trap.
    let deep = instance
        .get_typed_func::<i32, i32>(&mut store, "catch_deep")
        .unwrap();
    assert_eq!(deep.call(&mut store, 100).unwrap(), 5);
}

#[test]
fn exceptions_unwind_through_wasm_and_host_frames() {
    for engine in engines() {
        exceptions_unwind_through_wasm_and_host_frames_on(&engine);
    }
}

fn exceptions_unwind_through_wasm_and_host_frames_on(engine: &Engine) {
    let (mut store, instance) = setup(engine);
    let catch_host = instance
        .get_typed_func::<i32, i32>(&mut store, "catch_host")
        .unwrap();
    assert_eq!(catch_host.call(&mut store, 17).unwrap(), 17);
    let through = instance
        .get_typed_func::<i32, i32>(&mut store, "through_host")
        .unwrap();
    assert_eq!(through.call(&mut store, 23).unwrap(), 23);
    assert!(
        !store.has_pending_exception(),
        "caught: nothing left pending"
    );
    // Many throws and catches leave the store in the same state.
    let deep = instance
        .get_typed_func::<i32, i32>(&mut store, "catch_deep")
        .unwrap();
    for i in 0..10_000 {
        assert_eq!(deep.call(&mut store, i % 50).unwrap(), 5);
    }
}

#[test]
fn exnref_values_round_trip_and_rethrow() {
    for engine in engines() {
        exnref_values_round_trip_and_rethrow_on(&engine);
    }
}

fn exnref_values_round_trip_and_rethrow_on(engine: &Engine) {
    let (mut store, instance) = setup(engine);
    let typed = instance
        .get_typed_func::<(), Option<ExnRef>>(&mut store, "catch_ref")
        .unwrap();
    let exn = typed.call(&mut store, ()).unwrap().expect("caught");
    assert_eq!(exn.field(&store, 0).unwrap().unwrap_i32(), 1);
    let f = instance.get_func(&mut store, "catch_ref").unwrap();
    let mut out = [Val::I32(0)];
    f.call(&mut store, &[], &mut out).unwrap();
    let Val::ExnRef(Some(exn)) = out[0] else {
        panic!("{:?}", out[0])
    };
    assert_eq!(exn.field(&store, 1).unwrap().unwrap_i64(), 2);
    let rethrow = instance.get_func(&mut store, "rethrow").unwrap();
    let err = rethrow
        .call(&mut store, &[Val::ExnRef(Some(exn))], &mut [])
        .unwrap_err();
    assert!(err.is::<ThrownException>());
    assert_eq!(
        store.take_pending_exception(),
        Some(exn),
        "the same exception"
    );
    let err = rethrow
        .call(&mut store, &[Val::ExnRef(None)], &mut [])
        .unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(|t| t.code()),
        Some(TrapCode::NullReference)
    );
}

#[test]
fn legacy_try_catch_rethrow_and_catch_all() {
    for engine in engines() {
        legacy_try_catch_rethrow_and_catch_all_on(&engine);
    }
}

fn legacy_try_catch_rethrow_and_catch_all_on(engine: &Engine) {
    let (mut store, instance) = setup(engine);
    let legacy = instance
        .get_typed_func::<i32, i32>(&mut store, "legacy")
        .unwrap();
    // The inner catch keeps the payload's i32 (5) and rethrows; the outer
    // catch_all adds 1000.
    assert_eq!(legacy.call(&mut store, 30).unwrap(), 1005);
}

/// Regression: the interpreter kept a legacy `catch` block's caught
/// exception in a slot above the frame's temporaries, where the frame of a
/// call made inside the block (which starts at its first argument) could
/// overwrite it: the callee's zeroed locals turned `rethrow` into a null
/// reference trap.
#[test]
fn legacy_rethrow_after_a_call_in_the_catch_block() {
    let wat = r#"(module
      (tag $e (param i32))
      (func $big (param i32) (result i32)
        (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64
               i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
        (local.set 40 (i64.const 77))
        (i32.add (local.get 0) (i32.wrap_i64 (local.get 40))))
      (func $small (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "run") (param i32) (result i32)
        try (result i32)
          try (result i32)
            (throw $e (local.get 0))
          catch $e
            (drop (call $big (i32.const 1)))
            (drop (call $small (i32.const 2)))
            drop
            rethrow 0
          end
        catch $e
        end))"#;
    for engine in engines() {
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance
            .get_typed_func::<i32, i32>(&mut store, "run")
            .unwrap();
        assert_eq!(run.call(&mut store, 5).unwrap(), 5);
    }
}

/// A throwing callee with more arguments than registers: the caller's
/// stack pointer is lowered for the stack arguments around the call, and
/// the handler must run on the frame's own stack pointer anyway (on s390x
/// that is recovered from the frame's backchain, `docs/native-abi.md`).
/// The locals the caller keeps in its frame, and a deep recursion of such
/// calls, show whether the frame was restored right.
const STACK_ARGS: &str = r#"(module
  (tag $e (param i64))
  (func $thrower (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (if (i64.eq (local.get 11) (i64.const 0))
      (then (throw $e (i64.add (local.get 0) (local.get 10)))))
    (call $thrower
      (local.get 0) (local.get 1) (local.get 2) (local.get 3)
      (local.get 4) (local.get 5) (local.get 6) (local.get 7)
      (local.get 8) (local.get 9) (local.get 10)
      (i64.sub (local.get 11) (i64.const 1))))
  (func (export "run") (param $depth i64) (result i64)
    (local $keep i64) (local $f f64)
    (local.set $keep (i64.mul (local.get $depth) (i64.const 1000)))
    (local.set $f (f64.const 2.5))
    (i64.add
      (block $caught (result i64)
        (try_table (catch $e $caught)
          (call $thrower
            (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)
            (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8)
            (i64.const 9) (i64.const 10) (i64.const 11) (local.get $depth)))
        (i64.const -1))
      (i64.add (local.get $keep) (i64.trunc_f64_s (local.get $f))))))"#;

#[test]
fn handlers_restore_frames_that_pass_stack_arguments() {
    for engine in engines() {
        let module = Module::new(&engine, STACK_ARGS).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance
            .get_typed_func::<i64, i64>(&mut store, "run")
            .unwrap();
        for depth in [0, 1, 50] {
            // 1 + 11 thrown, plus depth * 1000 + 2 kept in the frame.
            assert_eq!(run.call(&mut store, depth).unwrap(), 12 + depth * 1000 + 2);
        }
    }
}

#[test]
fn host_made_tags_and_exceptions_are_checked() {
    for engine in engines() {
        host_made_tags_and_exceptions_are_checked_on(&engine);
    }
}

fn host_made_tags_and_exceptions_are_checked_on(engine: &Engine) {
    let engine = engine.clone();
    let mut store = Store::new(&engine, ());
    let ty = TagType::new(FuncType::new(&engine, [ValType::I32], []));
    let tag = Tag::new(&mut store, &ty).unwrap();
    assert_eq!(tag.ty(&store).to_string(), "(tag (param i32))");
    assert!(
        ExnRef::new(&mut store, &tag, &[]).is_err(),
        "too few fields"
    );
    assert!(
        ExnRef::new(&mut store, &tag, &[Val::I64(1)]).is_err(),
        "wrong type"
    );
    let with_result = TagType::new(FuncType::new(&engine, [], [ValType::I32]));
    assert!(Tag::new(&mut store, &with_result).is_err());
    // A module importing the tag catches what the host throws with it.
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "t" (tag $t (param i32)))
            (import "" "f" (func $f))
            (func (export "run") (result i32)
              (block $h (result i32)
                (try_table (catch $t $h) (call $f))
                (i32.const -1))))"#,
    )
    .unwrap();
    let f = Func::wrap(
        &mut store,
        move |mut caller: Caller<'_, ()>| -> Result<()> {
            let exn = ExnRef::new(&mut caller, &tag, &[Val::I32(77)])?;
            Ok(caller.throw(exn)?)
        },
    );
    let instance = Instance::new(&mut store, &module, &[tag.into(), f.into()]).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 77);
    // Another tag of the same type is another identity.
    let other = Tag::new(&mut store, &ty).unwrap();
    let instance2 = Instance::new(&mut store, &module, &[other.into(), f.into()]).unwrap();
    let run2 = instance2
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    let err = run2.call(&mut store, ()).unwrap_err();
    assert!(err.is::<ThrownException>(), "{err:#}");
}

#[test]
fn precompiled_code_keeps_its_handlers() {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    let Ok(engine) = Engine::new(&config) else {
        return; // no native backend on this host
    };
    let bytes = Module::new(&engine, MODULE).unwrap().serialize().unwrap();
    // SAFETY: the artifact was just written by this engine.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    let (mut store, instance) = setup_module(&engine, &module);
    let deep = instance
        .get_typed_func::<i32, i32>(&mut store, "catch_deep")
        .unwrap();
    assert_eq!(deep.call(&mut store, 20).unwrap(), 5);
    let legacy = instance
        .get_typed_func::<i32, i32>(&mut store, "legacy")
        .unwrap();
    assert_eq!(legacy.call(&mut store, 3).unwrap(), 1005);
}
