//! Structured control flow: `block`, `loop`, `if`/`else`, branches,
//! `br_table`, `return`, `unreachable`.
//!
//! Each wasm block has an exit CLIF block whose parameters are the wasm
//! block's results; a loop also has a header block whose parameters are the
//! loop's parameters (a branch to a loop goes there). Values on the operand
//! stack dominate everything inside their block, so `if` arms need no block
//! parameters of their own.

use super::{Translator, clif_type, parse_error};
use crate::CompileError;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Type, Value};
use wasmparser::{BlockType, Operator};

/// What kind of construct a control frame is.
pub(crate) enum FrameKind {
    /// The function body; its exit returns.
    Function,
    /// `block`.
    Block,
    /// `loop`: branches go to the header.
    Loop,
    /// `if`: the else arm's block, whether `else` was seen, and the
    /// parameter values the else arm starts from.
    If {
        else_block: Block,
        else_seen: bool,
        param_values: Vec<Value>,
    },
    /// `try_table`: a block whose body is a handler scope.
    TryTable,
    /// Legacy `try`: a block, in its body or (`in_catch`) its catch
    /// blocks.
    Try { in_catch: bool },
}

/// An open block, loop, if or the function body.
pub(crate) struct Frame {
    pub kind: FrameKind,
    /// Where control continues after `end`; parameters are the results.
    pub exit: Block,
    /// The loop header (only for loops).
    pub header: Option<Block>,
    pub params: Vec<Type>,
    pub results: Vec<Type>,
    /// Operand-stack height below the frame's parameters.
    pub stack_base: usize,
    /// Whether anything jumps or falls through to `exit`.
    pub exit_reached: bool,
}

impl Frame {
    /// Number of values a branch to this frame carries.
    fn branch_arity(&self) -> usize {
        match self.kind {
            FrameKind::Loop => self.params.len(),
            _ => self.results.len(),
        }
    }

    /// The block a branch to this frame jumps to.
    fn branch_target(&self) -> Block {
        self.header.unwrap_or(self.exit)
    }
}

