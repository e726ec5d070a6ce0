//! Control flow and calls.
//!
//! Every label is a *merge point* with one fixed operand state: the
//! operands below the block's own are spilled (or constants), and the
//! values a branch carries sit in the slots of their positions. A block
//! entry therefore spills what the value stack holds in registers; inside
//! the block operands live in registers again until the next call or
//! label. A block no branch targets needs no merge at its end: the
//! fallthrough keeps its registers.

use super::abi::{self, Signature};
use super::asm::{Cond, Label, Mem, R10, R11, RAX, RBP, RSP, Size, Src};
use super::{Codegen, Kind, Loc, VMCTX, Val, unsupported};
use kiln_environ::wasmparser::{BlockType, Operator};
use kiln_environ::{CompileError, FuncKey, TrapCode};

#[derive(Clone, Debug)]
pub(super) enum FrameKind {
    Function,
    Block,
    Loop,
    /// An `if` before its `else`: the label the false condition jumps to,
    /// and the parameters' state at the `if`.
    If {
        else_label: Label,
        params: Vec<Val>,
    },
    Else,
}

/// An open block.
#[derive(Clone, Debug)]
pub(super) struct Frame {
    kind: FrameKind,
    /// Where a branch to this block goes: its end, or a loop's header.
    label: Label,
    /// The value stack's height below the block's parameters.
    base: usize,
    params: Vec<Kind>,
    results: Vec<Kind>,
    /// Whether a branch to `label` was emitted.
    label_used: bool,
}

impl Frame {
    pub(super) fn function(label: Label, results: Vec<Kind>) -> Frame {
        Frame {
            kind: FrameKind::Function,
            label,
            base: 0,
            params: Vec::new(),
            results,
            label_used: false,
        }
    }

    /// The values a branch to this block carries.
    fn arity(&self) -> &[Kind] {
        match self.kind {
            FrameKind::Loop => &self.params,
            _ => &self.results,
        }
    }
}

/// What a conditional consumes: a pending comparison or a register.
enum Condition {
    Flags(Cond),
    Reg(super::Gpr),
}

/// Where a call goes.
enum Callee {
    Direct(u32),
    Import(u32),
    /// The funcref record's address is in `rax`.
    Record,
}

