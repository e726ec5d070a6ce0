//! Hand-written modules: the trap table, relocations and trampolines of
//! small programs, on the host and on a cross target.

use kiln_cranelift::{CompileError, CompiledModule, CraneliftCompiler, FuncKey, IsaBuilder};
use kiln_environ::{BoundsCheckStrategy, Builtin, TrapCode, Tunables, default_features};

fn compile_on(
    isa: IsaBuilder,
    tunables: Tunables,
    wat: &str,
) -> Result<CompiledModule, CompileError> {
    let wasm = wat::parse_str(wat).expect("valid wat");
    let module = kiln_environ::translate_module(&wasm, default_features()).expect("valid module");
    let isa = isa.verifier(true).build()?;
    CraneliftCompiler::new(isa, tunables).compile_module(&module)
}

fn guard() -> Tunables {
    Tunables::default_for_pointer_size(8)
}

fn explicit() -> Tunables {
    Tunables {
        bounds_checks: BoundsCheckStrategy::Explicit,
        ..guard()
    }
}

fn codes(m: &CompiledModule, key: FuncKey) -> Vec<TrapCode> {
    let r = m.range_of(key).expect("compiled");
    m.traps
        .iter()
        .filter(|t| r.contains(&t.offset))
        .map(|t| t.code)
        .collect()
}

const TRAPPY: &str = r#"
(module
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (memory 1)
  (func $div (export "div") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.div_s)
  (func $load (export "load") (param i32) (result i32)
    local.get 0 i32.load offset=4)
  (func $unreachable (export "unreachable") unreachable)
  (func $indirect (export "indirect") (param i32) (result i32)
    i32.const 5 local.get 0 call_indirect (type $t))
  (func $conv (export "conv") (param f64) (result i32)
    local.get 0 i32.trunc_f64_s)
  (func $callee (param i32) (result i32) local.get 0)
  (func $caller (export "caller") (param i32) (result i32)
    local.get 0 call $callee)
  (func $grow (export "grow") (param i32) (result i32)
    local.get 0 memory.grow)
)"#;

#[test]
fn trap_table_has_the_expected_codes() {
    let m = compile_on(IsaBuilder::host(), guard(), TRAPPY).unwrap();
    let div = codes(&m, FuncKey::Wasm(0));
    assert!(div.contains(&TrapCode::IntegerDivisionByZero), "{div:?}");
    assert!(div.contains(&TrapCode::IntegerOverflow), "{div:?}");

    // Guard pages: the load itself is the trap site.
    let load = codes(&m, FuncKey::Wasm(1));
    assert!(load.contains(&TrapCode::MemoryOutOfBounds), "{load:?}");
    assert!(codes(&m, FuncKey::Wasm(2)).contains(&TrapCode::UnreachableCodeReached));
    let ind = codes(&m, FuncKey::Wasm(3));
    for c in [
        TrapCode::UndefinedElement,
        TrapCode::IndirectCallToNull,
        TrapCode::BadSignature,
    ] {
        assert!(ind.contains(&c), "{c:?} missing from {ind:?}");
    }
    let conv = codes(&m, FuncKey::Wasm(4));
    assert!(conv.contains(&TrapCode::BadConversionToInteger), "{conv:?}");
    assert!(conv.contains(&TrapCode::IntegerOverflow), "{conv:?}");

    // A function with a frame checks the stack limit in its prologue.
    let caller = codes(&m, FuncKey::Wasm(6));
    assert!(caller.contains(&TrapCode::StackOverflow), "{caller:?}");

    // Every trap site is found by pc.
    for t in &m.traps {
        assert_eq!(m.trap_at(t.offset), Some(t.code));
    }
}

#[test]
fn explicit_bounds_checks_trap_before_the_access() {
    let m = compile_on(IsaBuilder::host(), explicit(), TRAPPY).unwrap();
    let load = codes(&m, FuncKey::Wasm(1));
    assert!(load.contains(&TrapCode::MemoryOutOfBounds), "{load:?}");
}

