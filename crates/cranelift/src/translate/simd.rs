//! Translation of the fixed-width SIMD proposal's (Wasm 2.0) non-memory
//! operators into Cranelift IR.
//!
//! # Operand-stack convention
//!
//! Every `v128` on the operand stack is a CLIF value of type `I8X16`, whatever
//! the operator that produced it thought the lanes were. An operator pops its
//! vectors, reinterprets them as the lane type it works on (`I16X8`, `F32X4`,
//! ...), computes, and reinterprets the result back to `I8X16` before pushing
//! it. Keeping a single type means block parameters, locals and `select` never
//! need to know the lane shape, and the reinterpretations are free on
//! little-endian lane orders.
//!
//! The reinterpretations are `bitcast`s flagged little-endian. On s390x with a
//! big-endian lane order, an unflagged bitcast between vectors of different
//! lane counts would renumber lanes; the flag pins the byte layout to the one
//! wasm specifies (lane 0 in the lowest-addressed bytes), so lane indices in
//! `extractlane`, `insertlane` and `shuffle` always mean wasm lane indices.
//!
//! # Scope
//!
//! `v128.const`, every SIMD memory operator and `select` belong to the core
//! translator; [`translate_simd_op`] returns `Ok(false)` for them, as it does
//! for relaxed SIMD and for anything that is not a SIMD operator.
//!
//! # Where CLIF and wasm semantics meet
//!
//! Most operators map onto one CLIF instruction whose definition matches the
//! wasm one exactly; the comments at each arm say why that holds when it is not
//! obvious. The few operators that need a sequence are built in the shape the
//! backends pattern-match (for example the dot product and the `_zero`
//! truncations), so they still become one or two machine instructions where the
//! ISA has them, while remaining correct on ISAs that lower each step alone.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I8, I8X16, I16, I16X8, I32, I32X4, I64X2};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::Operator;

