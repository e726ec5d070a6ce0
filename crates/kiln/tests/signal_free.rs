//! Native code compiled without signals-based traps
//! (`Config::signals_based_traps(false)`, `docs/signal-free.md`): every
//! trapping operator still traps with its code and leaves the store
//! usable, deep recursion stops at the stack limit, precompiled modules of
//! the other mode are refused by name, and, in a child process, all of it
//! runs with no signal handler of Kiln's installed, so a fault would kill
//! the process instead of becoming a trap.

#![cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "s390x",
        target_arch = "riscv64"
    )
))]

use kiln::{Config, Engine, Func, Instance, Module, Store, Strategy, Trap, TrapCode, Val};

include!("common/child.rs");

/// The module of `kiln-cranelift`'s trap-table test, with one export per
/// trapping operator.
const TRAPPING: &str = include_str!("../../cranelift/tests/trapping.wat");

/// A Cranelift engine with signals-based traps off.
fn signal_free_engine(adjust: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config
        .strategy(Strategy::Cranelift)
        .signals_based_traps(false);
    adjust(&mut config);
    Engine::new(&config).unwrap()
}

fn trap_code(err: &anyhow::Error) -> Option<TrapCode> {
    err.downcast_ref::<Trap>().and_then(|t| t.code())
}

/// Each export of `trapping.wat`, arguments that make it trap, and the
/// code it must trap with.
fn trapping_calls() -> Vec<(&'static str, Vec<Val>, TrapCode)> {
    use TrapCode::*;
    let i32s = |a: i32, b: i32| vec![Val::I32(a), Val::I32(b)];
    let i64s = |a: i64, b: i64| vec![Val::I64(a), Val::I64(b)];
    let f32 = |x: f32| vec![Val::F32(x.to_bits())];
    let f64 = |x: f64| vec![Val::F64(x.to_bits())];
    let at = |a: i32| vec![Val::I32(a)];
    vec![
        ("unreachable", vec![], UnreachableCodeReached),
        ("i32.load", at(65533), MemoryOutOfBounds),
        ("i32.load", at(-1), MemoryOutOfBounds),
        ("i64.load offset", at(0), MemoryOutOfBounds),
        ("i32.store8", at(65536), MemoryOutOfBounds),
        ("v128.load", at(65521), MemoryOutOfBounds),
        ("memory.copy short", at(65530), MemoryOutOfBounds),
        ("memory.fill", at(65500), MemoryOutOfBounds),
        ("i32.div_s", i32s(1, 0), IntegerDivisionByZero),
        ("i32.div_s", i32s(i32::MIN, -1), IntegerOverflow),
        ("i32.div_u", i32s(1, 0), IntegerDivisionByZero),
        ("i32.rem_s", i32s(1, 0), IntegerDivisionByZero),
        ("i32.rem_u", i32s(1, 0), IntegerDivisionByZero),
        ("i64.div_s", i64s(1, 0), IntegerDivisionByZero),
        ("i64.div_s", i64s(i64::MIN, -1), IntegerOverflow),
        ("i64.div_u", i64s(1, 0), IntegerDivisionByZero),
        ("i64.rem_s", i64s(1, 0), IntegerDivisionByZero),
        ("i64.rem_u", i64s(1, 0), IntegerDivisionByZero),
        ("i32.trunc_f32_s", f32(f32::NAN), BadConversionToInteger),
        ("i32.trunc_f32_s", f32(2147483648.0), IntegerOverflow),
        ("i32.trunc_f32_s", f32(-2147483904.0), IntegerOverflow),
        ("i32.trunc_f32_u", f32(-1.0), IntegerOverflow),
        ("i32.trunc_f32_u", f32(4294967296.0), IntegerOverflow),
        ("i32.trunc_f64_s", f64(-2147483649.0), IntegerOverflow),
        ("i32.trunc_f64_s", f64(f64::INFINITY), IntegerOverflow),
        ("i32.trunc_f64_u", f64(f64::NAN), BadConversionToInteger),
        ("i32.trunc_f64_u", f64(4294967296.0), IntegerOverflow),
        (
            "i64.trunc_f32_s",
            f32(9223372036854775808.0),
            IntegerOverflow,
        ),
        ("i64.trunc_f32_u", f32(-1.0), IntegerOverflow),
        (
            "i64.trunc_f64_s",
            f64(-9223372036854777856.0),
            IntegerOverflow,
        ),
        (
            "i64.trunc_f64_u",
            f64(18446744073709551616.0),
            IntegerOverflow,
        ),
        ("i64.trunc_f64_u", f64(f64::NEG_INFINITY), IntegerOverflow),
        ("call_indirect", at(1), BadSignature),
        ("call_indirect", at(2), IndirectCallToNull),
        ("call_indirect", at(3), UndefinedElement),
        ("return_call_indirect", at(3), UndefinedElement),
        ("table.get", at(3), TableOutOfBounds),
        ("table.set", at(3), TableOutOfBounds),
        ("table.fill", at(2), TableOutOfBounds),
        ("recurse", at(0), StackOverflow),
    ]
}