#[test]
fn calls_and_trampolines_are_laid_out_and_linked() {
    let m = compile_on(IsaBuilder::host(), guard(), TRAPPY).unwrap();
    // Every defined function, an array-to-wasm trampoline per exported
    // one, a wasm-to-array per distinct type, and the memory.grow stub.
    for f in 0..8 {
        assert!(m.range_of(FuncKey::Wasm(f)).is_some());
    }
    assert!(m.range_of(FuncKey::ArrayToWasm(6)).is_some());
    assert!(
        m.range_of(FuncKey::ArrayToWasm(5)).is_none(),
        "$callee is internal"
    );
    assert!(m.range_of(FuncKey::Builtin(Builtin::MemoryGrow)).is_some());
    assert!(m.range_of(FuncKey::Builtin(Builtin::MemoryFill)).is_none());
    assert_eq!(m.wasm_to_array.len(), 4); // the distinct types

    // Ranges do not overlap and lie in the text.
    for w in m.functions.windows(2) {
        assert!(w[0].range.end <= w[1].range.start);
    }
    assert!(m.functions.last().unwrap().range.end as usize <= m.text.len());

    // pc lookup names the function and a wasm offset.
    let caller = m.range_of(FuncKey::Wasm(6)).unwrap();
    let (key, _) = m.lookup_pc(caller.start).unwrap();
    assert_eq!(key, FuncKey::Wasm(6));
    let &(pc, wasm) = m
        .address_map
        .iter()
        .find(|(o, _)| caller.contains(o))
        .expect("the caller's body has mapped instructions");
    assert_eq!(m.lookup_pc(pc), Some((FuncKey::Wasm(6), Some(wasm))));
    assert!((wasm as usize) < wat::parse_str(TRAPPY).unwrap().len());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn direct_call_relocation_points_at_the_callee() {
    // x86-64 `call rel32`: find the call in $caller and check its target.
    let m = compile_on(IsaBuilder::host(), guard(), TRAPPY).unwrap();
    let caller = m.range_of(FuncKey::Wasm(6)).unwrap();
    let callee = m.range_of(FuncKey::Wasm(5)).unwrap();
    let code = &m.text[caller.start as usize..caller.end as usize];
    let found = code.windows(5).enumerate().any(|(i, w)| {
        w[0] == 0xe8 && {
            let rel = i32::from_le_bytes([w[1], w[2], w[3], w[4]]);
            let next = caller.start as i64 + i as i64 + 5;
            next + i64::from(rel) == i64::from(callee.start)
        }
    });
    assert!(found, "no call rel32 to $callee in $caller");
}

#[test]
fn tail_calls_and_cross_compilation() {
    let wat = r#"
    (module
      (type $t (func (param i64) (result i64)))
      (table 1 funcref)
      (elem (i32.const 0) $count)
      (func $count (param i64) (result i64)
        local.get 0 i64.eqz
        if (result i64) i64.const 0
        else local.get 0 i64.const 1 i64.sub return_call $count end)
      (func (export "ind") (param i64) (result i64)
        local.get 0 i32.const 0 return_call_indirect (type $t))
      (func (export "fl") (param f32 f64) (result f32 f64)
        local.get 0 f32.nearest local.get 1 f64.floor)
      (global $g (mut i32) (i32.const 1))
      (global $v (mut v128) (v128.const i64x2 1 2))
      (memory 1)
      (func (export "bulk") (param i32)
        local.get 0 i32.const 0 i32.const 4 memory.fill
        local.get 0 local.get 0 i32.const 4 memory.copy
        global.get $g i32.const 1 i32.add global.set $g
        local.get 0 v128.load global.set $v
        local.get 0 global.get $v v128.store offset=16
        local.get 0 v128.load32_zero drop
        local.get 0 v128.load16x4_s drop
        local.get 0 global.get $v v128.load8_lane 3 drop
        local.get 0 global.get $v v128.store32_lane 1)
    )"#;
    for target in [
        None,
        Some("x86_64-unknown-linux-gnu"),
        Some("aarch64-unknown-linux-gnu"),
        Some("s390x-unknown-linux-gnu"),
        Some("riscv64gc-unknown-linux-gnu"),
    ] {
        let isa = target.map_or_else(IsaBuilder::host, IsaBuilder::target);
        for t in [guard(), explicit()] {
            let m = compile_on(isa.clone(), t, wat)
                .unwrap_or_else(|e| panic!("{target:?} {:?}: {e}", t.bounds_checks));
            assert!(!m.text.is_empty());
        }
    }
}

#[test]
fn offsets_follow_the_target_pointer_size() {
    // Every ISA Kiln compiles for is 64-bit; the layout the compiler uses
    // must be the 8-byte one whatever the host.
    let wasm = wat::parse_str(TRAPPY).unwrap();
    let module = kiln_environ::translate_module(&wasm, default_features()).unwrap();
    let isa = IsaBuilder::target("s390x-unknown-linux-gnu")
        .build()
        .unwrap();
    let offsets = CraneliftCompiler::new(isa, guard()).offsets(&module);
    assert_eq!(offsets.pointer_size, 8);
    assert_eq!(offsets, kiln_environ::VMOffsets::new(8, &module));
}

#[test]
fn fuel_checks_call_their_builtin_and_interrupt_checks_trap() {
    let wat = r#"(module (func (export "spin") (loop br 0)))"#;
    let t = Tunables {
        consume_fuel: true,
        interruptible: true,
        ..guard()
    };
    let m = compile_on(IsaBuilder::host(), t, wat).unwrap();
    assert!(m.range_of(FuncKey::Builtin(Builtin::OutOfFuel)).is_some());
    // A set interrupt flag traps in place; no builtin call is needed.
    assert!(m.range_of(FuncKey::Builtin(Builtin::Interrupted)).is_none());
    assert!(codes(&m, FuncKey::Wasm(0)).contains(&TrapCode::Interrupt));
}

#[test]
fn interrupt_polls_sit_at_entry_and_uncovered_back_edges() {
    let wat = r#"(module
      (func $leaf)
      (func (export "spin") (loop br 0))
      (func (export "calls") (loop (call $leaf) (br 0)))
      (func (export "calls_then_branches") (param i32)
        (loop (call $leaf) (if (local.get 0) (then (nop))) (br 0))))"#;
    let t = Tunables {
        interruptible: true,
        ..guard()
    };
    let m = compile_on(IsaBuilder::host(), t, wat).unwrap();
    let polls = |f: u32| {
        codes(&m, FuncKey::Wasm(f))
            .iter()
            .filter(|c| **c == TrapCode::Interrupt)
            .count()
    };
    assert_eq!(polls(0), 1, "entry only");
    assert_eq!(polls(1), 2, "entry and the back-edge");
    // `$leaf` polls on entry, and the call precedes the back-edge in its
    // block.
    assert_eq!(polls(2), 1, "entry; the call covers the back-edge");
    // The `if` ends in a join, after which the call is forgotten.
    assert_eq!(polls(3), 2, "entry and the back-edge after the join");
}

