//! Peephole superinstructions, applied while emitting:
//! - a constant right operand folds into an `...Imm` op (the `Const` op
//!   that produced it is removed);
//! - an `i32` comparison (or `i32.eqz`) feeding `br_if`/`if` folds into a
//!   compare-and-branch op;
//! - an `f32`/`f64` multiply feeding an add of the same width folds into a
//!   `MulAdd` op (still rounded twice);
//! - an `i32.shl` by a constant feeding an `i32.add` folds into an
//!   `I32AddShl` op (array indexing);
//! - a constant stored by a memory-0 store folds into a `Store..Imm` op;
//! - two consecutive `Copy` ops become one `CopyPair`, and a `Copy`
//!   followed by a `Br` one `CopyBr`;
//! - `I32AddImm` of an `I32AddImm` becomes one, its constants summed, and
//!   two independent ones in a row (16-bit immediates) an `I32AddImmPair`;
//! - an `i32` address computed by the last op (`I32AddImm`, `I32Add`,
//!   `I32AddShl`) and consumed by a 4-, 8- or 1-byte (unsigned) load of a
//!   32-bit memory 0 is computed by the load (`Load32AddImm`, ...), with
//!   the same 32-bit wrap-around.
//!
//! All only rewrite the op emitted last, and only when no label lies
//! between it and the consumer, so no other path can observe the removed
//! temporary.

use super::{Entry, FuncTranslator};
use crate::bytecode::{Bin, BinImm, BrCmp, BrCmpImm, LoadTy, MulAdd, Op, Slot, StoreTy};

#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

#[derive(Clone, Copy)]
enum Rhs {
    Slot(Slot),
    Imm(i32),
}

impl Cmp {
    fn negate(self) -> Self {
        use Cmp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            LtU => GeU,
            GtS => LeS,
            GtU => LeU,
            LeS => GtS,
            LeU => GtU,
            GeS => LtS,
            GeU => LtU,
        }
    }

    /// Decodes an `i32` comparison op: (kind, dst, lhs, rhs).
    fn of(op: &Op) -> Option<(Cmp, Slot, Slot, Rhs)> {
        use Cmp::*;
        let (c, b) = match *op {
            Op::I32Eq(b) => (Eq, b),
            Op::I32Ne(b) => (Ne, b),
            Op::I32LtS(b) => (LtS, b),
            Op::I32LtU(b) => (LtU, b),
            Op::I32GtS(b) => (GtS, b),
            Op::I32GtU(b) => (GtU, b),
            Op::I32LeS(b) => (LeS, b),
            Op::I32LeU(b) => (LeU, b),
            Op::I32GeS(b) => (GeS, b),
            Op::I32GeU(b) => (GeU, b),
            _ => {
                let (c, b) = match *op {
                    Op::I32EqImm(b) => (Eq, b),
                    Op::I32NeImm(b) => (Ne, b),
                    Op::I32LtSImm(b) => (LtS, b),
                    Op::I32LtUImm(b) => (LtU, b),
                    Op::I32GtSImm(b) => (GtS, b),
                    Op::I32GtUImm(b) => (GtU, b),
                    Op::I32LeSImm(b) => (LeS, b),
                    Op::I32LeUImm(b) => (LeU, b),
                    Op::I32GeSImm(b) => (GeS, b),
                    Op::I32GeUImm(b) => (GeU, b),
                    _ => return None,
                };
                return Some((c, b.dst, b.lhs, Rhs::Imm(b.imm)));
            }
        };
        Some((c, b.dst, b.lhs, Rhs::Slot(b.rhs)))
    }

    fn branch(self, lhs: Slot, rhs: Rhs) -> Op {
        use Cmp::*;
        match rhs {
            Rhs::Slot(rhs) => {
                let b = BrCmp {
                    lhs,
                    rhs,
                    offset: 0,
                    fallthrough: 0,
                };
                match self {
                    Eq => Op::BrI32Eq(b),
                    Ne => Op::BrI32Ne(b),
                    LtS => Op::BrI32LtS(b),
                    LtU => Op::BrI32LtU(b),
                    GtS => Op::BrI32GtS(b),
                    GtU => Op::BrI32GtU(b),
                    LeS => Op::BrI32LeS(b),
                    LeU => Op::BrI32LeU(b),
                    GeS => Op::BrI32GeS(b),
                    GeU => Op::BrI32GeU(b),
                }
            }
            Rhs::Imm(imm) => {
                let b = BrCmpImm {
                    lhs,
                    fallthrough: 0,
                    imm,
                    offset: 0,
                };
                match self {
                    Eq => Op::BrI32EqImm(b),
                    Ne => Op::BrI32NeImm(b),
                    LtS => Op::BrI32LtSImm(b),
                    LtU => Op::BrI32LtUImm(b),
                    GtS => Op::BrI32GtSImm(b),
                    GtU => Op::BrI32GtUImm(b),
                    LeS => Op::BrI32LeSImm(b),
                    LeU => Op::BrI32LeUImm(b),
                    GeS => Op::BrI32GeSImm(b),
                    GeU => Op::BrI32GeUImm(b),
                }
            }
        }
    }
}

