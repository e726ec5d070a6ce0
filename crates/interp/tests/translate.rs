//! Checks on the bytecode the translator emits (stage 2 peepholes), so a
//! regression in the optimisations shows up as a test failure rather than
//! only as a slowdown.

use kiln_interp::bytecode::Op;
use kiln_interp::{InterpModule, TranslateConfig, translate_module};

/// The result slot of a `BinImm` op.
fn code_dst(op: &Op) -> u16 {
    match op {
        Op::I32AddImm(b) | Op::I32MulImm(b) => b.dst,
        other => panic!("not an immediate op: {other:?}"),
    }
}

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
    let code = m.code(0).unwrap();
    assert!(
        matches!(code[0], Op::I32AddImm(b) if b.lhs == 0 && b.imm == 1),
        "{code:?}"
    );
    // Its operands swapped so the temporary is `rhs`, which the op takes
    // from the accumulator (the `I32AddImm` before it left it there).
    assert!(
        matches!(code[1], Op::I32AddAcc(b) if b.lhs == 1 && b.rhs == code_dst(&code[0])),
        "{code:?}"
    );
    // And the sum goes back from there.
    assert!(matches!(code[2], Op::Return1Acc { .. }), "{code:?}");
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
    let code = m.code(0).unwrap();
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
    let code = m.code(0).unwrap();
    assert!(matches!(code[0], Op::Fuel { amount: 1 }), "{code:?}");
    assert!(matches!(code[1], Op::LoopHead { fuel: 3 }), "{code:?}");
}

/// Eager translation that validates as it goes (one decode per body) must
/// reject exactly what separate validation rejects, with the same message
/// and offset, and accept the rest with the same bytecode.
#[test]
fn validating_translation_agrees_with_separate_validation() {
    let invalid = [
        // Type mismatch in the second of two functions.
        r#"(module (func) (func (result i32) (i64.const 1)))"#,
        // Operand stack underflow.
        r#"(module (func (result i32) (i32.add (i32.const 1))))"#,
        // Unknown local.
        r#"(module (func (local i32) (local.set 3 (i32.const 0))))"#,
        // Branch past the outermost label.
        r#"(module (func (block (br 2))))"#,
        // Invalid code after an unconditional branch is still invalid.
        r#"(module (func (result i32) (return (i32.const 0)) (i64.add)))"#,
    ];
    for wat in invalid {
        let wasm = wat::parse_str(wat).unwrap();
        let features = kiln_environ::default_features();
        let separate = kiln_environ::translate_module(&wasm, features).unwrap_err();
        let (t, bodies) = kiln_environ::translate_module_deferred(&wasm, features).unwrap();
        let fused =
            kiln_interp::translate_module_validating(&t, bodies, &TranslateConfig::default())
                .unwrap_err();
        assert_eq!(fused, separate, "{wat}");
        assert!(!fused.unsupported, "{wat}");
    }

    let valid = r#"(module
        (memory 1)
        (func (param i32) (result i32)
            (block (result i32) (br_if 0 (i32.const 7) (local.get 0)) (drop) (i32.const 1)))
        (func (result i64) (local i64 f64)
            (loop (local.set 0 (i64.add (local.get 0) (i64.const 1)))
                (br_if 0 (i64.lt_u (local.get 0) (i64.const 10))))
            (i64.load offset=8 (i32.const 0))
            (local.get 0)
            (i64.add)))"#;
    let wasm = wat::parse_str(valid).unwrap();
    let features = kiln_environ::default_features();
    let t = kiln_environ::translate_module(&wasm, features).unwrap();
    let eager = translate_module(&t, &TranslateConfig::default()).unwrap();
    let (t2, bodies) = kiln_environ::translate_module_deferred(&wasm, features).unwrap();
    let fused =
        kiln_interp::translate_module_validating(&t2, bodies, &TranslateConfig::default()).unwrap();
    for f in 0..2 {
        assert_eq!(
            format!("{:?}", eager.code(f).unwrap()),
            format!("{:?}", fused.code(f).unwrap())
        );
    }
}

