//! Every trap the translator emits, in one place: [`Translator::trap`],
//! [`Translator::trap_if`], [`Translator::trap_unless`] and
//! [`Translator::uadd_or_trap`] pick the form the engine's trap mode needs
//! (`Tunables::signals_based_traps`, `docs/signal-free.md`):
//!
//! - **with signals**: a Cranelift trap instruction (`trap`, `trapnz`,
//!   `trapz`, `uadd_overflow_trap`). It faults (`ud2`, `udf`, …) and the
//!   runtime's signal handler finds its pc in the trap table.
//! - **without**: a branch to a cold block, one per trap code and
//!   function, that calls the `trap` builtin with the Kiln trap code and
//!   the trapping operator's wasm offset. The builtin unwinds to the host
//!   like any builtin that traps, so nothing faults and the trap table
//!   stays empty.
//!
//! The same module holds the signal-free replacements for the operators
//! whose Cranelift instructions trap by themselves (integer division and
//! remainder, float-to-int truncation), the stack-limit check that
//! replaces Cranelift's prologue trap. `crate::signal_free` checks the
//! result: a path that forgot these helpers fails to compile instead of
//! faulting at run time.

use super::{Field, Translator, trap};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, BlockArg, InstBuilder, Type, Value, types};
use kiln_environ::{Builtin, TrapCode};

/// How a float-to-int truncation maps to CLIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trunc {
    /// To a signed integer.
    Signed,
    /// To an unsigned integer.
    Unsigned,
}

/// Integer division and remainder operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DivOp {
    /// `div_s`: traps on a zero divisor and on `MIN / -1`.
    SDiv,
    /// `div_u`: traps on a zero divisor.
    UDiv,
    /// `rem_s`: traps on a zero divisor (`MIN % -1` is 0).
    SRem,
    /// `rem_u`: traps on a zero divisor.
    URem,
}

impl Translator<'_, '_> {
    /// Whether traps may be faulting instructions.
    fn signals(&self) -> bool {
        self.env.tunables.signals_based_traps
    }

    /// Ends the current block with a trap of `code`.
    pub fn trap(&mut self, code: TrapCode) {
        if self.signals() {
            self.builder.ins().trap(trap::to_clif(code));
        } else {
            self.jump_to_trap(code);
        }
    }

    /// Traps with `code` when `cond` (an integer of any width) is non-zero.
    pub fn trap_if(&mut self, cond: Value, code: TrapCode) {
        if self.signals() {
            self.builder.ins().trapnz(cond, trap::to_clif(code));
        } else {
            self.branch_to_trap(cond, code, true);
        }
    }

    /// Traps with `code` when `cond` (an integer of any width) is zero.
    pub fn trap_unless(&mut self, cond: Value, code: TrapCode) {
        if self.signals() {
            self.builder.ins().trapz(cond, trap::to_clif(code));
        } else {
            self.branch_to_trap(cond, code, false);
        }
    }

    /// `a + b`, trapping with `code` when the unsigned sum overflows.
    pub fn uadd_or_trap(&mut self, a: Value, b: Value, code: TrapCode) -> Value {
        if self.signals() {
            self.builder
                .ins()
                .uadd_overflow_trap(a, b, trap::to_clif(code))
        } else {
            let (sum, overflow) = self.builder.ins().uadd_overflow(a, b);
            self.trap_if(overflow, code);
            sum
        }
    }

    /// Branches to a cold block for this site when `cond` is non-zero
    /// (`when_nonzero`) or zero, and continues in a new block otherwise.
    /// The site's block only passes its offset on to the function's trap
    /// block for `code`: materialized there, the offset costs the hot path
    /// nothing (as a branch argument it would be set before the branch).
    fn branch_to_trap(&mut self, cond: Value, code: TrapCode, when_nonzero: bool) {
        let site = self.builder.create_block();
        self.builder.set_cold_block(site);
        let cont = self.builder.create_block();
        if when_nonzero {
            self.builder.ins().brif(cond, site, &[], cont, &[]);
        } else {
            self.builder.ins().brif(cond, cont, &[], site, &[]);
        }
        self.builder.seal_block(site);
        self.builder.seal_block(cont);
        // The continuation's only predecessor is the block we were in, so
        // what that block did (an interrupt poll through a call) still
        // holds there.
        let polled = self.interrupt_polled;
        self.builder.switch_to_block(site);
        self.jump_to_trap(code);
        self.builder.switch_to_block(cont);
        self.interrupt_polled = polled;
    }

