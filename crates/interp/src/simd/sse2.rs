//! SSE2 versions of the lane-wise operations that have a direct SSE2
//! instruction, for x86_64 hosts (where SSE2 is part of the baseline, except
//! on soft-float targets such as `x86_64-unknown-none`, which keep the
//! portable code: the module's `cfg` asks for the `sse2` target feature).
//!
//! The portable code in `ops` works on the `u128` with shifts and masks.
//! LLVM keeps those values in general-purpose register pairs and cannot
//! vectorise them, so `i16x8.add` there is some sixty scalar instructions;
//! here it is one `paddw` plus the moves in and out of an XMM register.
//! In the `simd` benchmark the portable lane code took about 80% of the
//! run time.
//!
//! Each function returns `None` for an operation it does not cover, and the
//! caller falls back to the portable code. Results equal the portable
//! code's bit for bit, NaNs included (float arithmetic canonicalises NaN
//! results as the portable code does); `tests` checks every covered
//! operation against it on random and edge-case vectors.

use super::V128;
use super::ops::{BinaryOp, ShiftOp, UnaryOp};
use core::arch::x86_64::*;

/// The vector in an XMM register. On x86_64 (little-endian) a `u128`'s
/// memory image is the wasm lane image, lane 0 in the lowest bytes, which
/// is also `__m128i`'s lane order.
#[inline(always)]
fn xmm(v: V128) -> __m128i {
    // SAFETY: both types are 16 bytes of plain data; every bit pattern is
    // a value of each.
    unsafe { core::mem::transmute::<V128, __m128i>(v) }
}

/// The inverse of [`xmm`].
#[inline(always)]
fn int(v: __m128i) -> V128 {
    // SAFETY: as for `xmm`.
    unsafe { core::mem::transmute::<__m128i, V128>(v) }
}

/// `f32x4` arithmetic with NaN results replaced by the canonical NaN (as
/// `fbin` in the portable code does).
#[inline(always)]
fn f32x4(a: V128, b: V128, f: impl Fn(__m128, __m128) -> __m128) -> V128 {
    // SAFETY: this module is only compiled where SSE2 is enabled (its cfg);
    // the intrinsics only compute on register values.
    unsafe {
        let r = f(_mm_castsi128_ps(xmm(a)), _mm_castsi128_ps(xmm(b)));
        let nan = _mm_cmpunord_ps(r, r);
        let canonical = _mm_castsi128_ps(_mm_set1_epi32(0x7fc0_0000));
        int(_mm_castps_si128(_mm_or_ps(
            _mm_andnot_ps(nan, r),
            _mm_and_ps(nan, canonical),
        )))
    }
}

/// `f64x2` arithmetic with NaN results canonicalised.
#[inline(always)]
fn f64x2(a: V128, b: V128, f: impl Fn(__m128d, __m128d) -> __m128d) -> V128 {
    // SAFETY: as for `f32x4`.
    unsafe {
        let r = f(_mm_castsi128_pd(xmm(a)), _mm_castsi128_pd(xmm(b)));
        let nan = _mm_cmpunord_pd(r, r);
        let canonical = _mm_castsi128_pd(_mm_set1_epi64x(0x7ff8_0000_0000_0000));
        int(_mm_castpd_si128(_mm_or_pd(
            _mm_andnot_pd(nan, r),
            _mm_and_pd(nan, canonical),
        )))
    }
}