/// Exports called with in-range arguments, and what they return: the
/// checks must not trap where wasm does not.
fn fine_calls() -> Vec<(&'static str, Vec<Val>, Option<Val>)> {
    vec![
        ("i32.load", vec![Val::I32(65532)], Some(Val::I32(0))),
        (
            "i32.div_s",
            vec![Val::I32(-7), Val::I32(2)],
            Some(Val::I32(-3)),
        ),
        (
            "i32.rem_s",
            vec![Val::I32(i32::MIN), Val::I32(-1)],
            Some(Val::I32(0)),
        ),
        (
            "i64.rem_s",
            vec![Val::I64(i64::MIN), Val::I64(-1)],
            Some(Val::I64(0)),
        ),
        (
            "i32.trunc_f32_s",
            vec![Val::F32((-2147483648.0f32).to_bits())],
            Some(Val::I32(i32::MIN)),
        ),
        (
            "i32.trunc_f64_s",
            vec![Val::F64((-2147483648.9f64).to_bits())],
            Some(Val::I32(i32::MIN)),
        ),
        (
            "i32.trunc_f64_u",
            vec![Val::F64((-0.9f64).to_bits())],
            Some(Val::I32(0)),
        ),
        (
            "i64.trunc_f64_u",
            vec![Val::F64(18446744073709549568.0f64.to_bits())],
            Some(Val::I64(-2048)),
        ),
        ("call_indirect", vec![Val::I32(0)], Some(Val::I32(1))),
        ("memory.copy short", vec![Val::I32(65528)], None),
    ]
}

fn export(store: &mut Store<()>, instance: &Instance, name: &str) -> Func {
    instance
        .get_func(&mut *store, name)
        .unwrap_or_else(|| panic!("no export {name}"))
}

fn results_for(store: &Store<()>, f: &Func) -> Vec<Val> {
    f.ty(store).results().map(|_| Val::I32(0)).collect()
}

/// Runs every trapping call, each followed by a call that must work, then
/// the in-range calls; panics on the first wrong outcome.
fn run_every_operator(engine: &Engine) {
    let module = Module::new(engine, TRAPPING).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let ok = instance
        .get_typed_func::<(), i32>(&mut store, "ok")
        .unwrap();
    for (name, args, code) in trapping_calls() {
        let f = export(&mut store, &instance, name);
        let mut results = results_for(&store, &f);
        let err = f.call(&mut store, &args, &mut results).unwrap_err();
        assert_eq!(trap_code(&err), Some(code), "{name}{args:?}: {err:?}");
        // The trap came back through the builtin and unwound cleanly.
        assert_eq!(ok.call(&mut store, ()).unwrap(), 42, "after {name}");
    }
    for (name, args, expected) in fine_calls() {
        let f = export(&mut store, &instance, name);
        let mut results = results_for(&store, &f);
        f.call(&mut store, &args, &mut results)
            .unwrap_or_else(|e| panic!("{name}{args:?}: {e:?}"));
        let got = results.first().map(|v| format!("{v:?}"));
        assert_eq!(got, expected.map(|v| format!("{v:?}")), "{name}{args:?}");
    }
}

