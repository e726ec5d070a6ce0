//! Where locals live: the hottest integer locals in callee-saved
//! registers and the hottest float locals in XMM registers for the whole
//! function, the rest in the frame.
//!
//! A register home never changes inside the function, so control-flow
//! merges need nothing for it; reads copy out of it, writes go straight
//! into it. Which locals get registers is decided by a first scan of the
//! body that counts each local's uses, weighted by loop depth (the one
//! place the compiler reads the operators twice; it costs about a tenth
//! of the compile time and wins loops their locals in registers).

use super::asm::{Gpr, Mem, R11, Size, Xmm};
use super::{Codegen, Kind, Loc, Operand};
use kiln_environ::CompileError;
use kiln_environ::wasmparser::{FunctionBody, Operator};

/// Callee-saved registers for integer locals (the `tail` convention
/// preserves rbx, r12 and r13; r14 and r15 are the VMContext and heap
/// base).
pub(super) const INT_HOMES: [Gpr; 3] = [3, 12, 13];
/// XMM registers for float locals. None is preserved across calls, so
/// they are saved to the locals' slots around each call.
pub(super) const FLOAT_HOMES: [Xmm; 6] = [8, 9, 10, 11, 12, 13];

/// Where a local lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Home {
    /// Its frame slot.
    Mem,
    Gpr(Gpr),
    Xmm(Xmm),
}

/// A register an operand is copied into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reg {
    Gpr(Gpr),
    Xmm(Xmm),
}

/// Chooses the locals that live in registers: the most used of each
/// class, a use inside `n` nested loops counting 4^n (up to 4^6), and
/// only locals used more than once.
pub(super) fn choose_homes(
    body: &FunctionBody<'_>,
    locals: &[Kind],
) -> Result<Vec<Home>, CompileError> {
    let wasm_err =
        |e: kiln_environ::wasmparser::BinaryReaderError| CompileError::Wasm(e.to_string());
    let mut weight = vec![0u64; locals.len()];
    let mut blocks: Vec<bool> = Vec::new();
    let mut depth = 0u32;
    let mut reader = body.get_operators_reader().map_err(wasm_err)?;
    while !reader.eof() {
        match reader.read().map_err(wasm_err)? {
            Operator::Loop { .. } => {
                blocks.push(true);
                depth += 1;
            }
            Operator::Block { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => blocks.push(false),
            Operator::End if blocks.pop() == Some(true) => depth -= 1,
            Operator::LocalGet { local_index }
            | Operator::LocalSet { local_index }
            | Operator::LocalTee { local_index } => {
                if let Some(w) = weight.get_mut(local_index as usize) {
                    *w += 1 << (2 * depth.min(6));
                }
            }
            _ => {}
        }
    }
    let mut homes = vec![Home::Mem; locals.len()];
    let pick = |float: bool| {
        let mut order: Vec<usize> = (0..locals.len())
            .filter(|&i| locals[i].is_float() == float && weight[i] >= 2)
            .collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(weight[i]), i));
        order
    };
    for (i, &r) in pick(false).iter().zip(&INT_HOMES) {
        homes[*i] = Home::Gpr(r);
    }
    for (i, &x) in pick(true).iter().zip(&FLOAT_HOMES) {
        homes[*i] = Home::Xmm(x);
    }
    Ok(homes)
}

impl Codegen<'_, '_> {
    /// Copies local `i` into register `dst` (as bits when the classes
    /// differ).
    pub(super) fn load_local(&mut self, i: u32, dst: Reg) {
        let kind = self.locals[i as usize];
        let double = kind == Kind::F64;
        match (self.homes[i as usize], dst) {
            (Home::Mem, Reg::Gpr(r)) => self.buf.load(kind.size(), r, self.local_mem(i)),
            (Home::Mem, Reg::Xmm(x)) if kind.is_float() => {
                self.buf.fload(double, x, self.local_mem(i))
            }
            (Home::Mem, Reg::Xmm(x)) => {
                self.buf.load(kind.size(), R11, self.local_mem(i));
                self.buf.gpr_to_xmm(kind.size(), x, R11);
            }
            (Home::Gpr(h), Reg::Gpr(r)) => self.buf.mov_rr(Size::S64, r, h),
            (Home::Gpr(h), Reg::Xmm(x)) => self.buf.gpr_to_xmm(kind.size(), x, h),
            (Home::Xmm(h), Reg::Xmm(x)) => self.buf.fmov(x, h),
            (Home::Xmm(h), Reg::Gpr(r)) => self.buf.xmm_to_gpr(kind.size(), r, h),
        }
    }

