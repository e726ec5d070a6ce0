//! Value semantics of the lane-wise SIMD operations (everything that takes
//! and returns whole vectors, plus shifts and the `v128 -> i32` tests).

use core::array::from_fn;
use core::ops::{Add, Mul};

use super::V128;
use super::float::{self, WasmFloat};
use super::lanes::{Lane, join, low_mask, map1, map2, split};

op_enum! {
    mirror
    /// SIMD operations of type `v128 -> v128`.
    pub enum UnaryOp {
        V128Not = "v128.not",
        I8x16Abs = "i8x16.abs",
        I8x16Neg = "i8x16.neg",
        I8x16Popcnt = "i8x16.popcnt",
        I16x8ExtAddPairwiseI8x16S = "i16x8.extadd_pairwise_i8x16_s",
        I16x8ExtAddPairwiseI8x16U = "i16x8.extadd_pairwise_i8x16_u",
        I16x8Abs = "i16x8.abs",
        I16x8Neg = "i16x8.neg",
        I16x8ExtendLowI8x16S = "i16x8.extend_low_i8x16_s",
        I16x8ExtendHighI8x16S = "i16x8.extend_high_i8x16_s",
        I16x8ExtendLowI8x16U = "i16x8.extend_low_i8x16_u",
        I16x8ExtendHighI8x16U = "i16x8.extend_high_i8x16_u",
        I32x4ExtAddPairwiseI16x8S = "i32x4.extadd_pairwise_i16x8_s",
        I32x4ExtAddPairwiseI16x8U = "i32x4.extadd_pairwise_i16x8_u",
        I32x4Abs = "i32x4.abs",
        I32x4Neg = "i32x4.neg",
        I32x4ExtendLowI16x8S = "i32x4.extend_low_i16x8_s",
        I32x4ExtendHighI16x8S = "i32x4.extend_high_i16x8_s",
        I32x4ExtendLowI16x8U = "i32x4.extend_low_i16x8_u",
        I32x4ExtendHighI16x8U = "i32x4.extend_high_i16x8_u",
        I64x2Abs = "i64x2.abs",
        I64x2Neg = "i64x2.neg",
        I64x2ExtendLowI32x4S = "i64x2.extend_low_i32x4_s",
        I64x2ExtendHighI32x4S = "i64x2.extend_high_i32x4_s",
        I64x2ExtendLowI32x4U = "i64x2.extend_low_i32x4_u",
        I64x2ExtendHighI32x4U = "i64x2.extend_high_i32x4_u",
        F32x4Ceil = "f32x4.ceil",
        F32x4Floor = "f32x4.floor",
        F32x4Trunc = "f32x4.trunc",
        F32x4Nearest = "f32x4.nearest",
        F32x4Abs = "f32x4.abs",
        F32x4Neg = "f32x4.neg",
        F32x4Sqrt = "f32x4.sqrt",
        F64x2Ceil = "f64x2.ceil",
        F64x2Floor = "f64x2.floor",
        F64x2Trunc = "f64x2.trunc",
        F64x2Nearest = "f64x2.nearest",
        F64x2Abs = "f64x2.abs",
        F64x2Neg = "f64x2.neg",
        F64x2Sqrt = "f64x2.sqrt",
        I32x4TruncSatF32x4S = "i32x4.trunc_sat_f32x4_s",
        I32x4TruncSatF32x4U = "i32x4.trunc_sat_f32x4_u",
        F32x4ConvertI32x4S = "f32x4.convert_i32x4_s",
        F32x4ConvertI32x4U = "f32x4.convert_i32x4_u",
        I32x4TruncSatF64x2SZero = "i32x4.trunc_sat_f64x2_s_zero",
        I32x4TruncSatF64x2UZero = "i32x4.trunc_sat_f64x2_u_zero",
        F64x2ConvertLowI32x4S = "f64x2.convert_low_i32x4_s",
        F64x2ConvertLowI32x4U = "f64x2.convert_low_i32x4_u",
        F32x4DemoteF64x2Zero = "f32x4.demote_f64x2_zero",
        F64x2PromoteLowF32x4 = "f64x2.promote_low_f32x4",
    }
}