/// `v128 x v128 -> v128` operations with an SSE2 instruction.
#[inline]
pub(crate) fn binary(op: BinaryOp, a: V128, b: V128) -> Option<V128> {
    use BinaryOp::*;
    let (x, y) = (xmm(a), xmm(b));
    // SAFETY: this module is only compiled where SSE2 is enabled (its cfg);
    // the intrinsics only compute on register values.
    let r = unsafe {
        let ones = _mm_set1_epi32(-1);
        match op {
            V128And => _mm_and_si128(x, y),
            V128AndNot => _mm_andnot_si128(y, x),
            V128Or => _mm_or_si128(x, y),
            V128Xor => _mm_xor_si128(x, y),
            I8x16Add => _mm_add_epi8(x, y),
            I8x16Sub => _mm_sub_epi8(x, y),
            I8x16AddSatS => _mm_adds_epi8(x, y),
            I8x16AddSatU => _mm_adds_epu8(x, y),
            I8x16SubSatS => _mm_subs_epi8(x, y),
            I8x16SubSatU => _mm_subs_epu8(x, y),
            I8x16MinU => _mm_min_epu8(x, y),
            I8x16MaxU => _mm_max_epu8(x, y),
            I8x16AvgrU => _mm_avg_epu8(x, y),
            I8x16Eq => _mm_cmpeq_epi8(x, y),
            I8x16Ne => _mm_xor_si128(_mm_cmpeq_epi8(x, y), ones),
            I8x16GtS => _mm_cmpgt_epi8(x, y),
            I8x16LtS => _mm_cmpgt_epi8(y, x),
            I8x16NarrowI16x8S => _mm_packs_epi16(x, y),
            I8x16NarrowI16x8U => _mm_packus_epi16(x, y),
            I16x8Add => _mm_add_epi16(x, y),
            I16x8Sub => _mm_sub_epi16(x, y),
            I16x8Mul => _mm_mullo_epi16(x, y),
            I16x8AddSatS => _mm_adds_epi16(x, y),
            I16x8AddSatU => _mm_adds_epu16(x, y),
            I16x8SubSatS => _mm_subs_epi16(x, y),
            I16x8SubSatU => _mm_subs_epu16(x, y),
            I16x8MinS => _mm_min_epi16(x, y),
            I16x8MaxS => _mm_max_epi16(x, y),
            I16x8AvgrU => _mm_avg_epu16(x, y),
            I16x8Eq => _mm_cmpeq_epi16(x, y),
            I16x8Ne => _mm_xor_si128(_mm_cmpeq_epi16(x, y), ones),
            I16x8GtS => _mm_cmpgt_epi16(x, y),
            I16x8LtS => _mm_cmpgt_epi16(y, x),
            I16x8NarrowI32x4S => _mm_packs_epi32(x, y),
            I32x4Add => _mm_add_epi32(x, y),
            I32x4Sub => _mm_sub_epi32(x, y),
            I32x4Eq => _mm_cmpeq_epi32(x, y),
            I32x4Ne => _mm_xor_si128(_mm_cmpeq_epi32(x, y), ones),
            I32x4GtS => _mm_cmpgt_epi32(x, y),
            I32x4LtS => _mm_cmpgt_epi32(y, x),
            I32x4DotI16x8S => _mm_madd_epi16(x, y),
            I64x2Add => _mm_add_epi64(x, y),
            I64x2Sub => _mm_sub_epi64(x, y),
            F32x4Add => return Some(f32x4(a, b, |p, q| _mm_add_ps(p, q))),
            F32x4Sub => return Some(f32x4(a, b, |p, q| _mm_sub_ps(p, q))),
            F32x4Mul => return Some(f32x4(a, b, |p, q| _mm_mul_ps(p, q))),
            F32x4Div => return Some(f32x4(a, b, |p, q| _mm_div_ps(p, q))),
            F64x2Add => return Some(f64x2(a, b, |p, q| _mm_add_pd(p, q))),
            F64x2Sub => return Some(f64x2(a, b, |p, q| _mm_sub_pd(p, q))),
            F64x2Mul => return Some(f64x2(a, b, |p, q| _mm_mul_pd(p, q))),
            F64x2Div => return Some(f64x2(a, b, |p, q| _mm_div_pd(p, q))),
            _ => return None,
        }
    };
    Some(int(r))
}

/// `v128 -> v128` operations with a short SSE2 sequence.
#[inline]
pub(crate) fn unary(op: UnaryOp, a: V128) -> Option<V128> {
    use UnaryOp::*;
    let x = xmm(a);
    // SAFETY: as for `binary`.
    let r = unsafe {
        let zero = _mm_setzero_si128();
        match op {
            V128Not => _mm_xor_si128(x, _mm_set1_epi32(-1)),
            I8x16Neg => _mm_sub_epi8(zero, x),
            I16x8Neg => _mm_sub_epi16(zero, x),
            I32x4Neg => _mm_sub_epi32(zero, x),
            I64x2Neg => _mm_sub_epi64(zero, x),
            // Interleaving with zeros widens unsigned lanes; interleaving a
            // vector with itself and shifting arithmetically widens signed
            // ones.
            I16x8ExtendLowI8x16U => _mm_unpacklo_epi8(x, zero),
            I16x8ExtendHighI8x16U => _mm_unpackhi_epi8(x, zero),
            I16x8ExtendLowI8x16S => _mm_srai_epi16::<8>(_mm_unpacklo_epi8(x, x)),
            I16x8ExtendHighI8x16S => _mm_srai_epi16::<8>(_mm_unpackhi_epi8(x, x)),
            I32x4ExtendLowI16x8U => _mm_unpacklo_epi16(x, zero),
            I32x4ExtendHighI16x8U => _mm_unpackhi_epi16(x, zero),
            I32x4ExtendLowI16x8S => _mm_srai_epi32::<16>(_mm_unpacklo_epi16(x, x)),
            I32x4ExtendHighI16x8S => _mm_srai_epi32::<16>(_mm_unpackhi_epi16(x, x)),
            I64x2ExtendLowI32x4U => _mm_unpacklo_epi32(x, zero),
            I64x2ExtendHighI32x4U => _mm_unpackhi_epi32(x, zero),
            _ => return None,
        }
    };
    Some(int(r))
}