/// A body too big for the bytecode is "unsupported" only if it is valid;
/// an invalid one is reported as invalid, as separate validation would.
#[test]
fn oversized_frame_is_invalid_before_it_is_unsupported() {
    let locals = "v128 ".repeat(40_000); // 80,000 slots > 65,535
    let features = kiln_environ::default_features();
    for (body, valid) in [("", true), ("(i32.add)", false)] {
        let wat = format!("(module (func (local {locals}) {body}))");
        let wasm = wat::parse_str(&wat).unwrap();
        let (t, bodies) = kiln_environ::translate_module_deferred(&wasm, features).unwrap();
        let err = kiln_interp::translate_module_validating(&t, bodies, &TranslateConfig::default())
            .unwrap_err();
        assert_eq!(err.unsupported, valid, "{}", err.message);
        if !valid {
            let separate = kiln_environ::translate_module(&wasm, features).unwrap_err();
            assert_eq!(err, separate);
        }
    }
}

/// A lazy module translates nothing up front and each function once, on
/// first use, to the same bytecode as eager translation.
#[test]
fn lazy_translation_happens_on_first_use_only() {
    let wasm = wat::parse_str(
        r#"(module
            (func (result i32) (i32.const 1))
            (func (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
            (func))"#,
    )
    .unwrap();
    let t = kiln_environ::translate_module(&wasm, kiln_environ::default_features()).unwrap();
    let eager = translate_module(&t, &TranslateConfig::default()).unwrap();
    let lazy = InterpModule::lazy(std::sync::Arc::new(t), &TranslateConfig::default());
    assert_eq!(lazy.func_count(), 3);
    assert_eq!(lazy.translated_count(), 0);
    assert_eq!(lazy.bytecode_bytes(), 0);
    assert_eq!(
        format!("{:?}", lazy.code(1).unwrap()),
        format!("{:?}", eager.code(1).unwrap())
    );
    assert_eq!(lazy.translated_count(), 1);
    let one = lazy.bytecode_bytes();
    assert!(one > 0);
    // A second look reuses the first translation.
    lazy.code(1).unwrap();
    assert_eq!(lazy.bytecode_bytes(), one);
    assert_eq!(eager.translated_count(), 3);
    assert!(eager.bytecode_bytes() > one);
}

/// The fused path decodes with the features it validates against: without
/// multi-memory, `memory.grow`'s reserved byte must be a one-byte zero.
#[test]
fn validating_translation_decodes_with_the_module_features() {
    let wasm: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
        0x03, 0x02, 0x01, 0x00, // function section
        0x05, 0x03, 0x01, 0x00, 0x00, // memory section
        0x0a, 0x0a, 0x01, // code section, one body
        0x08, 0x00, // body size, no locals
        0x41, 0x00, // i32.const 0
        0x40, 0x80, 0x00, // memory.grow with a two-byte zero
        0x1a, 0x0b, // drop, end
    ];
    let mut features = kiln_environ::default_features();
    features.remove(wasmparser::WasmFeatures::MULTI_MEMORY);
    let separate = kiln_environ::translate_module(wasm, features).unwrap_err();
    let (t, bodies) = kiln_environ::translate_module_deferred(wasm, features).unwrap();
    let fused = kiln_interp::translate_module_validating(&t, bodies, &TranslateConfig::default())
        .unwrap_err();
    assert_eq!(fused, separate);
    // With multi-memory (a default) the same bytes are a valid memory index.
    let with = kiln_environ::default_features();
    assert!(kiln_environ::translate_module(wasm, with).is_ok());
}