#[test]
fn every_trapping_operator_traps_with_its_code_and_the_store_survives() {
    run_every_operator(&signal_free_engine(|_| {}));
}

/// A frame's function index and module offset.
type FrameAt = (u32, Option<usize>);

/// The innermost frame of each trap of `trapping_calls` (but stack
/// overflow, whose trap is in the prologue with signals), by call.
fn innermost_frames(engine: &Engine) -> Vec<(String, Option<FrameAt>)> {
    let module = Module::new(engine, TRAPPING).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    trapping_calls()
        .into_iter()
        .filter(|(_, _, code)| *code != TrapCode::StackOverflow)
        .map(|(name, args, _)| {
            let f = export(&mut store, &instance, name);
            let mut results = results_for(&store, &f);
            let err = f.call(&mut store, &args, &mut results).unwrap_err();
            let trap = err.downcast_ref::<Trap>().expect("a trap");
            let frame = trap.trace().first();
            let frame = frame.map(|f| (f.func_index(), f.module_offset()));
            (format!("{name}{args:?}"), frame)
        })
        .collect()
}

#[test]
fn traps_name_the_same_operator_as_with_signals() {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    let with = innermost_frames(&Engine::new(&config).unwrap());
    let without = innermost_frames(&signal_free_engine(|_| {}));
    for (w, wo) in with.iter().zip(&without) {
        assert!(w.1.is_some_and(|(_, o)| o.is_some()), "{w:?}");
        assert_eq!(w, wo);
    }
}

#[test]
fn traps_from_the_builtin_carry_the_wasm_frames() {
    let engine = signal_free_engine(|_| {});
    let module = Module::new(
        &engine,
        r#"(module
            (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
            (func (export "outer") (param i32) (result i32) (call $inner (local.get 0))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    let err = outer.call(&mut store, 0).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::IntegerDivisionByZero));
    let funcs: Vec<u32> = trap.trace().iter().map(|f| f.func_index()).collect();
    assert_eq!(funcs, [0, 1], "{trap}");
    assert_eq!(outer.call(&mut store, 1).unwrap(), 1);
}

#[test]
fn deep_recursion_stops_at_the_limit_and_the_store_survives() {
    for max in [None, Some(256 << 10)] {
        let engine = signal_free_engine(|c| {
            if let Some(max) = max {
                c.max_wasm_stack(max);
            }
        });
        let module = Module::new(&engine, TRAPPING).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let recurse = instance
            .get_typed_func::<i32, i32>(&mut store, "recurse")
            .unwrap();
        let ok = instance
            .get_typed_func::<(), i32>(&mut store, "ok")
            .unwrap();
        for _ in 0..3 {
            let err = recurse.call(&mut store, 0).unwrap_err();
            assert_eq!(trap_code(&err), Some(TrapCode::StackOverflow), "{err:?}");
            assert_eq!(ok.call(&mut store, ()).unwrap(), 42);
        }
    }
}

#[test]
fn interrupts_trap_through_the_builtin() {
    let engine = signal_free_engine(|_| {});
    let module = Module::new(&engine, r#"(module (func (export "spin") (loop br 0)))"#).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    let handle = store.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        handle.interrupt();
    });
    let err = spin.call(&mut store, ()).unwrap_err();
    stopper.join().unwrap();
    assert_eq!(trap_code(&err), Some(TrapCode::Interrupt), "{err:?}");
}

