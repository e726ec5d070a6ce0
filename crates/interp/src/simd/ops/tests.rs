//! Unit tests for the lane-wise operations, focused on the edge cases the
//! spec calls out (saturation, NaNs, signed zeros, out-of-range indices).

use super::*;

fn i8s(v: [i8; 16]) -> V128 {
    join(v)
}
fn i16s(v: [i16; 8]) -> V128 {
    join(v)
}
fn i32s(v: [i32; 4]) -> V128 {
    join(v)
}
fn f32s(v: [f32; 4]) -> V128 {
    join(v)
}
fn f64s(v: [f64; 2]) -> V128 {
    join(v)
}
fn f32_bits(v: V128) -> [u32; 4] {
    split(v)
}
fn f64_bits(v: V128) -> [u64; 2] {
    split(v)
}

const CANON32: u32 = 0x7fc0_0000;
const CANON64: u64 = 0x7ff8_0000_0000_0000;

#[test]
fn float_min_max_nan_and_signed_zero() {
    let snan = f32::from_bits(0x7f80_0001);
    let a = f32s([f32::NAN, 0.0, -0.0, 1.0]);
    let b = f32s([1.0, -0.0, 0.0, snan]);
    assert_eq!(
        f32_bits(BinaryOp::F32x4Min.eval(a, b)),
        [CANON32, 0x8000_0000, 0x8000_0000, CANON32]
    );
    assert_eq!(
        f32_bits(BinaryOp::F32x4Max.eval(a, b)),
        [CANON32, 0, 0, CANON32]
    );
    let a = f64s([-0.0, f64::NAN]);
    let b = f64s([0.0, f64::NEG_INFINITY]);
    assert_eq!(f64_bits(BinaryOp::F64x2Min.eval(a, b)), [1 << 63, CANON64]);
    assert_eq!(f64_bits(BinaryOp::F64x2Max.eval(a, b)), [0, CANON64]);
}

#[test]
fn pmin_pmax_keep_operand_bits() {
    let nan = 0x7fa0_0001u32;
    let a = f32s([f32::from_bits(nan), 1.0, 0.0, 2.0]);
    let b = f32s([1.0, f32::from_bits(nan), -0.0, 1.0]);
    assert_eq!(
        f32_bits(BinaryOp::F32x4PMin.eval(a, b)),
        [nan, 1.0f32.to_bits(), 0, 1.0f32.to_bits()]
    );
    assert_eq!(
        f32_bits(BinaryOp::F32x4PMax.eval(a, b)),
        [nan, 1.0f32.to_bits(), 0, 2.0f32.to_bits()]
    );
    let a = f64s([1.0, -0.0]);
    let b = f64s([f64::NAN, 0.0]);
    assert_eq!(
        f64_bits(BinaryOp::F64x2PMin.eval(a, b)),
        [1.0f64.to_bits(), 1 << 63]
    );
}

#[test]
fn float_arith_and_rounding() {
    let a = f32s([1.5, -2.5, 0.0, f32::INFINITY]);
    let b = f32s([0.5, 0.5, 0.0, f32::INFINITY]);
    let sum = f32_bits(BinaryOp::F32x4Add.eval(a, b));
    assert_eq!(sum[..3], [2.0f32.to_bits(), (-2.0f32).to_bits(), 0]);
    let diff = f32_bits(BinaryOp::F32x4Sub.eval(a, b));
    assert_eq!(diff[3], CANON32);
    let q = f32_bits(BinaryOp::F32x4Div.eval(a, b));
    assert_eq!(q[2], CANON32);
    assert_eq!(
        split::<f64, 2>(BinaryOp::F64x2Mul.eval(f64s([3.0, -1.0]), f64s([2.0, 0.0]))),
        [6.0, -0.0]
    );
    let v = f32s([2.5, -2.5, 0.5, -0.5]);
    assert_eq!(
        split::<f32, 4>(UnaryOp::F32x4Nearest.eval(v)),
        [2.0, -2.0, 0.0, -0.0]
    );
    assert_eq!(f32_bits(UnaryOp::F32x4Nearest.eval(v))[3], 0x8000_0000);
    assert_eq!(
        split::<f32, 4>(UnaryOp::F32x4Ceil.eval(v)),
        [3.0, -2.0, 1.0, -0.0]
    );
    assert_eq!(
        split::<f32, 4>(UnaryOp::F32x4Floor.eval(v)),
        [2.0, -3.0, 0.0, -1.0]
    );
    assert_eq!(
        split::<f32, 4>(UnaryOp::F32x4Trunc.eval(v)),
        [2.0, -2.0, 0.0, -0.0]
    );
    let v = f64s([4.0, -1.0]);
    assert_eq!(
        f64_bits(UnaryOp::F64x2Sqrt.eval(v)),
        [2.0f64.to_bits(), CANON64]
    );
    assert_eq!(
        split::<f64, 2>(UnaryOp::F64x2Nearest.eval(f64s([0.5, 1.5]))),
        [0.0, 2.0]
    );
}

