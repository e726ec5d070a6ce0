//! Scalar numeric semantics that are more than one Rust operator: IEEE
//! `min`/`max`, rounding, and the trapping float-to-int truncations.
//!
//! Rounding goes through `libm` so results do not depend on the host's
//! `std` or FPU mode; NaN results of rounding ops are made quiet explicitly
//! because `libm` may hand a signalling NaN input back unchanged, and wasm
//! requires an arithmetic (quiet) NaN.

use kiln_environ::TrapCode;

const F32_QUIET: u32 = 0x0040_0000;
const F64_QUIET: u64 = 0x0008_0000_0000_0000;

#[inline]
pub fn f32_of(bits: u64) -> f32 {
    f32::from_bits(bits as u32)
}

#[inline]
pub fn f64_of(bits: u64) -> f64 {
    f64::from_bits(bits)
}

#[inline]
pub fn f32_bits(x: f32) -> u64 {
    x.to_bits() as u64
}

#[inline]
pub fn f64_bits(x: f64) -> u64 {
    x.to_bits()
}

#[inline]
fn quiet32(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(x.to_bits() | F32_QUIET)
    } else {
        x
    }
}

#[inline]
fn quiet64(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(x.to_bits() | F64_QUIET)
    } else {
        x
    }
}

/// Applies a rounding function, keeping NaNs quiet.
#[inline]
pub fn round32(x: f32, f: fn(f32) -> f32) -> f32 {
    if x.is_nan() { quiet32(x) } else { f(x) }
}

/// Applies a rounding function, keeping NaNs quiet.
#[inline]
pub fn round64(x: f64, f: fn(f64) -> f64) -> f64 {
    if x.is_nan() { quiet64(x) } else { f(x) }
}

/// `fN.min`: NaN if either is NaN; `-0 < +0`.
#[inline]
pub fn fmin32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        // Arithmetic on a NaN yields a quiet NaN carrying a payload.
        return quiet32(if a.is_nan() { a } else { b });
    }
    if a == b {
        // Only ±0 compare equal with different bits: min prefers -0.
        return f32::from_bits(a.to_bits() | b.to_bits());
    }
    if a < b { a } else { b }
}

/// `fN.max`: NaN if either is NaN; `+0 > -0`.
#[inline]
pub fn fmax32(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        return quiet32(if a.is_nan() { a } else { b });
    }
    if a == b {
        return f32::from_bits(a.to_bits() & b.to_bits());
    }
    if a > b { a } else { b }
}

/// See [`fmin32`].
#[inline]
pub fn fmin64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return quiet64(if a.is_nan() { a } else { b });
    }
    if a == b {
        return f64::from_bits(a.to_bits() | b.to_bits());
    }
    if a < b { a } else { b }
}

/// See [`fmax32`].
#[inline]
pub fn fmax64(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return quiet64(if a.is_nan() { a } else { b });
    }
    if a == b {
        return f64::from_bits(a.to_bits() & b.to_bits());
    }
    if a > b { a } else { b }
}

/// Checks a trapping truncation's input: NaN is an invalid conversion,
/// anything whose truncation falls outside `(lo, hi)` (exclusive bounds,
/// chosen exactly representable) overflows.
#[inline]
fn check(x: f64, lo: f64, hi: f64) -> Result<(), TrapCode> {
    if x.is_nan() {
        Err(TrapCode::BadConversionToInteger)
    } else if x <= lo || x >= hi {
        Err(TrapCode::IntegerOverflow)
    } else {
        Ok(())
    }
}

// Every f32 widens to f64 exactly, so one set of f64 bounds per target
// type serves both source widths.

/// `i32.trunc_fN_s`.
#[inline]
pub fn trunc_i32_s(x: f64) -> Result<u64, TrapCode> {
    check(x, -2147483649.0, 2147483648.0)?;
    Ok(x as i32 as u32 as u64)
}

/// `i32.trunc_fN_u`.
#[inline]
pub fn trunc_i32_u(x: f64) -> Result<u64, TrapCode> {
    check(x, -1.0, 4294967296.0)?;
    Ok(x as u32 as u64)
}

/// `i64.trunc_fN_s`.
#[inline]
pub fn trunc_i64_s(x: f64) -> Result<u64, TrapCode> {
    // -2^63 itself is valid; the next f64 below it is far away, so the
    // exclusive lower bound is any value strictly between.
    check(x, -9223372036854777856.0, 9223372036854775808.0)?;
    Ok(x as i64 as u64)
}

/// `i64.trunc_fN_u`.
#[inline]
pub fn trunc_i64_u(x: f64) -> Result<u64, TrapCode> {
    check(x, -1.0, 18446744073709551616.0)?;
    Ok(x as u64)
}

/// `i32.add` of the `i32` in slot value `a` and `b`, zero-extended back to
/// a slot value.
#[inline(always)]
pub(super) fn add32(a: u64, b: u32) -> u64 {
    (a as u32).wrapping_add(b) as u64
}

/// `[base] + ([idx] << shift)` in `i32` arithmetic (array indexing; the
/// shift is below 32), as a slot value.
#[inline(always)]
pub(super) fn index32(base: u64, idx: u64, shift: u16) -> u64 {
    add32(base, (idx as u32).wrapping_shl(shift as u32))
}