    /// Ends the current block with a jump to the function's trap block for
    /// `code`, passing the current operator's offset.
    fn jump_to_trap(&mut self, code: TrapCode) {
        let block = self.trap_block(code);
        let site = [BlockArg::Value(self.site())];
        self.builder.ins().jump(block, &site);
    }

    /// The wasm offset of the operator being translated, as an `i32`
    /// (`u32::MAX` in the prologue, which has none).
    fn site(&mut self) -> Value {
        let bits = self.builder.srcloc().bits();
        self.builder.ins().iconst(types::I32, i64::from(bits))
    }

    /// The cold block every trap of `code` in this function branches to,
    /// with the trapping operator's wasm offset as its parameter; filled
    /// by [`Translator::finish_traps`].
    ///
    /// One block per code rather than one per site keeps signal-free code
    /// small: a site costs its conditional branch and a cold move and
    /// jump, instead of a call sequence of its own. The offset goes to
    /// the builtin so the trap still names its own operator, not the
    /// shared call's.
    fn trap_block(&mut self, code: TrapCode) -> ir::Block {
        if let Some(&(_, block)) = self.trap_blocks.iter().find(|(c, _)| *c == code) {
            return block;
        }
        let block = self.builder.create_block();
        self.builder.append_block_param(block, types::I32);
        self.builder.set_cold_block(block);
        self.trap_blocks.push((code, block));
        block
    }

    /// Fills the trap blocks the function used, once its body is
    /// translated: each calls the `trap` builtin with its code and the
    /// site's offset.
    ///
    /// The builtin never returns, but Cranelift does not know that and a
    /// block needs a terminator that is not itself a trap instruction:
    /// each jumps to an empty endless loop (a few bytes, never executed).
    pub fn finish_traps(&mut self) {
        let blocks = std::mem::take(&mut self.trap_blocks);
        if blocks.is_empty() {
            return;
        }
        // The calls belong to no operator: the runtime takes the offset
        // from the argument.
        self.builder.set_srcloc(ir::SourceLoc::default());
        let never = self.builder.create_block();
        self.builder.set_cold_block(never);
        for (code, block) in blocks {
            self.builder.switch_to_block(block);
            let site = self.builder.block_params(block)[0];
            let code = self
                .builder
                .ins()
                .iconst(types::I32, i64::from(code.index()));
            self.call_builtin(Builtin::Trap, &[code, site]);
            self.builder.ins().jump(never, &[]);
        }
        self.builder.switch_to_block(never);
        self.builder.ins().jump(never, &[]);
    }

    /// The signal-free stack-limit check, at the entry of a function that
    /// calls wasm: Cranelift's own (`Function::stack_limit`) ends in a
    /// trap instruction, so without signals the body compares the stack
    /// pointer with the store's limit itself and calls the `trap` builtin
    /// below it.
    ///
    /// It runs after the prologue has allocated the frame, so the stack
    /// pointer it reads already includes this function's frame, and what
    /// the prologue stored lies inside the runtime's reserve below the
    /// limit (the compiler bounds signal-free frames to fit:
    /// `SIGNAL_FREE_MAX_FRAME` in `compiler.rs`).
    pub fn stack_check(&mut self) {
        let ptr = self.env.pointer_type;
        let limits = self.limits_ptr();
        // Set before the host enters wasm and constant while it runs.
        let flags = self.vm_flags(Field::Readonly);
        let off = self.env.offsets.limits_stack_limit() as i32;
        let limit = self.builder.ins().load(ptr, flags, limits, off);
        let sp = self.builder.ins().get_stack_pointer(ptr);
        let below = self.builder.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        self.trap_if(below, TrapCode::StackOverflow);
    }

    /// An integer division or remainder. With signals it is the bare CLIF
    /// instruction, which traps by itself. Without, the operands are
    /// checked first (zero divisor; `MIN / -1` for `div_s`), so the
    /// instruction that follows can never fault: see `crate::signal_free`
    /// for why its trap sites are dropped.
    pub fn division(&mut self, op: DivOp, a: Value, b: Value) -> Value {
        if !self.signals() {
            let zero = self.builder.ins().icmp_imm_u(IntCC::Equal, b, 0);
            self.trap_if(zero, TrapCode::IntegerDivisionByZero);
            if op == DivOp::SDiv {
                let ty = self.builder.func.dfg.value_type(a);
                let min = match ty {
                    types::I32 => i64::from(i32::MIN),
                    _ => i64::MIN,
                };
                let a_min = self.builder.ins().icmp_imm_s(IntCC::Equal, a, min);
                let b_neg1 = self.builder.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let overflow = self.builder.ins().band(a_min, b_neg1);
                self.trap_if(overflow, TrapCode::IntegerOverflow);
            }
        }
        let ins = self.builder.ins();
        match op {
            DivOp::SDiv => ins.sdiv(a, b),
            DivOp::UDiv => ins.udiv(a, b),
            DivOp::SRem => ins.srem(a, b),
            DivOp::URem => ins.urem(a, b),
        }
    }

