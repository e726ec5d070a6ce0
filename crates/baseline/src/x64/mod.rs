//! The x86-64 code generator: one pass over a function's operators,
//! straight to machine code.
//!
//! The state between operators is the *value stack*: each wasm operand is
//! a constant, a reference to a local, a register, or spilled to its own
//! stack slot (`Loc`). Operators pull operands into registers only when an
//! instruction needs them there, so `local.get; i32.const; i32.add`
//! becomes one load and one `add` with an immediate. `docs/baseline.md`
//! has the frame layout and the rules at control flow.

mod abi;
pub(crate) mod asm;
mod bulk;
mod control;
mod locals;
mod memory;
mod numeric;
pub(crate) mod tier;

use crate::Env;
use abi::Signature;
use asm::{Buffer, Cond, Gpr, Label, Mem, R8, R9, R10, R11, RAX, RBP, RCX, RDI, RDX, RSI, RSP};
use asm::{R14, R15, Size, Src, XSrc, Xmm};
use kiln_environ::wasmparser::{self, Operator};
use kiln_environ::{Builtin, CompileError, CompiledFunction, FuncKey, TrapCode, ValType};

/// The integer registers operands may live in: the caller-saved ones,
/// less `r11` (the scratch register of every emitted sequence). Values
/// never live across a call in a register, so nothing needs saving.
const GPRS: [Gpr; 8] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];
/// XMM registers operands may live in; xmm15 is scratch.
const XMMS: u8 = 15;
const XMM_SCRATCH: Xmm = 15;
/// `r14` holds the function's `VMContext`; `r15` the base of memory 0
/// when the memory never moves.
const VMCTX: Gpr = R14;
const HEAP: Gpr = R15;

/// A wasm value's machine class and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    I32,
    I64,
    F32,
    F64,
}

impl Kind {
    fn of(ty: ValType) -> Result<Kind, CompileError> {
        Ok(match ty {
            ValType::I32 => Kind::I32,
            ValType::I64 => Kind::I64,
            ValType::F32 => Kind::F32,
            ValType::F64 => Kind::F64,
            // Function references are plain bits to the collector; traced
            // references need stack maps, which come later.
            ValType::Ref(r) if !ValType::Ref(r).is_traced() && !r.is_exn() => Kind::I64,
            other => return Err(unsupported(format!("values of type {other:?}"))),
        })
    }

    fn is_float(self) -> bool {
        matches!(self, Kind::F32 | Kind::F64)
    }

    fn size(self) -> Size {
        match self {
            Kind::I32 | Kind::F32 => Size::S32,
            Kind::I64 | Kind::F64 => Size::S64,
        }
    }

    fn class(self) -> abi::Class {
        if self.is_float() {
            abi::Class::Float
        } else {
            abi::Class::Int
        }
    }
}

pub(crate) fn unsupported(what: impl Into<String>) -> CompileError {
    CompileError::Unsupported(format!("baseline compiler: {}", what.into()))
}

/// Where an operand is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    /// A constant's bits.
    Const(u64),
    /// The current value of a local (read when used; materialized before
    /// the local is written or control flow merges).
    Local(u32),
    Gpr(Gpr),
    Xmm(Xmm),
    /// The result of the last comparison, still in the flags: only ever the
    /// top entry, consumed by `br_if`/`if`/`select` or materialized before
    /// anything else is emitted.
    Flags(Cond),
    /// In the stack slot of its position.
    Spill,
}

#[derive(Clone, Copy, Debug)]
struct Val {
    kind: Kind,
    loc: Loc,
}

/// An operand popped off the value stack: its value and the position it
/// had (which names its spill slot).
#[derive(Clone, Copy, Debug)]
struct Operand {
    kind: Kind,
    loc: Loc,
    pos: usize,
}

/// A trap raised out of line: a conditional branch to a `ud2` at the end
/// of the function, which carries the trap site and the wasm offset.
struct PendingTrap {
    label: Label,
    code: TrapCode,
    wasm_offset: u32,
}

/// A cold call out of line: at `label`, a call of `builtin` with the
/// `VMContext` alone, then a jump back to `back`.
struct ColdCall {
    label: Label,
    back: Label,
    builtin: Builtin,
    /// A second argument, after the `VMContext`.
    arg: Option<u32>,
    wasm_offset: u32,
}