#[test]
fn bad_keys_are_errors_not_panics() {
    let wasm = wat::parse_str(TRAPPY).unwrap();
    let module = kiln_environ::translate_module(&wasm, default_features()).unwrap();
    let c = CraneliftCompiler::new(IsaBuilder::host().build().unwrap(), guard());
    for key in [
        FuncKey::Wasm(99),
        FuncKey::ArrayToWasm(99),
        FuncKey::WasmToArray(99),
    ] {
        assert!(matches!(
            c.compile_function(&module, key),
            Err(CompileError::Unsupported(_))
        ));
    }
    let f = c.compile_function(&module, FuncKey::Wasm(6)).unwrap();
    assert!(f.relocations.iter().any(|r| r.target == FuncKey::Wasm(5)));
}

/// Every trapping operator (`trapping.wat`), compiled without
/// signals-based traps (`docs/signal-free.md`).
const TRAPPING: &str = include_str!("trapping.wat");

const ALL_TARGETS: [&str; 4] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "s390x-unknown-linux-gnu",
    "riscv64gc-unknown-linux-gnu",
];

fn signal_free() -> Tunables {
    Tunables {
        signals_based_traps: false,
        consume_fuel: true,
        interruptible: true,
        ..guard()
    }
}

#[test]
fn signal_free_code_has_no_trap_sites_on_any_target() {
    for target in ALL_TARGETS {
        // The same module with signals has a site for nearly every
        // operator: the empty table below is the mode's doing.
        let with = compile_on(IsaBuilder::target(target), guard(), TRAPPING).unwrap();
        assert!(
            with.traps.len() > 30,
            "{target}: {} sites",
            with.traps.len()
        );
        let without = compile_on(IsaBuilder::target(target), signal_free(), TRAPPING)
            .unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(without.traps, [], "{target}");
        // Every trap calls the builtin instead.
        assert!(
            without.range_of(FuncKey::Builtin(Builtin::Trap)).is_some(),
            "{target}"
        );
        assert!(with.range_of(FuncKey::Builtin(Builtin::Trap)).is_none());
    }
}

#[test]
fn signal_free_code_checks_the_stack_in_the_body() {
    // A function with signals gets Cranelift's prologue check, whose trap
    // is a site with `StackOverflow`; without, it calls the builtin.
    let wat = r#"(module (func $f (export "f") (call $f)))"#;
    let with = compile_on(IsaBuilder::host(), guard(), wat).unwrap();
    assert!(codes(&with, FuncKey::Wasm(0)).contains(&TrapCode::StackOverflow));
    let without = compile_on(IsaBuilder::host(), signal_free(), wat).unwrap();
    assert_eq!(without.traps, []);
    assert!(without.range_of(FuncKey::Builtin(Builtin::Trap)).is_some());
    // A function that calls no wasm cannot recurse, and is not checked
    // (no fuel or interrupt checks here, which could trap too).
    let leaf = r#"(module (func (export "f") (result i32) (i32.const 1)))"#;
    let t = Tunables {
        signals_based_traps: false,
        ..guard()
    };
    let m = compile_on(IsaBuilder::host(), t, leaf).unwrap();
    assert!(m.range_of(FuncKey::Builtin(Builtin::Trap)).is_none());
}