    /// Stores local `i`'s value into memory at `m`.
    pub(super) fn store_local(&mut self, i: u32, m: Mem) {
        let kind = self.locals[i as usize];
        match self.homes[i as usize] {
            Home::Mem => {
                self.buf.load(kind.size(), R11, self.local_mem(i));
                self.buf.store(kind.size(), m, R11);
            }
            Home::Gpr(h) => self.buf.store(kind.size(), m, h),
            Home::Xmm(h) => self.buf.fstore(kind == Kind::F64, m, h),
        }
    }

    /// Loads an operand that is not in a register of its own (a constant,
    /// a local, a spilled value) or whose register is `Gpr`, into GPR
    /// `dst` as bits.
    pub(super) fn load_bits(&mut self, o: &Operand, dst: Gpr) {
        match o.loc {
            Loc::Const(bits) => self.buf.mov_imm(Size::S64, dst, bits),
            Loc::Local(i) => self.load_local(i, Reg::Gpr(dst)),
            Loc::Gpr(r) => self.buf.mov_rr(Size::S64, dst, r),
            Loc::Xmm(x) => self.buf.xmm_to_gpr(o.kind.size(), dst, x),
            Loc::Spill => self.buf.load(o.kind.size(), dst, self.slot(o.pos)),
            Loc::Flags(_) => unreachable!("materialized"),
        }
    }

    /// Loads an operand into XMM register `dst`.
    pub(super) fn load_float(&mut self, o: &Operand, dst: Xmm) {
        match o.loc {
            Loc::Const(bits) => {
                self.buf.mov_imm(Size::S64, R11, bits);
                self.buf.gpr_to_xmm(o.kind.size(), dst, R11);
            }
            Loc::Local(i) => self.load_local(i, Reg::Xmm(dst)),
            Loc::Xmm(x) => self.buf.fmov(dst, x),
            Loc::Gpr(r) => self.buf.gpr_to_xmm(o.kind.size(), dst, r),
            Loc::Spill => self.buf.fload(o.kind == Kind::F64, dst, self.slot(o.pos)),
            Loc::Flags(_) => unreachable!("materialized"),
        }
    }

    /// Writes operand `v` (consumed; its register is freed) into local
    /// `i`; for `local.tee`, returns where the value is afterwards.
    pub(super) fn write_local(&mut self, i: u32, v: Operand, tee: bool) -> Loc {
        let kind = v.kind;
        let size = kind.size();
        if v.loc == Loc::Local(i) {
            return v.loc;
        }
        match self.homes[i as usize] {
            Home::Gpr(h) => {
                self.load_bits(&v, h);
                self.free(v.loc);
                // A tee's result is read from the home like a local.get.
                Loc::Local(i)
            }
            Home::Xmm(h) => {
                self.load_float(&v, h);
                self.free(v.loc);
                Loc::Local(i)
            }
            Home::Mem => {
                let dst = self.local_mem(i);
                match v.loc {
                    Loc::Gpr(r) => self.buf.store(size, dst, r),
                    Loc::Xmm(x) => self.buf.fstore(kind == Kind::F64, dst, x),
                    Loc::Const(bits) => self.store_const(kind, dst, bits),
                    _ if tee => {
                        // Read once into a register the copy then keeps.
                        let loc = if kind.is_float() {
                            let x = self.alloc_xmm();
                            self.load_float(&v, x);
                            self.buf.fstore(kind == Kind::F64, dst, x);
                            Loc::Xmm(x)
                        } else {
                            let r = self.alloc_gpr();
                            self.load_bits(&v, r);
                            self.buf.store(size, dst, r);
                            Loc::Gpr(r)
                        };
                        return loc;
                    }
                    _ => {
                        self.load_bits(&v, R11);
                        self.buf.store(size, dst, R11);
                    }
                }
                v.loc
            }
        }
    }

    /// Saves the float locals that live in registers to their slots
    /// before a call (no XMM register survives one) ...
    pub(super) fn save_float_homes(&mut self) {
        for i in 0..self.homes.len() {
            if let Home::Xmm(h) = self.homes[i] {
                let double = self.locals[i] == Kind::F64;
                self.buf.fstore(double, self.local_mem(i as u32), h);
            }
        }
    }

    /// ... and reloads them after it.
    pub(super) fn restore_float_homes(&mut self) {
        for i in 0..self.homes.len() {
            if let Home::Xmm(h) = self.homes[i] {
                let double = self.locals[i] == Kind::F64;
                self.buf.fload(double, h, self.local_mem(i as u32));
            }
        }
    }
}
