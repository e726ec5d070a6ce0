//! Checks on the bytecode the translator emits (stage 2 peepholes), so a
//! regression in the optimisations shows up as a test failure rather than
//! only as a slowdown.

use kiln_interp::bytecode::Op;
use kiln_interp::{InterpModule, TranslateConfig, translate_module};

fn translate(wat: &str, consume_fuel: bool) -> InterpModule {
    let wasm = wat::parse_str(wat).unwrap();
    let t = kiln_environ::translate_module(&wasm, kiln_environ::default_features()).unwrap();
    translate_module(&t, &TranslateConfig { consume_fuel }).unwrap()
}

#[test]
fn local_get_is_free_and_constants_fold() {
    let m = translate(
        r#"(module (func (param i32 i32) (result i32)
            (i32.add (local.get 0) (i32.const 1))
            (local.get 1)
            (i32.add)))"#,
        false,
    );
    let code = m.code(0);
    assert!(
        matches!(code[0], Op::I32AddImm(b) if b.lhs == 0 && b.imm == 1),
        "{code:?}"
    );
    assert!(matches!(code[1], Op::I32Add(b) if b.rhs == 1), "{code:?}");
    assert!(matches!(code[2], Op::Return1 { .. }), "{code:?}");
    assert_eq!(code.len(), 3);
}

#[test]
fn compare_and_branch_fuse() {
    let m = translate(
        r#"(module (func (param i32) (result i32)
            (if (i32.lt_s (local.get 0) (i32.const 10)) (then (local.set 0 (i32.const 1))))
            (local.get 0)))"#,
        false,
    );
    let code = m.code(0);
    // if (x < 10) negated into one branch; the constant goes straight into
    // the local.
    assert!(
        matches!(code[0], Op::BrI32GeSImm(b) if b.imm == 10),
        "{code:?}"
    );
    assert!(
        matches!(code[1], Op::Const32 { dst: 0, value: 1 }),
        "{code:?}"
    );
    assert!(matches!(code[2], Op::Return), "{code:?}");
}

#[test]
fn fuel_regions() {
    let m = translate(
        r#"(module (func (param i32)
            (loop (br_if 0 (local.get 0)))))"#,
        true,
    );
    let code = m.code(0);
    assert!(matches!(code[0], Op::Fuel { amount: 1 }), "{code:?}");
    assert!(matches!(code[1], Op::LoopHead { fuel: 3 }), "{code:?}");
}