impl Codegen<'_, '_> {
    /// Handles control and call operators; `Ok(false)` for any other.
    pub(super) fn control_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        if self.env.tunables.consume_fuel
            && matches!(
                op,
                Operator::Block { .. }
                    | Operator::Loop { .. }
                    | Operator::If { .. }
                    | Operator::Else
                    | Operator::End
                    | Operator::Br { .. }
                    | Operator::BrIf { .. }
                    | Operator::BrTable { .. }
                    | Operator::Return
                    | Operator::Call { .. }
                    | Operator::CallIndirect { .. }
                    | Operator::CallRef { .. }
                    | Operator::ReturnCall { .. }
                    | Operator::ReturnCallIndirect { .. }
                    | Operator::ReturnCallRef { .. }
                    | Operator::BrOnNull { .. }
                    | Operator::BrOnNonNull { .. }
            )
        {
            self.fuel_flush();
        }
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.buf.ud2(TrapCode::UnreachableCodeReached);
                self.reachable = false;
            }
            Operator::Block { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                self.spill_all();
                let label = self.buf.new_label();
                self.open(FrameKind::Block, label, params, results);
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                self.spill_all();
                self.spill_top(params.len());
                let label = self.buf.new_label();
                self.buf.bind(label);
                self.interrupt_poll();
                self.fuel_check();
                self.tier_count_loop();
                self.open(FrameKind::Loop, label, params, results);
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_type(blockty)?;
                let cond = self.pop_condition();
                self.spill_all();
                self.spill_top(params.len());
                let else_label = self.buf.new_label();
                self.branch_unless(cond, else_label);
                let saved = self.stack[self.stack.len() - params.len()..].to_vec();
                let label = self.buf.new_label();
                let kind = FrameKind::If {
                    else_label,
                    params: saved,
                };
                self.open(kind, label, params, results);
            }
            Operator::Else => {
                self.fallthrough_to(0);
                self.enter_else()?;
            }
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => {
                self.branch(relative_depth);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop_condition();
                self.branch_on(cond, relative_depth);
            }
            Operator::BrTable { ref targets } => {
                let targets = targets
                    .targets()
                    .collect::<Result<Vec<u32>, _>>()
                    .map_err(|e| CompileError::Wasm(e.to_string()))?;
                self.br_table(&targets, op_default(op))?;
                self.reachable = false;
            }
            Operator::Return => {
                self.return_moves();
                self.buf.jmp(self.epilogue);
                self.reachable = false;
            }
            Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                let module = self.env.module;
                let ty = module.functions[function_index as usize];
                let callee = if module.is_imported_func(function_index) {
                    Callee::Import(function_index)
                } else {
                    Callee::Direct(function_index)
                };
                let tail = matches!(op, Operator::ReturnCall { .. });
                self.call(ty, callee, tail)?;
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false)?,
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true)?,
            Operator::Drop => {
                let o = self.pop();
                self.free(o.loc);
            }
            Operator::Select | Operator::TypedSelect { .. } => self.select()?,
            Operator::CallRef { type_index } | Operator::ReturnCallRef { type_index } => {
                let tail = matches!(op, Operator::ReturnCallRef { .. });
                self.tail_call_fits(type_index, tail)?;
                let o = self.pop();
                let r = self.in_gpr(&o);
                self.spill_registers();
                self.buf.mov_rr(Size::S64, RAX, r);
                self.free(Loc::Gpr(r));
                self.buf.test(Size::S64, RAX, RAX);
                self.trap_if(Cond::Eq, TrapCode::NullReference);
                self.call(type_index, Callee::Record, tail)?;
            }
            Operator::RefAsNonNull => {
                let o = self.pop();
                let r = self.in_gpr(&o);
                self.buf.test(Size::S64, r, r);
                self.trap_if(Cond::Eq, TrapCode::NullReference);
                self.push(Kind::I64, Loc::Gpr(r));
            }
            Operator::BrOnNull { relative_depth } => {
                // Null branches (dropping it); otherwise the reference
                // stays.
                let o = self.pop();
                let r = self.in_gpr(&o);
                self.buf.test(Size::S64, r, r);
                self.branch_on(Condition::Flags(Cond::Eq), relative_depth);
                self.push(Kind::I64, Loc::Gpr(r));
            }
            Operator::BrOnNonNull { relative_depth } => {
                // Non-null branches carrying the reference; otherwise it
                // is dropped.
                let o = self.pop();
                let r = self.in_gpr(&o);
                self.push(Kind::I64, Loc::Gpr(r));
                self.buf.test(Size::S64, r, r);
                self.branch_on(Condition::Flags(Cond::Ne), relative_depth);
                let o = self.pop();
                self.free(o.loc);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Skips an operator of unreachable code, keeping track of blocks.
    pub(super) fn dead_operator(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => self.dead_depth += 1,
            Operator::Else if self.dead_depth == 0 => self.enter_else()?,
            Operator::End if self.dead_depth == 0 => self.end()?,
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    /// Starts the `else` arm of the innermost `if`: the parameters as
    /// they were at the `if`, at its false branch's label.
    fn enter_else(&mut self) -> Result<(), CompileError> {
        let frame = self.frames.last_mut().expect("validated: an if");
        let FrameKind::If { else_label, params } =
            std::mem::replace(&mut frame.kind, FrameKind::Else)
        else {
            return Err(CompileError::Wasm("`else` outside an `if`".into()));
        };
        let base = frame.base;
        self.truncate(base);
        for v in params {
            self.push(v.kind, v.loc);
        }
        self.buf.bind(else_label);
        self.reachable = true;
        Ok(())
    }

    fn block_type(&self, bt: BlockType) -> Result<(Vec<Kind>, Vec<Kind>), CompileError> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => {
                let t = self
                    .env
                    .module
                    .convert_val_type(t, 0)
                    .map_err(|e| CompileError::Wasm(e.to_string()))?;
                (Vec::new(), vec![Kind::of(t)?])
            }
            BlockType::FuncType(i) => {
                let sig = self.env.module.signature(i);
                let kinds = |ts: &[kiln_environ::ValType]| {
                    ts.iter()
                        .map(|&t| Kind::of(t))
                        .collect::<Result<Vec<_>, _>>()
                };
                (kinds(&sig.params)?, kinds(&sig.results)?)
            }
        })
    }

    fn open(&mut self, kind: FrameKind, label: Label, params: Vec<Kind>, results: Vec<Kind>) {
        let base = self.stack.len() - params.len();
        self.frames.push(Frame {
            kind,
            label,
            base,
            params,
            results,
            label_used: false,
        });
    }

    /// Stores the top `n` operands to their slots, constants included.
    fn spill_top(&mut self, n: usize) {
        for pos in self.stack.len() - n..self.stack.len() {
            self.spill_at(pos);
        }
    }

    /// Drops the operands above `height`, freeing their registers.
    fn truncate(&mut self, height: usize) {
        while self.stack.len() > height {
            let v = self.stack.pop().expect("above height");
            self.free(v.loc);
        }
    }

    fn end(&mut self) -> Result<(), CompileError> {
        let frame = self.frames.pop().expect("validated: a block to end");
        match frame.kind {
            FrameKind::Function => {
                if self.reachable {
                    self.return_moves();
                    // The epilogue follows directly.
                }
                self.reachable = false;
            }
            FrameKind::Loop => {}
            FrameKind::If { else_label, .. } => {
                // No `else`: a false condition carries the parameters
                // (spilled at the `if`) to the end as its results.
                if self.reachable {
                    self.canonicalize(frame.base, frame.results.len());
                }
                self.buf.bind(else_label);
                self.buf.bind(frame.label);
                self.merge_state(&frame);
            }
            FrameKind::Block | FrameKind::Else => {
                if frame.label_used {
                    if self.reachable {
                        self.canonicalize(frame.base, frame.results.len());
                    }
                    self.buf.bind(frame.label);
                    self.merge_state(&frame);
                }
            }
        }
        Ok(())
    }

    /// The state at a used label: everything below the block as it was,
    /// then its results in their slots.
    fn merge_state(&mut self, frame: &Frame) {
        self.truncate(frame.base);
        for &k in &frame.results {
            self.push(k, Loc::Spill);
        }
        self.reachable = true;
    }

    /// Moves the top `n` operands into the slots of positions
    /// `base..base + n`, leaving them there as spilled operands.
    fn canonicalize(&mut self, base: usize, n: usize) {
        self.materialize_flags();
        let from = self.stack.len() - n;
        let kinds: Vec<Kind> = self.stack[from..].iter().map(|v| v.kind).collect();
        self.move_to_slots(from, base, n);
        self.truncate(from);
        for kind in kinds {
            self.push(kind, Loc::Spill);
        }
    }

    /// Stores the operands at positions `from..from + n` into the slots of
    /// `to..to + n` without changing the compile-time state (the stores
    /// may run on one path only). `to <= from`, so in increasing order no
    /// store overwrites an operand not yet read.
    fn move_to_slots(&mut self, from: usize, to: usize, n: usize) {
        for k in 0..n {
            let v = self.stack[from + k];
            let (src_pos, dst) = (from + k, self.slot(to + k));
            let size = v.kind.size();
            match v.loc {
                Loc::Gpr(r) => self.buf.store(size, dst, r),
                Loc::Xmm(x) => self.buf.fstore(v.kind == Kind::F64, dst, x),
                Loc::Const(bits) => self.store_const(v.kind, dst, bits),
                Loc::Local(i) => self.store_local(i, dst),
                Loc::Spill if src_pos != to + k => {
                    self.buf.load(size, R11, self.slot(src_pos));
                    self.buf.store(size, dst, R11);
                }
                Loc::Spill => {}
                Loc::Flags(_) => unreachable!("materialized"),
            }
        }
    }

    fn target(&self, depth: u32) -> Label {
        self.frames[self.frames.len() - 1 - depth as usize].label
    }

    /// Whether a branch to `depth` is a bare jump: no values to move, and
    /// not a return.
    fn branch_is_jump(&self, depth: u32) -> bool {
        let f = &self.frames[self.frames.len() - 1 - depth as usize];
        if matches!(f.kind, FrameKind::Function) {
            return false;
        }
        let n = f.arity().len();
        let from = self.stack.len() - n;
        n == 0 || (from == f.base && self.stack[from..].iter().all(|v| v.loc == Loc::Spill))
    }

    /// Emits an unconditional branch to `depth` (moves, then a jump),
    /// leaving the compile-time state as it was.
    fn branch(&mut self, depth: u32) {
        self.materialize_flags();
        let i = self.frames.len() - 1 - depth as usize;
        if matches!(self.frames[i].kind, FrameKind::Function) {
            self.return_moves();
            self.buf.jmp(self.epilogue);
            return;
        }
        let (base, n, label) = {
            let f = &mut self.frames[i];
            f.label_used = true;
            (f.base, f.arity().len(), f.label)
        };
        let from = self.stack.len() - n;
        self.move_to_slots(from, base, n);
        self.buf.jmp(label);
    }

    /// A conditional branch to `depth`: a bare jump when it carries
    /// nothing, else moves on the taken path only. The flags of a
    /// `Condition::Flags` must still be those of its comparison.
    fn branch_on(&mut self, cond: Condition, depth: u32) {
        if self.branch_is_jump(depth) {
            let i = self.frames.len() - 1 - depth as usize;
            self.frames[i].label_used = true;
            let label = self.target(depth);
            self.branch_if(cond, label);
        } else {
            let skip = self.buf.new_label();
            self.branch_unless(cond, skip);
            self.branch(depth);
            self.buf.bind(skip);
        }
    }

    /// Fallthrough into the end of the innermost block (before `else`).
    fn fallthrough_to(&mut self, depth: u32) {
        if self.reachable {
            self.branch(depth);
        }
    }

    fn pop_condition(&mut self) -> Condition {
        if let Some(Val {
            loc: Loc::Flags(c), ..
        }) = self.stack.last().copied()
        {
            self.stack.pop();
            return Condition::Flags(c);
        }
        let o = self.pop();
        let r = self.in_gpr(&o);
        Condition::Reg(r)
    }

    fn condition_code(&mut self, cond: Condition) -> Cond {
        match cond {
            Condition::Flags(c) => c,
            Condition::Reg(r) => {
                self.buf.test(Size::S32, r, r);
                self.free(Loc::Gpr(r));
                Cond::Ne
            }
        }
    }

    fn branch_if(&mut self, cond: Condition, label: Label) {
        let c = self.condition_code(cond);
        self.buf.jcc(c, label);
    }

    fn branch_unless(&mut self, cond: Condition, label: Label) {
        let c = self.condition_code(cond);
        self.buf.jcc(c.invert(), label);
    }

    /// Puts the function's results where the convention returns them,
    /// without changing the compile-time state.
    fn return_moves(&mut self) {
        self.materialize_flags();
        let n = self.results.len();
        let from = self.stack.len() - n;
        // Registers first go to their own slots, so that loading the
        // result registers below cannot overwrite a value still to move.
        for k in 0..n {
            let v = self.stack[from + k];
            match v.loc {
                Loc::Gpr(r) => self.buf.store(v.kind.size(), self.slot(from + k), r),
                Loc::Xmm(x) => self.buf.fstore(v.kind == Kind::F64, self.slot(from + k), x),
                _ => {}
            }
        }
        // The return area first: its pointer's scratch register (r10) is
        // also a result register.
        let results = self.sig.results.clone();
        for (k, &loc) in results.iter().enumerate() {
            if let abi::Loc::Stack(off) = loc {
                let v = self.stack[from + k];
                self.load_value(v, from + k, R11);
                self.buf.load(Size::S64, R10, self.ret_area_ptr());
                self.buf.store(v.kind.size(), Mem::at(R10, off as i32), R11);
            }
        }
        for (k, loc) in results.into_iter().enumerate() {
            let v = self.stack[from + k];
            let pos = from + k;
            match loc {
                abi::Loc::Gpr(r) => self.load_value(v, pos, r),
                abi::Loc::Xmm(x) => self.load_value_float(v, pos, x),
                abi::Loc::Stack(_) => {}
            }
        }
    }

    /// Loads an operand that is not in a register (or whose register was
    /// stored to its slot) into GPR `r`, as bits.
    fn load_value(&mut self, v: Val, pos: usize, r: super::Gpr) {
        let o = super::Operand {
            kind: v.kind,
            loc: v.loc,
            pos,
        };
        match v.loc {
            Loc::Gpr(_) | Loc::Xmm(_) => self.buf.load(v.kind.size(), r, self.slot(pos)),
            _ => self.load_bits(&o, r),
        }
    }

    /// The same into XMM register `x`.
    fn load_value_float(&mut self, v: Val, pos: usize, x: super::Xmm) {
        let o = super::Operand {
            kind: v.kind,
            loc: v.loc,
            pos,
        };
        match v.loc {
            Loc::Gpr(_) | Loc::Xmm(_) => self.buf.fload(v.kind == Kind::F64, x, self.slot(pos)),
            _ => self.load_float(&o, x),
        }
    }

    fn br_table(&mut self, targets: &[u32], default: u32) -> Result<(), CompileError> {
        let o = self.pop();
        let idx = self.in_gpr(&o);
        self.materialize_flags();
        let n = targets.len();
        let default_stub = self.buf.new_label();
        self.buf.mov_rr(Size::S32, idx, idx);
        let count = i32::try_from(n).map_err(|_| unsupported("a br_table over 2^31 targets"))?;
        self.buf
            .alu(super::asm::Alu::Cmp, Size::S32, idx, Src::Imm(count));
        self.buf.jcc(Cond::Ae, default_stub);
        let table = self.buf.new_label();
        self.buf.lea_rip(R11, table);
        self.buf
            .shift(super::asm::Shift::Shl, Size::S64, idx, Some(2));
        self.buf.load_sx(
            Size::S32,
            Size::S64,
            idx,
            Mem {
                base: R11,
                index: Some(idx),
                disp: 0,
            },
        );
        self.buf
            .alu(super::asm::Alu::Add, Size::S64, R11, Src::Reg(idx));
        self.free(Loc::Gpr(idx));
        self.buf.jmp_reg(R11);
        self.buf.bind(table);
        let start = self.buf.offset();
        // One stub per distinct target that needs moves; bare jumps go to
        // the target's label directly.
        let mut stubs: Vec<(u32, Label)> = Vec::new();
        let mut entries = Vec::with_capacity(n);
        for &t in targets {
            let l = if self.branch_is_jump(t) {
                let i = self.frames.len() - 1 - t as usize;
                self.frames[i].label_used = true;
                self.target(t)
            } else if let Some(&(_, l)) = stubs.iter().find(|(d, _)| *d == t) {
                l
            } else {
                let l = self.buf.new_label();
                stubs.push((t, l));
                l
            };
            entries.push(l);
        }
        for l in entries {
            self.buf.table_entry(start, l);
        }
        for (t, l) in stubs {
            self.buf.bind(l);
            self.branch(t);
        }
        self.buf.bind(default_stub);
        self.branch(default);
        Ok(())
    }

    fn select(&mut self) -> Result<(), CompileError> {
        let cond = self.pop_condition();
        let b = self.pop();
        let a = self.pop();
        if a.kind.is_float() {
            let dst = self.in_xmm(&a);
            let src = self.in_xmm(&b);
            let c = self.condition_code(cond);
            let skip = self.buf.new_label();
            self.buf.jcc(c, skip);
            self.buf.fmov(dst, src);
            self.buf.bind(skip);
            self.free(Loc::Xmm(src));
            self.push(a.kind, Loc::Xmm(dst));
        } else {
            let dst = self.in_gpr(&a);
            let src = self.in_gpr(&b);
            let c = self.condition_code(cond);
            self.buf.cmov(c.invert(), Size::S64, dst, src);
            self.free(Loc::Gpr(src));
            self.push(a.kind, Loc::Gpr(dst));
        }
        Ok(())
    }

    // ---- calls --------------------------------------------------------

    fn call_indirect(
        &mut self,
        type_index: u32,
        table: u32,
        tail: bool,
    ) -> Result<(), CompileError> {
        let module = self.env.module;
        let table64 = module.tables[table as usize].table64;
        let is_final = module.types[type_index as usize].is_final;
        self.tail_call_fits(type_index, tail)?;
        let o = self.pop();
        let idx = self.in_gpr(&o);
        self.spill_registers();
        let off = &self.env.offsets;
        let (table_off, len_off, base_off) = (
            off.vmctx_table(table) as i32,
            off.table_len() as i32,
            off.table_base() as i32,
        );
        let (sig_off, sigs_off) = (off.funcref_sig() as i32, off.vmctx_signature_ids() as i32);
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, table_off));
        if table64 {
            // A 64-bit index against the u32 length, zero-extended.
            let len = self.alloc_gpr();
            self.buf.load(Size::S32, len, Mem::at(R11, len_off));
            self.buf
                .alu(super::asm::Alu::Cmp, Size::S64, idx, Src::Reg(len));
            self.free(Loc::Gpr(len));
        } else {
            self.buf.mov_rr(Size::S32, idx, idx);
            let len = Src::Mem(Mem::at(R11, len_off));
            self.buf.alu(super::asm::Alu::Cmp, Size::S32, idx, len);
        }
        self.trap_if(Cond::Ae, TrapCode::UndefinedElement);
        let b = &mut self.buf;
        b.load(Size::S64, R11, Mem::at(R11, base_off));
        b.shift(super::asm::Shift::Shl, Size::S64, idx, Some(3));
        b.load(
            Size::S64,
            RAX,
            Mem {
                base: R11,
                index: Some(idx),
                disp: 0,
            },
        );
        self.free(Loc::Gpr(idx));
        self.buf.test(Size::S64, RAX, RAX);
        self.trap_if(Cond::Eq, TrapCode::IndirectCallToNull);
        let b = &mut self.buf;
        b.load(Size::S64, R11, Mem::at(VMCTX, sigs_off));
        b.load(Size::S32, R11, Mem::at(R11, 4 * type_index as i32));
        b.alu(
            super::asm::Alu::Cmp,
            Size::S32,
            R11,
            Src::Mem(Mem::at(RAX, sig_off)),
        );
        if is_final {
            // No type declares a final type its supertype: only equal
            // ids match.
            self.trap_if(Cond::Ne, TrapCode::BadSignature);
        } else {
            // A function of a subtype matches too: the runtime decides,
            // out of line, only when the ids differ. The record survives
            // the call in a register the C convention keeps (`rbx` is
            // not one of the call's argument registers, and it is saved
            // here for the duration).
            let (slow, done) = (self.buf.new_label(), self.buf.new_label());
            self.buf.jcc(Cond::Ne, slow);
            self.buf.bind(done);
            self.subtype_checks.push(super::SubtypeCheck {
                slow,
                done,
                type_index,
                wasm_offset: self.wasm_offset,
            });
        }
        self.call(type_index, Callee::Record, tail)
    }

    /// A tail call's callee takes its stack arguments where the caller's
    /// were: one needing more room than the caller got is left to the
    /// optimizing compiler, which moves the frame.
    fn tail_call_fits(&self, type_index: u32, tail: bool) -> Result<(), CompileError> {
        if !tail {
            return Ok(());
        }
        let ty = self.env.module.signature(type_index);
        let classes = |ts: &[kiln_environ::ValType]| {
            ts.iter()
                .map(|&t| Kind::of(t).map(|k| k.class()))
                .collect::<Result<Vec<_>, _>>()
        };
        let sig = Signature::new(&classes(&ty.params)?, &classes(&ty.results)?);
        if sig.stack_args > self.sig.stack_args {
            return Err(unsupported(
                "a tail call with more stack arguments than the caller's",
            ));
        }
        Ok(())
    }

    /// A call of `callee`, of type `type_index`; with `tail`, a tail call
    /// (`return_call*`): the callee replaces this frame and returns to
    /// this function's caller.
    fn call(&mut self, type_index: u32, callee: Callee, tail: bool) -> Result<(), CompileError> {
        if tail {
            self.tail_call_fits(type_index, true)?;
        }
        let ty = self.env.module.signature(type_index);
        let kinds = |ts: &[kiln_environ::ValType]| {
            ts.iter()
                .map(|&t| Kind::of(t))
                .collect::<Result<Vec<_>, _>>()
        };
        let (params, results) = (kinds(&ty.params)?, kinds(&ty.results)?);
        let sig = Signature::new(
            &params.iter().map(|k| k.class()).collect::<Vec<_>>(),
            &results.iter().map(|k| k.class()).collect::<Vec<_>>(),
        );
        self.spill_registers();
        self.max_outgoing = self.max_outgoing.max(sig.stack_args + sig.ret_area_size);
        let from = self.stack.len() - params.len();
        for (k, &loc) in sig.params.iter().enumerate() {
            let v = self.stack[from + k];
            let pos = from + k;
            match loc {
                abi::Loc::Gpr(r) => self.load_value(v, pos, r),
                abi::Loc::Xmm(x) => self.load_value_float(v, pos, x),
                abi::Loc::Stack(off) => {
                    self.load_value(v, pos, R11);
                    self.buf.store(v.kind.size(), Mem::at(RSP, off as i32), R11);
                }
            }
        }
        if tail {
            self.tail_call_jump(&sig, callee);
            self.truncate(from);
            self.reachable = false;
            return Ok(());
        }
        if sig.ret_area {
            self.buf
                .lea(super::RDI, Mem::at(RSP, sig.stack_args as i32));
        }
        self.buf.mov_rr(Size::S64, sig.caller_vmctx, VMCTX);
        self.save_float_homes();
        match callee {
            Callee::Direct(f) => {
                self.buf.mov_rr(Size::S64, sig.callee_vmctx, VMCTX);
                self.buf.call_key(FuncKey::Wasm(f));
            }
            Callee::Import(f) => {
                let o = &self.env.offsets;
                let (code, vmctx) = (
                    o.vmctx_imported_func_wasm_call(f) as i32,
                    o.vmctx_imported_func_vmctx(f) as i32,
                );
                self.buf
                    .load(Size::S64, sig.callee_vmctx, Mem::at(VMCTX, vmctx));
                self.buf.call_mem(Mem::at(VMCTX, code));
            }
            Callee::Record => {
                let o = &self.env.offsets;
                let (code, vmctx) = (o.funcref_wasm_call() as i32, o.funcref_vmctx() as i32);
                self.buf
                    .load(Size::S64, sig.callee_vmctx, Mem::at(RAX, vmctx));
                self.buf.call_mem(Mem::at(RAX, code));
            }
        }
        if sig.stack_args > 0 {
            // The callee popped its stack arguments; the frame stays put.
            let n = sig.stack_args as i32;
            self.buf
                .alu(super::asm::Alu::Sub, Size::S64, RSP, Src::Imm(n));
        }
        self.restore_float_homes();
        self.truncate(from);
        for (k, (&kind, &loc)) in results.iter().zip(&sig.results).enumerate() {
            match loc {
                abi::Loc::Gpr(r) => self.push(kind, Loc::Gpr(r)),
                abi::Loc::Xmm(x) => self.push(kind, Loc::Xmm(x)),
                abi::Loc::Stack(off) => {
                    let at = Mem::at(RSP, (sig.stack_args + off) as i32);
                    self.buf.load(kind.size(), R11, at);
                    let slot = self.slot(from + k);
                    self.buf.store(kind.size(), slot, R11);
                    self.push(kind, Loc::Spill);
                }
            }
        }
        Ok(())
    }
}