#[test]
fn float_abs_neg_keep_nan_payload() {
    let v = join::<u32, 4>([0x7fa0_0001, 0xffc0_0002, 0x3f80_0000, 0]);
    assert_eq!(
        f32_bits(UnaryOp::F32x4Neg.eval(v)),
        [0xffa0_0001, 0x7fc0_0002, 0xbf80_0000, 0x8000_0000]
    );
    assert_eq!(
        f32_bits(UnaryOp::F32x4Abs.eval(v)),
        [0x7fa0_0001, 0x7fc0_0002, 0x3f80_0000, 0]
    );
    let v = join::<u64, 2>([0xfff0_0000_0000_0001, 1]);
    assert_eq!(
        f64_bits(UnaryOp::F64x2Abs.eval(v)),
        [0x7ff0_0000_0000_0001, 1]
    );
    assert_eq!(
        f64_bits(UnaryOp::F64x2Neg.eval(v)),
        [0x7ff0_0000_0000_0001, 1 | 1 << 63]
    );
}

#[test]
fn float_comparisons() {
    let a = f32s([f32::NAN, 0.0, 1.0, 2.0]);
    let b = f32s([f32::NAN, -0.0, 2.0, 1.0]);
    assert_eq!(split::<u32, 4>(BinaryOp::F32x4Eq.eval(a, b)), [0, !0, 0, 0]);
    assert_eq!(
        split::<u32, 4>(BinaryOp::F32x4Ne.eval(a, b)),
        [!0, 0, !0, !0]
    );
    assert_eq!(split::<u32, 4>(BinaryOp::F32x4Lt.eval(a, b)), [0, 0, !0, 0]);
    assert_eq!(
        split::<u32, 4>(BinaryOp::F32x4Ge.eval(a, b)),
        [0, !0, 0, !0]
    );
    let a = f64s([f64::NAN, 1.0]);
    let b = f64s([1.0, 1.0]);
    assert_eq!(split::<u64, 2>(BinaryOp::F64x2Le.eval(a, b)), [0, !0]);
    assert_eq!(split::<u64, 2>(BinaryOp::F64x2Gt.eval(a, b)), [0, 0]);
}