op_enum! {
    mirror
    /// SIMD operations of type `v128 x v128 -> v128`; the first operand is
    /// the one pushed first.
    pub enum BinaryOp {
        I8x16Swizzle = "i8x16.swizzle",
        I8x16Eq = "i8x16.eq",
        I8x16Ne = "i8x16.ne",
        I8x16LtS = "i8x16.lt_s",
        I8x16LtU = "i8x16.lt_u",
        I8x16GtS = "i8x16.gt_s",
        I8x16GtU = "i8x16.gt_u",
        I8x16LeS = "i8x16.le_s",
        I8x16LeU = "i8x16.le_u",
        I8x16GeS = "i8x16.ge_s",
        I8x16GeU = "i8x16.ge_u",
        I16x8Eq = "i16x8.eq",
        I16x8Ne = "i16x8.ne",
        I16x8LtS = "i16x8.lt_s",
        I16x8LtU = "i16x8.lt_u",
        I16x8GtS = "i16x8.gt_s",
        I16x8GtU = "i16x8.gt_u",
        I16x8LeS = "i16x8.le_s",
        I16x8LeU = "i16x8.le_u",
        I16x8GeS = "i16x8.ge_s",
        I16x8GeU = "i16x8.ge_u",
        I32x4Eq = "i32x4.eq",
        I32x4Ne = "i32x4.ne",
        I32x4LtS = "i32x4.lt_s",
        I32x4LtU = "i32x4.lt_u",
        I32x4GtS = "i32x4.gt_s",
        I32x4GtU = "i32x4.gt_u",
        I32x4LeS = "i32x4.le_s",
        I32x4LeU = "i32x4.le_u",
        I32x4GeS = "i32x4.ge_s",
        I32x4GeU = "i32x4.ge_u",
        I64x2Eq = "i64x2.eq",
        I64x2Ne = "i64x2.ne",
        I64x2LtS = "i64x2.lt_s",
        I64x2GtS = "i64x2.gt_s",
        I64x2LeS = "i64x2.le_s",
        I64x2GeS = "i64x2.ge_s",
        F32x4Eq = "f32x4.eq",
        F32x4Ne = "f32x4.ne",
        F32x4Lt = "f32x4.lt",
        F32x4Gt = "f32x4.gt",
        F32x4Le = "f32x4.le",
        F32x4Ge = "f32x4.ge",
        F64x2Eq = "f64x2.eq",
        F64x2Ne = "f64x2.ne",
        F64x2Lt = "f64x2.lt",
        F64x2Gt = "f64x2.gt",
        F64x2Le = "f64x2.le",
        F64x2Ge = "f64x2.ge",
        V128And = "v128.and",
        V128AndNot = "v128.andnot",
        V128Or = "v128.or",
        V128Xor = "v128.xor",
        I8x16NarrowI16x8S = "i8x16.narrow_i16x8_s",
        I8x16NarrowI16x8U = "i8x16.narrow_i16x8_u",
        I8x16Add = "i8x16.add",
        I8x16AddSatS = "i8x16.add_sat_s",
        I8x16AddSatU = "i8x16.add_sat_u",
        I8x16Sub = "i8x16.sub",
        I8x16SubSatS = "i8x16.sub_sat_s",
        I8x16SubSatU = "i8x16.sub_sat_u",
        I8x16MinS = "i8x16.min_s",
        I8x16MinU = "i8x16.min_u",
        I8x16MaxS = "i8x16.max_s",
        I8x16MaxU = "i8x16.max_u",
        I8x16AvgrU = "i8x16.avgr_u",
        I16x8Q15MulrSatS = "i16x8.q15mulr_sat_s",
        I16x8NarrowI32x4S = "i16x8.narrow_i32x4_s",
        I16x8NarrowI32x4U = "i16x8.narrow_i32x4_u",
        I16x8Add = "i16x8.add",
        I16x8AddSatS = "i16x8.add_sat_s",
        I16x8AddSatU = "i16x8.add_sat_u",
        I16x8Sub = "i16x8.sub",
        I16x8SubSatS = "i16x8.sub_sat_s",
        I16x8SubSatU = "i16x8.sub_sat_u",
        I16x8Mul = "i16x8.mul",
        I16x8MinS = "i16x8.min_s",
        I16x8MinU = "i16x8.min_u",
        I16x8MaxS = "i16x8.max_s",
        I16x8MaxU = "i16x8.max_u",
        I16x8AvgrU = "i16x8.avgr_u",
        I16x8ExtMulLowI8x16S = "i16x8.extmul_low_i8x16_s",
        I16x8ExtMulHighI8x16S = "i16x8.extmul_high_i8x16_s",
        I16x8ExtMulLowI8x16U = "i16x8.extmul_low_i8x16_u",
        I16x8ExtMulHighI8x16U = "i16x8.extmul_high_i8x16_u",
        I32x4Add = "i32x4.add",
        I32x4Sub = "i32x4.sub",
        I32x4Mul = "i32x4.mul",
        I32x4MinS = "i32x4.min_s",
        I32x4MinU = "i32x4.min_u",
        I32x4MaxS = "i32x4.max_s",
        I32x4MaxU = "i32x4.max_u",
        I32x4DotI16x8S = "i32x4.dot_i16x8_s",
        I32x4ExtMulLowI16x8S = "i32x4.extmul_low_i16x8_s",
        I32x4ExtMulHighI16x8S = "i32x4.extmul_high_i16x8_s",
        I32x4ExtMulLowI16x8U = "i32x4.extmul_low_i16x8_u",
        I32x4ExtMulHighI16x8U = "i32x4.extmul_high_i16x8_u",
        I64x2Add = "i64x2.add",
        I64x2Sub = "i64x2.sub",
        I64x2Mul = "i64x2.mul",
        I64x2ExtMulLowI32x4S = "i64x2.extmul_low_i32x4_s",
        I64x2ExtMulHighI32x4S = "i64x2.extmul_high_i32x4_s",
        I64x2ExtMulLowI32x4U = "i64x2.extmul_low_i32x4_u",
        I64x2ExtMulHighI32x4U = "i64x2.extmul_high_i32x4_u",
        F32x4Add = "f32x4.add",
        F32x4Sub = "f32x4.sub",
        F32x4Mul = "f32x4.mul",
        F32x4Div = "f32x4.div",
        F32x4Min = "f32x4.min",
        F32x4Max = "f32x4.max",
        F32x4PMin = "f32x4.pmin",
        F32x4PMax = "f32x4.pmax",
        F64x2Add = "f64x2.add",
        F64x2Sub = "f64x2.sub",
        F64x2Mul = "f64x2.mul",
        F64x2Div = "f64x2.div",
        F64x2Min = "f64x2.min",
        F64x2Max = "f64x2.max",
        F64x2PMin = "f64x2.pmin",
        F64x2PMax = "f64x2.pmax",
        I16x8RelaxedDotI8x16I7x16S = "i16x8.relaxed_dot_i8x16_i7x16_s",
    }
}