pub(crate) fn args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl Translator<'_, '_> {
    pub(super) fn block_types(
        &self,
        bt: BlockType,
    ) -> Result<(Vec<Type>, Vec<Type>), CompileError> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => {
                let vt = self
                    .env
                    .module
                    .convert_val_type(t, 0)
                    .map_err(|e| CompileError::Unsupported(e.message))?;
                (Vec::new(), vec![clif_type(vt)])
            }
            BlockType::FuncType(i) => {
                let ft = self.env.module.signature(i);
                (
                    ft.params.iter().map(|t| clif_type(*t)).collect(),
                    ft.results.iter().map(|t| clif_type(*t)).collect(),
                )
            }
        })
    }

    pub(super) fn block_with_params(&mut self, tys: &[Type]) -> Block {
        let b = self.builder.create_block();
        for t in tys {
            self.builder.append_block_param(b, *t);
        }
        b
    }

    /// Jumps to frame `depth`'s branch target carrying `values`.
    pub(super) fn jump_to_label(&mut self, depth: u32, values: &[Value]) {
        let i = self.control.len() - 1 - depth as usize;
        let target = self.control[i].branch_target();
        if self.control[i].header.is_none() {
            self.control[i].exit_reached = true;
        }
        self.builder.ins().jump(target, &args(values));
    }

    /// Jumps to frame `depth`'s branch target with the top operands,
    /// leaving them on the stack.
    fn jump_to_depth(&mut self, depth: u32) {
        let i = self.control.len() - 1 - depth as usize;
        let n = self.control[i].branch_arity();
        let target = self.control[i].branch_target();
        if self.control[i].header.is_none() {
            self.control[i].exit_reached = true;
        }
        let a = args(self.peekn(n));
        self.builder.ins().jump(target, &a);
    }

    /// Polls the interrupt flag before a branch to any of `depths` if one
    /// of them is a loop header (a back-edge), unless a call earlier in
    /// this block already polled (in its callee's entry).
    fn poll_before_branch(&mut self, depths: &[u32]) {
        if self.interrupt_polled {
            return;
        }
        let top = self.control.len() - 1;
        let back_edge = depths
            .iter()
            .any(|d| self.control[top - *d as usize].header.is_some());
        if back_edge {
            self.interrupt_poll();
        }
    }

    /// Handles the control operators; `Ok(false)` if `op` is not one.
    pub(super) fn translate_control_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use Operator as O;
        match op {
            O::Unreachable => {
                self.fuel_flush();
                self.trap(kiln_environ::TrapCode::UnreachableCodeReached);
                self.reachable = false;
            }
            O::Block { blockty } => {
                let (params, results) = self.block_types(*blockty)?;
                let exit = self.block_with_params(&results);
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    exit,
                    header: None,
                    stack_base: self.stack.len() - params.len(),
                    params,
                    results,
                    exit_reached: false,
                });
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_types(*blockty)?;
                let header = self.block_with_params(&params);
                let exit = self.block_with_params(&results);
                self.fuel_flush();
                let a = args(self.peekn(params.len()));
                self.builder.ins().jump(header, &a);
                let base = self.stack.len() - params.len();
                self.stack.truncate(base);
                self.switch_to(header);
                let hp = self.builder.block_params(header).to_vec();
                self.stack.extend(hp);
                self.control.push(Frame {
                    kind: FrameKind::Loop,
                    exit,
                    header: Some(header),
                    stack_base: base,
                    params,
                    results,
                    exit_reached: false,
                });
                // The interrupt poll is on the back-edges instead, where
                // it can be left out after a call (`poll_before_branch`).
                self.fuel_check();
            }
            O::If { blockty } => {
                let cond = self.pop();
                let (params, results) = self.block_types(*blockty)?;
                self.fuel_flush();
                let then_block = self.builder.create_block();
                let else_block = self.builder.create_block();
                let exit = self.block_with_params(&results);
                self.builder
                    .ins()
                    .brif(cond, then_block, &[], else_block, &[]);
                self.builder.seal_block(then_block);
                self.builder.seal_block(else_block);
                self.switch_to(then_block);
                let base = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block,
                        else_seen: false,
                        param_values: self.stack[base..].to_vec(),
                    },
                    exit,
                    header: None,
                    stack_base: base,
                    params,
                    results,
                    exit_reached: false,
                });
            }
            O::Else => {
                self.fuel_flush();
                let frame = self.control.last_mut().expect("validated");
                let n = frame.results.len();
                let exit = frame.exit;
                frame.exit_reached = true;
                let a = args(self.peekn(n));
                self.builder.ins().jump(exit, &a);
                self.enter_else();
            }
            O::End => {
                self.fuel_flush();
                let frame = self.control.last_mut().expect("validated");
                frame.exit_reached = true;
                let n = frame.results.len();
                let exit = frame.exit;
                let a = args(self.peekn(n));
                self.builder.ins().jump(exit, &a);
                self.end_frame();
            }
            O::Br { relative_depth } => {
                self.fuel_flush();
                self.poll_before_branch(&[*relative_depth]);
                self.jump_to_depth(*relative_depth);
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                self.fuel_flush();
                let i = self.control.len() - 1 - *relative_depth as usize;
                let n = self.control[i].branch_arity();
                let target = self.control[i].branch_target();
                if self.control[i].header.is_none() {
                    self.control[i].exit_reached = true;
                }
                // Polled whether or not the branch is taken: cheaper than
                // an extra block for the taken edge.
                self.poll_before_branch(&[*relative_depth]);
                let next = self.builder.create_block();
                let a = args(self.peekn(n));
                self.builder.ins().brif(cond, target, &a, next, &[]);
                self.builder.seal_block(next);
                self.switch_to(next);
            }
            O::BrOnNull { relative_depth } => {
                let r = self.pop();
                self.branch_on_ref(*relative_depth, r, true);
                self.push(r);
            }
            O::BrOnNonNull { relative_depth } => {
                let r = *self.stack.last().expect("validated: a reference");
                self.branch_on_ref(*relative_depth, r, false);
                self.pop();
            }
            O::BrTable { targets } => {
                let index = self.pop();
                self.fuel_flush();
                let mut depths = Vec::with_capacity(targets.len() as usize);
                for t in targets.targets() {
                    depths.push(t.map_err(parse_error)?);
                }
                let default = targets.default();
                depths.push(default);
                self.poll_before_branch(&depths);
                depths.pop();
                self.br_table(index, &depths, default);
                self.reachable = false;
            }
            O::Return => {
                self.fuel_flush();
                let n = self.control[0].results.len();
                let vals = self.peekn(n).to_vec();
                self.builder.ins().return_(&vals);
                self.reachable = false;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `br_table`: CLIF jump tables carry no block arguments, so when the
    /// targets take values each distinct depth gets an edge block that
    /// jumps on with them.
    fn br_table(&mut self, index: Value, depths: &[u32], default: u32) {
        let arity = {
            let i = self.control.len() - 1 - default as usize;
            self.control[i].branch_arity()
        };
        let mut edge_of: Vec<(u32, Block)> = Vec::new();
        let mut block_for = |t: &mut Self, depth: u32| -> Block {
            if arity == 0 {
                let i = t.control.len() - 1 - depth as usize;
                if t.control[i].header.is_none() {
                    t.control[i].exit_reached = true;
                }
                return t.control[i].branch_target();
            }
            if let Some((_, b)) = edge_of.iter().find(|(d, _)| *d == depth) {
                return *b;
            }
            let b = t.builder.create_block();
            edge_of.push((depth, b));
            b
        };
        let default_block = block_for(self, default);
        let table: Vec<Block> = depths.iter().map(|d| block_for(self, *d)).collect();
        let default_call = self.builder.func.dfg.block_call(default_block, &[]);
        let calls: Vec<_> = table
            .iter()
            .map(|b| self.builder.func.dfg.block_call(*b, &[]))
            .collect();
        let jt = self
            .builder
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.builder.ins().br_table(index, jt);
        for (depth, edge) in edge_of {
            self.builder.seal_block(edge);
            self.switch_to(edge);
            self.jump_to_depth(depth);
        }
    }

    /// Starts the else arm of the innermost `if`.
    fn enter_else(&mut self) {
        let frame = self.control.last_mut().expect("validated");
        let base = frame.stack_base;
        let FrameKind::If {
            else_block,
            else_seen,
            param_values,
        } = &mut frame.kind
        else {
            unreachable!("validated: else without if")
        };
        *else_seen = true;
        let else_block = *else_block;
        let params = param_values.clone();
        self.stack.truncate(base);
        self.stack.extend(params);
        self.switch_to(else_block);
        self.reachable = true;
    }

    /// Closes the innermost frame after its fall-through (if any) was
    /// emitted: finishes a missing else arm, moves to the exit block and
    /// pushes the results.
    pub(super) fn end_frame(&mut self) {
        if matches!(
            self.control.last().map(|f| &f.kind),
            Some(FrameKind::TryTable)
        ) {
            self.end_try_table();
        }
        let frame = self.control.pop().expect("validated");
        let mut exit_reached = frame.exit_reached;
        if let FrameKind::If {
            else_block,
            else_seen: false,
            param_values,
        } = &frame.kind
        {
            // No else: the implicit else arm passes the parameters through
            // (validation guarantees they match the results).
            self.switch_to(*else_block);
            let a = args(param_values);
            self.builder.ins().jump(frame.exit, &a);
            exit_reached = true;
        }
        if let Some(header) = frame.header {
            self.builder.seal_block(header);
        }
        self.builder.seal_block(frame.exit);
        self.stack.truncate(frame.stack_base);
        self.switch_to(frame.exit);
        let results = self.builder.block_params(frame.exit).to_vec();
        if let FrameKind::Function = frame.kind {
            if exit_reached {
                self.builder.ins().return_(&results);
            } else {
                // Nothing reaches the end; the block still needs a
                // terminator to be well-formed (Cranelift removes the
                // unreachable block again).
                self.trap(kiln_environ::TrapCode::UnreachableCodeReached);
            }
            self.reachable = false;
            return;
        }
        self.stack.extend(results);
        self.reachable = exit_reached;
    }

    /// Skips operators in unreachable code, tracking nesting so the right
    /// `else`/`end` brings translation back.
    pub(super) fn translate_unreachable_op(
        &mut self,
        op: &Operator<'_>,
    ) -> Result<(), CompileError> {
        if self.translate_unreachable_exception_op(op) {
            return Ok(());
        }
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.unreachable_depth += 1;
            }
            Operator::Else if self.unreachable_depth == 0 => self.enter_else(),
            Operator::End if self.unreachable_depth == 0 => self.end_frame(),
            Operator::End => self.unreachable_depth -= 1,
            _ => {}
        }
        Ok(())
    }
}

impl Translator<'_, '_> {
    /// `br_on_null` (`on_null`) or `br_on_non_null`: branches to the label
    /// `depth` out with the values on the stack (the reference among them
    /// for `br_on_non_null`, which the caller left on it) when `r` is null
    /// or not, and goes on in a new block otherwise.
    fn branch_on_ref(&mut self, depth: u32, r: Value, on_null: bool) {
        self.fuel_flush();
        let i = self.control.len() - 1 - depth as usize;
        let n = self.control[i].branch_arity();
        let target = self.control[i].branch_target();
        if self.control[i].header.is_none() {
            self.control[i].exit_reached = true;
        }
        self.poll_before_branch(&[depth]);
        let next = self.builder.create_block();
        let a = args(self.peekn(n));
        // A reference is non-zero exactly when it is not null.
        if on_null {
            self.builder.ins().brif(r, next, &[], target, &a);
        } else {
            self.builder.ins().brif(r, target, &a, next, &[]);
        }
        self.builder.seal_block(next);
        self.switch_to(next);
    }
}
