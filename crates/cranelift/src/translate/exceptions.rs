//! Exception handling in native code: `throw`, `throw_ref`, `try_table`
//! and the legacy `try`/`catch`/`catch_all`/`delegate`/`rethrow`.
//!
//! Nothing runs on the path that throws nothing. Each handler construct is
//! a *scope* with a *landing block*; every call made inside the scope's
//! body (wasm calls, host calls through their trampolines, the throw
//! builtins) is a Cranelift `try_call` whose exception table sends any
//! exception to that landing block, the exception's `exnref` bits in the
//! first payload register. The runtime's unwinder finds the handler from
//! the call's return address (`docs/native-abi.md`) and resumes there with
//! the frame's stack and frame pointers.
//!
//! The landing block dispatches in code: it asks the runtime whether the
//! exception's tag is each clause's (a builtin: this is the exceptional
//! path), copies the payload out through another builtin, and branches to
//! the clause's label or catch block. An exception no clause takes is
//! thrown again from the landing block, into the enclosing scope (or, for
//! `delegate`, the scope the label names), so tables stay one entry long
//! and `delegate` needs nothing from the unwinder.

use super::Translator;
use super::control::{Frame, FrameKind};
use crate::CompileError;
use cranelift_codegen::ir::{
    self, Block, BlockArg, BlockCall, ExceptionTableData, ExceptionTableItem, InstBuilder,
    MemFlagsData, StackSlotData, StackSlotKind, Value, types,
};
use cranelift_frontend::Variable;
use kiln_environ::{Builtin, TrapCode, VAL_RAW_SIZE, ValType};
use wasmparser::{BlockType, Catch, Operator};

/// A handler scope: a `try_table` or legacy `try` being translated.
pub(crate) struct EhScope {
    /// Receives every exception raised by a call in the scope's body: one
    /// parameter, the `exnref` bits.
    landing: Block,
    /// Index of the scope's control frame.
    frame: usize,
    /// Whether the code being translated is in the scope's body (a legacy
    /// `try` stops covering calls at its first `catch`).
    active: bool,
    /// For a legacy `try`: its catch blocks (tag, block taking the
    /// exception and the payload), and the variable holding the caught
    /// exception for `rethrow`.
    catches: Vec<(Option<u32>, Block)>,
    hidden: Option<Variable>,
}

/// Where a clause of a landing block's dispatch sends the exception.
enum Clause {
    /// A `try_table` clause: branch to the label `depth` out with the
    /// payload, and the `exnref` too when the flag (a `_ref` clause) is set.
    Label(u32, bool),
    /// A legacy catch block, which takes the `exnref` and the payload.
    Block(Block),
}

impl Translator<'_, '_> {
    /// A landing block's dispatch, from the current block: each clause in
    /// order (its tag tested, unless a catch-all), and what no clause takes
    /// thrown again to `outer`.
    fn dispatch(&mut self, exn: Value, clauses: &[(Option<u32>, Clause)], outer: Option<Block>) {
        for (tag, clause) in clauses {
            let no = tag.map(|t| {
                let (yes, no) = self.branch_on_tag(exn, t);
                self.switch_to(yes);
                no
            });
            let payload = match tag {
                Some(t) => {
                    let tys = self.tag_params(*t);
                    self.exception_payload(exn, &tys)
                }
                None => Vec::new(),
            };
            match *clause {
                Clause::Label(depth, with_ref) => {
                    let keep = self.builder.ins().iconst(types::I32, i64::from(with_ref));
                    self.call_builtin(Builtin::ExnSettle, &[exn, keep]);
                    let mut values = payload;
                    if with_ref {
                        values.push(exn);
                    }
                    self.jump_to_label(depth, &values);
                }
                Clause::Block(block) => {
                    let args: Vec<BlockArg> = core::iter::once(exn)
                        .chain(payload)
                        .map(BlockArg::Value)
                        .collect();
                    self.builder.ins().jump(block, &args);
                }
            }
            match no {
                Some(no) => self.switch_to(no),
                // A catch-all takes everything: later clauses are dead.
                None => return,
            }
        }
        self.rethrow_to(exn, outer);
    }

    /// The landing block of the innermost scope covering calls here.
    fn active_landing(&self) -> Option<Block> {
        self.eh.iter().rev().find(|s| s.active).map(|s| s.landing)
    }