op_enum! {
    mirror
    /// SIMD operations of type `v128 x v128 x v128 -> v128`.
    pub enum TernaryOp {
        V128Bitselect = "v128.bitselect",
        F32x4RelaxedMadd = "f32x4.relaxed_madd",
        F32x4RelaxedNmadd = "f32x4.relaxed_nmadd",
        F64x2RelaxedMadd = "f64x2.relaxed_madd",
        F64x2RelaxedNmadd = "f64x2.relaxed_nmadd",
        I32x4RelaxedDotI8x16I7x16AddS = "i32x4.relaxed_dot_i8x16_i7x16_add_s",
    }
}

op_enum! {
    mirror
    /// Lane shifts of type `v128 x i32 -> v128`.
    pub enum ShiftOp {
        I8x16Shl = "i8x16.shl",
        I8x16ShrS = "i8x16.shr_s",
        I8x16ShrU = "i8x16.shr_u",
        I16x8Shl = "i16x8.shl",
        I16x8ShrS = "i16x8.shr_s",
        I16x8ShrU = "i16x8.shr_u",
        I32x4Shl = "i32x4.shl",
        I32x4ShrS = "i32x4.shr_s",
        I32x4ShrU = "i32x4.shr_u",
        I64x2Shl = "i64x2.shl",
        I64x2ShrS = "i64x2.shr_s",
        I64x2ShrU = "i64x2.shr_u",
    }
}

op_enum! {
    mirror
    /// Reductions of type `v128 -> i32`.
    pub enum TestOp {
        V128AnyTrue = "v128.any_true",
        I8x16AllTrue = "i8x16.all_true",
        I8x16Bitmask = "i8x16.bitmask",
        I16x8AllTrue = "i16x8.all_true",
        I16x8Bitmask = "i16x8.bitmask",
        I32x4AllTrue = "i32x4.all_true",
        I32x4Bitmask = "i32x4.bitmask",
        I64x2AllTrue = "i64x2.all_true",
        I64x2Bitmask = "i64x2.bitmask",
    }
}

/// The sign bit of every f32 lane.
const F32_SIGNS: V128 = 0x8000_0000_8000_0000_8000_0000_8000_0000;
/// The sign bit of every f64 lane.
const F64_SIGNS: V128 = 0x8000_0000_0000_0000_8000_0000_0000_0000;

/// Widens the low (`high == false`) or high half of the `S` lanes to `D`.
#[inline]
fn extend<S: Lane, D: Lane + From<S>, const NS: usize, const ND: usize>(
    a: V128,
    high: bool,
) -> V128 {
    let s = split::<S, NS>(a);
    let base = if high { ND } else { 0 };
    join::<D, ND>(from_fn(|i| D::from(s[base + i])))
}

/// Sums adjacent pairs of `S` lanes into `D` lanes; the widening means the
/// sum cannot overflow.
#[inline]
fn extadd_pairwise<
    S: Lane,
    D: Lane + From<S> + Add<Output = D>,
    const NS: usize,
    const ND: usize,
>(
    a: V128,
) -> V128 {
    let s = split::<S, NS>(a);
    join::<D, ND>(from_fn(|i| D::from(s[2 * i]) + D::from(s[2 * i + 1])))
}

/// Multiplies the widened low or high halves; the double-width product of
/// two half-width values always fits, so plain `*` is exact.
#[inline]
fn extmul<S: Lane, D: Lane + From<S> + Mul<Output = D>, const NS: usize, const ND: usize>(
    a: V128,
    b: V128,
    high: bool,
) -> V128 {
    let (a, b) = (split::<S, NS>(a), split::<S, NS>(b));
    let base = if high { ND } else { 0 };
    join::<D, ND>(from_fn(|i| D::from(a[base + i]) * D::from(b[base + i])))
}

/// Narrows the lanes of `a` then `b` into one vector with `sat`, `a`'s lanes
/// landing in the low half.
#[inline]
fn narrow<S: Lane, D: Lane, const NS: usize, const ND: usize>(
    a: V128,
    b: V128,
    sat: impl Fn(S) -> D,
) -> V128 {
    let (a, b) = (split::<S, NS>(a), split::<S, NS>(b));
    join::<D, ND>(from_fn(|i| sat(if i < NS { a[i] } else { b[i - NS] })))
}