/// A float product consumed by an add of the same width becomes one
/// `MulAdd` op; a product that crosses a label does not.
#[test]
fn multiply_feeding_add_fuses() {
    let m = translate(
        r#"(module
            (func (param f64 f64 f64) (result f64)
                (f64.add (local.get 2) (f64.mul (local.get 0) (local.get 1))))
            (func (param f32 f32 f32) (result f32)
                (f32.add (f32.mul (local.get 0) (local.get 1)) (local.get 2)))
            (func (param f64 f64 f64) (result f64)
                (f64.mul (local.get 0) (local.get 1))
                (block (param f64) (result f64))
                (local.get 2)
                (f64.add))
            (func (param f64 f32 f32) (result f32)
                (f32.add (f32.mul (local.get 1) (local.get 2)) (f32.demote_f64 (local.get 0)))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(
        matches!(code[0], Op::F64MulAdd(x) if x.a == 0 && x.b == 1 && x.c == 2),
        "{code:?}"
    );
    let code = m.code(1).unwrap();
    assert!(
        matches!(code[0], Op::F32MulAdd(x) if x.a == 0 && x.b == 1 && x.c == 2),
        "{code:?}"
    );
    let code = m.code(2).unwrap();
    assert!(
        code.iter().any(|op| matches!(op, Op::F64Mul(_))),
        "{code:?}"
    );
    assert!(
        !code.iter().any(|op| matches!(op, Op::F64MulAdd(_))),
        "{code:?}"
    );
    // The product is not the last op before the add (a demote follows it).
    let code = m.code(3).unwrap();
    assert!(
        !code.iter().any(|op| matches!(op, Op::F32MulAdd(_))),
        "{code:?}"
    );
}

#[test]
fn vector_results_stored_to_locals_need_no_copy() {
    // `local.set` of a SIMD result rewrites the op to write the local's two
    // slots, as for scalars: no `Copy2` (it was 13% of the simd program's
    // time before).
    let m = translate(
        r#"(module (memory 1) (func (param i32) (result i32)
            (local v128 v128)
            (local.set 1 (v128.load (local.get 0)))
            (local.set 2 (i32x4.add (local.get 1) (local.get 1)))
            (local.set 1 (i32x4.shl (local.get 2) (i32.const 3)))
            (i32x4.extract_lane 0 (local.get 1))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(
        !code.iter().any(|op| matches!(op, Op::Copy2(_))),
        "{code:?}"
    );
    assert!(matches!(code[0], Op::V128Load { dst: 1, .. }), "{code:?}");
    assert!(
        matches!(
            code[1],
            Op::V128Binary {
                dst: 3,
                a: 1,
                b: 1,
                ..
            }
        ),
        "{code:?}"
    );
}

/// A shift by a constant feeding an `i32.add` (either side) becomes one
/// `I32AddShl`; `i64` ops take 64-bit immediates; a stored constant is
/// carried by the store.
#[test]
fn index_shifts_wide_immediates_and_stored_constants_fuse() {
    let m = translate(
        r#"(module (memory 1)
            (func (param i32 i32) (result i32)
                (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2))))
            (func (param i32 i32) (result i32)
                (i32.add (i32.shl (local.get 1) (i32.const 35)) (local.get 0)))
            (func (param i64) (result i64)
                (i64.mul (i64.and (local.get 0) (i64.const 0xffffffff))
                         (i64.const 0x100000001b3)))
            (func (param i32)
                (i32.store8 offset=3 (local.get 0) (i32.const 0x1ff))
                (i64.store (local.get 0) (i64.const -2))
                (i64.store (local.get 0) (i64.const 0x100000000))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(
        matches!(
            code[0],
            Op::I32AddShl {
                base: 0,
                idx: 1,
                shift: 2,
                ..
            }
        ),
        "{code:?}"
    );
    assert_eq!(code.len(), 2, "{code:?}");
    let code = m.code(1).unwrap();
    assert!(
        matches!(
            code[0],
            Op::I32AddShl {
                base: 0,
                idx: 1,
                shift: 3,
                ..
            }
        ),
        "{code:?}"
    );
    let code = m.code(2).unwrap();
    assert!(
        matches!(
            code[0],
            Op::I64AndImm {
                lhs: 0,
                imm: 0xffff_ffff,
                ..
            }
        ),
        "{code:?}"
    );
    assert!(
        matches!(
            code[1],
            Op::I64MulImm {
                imm: 0x100_0000_01b3,
                ..
            }
        ),
        "{code:?}"
    );
    let code = m.code(3).unwrap();
    assert!(
        matches!(
            code[0],
            Op::Store8Imm {
                addr: 0,
                value: 0x1ff,
                offset: 3
            }
        ),
        "{code:?}"
    );
    assert!(
        matches!(
            code[1],
            Op::Store64Imm {
                addr: 0,
                value: -2,
                offset: 0
            }
        ),
        "{code:?}"
    );
    // Too wide for the store's immediate: the constant stays an op.
    assert!(matches!(code[2], Op::Const64 { .. }), "{code:?}");
    assert!(matches!(code[3], Op::Store64Acc(_)), "{code:?}");
}

/// Rotations by a constant take an immediate; two copies in a row become
/// one `CopyPair`, and a copy before a branch a `CopyBr`.
#[test]
fn rotations_and_copies_fuse() {
    let m = translate(
        r#"(module
            (func (param i32) (result i32) (i32.rotl (local.get 0) (i32.const 7)))
            (func (param i32 i32) (result i32) (local i32)
              (local.set 2 (local.get 0))
              (local.set 0 (local.get 1))
              (local.get 0))
            (func (param i32 i32) (result i32)
              (block (result i32)
                (local.get 0)
                (br_if 1 (i32.const 5) (local.get 1))
                (br 0))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(
        matches!(code[0], Op::I32RotlImm(b) if b.lhs == 0 && b.imm == 7),
        "{code:?}"
    );
    let code = m.code(1).unwrap();
    assert!(
        matches!(
            code[0],
            Op::CopyPair {
                dst0: 2,
                src0: 0,
                dst1: 0,
                src1: 1
            }
        ),
        "{code:?}"
    );
    // The block's temporaries start past the two parameters and the
    // frame's four-slot call record.
    let code = m.code(2).unwrap();
    assert!(
        code.iter()
            .any(|op| matches!(op, Op::CopyBr { dst: 6, src: 7, .. })),
        "{code:?}"
    );
}

/// A load of an address the previous op computed computes it itself, and
/// two constant additions in a row become one.
#[test]
fn address_computations_fold_into_loads() {
    let m = translate(
        r#"(module (memory 1)
            (func (param i32 i32) (result i32)
              (i32.load offset=8 (i32.add (local.get 0) (i32.const 16))))
            (func (param i32 i32) (result i64)
              (i64.load (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 3)))))
            (func (param i32 i32) (result i32)
              (i32.load8_u (i32.add (local.get 0) (local.get 1))))
            (func (param i32) (result i32)
              (i32.add (i32.add (local.get 0) (i32.const 5)) (i32.const -7))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(
        matches!(
            code[0],
            Op::Load32AddImm {
                addr: 0,
                imm: 16,
                offset: 8,
                ..
            }
        ),
        "{code:?}"
    );
    let code = m.code(1).unwrap();
    assert!(
        matches!(
            code[0],
            Op::Load64Index {
                base: 0,
                idx: 1,
                shift: 3,
                offset: 0,
                ..
            }
        ),
        "{code:?}"
    );
    let code = m.code(2).unwrap();
    assert!(
        matches!(
            code[0],
            Op::Load8UAdd {
                a: 0,
                b: 1,
                offset: 0,
                ..
            }
        ),
        "{code:?}"
    );
    let code = m.code(3).unwrap();
    assert!(
        matches!(code[0], Op::I32AddImm(b) if b.lhs == 0 && b.imm == -2),
        "{code:?}"
    );
    assert_eq!(code.len(), 2, "{code:?}");
}

/// Two independent constant additions in a row become one
/// `I32AddImmPair`.
#[test]
fn constant_additions_pair_up() {
    let m = translate(
        r#"(module
            (func (param i32 i32) (result i32)
              (local.set 0 (i32.add (local.get 0) (i32.const 4)))
              (local.set 1 (i32.add (local.get 1) (i32.const -1)))
              (i32.add (local.get 0) (local.get 1))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(
        matches!(
            code[0],
            Op::I32AddImmPair {
                dst0: 0,
                src0: 0,
                dst1: 1,
                src1: 1,
                imm0: 4,
                imm1: -1
            }
        ),
        "{code:?}"
    );
}

/// LLVM's loop shape: the header tests the exit condition, the body ends in
/// `br 0`. The back-edge becomes a copy of the test that falls through
/// (backwards) to the op after the header's test.
const COUNT_LOOP: &str = r#"(module (func (param i32) (result i32) (local i32)
    (block (loop
        (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br 0)))
    (local.get 1)))"#;

#[test]
fn back_edge_to_a_test_is_threaded() {
    let m = translate(COUNT_LOOP, false);
    let code = m.code(0).unwrap();
    assert!(
        matches!(code[0], Op::BrI32GeU(b) if b.fallthrough == 0 && b.offset == 2),
        "{code:?}"
    );
    assert!(matches!(code[1], Op::I32AddImm(_)), "{code:?}");
    // The `br 0` at pc 2: taken goes where the header's test goes (pc 3),
    // failing goes to pc 1, the loop body.
    // (Mirrored, `1 >= 0` as `0 <= 1`, to read the counter the op before
    // it wrote from the accumulator.)
    assert!(
        matches!(code[2], Op::BrI32LeUAcc(b) if b.lhs == 0 && b.rhs == 1 && b.offset == 0 && b.fallthrough == -2),
        "{code:?}"
    );
    assert!(
        !code.iter().any(|op| matches!(op, Op::Br { .. })),
        "{code:?}"
    );
    // Metering fuel keeps the plain `br` (and its loop header op).
    let metered = translate(COUNT_LOOP, true);
    let code = metered.code(0).unwrap();
    assert!(
        code.iter().any(|op| matches!(op, Op::Br { .. })),
        "{code:?}"
    );
}

#[test]
fn code_of_a_function_the_module_lacks_is_an_error() {
    let m = translate(
        r#"(module (func) (func (result i32) (i32.const 7)))"#,
        false,
    );
    assert_eq!(m.num_funcs(), 2);
    assert!(m.code(1).is_ok());
    let err = m.code(2).unwrap_err();
    assert!(
        err.message.contains("no defined function 2"),
        "{}",
        err.message
    );
    assert!(m.code_len(u32::MAX).is_err());
}

/// An op that reads the result of the op before it takes it from the
/// accumulator, but not where a branch also leads to it: there the op
/// before is not the only way in.
#[test]
fn accumulator_forms_only_where_the_op_before_is_the_only_way_in() {
    let m = translate(
        r#"(module (func (param i32 i32) (result i32)
            (i32.shr_u (i32.mul (local.get 0) (i32.const 3)) (i32.const 2))
            (if (result i32) (local.get 1)
                (then (i32.const 5))
                (else (i32.mul (local.get 0) (local.get 0))))
            (i32.sub)))"#,
        false,
    );
    let code = m.code(0).unwrap();
    // The shift reads the product from the accumulator.
    assert!(matches!(code[0], Op::I32MulImm(_)), "{code:?}");
    assert!(
        matches!(code[1], Op::I32ShrUImmAcc(b) if b.lhs == code_dst(&code[0])),
        "{code:?}"
    );
    // The `if`'s result is written by either arm; the subtraction after the
    // `else` arm's `i32.mul` is also the `then` arm's branch target.
    let sub = code
        .iter()
        .position(|op| matches!(op.base_form(), Op::I32Sub(_)))
        .expect("an i32.sub");
    assert!(matches!(code[sub - 1], Op::I32Mul(_)), "{code:?}");
    assert!(matches!(code[sub], Op::I32Sub(_)), "{code:?}");
}

/// The ops with named operands have accumulator forms too: a branch on a
/// value just computed, a constant stored at an address just computed.
#[test]
fn named_operand_ops_take_the_accumulator() {
    let m = translate(
        r#"(module (memory 1) (func (param i32 i32)
            (i32.store (i32.and (local.get 0) (i32.const 1020)) (i32.const 7))
            (block (br_if 0 (i32.and (local.get 1) (i32.const 1))))
            (i32.store offset=4 (local.get 0) (i32.const 9))))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(matches!(code[0], Op::I32AndImm(_)), "{code:?}");
    assert!(
        matches!(code[1], Op::Store32ImmAcc { value: 7, .. }),
        "{code:?}"
    );
    assert!(matches!(code[2], Op::I32AndImm(_)), "{code:?}");
    assert!(matches!(code[3], Op::BrIfNezAcc { .. }), "{code:?}");
    // After the branch (the op before is not a producer), the plain form.
    assert!(
        matches!(code[4], Op::Store32Imm { value: 9, .. }),
        "{code:?}"
    );
    assert_eq!(
        code[3].base_form().code(),
        kiln_interp::bytecode::OpCode::BrIfNez
    );
}

/// A constant inside a loop that no op takes as an immediate (here the
/// dividend of `f64.div`) is read from the function's constant pool,
/// which `InitConsts` fills once per call: no `Const` op runs per
/// iteration. A constant folded into an immediate (the loop's `i32.add`)
/// leaves nothing in the pool, and a function whose pool ends up unused
/// starts past `InitConsts`.
#[test]
fn loop_constants_come_from_the_pool() {
    let m = translate(
        r#"(module
            (func (param i32 f64) (result f64) (local f64)
              (loop $l
                (local.set 2 (f64.add (local.get 2) (f64.div (f64.const 1) (local.get 1))))
                (local.set 0 (i32.add (local.get 0) (i32.const -1)))
                (br_if $l (local.get 0)))
              (local.get 2))
            (func (param i32) (result i32)
              (loop $l
                (local.set 0 (i32.add (local.get 0) (i32.const -1)))
                (br_if $l (i32.gt_u (local.get 0) (i32.const 1000))))
              (local.get 0)))"#,
        false,
    );
    let code = m.code(0).unwrap();
    assert!(matches!(code[0], Op::InitConsts), "{code:?}");
    assert!(
        !code
            .iter()
            .any(|op| matches!(op, Op::Const32 { .. } | Op::Const64 { .. })),
        "{code:?}"
    );
    let code = m.code(1).unwrap();
    assert!(
        !code.iter().any(|op| matches!(op, Op::InitConsts)),
        "{code:?}"
    );
}