/// A `call_indirect` of a non-final type whose signature ids differ: at
/// `slow`, out of line, the runtime's subtype check (the funcref record
/// in `rax`), then back to `done` or a trap.
struct SubtypeCheck {
    slow: Label,
    done: Label,
    type_index: u32,
    wasm_offset: u32,
}

/// Compiles defined function `index` of `env.module`.
pub(crate) fn compile_function(
    env: &Env<'_>,
    index: u32,
) -> Result<CompiledFunction, CompileError> {
    let t = &env.tunables;
    if !t.signals_based_traps {
        return Err(unsupported("code without signals-based traps"));
    }
    let module = env.module;
    let ty = module.func_type(index);
    let params = ty
        .params
        .iter()
        .map(|&t| Kind::of(t))
        .collect::<Result<Vec<_>, _>>()?;
    let results = ty
        .results
        .iter()
        .map(|&t| Kind::of(t))
        .collect::<Result<Vec<_>, _>>()?;
    let body = module.function_body_reader(index);
    let mut locals = params.clone();
    let wasm_err = |e: wasmparser::BinaryReaderError| CompileError::Wasm(e.to_string());
    for local in body.get_locals_reader().map_err(wasm_err)? {
        let (count, ty) = local.map_err(wasm_err)?;
        let ty = module
            .convert_val_type(ty, 0)
            .map_err(|e| CompileError::Wasm(e.to_string()))?;
        let kind = Kind::of(ty)?;
        if locals.len() + count as usize > 50_000 {
            return Err(unsupported("more than 50,000 locals"));
        }
        locals.extend(std::iter::repeat_n(kind, count as usize));
    }
    let sig = Signature::new(
        &params.iter().map(|k| k.class()).collect::<Vec<_>>(),
        &results.iter().map(|k| k.class()).collect::<Vec<_>>(),
    );
    let homes = locals::choose_homes(&body, &locals);
    // Below the frame pointer: the callee-saved registers the function
    // uses, then the return-area pointer if any, then the locals.
    let heap_in_reg = memory::heap_base_is_fixed(env, 0);
    let mut saved = vec![VMCTX];
    if heap_in_reg {
        saved.push(HEAP);
    }
    saved.extend(
        locals::INT_HOMES
            .iter()
            .filter(|&&r| homes.contains(&locals::Home::Gpr(r))),
    );
    let locals_base = 8 * saved.len() as i32 + if sig.ret_area { 8 } else { 0 };
    let stack_base = locals_base + 8 * locals.len() as i32;
    // About three bytes of code per byte of body, so the buffer rarely
    // grows.
    let body_len = (body.range().end - body.range().start) as usize;
    let mut buf = Buffer::with_capacity(4 * body_len + 64);
    if env.tiered {
        tier::entry(&mut buf, env, index, sig.callee_vmctx);
    }
    let epilogue = buf.new_label();
    let pinned = homes.iter().fold(0u32, |m, h| match h {
        locals::Home::Xmm(x) => m | 1 << (16 + x),
        _ => m,
    });
    let mut cg = Codegen {
        env,
        buf,
        locals,
        homes,
        stack: Vec::new(),
        frames: Vec::new(),
        reachable: true,
        dead_depth: 0,
        used: pinned,
        pinned,
        max_depth: 0,
        locals_base,
        stack_base,
        max_outgoing: 0,
        sig,
        results: results.clone(),
        traps: Vec::new(),
        cold_calls: Vec::new(),
        fuel_pending: 0,
        address_map: Vec::with_capacity(body_len / 2 + 1),
        builtins: Vec::new(),
        wasm_offset: body.range().start as u32,
        epilogue,
        frame_patch: 0,
        heap_in_reg,
        saved,
        index,
        osr_sites: Vec::new(),
        subtype_checks: Vec::new(),
    };
    cg.prologue(&params);
    let end_label = cg.buf.new_label();
    cg.frames.push(control::Frame::function(end_label, results));
    let mut reader = body.get_operators_reader().map_err(wasm_err)?;
    while !reader.eof() {
        let (op, offset) = reader.read_with_offset().map_err(wasm_err)?;
        cg.wasm_offset = offset as u32;
        cg.operator(op)?;
    }
    cg.finish(index)
}

