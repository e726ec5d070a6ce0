//! Accumulator forms, chosen once a function's code is final: an op whose
//! operand is the value the op just before it wrote becomes its
//! accumulator form (`...Acc`), which takes that operand from the `acc`
//! register every handler passes on instead of loading it from its slot.
//! Every slot write also leaves its value in `acc` (`set!` in
//! `exec/handlers.rs`), and the slot is still written, so the choice is
//! only a shortcut: the same value is in both places.
//!
//! It holds when the op before is the only way into the op: no branch,
//! branch fall-through or exception landing pad targets it. Running with
//! jump threading, in the same pass, it sees every branch's final targets.

use super::FuncTranslator;
use super::fuse::{commutative, swap_operands};
use crate::bytecode::{Bin, BrCmp, Op, Slot};
use alloc::vec;

/// The slot whose value `op` leaves in the accumulator as its last write:
/// its single result. `None` for ops that write nothing, several values,
/// or write through a path other than `set!`.
fn acc_result(op: &Op) -> Option<Slot> {
    let mut op = *op;
    let slot = op.scalar_dst_mut().map(|d| *d);
    if op.code().leaves_result_in_acc() {
        debug_assert!(slot.is_some(), "{op:?}");
        slot
    } else {
        None
    }
}

/// `op` with its two inputs exchanged, for an op over [`Bin`] or
/// [`BrCmp`] whose meaning allows it: a commutative integer op keeps its
/// name, a comparison takes its mirror (`a < b` is `b > a`). Float
/// arithmetic is left alone, so which NaN comes out never depends on this
/// pass.
fn mirrored(op: Op) -> Option<Op> {
    let s = |x: Bin| Bin {
        dst: x.dst,
        lhs: x.rhs,
        rhs: x.lhs,
    };
    let c = |x: BrCmp| BrCmp {
        lhs: x.rhs,
        rhs: x.lhs,
        ..x
    };
    if commutative(&op) {
        return Some(swap_operands(op));
    }
    Some(match op {
        Op::I32LtS(x) => Op::I32GtS(s(x)),
        Op::I32GtS(x) => Op::I32LtS(s(x)),
        Op::I32LtU(x) => Op::I32GtU(s(x)),
        Op::I32GtU(x) => Op::I32LtU(s(x)),
        Op::I32LeS(x) => Op::I32GeS(s(x)),
        Op::I32GeS(x) => Op::I32LeS(s(x)),
        Op::I32LeU(x) => Op::I32GeU(s(x)),
        Op::I32GeU(x) => Op::I32LeU(s(x)),
        Op::I64Eq(x) => Op::I64Eq(s(x)),
        Op::I64Ne(x) => Op::I64Ne(s(x)),
        Op::I64LtS(x) => Op::I64GtS(s(x)),
        Op::I64GtS(x) => Op::I64LtS(s(x)),
        Op::I64LtU(x) => Op::I64GtU(s(x)),
        Op::I64GtU(x) => Op::I64LtU(s(x)),
        Op::I64LeS(x) => Op::I64GeS(s(x)),
        Op::I64GeS(x) => Op::I64LeS(s(x)),
        Op::I64LeU(x) => Op::I64GeU(s(x)),
        Op::I64GeU(x) => Op::I64LeU(s(x)),
        Op::F32Eq(x) => Op::F32Eq(s(x)),
        Op::F32Ne(x) => Op::F32Ne(s(x)),
        Op::F32Lt(x) => Op::F32Gt(s(x)),
        Op::F32Gt(x) => Op::F32Lt(s(x)),
        Op::F32Le(x) => Op::F32Ge(s(x)),
        Op::F32Ge(x) => Op::F32Le(s(x)),
        Op::F64Eq(x) => Op::F64Eq(s(x)),
        Op::F64Ne(x) => Op::F64Ne(s(x)),
        Op::F64Lt(x) => Op::F64Gt(s(x)),
        Op::F64Gt(x) => Op::F64Lt(s(x)),
        Op::F64Le(x) => Op::F64Ge(s(x)),
        Op::F64Ge(x) => Op::F64Le(s(x)),
        Op::BrI32Eq(x) => Op::BrI32Eq(c(x)),
        Op::BrI32Ne(x) => Op::BrI32Ne(c(x)),
        Op::BrI32LtS(x) => Op::BrI32GtS(c(x)),
        Op::BrI32GtS(x) => Op::BrI32LtS(c(x)),
        Op::BrI32LtU(x) => Op::BrI32GtU(c(x)),
        Op::BrI32GtU(x) => Op::BrI32LtU(c(x)),
        Op::BrI32LeS(x) => Op::BrI32GeS(c(x)),
        Op::BrI32GeS(x) => Op::BrI32LeS(c(x)),
        Op::BrI32LeU(x) => Op::BrI32GeU(c(x)),
        Op::BrI32GeU(x) => Op::BrI32LeU(c(x)),
        _ => return None,
    })
}

/// The accumulator form of `op` when its accumulator operand, or (by
/// [`mirrored`]) its other input, is `slot`.
fn acc_form_reading(op: Op, slot: Slot) -> Option<Op> {
    match op.acc_form() {
        Some((s, acc)) if s == slot => Some(acc),
        Some(_) => match mirrored(op)?.acc_form() {
            Some((s, acc)) if s == slot => Some(acc),
            _ => None,
        },
        None => None,
    }
}

impl FuncTranslator<'_> {
    /// The last pass over a function's code, one op at a time: threads
    /// jumps ([`Self::thread_jump`]) and rewrites to its accumulator form
    /// every op that reads the result of the op before it and is reached
    /// only from there.
    ///
    /// One pass instead of three (threading, finding the ops a branch
    /// enters, choosing forms; the three cost about 6% of translation).
    /// An op is converted when the pass reaches it if nothing seen so far
    /// enters it (forward branches and landing pads are seen before their
    /// targets); a backward branch found later turns its target back into
    /// its base form, which means the same.
    pub(super) fn finish_code(&mut self) {
        let n = self.code.len();
        // Ops control can reach other than from the op before them.
        let mut entered = vec![false; n + 1];
        for region in &self.handlers.regions {
            for catch in region.catches.iter() {
                if let Some(e) = entered.get_mut(catch.pad as usize) {
                    *e = true;
                }
            }
        }
        for pc in 0..n {
            self.thread_jump(pc);
            let mut op = self.code[pc];
            if op.code().is_branch() {
                let (first, second) = match op.cond_branch_targets_mut() {
                    Some((taken, fallthrough)) => {
                        (i64::from(*taken), Some(i64::from(*fallthrough)))
                    }
                    None => match op.branch_offset_mut() {
                        Some(offset) => (i64::from(*offset), None),
                        None => unreachable!("{op:?} is tagged as a branch"),
                    },
                };
                for rel in core::iter::once(first).chain(second) {
                    let Ok(target) = usize::try_from(pc as i64 + 1 + rel) else {
                        continue;
                    };
                    if let Some(e) = entered.get_mut(target) {
                        *e = true;
                    }
                    if target < pc {
                        self.code[target] = self.code[target].base_form();
                    }
                }
            } else {
                debug_assert!(op.branch_offset_mut().is_none(), "{op:?} branches");
            }
            // The tag test first: most ops have no accumulator form.
            if pc == 0 || entered[pc] || !self.code[pc].code().has_acc_form() {
                continue;
            }
            let Some(slot) = acc_result(&self.code[pc - 1]) else {
                continue;
            };
            if let Some(acc) = acc_form_reading(self.code[pc], slot) {
                self.code[pc] = acc;
            }
        }
    }
}
