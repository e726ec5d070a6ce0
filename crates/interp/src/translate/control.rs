//! Structured control flow: blocks, branches (which move the carried values
//! into the target's home slots), returns and calls.

use super::{Ctrl, CtrlKind, Entry, FuncTranslator, slot_size, wp_slot_size};
use crate::bytecode::{Op, Slot};
use alloc::vec::Vec;
use wasmparser::BlockType;

impl FuncTranslator<'_> {
    pub(super) fn block_sizes(&self, bt: BlockType) -> (Vec<u8>, Vec<u8>) {
        match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), alloc::vec![wp_slot_size(t)]),
            BlockType::FuncType(i) => {
                let ft = self.t.signature(i);
                (
                    ft.params.iter().map(|&p| slot_size(p)).collect(),
                    ft.results.iter().map(|&r| slot_size(r)).collect(),
                )
            }
        }
    }

    /// Which of a block's parameters and results are traced references.
    pub(super) fn block_gc(&self, bt: BlockType) -> (Vec<bool>, Vec<bool>) {
        match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), alloc::vec![self.wp_traced(t)]),
            BlockType::FuncType(i) => {
                let ft = self.t.signature(i);
                (
                    ft.params.iter().map(|p| p.is_traced()).collect(),
                    ft.results.iter().map(|r| r.is_traced()).collect(),
                )
            }
        }
    }

    /// Whether values of (validated) type `t` are traced references.
    pub(super) fn wp_traced(&self, t: wasmparser::ValType) -> bool {
        t.is_reference_type()
            && self
                .t
                .convert_val_type(t, u64::from(self.offset))
                .is_ok_and(|t| t.is_traced())
    }

    pub(super) fn push_ctrl(&mut self, kind: CtrlKind, bt: BlockType) -> &mut Ctrl {
        let (params, results) = self.block_sizes(bt);
        let (params_gc, results_gc) = self.block_gc(bt);
        let height = self.stack.len() - params.len();
        let base = match self.stack.get(height) {
            Some(e) => e.home as u32,
            None => self.next_home(),
        };
        self.ctrl.push(Ctrl {
            kind,
            height,
            base,
            params,
            results,
            params_gc,
            results_gc,
            loop_pc: 0,
            patches: Vec::new(),
            else_patch: None,
            unreachable: false,
            region: None,
        });
        self.ctrl.last_mut().unwrap()
    }

    pub(super) fn visit_block(&mut self, bt: BlockType) {
        self.materialize_all();
        self.push_ctrl(CtrlKind::Block, bt);
    }

    pub(super) fn visit_loop(&mut self, bt: BlockType) {
        self.materialize_all();
        self.finish_region();
        self.last_label = self.pc();
        // Backward branches check the interrupt flag themselves; the loop
        // header op is only needed to charge fuel.
        let pc = if self.consume_fuel {
            let pc = self.emit(Op::LoopHead { fuel: 0 });
            self.fuel_site = Some(pc);
            pc
        } else {
            self.pc()
        };
        self.push_ctrl(CtrlKind::Loop, bt).loop_pc = pc;
        self.loops += 1;
    }

    pub(super) fn visit_if(&mut self, bt: BlockType) {
        let cond = self.pop();
        let br = self.cond_branch(cond, false);
        self.materialize_all();
        let pc = self.emit(br);
        self.push_ctrl(CtrlKind::If, bt).else_patch = Some(pc);
        self.start_region();
    }

    /// Leaves the current block's values as temps in their home slots and
    /// resets the operand stack to `height` plus `sizes` pushed from `base`.
    /// `gc` says which values are traced references.
    pub(super) fn reset_stack(&mut self, height: usize, base: u32, sizes: &[u8], gc: &[bool]) {
        debug_assert_eq!(sizes.len(), gc.len());
        self.stack.truncate(height);
        let mut home = base;
        for (&size, &gc) in sizes.iter().zip(gc) {
            let h = home as Slot;
            self.stack.push(Entry {
                home: h,
                src: h,
                size,
                gc,
            });
            home += size as u32;
            self.max_slots = self.max_slots.max(home);
        }
    }

    pub(super) fn visit_else(&mut self) {
        let reachable = !self.is_unreachable();
        if reachable {
            self.settle_results();
            let br = self.emit_jump();
            self.ctrl.last_mut().unwrap().patches.push(br);
        }
        let frame = self.ctrl.last_mut().unwrap();
        frame.kind = CtrlKind::Else;
        frame.unreachable = false;
        let else_patch = frame.else_patch.take();
        let (height, base, params) = (frame.height, frame.base, frame.params.clone());
        let params_gc = frame.params_gc.clone();
        if let Some(p) = else_patch {
            let here = self.pc();
            self.patch(p, here);
        }
        self.reset_stack(height, base, &params, &params_gc);
        self.start_region();
    }

    pub(super) fn visit_end(&mut self) {
        if matches!(
            self.ctrl.last().map(|c| c.kind),
            Some(CtrlKind::TryTable | CtrlKind::Try | CtrlKind::Catch)
        ) {
            let c = self.ctrl.last().unwrap();
            let (kind, region, base) = (c.kind, c.region, c.base);
            self.end_try(kind, region, base);
        }
        let reachable = !self.is_unreachable();
        if reachable && self.ctrl.last().unwrap().kind != CtrlKind::Func {
            self.settle_results();
        }
        let frame = self.ctrl.pop().unwrap();
        if frame.kind == CtrlKind::Loop {
            self.loops -= 1;
        }
        if frame.kind == CtrlKind::Func {
            if reachable {
                self.emit_return();
            }
            return;
        }
        let here = self.pc();
        if let Some(p) = frame.else_patch {
            self.patch(p, here);
        }
        for &p in &frame.patches {
            self.patch(p, here);
        }
        self.reset_stack(frame.height, frame.base, &frame.results, &frame.results_gc);
        // A label (branches land here) or the end of a loop body: either
        // way a new fuel region starts, so a loop's region never includes
        // the code after it.
        self.start_region();
    }

    pub(super) fn set_unreachable(&mut self) {
        let frame = self.ctrl.last_mut().unwrap();
        frame.unreachable = true;
        let h = frame.height;
        self.stack.truncate(h);
    }

    /// Emits the copies that move the branch values for label `depth` into
    /// the target's home slots. Returns whether any copy was needed.
    fn branch_copies(&mut self, depth: u32, emit: bool) -> bool {
        let frame = &self.ctrl[self.ctrl.len() - 1 - depth as usize];
        self.copies_to(frame.base, frame.label_sizes().len(), emit)
    }

    /// Puts the values the current block falls through with (its results,
    /// on top of the stack) into its result slots, from its base. Values
    /// computed in place are there already; lazy ones are copied, and so
    /// are a legacy catch block's, which sit one slot higher, above its
    /// hidden slot.
    pub(super) fn settle_results(&mut self) {
        let frame = self.ctrl.last().unwrap();
        self.copies_to(frame.base, frame.results.len(), true);
    }

    /// Emits the copies that move the top `n` stack values into consecutive
    /// slots from `base` (or only reports, without `emit`). Returns whether
    /// any copy was needed.
    fn copies_to(&mut self, base: u32, n: usize, emit: bool) -> bool {
        let mut dst = base;
        let start = self.stack.len() - n;
        let mut any = false;
        for i in start..self.stack.len() {
            let e = self.stack[i];
            if e.src as u32 != dst {
                any = true;
                if emit {
                    self.emit_copy(dst as Slot, e.src, e.size);
                }
            }
            dst += e.size as u32;
        }
        any
    }

    /// Copies the function results into slots `0..n` and returns.
    pub(super) fn emit_return(&mut self) {
        let n = self.num_results;
        let total = self.result_slots;
        let start = self.stack.len() - n;
        if n == 1 && total == 1 {
            // One copy cannot clobber its own source.
            let src = self.stack[start].src;
            self.emit(if src == 0 {
                Op::Return
            } else {
                Op::Return1 { src }
            });
            return;
        }
        // A lazy result reading a local inside the destination range could
        // be clobbered by an earlier copy; temps never are (their home is at
        // or above their destination).
        for i in start..self.stack.len() {
            let e = self.stack[i];
            if e.src != e.home && (e.src as u32) < total {
                self.materialize(i);
            }
        }
        let mut dst: u32 = 0;
        for i in start..self.stack.len() {
            let e = self.stack[i];
            if e.src as u32 != dst {
                self.emit_copy(dst as Slot, e.src, e.size);
            }
            dst += e.size as u32;
        }
        self.emit(Op::Return);
    }

    /// Emits an unconditional jump (with value copies) to label `depth`.
    pub(super) fn emit_br(&mut self, depth: u32) {
        if depth as usize == self.ctrl.len() - 1 {
            self.emit_return();
            return;
        }
        self.branch_copies(depth, true);
        let idx = self.ctrl.len() - 1 - depth as usize;
        let pc = self.emit_jump();
        if self.ctrl[idx].kind == CtrlKind::Loop {
            let target = self.ctrl[idx].loop_pc;
            self.patch(pc, target);
        } else {
            self.ctrl[idx].patches.push(pc);
        }
    }

    pub(super) fn visit_br(&mut self, depth: u32) {
        self.emit_br(depth);
        self.set_unreachable();
    }

    pub(super) fn visit_br_if(&mut self, depth: u32) {
        let cond = self.pop();
        self.branch_if(cond, depth, true);
    }

    /// `br_on_null` (`on_null`) or `br_on_non_null`. The null test goes to
    /// a temporary above the reference; the branch then sees the stack
    /// without it for `br_on_null` (the reference stays for the fall
    /// through), with it for `br_on_non_null` (it is the label's last
    /// value, dropped on the fall through).
    pub(super) fn visit_br_on_null(&mut self, depth: u32, on_null: bool) {
        let r = *self.stack.last().expect("validated: a reference");
        let is_null = self.push_temp(1);
        self.emit(Op::I64Eqz(crate::bytecode::Un {
            dst: is_null,
            src: r.src,
        }));
        let cond = self.pop();
        if on_null {
            let r = self.pop();
            self.branch_if(cond, depth, true);
            self.stack.push(r);
        } else {
            self.branch_if(cond, depth, false);
            self.pop();
        }
    }

    /// Branches to the label `depth` out when `cond` is non-zero
    /// (`jump_if_true`) or zero.
    pub(super) fn branch_if(&mut self, cond: Entry, depth: u32, jump_if_true: bool) {
        let idx = self.ctrl.len() - 1 - depth as usize;
        let is_func = idx == 0;
        if !is_func && !self.branch_copies(depth, false) {
            let br = self.cond_branch(cond, jump_if_true);
            let pc = self.emit(br);
            if self.ctrl[idx].kind == CtrlKind::Loop {
                let target = self.ctrl[idx].loop_pc;
                self.patch(pc, target);
            } else {
                self.ctrl[idx].patches.push(pc);
            }
            return;
        }
        let br = self.cond_branch(cond, !jump_if_true);
        let skip = self.emit(br);
        self.emit_br(depth);
        let here = self.pc();
        self.patch(skip, here);
    }

    pub(super) fn visit_br_table(
        &mut self,
        targets: &wasmparser::BrTable<'_>,
    ) -> Result<(), wasmparser::BinaryReaderError> {
        let index = self.pop();
        let mut depths: Vec<u32> = Vec::with_capacity(targets.len() as usize + 1);
        for t in targets.targets() {
            depths.push(t?);
        }
        depths.push(targets.default());
        self.emit(Op::BrTable {
            index: index.src,
            len: targets.len(),
        });
        let table_start = self.pc();
        for _ in 0..depths.len() {
            self.emit(Op::Br { offset: 0 });
        }
        for (i, &depth) in depths.iter().enumerate() {
            let idx = self.ctrl.len() - 1 - depth as usize;
            let pc = table_start + i;
            if idx != 0 && !self.branch_copies(depth, false) {
                if self.ctrl[idx].kind == CtrlKind::Loop {
                    let target = self.ctrl[idx].loop_pc;
                    self.patch(pc, target);
                } else {
                    self.ctrl[idx].patches.push(pc);
                }
            } else {
                // A trampoline after the table moves the values first.
                let here = self.pc();
                self.patch(pc, here);
                self.emit_br(depth);
            }
        }
        self.set_unreachable();
        Ok(())
    }

    pub(super) fn visit_return(&mut self) {
        self.emit_return();
        self.set_unreachable();
    }

    pub(super) fn visit_unreachable(&mut self) {
        self.emit(Op::Unreachable);
        self.set_unreachable();
    }

    /// Pops the arguments of a call of type `type_index` (after
    /// materialising them into consecutive home slots) and returns the
    /// first argument slot, where the callee frame begins.
    fn pop_args(&mut self, type_index: u32) -> Slot {
        let n = self.t.signature(type_index).params.len();
        self.pop_consecutive(n)
    }

    /// Pops the top `n` values after materialising them into consecutive
    /// home slots; returns the first slot.
    pub(super) fn pop_consecutive(&mut self, n: usize) -> Slot {
        self.materialize_top(n);
        let len = self.stack.len();
        let base = match self.stack.get(len - n) {
            Some(e) => e.home as u32,
            None => self.next_home(),
        };
        self.stack.truncate(len - n);
        base as Slot
    }

    fn push_results(&mut self, type_index: u32) {
        let ft = self.t.signature(type_index);
        let sizes: Vec<(u8, bool)> = ft
            .results
            .iter()
            .map(|&r| (slot_size(r), r.is_traced()))
            .collect();
        for (s, gc) in sizes {
            self.push_temp(s);
            self.set_top_gc(gc);
        }
        // The callee frame starts at the first argument; make sure the
        // caller's frame covers the result slots at least.
    }

    pub(super) fn visit_call(&mut self, func: u32, tail: bool) {
        let ty = self.t.functions[func as usize];
        let base = self.pop_args(ty);
        let nimp = self.t.num_imported_funcs;
        let op = match (func < nimp, tail) {
            (true, false) => Op::CallImport { func, base },
            (true, true) => Op::ReturnCallImport { func, base },
            (false, false) => Op::Call {
                func: func - nimp,
                base,
            },
            (false, true) => Op::ReturnCall {
                func: func - nimp,
                base,
            },
        };
        self.emit(op);
        if tail {
            self.set_unreachable();
        } else {
            self.push_results(ty);
        }
    }

    pub(super) fn visit_call_ref(&mut self, ty: u32, tail: bool) {
        let func = self.pop();
        // The reference may be lazy (a local); it is read before the call.
        let base = self.pop_args(ty);
        self.emit(if tail {
            Op::ReturnCallRef {
                func: func.src,
                base,
            }
        } else {
            Op::CallRef {
                func: func.src,
                base,
            }
        });
        if tail {
            self.set_unreachable();
        } else {
            self.push_results(ty);
        }
    }

    pub(super) fn visit_call_indirect(&mut self, ty: u32, table: u32, tail: bool) {
        let index = self.pop();
        // The index may be lazy (a local); it is read before the call.
        let base = self.pop_args(ty);
        let table = table as u16;
        let op = if tail {
            Op::ReturnCallIndirect {
                ty,
                table,
                index: index.src,
                base,
            }
        } else {
            Op::CallIndirect {
                ty,
                table,
                index: index.src,
                base,
            }
        };
        self.emit(op);
        if tail {
            self.set_unreachable();
        } else {
            self.push_results(ty);
        }
    }
}