/// The state of one function's translation.
struct Codegen<'a, 'e> {
    env: &'a Env<'e>,
    buf: Buffer,
    locals: Vec<Kind>,
    /// Where each local lives (`locals.rs`).
    homes: Vec<locals::Home>,
    stack: Vec<Val>,
    frames: Vec<control::Frame>,
    /// Whether the code being emitted can run (false after a branch,
    /// `return` or `unreachable` until the next label).
    reachable: bool,
    /// While unreachable: how many blocks opened in the dead code are
    /// still open.
    dead_depth: u32,
    /// Bit `r` set: GPR `r` holds an operand; bit `16 + x`: XMM `x` does.
    used: u32,
    /// The bits of `used` that are locals' home registers: always set.
    pinned: u32,
    /// The deepest value stack seen, in slots.
    max_depth: usize,
    /// Bytes below the frame pointer where the locals start and where the
    /// value stack's slots start.
    locals_base: i32,
    stack_base: i32,
    /// The largest outgoing stack-argument area of a call.
    max_outgoing: u32,
    sig: Signature,
    results: Vec<Kind>,
    traps: Vec<PendingTrap>,
    cold_calls: Vec<ColdCall>,
    /// Operators run since fuel was last charged (with fuel on).
    fuel_pending: i64,
    address_map: Vec<(u32, u32)>,
    builtins: Vec<Builtin>,
    wasm_offset: u32,
    epilogue: Label,
    /// Offset of the frame size's imm32 in the prologue's `sub rsp`.
    frame_patch: usize,
    /// Whether `r15` holds memory 0's base.
    heap_in_reg: bool,
    /// The callee-saved registers the function uses, saved at
    /// `rbp - 8`, `rbp - 16`, ... in this order.
    saved: Vec<Gpr>,
    /// The function's index.
    index: u32,
    /// With tiering: the loop headers' on-stack-replacement paths, emitted
    /// out of line (`tier.rs`).
    osr_sites: Vec<tier::OsrSite>,
    subtype_checks: Vec<SubtypeCheck>,
}

impl Codegen<'_, '_> {
    // ---- frame --------------------------------------------------------

    fn local_mem(&self, i: u32) -> Mem {
        Mem::at(RBP, -(self.locals_base + 8 * (i as i32 + 1)))
    }

    fn slot(&self, pos: usize) -> Mem {
        Mem::at(RBP, -(self.stack_base + 8 * (pos as i32 + 1)))
    }

    /// Where the return-area pointer is kept.
    fn ret_area_ptr(&self) -> Mem {
        Mem::at(RBP, -(8 * self.saved.len() as i32 + 8))
    }

    /// The callee-saved registers the function changes, with their save
    /// slots below the frame pointer.
    fn saved_registers(&self) -> Vec<(Gpr, i32)> {
        (self.saved.iter())
            .enumerate()
            .map(|(k, &r)| (r, -8 * (k as i32 + 1)))
            .collect()
    }

