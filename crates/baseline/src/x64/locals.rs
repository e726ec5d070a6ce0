//! Where locals live: the hottest integer locals in callee-saved
//! registers and the hottest float locals in XMM registers for the whole
//! function, the rest in the frame.
//!
//! A register home never changes inside the function, so control-flow
//! merges need nothing for it; reads copy out of it, writes go straight
//! into it. Which locals get registers is decided by a first scan of the
//! body that counts each local's uses, weighted by loop depth: a
//! `VisitOperator` that builds no `Operator` values, so it costs a fraction
//! of the translation's own decoding.

use super::asm::{Gpr, Mem, R11, Size, Xmm};
use super::{Codegen, Kind, Loc, Operand};
use kiln_environ::wasmparser::{self, FunctionBody, VisitOperator};

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
pub(super) fn choose_homes(body: &FunctionBody<'_>, locals: &[Kind]) -> Vec<Home> {
    let mut scan = LocalUses {
        weight: vec![0u64; locals.len()],
        loops: Vec::new(),
        depth: 0,
    };
    // A body the scan cannot read (SIMD, which this visitor leaves out,
    // or a malformed one) gets no register homes; the translation then
    // reports what it cannot compile.
    let read = body.get_operators_reader().map(|mut reader| {
        while !reader.eof() {
            if reader.visit_operator(&mut scan).is_err() {
                return false;
            }
        }
        true
    });
    if !matches!(read, Ok(true)) {
        return vec![Home::Mem; locals.len()];
    }
    let weight = scan.weight;
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
    homes
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

/// The first scan: each local's weighted uses.
struct LocalUses {
    weight: Vec<u64>,
    /// For each open block, whether it is a loop.
    loops: Vec<bool>,
    depth: u32,
}

impl LocalUses {
    fn local(&mut self, index: u32) {
        if let Some(w) = self.weight.get_mut(index as usize) {
            *w += 1 << (2 * self.depth.min(6));
        }
    }

    fn open(&mut self, is_loop: bool) {
        self.loops.push(is_loop);
        self.depth += u32::from(is_loop);
    }

    fn close(&mut self) {
        if self.loops.pop() == Some(true) {
            self.depth -= 1;
        }
    }
}

/// What the scan does for one operator: the structure and the locals;
/// nothing for the rest.
macro_rules! scan_one {
    (LocalGet $s:ident $local_index:ident) => { $s.local($local_index) };
    (LocalSet $s:ident $local_index:ident) => { $s.local($local_index) };
    (LocalTee $s:ident $local_index:ident) => { $s.local($local_index) };
    (Loop $s:ident $($arg:ident)*) => { { $( let _ = $arg; )* $s.open(true) } };
    (Block $s:ident $($arg:ident)*) => { { $( let _ = $arg; )* $s.open(false) } };
    (If $s:ident $($arg:ident)*) => { { $( let _ = $arg; )* $s.open(false) } };
    (Try $s:ident $($arg:ident)*) => { { $( let _ = $arg; )* $s.open(false) } };
    (TryTable $s:ident $($arg:ident)*) => { { $( let _ = $arg; )* $s.open(false) } };
    (End $s:ident) => { $s.close() };
    ($op:ident $s:ident $($arg:ident)*) => { { $( let _ = $arg; )* } };
}

macro_rules! scan_visitor {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                scan_one!($op self $($($arg)*)?)
            }
        )*
    };
}

impl<'a> VisitOperator<'a> for LocalUses {
    type Output = ();

    wasmparser::for_each_visit_operator!(scan_visitor);
}
