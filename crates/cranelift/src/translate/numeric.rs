//! Scalar numeric operators: constants, integer and float arithmetic,
//! comparisons, conversions, sign extension and saturating truncation.
//!
//! Most map to one CLIF instruction whose semantics already match wasm:
//! `sdiv`/`udiv`/`srem`/`urem` trap on a zero divisor (and `sdiv` on
//! overflow) with Cranelift's reserved codes, `fcvt_to_*int` trap on NaN and
//! overflow, `fmin`/`fmax` follow wasm's NaN and signed-zero rules. The
//! trapping ones go through `traps.rs` ([`DivOp`], [`Trunc`]), which adds
//! explicit checks when code may not rely on signals. The rounding
//! operators go through builtins on targets without rounding instructions
//! (x86-64 before SSE4.1).

use super::Translator;
use super::traps::{DivOp, Trunc};
use crate::CompileError;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use kiln_environ::Builtin;
use wasmparser::Operator;

impl Translator<'_, '_> {
    fn unop(&mut self, f: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = f(self, a);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut Self, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(self, a, b);
        self.push(v);
    }

    fn icmp_op(&mut self, cc: IntCC) {
        self.binop(|t, a, b| {
            let c = t.builder.ins().icmp(cc, a, b);
            t.builder.ins().uextend(types::I32, c)
        });
    }

    fn fcmp_op(&mut self, cc: FloatCC) {
        self.binop(|t, a, b| {
            let c = t.builder.ins().fcmp(cc, a, b);
            t.builder.ins().uextend(types::I32, c)
        });
    }

    /// Rounding: native when the target has it, else a builtin call.
    fn round(&mut self, builtin: Builtin, native: impl FnOnce(&mut Self, Value) -> Value) {
        let a = self.pop();
        let v = if self.env.native_rounding {
            native(self, a)
        } else {
            self.call_builtin(builtin, &[a]).expect("result")
        };
        self.push(v);
    }

    /// Sign-extends the low `from` bits of the top operand in place.
    fn sign_extend_low(&mut self, from: types::Type) {
        self.unop(|t, a| {
            let ty = t.builder.func.dfg.value_type(a);
            let low = t.builder.ins().ireduce(from, a);
            t.builder.ins().sextend(ty, low)
        });
    }

