//! Float lane arithmetic with WebAssembly's NaN and signed-zero rules.
//!
//! Wasm lets arithmetic return any canonical NaN when no input is a
//! non-canonical NaN, and any "arithmetic" (quiet) NaN otherwise. Hosts
//! differ in which NaN they produce (sign, payload propagation) and `libm`'s
//! software paths may even return a signalling input unchanged, so every
//! arithmetic NaN result is replaced by the positive canonical NaN. That is
//! valid in every case the spec allows, and makes results identical on all
//! hosts. Pure bit operations (`neg`, `abs`, `pmin`, `pmax`) do not come
//! through here, so they keep NaN payloads as the spec requires.

use core::ops::{Add, Div, Mul, Sub};

use super::lanes::Lane;

/// A float lane type with the operations the SIMD instructions need.
pub(crate) trait WasmFloat:
    Lane
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
{
    /// The positive canonical NaN.
    const CANONICAL_NAN: Self;

    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
    fn sqrt(self) -> Self;
    fn ceil(self) -> Self;
    fn floor(self) -> Self;
    fn trunc(self) -> Self;
    /// Round to nearest, ties to even.
    fn nearest(self) -> Self;

    /// Replaces a NaN result with the canonical NaN (see the module docs).
    #[inline]
    fn canon(self) -> Self {
        if self.is_nan() {
            Self::CANONICAL_NAN
        } else {
            self
        }
    }
}