    fn prologue(&mut self, params: &[Kind]) {
        let b = &mut self.buf;
        b.push(RBP);
        b.mov_rr(Size::S64, RBP, RSP);
        // `sub rsp, imm32`, the size patched in when the function ends.
        b.alu(asm::Alu::Sub, Size::S64, RSP, Src::Imm(0x1000_0000));
        self.frame_patch = b.code.len() - 4;
        for (r, off) in self.saved_registers() {
            self.buf.store(Size::S64, Mem::at(RBP, off), r);
        }
        self.buf.mov_rr(Size::S64, VMCTX, self.sig.callee_vmctx);
        let limits = self.env.offsets.vmctx_runtime_limits() as i32;
        let stack_limit = self.env.offsets.limits_stack_limit() as i32;
        let b = &mut self.buf;
        b.load(Size::S64, R11, Mem::at(VMCTX, limits));
        b.alu(
            asm::Alu::Cmp,
            Size::S64,
            RSP,
            Src::Mem(Mem::at(R11, stack_limit)),
        );
        self.trap_if(Cond::B, TrapCode::StackOverflow);
        if self.sig.ret_area {
            self.buf.store(Size::S64, self.ret_area_ptr(), RDI);
        }
        // Parameters to their homes. No home register is an argument
        // register, so the order does not matter.
        for (i, (&kind, &loc)) in params.iter().zip(&self.sig.params.clone()).enumerate() {
            let dst = self.local_mem(i as u32);
            match (self.homes[i], loc) {
                (locals::Home::Mem, abi::Loc::Gpr(r)) => self.buf.store(kind.size(), dst, r),
                (locals::Home::Mem, abi::Loc::Xmm(x)) => self.buf.fstore(kind == Kind::F64, dst, x),
                (locals::Home::Gpr(h), abi::Loc::Gpr(r)) => self.buf.mov_rr(Size::S64, h, r),
                (locals::Home::Xmm(h), abi::Loc::Xmm(x)) => self.buf.fmov(h, x),
                (home, abi::Loc::Stack(off)) => {
                    let arg = Mem::at(RBP, 16 + off as i32);
                    match home {
                        locals::Home::Gpr(h) => self.buf.load(kind.size(), h, arg),
                        locals::Home::Xmm(h) => self.buf.fload(kind == Kind::F64, h, arg),
                        locals::Home::Mem => {
                            self.buf.load(kind.size(), R11, arg);
                            self.buf.store(kind.size(), dst, R11);
                        }
                    }
                }
                _ => unreachable!("a home of the parameter's class"),
            }
        }
        // Non-parameter locals in registers start at zero.
        for i in params.len()..self.locals.len() {
            match self.homes[i] {
                locals::Home::Gpr(h) => self.buf.mov_imm(Size::S32, h, 0),
                locals::Home::Xmm(h) => self.buf.fbits(2, h, h),
                locals::Home::Mem => {}
            }
        }
        // Zero the other locals.
        let first = params.len() as u32;
        let count = self.locals.len() as u32 - first;
        if count > 0 {
            self.buf.mov_imm(Size::S32, RAX, 0);
        }
        if count <= 16 {
            for i in first..first + count {
                if self.homes[i as usize] == locals::Home::Mem {
                    self.buf.store(Size::S64, self.local_mem(i), RAX);
                }
            }
        } else {
            let lowest = self.local_mem(first + count - 1);
            self.buf.lea(R11, lowest);
            self.buf.mov_imm(Size::S32, RCX, u64::from(count));
            let top = self.buf.new_label();
            self.buf.bind(top);
            self.buf.store(Size::S64, Mem::at(R11, 0), RAX);
            self.buf.alu(asm::Alu::Add, Size::S64, R11, Src::Imm(8));
            self.buf.alu(asm::Alu::Sub, Size::S32, RCX, Src::Imm(1));
            self.buf.jcc(Cond::Ne, top);
        }
        if self.heap_in_reg {
            let o = &self.env.offsets;
            let (rec, base) = (o.vmctx_memory(0) as i32, o.memory_base() as i32);
            self.buf.load(Size::S64, HEAP, Mem::at(VMCTX, rec));
            self.buf.load(Size::S64, HEAP, Mem::at(HEAP, base));
        }
        self.interrupt_poll();
        self.fuel_check();
        self.tier_count_call();
    }