/// Lane shifts with an SSE2 instruction. The amount is taken modulo the
/// lane width, as wasm specifies, before it reaches the instruction (which
/// would otherwise saturate).
#[inline]
pub(crate) fn shift(op: ShiftOp, a: V128, amount: u32) -> Option<V128> {
    use ShiftOp::*;
    let x = xmm(a);
    // SAFETY: as for `binary`.
    let r = unsafe {
        let n = |bits: u32| _mm_cvtsi32_si128((amount & (bits - 1)) as i32);
        match op {
            I16x8Shl => _mm_sll_epi16(x, n(16)),
            I16x8ShrS => _mm_sra_epi16(x, n(16)),
            I16x8ShrU => _mm_srl_epi16(x, n(16)),
            I32x4Shl => _mm_sll_epi32(x, n(32)),
            I32x4ShrS => _mm_sra_epi32(x, n(32)),
            I32x4ShrU => _mm_srl_epi32(x, n(32)),
            I64x2Shl => _mm_sll_epi64(x, n(64)),
            I64x2ShrU => _mm_srl_epi64(x, n(64)),
            _ => return None,
        }
    };
    Some(int(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors that reach the edges of every lane width: zero, all ones,
    /// each lane's minimum and maximum, NaNs (quiet, signalling, negative)
    /// and infinities, plus pseudo-random ones.
    fn samples() -> alloc::vec::Vec<V128> {
        let mut v: alloc::vec::Vec<V128> = alloc::vec![
            0,
            u128::MAX,
            0x8080_8080_8080_8080_8080_8080_8080_8080,
            0x7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f_7f7f,
            0x8000_7fff_8000_7fff_0001_ffff_0000_8001,
            0x8000_0000_7fff_ffff_ffff_ffff_0000_0001,
            0x7fc0_0000_7f80_0001_ff80_0000_7f80_0000,
            0xffc0_0000_0000_0000_8000_0000_3f80_0000,
            0x7ff8_0000_0000_0001_7ff0_0000_0000_0000,
            0xfff0_0000_0000_0000_7ff0_0000_0000_0001,
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200 {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            v.push(u128::from(next()) | (u128::from(next()) << 64));
        }
        v
    }

    #[test]
    fn binary_ops_equal_the_portable_code() {
        let samples = samples();
        let mut covered = 0;
        for &op in BinaryOp::ALL {
            for &a in &samples {
                for &b in samples.iter().step_by(7) {
                    match binary(op, a, b) {
                        Some(fast) => assert_eq!(
                            fast,
                            op.eval_portable(a, b),
                            "{} {a:#034x} {b:#034x}",
                            op.name()
                        ),
                        None => continue,
                    }
                }
            }
            covered += usize::from(binary(op, 0, 0).is_some());
        }
        assert_eq!(covered, 51, "binary ops with an SSE2 version");
    }

    #[test]
    fn unary_ops_equal_the_portable_code() {
        let mut covered = 0;
        for &op in UnaryOp::ALL {
            for &a in &samples() {
                if let Some(fast) = unary(op, a) {
                    assert_eq!(fast, op.eval_portable(a), "{} {a:#034x}", op.name());
                }
            }
            covered += usize::from(unary(op, 0).is_some());
        }
        assert_eq!(covered, 15, "unary ops with an SSE2 version");
    }

    #[test]
    fn shifts_equal_the_portable_code_for_every_amount() {
        let mut covered = 0;
        for &op in ShiftOp::ALL {
            for &a in samples().iter().step_by(3) {
                for amount in (0..130).chain([u32::MAX, 0x8000_0010]) {
                    if let Some(fast) = shift(op, a, amount) {
                        assert_eq!(
                            fast,
                            op.eval_portable(a, amount),
                            "{} {a:#034x} by {amount}",
                            op.name()
                        );
                    }
                }
            }
            covered += usize::from(shift(op, 0, 0).is_some());
        }
        assert_eq!(covered, 8, "shifts with an SSE2 version");
    }
}