/// Lane-wise comparison producing all-ones for true and zero for false.
#[inline]
fn cmp<T: Lane, const N: usize>(a: V128, b: V128, pred: impl Fn(T, T) -> bool) -> V128 {
    let (a, b) = (split::<T, N>(a), split::<T, N>(b));
    let ones = low_mask(T::BITS);
    let mut out = 0;
    for i in 0..N {
        if pred(a[i], b[i]) {
            out |= ones << (i as u32 * T::BITS);
        }
    }
    out
}

/// Lane-wise `f(a, b, c)`.
#[inline]
fn map3<T: Lane, const N: usize>(a: V128, b: V128, c: V128, f: impl Fn(T, T, T) -> T) -> V128 {
    let (a, b, c) = (split::<T, N>(a), split::<T, N>(b), split::<T, N>(c));
    join::<T, N>(from_fn(|i| f(a[i], b[i], c[i])))
}

/// `i16x8.relaxed_dot_i8x16_i7x16_s`, deterministically: both operands'
/// lanes read as signed, each pair's sum wrapping in 16 bits (the same as
/// an `i7` second operand would give whenever that operand is in range).
#[inline]
fn relaxed_dot_i8x16(a: V128, b: V128) -> V128 {
    let (a, b) = (split::<i8, 16>(a), split::<i8, 16>(b));
    let prod = |i: usize| i16::from(a[i]) * i16::from(b[i]);
    join::<i16, 8>(from_fn(|i| prod(2 * i).wrapping_add(prod(2 * i + 1))))
}

/// Lane-wise float arithmetic with NaN results canonicalised.
#[inline]
fn fbin<F: WasmFloat, const N: usize>(a: V128, b: V128, f: impl Fn(F, F) -> F) -> V128 {
    map2::<F, N>(a, b, |x, y| f(x, y).canon())
}

/// Lane-wise unary float arithmetic with NaN results canonicalised.
#[inline]
fn fun<F: WasmFloat, const N: usize>(a: V128, f: impl Fn(F) -> F) -> V128 {
    map1::<F, N>(a, |x| f(x).canon())
}

/// Rounding average of two unsigned lanes, computed in a wider type so the
/// `+ 1` cannot overflow.
#[inline]
fn avgr_u8(x: u8, y: u8) -> u8 {
    ((u16::from(x) + u16::from(y) + 1) >> 1) as u8
}

#[inline]
fn avgr_u16(x: u16, y: u16) -> u16 {
    ((u32::from(x) + u32::from(y) + 1) >> 1) as u16
}

/// Q15 fixed-point rounding multiply; only `-1.0 * -1.0` can overflow,
/// hence the saturation.
#[inline]
fn q15mulr_sat(x: i16, y: i16) -> i16 {
    let p = (i32::from(x) * i32::from(y) + 0x4000) >> 15;
    p.clamp(i16::MIN.into(), i16::MAX.into()) as i16
}

impl UnaryOp {
    /// Applies the operation.
    ///
    /// Runs the host's vector instruction where there is one (x86_64 with
    /// SSE2), the portable code otherwise.
    #[inline]
    pub fn eval(self, a: V128) -> V128 {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if let Some(v) = super::sse2::unary(self, a) {
            return v;
        }
        self.eval_portable(a)
    }