macro_rules! wasm_float {
    ($t:ty, $nan:expr, $sqrt:path, $ceil:path, $floor:path, $trunc:path, $rint:path) => {
        impl WasmFloat for $t {
            const CANONICAL_NAN: Self = <$t>::from_bits($nan);
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline]
            fn is_sign_negative(self) -> bool {
                <$t>::is_sign_negative(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            #[inline]
            fn ceil(self) -> Self {
                $ceil(self)
            }
            #[inline]
            fn floor(self) -> Self {
                $floor(self)
            }
            #[inline]
            fn trunc(self) -> Self {
                $trunc(self)
            }
            #[inline]
            fn nearest(self) -> Self {
                // `rint` honours the current rounding mode, which Rust code
                // never changes from round-to-nearest-even.
                $rint(self)
            }
        }
    };
}
wasm_float!(
    f32,
    0x7fc0_0000,
    libm::sqrtf,
    libm::ceilf,
    libm::floorf,
    libm::truncf,
    libm::rintf
);
wasm_float!(
    f64,
    0x7ff8_0000_0000_0000,
    libm::sqrt,
    libm::ceil,
    libm::floor,
    libm::trunc,
    libm::rint
);

/// Wasm `fmin`: NaN if either input is NaN, and `-0.0` is below `+0.0`
/// (unlike IEEE `minNum`, which Rust's `f32::min` implements).
#[inline]
pub(crate) fn min<F: WasmFloat>(a: F, b: F) -> F {
    if a.is_nan() || b.is_nan() {
        F::CANONICAL_NAN
    } else if a == b {
        // Only differs from either operand for a pair of zeros of opposite
        // sign, where the negative one wins.
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

/// Wasm `fmax`: NaN if either input is NaN, and `+0.0` is above `-0.0`.
#[inline]
pub(crate) fn max<F: WasmFloat>(a: F, b: F) -> F {
    if a.is_nan() || b.is_nan() {
        F::CANONICAL_NAN
    } else if a == b {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Wasm `pmin`: `b < a ? b : a`, a pure select that returns an operand
/// untouched (NaN payload included), matching C's `<` idiom.
#[inline]
pub(crate) fn pmin<F: WasmFloat>(a: F, b: F) -> F {
    if b < a { b } else { a }
}

/// Wasm `pmax`: `a < b ? b : a`.
#[inline]
pub(crate) fn pmax<F: WasmFloat>(a: F, b: F) -> F {
    if a < b { b } else { a }
}

/// `f32` to `f64`, exact for every non-NaN input.
#[inline]
pub(crate) fn promote(x: f32) -> f64 {
    if x.is_nan() {
        f64::CANONICAL_NAN
    } else {
        f64::from(x)
    }
}

/// `f64` to `f32`, rounding to nearest-even and overflowing to infinity.
#[inline]
pub(crate) fn demote(x: f64) -> f32 {
    if x.is_nan() {
        f32::CANONICAL_NAN
    } else {
        x as f32
    }
}

/// `f64::from(x)`, by bit manipulation: under qemu-s390x the conversion
/// instruction gave wrong results in `fma_f32`'s context (the `f32` bits
/// read as the high word of an `f64`), and the integer operations do not.
fn widen(x: f32) -> f64 {
    let bits = x.to_bits();
    let sign = u64::from(bits >> 31) << 63;
    let exp = (bits >> 23) & 0xff;
    let mant = u64::from(bits & 0x7f_ffff);
    let out = match exp {
        0 if mant == 0 => sign,
        // Subnormal: normalise the mantissa into the wider exponent range.
        0 => {
            let shift = mant.leading_zeros() - 40;
            let m = (mant << shift) & 0x7f_ffff;
            let e = 1023 - 126 - u64::from(shift);
            sign | (e << 52) | (m << 29)
        }
        // Infinity and NaN keep their payload.
        0xff => sign | (0x7ff << 52) | (mant << 29),
        _ => sign | ((u64::from(exp) + 1023 - 127) << 52) | (mant << 29),
    };
    f64::from_bits(out)
}

/// `x * y + z` in `f32` with a single rounding, computed in `f64`
/// arithmetic alone, so it gives the same bits on every host.
///
/// (`libm::fmaf`, and `f64::from` here, returned wrong results under
/// qemu-s390x for the spec's double-rounding test; see [`widen`].) The
/// product of
/// two `f32`s is exact in `f64`; the sum is then rounded to odd (the exact
/// sum if representable, else its neighbour with an odd last bit, found
/// from the exact error of the sum), and a value rounded to odd with at
/// least two more bits than `f32` rounds to `f32` exactly as the exact
/// sum would.
pub(crate) fn fma_f32(x: f32, y: f32, z: f32) -> f32 {
    let p = widen(x) * widen(y);
    let z = widen(z);
    let s = p + z;
    if !s.is_finite() {
        return s as f32;
    }
    // Two-sum: `p + z == s + err` exactly.
    let bp = s - z;
    let bz = s - bp;
    let err = (p - bp) + (z - bz);
    if err == 0.0 || s.to_bits() & 1 == 1 {
        return s as f32;
    }
    // The exact sum lies strictly between `s` and its neighbour towards
    // `err`, whose last bit is odd.
    let up = err > 0.0;
    let odd = if s == 0.0 {
        f64::from_bits(1) * if up { 1.0 } else { -1.0 }
    } else if (s > 0.0) == up {
        f64::from_bits(s.to_bits() + 1)
    } else {
        f64::from_bits(s.to_bits() - 1)
    };
    odd as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_nan_and_zeros() {
        let n = f32::from_bits(0x7f80_0001);
        assert!(min(1.0f32, n).is_nan());
        assert!(min(n, 1.0f32).is_nan());
        assert!(max(f32::NAN, f32::INFINITY).is_nan());
        assert_eq!(min(1.0f32, n).to_bits(), 0x7fc0_0000);
        assert_eq!(min(0.0f32, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(min(-0.0f32, 0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(max(0.0f32, -0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(max(-0.0f64, 0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(min(-1.0f64, 2.0), -1.0);
        assert_eq!(max(-1.0f64, 2.0), 2.0);
        assert_eq!(min(f64::NEG_INFINITY, 0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn pmin_pmax_are_selects() {
        let n = f32::from_bits(0x7fa0_0001);
        // NaN compares false, so the first operand comes back bit-exact.
        assert_eq!(pmin(n, 1.0f32).to_bits(), n.to_bits());
        assert_eq!(pmin(1.0f32, n), 1.0);
        assert_eq!(pmax(n, 1.0f32).to_bits(), n.to_bits());
        assert_eq!(pmax(1.0f32, n), 1.0);
        // Zeros compare equal, so the first operand wins.
        assert_eq!(pmin(0.0f64, -0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(pmax(-0.0f64, 0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(pmin(2.0f64, 1.0), 1.0);
        assert_eq!(pmax(1.0f64, 2.0), 2.0);
    }

    #[test]
    fn rounding() {
        assert_eq!(WasmFloat::nearest(2.5f32), 2.0);
        assert_eq!(WasmFloat::nearest(3.5f32), 4.0);
        assert_eq!(WasmFloat::nearest(-2.5f64), -2.0);
        assert_eq!(WasmFloat::nearest(-0.4f64).to_bits(), (-0.0f64).to_bits());
        assert_eq!(WasmFloat::nearest(8_388_609.0f32), 8_388_609.0);
        assert_eq!(
            WasmFloat::nearest(4_503_599_627_370_497.0f64),
            4_503_599_627_370_497.0
        );
        assert_eq!(WasmFloat::ceil(-0.5f32).to_bits(), (-0.0f32).to_bits());
        assert_eq!(WasmFloat::floor(-0.5f64), -1.0);
        assert_eq!(WasmFloat::trunc(-1.9f32), -1.0);
        assert_eq!(WasmFloat::trunc(-0.9f64).to_bits(), (-0.0f64).to_bits());
        assert_eq!(WasmFloat::sqrt(2.0f64), core::f64::consts::SQRT_2);
        assert_eq!(WasmFloat::sqrt(-1.0f32).canon().to_bits(), 0x7fc0_0000);
        let snan = f32::from_bits(0x7f80_0001);
        assert_eq!(WasmFloat::ceil(snan).canon().to_bits(), 0x7fc0_0000);
    }

    #[test]
    fn promote_demote() {
        assert_eq!(promote(1.5), 1.5);
        assert_eq!(promote(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(
            promote(f32::from_bits(0xff80_0001)).to_bits(),
            0x7ff8_0000_0000_0000
        );
        assert_eq!(demote(1e300), f32::INFINITY);
        assert_eq!(demote(-1e300), f32::NEG_INFINITY);
        // Exactly halfway between 1.0 and the next f32: ties to even.
        assert_eq!(demote(1.0 + f64::from(f32::EPSILON) / 2.0), 1.0);
        assert_eq!(demote(f64::NAN).to_bits(), 0x7fc0_0000);
    }

    #[test]
    fn fma_f32_rounds_once() {
        // The relaxed-simd spec's case: two roundings give 0, one 2^-37.
        let x = f32::from_bits(0x3f80_0002); // 1 + 2^-22
        let y = f32::from_bits(0x3f80_0100); // 1 + 2^-15
        let z = -f32::from_bits(0x3f80_0102); // -(1 + 2^-15 + 2^-22)
        assert_eq!(super::fma_f32(x, y, z), f32::powi(2.0, -37));
        // The same at run time (constants could be folded by the compiler).
        let (bx, by, bz) = core::hint::black_box((x, y, z));
        assert_eq!(super::fma_f32(bx, by, bz), f32::powi(2.0, -37));
        assert_eq!(super::fma_f32(-x, y, -z), -f32::powi(2.0, -37));
        // Exact and special cases.
        assert_eq!(super::fma_f32(2.0, 3.0, 4.0), 10.0);
        assert!(super::fma_f32(f32::INFINITY, 0.0, 1.0).is_nan());
        assert_eq!(super::fma_f32(f32::MAX, 2.0, -f32::MAX), f32::MAX);
        // Halfway between two f32s after the product, broken by `z`.
        let tiny = f32::from_bits(1);
        let one_ulp = f32::EPSILON;
        assert_eq!(super::fma_f32(1.0 + one_ulp, 1.0, tiny), 1.0 + one_ulp);
    }

    #[test]
    fn widen_matches_the_conversion() {
        for bits in [
            0u32,
            1,
            0x7f_ffff,
            0x80_0000,
            0x3f80_0002,
            0x7f7f_ffff,
            0x7f80_0000,
            0x7fc0_0001,
        ] {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let x = core::hint::black_box(x);
                assert_eq!(
                    super::widen(x).to_bits(),
                    f64::from(x).to_bits(),
                    "{bits:#x}"
                );
            }
        }
    }
}
