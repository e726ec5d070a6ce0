//! `Config::lazy_translation`: functions are translated at their first
//! call, the module is still validated up front, and everything behaves as
//! with eager translation.

use kiln::*;

fn engine(lazy: bool) -> Engine {
    let mut config = Config::new();
    // Lazy translation is the interpreter's; Auto may pick native code.
    config
        .strategy(Strategy::Interpreter)
        .lazy_translation(lazy);
    Engine::new(&config).unwrap()
}

const PROGRAM: &str = r#"(module $m
    (type $ii (func (param i32) (result i32)))
    (table funcref (elem $double $square))
    (memory 1)
    (func $double (type $ii) (i32.shl (local.get 0) (i32.const 1)))
    (func $square (type $ii) (i32.mul (local.get 0) (local.get 0)))
    (func $fact (param i32 i32) (result i32)
        (if (result i32) (i32.le_s (local.get 0) (i32.const 1))
            (then (local.get 1))
            (else (return_call $fact (i32.sub (local.get 0) (i32.const 1))
                                     (i32.mul (local.get 0) (local.get 1))))))
    (func (export "run") (param i32) (result i32)
        (i32.add
            (call_indirect (type $ii) (local.get 0) (i32.const 0))
            (i32.add (call_indirect (type $ii) (local.get 0) (i32.const 1))
                     (call $fact (local.get 0) (i32.const 1)))))
    (func $oob (export "oob") (param i32) (result i32) (i32.load (local.get 0))))"#;

#[test]
fn lazy_and_eager_agree() {
    for lazy in [false, true] {
        let engine = engine(lazy);
        let module = Module::new(&engine, PROGRAM).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let run = instance
            .get_typed_func::<i32, i32>(&mut store, "run")
            .unwrap();
        for n in 0..8 {
            let fact: i32 = (1..=n.max(1)).product();
            assert_eq!(run.call(&mut store, n).unwrap(), 2 * n + n * n + fact);
        }
        // A trap in a lazily translated function has the same backtrace.
        let oob = instance
            .get_typed_func::<i32, i32>(&mut store, "oob")
            .unwrap();
        let err = oob.call(&mut store, -1).unwrap_err();
        let trap = err.downcast_ref::<Trap>().expect("a trap");
        assert_eq!(trap.code(), Some(TrapCode::MemoryOutOfBounds));
        assert_eq!(trap.trace()[0].func_name(), Some("oob"), "lazy: {lazy}");
        assert_eq!(oob.call(&mut store, 0).unwrap(), 0);
    }
}

#[test]
fn lazy_still_validates_up_front() {
    // The invalid body is never called, but the module is rejected.
    let wat = r#"(module
        (func (export "ok") (result i32) (i32.const 1))
        (func (result i32) (i64.const 1)))"#;
    for lazy in [false, true] {
        let err = Module::new(&engine(lazy), wat).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.starts_with("failed to parse WebAssembly module:"),
            "{msg}"
        );
        assert!(msg.contains("type mismatch"), "{msg}");
    }
}

/// A valid function with a frame too big for the bytecode: eager
/// translation refuses the module, lazy translation the first call, which
/// leaves the store usable.
#[test]
fn untranslatable_function_fails_at_first_call_when_lazy() {
    let locals = "v128 ".repeat(40_000);
    let wat = format!(
        r#"(module
            (func $big (local {locals}))
            (func (export "big") (call $big))
            (func (export "small") (result i32) (i32.const 7)))"#
    );
    let err = Module::new(&engine(false), &wat).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.starts_with("failed to compile WebAssembly module:"),
        "{msg}"
    );
    assert!(msg.contains("65535"), "{msg}");

    let engine = engine(true);
    let module = Module::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let big = instance
        .get_typed_func::<(), ()>(&mut store, "big")
        .unwrap();
    for _ in 0..2 {
        let msg = format!("{:#}", big.call(&mut store, ()).unwrap_err());
        assert!(msg.contains("lazy translation"), "{msg}");
        assert!(msg.contains("65535"), "{msg}");
    }
    let small = instance
        .get_typed_func::<(), i32>(&mut store, "small")
        .unwrap();
    assert_eq!(small.call(&mut store, ()).unwrap(), 7);
}