    /// The exception table for a call of signature `sig` whose normal
    /// return goes to `normal` with the call's results, if the call is in
    /// a handler scope (or `handler` names one explicitly).
    pub(super) fn exception_table(
        &mut self,
        sig: ir::SigRef,
        normal: Block,
        nresults: usize,
        handler: Option<Block>,
    ) -> ir::ExceptionTable {
        let dfg = &mut self.builder.func.dfg;
        let rets: Vec<BlockArg> = (0..nresults as u32).map(BlockArg::TryCallRet).collect();
        let normal = BlockCall::new(normal, rets, &mut dfg.value_lists);
        let items: Vec<ExceptionTableItem> = handler
            .map(|h| {
                let call = BlockCall::new(h, [BlockArg::TryCallExn(0)], &mut dfg.value_lists);
                ExceptionTableItem::Default(call)
            })
            .into_iter()
            .collect();
        dfg.exception_tables
            .push(ExceptionTableData::new(sig, normal, items))
    }

    /// The handler a call made now must name, if any.
    pub(super) fn call_handler(&self) -> Option<Block> {
        self.active_landing()
    }

    /// Calls a builtin that raises an exception (and so never returns),
    /// through `try_call` when `handler` is some; ends the block.
    fn call_throwing_builtin(&mut self, builtin: Builtin, args: &[Value], handler: Option<Block>) {
        self.fuel_flush();
        match handler {
            None => {
                self.call_builtin(builtin, args);
            }
            Some(h) => {
                let (fref, all) = self.builtin_ref(builtin, args);
                let sig = self.builder.func.dfg.ext_funcs[fref].signature;
                let after = self.builder.create_block();
                let table = self.exception_table(sig, after, 0, Some(h));
                self.builder.ins().try_call(fref, &all, table);
                self.builder.seal_block(after);
                self.switch_to(after);
            }
        }
        // The builtin does not come back.
        self.trap(TrapCode::UnreachableCodeReached);
        self.reachable = false;
    }

    /// Raises exception `exn` again, to `handler` (or out of the function).
    fn rethrow_to(&mut self, exn: Value, handler: Option<Block>) {
        self.call_throwing_builtin(Builtin::ThrowRef, &[exn], handler);
    }