/// The immediate form of `op` with right operand `value`, if there is one.
fn with_imm(op: Op, value: u64, is64: bool) -> Option<Op> {
    let v32 = value as u32 as i32;
    let fits64 = value as i64 == value as i32 as i64;
    let imm = |b: Bin, imm: i32| BinImm {
        dst: b.dst,
        lhs: b.lhs,
        imm,
    };
    // The `i64` immediate forms have named fields, to keep their `u64`
    // within the op's 16 bytes.
    macro_rules! imm64 {
        ($name:ident, $b:expr, $imm:expr) => {
            Op::$name {
                dst: $b.dst,
                lhs: $b.lhs,
                imm: $imm,
            }
        };
    }
    Some(match op {
        Op::I64Add(b) if is64 && fits64 => Op::I64AddImm(imm(b, value as i32)),
        Op::I64Sub(b) if is64 && fits64 && value as i64 != i32::MIN as i64 => {
            Op::I64AddImm(imm(b, (value as i32).wrapping_neg()))
        }
        Op::I64And(b) if is64 => imm64!(I64AndImm, b, value),
        Op::I64Or(b) if is64 => imm64!(I64OrImm, b, value),
        Op::I64Xor(b) if is64 => imm64!(I64XorImm, b, value),
        Op::I64Mul(b) if is64 => imm64!(I64MulImm, b, value),
        Op::I64Shl(b) if is64 => imm64!(I64ShlImm, b, value & 63),
        Op::I64ShrS(b) if is64 => imm64!(I64ShrSImm, b, value & 63),
        Op::I64ShrU(b) if is64 => imm64!(I64ShrUImm, b, value & 63),
        Op::I64Rotl(b) if is64 => imm64!(I64RotlImm, b, value & 63),
        Op::I64Rotr(b) if is64 => imm64!(I64RotrImm, b, value & 63),
        _ if is64 => return None,
        Op::I32Add(b) => Op::I32AddImm(imm(b, v32)),
        Op::I32Sub(b) => Op::I32AddImm(imm(b, v32.wrapping_neg())),
        Op::I32Mul(b) => Op::I32MulImm(imm(b, v32)),
        Op::I32And(b) => Op::I32AndImm(imm(b, v32)),
        Op::I32Or(b) => Op::I32OrImm(imm(b, v32)),
        Op::I32Xor(b) => Op::I32XorImm(imm(b, v32)),
        Op::I32Shl(b) => Op::I32ShlImm(imm(b, v32)),
        Op::I32ShrS(b) => Op::I32ShrSImm(imm(b, v32)),
        Op::I32ShrU(b) => Op::I32ShrUImm(imm(b, v32)),
        Op::I32Rotl(b) => Op::I32RotlImm(imm(b, v32)),
        Op::I32Rotr(b) => Op::I32RotrImm(imm(b, v32)),
        Op::I32Eq(b) => Op::I32EqImm(imm(b, v32)),
        Op::I32Ne(b) => Op::I32NeImm(imm(b, v32)),
        Op::I32LtS(b) => Op::I32LtSImm(imm(b, v32)),
        Op::I32LtU(b) => Op::I32LtUImm(imm(b, v32)),
        Op::I32GtS(b) => Op::I32GtSImm(imm(b, v32)),
        Op::I32GtU(b) => Op::I32GtUImm(imm(b, v32)),
        Op::I32LeS(b) => Op::I32LeSImm(imm(b, v32)),
        Op::I32LeU(b) => Op::I32LeUImm(imm(b, v32)),
        Op::I32GeS(b) => Op::I32GeSImm(imm(b, v32)),
        Op::I32GeU(b) => Op::I32GeUImm(imm(b, v32)),
        _ => return None,
    })
}

