//! Relaxed SIMD: operators whose results the spec lets depend on the host.
//!
//! With [`Tunables::relaxed_simd_deterministic`](kiln_environ::Tunables)
//! each takes the deterministic choice the interpreter always takes, so
//! every host and backend agrees: its non-relaxed twin where there is one
//! (swizzle, `trunc_sat`, `min`/`max`, `q15mulr_sat_s`, `bitselect`), one
//! rounding for multiply-add (a fused instruction, or the `fma_f32`/
//! `fma_f64` builtins lane by lane on an x86-64 without FMA), and signed
//! operands with wrapping 16-bit pair sums for the dot products.
//!
//! Otherwise (the default) an operator takes the host's fastest lowering
//! where that differs: on x86-64, `pshufb` for swizzle (no range fix-up),
//! `pmulhrsw` for the Q15 multiply (no saturation fix-up), `pmaddubsw` for
//! the dot products (unsigned × signed bytes, saturating), and a separate
//! multiply and add where there is no fused multiply-add. Everything else
//! takes its deterministic form, which is already the fast one.

use super::Translator;
use super::simd::{self, cast};
use crate::CompileError;
use cranelift_codegen::ir::types::{F32X4, F64X2, I8X16, I16X8, I32X4};
use cranelift_codegen::ir::{InstBuilder, Type, Value};
use kiln_environ::Builtin;
use wasmparser::Operator;

/// What the target offers relaxed SIMD, found once per compiler.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RelaxedCaps {
    /// A fused multiply-add instruction for vectors.
    pub native_fma: bool,
    /// Cranelift lowers the x86 instructions `x86_pshufb`, `x86_pmulhrsw`
    /// and `x86_pmaddubsw` for this target.
    pub x86: bool,
}