impl Codegen<'_, '_> {
    /// The end of a tail call, its arguments in place (registers loaded,
    /// stack arguments at the bottom of the frame): leaves this frame the
    /// way the epilogue does, with the stack arguments moved to where
    /// this function's own were (`tail_call_fits` checked they fit) and
    /// the return address below them, and jumps to the callee.
    fn tail_call_jump(&mut self, sig: &Signature, callee: Callee) {
        if sig.ret_area {
            // The results go where this function's caller wants them.
            self.buf.load(Size::S64, super::RDI, self.ret_area_ptr());
        }
        self.buf.mov_rr(Size::S64, sig.caller_vmctx, VMCTX);
        let o = &self.env.offsets;
        match callee {
            Callee::Direct(_) => self.buf.mov_rr(Size::S64, sig.callee_vmctx, VMCTX),
            Callee::Import(f) => {
                let (code, vmctx) = (
                    o.vmctx_imported_func_wasm_call(f) as i32,
                    o.vmctx_imported_func_vmctx(f) as i32,
                );
                self.buf.load(Size::S64, R10, Mem::at(VMCTX, code));
                self.buf
                    .load(Size::S64, sig.callee_vmctx, Mem::at(VMCTX, vmctx));
            }
            Callee::Record => {
                let (code, vmctx) = (o.funcref_wasm_call() as i32, o.funcref_vmctx() as i32);
                self.buf.load(Size::S64, R10, Mem::at(RAX, code));
                self.buf
                    .load(Size::S64, sig.callee_vmctx, Mem::at(RAX, vmctx));
            }
        }
        for (r, off) in self.saved_registers() {
            self.buf.load(Size::S64, r, Mem::at(RBP, off));
        }
        // This function's stack arguments start at rbp + 16 and take
        // `ours` bytes; the callee's (`theirs <= ours`) end at the same
        // place, under them the return address. Both areas are above
        // the frame pointer, so nothing below it is overwritten.
        let (ours, theirs) = (self.sig.stack_args as i32, sig.stack_args as i32);
        let shift = ours - theirs;
        for j in (0..theirs).step_by(8) {
            self.buf.load(Size::S64, R11, Mem::at(RSP, j));
            self.buf.store(Size::S64, Mem::at(RBP, 16 + shift + j), R11);
        }
        if shift != 0 {
            self.buf.load(Size::S64, R11, Mem::at(RBP, 8));
            self.buf.store(Size::S64, Mem::at(RBP, 8 + shift), R11);
        }
        self.buf.lea(RSP, Mem::at(RBP, 8 + shift));
        self.buf.load(Size::S64, RBP, Mem::at(RBP, 0));
        match callee {
            Callee::Direct(f) => self.buf.jmp_key(FuncKey::Wasm(f)),
            Callee::Import(_) | Callee::Record => self.buf.jmp_reg(R10),
        }
    }
}

/// The default target of a `br_table` operator.
fn op_default(op: &Operator<'_>) -> u32 {
    match op {
        Operator::BrTable { targets } => targets.default(),
        _ => unreachable!("only called for br_table"),
    }
}
