//! Locals, constants, and integer and float arithmetic.

use super::asm::{Alu, Cond, R11, RAX, RCX, RDX, Shift, Size, Src, Sse, XSrc};
use super::{Codegen, Kind, Loc, Operand, XMM_SCRATCH, unsupported};
use kiln_environ::wasmparser::Operator;
use kiln_environ::{CompileError, TrapCode};

/// A float-to-integer truncation.
#[derive(Clone, Copy)]
struct Trunc {
    to: Kind,
    double: bool,
    signed: bool,
    saturating: bool,
}

impl Codegen<'_, '_> {
    /// Handles locals, constants and numeric operators; `Ok(false)` for
    /// any other.
    pub(super) fn numeric_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Kind::{F32, F64, I32, I64};
        use Operator as O;
        match *op {
            O::LocalGet { local_index } => {
                let kind = self.locals[local_index as usize];
                self.push(kind, Loc::Local(local_index));
            }
            O::LocalSet { local_index } => self.local_set(local_index, false),
            O::LocalTee { local_index } => self.local_set(local_index, true),
            O::I32Const { value } => self.push(I32, Loc::Const(u64::from(value as u32))),
            O::I64Const { value } => self.push(I64, Loc::Const(value as u64)),
            O::F32Const { value } => self.push(F32, Loc::Const(u64::from(value.bits()))),
            O::F64Const { value } => self.push(F64, Loc::Const(value.bits())),

            O::I64Add128 => self.wide_add(Alu::Add, Alu::Adc),
            O::I64Sub128 => self.wide_add(Alu::Sub, Alu::Sbb),
            O::I64MulWideS => self.mul_wide(true),
            O::I64MulWideU => self.mul_wide(false),
            O::I32Add => self.int_binop(I32, Alu::Add, true),
            O::I32Sub => self.int_binop(I32, Alu::Sub, false),
            O::I32And => self.int_binop(I32, Alu::And, true),
            O::I32Or => self.int_binop(I32, Alu::Or, true),
            O::I32Xor => self.int_binop(I32, Alu::Xor, true),
            O::I64Add => self.int_binop(I64, Alu::Add, true),
            O::I64Sub => self.int_binop(I64, Alu::Sub, false),
            O::I64And => self.int_binop(I64, Alu::And, true),
            O::I64Or => self.int_binop(I64, Alu::Or, true),
            O::I64Xor => self.int_binop(I64, Alu::Xor, true),
            O::I32Mul => self.mul(I32),
            O::I64Mul => self.mul(I64),
            O::I32DivS => self.div_rem(I32, true, false),
            O::I32DivU => self.div_rem(I32, false, false),
            O::I32RemS => self.div_rem(I32, true, true),
            O::I32RemU => self.div_rem(I32, false, true),
            O::I64DivS => self.div_rem(I64, true, false),
            O::I64DivU => self.div_rem(I64, false, false),
            O::I64RemS => self.div_rem(I64, true, true),
            O::I64RemU => self.div_rem(I64, false, true),
            O::I32Shl => self.shift(I32, Shift::Shl),
            O::I32ShrS => self.shift(I32, Shift::Sar),
            O::I32ShrU => self.shift(I32, Shift::Shr),
            O::I32Rotl => self.shift(I32, Shift::Rol),
            O::I32Rotr => self.shift(I32, Shift::Ror),
            O::I64Shl => self.shift(I64, Shift::Shl),
            O::I64ShrS => self.shift(I64, Shift::Sar),
            O::I64ShrU => self.shift(I64, Shift::Shr),
            O::I64Rotl => self.shift(I64, Shift::Rol),
            O::I64Rotr => self.shift(I64, Shift::Ror),
            O::I32Clz => self.bit_count(I32, 0)?,
            O::I32Ctz => self.bit_count(I32, 1)?,
            O::I32Popcnt => self.bit_count(I32, 2)?,
            O::I64Clz => self.bit_count(I64, 0)?,
            O::I64Ctz => self.bit_count(I64, 1)?,
            O::I64Popcnt => self.bit_count(I64, 2)?,

            O::I32Eqz => self.eqz(I32),
            O::I64Eqz => self.eqz(I64),
            O::I32Eq => self.compare(I32, Cond::Eq),
            O::I32Ne => self.compare(I32, Cond::Ne),
            O::I32LtS => self.compare(I32, Cond::Lt),
            O::I32LtU => self.compare(I32, Cond::B),
            O::I32GtS => self.compare(I32, Cond::Gt),
            O::I32GtU => self.compare(I32, Cond::A),
            O::I32LeS => self.compare(I32, Cond::Le),
            O::I32LeU => self.compare(I32, Cond::Be),
            O::I32GeS => self.compare(I32, Cond::Ge),
            O::I32GeU => self.compare(I32, Cond::Ae),
            O::I64Eq => self.compare(I64, Cond::Eq),
            O::I64Ne => self.compare(I64, Cond::Ne),
            O::I64LtS => self.compare(I64, Cond::Lt),
            O::I64LtU => self.compare(I64, Cond::B),
            O::I64GtS => self.compare(I64, Cond::Gt),
            O::I64GtU => self.compare(I64, Cond::A),
            O::I64LeS => self.compare(I64, Cond::Le),
            O::I64LeU => self.compare(I64, Cond::Be),
            O::I64GeS => self.compare(I64, Cond::Ge),
            O::I64GeU => self.compare(I64, Cond::Ae),

            O::I32WrapI64 => {
                let o = self.pop();
                let loc = match o.loc {
                    Loc::Const(bits) => Loc::Const(bits & 0xffff_ffff),
                    // The low half of an i64 is its first four bytes in
                    // memory and the low bits of a register.
                    loc => loc,
                };
                self.push(I32, loc);
            }
            O::I64ExtendI32U => {
                let o = self.pop();
                if let Loc::Const(bits) = o.loc {
                    self.push(I64, Loc::Const(bits & 0xffff_ffff));
                } else {
                    let r = self.in_gpr(&o);
                    self.buf.mov_rr(Size::S32, r, r);
                    self.push(I64, Loc::Gpr(r));
                }
            }
            O::I64ExtendI32S => self.extend(Size::S32, I64),
            O::I32Extend8S => self.extend(Size::S8, I32),
            O::I32Extend16S => self.extend(Size::S16, I32),
            O::I64Extend8S => self.extend(Size::S8, I64),
            O::I64Extend16S => self.extend(Size::S16, I64),
            O::I64Extend32S => self.extend(Size::S32, I64),

            O::F32Add => self.float_binop(F32, Sse::Add),
            O::F32Sub => self.float_binop(F32, Sse::Sub),
            O::F32Mul => self.float_binop(F32, Sse::Mul),
            O::F32Div => self.float_binop(F32, Sse::Div),
            O::F64Add => self.float_binop(F64, Sse::Add),
            O::F64Sub => self.float_binop(F64, Sse::Sub),
            O::F64Mul => self.float_binop(F64, Sse::Mul),
            O::F64Div => self.float_binop(F64, Sse::Div),
            O::F32Min => self.min_max(F32, true),
            O::F32Max => self.min_max(F32, false),
            O::F64Min => self.min_max(F64, true),
            O::F64Max => self.min_max(F64, false),
            O::F32Sqrt => {
                self.float_unop(F32, F32, |b, x| b.sse(Sse::Sqrt, false, x, XSrc::Reg(x)))
            }
            O::F64Sqrt => self.float_unop(F64, F64, |b, x| b.sse(Sse::Sqrt, true, x, XSrc::Reg(x))),
            O::F32Abs => self.sign_mask(F32, 0, 0x7fff_ffff),
            O::F64Abs => self.sign_mask(F64, 0, 0x7fff_ffff_ffff_ffff),
            O::F32Neg => self.sign_mask(F32, 2, 0x8000_0000),
            O::F64Neg => self.sign_mask(F64, 2, 1 << 63),
            O::F32Copysign => self.copysign(F32),
            O::F64Copysign => self.copysign(F64),
            O::F32Ceil => self.round(F32, 2)?,
            O::F32Floor => self.round(F32, 1)?,
            O::F32Trunc => self.round(F32, 3)?,
            O::F32Nearest => self.round(F32, 0)?,
            O::F64Ceil => self.round(F64, 2)?,
            O::F64Floor => self.round(F64, 1)?,
            O::F64Trunc => self.round(F64, 3)?,
            O::F64Nearest => self.round(F64, 0)?,

            O::F32Eq => self.float_eq(F32, true),
            O::F32Ne => self.float_eq(F32, false),
            O::F64Eq => self.float_eq(F64, true),
            O::F64Ne => self.float_eq(F64, false),
            O::F32Lt => self.float_compare(F32, true, Cond::A),
            O::F32Gt => self.float_compare(F32, false, Cond::A),
            O::F32Le => self.float_compare(F32, true, Cond::Ae),
            O::F32Ge => self.float_compare(F32, false, Cond::Ae),
            O::F64Lt => self.float_compare(F64, true, Cond::A),
            O::F64Gt => self.float_compare(F64, false, Cond::A),
            O::F64Le => self.float_compare(F64, true, Cond::Ae),
            O::F64Ge => self.float_compare(F64, false, Cond::Ae),

            O::F32DemoteF64 => self.float_unop(F64, F32, |b, x| b.fconvert(false, x, x)),
            O::F64PromoteF32 => self.float_unop(F32, F64, |b, x| b.fconvert(true, x, x)),
            O::I32ReinterpretF32 => self.reinterpret(I32),
            O::I64ReinterpretF64 => self.reinterpret(I64),
            O::F32ReinterpretI32 => self.reinterpret(F32),
            O::F64ReinterpretI64 => self.reinterpret(F64),
            O::F32ConvertI32S => self.int_to_float(F32, I32, true),
            O::F32ConvertI32U => self.int_to_float(F32, I32, false),
            O::F32ConvertI64S => self.int_to_float(F32, I64, true),
            O::F32ConvertI64U => self.int_to_float(F32, I64, false),
            O::F64ConvertI32S => self.int_to_float(F64, I32, true),
            O::F64ConvertI32U => self.int_to_float(F64, I32, false),
            O::F64ConvertI64S => self.int_to_float(F64, I64, true),
            O::F64ConvertI64U => self.int_to_float(F64, I64, false),
            O::I32TruncF32S => self.trunc(I32, false, true, false),
            O::I32TruncF32U => self.trunc(I32, false, false, false),
            O::I32TruncF64S => self.trunc(I32, true, true, false),
            O::I32TruncF64U => self.trunc(I32, true, false, false),
            O::I64TruncF32S => self.trunc(I64, false, true, false),
            O::I64TruncF32U => self.trunc(I64, false, false, false),
            O::I64TruncF64S => self.trunc(I64, true, true, false),
            O::I64TruncF64U => self.trunc(I64, true, false, false),
            O::I32TruncSatF32S => self.trunc(I32, false, true, true),
            O::I32TruncSatF32U => self.trunc(I32, false, false, true),
            O::I32TruncSatF64S => self.trunc(I32, true, true, true),
            O::I32TruncSatF64U => self.trunc(I32, true, false, true),
            O::I64TruncSatF32S => self.trunc(I64, false, true, true),
            O::I64TruncSatF32U => self.trunc(I64, false, false, true),
            O::I64TruncSatF64S => self.trunc(I64, true, true, true),
            O::I64TruncSatF64U => self.trunc(I64, true, false, true),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn local_set(&mut self, i: u32, tee: bool) {
        let v = self.pop();
        self.materialize_local(i);
        let kind = v.kind;
        let loc = self.write_local(i, v, tee);
        if tee {
            self.push(kind, loc);
        } else {
            self.free(loc);
        }
    }

    /// `a op b` for add, sub, and, or, xor (and the comparison `cmp`).
    fn int_binop(&mut self, kind: Kind, op: Alu, commutative: bool) {
        let mut b = self.pop();
        let mut a = self.pop();
        // Put a constant or memory operand on the right where allowed.
        if commutative && !matches!(a.loc, Loc::Gpr(_)) && matches!(b.loc, Loc::Gpr(_)) {
            std::mem::swap(&mut a, &mut b);
        }
        let dst = self.in_gpr(&a);
        let src = self.int_src(&b);
        self.buf.alu(op, kind.size(), dst, src);
        self.release(src);
        self.push(kind, Loc::Gpr(dst));
    }

    fn mul(&mut self, kind: Kind) {
        let mut b = self.pop();
        let mut a = self.pop();
        if !matches!(a.loc, Loc::Gpr(_)) && matches!(b.loc, Loc::Gpr(_)) {
            std::mem::swap(&mut a, &mut b);
        }
        let dst = self.in_gpr(&a);
        let src = self.int_src(&b);
        self.buf.imul(kind.size(), dst, src);
        self.release(src);
        self.push(kind, Loc::Gpr(dst));
    }

    fn compare(&mut self, kind: Kind, cond: Cond) {
        let b = self.pop();
        let a = self.pop();
        let lhs = self.in_gpr(&a);
        let src = self.int_src(&b);
        self.buf.alu(Alu::Cmp, kind.size(), lhs, src);
        self.release(src);
        self.free(Loc::Gpr(lhs));
        self.push(Kind::I32, Loc::Flags(cond));
    }

    fn eqz(&mut self, kind: Kind) {
        let a = self.pop();
        match self.mem_of(&a) {
            Some(m) => self.buf.cmp_mem_imm(kind.size(), m, 0),
            None => {
                let r = self.in_gpr(&a);
                self.buf.test(kind.size(), r, r);
                self.free(Loc::Gpr(r));
            }
        }
        self.push(Kind::I32, Loc::Flags(Cond::Eq));
    }

    fn extend(&mut self, from: Size, to: Kind) {
        let a = self.pop();
        let r = self.in_gpr(&a);
        self.buf.extend(true, from, to.size(), r, r);
        self.push(to, Loc::Gpr(r));
    }

    /// Puts operand `o` into the fixed register `fixed`, which the caller
    /// has made free of stack operands (`evict_gpr`).
    fn place_in(&mut self, o: &Operand, fixed: super::Gpr) {
        match o.loc {
            Loc::Gpr(r) if r == fixed => {}
            Loc::Gpr(r) => {
                self.buf.mov_rr(Size::S64, fixed, r);
                self.free(Loc::Gpr(r));
            }
            _ => self.load_bits(o, fixed),
        }
        self.used |= 1 << fixed;
    }

    /// Puts operand `o` in a register other than those in `avoid` (which
    /// the caller holds reserved).
    fn gpr_avoiding(&mut self, o: &Operand, avoid: &[super::Gpr]) -> super::Gpr {
        match o.loc {
            Loc::Gpr(r) if avoid.contains(&r) => {
                let n = self.alloc_gpr();
                self.buf.mov_rr(Size::S64, n, r);
                n
            }
            _ => self.in_gpr(o),
        }
    }

    /// `i64.add128`/`i64.sub128`: the low halves with `lo`, the high
    /// halves with `hi` and the carry.
    fn wide_add(&mut self, lo: Alu, hi: Alu) {
        let hi2 = self.pop();
        let lo2 = self.pop();
        let hi1 = self.pop();
        let lo1 = self.pop();
        let (a_lo, a_hi) = (self.in_gpr(&lo1), self.in_gpr(&hi1));
        // Both sources before the first instruction: nothing may come
        // between the two that changes the carry.
        let (b_lo, b_hi) = (self.int_src(&lo2), self.int_src(&hi2));
        self.buf.alu(lo, Size::S64, a_lo, b_lo);
        self.buf.alu(hi, Size::S64, a_hi, b_hi);
        self.release(b_lo);
        self.release(b_hi);
        self.push(Kind::I64, Loc::Gpr(a_lo));
        self.push(Kind::I64, Loc::Gpr(a_hi));
    }

    /// `i64.mul_wide_s`/`_u`: the 128-bit product, low half first.
    fn mul_wide(&mut self, signed: bool) {
        let b = self.pop();
        let a = self.pop();
        self.evict_gpr(RAX, &[RDX]);
        self.evict_gpr(RDX, &[RAX]);
        self.used |= (1 << RAX) | (1 << RDX);
        let src = match self.mem_of(&b) {
            Some(m) => Src::Mem(m),
            None => Src::Reg(self.gpr_avoiding(&b, &[RAX, RDX])),
        };
        if let Loc::Gpr(r) = b.loc
            && Src::Reg(r) != src
            && r != RAX
            && r != RDX
        {
            self.free(Loc::Gpr(r));
        }
        self.place_in(&a, RAX);
        self.buf.mul_wide(signed, src);
        self.release(src);
        self.push(Kind::I64, Loc::Gpr(RAX));
        self.push(Kind::I64, Loc::Gpr(RDX));
    }

    fn div_rem(&mut self, kind: Kind, signed: bool, rem: bool) {
        let size = kind.size();
        let b = self.pop();
        let a = self.pop();
        self.evict_gpr(RAX, &[RDX]);
        self.evict_gpr(RDX, &[RAX]);
        self.used |= (1 << RAX) | (1 << RDX);
        let divisor = self.gpr_avoiding(&b, &[RAX, RDX]);
        if let Loc::Gpr(r) = b.loc
            && r != divisor
            && r != RAX
            && r != RDX
        {
            self.free(Loc::Gpr(r));
        }
        self.place_in(&a, RAX);
        self.buf.test(size, divisor, divisor);
        self.trap_if(Cond::Eq, TrapCode::IntegerDivisionByZero);
        let done = self.buf.new_label();
        if signed {
            let normal = self.buf.new_label();
            self.buf.alu(Alu::Cmp, size, divisor, Src::Imm(-1));
            self.buf.jcc(Cond::Ne, normal);
            if rem {
                // x % -1 is 0, where `idiv` would fault on INT_MIN.
                self.buf.mov_imm(Size::S32, RDX, 0);
                self.buf.jmp(done);
            } else {
                let min = if kind == Kind::I64 {
                    1u64 << 63
                } else {
                    1 << 31
                };
                self.buf.mov_imm(size, R11, min);
                self.buf.alu(Alu::Cmp, size, RAX, Src::Reg(R11));
                self.trap_if(Cond::Eq, TrapCode::IntegerOverflow);
            }
            self.buf.bind(normal);
            self.buf.sign_extend_rax(size);
        } else {
            self.buf.mov_imm(Size::S32, RDX, 0);
        }
        self.buf.div(signed, size, divisor);
        self.buf.bind(done);
        self.free(Loc::Gpr(divisor));
        let (result, other) = if rem { (RDX, RAX) } else { (RAX, RDX) };
        self.free(Loc::Gpr(other));
        self.push(kind, Loc::Gpr(result));
    }

    fn shift(&mut self, kind: Kind, op: Shift) {
        let b = self.pop();
        let a = self.pop();
        if let Loc::Const(bits) = b.loc {
            let mask = if kind == Kind::I64 { 63 } else { 31 };
            let dst = self.in_gpr(&a);
            self.buf
                .shift(op, kind.size(), dst, Some(bits as u8 & mask));
            self.push(kind, Loc::Gpr(dst));
            return;
        }
        self.evict_gpr(RCX, &[]);
        self.used |= 1 << RCX;
        let dst = self.gpr_avoiding(&a, &[RCX]);
        self.place_in(&b, RCX);
        self.buf.shift(op, kind.size(), dst, None);
        self.free(Loc::Gpr(RCX));
        self.push(kind, Loc::Gpr(dst));
    }

    fn bit_count(&mut self, kind: Kind, which: u8) -> Result<(), CompileError> {
        let size = kind.size();
        let a = self.pop();
        let r = self.in_gpr(&a);
        let native = match which {
            0 => self.env.cpu.lzcnt,
            1 => self.env.cpu.bmi1,
            _ => self.env.cpu.popcnt,
        };
        if native {
            self.buf.bit_count(which, size, r, r);
        } else if which == 2 {
            return Err(unsupported("popcnt on a CPU without POPCNT"));
        } else {
            let bits = if kind == Kind::I64 { 64 } else { 32 };
            // `bsr`/`bsf` leave the destination undefined for 0 (and set
            // ZF); the cmov supplies that case.
            self.buf.bit_scan(which == 0, size, r, r);
            let zero_case = if which == 0 { u64::MAX } else { bits };
            self.buf.mov_imm(Size::S64, R11, zero_case);
            self.buf.cmov(Cond::Eq, Size::S64, r, R11);
            if which == 0 {
                // clz = (bits - 1) - index; with index -1 for zero.
                self.buf.neg(Size::S64, r);
                self.buf
                    .alu(Alu::Add, Size::S64, r, Src::Imm(bits as i32 - 1));
            }
        }
        self.push(kind, Loc::Gpr(r));
        Ok(())
    }

    // ---- floats -------------------------------------------------------

    fn float_binop(&mut self, kind: Kind, op: Sse) {
        let b = self.pop();
        let a = self.pop();
        let dst = self.in_xmm(&a);
        let src = self.xmm_src(&b);
        self.buf.sse(op, kind == Kind::F64, dst, src);
        self.release_x(src);
        self.push(kind, Loc::Xmm(dst));
    }

    fn float_unop(
        &mut self,
        _from: Kind,
        to: Kind,
        f: impl FnOnce(&mut super::Buffer, super::Xmm),
    ) {
        let a = self.pop();
        let x = self.in_xmm(&a);
        f(&mut self.buf, x);
        self.push(to, Loc::Xmm(x));
    }

    /// wasm's `min`/`max`: NaN if either is NaN, and -0 below +0, where
    /// `minss`/`maxss` return their second operand in both cases.
    fn min_max(&mut self, kind: Kind, min: bool) {
        let double = kind == Kind::F64;
        let b = self.pop();
        let a = self.pop();
        let dst = self.in_xmm(&a);
        let src = self.in_xmm(&b);
        let (nan, equal, done) = (
            self.buf.new_label(),
            self.buf.new_label(),
            self.buf.new_label(),
        );
        self.buf.ucomis(double, dst, src);
        self.buf.jcc(Cond::P, nan);
        self.buf.jcc(Cond::Eq, equal);
        let op = if min { Sse::Min } else { Sse::Max };
        self.buf.sse(op, double, dst, XSrc::Reg(src));
        self.buf.jmp(done);
        self.buf.bind(equal);
        // Equal values differ at most in their sign bits (±0): `or`
        // keeps a negative sign for min, `and` a positive one for max.
        self.buf.fbits(if min { 1 } else { 0 }, dst, src);
        self.buf.jmp(done);
        self.buf.bind(nan);
        self.buf.sse(Sse::Add, double, dst, XSrc::Reg(src));
        self.buf.bind(done);
        self.free(Loc::Xmm(src));
        self.push(kind, Loc::Xmm(dst));
    }

    /// `abs` (which = 0: and) or `neg` (which = 2: xor) with a mask.
    fn sign_mask(&mut self, kind: Kind, which: u8, mask: u64) {
        let a = self.pop();
        let x = self.in_xmm(&a);
        self.scratch_const(kind == Kind::F64, mask);
        self.buf.fbits(which, x, XMM_SCRATCH);
        self.push(kind, Loc::Xmm(x));
    }

    fn copysign(&mut self, kind: Kind) {
        let double = kind == Kind::F64;
        let sign = if double { 1u64 << 63 } else { 1 << 31 };
        let b = self.pop();
        let a = self.pop();
        let dst = self.in_xmm(&a);
        let src = self.in_xmm(&b);
        self.scratch_const(double, sign);
        self.buf.fbits(0, src, XMM_SCRATCH); // b's sign
        self.buf.fbits(3, XMM_SCRATCH, dst); // a without its sign
        self.buf.fbits(1, XMM_SCRATCH, src);
        self.buf.fmov(dst, XMM_SCRATCH);
        self.free(Loc::Xmm(src));
        self.push(kind, Loc::Xmm(dst));
    }

    fn round(&mut self, kind: Kind, mode: u8) -> Result<(), CompileError> {
        if !self.env.cpu.sse41 {
            return Err(unsupported("float rounding on a CPU without SSE4.1"));
        }
        let a = self.pop();
        let x = self.in_xmm(&a);
        self.buf.round(kind == Kind::F64, x, x, mode);
        self.push(kind, Loc::Xmm(x));
        Ok(())
    }

    fn float_eq(&mut self, kind: Kind, eq: bool) {
        let b = self.pop();
        let a = self.pop();
        let x = self.in_xmm(&a);
        let y = self.in_xmm(&b);
        self.buf.ucomis(kind == Kind::F64, x, y);
        self.free(Loc::Xmm(x));
        self.free(Loc::Xmm(y));
        let r = self.alloc_gpr();
        if eq {
            self.buf.set_cond(Cond::Eq, r);
            self.buf.set_cond(Cond::Np, R11);
            self.buf.alu(Alu::And, Size::S32, r, Src::Reg(R11));
        } else {
            self.buf.set_cond(Cond::Ne, r);
            self.buf.set_cond(Cond::P, R11);
            self.buf.alu(Alu::Or, Size::S32, r, Src::Reg(R11));
        }
        self.push(Kind::I32, Loc::Gpr(r));
    }

    /// `<`, `>`, `<=`, `>=`: unordered operands make `A`/`AE` false, so
    /// `a < b` is `b > a` with the operands swapped.
    fn float_compare(&mut self, kind: Kind, swap: bool, cond: Cond) {
        let b = self.pop();
        let a = self.pop();
        let x = self.in_xmm(&a);
        let y = self.in_xmm(&b);
        let (l, r) = if swap { (y, x) } else { (x, y) };
        self.buf.ucomis(kind == Kind::F64, l, r);
        self.free(Loc::Xmm(x));
        self.free(Loc::Xmm(y));
        self.push(Kind::I32, Loc::Flags(cond));
    }

    /// Reinterprets bits between an integer and a float of one width.
    fn reinterpret(&mut self, to: Kind) {
        let a = self.pop();
        match a.loc {
            Loc::Gpr(r) => {
                let x = self.alloc_xmm();
                self.buf.gpr_to_xmm(to.size(), x, r);
                self.free(Loc::Gpr(r));
                self.push(to, Loc::Xmm(x));
            }
            Loc::Xmm(x) => {
                let r = self.alloc_gpr();
                self.buf.xmm_to_gpr(to.size(), r, x);
                self.free(Loc::Xmm(x));
                self.push(to, Loc::Gpr(r));
            }
            // A local in a register of the other class is copied out.
            Loc::Local(i) if self.homes[i as usize] != super::locals::Home::Mem => {
                if to.is_float() {
                    let x = self.alloc_xmm();
                    self.load_float(&a, x);
                    self.push(to, Loc::Xmm(x));
                } else {
                    let r = self.alloc_gpr();
                    self.load_bits(&a, r);
                    self.push(to, Loc::Gpr(r));
                }
            }
            // Constants, locals in memory and slots hold bits either way.
            loc => self.push(to, loc),
        }
    }

    fn int_to_float(&mut self, to: Kind, from: Kind, signed: bool) {
        let double = to == Kind::F64;
        let a = self.pop();
        let r = self.in_gpr(&a);
        let x = self.alloc_xmm();
        // `cvtsi2s*` writes only the low lane: clear the register so the
        // conversion does not wait on its previous contents.
        self.buf.fbits(2, x, x);
        match (from, signed) {
            (Kind::I32, true) => self.buf.cvt_int_to_float(double, Size::S32, x, r),
            (Kind::I32, false) => {
                self.buf.mov_rr(Size::S32, r, r);
                self.buf.cvt_int_to_float(double, Size::S64, x, r);
            }
            (_, true) => self.buf.cvt_int_to_float(double, Size::S64, x, r),
            (_, false) => {
                // Above i64::MAX: halve (keeping the low bit for the
                // rounding), convert, double.
                let (big, done) = (self.buf.new_label(), self.buf.new_label());
                self.buf.test(Size::S64, r, r);
                self.buf.jcc(Cond::Lt, big);
                self.buf.cvt_int_to_float(double, Size::S64, x, r);
                self.buf.jmp(done);
                self.buf.bind(big);
                self.buf.mov_rr(Size::S64, R11, r);
                self.buf.shift(Shift::Shr, Size::S64, R11, Some(1));
                self.buf.alu(Alu::And, Size::S64, r, Src::Imm(1));
                self.buf.alu(Alu::Or, Size::S64, R11, Src::Reg(r));
                self.buf.cvt_int_to_float(double, Size::S64, x, R11);
                self.buf.sse(Sse::Add, double, x, XSrc::Reg(x));
                self.buf.bind(done);
            }
        }
        self.free(Loc::Gpr(r));
        self.push(to, Loc::Xmm(x));
    }

    fn trunc(&mut self, to: Kind, double: bool, signed: bool, saturating: bool) {
        self.truncate_float(Trunc {
            to,
            double,
            signed,
            saturating,
        });
    }

    fn fconst(&self, double: bool, v: f64) -> u64 {
        if double {
            v.to_bits()
        } else {
            u64::from((v as f32).to_bits())
        }
    }

    fn truncate_float(&mut self, t: Trunc) {
        let Trunc {
            to,
            double,
            signed,
            saturating,
        } = t;
        let a = self.pop();
        let x = self.in_xmm(&a);
        let dst = self.alloc_gpr();
        let wide = to == Kind::I64;
        // The open or closed lower bound and the open upper bound of the
        // values that convert.
        let (lo, lo_closed, hi) = match (signed, wide) {
            (true, false) if double => (-2147483649.0, false, 2147483648.0),
            (true, false) => (-2147483648.0, true, 2147483648.0),
            (true, true) => (-9223372036854775808.0, true, 9223372036854775808.0),
            (false, false) => (-1.0, false, 4294967296.0),
            (false, true) => (-1.0, false, 18446744073709551616.0),
        };
        let below = if lo_closed { Cond::B } else { Cond::Be };
        let done = self.buf.new_label();
        let (nan_l, low_l, high_l) = (
            self.buf.new_label(),
            self.buf.new_label(),
            self.buf.new_label(),
        );
        self.buf.ucomis(double, x, x);
        if saturating {
            self.buf.jcc(Cond::P, nan_l);
        } else {
            self.trap_if(Cond::P, TrapCode::BadConversionToInteger);
        }
        let bits = self.fconst(double, lo);
        self.scratch_const(double, bits);
        self.buf.ucomis(double, x, XMM_SCRATCH);
        if saturating {
            self.buf.jcc(below, low_l);
        } else {
            self.trap_if(below, TrapCode::IntegerOverflow);
        }
        let bits = self.fconst(double, hi);
        self.scratch_const(double, bits);
        self.buf.ucomis(double, x, XMM_SCRATCH);
        if saturating {
            self.buf.jcc(Cond::Ae, high_l);
        } else {
            self.trap_if(Cond::Ae, TrapCode::IntegerOverflow);
        }
        if signed || !wide {
            // An unsigned i32 fits a signed i64 conversion.
            let size = if signed { to.size() } else { Size::S64 };
            self.buf.cvt_float_to_int(double, size, dst, x);
        } else {
            let big = self.buf.new_label();
            let bits = self.fconst(double, 9223372036854775808.0);
            self.scratch_const(double, bits);
            self.buf.ucomis(double, x, XMM_SCRATCH);
            self.buf.jcc(Cond::Ae, big);
            self.buf.cvt_float_to_int(double, Size::S64, dst, x);
            self.buf.jmp(done);
            self.buf.bind(big);
            self.buf.sse(Sse::Sub, double, x, XSrc::Reg(XMM_SCRATCH));
            self.buf.cvt_float_to_int(double, Size::S64, dst, x);
            self.buf.mov_imm(Size::S64, R11, 1 << 63);
            self.buf.alu(Alu::Xor, Size::S64, dst, Src::Reg(R11));
        }
        if saturating {
            self.buf.jmp(done);
            let (min, max) = match (signed, wide) {
                (true, false) => (i32::MIN as u32 as u64, i32::MAX as u64),
                (true, true) => (i64::MIN as u64, i64::MAX as u64),
                (false, false) => (0, u64::from(u32::MAX)),
                (false, true) => (0, u64::MAX),
            };
            self.buf.bind(nan_l);
            self.buf.mov_imm(Size::S64, dst, 0);
            self.buf.jmp(done);
            self.buf.bind(low_l);
            self.buf.mov_imm(to.size(), dst, min);
            self.buf.jmp(done);
            self.buf.bind(high_l);
            self.buf.mov_imm(to.size(), dst, max);
        } else {
            // Unused labels of the trapping form still need a place.
            self.buf.bind(nan_l);
            self.buf.bind(low_l);
            self.buf.bind(high_l);
        }
        self.buf.bind(done);
        self.free(Loc::Xmm(x));
        self.push(to, Loc::Gpr(dst));
    }
}