    /// Adds the operators counted since the last charge to the store's
    /// fuel counter (with fuel on). Called before anything that leaves
    /// straight-line code, so callees and the runtime see an exact count.
    fn fuel_flush(&mut self) {
        let n = std::mem::take(&mut self.fuel_pending);
        if n == 0 || !self.reachable {
            return;
        }
        let o = &self.env.offsets;
        let (limits, fuel) = (
            o.vmctx_runtime_limits() as i32,
            o.limits_fuel_consumed() as i32,
        );
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, limits));
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        self.buf
            .alu_mem_imm(asm::Alu::Add, Size::S64, Mem::at(R11, fuel), n);
    }

    /// At function entry and loop headers (with fuel on): charges pending
    /// fuel and calls the `out_of_fuel` builtin, out of line, once the
    /// budget is spent. Nothing is live in a register at either place.
    fn fuel_check(&mut self) {
        if !self.env.tunables.consume_fuel {
            return;
        }
        self.fuel_flush();
        let o = &self.env.offsets;
        let (limits, fuel) = (
            o.vmctx_runtime_limits() as i32,
            o.limits_fuel_consumed() as i32,
        );
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, limits));
        self.buf.cmp_mem_imm(Size::S64, Mem::at(R11, fuel), 0);
        let (label, back) = (self.buf.new_label(), self.buf.new_label());
        self.buf.jcc(Cond::Gt, label);
        self.buf.bind(back);
        self.cold_calls.push(ColdCall {
            label,
            back,
            builtin: Builtin::OutOfFuel,
            arg: None,
            wasm_offset: self.wasm_offset,
        });
    }

    /// Traps with `Interrupt` if another thread asked this store to stop.
    fn interrupt_poll(&mut self) {
        if !self.env.tunables.interruptible {
            return;
        }
        let o = &self.env.offsets;
        let (limits, flag) = (o.vmctx_runtime_limits() as i32, o.limits_interrupt() as i32);
        self.buf.load(Size::S64, R11, Mem::at(VMCTX, limits));
        self.buf.cmp_mem_imm(Size::S32, Mem::at(R11, flag), 0);
        self.trap_if(Cond::Ne, TrapCode::Interrupt);
    }

    fn finish(mut self, index: u32) -> Result<CompiledFunction, CompileError> {
        if !self.frames.is_empty() {
            return Err(CompileError::Wasm(
                "function body ends inside a block".into(),
            ));
        }
        // The epilogue.
        self.buf.bind(self.epilogue);
        for (r, off) in self.saved_registers() {
            self.buf.load(Size::S64, r, Mem::at(RBP, off));
        }
        self.buf.mov_rr(Size::S64, RSP, RBP);
        self.buf.pop(RBP);
        let pop = u16::try_from(self.sig.stack_args)
            .map_err(|_| unsupported("more than 64 KiB of stack arguments"))?;
        self.buf.ret(pop);
        for c in std::mem::take(&mut self.cold_calls) {
            self.buf.bind(c.label);
            self.address_map.push((self.buf.offset(), c.wasm_offset));
            self.buf.mov_rr(Size::S64, RDI, VMCTX);
            if let Some(arg) = c.arg {
                self.buf.mov_imm(Size::S32, RSI, u64::from(arg));
            }
            self.save_float_homes();
            self.buf.call_key(FuncKey::Builtin(c.builtin));
            self.restore_float_homes();
            self.builtins.push(c.builtin);
            self.buf.jmp(c.back);
        }
        self.emit_osr_sites();
        for c in std::mem::take(&mut self.subtype_checks) {
            self.buf.bind(c.slow);
            self.address_map.push((self.buf.offset(), c.wasm_offset));
            // `is_subtype(vmctx, actual, expected)`; the record is kept
            // on the stack across it (two pushes keep rsp aligned).
            let o = &self.env.offsets;
            let (sig, sigs) = (o.funcref_sig() as i32, o.vmctx_signature_ids() as i32);
            self.buf.push(RAX);
            self.buf.push(RAX);
            self.buf.load(Size::S32, RSI, Mem::at(RAX, sig));
            self.buf.load(Size::S64, RDX, Mem::at(VMCTX, sigs));
            self.buf
                .load(Size::S32, RDX, Mem::at(RDX, 4 * c.type_index as i32));
            self.buf.mov_rr(Size::S64, RDI, VMCTX);
            self.call_builtin(Builtin::IsSubtype);
            self.buf.test(Size::S32, RAX, RAX);
            self.buf.pop(RAX);
            self.buf.pop(RAX);
            let wasm_offset = self.wasm_offset;
            self.wasm_offset = c.wasm_offset;
            self.trap_if(Cond::Eq, TrapCode::BadSignature);
            self.wasm_offset = wasm_offset;
            self.buf.jmp(c.done);
        }
        for t in std::mem::take(&mut self.traps) {
            self.buf.bind(t.label);
            self.address_map.push((self.buf.offset(), t.wasm_offset));
            self.buf.ud2(t.code);
        }
        let frame =
            self.stack_base as u64 + 8 * self.max_depth as u64 + u64::from(self.max_outgoing);
        let frame = u32::try_from(frame.next_multiple_of(16))
            .ok()
            .filter(|&f| f < 1 << 30)
            .ok_or_else(|| unsupported("a frame over 1 GiB"))?;
        self.buf.code[self.frame_patch..self.frame_patch + 4].copy_from_slice(&frame.to_le_bytes());
        if !self.buf.finish() {
            return Err(CompileError::Codegen {
                function: format!("wasm function {index}"),
                message: "a branch to a label that was never placed".into(),
            });
        }
        self.address_map.dedup_by_key(|(o, _)| *o);
        self.builtins.sort();
        self.builtins.dedup();
        Ok(CompiledFunction {
            key: FuncKey::Wasm(index),
            code: self.buf.code,
            alignment: 16,
            relocations: self.buf.relocations,
            traps: self.buf.traps,
            handlers: Vec::new(),
            stack_maps: Vec::new(),
            address_map: self.address_map,
            builtins: self.builtins,
        })
    }

    /// Branches to an out-of-line `ud2` raising `code` when `c` holds.
    fn trap_if(&mut self, c: Cond, code: TrapCode) {
        let label = self.buf.new_label();
        self.buf.jcc(c, label);
        self.traps.push(PendingTrap {
            label,
            code,
            wasm_offset: self.wasm_offset,
        });
    }

    // ---- the value stack ----------------------------------------------

    fn push(&mut self, kind: Kind, loc: Loc) {
        match loc {
            Loc::Gpr(r) => self.used |= 1 << r,
            Loc::Xmm(x) => self.used |= 1 << (16 + x),
            _ => {}
        }
        self.stack.push(Val { kind, loc });
        self.max_depth = self.max_depth.max(self.stack.len());
    }

    /// Pops the top operand; its register, if any, now belongs to the
    /// caller (free it or push it back).
    fn pop(&mut self) -> Operand {
        self.materialize_flags();
        let v = self.stack.pop().expect("validated: an operand");
        Operand {
            kind: v.kind,
            loc: v.loc,
            pos: self.stack.len(),
        }
    }

    fn free(&mut self, loc: Loc) {
        match loc {
            Loc::Gpr(r) => self.used &= !(1 << r),
            Loc::Xmm(x) => self.used &= !(1 << (16 + x)),
            _ => {}
        }
        self.used |= self.pinned;
    }

    /// A free integer register, spilling the oldest operand in one if
    /// none is free.
    fn alloc_gpr(&mut self) -> Gpr {
        if let Some(&r) = GPRS.iter().find(|&&r| self.used & (1 << r) == 0) {
            self.used |= 1 << r;
            return r;
        }
        let pos = self
            .stack
            .iter()
            .position(|v| matches!(v.loc, Loc::Gpr(_)))
            .expect("every register holds an operand");
        let Loc::Gpr(r) = self.stack[pos].loc else {
            unreachable!()
        };
        self.spill_at(pos);
        self.used |= 1 << r;
        r
    }

    fn alloc_xmm(&mut self) -> Xmm {
        if let Some(x) = (0..XMMS).find(|&x| self.used & (1 << (16 + x)) == 0) {
            self.used |= 1 << (16 + x);
            return x;
        }
        let pos = self
            .stack
            .iter()
            .position(|v| matches!(v.loc, Loc::Xmm(_)))
            .expect("every register holds an operand");
        let Loc::Xmm(x) = self.stack[pos].loc else {
            unreachable!()
        };
        self.spill_at(pos);
        self.used |= 1 << (16 + x);
        x
    }

    /// Makes register `r` free for a fixed use, moving the operand in it
    /// to a register that is neither `r` nor one of `avoid` (the other
    /// fixed registers of the same instruction), or spilling it when no
    /// such register is free.
    fn evict_gpr(&mut self, r: Gpr, avoid: &[Gpr]) {
        let Some(pos) = self.stack.iter().position(|v| v.loc == Loc::Gpr(r)) else {
            return;
        };
        let taken = avoid
            .iter()
            .fold(self.used | (1 << r), |m, &a| m | (1 << a));
        match GPRS.iter().find(|&&g| taken & (1 << g) == 0) {
            Some(&to) => {
                self.buf.mov_rr(Size::S64, to, r);
                self.stack[pos].loc = Loc::Gpr(to);
                self.used = (self.used | (1 << to)) & !(1 << r);
            }
            None => self.spill_at(pos),
        }
    }

    /// Stores the operand at `pos` to its slot.
    fn spill_at(&mut self, pos: usize) {
        let v = self.stack[pos];
        let slot = self.slot(pos);
        match v.loc {
            Loc::Gpr(r) => {
                self.buf.store(v.kind.size(), slot, r);
                self.used &= !(1 << r);
            }
            Loc::Xmm(x) => {
                self.buf.fstore(v.kind == Kind::F64, slot, x);
                self.used &= !(1 << (16 + x));
            }
            Loc::Local(i) => self.store_local(i, slot),
            Loc::Const(bits) => self.store_const(v.kind, slot, bits),
            Loc::Flags(_) => unreachable!("flags are materialized before spilling"),
            Loc::Spill => return,
        }
        self.stack[pos].loc = Loc::Spill;
    }

    fn store_const(&mut self, kind: Kind, m: Mem, bits: u64) {
        let size = kind.size();
        let fits = size == Size::S32 || i64::from(bits as i32) == bits as i64;
        if fits {
            self.buf.store_imm(size, m, bits as i32);
        } else {
            self.buf.mov_imm(Size::S64, R11, bits);
            self.buf.store(Size::S64, m, R11);
        }
    }

    /// Spills every operand held in a register (before a call, which
    /// clobbers them all).
    fn spill_registers(&mut self) {
        self.materialize_flags();
        for pos in 0..self.stack.len() {
            if matches!(self.stack[pos].loc, Loc::Gpr(_) | Loc::Xmm(_)) {
                self.spill_at(pos);
            }
        }
    }

    /// Spills everything but constants: the state every control-flow
    /// merge starts from.
    fn spill_all(&mut self) {
        self.materialize_flags();
        for pos in 0..self.stack.len() {
            if !matches!(self.stack[pos].loc, Loc::Const(_)) {
                self.spill_at(pos);
            }
        }
    }

    /// Reads every pending `local.get` of local `i` before it is written.
    fn materialize_local(&mut self, i: u32) {
        for pos in 0..self.stack.len() {
            if self.stack[pos].loc == Loc::Local(i) {
                let kind = self.stack[pos].kind;
                let to = if kind.is_float() {
                    let x = self.alloc_xmm();
                    self.load_local(i, locals::Reg::Xmm(x));
                    Loc::Xmm(x)
                } else {
                    let r = self.alloc_gpr();
                    self.load_local(i, locals::Reg::Gpr(r));
                    Loc::Gpr(r)
                };
                self.stack[pos].loc = to;
            }
        }
    }

    /// Turns a pending comparison on top of the stack into a 0/1 value.
    fn materialize_flags(&mut self) {
        if let Some(&Val {
            loc: Loc::Flags(c),
            kind,
        }) = self.stack.last()
        {
            self.stack.pop();
            let r = self.alloc_gpr();
            self.buf.set_cond(c, r);
            self.push(kind, Loc::Gpr(r));
        }
    }

    /// The memory operand an operand can be read from without a register.
    fn mem_of(&self, o: &Operand) -> Option<Mem> {
        match o.loc {
            Loc::Local(i) if self.homes[i as usize] == locals::Home::Mem => Some(self.local_mem(i)),
            Loc::Spill => Some(self.slot(o.pos)),
            _ => None,
        }
    }

    /// An integer operand as an instruction source: an immediate, memory
    /// or a register (which the caller frees).
    fn int_src(&mut self, o: &Operand) -> Src {
        match o.loc {
            Loc::Const(bits) if o.kind == Kind::I32 || i64::from(bits as i32) == bits as i64 => {
                Src::Imm(bits as i32)
            }
            Loc::Gpr(r) => Src::Reg(r),
            // A local's home register, read in place (`release` leaves it).
            Loc::Local(i) if matches!(self.homes[i as usize], locals::Home::Gpr(_)) => {
                let locals::Home::Gpr(h) = self.homes[i as usize] else {
                    unreachable!()
                };
                Src::Reg(h)
            }
            _ => match self.mem_of(o) {
                Some(m) => Src::Mem(m),
                None => Src::Reg(self.in_gpr(o)),
            },
        }
    }

    /// An integer operand in a register the caller owns (and may
    /// overwrite).
    fn in_gpr(&mut self, o: &Operand) -> Gpr {
        match o.loc {
            Loc::Gpr(r) => {
                self.used |= 1 << r;
                r
            }
            Loc::Const(bits) => {
                let r = self.alloc_gpr();
                self.buf.mov_imm(o.kind.size(), r, bits);
                r
            }
            Loc::Xmm(_) | Loc::Flags(_) => unreachable!("an integer operand"),
            _ => {
                let r = self.alloc_gpr();
                self.load_bits(o, r);
                r
            }
        }
    }

    /// A float operand in an XMM register the caller owns.
    fn in_xmm(&mut self, o: &Operand) -> Xmm {
        match o.loc {
            Loc::Xmm(x) => {
                self.used |= 1 << (16 + x);
                x
            }
            Loc::Const(bits) => {
                let x = self.alloc_xmm();
                self.buf.mov_imm(Size::S64, R11, bits);
                self.buf.gpr_to_xmm(o.kind.size(), x, R11);
                x
            }
            Loc::Gpr(_) | Loc::Flags(_) => unreachable!("a float operand"),
            _ => {
                let x = self.alloc_xmm();
                self.load_float(o, x);
                x
            }
        }
    }

    /// A float operand as an SSE source operand (memory when it is in
    /// memory; the caller frees a register).
    fn xmm_src(&mut self, o: &Operand) -> XSrc {
        match o.loc {
            Loc::Xmm(x) => XSrc::Reg(x),
            Loc::Local(i) if matches!(self.homes[i as usize], locals::Home::Xmm(_)) => {
                let locals::Home::Xmm(h) = self.homes[i as usize] else {
                    unreachable!()
                };
                XSrc::Reg(h)
            }
            _ => match self.mem_of(o) {
                Some(m) => XSrc::Mem(m),
                None => XSrc::Reg(self.in_xmm(o)),
            },
        }
    }

    /// Frees the register of a consumed source operand (never a local's
    /// home).
    fn release(&mut self, src: Src) {
        if let Src::Reg(r) = src {
            self.free(Loc::Gpr(r));
        }
    }

    fn release_x(&mut self, src: XSrc) {
        if let XSrc::Reg(x) = src {
            self.free(Loc::Xmm(x));
        }
    }

    /// Loads a constant's bits into the scratch XMM register.
    fn scratch_const(&mut self, double: bool, bits: u64) {
        self.buf.mov_imm(Size::S64, R11, bits);
        let size = if double { Size::S64 } else { Size::S32 };
        self.buf.gpr_to_xmm(size, XMM_SCRATCH, R11);
    }

    // ---- operators ----------------------------------------------------

    fn operator(&mut self, op: Operator<'_>) -> Result<(), CompileError> {
        if !self.reachable {
            return self.dead_operator(&op);
        }
        if self.env.tunables.consume_fuel
            && !matches!(
                op,
                Operator::Nop | Operator::Drop | Operator::End | Operator::Else
            )
        {
            self.fuel_pending += 1;
        }
        let at = self.buf.offset();
        if self.address_map.last().map(|&(o, _)| o) == Some(at) {
            self.address_map.pop();
        }
        self.address_map.push((at, self.wasm_offset));
        // A comparison feeds a branch or `select` through the flags; any
        // other operator needs the value materialized first. With fuel on,
        // charging it (an `add`) would clobber them: always materialize.
        if self.env.tunables.consume_fuel
            || !matches!(
                op,
                Operator::BrIf { .. }
                    | Operator::If { .. }
                    | Operator::Select
                    | Operator::TypedSelect { .. }
            )
        {
            self.materialize_flags();
        }
        if self.control_op(&op)?
            || self.numeric_op(&op)?
            || self.memory_op(&op)?
            || self.bulk_op(&op)?
        {
            return Ok(());
        }
        Err(unsupported(format!(
            "the `{}` operator",
            kiln_environ::operator_name(&op)
        )))
    }
}
