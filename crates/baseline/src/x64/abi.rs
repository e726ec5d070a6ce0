//! Where the wasm calling convention puts each parameter and result on
//! x86-64: Cranelift 0.135.8's `tail` convention, as `docs/native-abi.md`
//! writes it down. Code compiled here calls and is called by Cranelift's
//! code, so these rules must match that page exactly.

use super::asm::{Gpr, R8, R9, R10, RAX, RCX, RDI, RDX, RSI, Xmm};

/// A value's class in the convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Integers and references (`i32`, `i64`, reference bits).
    Int,
    /// `f32` and `f64` (and later `v128`).
    Float,
}

/// Where one parameter or result lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Gpr(Gpr),
    Xmm(Xmm),
    /// Byte offset in the stack argument area, or in the return area.
    Stack(u32),
}

/// The locations of a signature `(callee_vmctx, caller_vmctx, params…) ->
/// results…`.
#[derive(Clone, Debug)]
pub struct Signature {
    /// Whether a hidden return-area pointer comes first (in `rdi`).
    pub ret_area: bool,
    pub callee_vmctx: Gpr,
    pub caller_vmctx: Gpr,
    pub params: Vec<Loc>,
    /// Bytes of stack arguments, rounded up to 16: what the callee pops.
    pub stack_args: u32,
    pub results: Vec<Loc>,
    /// Bytes of the return area (0 without one).
    pub ret_area_size: u32,
}

const INT_ARGS: [Gpr; 6] = [RDI, RSI, RDX, RCX, R8, R9];
const INT_RETS: [Gpr; 8] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];

/// Assigns locations to `classes` with one counter per class (integers
/// from `int_regs`, floats from xmm0–7) and 8-byte stack slots after.
fn assign(classes: &[Class], int_regs: &[Gpr]) -> (Vec<Loc>, u32) {
    let (mut ni, mut nf, mut stack) = (0, 0, 0u32);
    let locs = classes
        .iter()
        .map(|c| match c {
            Class::Int if ni < int_regs.len() => {
                ni += 1;
                Loc::Gpr(int_regs[ni - 1])
            }
            Class::Float if nf < 8 => {
                nf += 1;
                Loc::Xmm(nf as Xmm - 1)
            }
            _ => {
                stack += 8;
                Loc::Stack(stack - 8)
            }
        })
        .collect();
    (locs, stack)
}

impl Signature {
    /// The convention's locations for a function taking `params` and
    /// returning `results`.
    pub fn new(params: &[Class], results: &[Class]) -> Signature {
        let (results, ret_area_size) = assign(results, &INT_RETS);
        let ret_area = ret_area_size > 0;
        let mut classes = vec![Class::Int, Class::Int];
        classes.extend_from_slice(params);
        let regs: &[Gpr] = if ret_area { &INT_ARGS[1..] } else { &INT_ARGS };
        let (mut locs, stack) = assign(&classes, regs);
        let (callee_vmctx, caller_vmctx) = match (locs[0], locs[1]) {
            (Loc::Gpr(a), Loc::Gpr(b)) => (a, b),
            _ => unreachable!("the two vmctx arguments always get registers"),
        };
        locs.drain(..2);
        Signature {
            ret_area,
            callee_vmctx,
            caller_vmctx,
            params: locs,
            stack_args: stack.next_multiple_of(16),
            results,
            ret_area_size: ret_area_size.next_multiple_of(16),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::*;

    #[test]
    fn registers_follow_the_documented_tail_convention() {
        let s = Signature::new(&[Int, Float, Int, Int, Int, Int, Float], &[Int, Float]);
        assert!(!s.ret_area);
        assert_eq!((s.callee_vmctx, s.caller_vmctx), (RDI, RSI));
        assert_eq!(
            s.params,
            [
                Loc::Gpr(RDX),
                Loc::Xmm(0),
                Loc::Gpr(RCX),
                Loc::Gpr(R8),
                Loc::Gpr(R9),
                Loc::Stack(0),
                Loc::Xmm(1)
            ]
        );
        assert_eq!(s.stack_args, 16);
        assert_eq!(s.results, [Loc::Gpr(RAX), Loc::Xmm(0)]);
    }

    #[test]
    fn a_return_area_takes_rdi_and_shifts_the_integers() {
        let s = Signature::new(&[Int], &[Int; 9]);
        assert!(s.ret_area);
        assert_eq!((s.callee_vmctx, s.caller_vmctx), (RSI, RDX));
        assert_eq!(s.params, [Loc::Gpr(RCX)]);
        assert_eq!(s.results[8], Loc::Stack(0));
        assert_eq!(s.ret_area_size, 16);
    }
}