    /// [`Self::eval`] in portable code, on every host.
    pub fn eval_portable(self, a: V128) -> V128 {
        use UnaryOp::*;
        match self {
            V128Not => !a,
            I8x16Abs => map1::<i8, 16>(a, i8::wrapping_abs),
            I8x16Neg => map1::<i8, 16>(a, i8::wrapping_neg),
            I8x16Popcnt => map1::<u8, 16>(a, |x| x.count_ones() as u8),
            I16x8ExtAddPairwiseI8x16S => extadd_pairwise::<i8, i16, 16, 8>(a),
            I16x8ExtAddPairwiseI8x16U => extadd_pairwise::<u8, u16, 16, 8>(a),
            I16x8Abs => map1::<i16, 8>(a, i16::wrapping_abs),
            I16x8Neg => map1::<i16, 8>(a, i16::wrapping_neg),
            I16x8ExtendLowI8x16S => extend::<i8, i16, 16, 8>(a, false),
            I16x8ExtendHighI8x16S => extend::<i8, i16, 16, 8>(a, true),
            I16x8ExtendLowI8x16U => extend::<u8, u16, 16, 8>(a, false),
            I16x8ExtendHighI8x16U => extend::<u8, u16, 16, 8>(a, true),
            I32x4ExtAddPairwiseI16x8S => extadd_pairwise::<i16, i32, 8, 4>(a),
            I32x4ExtAddPairwiseI16x8U => extadd_pairwise::<u16, u32, 8, 4>(a),
            I32x4Abs => map1::<i32, 4>(a, i32::wrapping_abs),
            I32x4Neg => map1::<i32, 4>(a, i32::wrapping_neg),
            I32x4ExtendLowI16x8S => extend::<i16, i32, 8, 4>(a, false),
            I32x4ExtendHighI16x8S => extend::<i16, i32, 8, 4>(a, true),
            I32x4ExtendLowI16x8U => extend::<u16, u32, 8, 4>(a, false),
            I32x4ExtendHighI16x8U => extend::<u16, u32, 8, 4>(a, true),
            I64x2Abs => map1::<i64, 2>(a, i64::wrapping_abs),
            I64x2Neg => map1::<i64, 2>(a, i64::wrapping_neg),
            I64x2ExtendLowI32x4S => extend::<i32, i64, 4, 2>(a, false),
            I64x2ExtendHighI32x4S => extend::<i32, i64, 4, 2>(a, true),
            I64x2ExtendLowI32x4U => extend::<u32, u64, 4, 2>(a, false),
            I64x2ExtendHighI32x4U => extend::<u32, u64, 4, 2>(a, true),
            F32x4Ceil => fun::<f32, 4>(a, WasmFloat::ceil),
            F32x4Floor => fun::<f32, 4>(a, WasmFloat::floor),
            F32x4Trunc => fun::<f32, 4>(a, WasmFloat::trunc),
            F32x4Nearest => fun::<f32, 4>(a, WasmFloat::nearest),
            // abs/neg are specified as sign-bit operations, so NaN payloads
            // must pass through untouched.
            F32x4Abs => a & !F32_SIGNS,
            F32x4Neg => a ^ F32_SIGNS,
            F32x4Sqrt => fun::<f32, 4>(a, WasmFloat::sqrt),
            F64x2Ceil => fun::<f64, 2>(a, WasmFloat::ceil),
            F64x2Floor => fun::<f64, 2>(a, WasmFloat::floor),
            F64x2Trunc => fun::<f64, 2>(a, WasmFloat::trunc),
            F64x2Nearest => fun::<f64, 2>(a, WasmFloat::nearest),
            F64x2Abs => a & !F64_SIGNS,
            F64x2Neg => a ^ F64_SIGNS,
            F64x2Sqrt => fun::<f64, 2>(a, WasmFloat::sqrt),
            // Rust's float-to-int `as` saturates and maps NaN to 0, which is
            // exactly `trunc_sat`.
            I32x4TruncSatF32x4S => join::<i32, 4>(split::<f32, 4>(a).map(|x| x as i32)),
            I32x4TruncSatF32x4U => join::<u32, 4>(split::<f32, 4>(a).map(|x| x as u32)),
            // Int-to-float `as` rounds to nearest, ties to even.
            F32x4ConvertI32x4S => join::<f32, 4>(split::<i32, 4>(a).map(|x| x as f32)),
            F32x4ConvertI32x4U => join::<f32, 4>(split::<u32, 4>(a).map(|x| x as f32)),
            I32x4TruncSatF64x2SZero => {
                let f = split::<f64, 2>(a);
                join::<i32, 4>([f[0] as i32, f[1] as i32, 0, 0])
            }
            I32x4TruncSatF64x2UZero => {
                let f = split::<f64, 2>(a);
                join::<u32, 4>([f[0] as u32, f[1] as u32, 0, 0])
            }
            F64x2ConvertLowI32x4S => {
                let i = split::<i32, 4>(a);
                join::<f64, 2>([i[0].into(), i[1].into()])
            }
            F64x2ConvertLowI32x4U => {
                let i = split::<u32, 4>(a);
                join::<f64, 2>([i[0].into(), i[1].into()])
            }
            F32x4DemoteF64x2Zero => {
                let f = split::<f64, 2>(a);
                join::<f32, 4>([float::demote(f[0]), float::demote(f[1]), 0.0, 0.0])
            }
            F64x2PromoteLowF32x4 => {
                let f = split::<f32, 4>(a);
                join::<f64, 2>([float::promote(f[0]), float::promote(f[1])])
            }
        }
    }
}

impl BinaryOp {
    /// Applies the operation to `a` (pushed first) and `b`.
    ///
    /// Runs the host's vector instruction where there is one (x86_64 with
    /// SSE2), the portable code otherwise.
    #[inline]
    pub fn eval(self, a: V128, b: V128) -> V128 {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if let Some(v) = super::sse2::binary(self, a, b) {
            return v;
        }
        self.eval_portable(a, b)
    }

