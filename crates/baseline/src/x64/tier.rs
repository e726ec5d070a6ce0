//! Tiering support in baseline code (`docs/native-abi.md`, "Tiering").
//!
//! With tiering on, every function compiled here:
//! - starts with a 16-byte *entry* that jumps through the module's tier
//!   table: to the code just past the entry until the runtime installs
//!   optimized code, and to the optimized code from then on, so every
//!   later call (direct, indirect, from the host) lands there;
//! - counts down a per-function counter in the tier table at its entry and
//!   at each loop header (a decrement and a branch), calling the runtime
//!   out of line when it runs out;
//! - at a loop header whose counter ran out, offers the runtime the frame
//!   for *on-stack replacement*: it writes every local and operand to its
//!   frame slot and asks `tier_osr` for an entry into optimized code at
//!   that loop. When there is one it calls it with the frame's locals and
//!   operand slots and returns what it returns; otherwise the loop goes
//!   on in baseline code.

use super::asm::{Gpr, Label, Mem, R11, RAX, RBP, RDI, RDX, RSI, Size};
use super::{Codegen, ColdCall, Kind, Loc, VMCTX, abi, locals};
use crate::Env;
use kiln_environ::{Builtin, FuncKey};

/// Bytes of the tiering entry; the function proper starts after them.
pub(crate) const ENTRY_BYTES: u32 = 16;

/// A loop header's out-of-line on-stack-replacement path.
pub(crate) struct OsrSite {
    label: Label,
    back: Label,
    /// Wasm byte offset of the `loop` operator.
    loop_offset: u32,
    /// Operands at the header that are constants, which have no slot
    /// value yet: `(position, kind, bits)`.
    consts: Vec<(usize, Kind, u64)>,
}

/// Emits the tiering entry of function `index`: `mov r11, [vmctx +
/// tier_table]; jmp [r11 + entry(index)]`, padded to [`ENTRY_BYTES`].
pub(crate) fn entry(buf: &mut super::Buffer, env: &Env<'_>, index: u32, callee_vmctx: Gpr) {
    let o = &env.offsets;
    let defined = index - env.module.num_imported_funcs;
    buf.load(
        Size::S64,
        R11,
        Mem::at(callee_vmctx, o.vmctx_tier_table() as i32),
    );
    buf.jmp_mem(Mem::at(R11, o.tier_entry(defined) as i32));
    debug_assert!(buf.offset() <= ENTRY_BYTES);
    buf.pad_to(ENTRY_BYTES);
}

impl Codegen<'_, '_> {
    /// The function's tier counter, loaded into `r11`'s table.
    fn tier_counter(&mut self) -> Mem {
        let o = &self.env.offsets;
        let defined = self.index - self.env.module.num_imported_funcs;
        let (table, counter) = (o.vmctx_tier_table() as i32, o.tier_counter(defined) as i32);
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, table));
        Mem::at(R11, counter)
    }

    /// Decrements the function's counter and branches to the returned
    /// out-of-line label when it goes negative; that code jumps back to
    /// the second label, bound here.
    fn count_down(&mut self) -> (Label, Label) {
        let counter = self.tier_counter();
        self.buf
            .alu_mem_imm(super::asm::Alu::Sub, Size::S64, counter, 1);
        let (label, back) = (self.buf.new_label(), self.buf.new_label());
        self.buf.jcc(super::Cond::Lt, label);
        self.buf.bind(back);
        (label, back)
    }

    /// At the end of the prologue (with tiering): counts a call, and asks
    /// for optimized code out of line when the counter runs out.
    pub(super) fn tier_count_call(&mut self) {
        if !self.env.tiered {
            return;
        }
        let (label, back) = self.count_down();
        let defined = self.index - self.env.module.num_imported_funcs;
        self.cold_calls.push(ColdCall {
            label,
            back,
            builtin: Builtin::TierUp,
            arg: Some(defined),
            wasm_offset: self.wasm_offset,
        });
    }

    /// At a loop header (with tiering; every operand is in its slot or a
    /// constant): counts an iteration, and offers the frame for
    /// on-stack replacement out of line when the counter runs out.
    pub(super) fn tier_count_loop(&mut self) {
        if !self.env.tiered {
            return;
        }
        let (label, back) = self.count_down();
        let consts = (self.stack.iter().enumerate())
            .filter_map(|(pos, v)| match v.loc {
                Loc::Const(bits) => Some((pos, v.kind, bits)),
                Loc::Spill => None,
                other => unreachable!("an operand at a loop header in {other:?}"),
            })
            .collect();
        self.osr_sites.push(OsrSite {
            label,
            back,
            loop_offset: self.wasm_offset,
            consts,
        });
    }

    /// Emits the on-stack-replacement paths of the function's loops.
    pub(super) fn emit_osr_sites(&mut self) {
        for site in std::mem::take(&mut self.osr_sites) {
            self.buf.bind(site.label);
            self.address_map.push((self.buf.offset(), site.loop_offset));
            // Every local and operand to its slot: integer homes are
            // callee-saved and stay valid; float homes are reloaded if
            // the loop goes on here.
            for i in 0..self.locals.len() {
                if let locals::Home::Gpr(h) = self.homes[i] {
                    let size = self.locals[i].size();
                    self.buf.store(size, self.local_mem(i as u32), h);
                }
            }
            self.save_float_homes();
            for &(pos, kind, bits) in &site.consts {
                self.store_const(kind, self.slot(pos), bits);
            }
            let defined = self.index - self.env.module.num_imported_funcs;
            self.buf.mov_rr(Size::S64, RDI, VMCTX);
            self.buf.mov_imm(Size::S32, RSI, u64::from(defined));
            self.buf
                .mov_imm(Size::S32, RDX, u64::from(site.loop_offset));
            self.buf.call_key(FuncKey::Builtin(Builtin::TierOsr));
            self.builtins.push(Builtin::TierOsr);
            let resume = self.buf.new_label();
            self.buf.test(Size::S64, RAX, RAX);
            self.buf.jcc(super::Cond::Eq, resume);
            // Into optimized code: `(vmctx, vmctx, locals, operands)`,
            // returning this function's results where its caller expects
            // them (the return area, if any, is the caller's).
            self.buf.mov_rr(Size::S64, R11, RAX);
            let classes: Vec<abi::Class> = self.results.iter().map(|k| k.class()).collect();
            let sig = abi::Signature::new(&[abi::Class::Int, abi::Class::Int], &classes);
            let regs: Vec<Gpr> = sig
                .params
                .iter()
                .map(|l| match l {
                    abi::Loc::Gpr(r) => *r,
                    _ => unreachable!("four integer arguments take registers"),
                })
                .collect();
            self.buf.mov_rr(Size::S64, sig.callee_vmctx, VMCTX);
            self.buf.mov_rr(Size::S64, sig.caller_vmctx, VMCTX);
            self.buf.lea(regs[0], Mem::at(RBP, -self.locals_base));
            self.buf.lea(regs[1], Mem::at(RBP, -self.stack_base));
            if sig.ret_area {
                self.buf.load(Size::S64, RDI, self.ret_area_ptr());
            }
            self.buf.call_reg(R11);
            self.buf.jmp(self.epilogue);
            self.buf.bind(resume);
            self.restore_float_homes();
            self.buf.jmp(site.back);
        }
    }
}