impl Translator<'_, '_> {
    /// Translates `op` if it is a relaxed SIMD operator.
    pub(super) fn translate_relaxed_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        let deterministic = self.env.tunables.relaxed_simd_deterministic;
        let fast = !deterministic && self.env.relaxed.x86;
        // The operators whose deterministic form is another operator.
        let twin = match *op {
            Operator::I8x16RelaxedSwizzle if fast => {
                let (x, y) = self.pop2_vec(I8X16);
                let r = self.builder.ins().x86_pshufb(x, y);
                self.push_vec(r);
                return Ok(true);
            }
            Operator::I16x8RelaxedQ15mulrS if fast => {
                let (x, y) = self.pop2_vec(I16X8);
                let r = self.builder.ins().x86_pmulhrsw(x, y);
                self.push_vec(r);
                return Ok(true);
            }
            Operator::I8x16RelaxedSwizzle => Operator::I8x16Swizzle,
            Operator::I16x8RelaxedQ15mulrS => Operator::I16x8Q15MulrSatS,
            Operator::I32x4RelaxedTruncF32x4S => Operator::I32x4TruncSatF32x4S,
            Operator::I32x4RelaxedTruncF32x4U => Operator::I32x4TruncSatF32x4U,
            Operator::I32x4RelaxedTruncF64x2SZero => Operator::I32x4TruncSatF64x2SZero,
            Operator::I32x4RelaxedTruncF64x2UZero => Operator::I32x4TruncSatF64x2UZero,
            Operator::F32x4RelaxedMin => Operator::F32x4Min,
            Operator::F32x4RelaxedMax => Operator::F32x4Max,
            Operator::F64x2RelaxedMin => Operator::F64x2Min,
            Operator::F64x2RelaxedMax => Operator::F64x2Max,
            Operator::I8x16RelaxedLaneselect
            | Operator::I16x8RelaxedLaneselect
            | Operator::I32x4RelaxedLaneselect
            | Operator::I64x2RelaxedLaneselect => Operator::V128Bitselect,
            Operator::F32x4RelaxedMadd => return Ok(self.madd(F32X4, false, deterministic)),
            Operator::F32x4RelaxedNmadd => return Ok(self.madd(F32X4, true, deterministic)),
            Operator::F64x2RelaxedMadd => return Ok(self.madd(F64X2, false, deterministic)),
            Operator::F64x2RelaxedNmadd => return Ok(self.madd(F64X2, true, deterministic)),
            Operator::I16x8RelaxedDotI8x16I7x16S => {
                let (x, y) = self.pop2_vec(I8X16);
                let r = self.dot_i16x8(x, y, fast);
                self.push_vec(r);
                return Ok(true);
            }
            Operator::I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.pop_vec(I32X4);
                let (x, y) = self.pop2_vec(I8X16);
                let pairs = self.dot_i16x8(x, y, fast);
                let lo = self.builder.ins().swiden_low(pairs);
                let hi = self.builder.ins().swiden_high(pairs);
                let quads = self.builder.ins().iadd_pairwise(lo, hi);
                let r = self.builder.ins().iadd(quads, acc);
                self.push_vec(r);
                return Ok(true);
            }
            _ => return Ok(false),
        };
        simd::translate_simd_op(&twin, &mut self.builder, &mut self.stack)
    }

    /// `relaxed_madd` (`a * b + c`) and `relaxed_nmadd` (`-a * b + c`).
    fn madd(&mut self, ty: Type, negate: bool, deterministic: bool) -> bool {
        let c = self.pop_vec(ty);
        let (a, b) = self.pop2_vec(ty);
        let a = if negate {
            self.builder.ins().fneg(a)
        } else {
            a
        };
        let r = if self.env.relaxed.native_fma {
            self.builder.ins().fma(a, b, c)
        } else if deterministic {
            self.fma_by_lanes(ty, a, b, c)
        } else {
            let p = self.builder.ins().fmul(a, b);
            self.builder.ins().fadd(p, c)
        };
        self.push_vec(r);
        true
    }

    /// `a * b + c` with one rounding per lane through the builtins.
    fn fma_by_lanes(&mut self, ty: Type, a: Value, b: Value, c: Value) -> Value {
        let (builtin, lanes) = if ty == F32X4 {
            (Builtin::FmaF32, 4u8)
        } else {
            (Builtin::FmaF64, 2u8)
        };
        let mut r = c;
        for i in 0..lanes {
            let x = self.builder.ins().extractlane(a, i);
            let y = self.builder.ins().extractlane(b, i);
            let z = self.builder.ins().extractlane(c, i);
            let v = self
                .call_builtin(builtin, &[x, y, z])
                .expect("the fma builtins return their result");
            r = self.builder.ins().insertlane(r, v, i);
        }
        r
    }

    /// `i16x8.relaxed_dot_i8x16_i7x16_s` of `x` and `y` (`I8X16`).
    fn dot_i16x8(&mut self, x: Value, y: Value, fast: bool) -> Value {
        if fast {
            // Signed bytes first, unsigned second: the i7 operand reads the
            // same either way.
            return self.builder.ins().x86_pmaddubsw(x, y);
        }
        let b = &mut self.builder;
        let xl = b.ins().swiden_low(x);
        let xh = b.ins().swiden_high(x);
        let yl = b.ins().swiden_low(y);
        let yh = b.ins().swiden_high(y);
        let lo = b.ins().imul(xl, yl);
        let hi = b.ins().imul(xh, yh);
        b.ins().iadd_pairwise(lo, hi)
    }

    fn pop_vec(&mut self, ty: Type) -> Value {
        let v = self.pop();
        cast(&mut self.builder, v, ty)
    }

    /// Pops two vectors in wasm operand order (first, second).
    fn pop2_vec(&mut self, ty: Type) -> (Value, Value) {
        let y = self.pop_vec(ty);
        let x = self.pop_vec(ty);
        (x, y)
    }

    fn push_vec(&mut self, v: Value) {
        let v = cast(&mut self.builder, v, I8X16);
        self.push(v);
    }
}