    /// [`Self::eval`] in portable code, on every host.
    pub fn eval_portable(self, a: V128, b: V128) -> V128 {
        use BinaryOp::*;
        match self {
            I8x16Swizzle => {
                let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
                u128::from_le_bytes(b.map(|i| a.get(usize::from(i)).copied().unwrap_or(0)))
            }
            I8x16Eq => cmp::<u8, 16>(a, b, |x, y| x == y),
            I8x16Ne => cmp::<u8, 16>(a, b, |x, y| x != y),
            I8x16LtS => cmp::<i8, 16>(a, b, |x, y| x < y),
            I8x16LtU => cmp::<u8, 16>(a, b, |x, y| x < y),
            I8x16GtS => cmp::<i8, 16>(a, b, |x, y| x > y),
            I8x16GtU => cmp::<u8, 16>(a, b, |x, y| x > y),
            I8x16LeS => cmp::<i8, 16>(a, b, |x, y| x <= y),
            I8x16LeU => cmp::<u8, 16>(a, b, |x, y| x <= y),
            I8x16GeS => cmp::<i8, 16>(a, b, |x, y| x >= y),
            I8x16GeU => cmp::<u8, 16>(a, b, |x, y| x >= y),
            I16x8Eq => cmp::<u16, 8>(a, b, |x, y| x == y),
            I16x8Ne => cmp::<u16, 8>(a, b, |x, y| x != y),
            I16x8LtS => cmp::<i16, 8>(a, b, |x, y| x < y),
            I16x8LtU => cmp::<u16, 8>(a, b, |x, y| x < y),
            I16x8GtS => cmp::<i16, 8>(a, b, |x, y| x > y),
            I16x8GtU => cmp::<u16, 8>(a, b, |x, y| x > y),
            I16x8LeS => cmp::<i16, 8>(a, b, |x, y| x <= y),
            I16x8LeU => cmp::<u16, 8>(a, b, |x, y| x <= y),
            I16x8GeS => cmp::<i16, 8>(a, b, |x, y| x >= y),
            I16x8GeU => cmp::<u16, 8>(a, b, |x, y| x >= y),
            I32x4Eq => cmp::<u32, 4>(a, b, |x, y| x == y),
            I32x4Ne => cmp::<u32, 4>(a, b, |x, y| x != y),
            I32x4LtS => cmp::<i32, 4>(a, b, |x, y| x < y),
            I32x4LtU => cmp::<u32, 4>(a, b, |x, y| x < y),
            I32x4GtS => cmp::<i32, 4>(a, b, |x, y| x > y),
            I32x4GtU => cmp::<u32, 4>(a, b, |x, y| x > y),
            I32x4LeS => cmp::<i32, 4>(a, b, |x, y| x <= y),
            I32x4LeU => cmp::<u32, 4>(a, b, |x, y| x <= y),
            I32x4GeS => cmp::<i32, 4>(a, b, |x, y| x >= y),
            I32x4GeU => cmp::<u32, 4>(a, b, |x, y| x >= y),
            I64x2Eq => cmp::<u64, 2>(a, b, |x, y| x == y),
            I64x2Ne => cmp::<u64, 2>(a, b, |x, y| x != y),
            I64x2LtS => cmp::<i64, 2>(a, b, |x, y| x < y),
            I64x2GtS => cmp::<i64, 2>(a, b, |x, y| x > y),
            I64x2LeS => cmp::<i64, 2>(a, b, |x, y| x <= y),
            I64x2GeS => cmp::<i64, 2>(a, b, |x, y| x >= y),
            // IEEE comparisons: every ordered predicate is false on NaN and
            // `ne` is true, which is what Rust's operators implement.
            F32x4Eq => cmp::<f32, 4>(a, b, |x, y| x == y),
            F32x4Ne => cmp::<f32, 4>(a, b, |x, y| x != y),
            F32x4Lt => cmp::<f32, 4>(a, b, |x, y| x < y),
            F32x4Gt => cmp::<f32, 4>(a, b, |x, y| x > y),
            F32x4Le => cmp::<f32, 4>(a, b, |x, y| x <= y),
            F32x4Ge => cmp::<f32, 4>(a, b, |x, y| x >= y),
            F64x2Eq => cmp::<f64, 2>(a, b, |x, y| x == y),
            F64x2Ne => cmp::<f64, 2>(a, b, |x, y| x != y),
            F64x2Lt => cmp::<f64, 2>(a, b, |x, y| x < y),
            F64x2Gt => cmp::<f64, 2>(a, b, |x, y| x > y),
            F64x2Le => cmp::<f64, 2>(a, b, |x, y| x <= y),
            F64x2Ge => cmp::<f64, 2>(a, b, |x, y| x >= y),
            V128And => a & b,
            V128AndNot => a & !b,
            V128Or => a | b,
            V128Xor => a ^ b,
            I8x16NarrowI16x8S => {
                narrow::<i16, i8, 8, 16>(a, b, |x| x.clamp(i8::MIN.into(), i8::MAX.into()) as i8)
            }
            I8x16NarrowI16x8U => {
                narrow::<i16, u8, 8, 16>(a, b, |x| x.clamp(0, u8::MAX.into()) as u8)
            }
            I8x16Add => map2::<u8, 16>(a, b, u8::wrapping_add),
            I8x16AddSatS => map2::<i8, 16>(a, b, i8::saturating_add),
            I8x16AddSatU => map2::<u8, 16>(a, b, u8::saturating_add),
            I8x16Sub => map2::<u8, 16>(a, b, u8::wrapping_sub),
            I8x16SubSatS => map2::<i8, 16>(a, b, i8::saturating_sub),
            I8x16SubSatU => map2::<u8, 16>(a, b, u8::saturating_sub),
            I8x16MinS => map2::<i8, 16>(a, b, Ord::min),
            I8x16MinU => map2::<u8, 16>(a, b, Ord::min),
            I8x16MaxS => map2::<i8, 16>(a, b, Ord::max),
            I8x16MaxU => map2::<u8, 16>(a, b, Ord::max),
            I8x16AvgrU => map2::<u8, 16>(a, b, avgr_u8),
            I16x8Q15MulrSatS => map2::<i16, 8>(a, b, q15mulr_sat),
            I16x8NarrowI32x4S => {
                narrow::<i32, i16, 4, 8>(a, b, |x| x.clamp(i16::MIN.into(), i16::MAX.into()) as i16)
            }
            I16x8NarrowI32x4U => {
                narrow::<i32, u16, 4, 8>(a, b, |x| x.clamp(0, u16::MAX.into()) as u16)
            }
            I16x8Add => map2::<u16, 8>(a, b, u16::wrapping_add),
            I16x8AddSatS => map2::<i16, 8>(a, b, i16::saturating_add),
            I16x8AddSatU => map2::<u16, 8>(a, b, u16::saturating_add),
            I16x8Sub => map2::<u16, 8>(a, b, u16::wrapping_sub),
            I16x8SubSatS => map2::<i16, 8>(a, b, i16::saturating_sub),
            I16x8SubSatU => map2::<u16, 8>(a, b, u16::saturating_sub),
            I16x8Mul => map2::<u16, 8>(a, b, u16::wrapping_mul),
            I16x8MinS => map2::<i16, 8>(a, b, Ord::min),
            I16x8MinU => map2::<u16, 8>(a, b, Ord::min),
            I16x8MaxS => map2::<i16, 8>(a, b, Ord::max),
            I16x8MaxU => map2::<u16, 8>(a, b, Ord::max),
            I16x8AvgrU => map2::<u16, 8>(a, b, avgr_u16),
            I16x8ExtMulLowI8x16S => extmul::<i8, i16, 16, 8>(a, b, false),
            I16x8ExtMulHighI8x16S => extmul::<i8, i16, 16, 8>(a, b, true),
            I16x8ExtMulLowI8x16U => extmul::<u8, u16, 16, 8>(a, b, false),
            I16x8ExtMulHighI8x16U => extmul::<u8, u16, 16, 8>(a, b, true),
            I32x4Add => map2::<u32, 4>(a, b, u32::wrapping_add),
            I32x4Sub => map2::<u32, 4>(a, b, u32::wrapping_sub),
            I32x4Mul => map2::<u32, 4>(a, b, u32::wrapping_mul),
            I32x4MinS => map2::<i32, 4>(a, b, Ord::min),
            I32x4MinU => map2::<u32, 4>(a, b, Ord::min),
            I32x4MaxS => map2::<i32, 4>(a, b, Ord::max),
            I32x4MaxU => map2::<u32, 4>(a, b, Ord::max),
            I16x8RelaxedDotI8x16I7x16S => relaxed_dot_i8x16(a, b),
            I32x4DotI16x8S => {
                let (a, b) = (split::<i16, 8>(a), split::<i16, 8>(b));
                let prod = |i: usize| i32::from(a[i]) * i32::from(b[i]);
                // Each product fits in i32, but the sum of two
                // (-32768 * -32768) products is 2^31 and must wrap.
                join::<i32, 4>(from_fn(|i| prod(2 * i).wrapping_add(prod(2 * i + 1))))
            }
            I32x4ExtMulLowI16x8S => extmul::<i16, i32, 8, 4>(a, b, false),
            I32x4ExtMulHighI16x8S => extmul::<i16, i32, 8, 4>(a, b, true),
            I32x4ExtMulLowI16x8U => extmul::<u16, u32, 8, 4>(a, b, false),
            I32x4ExtMulHighI16x8U => extmul::<u16, u32, 8, 4>(a, b, true),
            I64x2Add => map2::<u64, 2>(a, b, u64::wrapping_add),
            I64x2Sub => map2::<u64, 2>(a, b, u64::wrapping_sub),
            I64x2Mul => map2::<u64, 2>(a, b, u64::wrapping_mul),
            I64x2ExtMulLowI32x4S => extmul::<i32, i64, 4, 2>(a, b, false),
            I64x2ExtMulHighI32x4S => extmul::<i32, i64, 4, 2>(a, b, true),
            I64x2ExtMulLowI32x4U => extmul::<u32, u64, 4, 2>(a, b, false),
            I64x2ExtMulHighI32x4U => extmul::<u32, u64, 4, 2>(a, b, true),
            F32x4Add => fbin::<f32, 4>(a, b, |x, y| x + y),
            F32x4Sub => fbin::<f32, 4>(a, b, |x, y| x - y),
            F32x4Mul => fbin::<f32, 4>(a, b, |x, y| x * y),
            F32x4Div => fbin::<f32, 4>(a, b, |x, y| x / y),
            F32x4Min => map2::<f32, 4>(a, b, float::min),
            F32x4Max => map2::<f32, 4>(a, b, float::max),
            F32x4PMin => map2::<f32, 4>(a, b, float::pmin),
            F32x4PMax => map2::<f32, 4>(a, b, float::pmax),
            F64x2Add => fbin::<f64, 2>(a, b, |x, y| x + y),
            F64x2Sub => fbin::<f64, 2>(a, b, |x, y| x - y),
            F64x2Mul => fbin::<f64, 2>(a, b, |x, y| x * y),
            F64x2Div => fbin::<f64, 2>(a, b, |x, y| x / y),
            F64x2Min => map2::<f64, 2>(a, b, float::min),
            F64x2Max => map2::<f64, 2>(a, b, float::max),
            F64x2PMin => map2::<f64, 2>(a, b, float::pmin),
            F64x2PMax => map2::<f64, 2>(a, b, float::pmax),
        }
    }
}