#[test]
fn int_comparisons_signedness() {
    let a = i8s([-1; 16]);
    let b = i8s([1; 16]);
    assert_eq!(BinaryOp::I8x16LtS.eval(a, b), u128::MAX);
    assert_eq!(BinaryOp::I8x16LtU.eval(a, b), 0);
    assert_eq!(BinaryOp::I8x16GeU.eval(a, b), u128::MAX);
    let a = i16s([-5, 5, 0, 0, 0, 0, 0, 0]);
    let b = i16s([5, -5, 0, 0, 0, 0, 0, 1]);
    assert_eq!(
        split::<u16, 8>(BinaryOp::I16x8GtS.eval(a, b)),
        [0, !0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        split::<u16, 8>(BinaryOp::I16x8LeU.eval(a, b)),
        [0, !0, !0, !0, !0, !0, !0, !0]
    );
    let a = join::<i64, 2>([i64::MIN, 3]);
    let b = join::<i64, 2>([0, 3]);
    assert_eq!(split::<u64, 2>(BinaryOp::I64x2LtS.eval(a, b)), [!0, 0]);
    assert_eq!(split::<u64, 2>(BinaryOp::I64x2GeS.eval(a, b)), [0, !0]);
    assert_eq!(split::<u64, 2>(BinaryOp::I64x2Ne.eval(a, b)), [!0, 0]);
    assert_eq!(
        split::<u32, 4>(BinaryOp::I32x4Eq.eval(i32s([1, 2, 3, 4]), i32s([1, 0, 3, 0]))),
        [!0, 0, !0, 0]
    );
}

#[test]
fn narrow_saturates() {
    let a = i16s([-129, -128, 127, 128, 0, 300, -300, 1]);
    let b = i16s([i16::MIN, i16::MAX, 255, 256, -1, 2, 3, 4]);
    assert_eq!(
        split::<i8, 16>(BinaryOp::I8x16NarrowI16x8S.eval(a, b)),
        [
            -128, -128, 127, 127, 0, 127, -128, 1, -128, 127, 127, 127, -1, 2, 3, 4
        ]
    );
    assert_eq!(
        split::<u8, 16>(BinaryOp::I8x16NarrowI16x8U.eval(a, b)),
        [0, 0, 127, 128, 0, 255, 0, 1, 0, 255, 255, 255, 0, 2, 3, 4]
    );
    let a = i32s([70000, -70000, 32768, -32769]);
    let b = i32s([65535, 65536, -1, 7]);
    assert_eq!(
        split::<i16, 8>(BinaryOp::I16x8NarrowI32x4S.eval(a, b)),
        [32767, -32768, 32767, -32768, 32767, 32767, -1, 7]
    );
    assert_eq!(
        split::<u16, 8>(BinaryOp::I16x8NarrowI32x4U.eval(a, b)),
        [65535, 0, 32768, 0, 65535, 65535, 0, 7]
    );
}

#[test]
fn q15mulr_saturates_and_rounds() {
    let a = i16s([i16::MIN, i16::MIN, 0x4000, -0x4000, 1, i16::MAX, 3, -1]);
    let b = i16s([
        i16::MIN,
        i16::MAX,
        0x4000,
        0x4000,
        0x4000,
        i16::MAX,
        -0x4000,
        -1,
    ]);
    assert_eq!(
        split::<i16, 8>(BinaryOp::I16x8Q15MulrSatS.eval(a, b)),
        [i16::MAX, -32767, 0x2000, -0x2000, 1, 32766, -1, 0]
    );
}

#[test]
fn saturating_and_wrapping_arith() {
    let a = i8s([127, -128, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1]);
    let b = i8s([1, -1, 100, -100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    let r = split::<i8, 16>(BinaryOp::I8x16AddSatS.eval(a, b));
    assert_eq!(r[..4], [127, -128, 127, -128]);
    assert_eq!(r[15], 0);
    let r = split::<i8, 16>(BinaryOp::I8x16Add.eval(a, b));
    assert_eq!(r[..4], [-128, 127, -56, 56]);
    let r = split::<u8, 16>(BinaryOp::I8x16AddSatU.eval(a, b));
    assert_eq!(r[15], 255);
    let r = split::<u8, 16>(BinaryOp::I8x16SubSatU.eval(b, a));
    assert_eq!(r[0], 0);
    let r = split::<i16, 8>(BinaryOp::I16x8SubSatS.eval(i16s([i16::MIN; 8]), i16s([1; 8])));
    assert_eq!(r, [i16::MIN; 8]);
    let r =
        split::<i32, 4>(BinaryOp::I32x4Mul.eval(i32s([i32::MAX, 3, -2, 0]), i32s([2, 3, 5, 9])));
    assert_eq!(r, [-2, 9, -10, 0]);
    let r = split::<i64, 2>(
        BinaryOp::I64x2Sub.eval(join::<i64, 2>([i64::MIN, 0]), join::<i64, 2>([1, 1])),
    );
    assert_eq!(r, [i64::MAX, -1]);
    let r = split::<u8, 16>(BinaryOp::I8x16AvgrU.eval(join([255u8; 16]), join([254u8; 16])));
    assert_eq!(r, [255; 16]);
    let r = split::<u16, 8>(BinaryOp::I16x8AvgrU.eval(join([1u16; 8]), join([2u16; 8])));
    assert_eq!(r, [2; 8]);
    let r = split::<i8, 16>(BinaryOp::I8x16MinS.eval(a, b));
    assert_eq!(r[..2], [1, -128]);
    let r = split::<u8, 16>(BinaryOp::I8x16MaxU.eval(a, b));
    assert_eq!(r[..2], [127, 255]);
}

#[test]
fn abs_neg_popcnt() {
    let a = i8s([i8::MIN, -1, 1, 0, 5, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        split::<i8, 16>(UnaryOp::I8x16Abs.eval(a))[..6],
        [i8::MIN, 1, 1, 0, 5, 5]
    );
    assert_eq!(
        split::<i8, 16>(UnaryOp::I8x16Neg.eval(a))[..6],
        [i8::MIN, 1, -1, 0, -5, 5]
    );
    assert_eq!(
        split::<u8, 16>(UnaryOp::I8x16Popcnt.eval(a))[..6],
        [1, 8, 1, 0, 2, 7]
    );
    assert_eq!(
        split::<i64, 2>(UnaryOp::I64x2Abs.eval(join::<i64, 2>([i64::MIN, -3]))),
        [i64::MIN, 3]
    );
    assert_eq!(UnaryOp::V128Not.eval(0), u128::MAX);
}

#[test]
fn extend_extadd_extmul_dot() {
    let a = i8s(core::array::from_fn(|i| (i as i32 * 16 - 128) as i8));
    assert_eq!(
        split::<i16, 8>(UnaryOp::I16x8ExtendLowI8x16S.eval(a)),
        [-128, -112, -96, -80, -64, -48, -32, -16]
    );
    assert_eq!(
        split::<u16, 8>(UnaryOp::I16x8ExtendHighI8x16U.eval(a)),
        [0, 16, 32, 48, 64, 80, 96, 112]
    );
    assert_eq!(
        split::<i16, 8>(UnaryOp::I16x8ExtAddPairwiseI8x16S.eval(i8s([-128; 16]))),
        [-256; 8]
    );
    assert_eq!(
        split::<u16, 8>(UnaryOp::I16x8ExtAddPairwiseI8x16U.eval(i8s([-1; 16]))),
        [510; 8]
    );
    assert_eq!(
        split::<u32, 4>(UnaryOp::I32x4ExtAddPairwiseI16x8U.eval(i16s([-1; 8]))),
        [131070; 4]
    );
    let w = i32s([-1, 2, -3, 4]);
    assert_eq!(
        split::<i64, 2>(UnaryOp::I64x2ExtendHighI32x4S.eval(w)),
        [-3, 4]
    );
    assert_eq!(
        split::<u64, 2>(UnaryOp::I64x2ExtendLowI32x4U.eval(w)),
        [0xffff_ffff, 2]
    );
    assert_eq!(
        split::<i32, 4>(UnaryOp::I32x4ExtendHighI16x8S.eval(i16s([0, 0, 0, 0, -1, 1, -2, 2]))),
        [-1, 1, -2, 2]
    );

    let m = i8s([-128; 16]);
    assert_eq!(
        split::<i16, 8>(BinaryOp::I16x8ExtMulLowI8x16S.eval(m, m)),
        [16384; 8]
    );
    assert_eq!(
        split::<u16, 8>(BinaryOp::I16x8ExtMulHighI8x16U.eval(m, m)),
        [16384; 8]
    );
    let m = i8s([-1; 16]);
    assert_eq!(
        split::<u16, 8>(BinaryOp::I16x8ExtMulLowI8x16U.eval(m, m)),
        [65025; 8]
    );
    let w = i32s([i32::MIN, -1, 3, u32::MAX as i32]);
    assert_eq!(
        split::<i64, 2>(BinaryOp::I64x2ExtMulLowI32x4S.eval(w, w)),
        [1 << 62, 1]
    );
    assert_eq!(
        split::<u64, 2>(BinaryOp::I64x2ExtMulHighI32x4U.eval(w, w)),
        [9, 0xffff_fffe_0000_0001]
    );

    let a = i16s([i16::MIN, i16::MIN, 1, 2, 3, 4, -5, 6]);
    let b = i16s([i16::MIN, i16::MIN, 10, 20, 30, 40, 50, 60]);
    assert_eq!(
        split::<i32, 4>(BinaryOp::I32x4DotI16x8S.eval(a, b)),
        [i32::MIN, 50, 250, 110]
    );
}

#[test]
fn swizzle_out_of_range_is_zero() {
    let a = join::<u8, 16>(core::array::from_fn(|i| 0xa0 + i as u8));
    let idx = join::<u8, 16>([0, 15, 16, 255, 1, 128, 17, 14, 3, 3, 3, 3, 31, 32, 2, 0x80]);
    assert_eq!(
        split::<u8, 16>(BinaryOp::I8x16Swizzle.eval(a, idx)),
        [
            0xa0, 0xaf, 0, 0, 0xa1, 0, 0, 0xae, 0xa3, 0xa3, 0xa3, 0xa3, 0, 0, 0xa2, 0
        ]
    );
}

#[test]
fn bitwise_and_bitselect() {
    let a = 0xff00_ff00u128;
    let b = 0x0ff0_0ff0u128;
    assert_eq!(BinaryOp::V128AndNot.eval(a, b), 0xf000_f000);
    assert_eq!(BinaryOp::V128And.eval(a, b), 0x0f00_0f00);
    assert_eq!(BinaryOp::V128Or.eval(a, b), 0xfff0_fff0);
    assert_eq!(BinaryOp::V128Xor.eval(a, b), 0xf0f0_f0f0);
    let mask = 0xffff_0000u128;
    assert_eq!(TernaryOp::V128Bitselect.eval(a, b, mask), 0xff00_0ff0);
}

#[test]
fn shifts_take_amount_modulo_width() {
    let a = i8s([-128; 16]);
    assert_eq!(ShiftOp::I8x16ShrS.eval(a, 7), u128::MAX);
    assert_eq!(ShiftOp::I8x16ShrS.eval(a, 9), i8s([-64; 16]));
    assert_eq!(ShiftOp::I8x16ShrU.eval(a, 15), i8s([1; 16]));
    assert_eq!(ShiftOp::I8x16Shl.eval(i8s([1; 16]), 8), i8s([1; 16]));
    assert_eq!(ShiftOp::I8x16Shl.eval(i8s([1; 16]), 7), a);
    assert_eq!(ShiftOp::I16x8Shl.eval(i16s([1; 8]), 17), i16s([2; 8]));
    assert_eq!(ShiftOp::I16x8ShrU.eval(i16s([-1; 8]), 15), i16s([1; 8]));
    assert_eq!(ShiftOp::I32x4ShrS.eval(i32s([-8; 4]), 33), i32s([-4; 4]));
    assert_eq!(ShiftOp::I32x4Shl.eval(i32s([3; 4]), 32), i32s([3; 4]));
    assert_eq!(
        ShiftOp::I32x4ShrU.eval(i32s([-1; 4]), u32::MAX),
        i32s([1; 4])
    );
    let v = join::<i64, 2>([i64::MIN, 1]);
    assert_eq!(
        split::<i64, 2>(ShiftOp::I64x2ShrS.eval(v, 64 + 62)),
        [-2, 0]
    );
    assert_eq!(split::<u64, 2>(ShiftOp::I64x2ShrU.eval(v, 63)), [1, 0]);
    assert_eq!(split::<u64, 2>(ShiftOp::I64x2Shl.eval(v, 128 + 1)), [0, 2]);
}

#[test]
fn tests_and_bitmask() {
    assert_eq!(TestOp::V128AnyTrue.eval(0), 0);
    assert_eq!(TestOp::V128AnyTrue.eval(1 << 127), 1);
    let mut lanes = [1i8; 16];
    assert_eq!(TestOp::I8x16AllTrue.eval(i8s(lanes)), 1);
    lanes[9] = 0;
    assert_eq!(TestOp::I8x16AllTrue.eval(i8s(lanes)), 0);
    // Non-zero lane whose byte halves are zero still counts as true.
    assert_eq!(TestOp::I16x8AllTrue.eval(i16s([0x100; 8])), 1);
    assert_eq!(TestOp::I32x4AllTrue.eval(i32s([1, 1, 0, 1])), 0);
    assert_eq!(TestOp::I64x2AllTrue.eval(join::<u64, 2>([1 << 63, 1])), 1);
    assert_eq!(TestOp::I64x2AllTrue.eval(join::<u64, 2>([0, 1])), 0);

    let mut lanes = [0i8; 16];
    lanes[0] = -1;
    lanes[3] = i8::MIN;
    lanes[15] = -2;
    lanes[7] = 127;
    assert_eq!(TestOp::I8x16Bitmask.eval(i8s(lanes)), 0x8009);
    assert_eq!(
        TestOp::I16x8Bitmask.eval(i16s([-1, 1, 0, -32768, 0, 0, 0, -5])),
        0b1000_1001
    );
    assert_eq!(TestOp::I32x4Bitmask.eval(i32s([0, -1, 0, -1])), 0b1010);
    assert_eq!(TestOp::I64x2Bitmask.eval(join::<i64, 2>([-1, 0])), 0b01);
}

#[test]
fn trunc_sat_and_conversions() {
    let v = f32s([f32::NAN, 3e9, -3e9, -1.9]);
    assert_eq!(
        split::<i32, 4>(UnaryOp::I32x4TruncSatF32x4S.eval(v)),
        [0, i32::MAX, i32::MIN, -1]
    );
    assert_eq!(
        split::<u32, 4>(UnaryOp::I32x4TruncSatF32x4U.eval(v)),
        [0, 3_000_000_000, 0, 0]
    );
    let v = f32s([f32::INFINITY, f32::NEG_INFINITY, 4294967040.0, 1.9]);
    assert_eq!(
        split::<u32, 4>(UnaryOp::I32x4TruncSatF32x4U.eval(v)),
        [u32::MAX, 0, 4294967040, 1]
    );
    let v = f64s([f64::NAN, -1e10]);
    assert_eq!(
        split::<i32, 4>(UnaryOp::I32x4TruncSatF64x2SZero.eval(v)),
        [0, i32::MIN, 0, 0]
    );
    let v = f64s([4294967295.9, 1e10]);
    assert_eq!(
        split::<u32, 4>(UnaryOp::I32x4TruncSatF64x2UZero.eval(v)),
        [u32::MAX, u32::MAX, 0, 0]
    );
    let v = f64s([-0.9, f64::NAN]);
    assert_eq!(UnaryOp::I32x4TruncSatF64x2UZero.eval(v), 0);

    let v = i32s([i32::MIN, -1, 16_777_217, i32::MAX]);
    assert_eq!(
        split::<f32, 4>(UnaryOp::F32x4ConvertI32x4S.eval(v)),
        [-2_147_483_648.0, -1.0, 16_777_216.0, 2_147_483_648.0]
    );
    assert_eq!(
        split::<f32, 4>(UnaryOp::F32x4ConvertI32x4U.eval(v)),
        [
            2_147_483_648.0,
            4_294_967_296.0,
            16_777_216.0,
            2_147_483_648.0
        ]
    );
    assert_eq!(
        split::<f64, 2>(UnaryOp::F64x2ConvertLowI32x4S.eval(v)),
        [-2_147_483_648.0, -1.0]
    );
    assert_eq!(
        split::<f64, 2>(UnaryOp::F64x2ConvertLowI32x4U.eval(v)),
        [2_147_483_648.0, 4_294_967_295.0]
    );

    let v = f64s([1e300, f64::NAN]);
    assert_eq!(
        f32_bits(UnaryOp::F32x4DemoteF64x2Zero.eval(v)),
        [f32::INFINITY.to_bits(), CANON32, 0, 0]
    );
    let v = f32s([-0.0, 1.5, 7.0, 8.0]);
    assert_eq!(
        f64_bits(UnaryOp::F64x2PromoteLowF32x4.eval(v)),
        [1 << 63, 1.5f64.to_bits()]
    );
    let v = f32s([f32::from_bits(0x7f80_0001), 0.0, 0.0, 0.0]);
    assert_eq!(f64_bits(UnaryOp::F64x2PromoteLowF32x4.eval(v))[0], CANON64);
}

#[test]
fn every_op_evaluates() {
    // Smoke test that no arm panics (e.g. on overflow in debug builds)
    // for extreme inputs.
    let inputs = [
        0,
        u128::MAX,
        F32_SIGNS,
        F64_SIGNS,
        0x8000_7fff_0000_ffff_7f80_0001_8000_0000,
    ];
    for &a in &inputs {
        for op in UnaryOp::ALL {
            op.eval(a);
        }
        for op in TestOp::ALL {
            op.eval(a);
        }
        for op in ShiftOp::ALL {
            op.eval(a, 200);
        }
        for &b in &inputs {
            for op in BinaryOp::ALL {
                op.eval(a, b);
            }
            TernaryOp::V128Bitselect.eval(a, b, a);
        }
    }
}

#[test]
fn relaxed_madd_rounds_once_per_lane() {
    let splat = |bits: u32| -> V128 { (0..4).fold(0, |v, i| v | (u128::from(bits) << (32 * i))) };
    // (1 + 2^-22) * (1 + 2^-15) - (1 + 2^-15 + 2^-22) = 2^-37 exactly.
    let (a, b, c) =
        core::hint::black_box((splat(0x3f80_0002), splat(0x3f80_0100), splat(0xbf80_0102)));
    assert_eq!(
        TernaryOp::F32x4RelaxedMadd.eval(a, b, c),
        splat(0x2d00_0000)
    );
    let one = core::hint::black_box(splat(0x3f80_0000));
    let zero = core::hint::black_box(0);
    assert_eq!(TernaryOp::F32x4RelaxedMadd.eval(a, one, zero), a);
}