    /// A trapping float-to-int truncation (`iNN.trunc_fMM_{s,u}`) to
    /// `to`. With signals it is `fcvt_to_{s,u}int`, which traps by itself.
    /// Without, NaN traps as a bad conversion and a value whose truncation
    /// does not fit traps as an overflow, before the saturating (never
    /// trapping) conversion runs on a value it converts exactly.
    pub fn truncate(&mut self, kind: Trunc, to: Type, x: Value) -> Value {
        if self.signals() {
            return match kind {
                Trunc::Signed => self.builder.ins().fcvt_to_sint(to, x),
                Trunc::Unsigned => self.builder.ins().fcvt_to_uint(to, x),
            };
        }
        let from = self.builder.func.dfg.value_type(x);
        let nan = self.builder.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(nan, TrapCode::BadConversionToInteger);
        let ((lo, lo_cc), hi) = trunc_bounds(kind, from, to);
        let lo = self.float_const(from, lo);
        let hi = self.float_const(from, hi);
        let above_lo = self.builder.ins().fcmp(lo_cc, x, lo);
        let below_hi = self.builder.ins().fcmp(FloatCC::LessThan, x, hi);
        let fits = self.builder.ins().band(above_lo, below_hi);
        self.trap_unless(fits, TrapCode::IntegerOverflow);
        match kind {
            Trunc::Signed => self.builder.ins().fcvt_to_sint_sat(to, x),
            Trunc::Unsigned => self.builder.ins().fcvt_to_uint_sat(to, x),
        }
    }

    /// A constant of float type `ty` with value `v` (exact in `ty`).
    fn float_const(&mut self, ty: Type, v: f64) -> Value {
        if ty == types::F32 {
            self.builder.ins().f32const(v as f32)
        } else {
            self.builder.ins().f64const(v)
        }
    }
}

/// The range of floats of type `from` whose truncation fits integer type
/// `to`: `x lo_cc lo && x < hi`, both bounds exact in `from`.
///
/// The upper bound is `2^N` (unsigned) or `2^(N-1)` (signed), always a
/// power of two and so exact. The lower bound is `-1` exclusive for
/// unsigned (`-0.9` truncates to 0); for signed it is `MIN - 1` exclusive
/// where `from` can represent it (f64 → i32), and otherwise `MIN`
/// inclusive, because then no float lies strictly between `MIN - 1` and
/// `MIN`.
fn trunc_bounds(kind: Trunc, from: Type, to: Type) -> ((f64, FloatCC), f64) {
    let bits = to.bits() as i32;
    match kind {
        Trunc::Unsigned => ((-1.0, FloatCC::GreaterThan), 2f64.powi(bits)),
        Trunc::Signed => {
            let min = -(2f64.powi(bits - 1));
            let lo = if from == types::F64 && bits == 32 {
                (min - 1.0, FloatCC::GreaterThan)
            } else {
                (min, FloatCC::GreaterThanOrEqual)
            };
            (lo, 2f64.powi(bits - 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_bounds_are_exact_and_tight() {
        use types::{F32, F64, I32, I64};
        let ((lo, cc), hi) = trunc_bounds(Trunc::Signed, F64, I32);
        assert_eq!(
            (lo, cc, hi),
            (-2147483649.0, FloatCC::GreaterThan, 2147483648.0)
        );
        let ((lo, cc), _) = trunc_bounds(Trunc::Signed, F32, I32);
        assert_eq!((lo, cc), (-2147483648.0, FloatCC::GreaterThanOrEqual));
        // -2^31 is an f32, and the next f32 below it truncates out of range.
        assert_eq!(lo as f32 as f64, lo);
        let ((lo, cc), hi) = trunc_bounds(Trunc::Signed, F64, I64);
        assert_eq!(
            (lo, cc),
            (-9223372036854775808.0, FloatCC::GreaterThanOrEqual)
        );
        assert_eq!(hi, 9223372036854775808.0);
        let ((lo, cc), hi) = trunc_bounds(Trunc::Unsigned, F32, I64);
        assert_eq!(
            (lo, cc, hi),
            (-1.0, FloatCC::GreaterThan, 18446744073709551616.0)
        );
        assert_eq!(hi as f32 as f64, hi);
    }
}