/// Translates one SIMD operator that does not touch memory. Returns Ok(false) if `op` is not such an operator.
pub(crate) fn translate_simd_op(
    op: &wasmparser::Operator<'_>,
    builder: &mut cranelift_frontend::FunctionBuilder<'_>,
    stack: &mut Vec<cranelift_codegen::ir::Value>,
) -> Result<bool, crate::CompileError> {
    let b = builder;
    let s = stack;
    match *op {
        // ---- Lane construction and access ------------------------------------------
        //
        // Wasm passes i8/i16 lanes as i32 scalars; CLIF lanes are the real
        // width, so the scalar is truncated first (wasm ignores the high bits).
        Operator::I8x16Splat => splat(b, s, I8X16),
        Operator::I16x8Splat => splat(b, s, I16X8),
        Operator::I32x4Splat => splat(b, s, I32X4),
        Operator::I64x2Splat => splat(b, s, I64X2),
        Operator::F32x4Splat => splat(b, s, F32X4),
        Operator::F64x2Splat => splat(b, s, F64X2),

        Operator::I8x16ExtractLaneS { lane } => extract(b, s, I8X16, lane, Some(Sign::Signed)),
        Operator::I8x16ExtractLaneU { lane } => extract(b, s, I8X16, lane, Some(Sign::Unsigned)),
        Operator::I16x8ExtractLaneS { lane } => extract(b, s, I16X8, lane, Some(Sign::Signed)),
        Operator::I16x8ExtractLaneU { lane } => extract(b, s, I16X8, lane, Some(Sign::Unsigned)),
        Operator::I32x4ExtractLane { lane } => extract(b, s, I32X4, lane, None),
        Operator::I64x2ExtractLane { lane } => extract(b, s, I64X2, lane, None),
        Operator::F32x4ExtractLane { lane } => extract(b, s, F32X4, lane, None),
        Operator::F64x2ExtractLane { lane } => extract(b, s, F64X2, lane, None),

        Operator::I8x16ReplaceLane { lane } => replace(b, s, I8X16, lane),
        Operator::I16x8ReplaceLane { lane } => replace(b, s, I16X8, lane),
        Operator::I32x4ReplaceLane { lane } => replace(b, s, I32X4, lane),
        Operator::I64x2ReplaceLane { lane } => replace(b, s, I64X2, lane),
        Operator::F32x4ReplaceLane { lane } => replace(b, s, F32X4, lane),
        Operator::F64x2ReplaceLane { lane } => replace(b, s, F64X2, lane),

        Operator::I8x16Shuffle { lanes } => {
            // Validation guarantees every index is below 32, which is exactly
            // the domain of CLIF's immediate-mask `shuffle`, and both number
            // lanes of the first operand 0..16 and of the second 16..32.
            let (x, y) = pop2_as(b, s, I8X16);
            let mask = b
                .func
                .dfg
                .immediates
                .push(ConstantData::from(lanes.to_vec()));
            let r = b.ins().shuffle(x, y, mask);
            push_vec(b, s, r);
        }
        // CLIF `swizzle` yields 0 for any index outside 0..=15, which is the
        // wasm rule too (out-of-range selectors, including ones >= 128, give 0).
        Operator::I8x16Swizzle => binary(b, s, I8X16, |b, x, y| b.ins().swizzle(x, y)),

        // ---- Comparisons -------------------------------------------------------------
        //
        // CLIF vector `icmp` produces all-ones / all-zeros lanes of the
        // operand's type, the wasm result format.
        Operator::I8x16Eq => icmp(b, s, I8X16, IntCC::Equal),
        Operator::I8x16Ne => icmp(b, s, I8X16, IntCC::NotEqual),
        Operator::I8x16LtS => icmp(b, s, I8X16, IntCC::SignedLessThan),
        Operator::I8x16LtU => icmp(b, s, I8X16, IntCC::UnsignedLessThan),
        Operator::I8x16GtS => icmp(b, s, I8X16, IntCC::SignedGreaterThan),
        Operator::I8x16GtU => icmp(b, s, I8X16, IntCC::UnsignedGreaterThan),
        Operator::I8x16LeS => icmp(b, s, I8X16, IntCC::SignedLessThanOrEqual),
        Operator::I8x16LeU => icmp(b, s, I8X16, IntCC::UnsignedLessThanOrEqual),
        Operator::I8x16GeS => icmp(b, s, I8X16, IntCC::SignedGreaterThanOrEqual),
        Operator::I8x16GeU => icmp(b, s, I8X16, IntCC::UnsignedGreaterThanOrEqual),
        Operator::I16x8Eq => icmp(b, s, I16X8, IntCC::Equal),
        Operator::I16x8Ne => icmp(b, s, I16X8, IntCC::NotEqual),
        Operator::I16x8LtS => icmp(b, s, I16X8, IntCC::SignedLessThan),
        Operator::I16x8LtU => icmp(b, s, I16X8, IntCC::UnsignedLessThan),
        Operator::I16x8GtS => icmp(b, s, I16X8, IntCC::SignedGreaterThan),
        Operator::I16x8GtU => icmp(b, s, I16X8, IntCC::UnsignedGreaterThan),
        Operator::I16x8LeS => icmp(b, s, I16X8, IntCC::SignedLessThanOrEqual),
        Operator::I16x8LeU => icmp(b, s, I16X8, IntCC::UnsignedLessThanOrEqual),
        Operator::I16x8GeS => icmp(b, s, I16X8, IntCC::SignedGreaterThanOrEqual),
        Operator::I16x8GeU => icmp(b, s, I16X8, IntCC::UnsignedGreaterThanOrEqual),
        Operator::I32x4Eq => icmp(b, s, I32X4, IntCC::Equal),
        Operator::I32x4Ne => icmp(b, s, I32X4, IntCC::NotEqual),
        Operator::I32x4LtS => icmp(b, s, I32X4, IntCC::SignedLessThan),
        Operator::I32x4LtU => icmp(b, s, I32X4, IntCC::UnsignedLessThan),
        Operator::I32x4GtS => icmp(b, s, I32X4, IntCC::SignedGreaterThan),
        Operator::I32x4GtU => icmp(b, s, I32X4, IntCC::UnsignedGreaterThan),
        Operator::I32x4LeS => icmp(b, s, I32X4, IntCC::SignedLessThanOrEqual),
        Operator::I32x4LeU => icmp(b, s, I32X4, IntCC::UnsignedLessThanOrEqual),
        Operator::I32x4GeS => icmp(b, s, I32X4, IntCC::SignedGreaterThanOrEqual),
        Operator::I32x4GeU => icmp(b, s, I32X4, IntCC::UnsignedGreaterThanOrEqual),
        Operator::I64x2Eq => icmp(b, s, I64X2, IntCC::Equal),
        Operator::I64x2Ne => icmp(b, s, I64X2, IntCC::NotEqual),
        Operator::I64x2LtS => icmp(b, s, I64X2, IntCC::SignedLessThan),
        Operator::I64x2GtS => icmp(b, s, I64X2, IntCC::SignedGreaterThan),
        Operator::I64x2LeS => icmp(b, s, I64X2, IntCC::SignedLessThanOrEqual),
        Operator::I64x2GeS => icmp(b, s, I64X2, IntCC::SignedGreaterThanOrEqual),

        // Wasm float comparisons are ordered except `ne`, which is true for
        // unordered operands. CLIF's `Equal`/`LessThan`/... are the ordered
        // forms and `NotEqual` is the unordered-or-unequal form, so each maps
        // one to one. The result is an integer vector of the same lane width.
        Operator::F32x4Eq => fcmp(b, s, F32X4, FloatCC::Equal),
        Operator::F32x4Ne => fcmp(b, s, F32X4, FloatCC::NotEqual),
        Operator::F32x4Lt => fcmp(b, s, F32X4, FloatCC::LessThan),
        Operator::F32x4Gt => fcmp(b, s, F32X4, FloatCC::GreaterThan),
        Operator::F32x4Le => fcmp(b, s, F32X4, FloatCC::LessThanOrEqual),
        Operator::F32x4Ge => fcmp(b, s, F32X4, FloatCC::GreaterThanOrEqual),
        Operator::F64x2Eq => fcmp(b, s, F64X2, FloatCC::Equal),
        Operator::F64x2Ne => fcmp(b, s, F64X2, FloatCC::NotEqual),
        Operator::F64x2Lt => fcmp(b, s, F64X2, FloatCC::LessThan),
        Operator::F64x2Gt => fcmp(b, s, F64X2, FloatCC::GreaterThan),
        Operator::F64x2Le => fcmp(b, s, F64X2, FloatCC::LessThanOrEqual),
        Operator::F64x2Ge => fcmp(b, s, F64X2, FloatCC::GreaterThanOrEqual),

        // ---- Bitwise -----------------------------------------------------------------
        Operator::V128Not => unary(b, s, I8X16, |b, x| b.ins().bnot(x)),
        Operator::V128And => binary(b, s, I8X16, |b, x, y| b.ins().band(x, y)),
        // Wasm's `andnot(a, b)` is `a & !b`; `band_not` computes `x & !y`.
        Operator::V128AndNot => binary(b, s, I8X16, |b, x, y| b.ins().band_not(x, y)),
        Operator::V128Or => binary(b, s, I8X16, |b, x, y| b.ins().bor(x, y)),
        Operator::V128Xor => binary(b, s, I8X16, |b, x, y| b.ins().bxor(x, y)),
        Operator::V128Bitselect => {
            // Wasm's operand order is (v1, v2, mask) with the mask on top;
            // CLIF takes the mask first. Ones in the mask pick v1.
            let mask = pop_as(b, s, I8X16);
            let (v1, v2) = pop2_as(b, s, I8X16);
            let r = b.ins().bitselect(mask, v1, v2);
            push_vec(b, s, r);
        }
        Operator::V128AnyTrue => {
            // Any non-zero bit is a non-zero byte, so the byte view suffices.
            let x = pop_as(b, s, I8X16);
            let t = b.ins().vany_true(x);
            let r = b.ins().uextend(I32, t);
            s.push(r);
        }
        // `all_true` has to look at whole lanes (a lane is true when any of
        // its bytes is), so it runs on the operator's own lane type.
        Operator::I8x16AllTrue => all_true(b, s, I8X16),
        Operator::I16x8AllTrue => all_true(b, s, I16X8),
        Operator::I32x4AllTrue => all_true(b, s, I32X4),
        Operator::I64x2AllTrue => all_true(b, s, I64X2),
        // `vhigh_bits` gathers each lane's top bit with lane 0 in bit 0, which
        // is wasm's `bitmask`; the unused high bits of the i32 are zero.
        Operator::I8x16Bitmask => bitmask(b, s, I8X16),
        Operator::I16x8Bitmask => bitmask(b, s, I16X8),
        Operator::I32x4Bitmask => bitmask(b, s, I32X4),
        Operator::I64x2Bitmask => bitmask(b, s, I64X2),

        // ---- Integer arithmetic ------------------------------------------------------
        Operator::I8x16Add => binary(b, s, I8X16, |b, x, y| b.ins().iadd(x, y)),
        Operator::I16x8Add => binary(b, s, I16X8, |b, x, y| b.ins().iadd(x, y)),
        Operator::I32x4Add => binary(b, s, I32X4, |b, x, y| b.ins().iadd(x, y)),
        Operator::I64x2Add => binary(b, s, I64X2, |b, x, y| b.ins().iadd(x, y)),
        Operator::I8x16Sub => binary(b, s, I8X16, |b, x, y| b.ins().isub(x, y)),
        Operator::I16x8Sub => binary(b, s, I16X8, |b, x, y| b.ins().isub(x, y)),
        Operator::I32x4Sub => binary(b, s, I32X4, |b, x, y| b.ins().isub(x, y)),
        Operator::I64x2Sub => binary(b, s, I64X2, |b, x, y| b.ins().isub(x, y)),
        Operator::I16x8Mul => binary(b, s, I16X8, |b, x, y| b.ins().imul(x, y)),
        Operator::I32x4Mul => binary(b, s, I32X4, |b, x, y| b.ins().imul(x, y)),
        Operator::I64x2Mul => binary(b, s, I64X2, |b, x, y| b.ins().imul(x, y)),
        Operator::I8x16Neg => unary(b, s, I8X16, |b, x| b.ins().ineg(x)),
        Operator::I16x8Neg => unary(b, s, I16X8, |b, x| b.ins().ineg(x)),
        Operator::I32x4Neg => unary(b, s, I32X4, |b, x| b.ins().ineg(x)),
        Operator::I64x2Neg => unary(b, s, I64X2, |b, x| b.ins().ineg(x)),
        // CLIF `iabs` wraps (|MIN| = MIN), exactly like wasm's `abs`.
        Operator::I8x16Abs => unary(b, s, I8X16, |b, x| b.ins().iabs(x)),
        Operator::I16x8Abs => unary(b, s, I16X8, |b, x| b.ins().iabs(x)),
        Operator::I32x4Abs => unary(b, s, I32X4, |b, x| b.ins().iabs(x)),
        Operator::I64x2Abs => unary(b, s, I64X2, |b, x| b.ins().iabs(x)),
        Operator::I8x16Popcnt => unary(b, s, I8X16, |b, x| b.ins().popcnt(x)),

        Operator::I8x16AddSatS => binary(b, s, I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
        Operator::I8x16AddSatU => binary(b, s, I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
        Operator::I8x16SubSatS => binary(b, s, I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
        Operator::I8x16SubSatU => binary(b, s, I8X16, |b, x, y| b.ins().usub_sat(x, y)),
        Operator::I16x8AddSatS => binary(b, s, I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
        Operator::I16x8AddSatU => binary(b, s, I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
        Operator::I16x8SubSatS => binary(b, s, I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
        Operator::I16x8SubSatU => binary(b, s, I16X8, |b, x, y| b.ins().usub_sat(x, y)),

        Operator::I8x16MinS => binary(b, s, I8X16, |b, x, y| b.ins().smin(x, y)),
        Operator::I8x16MinU => binary(b, s, I8X16, |b, x, y| b.ins().umin(x, y)),
        Operator::I8x16MaxS => binary(b, s, I8X16, |b, x, y| b.ins().smax(x, y)),
        Operator::I8x16MaxU => binary(b, s, I8X16, |b, x, y| b.ins().umax(x, y)),
        Operator::I16x8MinS => binary(b, s, I16X8, |b, x, y| b.ins().smin(x, y)),
        Operator::I16x8MinU => binary(b, s, I16X8, |b, x, y| b.ins().umin(x, y)),
        Operator::I16x8MaxS => binary(b, s, I16X8, |b, x, y| b.ins().smax(x, y)),
        Operator::I16x8MaxU => binary(b, s, I16X8, |b, x, y| b.ins().umax(x, y)),
        Operator::I32x4MinS => binary(b, s, I32X4, |b, x, y| b.ins().smin(x, y)),
        Operator::I32x4MinU => binary(b, s, I32X4, |b, x, y| b.ins().umin(x, y)),
        Operator::I32x4MaxS => binary(b, s, I32X4, |b, x, y| b.ins().smax(x, y)),
        Operator::I32x4MaxU => binary(b, s, I32X4, |b, x, y| b.ins().umax(x, y)),

        // `avg_round` is defined as (x + y + 1) >> 1 without intermediate
        // overflow, on unsigned lanes: wasm's `avgr_u`.
        Operator::I8x16AvgrU => binary(b, s, I8X16, |b, x, y| b.ins().avg_round(x, y)),
        Operator::I16x8AvgrU => binary(b, s, I16X8, |b, x, y| b.ins().avg_round(x, y)),

        // `sqmul_round_sat` on i16 lanes is sat16((x * y + 2^14) >> 15), the
        // Q15 definition wasm uses; only -32768 * -32768 saturates, in both.
        Operator::I16x8Q15MulrSatS => binary(b, s, I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y)),

        // ---- Shifts ------------------------------------------------------------------
        //
        // Wasm takes the i32 count modulo the lane width. CLIF defines vector
        // `ishl`/`ushr`/`sshr` the same way (the count is reduced modulo the
        // lane's bit width, and every backend emits that masking itself), so
        // no explicit `band` is needed; adding one would only duplicate it.
        Operator::I8x16Shl => shift(b, s, I8X16, |b, x, n| b.ins().ishl(x, n)),
        Operator::I8x16ShrS => shift(b, s, I8X16, |b, x, n| b.ins().sshr(x, n)),
        Operator::I8x16ShrU => shift(b, s, I8X16, |b, x, n| b.ins().ushr(x, n)),
        Operator::I16x8Shl => shift(b, s, I16X8, |b, x, n| b.ins().ishl(x, n)),
        Operator::I16x8ShrS => shift(b, s, I16X8, |b, x, n| b.ins().sshr(x, n)),
        Operator::I16x8ShrU => shift(b, s, I16X8, |b, x, n| b.ins().ushr(x, n)),
        Operator::I32x4Shl => shift(b, s, I32X4, |b, x, n| b.ins().ishl(x, n)),
        Operator::I32x4ShrS => shift(b, s, I32X4, |b, x, n| b.ins().sshr(x, n)),
        Operator::I32x4ShrU => shift(b, s, I32X4, |b, x, n| b.ins().ushr(x, n)),
        Operator::I64x2Shl => shift(b, s, I64X2, |b, x, n| b.ins().ishl(x, n)),
        Operator::I64x2ShrS => shift(b, s, I64X2, |b, x, n| b.ins().sshr(x, n)),
        Operator::I64x2ShrU => shift(b, s, I64X2, |b, x, n| b.ins().ushr(x, n)),

        // ---- Narrowing and widening --------------------------------------------------
        //
        // `snarrow`/`unarrow` both read the inputs as signed and saturate to
        // the signed / unsigned range of the half-width lane, with the first
        // operand's lanes in the low half: wasm's `narrow_*_s` / `narrow_*_u`.
        Operator::I8x16NarrowI16x8S => binary(b, s, I16X8, |b, x, y| b.ins().snarrow(x, y)),
        Operator::I8x16NarrowI16x8U => binary(b, s, I16X8, |b, x, y| b.ins().unarrow(x, y)),
        Operator::I16x8NarrowI32x4S => binary(b, s, I32X4, |b, x, y| b.ins().snarrow(x, y)),
        Operator::I16x8NarrowI32x4U => binary(b, s, I32X4, |b, x, y| b.ins().unarrow(x, y)),

        Operator::I16x8ExtendLowI8x16S => unary(b, s, I8X16, |b, x| b.ins().swiden_low(x)),
        Operator::I16x8ExtendHighI8x16S => unary(b, s, I8X16, |b, x| b.ins().swiden_high(x)),
        Operator::I16x8ExtendLowI8x16U => unary(b, s, I8X16, |b, x| b.ins().uwiden_low(x)),
        Operator::I16x8ExtendHighI8x16U => unary(b, s, I8X16, |b, x| b.ins().uwiden_high(x)),
        Operator::I32x4ExtendLowI16x8S => unary(b, s, I16X8, |b, x| b.ins().swiden_low(x)),
        Operator::I32x4ExtendHighI16x8S => unary(b, s, I16X8, |b, x| b.ins().swiden_high(x)),
        Operator::I32x4ExtendLowI16x8U => unary(b, s, I16X8, |b, x| b.ins().uwiden_low(x)),
        Operator::I32x4ExtendHighI16x8U => unary(b, s, I16X8, |b, x| b.ins().uwiden_high(x)),
        Operator::I64x2ExtendLowI32x4S => unary(b, s, I32X4, |b, x| b.ins().swiden_low(x)),
        Operator::I64x2ExtendHighI32x4S => unary(b, s, I32X4, |b, x| b.ins().swiden_high(x)),
        Operator::I64x2ExtendLowI32x4U => unary(b, s, I32X4, |b, x| b.ins().uwiden_low(x)),
        Operator::I64x2ExtendHighI32x4U => unary(b, s, I32X4, |b, x| b.ins().uwiden_high(x)),

        // Extended multiplies: widen both halves, then multiply in the wide
        // type, where the product of two n-bit values always fits in 2n bits.
        // Backends recognise `imul` of two widens as one widening multiply.
        Operator::I16x8ExtMulLowI8x16S => ext_mul(b, s, I8X16, Half::Low, Sign::Signed),
        Operator::I16x8ExtMulHighI8x16S => ext_mul(b, s, I8X16, Half::High, Sign::Signed),
        Operator::I16x8ExtMulLowI8x16U => ext_mul(b, s, I8X16, Half::Low, Sign::Unsigned),
        Operator::I16x8ExtMulHighI8x16U => ext_mul(b, s, I8X16, Half::High, Sign::Unsigned),
        Operator::I32x4ExtMulLowI16x8S => ext_mul(b, s, I16X8, Half::Low, Sign::Signed),
        Operator::I32x4ExtMulHighI16x8S => ext_mul(b, s, I16X8, Half::High, Sign::Signed),
        Operator::I32x4ExtMulLowI16x8U => ext_mul(b, s, I16X8, Half::Low, Sign::Unsigned),
        Operator::I32x4ExtMulHighI16x8U => ext_mul(b, s, I16X8, Half::High, Sign::Unsigned),
        Operator::I64x2ExtMulLowI32x4S => ext_mul(b, s, I32X4, Half::Low, Sign::Signed),
        Operator::I64x2ExtMulHighI32x4S => ext_mul(b, s, I32X4, Half::High, Sign::Signed),
        Operator::I64x2ExtMulLowI32x4U => ext_mul(b, s, I32X4, Half::Low, Sign::Unsigned),
        Operator::I64x2ExtMulHighI32x4U => ext_mul(b, s, I32X4, Half::High, Sign::Unsigned),

        // `iadd_pairwise(x, y)` adds adjacent lanes of x into the low half of
        // the result and of y into the high half. Wasm's extadd_pairwise
        // sums adjacent lanes of one vector after widening them; widening the
        // low and high halves separately and pairing those gives the same
        // lanes in the same order, because adjacent pairs never straddle the
        // middle. The sums cannot overflow the doubled width.
        Operator::I16x8ExtAddPairwiseI8x16S => ext_add_pairwise(b, s, I8X16, Sign::Signed),
        Operator::I16x8ExtAddPairwiseI8x16U => ext_add_pairwise(b, s, I8X16, Sign::Unsigned),
        Operator::I32x4ExtAddPairwiseI16x8S => ext_add_pairwise(b, s, I16X8, Sign::Signed),
        Operator::I32x4ExtAddPairwiseI16x8U => ext_add_pairwise(b, s, I16X8, Sign::Unsigned),

        Operator::I32x4DotI16x8S => {
            // dot(a, b)[i] = a[2i]*b[2i] + a[2i+1]*b[2i+1], with i32 wrapping
            // (only (-32768)^2 * 2 overflows, and wasm wraps it too). This is
            // the full-width products of each half, summed pairwise; the
            // shape is the one x86 folds into a single `pmaddwd`.
            let (x, y) = pop2_as(b, s, I16X8);
            let xl = b.ins().swiden_low(x);
            let yl = b.ins().swiden_low(y);
            let lo = b.ins().imul(xl, yl);
            let xh = b.ins().swiden_high(x);
            let yh = b.ins().swiden_high(y);
            let hi = b.ins().imul(xh, yh);
            let r = b.ins().iadd_pairwise(lo, hi);
            push_vec(b, s, r);
        }

        // ---- Float arithmetic --------------------------------------------------------
        Operator::F32x4Add => binary(b, s, F32X4, |b, x, y| b.ins().fadd(x, y)),
        Operator::F32x4Sub => binary(b, s, F32X4, |b, x, y| b.ins().fsub(x, y)),
        Operator::F32x4Mul => binary(b, s, F32X4, |b, x, y| b.ins().fmul(x, y)),
        Operator::F32x4Div => binary(b, s, F32X4, |b, x, y| b.ins().fdiv(x, y)),
        Operator::F64x2Add => binary(b, s, F64X2, |b, x, y| b.ins().fadd(x, y)),
        Operator::F64x2Sub => binary(b, s, F64X2, |b, x, y| b.ins().fsub(x, y)),
        Operator::F64x2Mul => binary(b, s, F64X2, |b, x, y| b.ins().fmul(x, y)),
        Operator::F64x2Div => binary(b, s, F64X2, |b, x, y| b.ins().fdiv(x, y)),
        Operator::F32x4Sqrt => unary(b, s, F32X4, |b, x| b.ins().sqrt(x)),
        Operator::F64x2Sqrt => unary(b, s, F64X2, |b, x| b.ins().sqrt(x)),
        // `fabs`/`fneg` only touch the sign bit, NaN payload included, which
        // is what wasm requires of these two (they are not arithmetic ops).
        Operator::F32x4Abs => unary(b, s, F32X4, |b, x| b.ins().fabs(x)),
        Operator::F32x4Neg => unary(b, s, F32X4, |b, x| b.ins().fneg(x)),
        Operator::F64x2Abs => unary(b, s, F64X2, |b, x| b.ins().fabs(x)),
        Operator::F64x2Neg => unary(b, s, F64X2, |b, x| b.ins().fneg(x)),
        Operator::F32x4Ceil => unary(b, s, F32X4, |b, x| b.ins().ceil(x)),
        Operator::F32x4Floor => unary(b, s, F32X4, |b, x| b.ins().floor(x)),
        Operator::F32x4Trunc => unary(b, s, F32X4, |b, x| b.ins().trunc(x)),
        // CLIF `nearest` rounds half to even, as wasm's `nearest` does.
        Operator::F32x4Nearest => unary(b, s, F32X4, |b, x| b.ins().nearest(x)),
        Operator::F64x2Ceil => unary(b, s, F64X2, |b, x| b.ins().ceil(x)),
        Operator::F64x2Floor => unary(b, s, F64X2, |b, x| b.ins().floor(x)),
        Operator::F64x2Trunc => unary(b, s, F64X2, |b, x| b.ins().trunc(x)),
        Operator::F64x2Nearest => unary(b, s, F64X2, |b, x| b.ins().nearest(x)),

        // CLIF `fmin`/`fmax` are specified with wasm's rules: NaN in, NaN
        // out (canonical when the inputs are canonical) and -0 < +0. The
        // backends honour that even where the native instruction does not
        // (x86 `minps` returns the second operand for NaN and for ±0 ties),
        // so these must not be replaced by the pseudo-min form below.
        Operator::F32x4Min => binary(b, s, F32X4, |b, x, y| b.ins().fmin(x, y)),
        Operator::F32x4Max => binary(b, s, F32X4, |b, x, y| b.ins().fmax(x, y)),
        Operator::F64x2Min => binary(b, s, F64X2, |b, x, y| b.ins().fmin(x, y)),
        Operator::F64x2Max => binary(b, s, F64X2, |b, x, y| b.ins().fmax(x, y)),
        Operator::F32x4PMin => pseudo_min_max(b, s, F32X4, MinMax::Min),
        Operator::F32x4PMax => pseudo_min_max(b, s, F32X4, MinMax::Max),
        Operator::F64x2PMin => pseudo_min_max(b, s, F64X2, MinMax::Min),
        Operator::F64x2PMax => pseudo_min_max(b, s, F64X2, MinMax::Max),

        // ---- Conversions -------------------------------------------------------------
        //
        // Vector `fcvt_to_*_sat` saturates out-of-range lanes and maps NaN to
        // 0, the definition of wasm's `trunc_sat`.
        Operator::I32x4TruncSatF32x4S => {
            unary(b, s, F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
        }
        Operator::I32x4TruncSatF32x4U => {
            unary(b, s, F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
        }
        Operator::I32x4TruncSatF64x2SZero => trunc_sat_f64x2_zero(b, s, Sign::Signed),
        Operator::I32x4TruncSatF64x2UZero => trunc_sat_f64x2_zero(b, s, Sign::Unsigned),
        // Conversions from integer round to nearest, ties to even, as wasm's.
        Operator::F32x4ConvertI32x4S => unary(b, s, I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
        Operator::F32x4ConvertI32x4U => unary(b, s, I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
        // Only the two low i32 lanes are converted. Every i32 is exact in an
        // f64, so widening to i64 first changes nothing numerically; it gives
        // CLIF the lane-count-preserving conversion it requires, and the
        // widen-then-convert pair is what backends fold to `cvtdq2pd` & co.
        Operator::F64x2ConvertLowI32x4S => unary(b, s, I32X4, |b, x| {
            let wide = b.ins().swiden_low(x);
            b.ins().fcvt_from_sint(F64X2, wide)
        }),
        Operator::F64x2ConvertLowI32x4U => unary(b, s, I32X4, |b, x| {
            let wide = b.ins().uwiden_low(x);
            b.ins().fcvt_from_uint(F64X2, wide)
        }),
        // `fvdemote` rounds to nearest-even and zeroes the two upper lanes:
        // wasm's `demote_f64x2_zero`. `fvpromote_low` widens lanes 0 and 1.
        Operator::F32x4DemoteF64x2Zero => unary(b, s, F64X2, |b, x| b.ins().fvdemote(x)),
        Operator::F64x2PromoteLowF32x4 => unary(b, s, F32X4, |b, x| b.ins().fvpromote_low(x)),

        // ---- Left to the core translator -----------------------------------------
        Operator::V128Const { .. }
        | Operator::V128Load { .. }
        | Operator::V128Load8x8S { .. }
        | Operator::V128Load8x8U { .. }
        | Operator::V128Load16x4S { .. }
        | Operator::V128Load16x4U { .. }
        | Operator::V128Load32x2S { .. }
        | Operator::V128Load32x2U { .. }
        | Operator::V128Load8Splat { .. }
        | Operator::V128Load16Splat { .. }
        | Operator::V128Load32Splat { .. }
        | Operator::V128Load64Splat { .. }
        | Operator::V128Load32Zero { .. }
        | Operator::V128Load64Zero { .. }
        | Operator::V128Store { .. }
        | Operator::V128Load8Lane { .. }
        | Operator::V128Load16Lane { .. }
        | Operator::V128Load32Lane { .. }
        | Operator::V128Load64Lane { .. }
        | Operator::V128Store8Lane { .. }
        | Operator::V128Store16Lane { .. }
        | Operator::V128Store32Lane { .. }
        | Operator::V128Store64Lane { .. } => return Ok(false),

        // Relaxed SIMD and every non-SIMD operator.
        _ => return Ok(false),
    }
    Ok(true)
}

/// Whether an operator reads its integer lanes as signed or unsigned.
#[derive(Clone, Copy)]
enum Sign {
    Signed,
    Unsigned,
}

/// Which half of a vector's lanes an operator reads.
#[derive(Clone, Copy)]
enum Half {
    Low,
    High,
}

/// Which of the pseudo-min/max operators is being built.
#[derive(Clone, Copy)]
enum MinMax {
    Min,
    Max,
}

/// Flags for every vector reinterpretation: little-endian, so the byte
/// layout is wasm's on every lane order (see the module docs).
fn le_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// Reinterprets a 128-bit vector as `ty`, or returns it as is if it already
/// has that type (a same-type bitcast would be a wasted instruction).
pub(super) fn cast(b: &mut FunctionBuilder<'_>, v: Value, ty: Type) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, le_flags(), v)
    }
}

/// Pops one operand. The module has been validated and the core translator
/// keeps the stack in step with the validator, so an empty stack here is a
/// translator bug, not bad input.
fn pop(s: &mut Vec<Value>) -> Value {
    s.pop()
        .expect("SIMD operator popped an empty operand stack; the module was validated")
}

fn pop_as(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type) -> Value {
    let v = pop(s);
    cast(b, v, ty)
}

/// Pops two vectors, returning them in wasm operand order (first, second).
fn pop2_as(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type) -> (Value, Value) {
    let y = pop_as(b, s, ty);
    let x = pop_as(b, s, ty);
    (x, y)
}

/// Pushes a vector result in the stack's canonical `I8X16` form.
fn push_vec(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, v: Value) {
    let v = cast(b, v, I8X16);
    s.push(v);
}

fn unary(
    b: &mut FunctionBuilder<'_>,
    s: &mut Vec<Value>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value) -> Value,
) {
    let x = pop_as(b, s, ty);
    let r = f(b, x);
    push_vec(b, s, r);
}

fn binary(
    b: &mut FunctionBuilder<'_>,
    s: &mut Vec<Value>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) {
    let (x, y) = pop2_as(b, s, ty);
    let r = f(b, x, y);
    push_vec(b, s, r);
}

/// A shift: the count is an i32 scalar on top, the vector below it.
fn shift(
    b: &mut FunctionBuilder<'_>,
    s: &mut Vec<Value>,
    ty: Type,
    f: impl FnOnce(&mut FunctionBuilder<'_>, Value, Value) -> Value,
) {
    let count = pop(s);
    let x = pop_as(b, s, ty);
    let r = f(b, x, count);
    push_vec(b, s, r);
}

fn icmp(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, cc: IntCC) {
    binary(b, s, ty, |b, x, y| b.ins().icmp(cc, x, y));
}

fn fcmp(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, cc: FloatCC) {
    binary(b, s, ty, |b, x, y| b.ins().fcmp(cc, x, y));
}

/// The scalar CLIF type of one lane, and the wasm scalar that carries it.
fn lane_types(ty: Type) -> (Type, Type) {
    let lane = ty.lane_type();
    let wasm = if lane == I8 || lane == I16 { I32 } else { lane };
    (lane, wasm)
}

fn splat(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type) {
    let (lane, wasm) = lane_types(ty);
    let mut x = pop(s);
    if lane != wasm {
        x = b.ins().ireduce(lane, x);
    }
    let r = b.ins().splat(ty, x);
    push_vec(b, s, r);
}

/// `extract_lane`; `ext` says how an i8/i16 lane is extended to the i32
/// wasm returns (`None` for lanes that already have the scalar's width).
fn extract(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, lane: u8, ext: Option<Sign>) {
    let (_, wasm) = lane_types(ty);
    let v = pop_as(b, s, ty);
    let x = b.ins().extractlane(v, lane);
    let r = match ext {
        None => x,
        Some(Sign::Signed) => b.ins().sextend(wasm, x),
        Some(Sign::Unsigned) => b.ins().uextend(wasm, x),
    };
    s.push(r);
}

fn replace(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, lane: u8) {
    let (lane_ty, wasm) = lane_types(ty);
    let mut x = pop(s);
    let v = pop_as(b, s, ty);
    if lane_ty != wasm {
        x = b.ins().ireduce(lane_ty, x);
    }
    let r = b.ins().insertlane(v, x, lane);
    push_vec(b, s, r);
}

fn all_true(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type) {
    let v = pop_as(b, s, ty);
    let t = b.ins().vall_true(v);
    let r = b.ins().uextend(I32, t);
    s.push(r);
}

fn bitmask(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type) {
    let v = pop_as(b, s, ty);
    let r = b.ins().vhigh_bits(I32, v);
    s.push(r);
}

/// Widens one half of `x`'s lanes to double width.
fn widen(b: &mut FunctionBuilder<'_>, x: Value, half: Half, sign: Sign) -> Value {
    match (half, sign) {
        (Half::Low, Sign::Signed) => b.ins().swiden_low(x),
        (Half::High, Sign::Signed) => b.ins().swiden_high(x),
        (Half::Low, Sign::Unsigned) => b.ins().uwiden_low(x),
        (Half::High, Sign::Unsigned) => b.ins().uwiden_high(x),
    }
}

/// `extmul_{low,high}`: `ty` is the narrow input type.
fn ext_mul(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, half: Half, sign: Sign) {
    let (x, y) = pop2_as(b, s, ty);
    let xw = widen(b, x, half, sign);
    let yw = widen(b, y, half, sign);
    let r = b.ins().imul(xw, yw);
    push_vec(b, s, r);
}

/// `extadd_pairwise`: `ty` is the narrow input type.
fn ext_add_pairwise(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, sign: Sign) {
    let x = pop_as(b, s, ty);
    let lo = widen(b, x, Half::Low, sign);
    let hi = widen(b, x, Half::High, sign);
    let r = b.ins().iadd_pairwise(lo, hi);
    push_vec(b, s, r);
}

/// Wasm's pseudo-min/max are defined by a single ordered comparison:
/// `pmin(a, b) = b < a ? b : a` and `pmax(a, b) = a < b ? b : a`. With a NaN
/// or a pair of zeros the comparison is false and `a` comes back unchanged,
/// which `fmin`/`fmax` would not do, so they get their own lowering: an
/// `fcmp` feeding a `bitselect`. That shape is the one the backends turn into
/// the native `minps`/`maxps`-style instructions whose semantics it is.
fn pseudo_min_max(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, ty: Type, which: MinMax) {
    let (x, y) = pop2_as(b, s, ty);
    let lt = match which {
        MinMax::Min => b.ins().fcmp(FloatCC::LessThan, y, x),
        MinMax::Max => b.ins().fcmp(FloatCC::LessThan, x, y),
    };
    let mask = cast(b, lt, ty);
    let r = b.ins().bitselect(mask, y, x);
    push_vec(b, s, r);
}

/// `i32x4.trunc_sat_f64x2_{s,u}_zero`: saturate each f64 to a 64-bit
/// integer, then narrow with saturation against a zero vector, so lanes 2
/// and 3 become 0. Saturating to 64 bits first loses nothing: any f64 outside
/// the i32 (u32) range is still outside it after the 64-bit saturation, and
/// NaN is already 0. The zero must be a literal `vconst` and the conversion
/// the narrow's first operand: x86 has no general 64-to-32-bit narrow and
/// only lowers this exact shape (to `cvttpd2dq`-based code).
fn trunc_sat_f64x2_zero(b: &mut FunctionBuilder<'_>, s: &mut Vec<Value>, sign: Sign) {
    let x = pop_as(b, s, F64X2);
    let zero_data = b
        .func
        .dfg
        .constants
        .insert(ConstantData::from(vec![0u8; 16]));
    let r = match sign {
        Sign::Signed => {
            let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
            let zero = b.ins().vconst(I64X2, zero_data);
            b.ins().snarrow(wide, zero)
        }
        Sign::Unsigned => {
            let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
            let zero = b.ins().vconst(I64X2, zero_data);
            b.ins().uunarrow(wide, zero)
        }
    };
    push_vec(b, s, r);
}

#[cfg(test)]
mod tests {
    //! Every operator wasmparser can decode in the 0xFD opcode space is fed to
    //! [`translate_simd_op`]. Memory operators, `v128.const` and relaxed SIMD
    //! must be declined; everything else must be handled, and the resulting
    //! function must pass the CLIF verifier and lower on every backend wasm
    //! SIMD can target, under several ISA feature levels, because a missing
    //! lowering rule only shows up as a compile error on that one target.

    use super::*;
    use cranelift_codegen::Context;
    use cranelift_codegen::control::ControlPlane;
    use cranelift_codegen::ir::types::{F32, F64, I64};
    use cranelift_codegen::ir::{AbiParam, Function, Signature, UserFuncName};
    use cranelift_codegen::isa::{self, CallConv, OwnedTargetIsa};
    use cranelift_codegen::settings::{self, Configurable};
    use cranelift_frontend::FunctionBuilderContext;
    use wasmparser::{
        BinaryReader, BlockType, ContType, FrameKind, FuncType, ModuleArity, OperatorsReader,
        RefType, SubType,
    };

    /// Operators the core translator owns: `v128.const` and all memory ops.
    const CORE_OWNED: &[&str] = &[
        "V128Const",
        "V128Load",
        "V128Load8x8S",
        "V128Load8x8U",
        "V128Load16x4S",
        "V128Load16x4U",
        "V128Load32x2S",
        "V128Load32x2U",
        "V128Load8Splat",
        "V128Load16Splat",
        "V128Load32Splat",
        "V128Load64Splat",
        "V128Load32Zero",
        "V128Load64Zero",
        "V128Store",
        "V128Load8Lane",
        "V128Load16Lane",
        "V128Load32Lane",
        "V128Load64Lane",
        "V128Store8Lane",
        "V128Store16Lane",
        "V128Store32Lane",
        "V128Store64Lane",
    ];

    /// First sub-opcode of the relaxed-SIMD proposal, which is out of scope.
    const FIRST_RELAXED: u32 = 0x100;

    /// One decoded operator with its sub-opcode and variant name.
    struct Decoded {
        opcode: u32,
        name: String,
        op: Operator<'static>,
    }

    /// Decodes every sub-opcode after the 0xFD prefix that wasmparser knows.
    /// The zero bytes after the opcode satisfy any immediate (a memarg of
    /// align 0 / offset 0, lane 0, or a 16-byte shuffle mask / constant).
    fn all_simd_operators() -> Vec<Decoded> {
        let mut out = Vec::new();
        for opcode in 0u32..0x400 {
            let mut bytes = vec![0xfd];
            let mut n = opcode;
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    bytes.push(byte);
                    break;
                }
                bytes.push(byte | 0x80);
            }
            bytes.extend_from_slice(&[0; 32]);
            // Leaked so the operators may borrow it for the whole test run.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            let mut reader = OperatorsReader::new(BinaryReader::new(bytes, 0));
            if let Ok(op) = reader.read() {
                let debug = format!("{op:?}");
                let name = debug
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap_or_default()
                    .to_string();
                out.push(Decoded { opcode, name, op });
            }
        }
        out
    }

    /// The arity query needs module context only for calls and control flow,
    /// never for SIMD operators, so an empty module answers it.
    struct NoModule;

    impl ModuleArity for NoModule {
        fn sub_type_at(&self, _: u32) -> Option<&SubType> {
            None
        }
        fn tag_type_arity(&self, _: u32) -> Option<(u32, u32)> {
            None
        }
        fn type_index_of_function(&self, _: u32) -> Option<u32> {
            None
        }
        fn func_type_of_cont_type(&self, _: &ContType) -> Option<&FuncType> {
            None
        }
        fn sub_type_of_ref_type(&self, _: &RefType) -> Option<&SubType> {
            None
        }
        fn control_stack_height(&self) -> u32 {
            0
        }
        fn label_block(&self, _: u32) -> Option<(BlockType, FrameKind)> {
            None
        }
    }

    /// The wasm scalar type that goes with a lane-shape prefix of a name.
    fn scalar_of(name: &str) -> Type {
        match &name[..5] {
            "I8x16" | "I16x8" | "I32x4" => I32,
            "I64x2" => I64,
            "F32x4" => F32,
            "F64x2" => F64,
            other => panic!("no lane shape in {other}"),
        }
    }

    /// Operand types (bottom to top) and result type of a handled operator.
    fn signature_of(name: &str, arity: u32) -> (Vec<Type>, Type) {
        let params = if name.ends_with("Splat") {
            vec![scalar_of(name)]
        } else if name.ends_with("ReplaceLane") {
            vec![I8X16, scalar_of(name)]
        } else if name.ends_with("Shl") || name.ends_with("ShrS") || name.ends_with("ShrU") {
            vec![I8X16, I32]
        } else {
            vec![I8X16; arity as usize]
        };
        assert_eq!(params.len(), arity as usize, "{name}: operand count");
        let result = if name.contains("ExtractLane") {
            scalar_of(name)
        } else if name.ends_with("AllTrue")
            || name.ends_with("AnyTrue")
            || name.ends_with("Bitmask")
        {
            I32
        } else {
            I8X16
        };
        (params, result)
    }

    /// Builds `fn(p: i64) { *p = op(*p, *(p + 16), ...) }` through the
    /// translator. Operands travel through memory rather than parameters and
    /// returns because riscv64's ABI passes no vectors in registers, and the
    /// ABI is not what these tests are about.
    fn build(op: &Operator<'_>, params: &[Type], result: Type) -> Function {
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(I64));
        let mut func = Function::with_name_signature(UserFuncName::testcase("simd"), sig);
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        b.seal_block(block);
        let ptr = b.block_params(block)[0];
        let mut stack = Vec::new();
        for (i, &ty) in params.iter().enumerate() {
            let v = b.ins().load(ty, le_flags(), ptr, 16 * i as i32);
            stack.push(v);
        }
        let handled = translate_simd_op(op, &mut b, &mut stack).expect("translation failed");
        assert!(handled, "{op:?} was declined");
        assert_eq!(stack.len(), 1, "{op:?}: wrong stack effect");
        let r = stack[0];
        assert_eq!(b.func.dfg.value_type(r), result, "{op:?}: result type");
        b.ins().store(le_flags(), r, ptr, 0);
        b.ins().return_(&[]);
        // The frontend config only matters for stack maps, which these
        // functions have none of; every target here is 64-bit anyway.
        b.finalize(target("x86_64", &[], &[]).frontend_config());
        func
    }

    /// Every handled operator, with the function built for it.
    fn handled_functions() -> Vec<(String, Function)> {
        let mut out = Vec::new();
        for d in all_simd_operators() {
            if d.opcode >= FIRST_RELAXED || CORE_OWNED.contains(&d.name.as_str()) {
                continue;
            }
            let (arity, results) = d.op.operator_arity(&NoModule).expect("SIMD arity is fixed");
            assert_eq!(results, 1, "{}", d.name);
            let (params, result) = signature_of(&d.name, arity);
            out.push((d.name.clone(), build(&d.op, &params, result)));
        }
        out
    }

    #[test]
    fn every_simd_operator_is_handled_or_declined() {
        let ops = all_simd_operators();
        let mut handled = 0;
        for d in &ops {
            let relaxed = d.opcode >= FIRST_RELAXED;
            assert_eq!(
                relaxed,
                d.name.contains("Relaxed"),
                "{} at {:#x}",
                d.name,
                d.opcode
            );
            let declined = relaxed || CORE_OWNED.contains(&d.name.as_str());

            let mut func = Function::new();
            let mut fctx = FunctionBuilderContext::new();
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            let block = b.create_block();
            b.switch_to_block(block);
            if declined {
                // A declined operator must leave the stack and function alone.
                let mut stack = Vec::new();
                let r = translate_simd_op(&d.op, &mut b, &mut stack);
                assert!(matches!(r, Ok(false)), "{} should be declined", d.name);
                assert!(b.func.dfg.num_insts() == 0, "{} emitted code", d.name);
            } else {
                handled += 1;
            }
        }
        // The whole space is decoded, not just a sample of it.
        assert!(ops.iter().any(|d| d.name == "F64x2PromoteLowF32x4"));
        assert_eq!(CORE_OWNED.len(), 23);
        assert_eq!(
            handled, 213,
            "fixed-width SIMD has 236 operators, 23 of them core-owned"
        );
        // Building each handled operator checks it is accepted with the
        // stack effect and result type wasm gives it.
        assert_eq!(handled_functions().len(), handled);
    }

    #[test]
    fn non_simd_operators_are_declined() {
        let mut func = Function::new();
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let block = b.create_block();
        b.switch_to_block(block);
        let mut stack = Vec::new();
        for op in [
            Operator::I32Add,
            Operator::Nop,
            Operator::Select,
            Operator::F64Min,
        ] {
            assert!(matches!(
                translate_simd_op(&op, &mut b, &mut stack),
                Ok(false)
            ));
        }
        assert!(stack.is_empty());
    }

    /// Builds a verifying ISA for `triple` with the given ISA presets/flags
    /// and extra shared settings.
    fn target(triple: &str, isa_flags: &[&str], shared_flags: &[(&str, &str)]) -> OwnedTargetIsa {
        let mut shared = settings::builder();
        shared.set("enable_verifier", "true").unwrap();
        for (name, value) in shared_flags {
            shared.set(name, value).unwrap();
        }
        let mut builder = isa::lookup_by_name(triple).unwrap();
        for flag in isa_flags {
            builder.enable(flag).unwrap();
        }
        builder.finish(settings::Flags::new(shared)).unwrap()
    }

    /// Compiles every handled operator for one target, with each calling
    /// convention wasm code may be compiled with there, and returns the
    /// failures.
    fn compile_failures(isa: &OwnedTargetIsa, label: &str) -> Vec<String> {
        let mut failures = Vec::new();
        // The tail convention is what wasm functions use in practice; on
        // s390x it also switches the vector lane order to little-endian, so
        // the two conventions reach different bitcast lowerings there.
        let conventions = [isa.default_call_conv(), CallConv::Tail];
        for (name, func) in handled_functions() {
            for cc in conventions {
                let mut func = func.clone();
                func.signature.call_conv = cc;
                let mut ctx = Context::for_function(func);
                if let Err(e) = ctx.compile(&**isa, &mut ControlPlane::default()) {
                    failures.push(format!("{name} ({label}, {cc}): {:?}", e.inner));
                }
            }
        }
        failures
    }

    /// Compiles every handled operator for `triple` under an unoptimised and
    /// an optimising pipeline (the latter rewrites the IR before lowering, so
    /// it can reach different lowering rules).
    fn compile_all_for(triple: &str, isa_flags: &[&str]) {
        let mut failures = Vec::new();
        for opt_level in ["none", "speed"] {
            let isa = target(triple, isa_flags, &[("opt_level", opt_level)]);
            failures.extend(compile_failures(&isa, opt_level));
        }
        assert!(
            failures.is_empty(),
            "{triple} {isa_flags:?}: {} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn compiles_for_x86_64_baseline() {
        compile_all_for("x86_64", &[]);
    }

    #[test]
    fn compiles_for_x86_64_sse41() {
        compile_all_for("x86_64", &["sse41", "has_popcnt"]);
    }

    #[test]
    fn compiles_for_x86_64_avx2() {
        compile_all_for("x86_64", &["haswell"]);
    }

    #[test]
    fn compiles_for_x86_64_avx512() {
        compile_all_for("x86_64", &["icelake"]);
    }

    #[test]
    fn compiles_for_aarch64() {
        compile_all_for("aarch64", &[]);
    }

    #[test]
    fn compiles_for_s390x() {
        compile_all_for("s390x", &[]);
    }

    #[test]
    fn compiles_for_s390x_z17() {
        compile_all_for("s390x", &["z17"]);
    }

    #[test]
    fn compiles_for_riscv64_v() {
        compile_all_for("riscv64", &["has_v", "zvl128b"]);
    }

    /// NaN canonicalisation (for deterministic execution) inserts extra
    /// instructions after float operations; the shapes the backends
    /// pattern-match must still lower when it is on.
    #[test]
    fn compiles_with_nan_canonicalization() {
        let mut failures = Vec::new();
        for (triple, isa_flags) in [
            ("x86_64", &[][..]),
            ("aarch64", &[][..]),
            ("s390x", &[][..]),
            ("riscv64", &["has_v", "zvl128b"][..]),
        ] {
            let shared = [
                ("opt_level", "speed"),
                ("enable_nan_canonicalization", "true"),
            ];
            let isa = target(triple, isa_flags, &shared);
            failures.extend(compile_failures(&isa, triple));
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