    /// The payload of exception `exn`, whose tag has parameters `tys`.
    fn exception_payload(&mut self, exn: Value, tys: &[ValType]) -> Vec<Value> {
        if tys.is_empty() {
            return Vec::new();
        }
        let slot = self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            tys.len() as u32 * VAL_RAW_SIZE,
            4,
        ));
        let buf = self
            .builder
            .ins()
            .stack_addr(self.env.pointer_type, slot, 0);
        self.call_builtin(Builtin::ExnPayload, &[exn, buf]);
        let values: Vec<Value> = tys
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let off = (i as u32 * VAL_RAW_SIZE) as i32;
                self.builder
                    .ins()
                    .load(super::clif_type(t), raw_flags(t), buf, off)
            })
            .collect();
        self.mark_gc_typed(&values, tys);
        values
    }

    fn tag_params(&self, tag: u32) -> Vec<ValType> {
        let ty = self.env.module.tags[tag as usize];
        self.env.module.signature(ty).params.to_vec()
    }

    /// Continues in a new block when `exn`'s tag is module tag `tag`, else
    /// in another; returns (match, no match), the current block ended.
    fn branch_on_tag(&mut self, exn: Value, tag: u32) -> (Block, Block) {
        let t = self.builder.ins().iconst(types::I32, i64::from(tag));
        let is = self
            .call_builtin(Builtin::ExnTagIs, &[exn, t])
            .expect("result");
        let yes = self.builder.create_block();
        let no = self.builder.create_block();
        self.builder.ins().brif(is, yes, &[], no, &[]);
        self.builder.seal_block(yes);
        self.builder.seal_block(no);
        (yes, no)
    }

    /// Ends the current block with a jump to the body of a construct
    /// starting here, so landing code can be emitted before it.
    fn start_body(&mut self) -> Block {
        let body = self.builder.create_block();
        self.builder.ins().jump(body, &[]);
        self.builder.seal_block(body);
        body
    }

    fn landing_block(&mut self) -> (Block, Value) {
        let landing = self.builder.create_block();
        let exn = self.builder.append_block_param(landing, types::I64);
        self.builder.set_cold_block(landing);
        (landing, exn)
    }

    /// `throw $tag`: the payload goes to the runtime in a `ValRaw` buffer.
    fn translate_throw(&mut self, tag: u32) {
        let tys = self.tag_params(tag);
        let buf = self.pop_to_raw_buffer(&tys);
        let t = self.builder.ins().iconst(types::I32, i64::from(tag));
        let handler = self.call_handler();
        self.call_throwing_builtin(Builtin::Throw, &[t, buf], handler);
    }

    /// `try_table`: the landing block's dispatch first (jumped over), then
    /// the body as a block.
    fn translate_try_table(
        &mut self,
        bt: BlockType,
        catches: &[Catch],
    ) -> Result<(), CompileError> {
        let (params, results) = self.block_types(bt)?;
        self.fuel_flush();
        let exit = self.block_with_params(&results);
        let body = self.start_body();
        let (landing, exn) = self.landing_block();
        self.switch_to(landing);
        let outer = self.call_handler();
        let clauses: Vec<(Option<u32>, Clause)> = catches
            .iter()
            .map(|c| match *c {
                Catch::One { tag, label } => (Some(tag), Clause::Label(label, false)),
                Catch::OneRef { tag, label } => (Some(tag), Clause::Label(label, true)),
                Catch::All { label } => (None, Clause::Label(label, false)),
                Catch::AllRef { label } => (None, Clause::Label(label, true)),
            })
            .collect();
        self.dispatch(exn, &clauses, outer);
        self.switch_to(body);
        // The landing code may have ended unreachable; the body is not.
        self.reachable = true;
        self.open_scope(FrameKind::TryTable, landing, None, exit, params, results);
        Ok(())
    }

    /// Pushes a handler scope landing on `landing` and its control frame
    /// (`kind`, a `try_table` or legacy `try`), whose parameters are on
    /// the operand stack.
    fn open_scope(
        &mut self,
        kind: FrameKind,
        landing: Block,
        hidden: Option<Variable>,
        exit: Block,
        params: Vec<ir::Type>,
        results: Vec<ir::Type>,
    ) {
        self.eh.push(EhScope {
            landing,
            frame: self.control.len(),
            active: true,
            catches: Vec::new(),
            hidden,
        });
        self.control.push(Frame {
            kind,
            exit,
            header: None,
            stack_base: self.stack.len() - params.len(),
            params,
            results,
            exit_reached: false,
        });
    }

    /// The innermost frame's fall-through: a jump to its exit with its
    /// results (when the code here is reachable).
    fn fall_through(&mut self) {
        if !self.reachable {
            return;
        }
        let frame = self.control.last_mut().expect("validated");
        frame.exit_reached = true;
        let (n, exit) = (frame.results.len(), frame.exit);
        let a: Vec<BlockArg> = self.peekn(n).iter().map(|v| BlockArg::Value(*v)).collect();
        self.builder.ins().jump(exit, &a);
    }

    /// Legacy `try`: a block whose body is a scope; the landing code is
    /// emitted at its end, once the catches are known.
    fn translate_try(&mut self, bt: BlockType) -> Result<(), CompileError> {
        let (params, results) = self.block_types(bt)?;
        self.fuel_flush();
        let exit = self.block_with_params(&results);
        let body = self.start_body();
        self.switch_to(body);
        let (landing, _) = self.landing_block();
        let hidden = self.builder.declare_var(types::I64);
        let kind = FrameKind::Try { in_catch: false };
        self.open_scope(kind, landing, Some(hidden), exit, params, results);
        Ok(())
    }

    /// Legacy `catch $tag` or `catch_all` (`None`): ends the body or the
    /// previous catch block and starts this one, whose operand stack is
    /// the payload.
    pub(super) fn translate_catch(&mut self, tag: Option<u32>) {
        self.fuel_flush();
        self.fall_through();
        let frame = self.control.last_mut().expect("validated");
        frame.kind = FrameKind::Try { in_catch: true };
        let base = frame.stack_base;
        let scope = self.eh.last_mut().expect("a try has a scope");
        scope.active = false;
        let hidden = scope.hidden.expect("a legacy try has a hidden variable");
        let tys = tag.map(|t| self.tag_params(t)).unwrap_or_default();
        let block = self.builder.create_block();
        let exn = self.builder.append_block_param(block, types::I64);
        let payload: Vec<Value> = tys
            .iter()
            .map(|&t| self.builder.append_block_param(block, super::clif_type(t)))
            .collect();
        self.eh.last_mut().unwrap().catches.push((tag, block));
        self.stack.truncate(base);
        self.switch_to(block);
        self.builder.def_var(hidden, exn);
        self.stack.extend(payload);
        self.reachable = true;
    }

    /// The end of a legacy `try`: the release of a caught exception on the
    /// way out of a catch block, the landing block's dispatch to the catch
    /// blocks (or, for `delegate`, to `delegate_to`'s handler), and the end
    /// of the block. `reachable`: whether the fall-through is.
    fn end_try(&mut self, delegate: Option<u32>) {
        self.fuel_flush();
        let in_catch = matches!(
            self.control.last().map(|f| &f.kind),
            Some(FrameKind::Try { in_catch: true })
        );
        if self.reachable && in_catch {
            let hidden = self.eh.last().unwrap().hidden.unwrap();
            let exn = self.builder.use_var(hidden);
            let keep = self.builder.ins().iconst(types::I32, 0);
            self.call_builtin(Builtin::ExnSettle, &[exn, keep]);
        }
        self.fall_through();
        let scope = self.eh.pop().expect("a try has a scope");
        // Where an exception no catch takes goes: the enclosing scope, or
        // the one `delegate`'s label is in.
        let outer = match delegate {
            None => self.call_handler(),
            Some(depth) => {
                // `depth` counts from outside this try.
                let target = (self.control.len() - 2).checked_sub(depth as usize);
                target.and_then(|t| {
                    self.eh
                        .iter()
                        .rev()
                        .find(|s| s.active && s.frame <= t)
                        .map(|s| s.landing)
                })
            }
        };
        self.switch_to(scope.landing);
        let exn = self.builder.block_params(scope.landing)[0];
        let clauses: Vec<(Option<u32>, Clause)> = scope
            .catches
            .iter()
            .map(|&(tag, block)| (tag, Clause::Block(block)))
            .collect();
        self.dispatch(exn, &clauses, outer);
        self.builder.seal_block(scope.landing);
        for (_, block) in &scope.catches {
            self.builder.seal_block(*block);
        }
        self.reachable = self.control.last().is_some_and(|f| f.exit_reached);
        self.end_frame();
    }

    /// Called by `end_frame` for a `try_table`: its scope is over.
    pub(super) fn end_try_table(&mut self) {
        let scope = self.eh.pop().expect("a try_table has a scope");
        self.builder.seal_block(scope.landing);
    }

    /// Handles the exception operators; `Ok(false)` if `op` is not one.
    pub(super) fn translate_exception_op(
        &mut self,
        op: &Operator<'_>,
    ) -> Result<bool, CompileError> {
        use Operator as O;
        match op {
            O::Throw { tag_index } => self.translate_throw(*tag_index),
            O::ThrowRef => {
                let exn = self.pop();
                let handler = self.call_handler();
                self.rethrow_to(exn, handler);
            }
            O::TryTable { try_table } => {
                self.translate_try_table(try_table.ty, &try_table.catches)?
            }
            O::Try { blockty } => self.translate_try(*blockty)?,
            O::Catch { tag_index } => self.translate_catch(Some(*tag_index)),
            O::CatchAll => self.translate_catch(None),
            O::Delegate { relative_depth } => self.end_try(Some(*relative_depth)),
            O::Rethrow { relative_depth } => {
                let idx = self.control.len() - 1 - *relative_depth as usize;
                let scope = self
                    .eh_scope_of_frame(idx)
                    .expect("validated: rethrow names a catch block");
                let hidden = scope.hidden.expect("a legacy try");
                let exn = self.builder.use_var(hidden);
                let handler = self.call_handler();
                self.rethrow_to(exn, handler);
            }
            O::End
                if matches!(
                    self.control.last().map(|f| &f.kind),
                    Some(FrameKind::Try { .. })
                ) =>
            {
                self.end_try(None)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The scope of the legacy `try` whose control frame is `frame` (a
    /// `try` in its catch blocks keeps its scope, inactive, until its end).
    fn eh_scope_of_frame(&self, frame: usize) -> Option<&EhScope> {
        self.eh.iter().find(|s| s.frame == frame)
    }

    /// Skipping unreachable code: the exception operators that open or
    /// close a block. Returns whether `op` was one.
    pub(super) fn translate_unreachable_exception_op(&mut self, op: &Operator<'_>) -> bool {
        use Operator as O;
        match op {
            O::TryTable { .. } | O::Try { .. } => self.unreachable_depth += 1,
            O::Catch { tag_index } if self.unreachable_depth == 0 => {
                self.translate_catch(Some(*tag_index))
            }
            O::CatchAll if self.unreachable_depth == 0 => self.translate_catch(None),
            O::Delegate { relative_depth } if self.unreachable_depth == 0 => {
                self.end_try(Some(*relative_depth))
            }
            O::Delegate { .. } => self.unreachable_depth -= 1,
            O::End
                if self.unreachable_depth == 0
                    && matches!(
                        self.control.last().map(|f| &f.kind),
                        Some(FrameKind::Try { .. })
                    ) =>
            {
                self.end_try(None)
            }
            _ => return false,
        }
        true
    }
}

/// Flags of a `ValRaw` slot: native byte order, except `v128`, whose lanes
/// are little-endian there (as in the trampolines).
pub(super) fn raw_flags(t: ValType) -> MemFlagsData {
    let f = MemFlagsData::trusted();
    if t == ValType::V128 {
        f.with_endianness(ir::Endianness::Little)
    } else {
        f
    }
}