impl TernaryOp {
    /// Applies the operation to the operands in push order.
    pub fn eval(self, a: V128, b: V128, c: V128) -> V128 {
        match self {
            // Bits of `a` where the mask `c` is set, of `b` elsewhere.
            TernaryOp::V128Bitselect => (a & c) | (b & !c),
            // Relaxed SIMD's deterministic choices (the interpreter gives
            // the same result on every host): one rounding, as `fma`.
            TernaryOp::F32x4RelaxedMadd => {
                map3::<f32, 4>(a, b, c, |x, y, z| float::fma_f32(x, y, z).canon())
            }
            TernaryOp::F32x4RelaxedNmadd => {
                map3::<f32, 4>(a, b, c, |x, y, z| float::fma_f32(-x, y, z).canon())
            }
            TernaryOp::F64x2RelaxedMadd => {
                map3::<f64, 2>(a, b, c, |x, y, z| libm::fma(x, y, z).canon())
            }
            TernaryOp::F64x2RelaxedNmadd => {
                map3::<f64, 2>(a, b, c, |x, y, z| libm::fma(-x, y, z).canon())
            }
            TernaryOp::I32x4RelaxedDotI8x16I7x16AddS => {
                let pairs = split::<i16, 8>(relaxed_dot_i8x16(a, b));
                let acc = split::<i32, 4>(c);
                join::<i32, 4>(from_fn(|i| {
                    let sum = i32::from(pairs[2 * i]) + i32::from(pairs[2 * i + 1]);
                    sum.wrapping_add(acc[i])
                }))
            }
        }
    }
}