#[test]
fn precompiled_modules_of_the_other_trap_mode_are_refused_by_name() {
    let free = signal_free_engine(|_| {});
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    let signals = Engine::new(&config).unwrap();
    let wat = r#"(module (func (export "f") (result i32) (i32.const 7)))"#;
    for (from, to, theirs, ours) in [
        (&free, &signals, "false", "true"),
        (&signals, &free, "true", "false"),
    ] {
        let bytes = from.precompile_module(wat.as_bytes()).unwrap();
        // SAFETY: the bytes were just written by `precompile_module`.
        let err = unsafe { Module::deserialize(to, &bytes) }.unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("`signals_based_traps`"), "{msg}");
        assert!(
            msg.contains(&format!("module: `{theirs}`; engine: `{ours}`")),
            "{msg}"
        );
        // The same engine mode loads it.
        // SAFETY: as above.
        let module = unsafe { Module::deserialize(from, &bytes) }.unwrap();
        let mut store = Store::new(from, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 7);
    }
}

/// Set in the child process of `runs_with_no_signal_handler_installed`.
const CHILD: &str = "KILN_SIGNAL_FREE_CHILD";

/// The signals a native trap could raise, and the ones Kiln's handler
/// takes.
const FAULT_SIGNALS: [i32; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
];

/// The handler address installed for each of `FAULT_SIGNALS`.
fn handlers() -> Vec<usize> {
    FAULT_SIGNALS
        .iter()
        .map(|&sig| {
            // SAFETY: a zeroed `sigaction` is a valid out-parameter, and a
            // null new action only queries the current one.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
                old.sa_sigaction
            }
        })
        .collect()
}

/// In the child process: everything above, in a process where no engine
/// relies on signals, then a check that Kiln installed no handler. Any
/// fault in compiled code kills this process (Rust's own SIGSEGV handler
/// re-raises faults outside its stack guard; SIGILL, SIGFPE and SIGTRAP
/// have none), which the parent sees.
#[test]
fn signal_free_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let before = handlers();
    let engine = signal_free_engine(|_| {});
    run_every_operator(&engine);
    // On another thread too: nothing per-thread is set up either.
    let e = engine.clone();
    std::thread::spawn(move || run_every_operator(&e))
        .join()
        .unwrap();
    assert_eq!(
        handlers(),
        before,
        "a signal-free engine installed handlers"
    );
    // The check can fail: an engine that relies on signals installs them.
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    Engine::new(&config).unwrap();
    assert_ne!(handlers(), before, "a signals-based engine installed none");
    println!("signal-free child: done");
}

#[test]
fn runs_with_no_signal_handler_installed() {
    let output = rerun_in_child("signal_free_child", CHILD);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed: {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("signal-free child: done"), "{stdout}");
}

#[test]
fn accesses_after_growth_see_the_moved_memory() {
    // A reservation of one page: every growth moves the memory, so code
    // that kept the old base or length across the growth would read freed
    // memory or trap where it should not.
    let engine = signal_free_engine(|c| {
        c.memory_reservation(64 << 10)
            .memory_reservation_for_growth(0);
    });
    let module = Module::new(
        &engine,
        r#"(module
            (memory 1)
            (func $grow (result i32) (memory.grow (i32.const 1)))
            ;; The growth inline, between accesses of one straight line.
            (func (export "inline") (param i32) (result i32)
              (i32.store (i32.const 8) (local.get 0))
              (drop (i32.load (i32.const 8)))
              (drop (memory.grow (i32.const 1)))
              (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))
                (local.get 0))
              (i32.add (i32.load (i32.const 8))
                (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))))
            ;; The growth in a callee.
            (func (export "call") (param i32) (result i32)
              (i32.store (i32.const 16) (local.get 0))
              (drop (i32.load (i32.const 16)))
              (drop (call $grow))
              (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))
                (local.get 0))
              (i32.add (i32.load (i32.const 16))
                (i32.load (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4))))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for name in ["inline", "call", "inline", "call"] {
        let f = instance
            .get_typed_func::<i32, i32>(&mut store, name)
            .unwrap();
        assert_eq!(f.call(&mut store, 21).unwrap(), 42, "{name}");
    }
}