/// `op` (a commutative op over [`Bin`]) with its operands swapped.
pub(super) fn swap_operands(op: Op) -> Op {
    let swap = |x: Bin| Bin {
        dst: x.dst,
        lhs: x.rhs,
        rhs: x.lhs,
    };
    match op {
        Op::I32Add(x) => Op::I32Add(swap(x)),
        Op::I32Mul(x) => Op::I32Mul(swap(x)),
        Op::I32And(x) => Op::I32And(swap(x)),
        Op::I32Or(x) => Op::I32Or(swap(x)),
        Op::I32Xor(x) => Op::I32Xor(swap(x)),
        Op::I32Eq(x) => Op::I32Eq(swap(x)),
        Op::I32Ne(x) => Op::I32Ne(swap(x)),
        Op::I64Add(x) => Op::I64Add(swap(x)),
        Op::I64Mul(x) => Op::I64Mul(swap(x)),
        Op::I64And(x) => Op::I64And(swap(x)),
        Op::I64Or(x) => Op::I64Or(swap(x)),
        Op::I64Xor(x) => Op::I64Xor(swap(x)),
        other => other,
    }
}

/// Whether swapping the operands of `op` keeps its meaning.
pub(super) fn commutative(op: &Op) -> bool {
    matches!(
        op,
        Op::I32Add(_)
            | Op::I32Mul(_)
            | Op::I32And(_)
            | Op::I32Or(_)
            | Op::I32Xor(_)
            | Op::I32Eq(_)
            | Op::I32Ne(_)
            | Op::I64Add(_)
            | Op::I64Mul(_)
            | Op::I64And(_)
            | Op::I64Or(_)
            | Op::I64Xor(_)
    )
}

/// An `i32` address computation a load can do itself (see
/// `FuncTranslator::last_address`).
#[derive(Clone, Copy)]
enum Address {
    /// `[lhs] + imm`.
    AddImm(Slot, i32),
    /// `[a] + [b]`.
    Add(Slot, Slot),
    /// `[base] + ([idx] << shift)`.
    Index(Slot, Slot, u16),
}

/// The memory-0 load of `ty` from an address it computes, if there is
/// such an op (4-, 8- and 1-byte unsigned loads: the frequent ones).
fn addressed_load(ty: LoadTy, val: Slot, addr: Address, offset: u32) -> Option<Op> {
    use Address::*;
    Some(match (ty, addr) {
        (LoadTy::U32, AddImm(addr, imm)) => Op::Load32AddImm {
            val,
            addr,
            imm,
            offset,
        },
        (LoadTy::U64, AddImm(addr, imm)) => Op::Load64AddImm {
            val,
            addr,
            imm,
            offset,
        },
        (LoadTy::U8, AddImm(addr, imm)) => Op::Load8UAddImm {
            val,
            addr,
            imm,
            offset,
        },
        (LoadTy::U32, Add(a, b)) => Op::Load32Add { val, a, b, offset },
        (LoadTy::U64, Add(a, b)) => Op::Load64Add { val, a, b, offset },
        (LoadTy::U8, Add(a, b)) => Op::Load8UAdd { val, a, b, offset },
        (LoadTy::U32, Index(base, idx, shift)) => Op::Load32Index {
            val,
            base,
            idx,
            shift,
            offset,
        },
        (LoadTy::U64, Index(base, idx, shift)) => Op::Load64Index {
            val,
            base,
            idx,
            shift,
            offset,
        },
        (LoadTy::U8, Index(base, idx, shift)) => Op::Load8UIndex {
            val,
            base,
            idx,
            shift,
            offset,
        },
        _ => return None,
    })
}