impl ShiftOp {
    /// Shifts every lane of `a` by `amount` modulo the lane width.
    ///
    /// Runs the host's vector instruction where there is one (x86_64 with
    /// SSE2), the portable code otherwise.
    #[inline]
    pub fn eval(self, a: V128, amount: u32) -> V128 {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if let Some(v) = super::sse2::shift(self, a, amount) {
            return v;
        }
        self.eval_portable(a, amount)
    }

    /// [`Self::eval`] in portable code, on every host.
    pub fn eval_portable(self, a: V128, amount: u32) -> V128 {
        use ShiftOp::*;
        // `wrapping_shl`/`wrapping_shr` mask the amount by the bit width,
        // which is the modulo the spec asks for; arithmetic vs logical right
        // shift follows from the signedness of the lane type.
        match self {
            I8x16Shl => map1::<u8, 16>(a, |x| x.wrapping_shl(amount)),
            I8x16ShrS => map1::<i8, 16>(a, |x| x.wrapping_shr(amount)),
            I8x16ShrU => map1::<u8, 16>(a, |x| x.wrapping_shr(amount)),
            I16x8Shl => map1::<u16, 8>(a, |x| x.wrapping_shl(amount)),
            I16x8ShrS => map1::<i16, 8>(a, |x| x.wrapping_shr(amount)),
            I16x8ShrU => map1::<u16, 8>(a, |x| x.wrapping_shr(amount)),
            I32x4Shl => map1::<u32, 4>(a, |x| x.wrapping_shl(amount)),
            I32x4ShrS => map1::<i32, 4>(a, |x| x.wrapping_shr(amount)),
            I32x4ShrU => map1::<u32, 4>(a, |x| x.wrapping_shr(amount)),
            I64x2Shl => map1::<u64, 2>(a, |x| x.wrapping_shl(amount)),
            I64x2ShrS => map1::<i64, 2>(a, |x| x.wrapping_shr(amount)),
            I64x2ShrU => map1::<u64, 2>(a, |x| x.wrapping_shr(amount)),
        }
    }
}

/// 1 if every `bits`-wide lane of `a` is non-zero.
#[inline]
fn all_true(a: V128, bits: u32) -> u32 {
    let mask = low_mask(bits);
    u32::from((0..128 / bits).all(|i| (a >> (i * bits)) & mask != 0))
}

/// Gathers the top (sign) bit of every `bits`-wide lane, lane 0 in bit 0.
#[inline]
fn bitmask(a: V128, bits: u32) -> u32 {
    (0..128 / bits).fold(0, |m, i| {
        m | ((((a >> (i * bits + bits - 1)) & 1) as u32) << i)
    })
}

impl TestOp {
    /// Reduces the vector to an i32 (returned as its u32 bits).
    pub fn eval(self, a: V128) -> u32 {
        match self {
            TestOp::V128AnyTrue => u32::from(a != 0),
            TestOp::I8x16AllTrue => all_true(a, 8),
            TestOp::I8x16Bitmask => bitmask(a, 8),
            TestOp::I16x8AllTrue => all_true(a, 16),
            TestOp::I16x8Bitmask => bitmask(a, 16),
            TestOp::I32x4AllTrue => all_true(a, 32),
            TestOp::I32x4Bitmask => bitmask(a, 32),
            TestOp::I64x2AllTrue => all_true(a, 64),
            TestOp::I64x2Bitmask => bitmask(a, 64),
        }
    }
}

#[cfg(test)]
mod tests;