    /// Handles the numeric operators; `Ok(false)` if `op` is not one.
    pub(super) fn translate_numeric_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        use types::{F32, F64, I8, I16, I32, I64};
        macro_rules! un {
            ($m:ident) => {
                self.unop(|t, a| t.builder.ins().$m(a))
            };
            ($m:ident, $ty:expr) => {
                self.unop(|t, a| t.builder.ins().$m($ty, a))
            };
        }
        macro_rules! bin {
            ($m:ident) => {
                self.binop(|t, a, b| t.builder.ins().$m(a, b))
            };
        }
        match op {
            O::I32Const { value } => {
                let v = self.builder.ins().iconst(I32, i64::from(*value));
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.builder.ins().iconst(I64, *value);
                self.push(v);
            }
            O::F32Const { value } => {
                // From the bits, so NaN payloads survive.
                let v = self.builder.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.builder.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // Integer tests and comparisons.
            O::I32Eqz | O::I64Eqz => self.unop(|t, a| {
                let c = t.builder.ins().icmp_imm_u(IntCC::Equal, a, 0);
                t.builder.ins().uextend(I32, c)
            }),
            O::I32Eq | O::I64Eq => self.icmp_op(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp_op(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp_op(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp_op(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp_op(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp_op(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp_op(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp_op(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp_op(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp_op(IntCC::UnsignedGreaterThanOrEqual),

            // Float comparisons.
            O::F32Eq | O::F64Eq => self.fcmp_op(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp_op(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp_op(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp_op(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp_op(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp_op(FloatCC::GreaterThanOrEqual),

            // Integer arithmetic.
            O::I32Clz | O::I64Clz => un!(clz),
            O::I32Ctz | O::I64Ctz => un!(ctz),
            O::I32Popcnt | O::I64Popcnt => un!(popcnt),
            O::I32Add | O::I64Add => bin!(iadd),
            O::I32Sub | O::I64Sub => bin!(isub),
            O::I32Mul | O::I64Mul => bin!(imul),
            // wide-arithmetic: 128-bit values as (low, high) i64 pairs.
            O::I64Add128 | O::I64Sub128 => {
                let (b_hi, b_lo) = (self.pop(), self.pop());
                let (a_hi, a_lo) = (self.pop(), self.pop());
                let ins = &mut self.builder;
                let a = ins.ins().iconcat(a_lo, a_hi);
                let b = ins.ins().iconcat(b_lo, b_hi);
                let r = if matches!(op, O::I64Add128) {
                    ins.ins().iadd(a, b)
                } else {
                    ins.ins().isub(a, b)
                };
                let (lo, hi) = ins.ins().isplit(r);
                self.push(lo);
                self.push(hi);
            }
            O::I64MulWideS | O::I64MulWideU => {
                let (b, a) = (self.pop(), self.pop());
                let lo = self.builder.ins().imul(a, b);
                let hi = if matches!(op, O::I64MulWideS) {
                    self.builder.ins().smulhi(a, b)
                } else {
                    self.builder.ins().umulhi(a, b)
                };
                self.push(lo);
                self.push(hi);
            }
            O::I32DivS | O::I64DivS => self.binop(|t, a, b| t.division(DivOp::SDiv, a, b)),
            O::I32DivU | O::I64DivU => self.binop(|t, a, b| t.division(DivOp::UDiv, a, b)),
            O::I32RemS | O::I64RemS => self.binop(|t, a, b| t.division(DivOp::SRem, a, b)),
            O::I32RemU | O::I64RemU => self.binop(|t, a, b| t.division(DivOp::URem, a, b)),
            O::I32And | O::I64And => bin!(band),
            O::I32Or | O::I64Or => bin!(bor),
            O::I32Xor | O::I64Xor => bin!(bxor),
            // CLIF shifts and rotates take the amount modulo the width, as
            // wasm does.
            O::I32Shl | O::I64Shl => bin!(ishl),
            O::I32ShrS | O::I64ShrS => bin!(sshr),
            O::I32ShrU | O::I64ShrU => bin!(ushr),
            O::I32Rotl | O::I64Rotl => bin!(rotl),
            O::I32Rotr | O::I64Rotr => bin!(rotr),

            // Float arithmetic.
            O::F32Abs | O::F64Abs => un!(fabs),
            O::F32Neg | O::F64Neg => un!(fneg),
            O::F32Sqrt | O::F64Sqrt => un!(sqrt),
            O::F32Ceil => self.round(Builtin::CeilF32, |t, a| t.builder.ins().ceil(a)),
            O::F64Ceil => self.round(Builtin::CeilF64, |t, a| t.builder.ins().ceil(a)),
            O::F32Floor => self.round(Builtin::FloorF32, |t, a| t.builder.ins().floor(a)),
            O::F64Floor => self.round(Builtin::FloorF64, |t, a| t.builder.ins().floor(a)),
            O::F32Trunc => self.round(Builtin::TruncF32, |t, a| t.builder.ins().trunc(a)),
            O::F64Trunc => self.round(Builtin::TruncF64, |t, a| t.builder.ins().trunc(a)),
            O::F32Nearest => self.round(Builtin::NearestF32, |t, a| t.builder.ins().nearest(a)),
            O::F64Nearest => self.round(Builtin::NearestF64, |t, a| t.builder.ins().nearest(a)),
            O::F32Add | O::F64Add => bin!(fadd),
            O::F32Sub | O::F64Sub => bin!(fsub),
            O::F32Mul | O::F64Mul => bin!(fmul),
            O::F32Div | O::F64Div => bin!(fdiv),
            O::F32Min | O::F64Min => bin!(fmin),
            O::F32Max | O::F64Max => bin!(fmax),
            O::F32Copysign | O::F64Copysign => bin!(fcopysign),

            // Conversions.
            O::I32WrapI64 => un!(ireduce, I32),
            O::I64ExtendI32S => un!(sextend, I64),
            O::I64ExtendI32U => un!(uextend, I64),
            O::I32TruncF32S | O::I32TruncF64S => {
                self.unop(|t, a| t.truncate(Trunc::Signed, I32, a))
            }
            O::I32TruncF32U | O::I32TruncF64U => {
                self.unop(|t, a| t.truncate(Trunc::Unsigned, I32, a))
            }
            O::I64TruncF32S | O::I64TruncF64S => {
                self.unop(|t, a| t.truncate(Trunc::Signed, I64, a))
            }
            O::I64TruncF32U | O::I64TruncF64U => {
                self.unop(|t, a| t.truncate(Trunc::Unsigned, I64, a))
            }
            O::I32TruncSatF32S | O::I32TruncSatF64S => un!(fcvt_to_sint_sat, I32),
            O::I32TruncSatF32U | O::I32TruncSatF64U => un!(fcvt_to_uint_sat, I32),
            O::I64TruncSatF32S | O::I64TruncSatF64S => un!(fcvt_to_sint_sat, I64),
            O::I64TruncSatF32U | O::I64TruncSatF64U => un!(fcvt_to_uint_sat, I64),
            O::F32ConvertI32S | O::F32ConvertI64S => un!(fcvt_from_sint, F32),
            O::F32ConvertI32U | O::F32ConvertI64U => un!(fcvt_from_uint, F32),
            O::F64ConvertI32S | O::F64ConvertI64S => un!(fcvt_from_sint, F64),
            O::F64ConvertI32U | O::F64ConvertI64U => un!(fcvt_from_uint, F64),
            O::F32DemoteF64 => un!(fdemote, F32),
            O::F64PromoteF32 => un!(fpromote, F64),
            O::I32ReinterpretF32 => {
                self.unop(|t, a| t.builder.ins().bitcast(I32, MemFlagsData::new(), a))
            }
            O::I64ReinterpretF64 => {
                self.unop(|t, a| t.builder.ins().bitcast(I64, MemFlagsData::new(), a))
            }
            O::F32ReinterpretI32 => {
                self.unop(|t, a| t.builder.ins().bitcast(F32, MemFlagsData::new(), a))
            }
            O::F64ReinterpretI64 => {
                self.unop(|t, a| t.builder.ins().bitcast(F64, MemFlagsData::new(), a))
            }

            // Sign extension.
            O::I32Extend8S | O::I64Extend8S => self.sign_extend_low(I8),
            O::I32Extend16S | O::I64Extend16S => self.sign_extend_low(I16),
            O::I64Extend32S => self.sign_extend_low(I32),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