impl FuncTranslator<'_> {
    /// Removes the last op (and its offset-table and reference-slot
    /// entries).
    fn pop_op(&mut self) {
        self.code.pop();
        if let Some(&(pc, _)) = self.gc_points.last()
            && pc as usize == self.code.len()
        {
            self.gc_points.pop();
            let end = self.gc_points.last().map_or(0, |p| p.1);
            self.gc_slots.truncate(end as usize);
        }
        if self
            .offsets
            .last()
            .is_some_and(|&(pc, _)| pc as usize == self.code.len())
        {
            self.offsets.pop();
        }
    }

    /// Whether the last op may be rewritten (no label after it... or at it:
    /// a label pointing at the last op still lands on its replacement).
    fn last_is_foldable(&self) -> bool {
        self.code.len() > self.last_label
    }

    /// If entry `e` is a constant, its value and width: read from the
    /// constant pool, or written by the last op, which the caller removes
    /// when it folds the value (`drop_const`).
    fn const_operand(&self, e: Entry) -> Option<(u64, bool)> {
        self.pooled(e).or_else(|| self.last_const(e))
    }

    /// Removes the `Const` op that produced `e` after its value was folded
    /// into an immediate (a pooled constant has none).
    fn drop_const(&mut self, e: Entry) {
        if self.pooled(e).is_some() {
            self.unref_pooled(e);
        } else {
            self.pop_op();
        }
    }

    /// If entry `e` was produced by the last op, a constant, its value.
    fn last_const(&self, e: Entry) -> Option<(u64, bool)> {
        if e.src != e.home || !self.last_is_foldable() {
            return None;
        }
        match *self.code.last()? {
            Op::Const32 { dst, value } if dst == e.home => Some((value as u64, false)),
            Op::Const64 { dst, value } if dst == e.home => Some((value, true)),
            _ => None,
        }
    }

    /// If entry `e` was produced by the last op, a float multiply of the
    /// given width, its factors.
    fn last_mul(&self, e: Entry, is64: bool) -> Option<(Slot, Slot)> {
        if e.src != e.home || !self.last_is_foldable() {
            return None;
        }
        match *self.code.last()? {
            Op::F64Mul(m) if is64 && m.dst == e.home => Some((m.lhs, m.rhs)),
            Op::F32Mul(m) if !is64 && m.dst == e.home => Some((m.lhs, m.rhs)),
            _ => None,
        }
    }

    /// `f32/f64.add` of a product the last op computed into a temporary:
    /// one `MulAdd` op instead of two, the temporary never written. Float
    /// addition is commutative in IEEE 754, so either operand may be the
    /// product.
    fn mul_add(&mut self, op: Op, a: Entry, b: Entry) -> Option<Op> {
        let (sum, is64) = match op {
            Op::F64Add(x) => (x, true),
            Op::F32Add(x) => (x, false),
            _ => return None,
        };
        let ((fa, fb), c) = match self.last_mul(b, is64) {
            Some(factors) => (factors, sum.lhs),
            None => (self.last_mul(a, is64)?, sum.rhs),
        };
        let m = MulAdd {
            dst: sum.dst,
            a: fa,
            b: fb,
            c,
        };
        Some(if is64 {
            Op::F64MulAdd(m)
        } else {
            Op::F32MulAdd(m)
        })
    }

    /// If entry `e` was produced by the last op, an `i32.shl` by a
    /// constant, its input and shift.
    fn last_shl(&self, e: Entry) -> Option<(Slot, u16)> {
        if e.src != e.home || !self.last_is_foldable() {
            return None;
        }
        match *self.code.last()? {
            Op::I32ShlImm(x) if x.dst == e.home => Some((x.lhs, (x.imm as u32 & 31) as u16)),
            _ => None,
        }
    }

    /// `i32.add` of an index the last op shifted by a constant (array
    /// addressing, either operand order): one `I32AddShl`, the shifted
    /// temporary never written.
    fn add_shl(&mut self, op: Op, a: Entry, b: Entry) -> Option<Op> {
        let Op::I32Add(sum) = op else {
            return None;
        };
        let ((idx, shift), base) = match self.last_shl(b) {
            Some(s) => (s, sum.lhs),
            None => (self.last_shl(a)?, sum.rhs),
        };
        Some(Op::I32AddShl {
            dst: sum.dst,
            base,
            idx,
            shift,
        })
    }

    /// A memory-0 store of `ty` to `[addr] + offset` of entry `v`, as one
    /// `Store..Imm` op if `v` is a constant that fits the op's immediate
    /// (pooled, or made by the last op, which is then removed). Returns
    /// whether it emitted.
    pub(super) fn emit_store_imm(
        &mut self,
        ty: StoreTy,
        addr: Slot,
        v: Entry,
        offset: u32,
    ) -> bool {
        let Some((value, _)) = self.const_operand(v) else {
            return false;
        };
        let op = match ty {
            StoreTy::B8 => Op::Store8Imm {
                addr,
                value: value as u32,
                offset,
            },
            StoreTy::B16 => Op::Store16Imm {
                addr,
                value: value as u32,
                offset,
            },
            StoreTy::B32 => Op::Store32Imm {
                addr,
                value: value as u32,
                offset,
            },
            StoreTy::B64 => match i32::try_from(value as i64) {
                Ok(value) => Op::Store64Imm {
                    addr,
                    value,
                    offset,
                },
                Err(_) => return false,
            },
        };
        self.drop_const(v);
        self.emit(op);
        true
    }

    /// Emits `op`, an immediate form whose left operand is entry `a`; an
    /// `I32AddImm` of a value the last op computed with another
    /// `I32AddImm` becomes one op with the two constants summed (wrapping
    /// addition is associative, so the result is exact).
    fn emit_folding_add(&mut self, op: Op, a: Entry) {
        if let Op::I32AddImm(outer) = op
            && a.src == a.home
            && self.last_is_foldable()
            && let Some(&Op::I32AddImm(inner)) = self.code.last()
            && inner.dst == a.home
        {
            self.pop_op();
            self.emit(Op::I32AddImm(BinImm {
                dst: outer.dst,
                lhs: inner.lhs,
                imm: inner.imm.wrapping_add(outer.imm),
            }));
            return;
        }
        self.emit_add_imm(op);
    }

    /// Emits `op`; an `I32AddImm` right after another (both immediates
    /// in 16 bits) becomes one `I32AddImmPair`.
    fn emit_add_imm(&mut self, op: Op) {
        if let Op::I32AddImm(second) = op
            && let Ok(imm1) = i16::try_from(second.imm)
            && self.last_is_foldable()
            && let Some(&Op::I32AddImm(first)) = self.code.last()
            && let Ok(imm0) = i16::try_from(first.imm)
        {
            self.pop_op();
            self.emit(Op::I32AddImmPair {
                dst0: first.dst,
                src0: first.lhs,
                dst1: second.dst,
                src1: second.lhs,
                imm0,
                imm1,
            });
            return;
        }
        self.emit(op);
    }

    /// A memory-0 load of `ty` (a 32-bit memory) from the address in entry
    /// `a` (just popped) plus `offset`, as one op that also computes the
    /// address, if the last op computed it and there is such an op; the
    /// result is pushed. Returns whether it emitted.
    pub(super) fn emit_addressed_load(&mut self, ty: LoadTy, a: Entry, offset: u32) -> bool {
        let Some((addr, rest)) = self.last_address(a) else {
            return false;
        };
        // The result goes where the address was: the next home slot.
        let Some(fused) = addressed_load(ty, a.home, addr, offset) else {
            return false;
        };
        self.pop_op();
        if let Some(rest) = rest {
            self.emit(rest);
        }
        let val = self.push_temp(1);
        debug_assert_eq!(val, a.home);
        self.emit(fused);
        true
    }

    /// How the last op computed entry `a`, a memory-0 address about to be
    /// consumed by a load, if the load can do that computation itself.
    /// The op it leaves in place of the last one (the first half of a pair)
    /// comes with it.
    fn last_address(&self, a: Entry) -> Option<(Address, Option<Op>)> {
        if a.src != a.home || !self.last_is_foldable() {
            return None;
        }
        let addr = match *self.code.last()? {
            Op::I32AddImmPair {
                dst0,
                src0,
                dst1,
                src1,
                imm0,
                imm1,
            } if dst1 == a.home => {
                let first = Op::I32AddImm(BinImm {
                    dst: dst0,
                    lhs: src0,
                    imm: imm0.into(),
                });
                return Some((Address::AddImm(src1, imm1.into()), Some(first)));
            }
            Op::I32AddImm(x) if x.dst == a.home => Some(Address::AddImm(x.lhs, x.imm)),
            Op::I32Add(x) if x.dst == a.home => Some(Address::Add(x.lhs, x.rhs)),
            Op::I32AddShl {
                dst,
                base,
                idx,
                shift,
            } if dst == a.home => Some(Address::Index(base, idx, shift)),
            _ => None,
        };
        addr.map(|a| (a, None))
    }

    /// Emits `[dst] = [src]` (`size` slots), merged with a `Copy` emitted
    /// just before into one `CopyPair`.
    pub(super) fn emit_copy(&mut self, dst: Slot, src: Slot, size: u8) {
        if size == 1
            && self.last_is_foldable()
            && let Some(&Op::Copy(first)) = self.code.last()
        {
            self.pop_op();
            self.emit(Op::CopyPair {
                dst0: first.dst,
                src0: first.src,
                dst1: dst,
                src1: src,
            });
            return;
        }
        self.emit(Self::copy_op(dst, src, size));
    }

    /// Emits an unconditional branch (offset 0, patched later), merged with
    /// a `Copy` emitted just before into one `CopyBr`; returns its pc.
    pub(super) fn emit_jump(&mut self) -> usize {
        if self.last_is_foldable()
            && let Some(&Op::Copy(c)) = self.code.last()
        {
            self.pop_op();
            return self.emit(Op::CopyBr {
                dst: c.dst,
                src: c.src,
                offset: 0,
            });
        }
        self.emit(Op::Br { offset: 0 })
    }

    /// Emits binary `op` (built from `a` and `b`), folding a constant
    /// operand into an immediate form, or a product just computed into a
    /// multiply-add, when possible.
    pub(super) fn emit_bin_fused(&mut self, op: Op, a: Entry, b: Entry) {
        if let Some(fused) = self.add_shl(op, a, b) {
            self.pop_op();
            self.emit(fused);
            return;
        }
        if let Some(fused) = self.mul_add(op, a, b) {
            self.pop_op();
            self.emit(fused);
            return;
        }
        if let Some((v, is64)) = self.const_operand(b)
            && let Some(fused) = with_imm(op, v, is64)
        {
            self.drop_const(b);
            self.emit_folding_add(fused, a);
            return;
        }
        if commutative(&op)
            && let Some((v, is64)) = self.const_operand(a)
        {
            let swapped = swap_operands(op);
            if let Some(fused) = with_imm(swapped, v, is64) {
                self.drop_const(a);
                self.emit_folding_add(fused, b);
                return;
            }
        }
        self.emit(op);
    }

    /// The conditional branch on `cond` (taken when `cond != 0`, or when
    /// `cond == 0` if `!jump_if_true`), fused with the comparison that
    /// produced it if that was the last op. The returned op has offset 0
    /// and is not yet emitted.
    pub(super) fn cond_branch(&mut self, cond: Entry, jump_if_true: bool) -> Op {
        if cond.src == cond.home && self.last_is_foldable() {
            let last = *self.code.last().expect("foldable implies non-empty");
            if let Some((c, dst, lhs, rhs)) = Cmp::of(&last)
                && dst == cond.home
            {
                self.pop_op();
                let c = if jump_if_true { c } else { c.negate() };
                return c.branch(lhs, rhs);
            }
            if let Op::I32Eqz(u) = last
                && u.dst == cond.home
            {
                self.pop_op();
                return if jump_if_true {
                    Op::BrIfEqz {
                        cond: u.src,
                        fallthrough: 0,
                        offset: 0,
                    }
                } else {
                    Op::BrIfNez {
                        cond: u.src,
                        fallthrough: 0,
                        offset: 0,
                    }
                };
            }
        }
        if jump_if_true {
            Op::BrIfNez {
                cond: cond.src,
                fallthrough: 0,
                offset: 0,
            }
        } else {
            Op::BrIfEqz {
                cond: cond.src,
                fallthrough: 0,
                offset: 0,
            }
        }
    }
}
