//! The single-pass translator from validated wasm to the register bytecode.
//!
//! Every wasm operand-stack position has a fixed *home* slot in the frame
//! (`temps_base + ` the slot sizes below it), decided at translation time.
//! The translator keeps a compile-time operand stack of [`Entry`]s; an entry
//! may be *lazy*: its value still lives in a local's slot (after
//! `local.get`), so no copy is emitted unless the local is about to be
//! overwritten or the value must be in its home slot (block boundaries,
//! calls, branches), at which point it is *materialised* with one `Copy`.

mod accumulator;
mod control;
mod decode;
mod exceptions;
mod fuse;
mod gc;
mod ops;

pub(crate) use exceptions::{CATCH_ALL, Catch, Handler, NO_REGION, NO_SLOT};

use crate::bytecode::{Op, Slot};
use alloc::boxed::Box;
use alloc::vec::Vec;
use kiln_environ::{ModuleTranslation, TranslationError, ValType};
use wasmparser::{FuncValidator, ValidatorResources};

/// One translated function, ready to run.
#[derive(Debug)]
pub(crate) struct InterpFunc {
    /// The bytecode; always ends in a control transfer.
    pub code: Box<[Op]>,
    /// `(pc, wasm offset)` for every op that can trap or call, sorted by pc.
    pub offsets: Box<[(u32, u32)]>,
    /// Lane selectors of the function's `i8x16.shuffle`s.
    pub shuffles: Box<[[u8; 16]]>,
    /// Index in the module's function index space (imports first).
    pub func_index: u32,
    /// Slots taken by the parameters.
    pub param_slots: u32,
    /// Slots taken by the declared locals (zeroed on entry).
    pub local_slots: u32,
    /// The function's constant pool: copied on entry (by `InitConsts`,
    /// then the first op) to the slots right after the locals, where ops
    /// inside loops read their constants instead of running a `Const` op
    /// on every iteration.
    pub consts: Box<[u64]>,
    /// Where the frame's call record starts ([`crate::exec::RECORD_SLOTS`]
    /// slots: the caller's state, written by the call that entered it):
    /// past the locals and the results, which `Return` writes to slot 0 on.
    pub record_slot: u32,
    /// Total frame size in slots: params, locals, the call record and the
    /// temporaries (the hidden slot of a legacy `catch` block is one of
    /// its temporaries).
    pub frame_slots: u32,
    /// Exception handler regions (see `exceptions.rs`); empty unless the
    /// function catches or delegates.
    pub handlers: Box<[Handler]>,
    /// The collector's view of the frame: at each op that may collect
    /// (calls and allocations), the slots holding traced references.
    /// Empty in a function that has none.
    pub gc_maps: GcMaps,
}

/// Per-pc tables of the frame slots that hold references the collector
/// traces (`docs/gc.md`, "Roots, precisely"). The slots of an op are all
/// reference-typed locals and every live operand-stack value of such a
/// type, including the operands an allocating op is about to store (the
/// handler reads them after the allocation, which may move objects).
#[derive(Debug, Default)]
pub(crate) struct GcMaps {
    /// `(pc, end)`: the slots of the op at `pc` are
    /// `slots[previous end..end]`; sorted by pc.
    pub points: Box<[(u32, u32)]>,
    /// The slots, concatenated.
    pub slots: Box<[Slot]>,
}

impl GcMaps {
    /// The reference slots at the op at `pc` (empty if it has none).
    pub fn at(&self, pc: u32) -> &[Slot] {
        match self.points.binary_search_by_key(&pc, |&(p, _)| p) {
            Ok(i) => {
                let start = if i == 0 { 0 } else { self.points[i - 1].1 };
                &self.slots[start as usize..self.points[i].1 as usize]
            }
            Err(_) => &[],
        }
    }
}

impl InterpFunc {
    /// Heap bytes of the bytecode: ops, offset table and shuffle masks.
    pub fn heap_bytes(&self) -> usize {
        size_of_val(&*self.code)
            + size_of_val(&*self.offsets)
            + size_of_val(&*self.shuffles)
            + size_of_val(&*self.consts)
    }

    /// The wasm offset of the op at `pc`, if recorded.
    pub fn wasm_offset(&self, pc: u32) -> Option<u32> {
        match self.offsets.binary_search_by_key(&pc, |&(p, _)| p) {
            Ok(i) => Some(self.offsets[i].1),
            Err(0) => None,
            Err(i) => Some(self.offsets[i - 1].1),
        }
    }
}

/// Number of slots a value of type `ty` takes.
pub(crate) fn slot_size(ty: ValType) -> u8 {
    if ty == ValType::V128 { 2 } else { 1 }
}

fn wp_slot_size(ty: wasmparser::ValType) -> u8 {
    if ty == wasmparser::ValType::V128 {
        2
    } else {
        1
    }
}

/// A value on the translator's operand stack.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The slot this stack position owns.
    home: Slot,
    /// Where the value is now: `home`, or a local's slot (lazy).
    src: Slot,
    /// 1, or 2 for a `v128`.
    size: u8,
    /// Whether the value is a reference the collector traces.
    gc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtrlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
    /// A `try_table` body.
    TryTable,
    /// A legacy `try` body.
    Try,
    /// A legacy `catch`/`catch_all` block (of the same `try`).
    Catch,
}

/// A control frame of the translator.
#[derive(Debug)]
struct Ctrl {
    kind: CtrlKind,
    /// Operand stack length below the block's parameters.
    height: usize,
    /// Home slot of the first parameter / result.
    base: u32,
    /// Slot sizes of the parameters.
    params: Vec<u8>,
    /// Slot sizes of the results.
    results: Vec<u8>,
    /// Which parameters are traced references.
    params_gc: Vec<bool>,
    /// Which results are traced references.
    results_gc: Vec<bool>,
    /// For loops: the pc of the `LoopHead` (the branch target).
    loop_pc: usize,
    /// Branch ops whose target is this block's end.
    patches: Vec<usize>,
    /// For `if`: the conditional branch to patch to the `else`/end.
    else_patch: Option<usize>,
    /// Whether the rest of this block is unreachable.
    unreachable: bool,
    /// For the try kinds: the handler region of the body.
    region: Option<u32>,
}

impl Ctrl {
    /// Slot sizes of the values a branch to this label carries.
    fn label_sizes(&self) -> &[u8] {
        if self.kind == CtrlKind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

/// Per-function translation state.
pub(crate) struct FuncTranslator<'a> {
    t: &'a ModuleTranslation,
    consume_fuel: bool,
    code: Vec<Op>,
    offsets: Vec<(u32, u32)>,
    shuffles: Vec<[u8; 16]>,
    stack: Vec<Entry>,
    ctrl: Vec<Ctrl>,
    /// `(slot, size, traced reference)` of every local, params first.
    locals: Vec<(Slot, u8, bool)>,
    /// The reference slots at each collecting op so far: `(pc, end)`.
    gc_points: Vec<(u32, u32)>,
    gc_slots: Vec<Slot>,
    /// Operands an allocating op reads after allocating: added to its
    /// reference slots (they are popped before the op is emitted).
    gc_operands: Vec<Slot>,
    temps_base: u32,
    /// First slot of the constant pool (right after the locals).
    pool_base: u32,
    /// Slots reserved for the pool; `pool` never grows past it.
    pool_cap: u32,
    /// Pooled constants: value (an `i32`/`f32` zero-extended), whether it
    /// is 64 bits wide, and how many operand-stack entries read it that
    /// were not folded into an immediate or materialised by a `Const` op
    /// (an upper bound of the ops that read its slot); slot
    /// `pool_base + i` holds entry `i`.
    pool: Vec<(u64, bool, u32)>,
    /// Number of enclosing `loop`s of the operator being translated.
    loops: u32,
    max_slots: u32,
    result_slots: u32,
    num_results: usize,
    /// Wasm offset of the operator being translated.
    offset: u32,
    /// The `Fuel`/`LoopHead` op charging the current region, if metering.
    fuel_site: Option<usize>,
    fuel_count: u32,
    /// Nesting depth of blocks being skipped inside unreachable code.
    skip_depth: u32,
    /// pc of the last emitted label (branch target); ops before it may not
    /// be rewritten by peephole folding.
    last_label: usize,
    /// Exception handler regions being built.
    handlers: exceptions::HandlerBuilder,
}

fn too_big(offset: u32) -> TranslationError {
    TranslationError::unsupported("function frame exceeds 65535 value slots", offset as u64)
}

/// Translates defined function `func_index` of `t`.
///
/// With `validator`, the body has not been validated yet: every local
/// declaration and operator goes through the validator before the
/// translator sees it (the translator relies on valid input), so the body
/// is decoded once for both. Without it, the body must be valid already.
pub(crate) fn translate_function(
    t: &ModuleTranslation,
    func_index: u32,
    consume_fuel: bool,
    mut validator: Option<&mut FuncValidator<ValidatorResources>>,
    scratch: &mut Scratch,
) -> Result<InterpFunc, TranslationError> {
    let mut body = t.function_body_reader(func_index);
    if let Some(v) = validator.as_deref() {
        // Some encodings decode differently per feature (e.g. the reserved
        // zero byte of `memory.grow` is a memory index only with
        // multi-memory): decode with the features being validated against.
        let mut reader = body.get_binary_reader();
        reader.set_features(*v.features());
        body = wasmparser::FunctionBody::new(reader);
    }
    let ty = t.func_type(func_index);
    let mut locals = core::mem::take(&mut scratch.locals);
    locals.clear();
    let mut next: u32 = 0;
    let start_offset = t.body(func_index).range.start as u32;
    for &p in ty.params.iter() {
        let s = slot_size(p);
        locals.push((next as Slot, s, p.is_traced()));
        next += s as u32;
    }
    let param_slots = next;
    let mut locals_reader = body.get_locals_reader()?;
    let mut oversized = false;
    for _ in 0..locals_reader.get_count() {
        let offset = locals_reader.original_position();
        let (count, vt) = locals_reader.read()?;
        if let Some(v) = validator.as_deref_mut() {
            v.define_locals(offset, count, vt)?;
        }
        let s = wp_slot_size(vt) as u32;
        let traced = vt.is_reference_type() && t.convert_val_type(vt, offset)?.is_traced();
        if oversized || u64::from(next) + u64::from(count) * u64::from(s) > u64::from(u16::MAX) {
            oversized = true;
            continue;
        }
        for _ in 0..count {
            locals.push((next as Slot, s as u8, traced));
            next += s;
        }
    }
    if oversized {
        // Too big for this bytecode, but an invalid body must still be
        // reported as invalid: finish validating before saying so.
        if let Some(v) = validator {
            let mut reader = body.get_operators_reader()?;
            while !reader.eof() {
                let (op, offset) = reader.read_with_offset()?;
                v.op(offset, &op)?;
            }
            reader.finish()?;
        }
        return Err(too_big(start_offset));
    }
    let locals_end = next;
    let results: Vec<u8> = ty.results.iter().map(|&r| slot_size(r)).collect();
    let results_gc: Vec<bool> = ty.results.iter().map(|r| r.is_traced()).collect();
    let result_slots: u32 = results.iter().map(|&s| s as u32).sum();
    // The constant pool follows the locals. Its size must be fixed before
    // the first temporary gets a home, so it is guessed from the body's
    // length: a slot per 32 bytes of code, at most `MAX_POOL`. Unused
    // slots cost frame space only; entry copies just the constants used.
    let body_len = t.body(func_index).range.len() as u32;
    let pool_cap = (body_len / 32).min(MAX_POOL);
    // The call record sits between the locals, pool and results and the
    // temporaries, where no callee's frame reaches: callees start at an
    // argument's home, a temporary.
    let record_slot = (locals_end + pool_cap).max(result_slots);
    let temps_base = record_slot + crate::exec::RECORD_SLOTS as u32;
    let mut ft = FuncTranslator {
        t,
        consume_fuel,
        code: core::mem::take(&mut scratch.code),
        offsets: core::mem::take(&mut scratch.offsets),
        shuffles: core::mem::take(&mut scratch.shuffles),
        stack: core::mem::take(&mut scratch.stack),
        ctrl: core::mem::take(&mut scratch.ctrl),
        locals,
        gc_points: core::mem::take(&mut scratch.gc_points),
        gc_slots: core::mem::take(&mut scratch.gc_slots),
        gc_operands: Vec::new(),
        temps_base,
        pool_base: locals_end,
        pool_cap,
        pool: core::mem::take(&mut scratch.pool),
        loops: 0,
        max_slots: temps_base,
        result_slots,
        num_results: results.len(),
        offset: start_offset,
        fuel_site: None,
        fuel_count: 0,
        skip_depth: 0,
        last_label: 0,
        handlers: core::mem::take(&mut scratch.handlers),
    };
    ft.handlers.clear();
    ft.pool.clear();
    let func_ctrl = Ctrl {
        kind: CtrlKind::Func,
        height: 0,
        base: temps_base,
        params: Vec::new(),
        results,
        params_gc: Vec::new(),
        results_gc,
        loop_pc: 0,
        patches: Vec::new(),
        else_patch: None,
        unreachable: false,
        region: None,
    };
    // Buffers come back from the previous function's translation in
    // whatever state it left them.
    ft.code.clear();
    ft.offsets.clear();
    ft.shuffles.clear();
    ft.stack.clear();
    ft.ctrl.clear();
    ft.gc_points.clear();
    ft.gc_slots.clear();
    ft.ctrl.push(func_ctrl);
    // Fills the pool; removed at the end if nothing was pooled. It comes
    // before the first fuel region.
    ft.emit(Op::InitConsts);
    ft.start_region();
    let mut reader = body.get_operators_reader()?;
    let validating = validator.is_some();
    let mut step = decode::Step {
        ft: &mut ft,
        validator,
        offset: 0,
    };
    while !reader.eof() {
        step.offset = reader.original_position();
        reader.visit_operator(&mut step)??;
    }
    if validating {
        // Trailing bytes or unclosed blocks; valid bodies never have them.
        reader.finish()?;
    }
    ft.finish_region();
    ft.finish_code();
    if ft.max_slots > u16::MAX as u32 {
        return Err(too_big(start_offset));
    }
    // Exact-size copies; the buffers go back for the next function.
    // Constants that ended up folded into immediates are not read: the
    // pool keeps what precedes its last read constant. A function whose
    // pool nothing reads loses its `InitConsts` op (and every pc moves
    // down by one), so it pays nothing for the pool, in time or bytes.
    let used = ft.pool.iter().rposition(|&(_, _, refs)| refs > 0);
    ft.pool.truncate(used.map_or(0, |i| i + 1));
    if ft.pool.is_empty() {
        ft.drop_init_consts();
    }
    let func = InterpFunc {
        code: ft.code.as_slice().into(),
        offsets: ft.offsets.as_slice().into(),
        shuffles: ft.shuffles.as_slice().into(),
        func_index,
        param_slots,
        local_slots: locals_end - param_slots,
        consts: ft.pool.iter().map(|&(v, _, _)| v).collect(),
        record_slot,
        frame_slots: ft.max_slots,
        handlers: ft.handlers.regions.as_slice().into(),
        gc_maps: GcMaps {
            points: ft.gc_points.as_slice().into(),
            slots: ft.gc_slots.as_slice().into(),
        },
    };
    *scratch = Scratch {
        code: ft.code,
        offsets: ft.offsets,
        shuffles: ft.shuffles,
        stack: ft.stack,
        ctrl: ft.ctrl,
        locals: ft.locals,
        handlers: ft.handlers,
        pool: ft.pool,
        gc_points: ft.gc_points,
        gc_slots: ft.gc_slots,
    };
    Ok(func)
}

/// The translator's working buffers, kept from one function to the next
/// so that translating a module allocates, per function, little more than
/// the final bytecode.
#[derive(Default)]
pub(crate) struct Scratch {
    code: Vec<Op>,
    offsets: Vec<(u32, u32)>,
    shuffles: Vec<[u8; 16]>,
    stack: Vec<Entry>,
    ctrl: Vec<Ctrl>,
    locals: Vec<(Slot, u8, bool)>,
    handlers: exceptions::HandlerBuilder,
    pool: Vec<(u64, bool, u32)>,
    gc_points: Vec<(u32, u32)>,
    gc_slots: Vec<Slot>,
}

/// Most slots a function's constant pool takes.
const MAX_POOL: u32 = 8;

impl FuncTranslator<'_> {
    fn is_unreachable(&self) -> bool {
        self.ctrl.last().is_none_or(|c| c.unreachable)
    }

    /// Handles an operator inside unreachable code: only block structure
    /// matters until the enclosing `else`/`end`.
    fn skip(&mut self, op: &wasmparser::Operator<'_>) {
        use wasmparser::Operator as O;
        match op {
            O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::TryTable { .. }
            | O::Try { .. } => self.skip_depth += 1,
            O::Else if self.skip_depth == 0 => self.visit_else(),
            O::Catch { tag_index } if self.skip_depth == 0 => self.visit_catch(Some(*tag_index)),
            O::CatchAll if self.skip_depth == 0 => self.visit_catch(None),
            O::Delegate { relative_depth } if self.skip_depth == 0 => {
                self.visit_delegate(*relative_depth)
            }
            O::End if self.skip_depth == 0 => self.visit_end(),
            O::End | O::Delegate { .. } => self.skip_depth -= 1,
            _ => {}
        }
    }

    fn pc(&self) -> usize {
        self.code.len()
    }

    /// Appends `op`, recording its wasm offset if it can trap or call,
    /// and the frame's reference slots if it may collect.
    fn emit(&mut self, op: Op) -> usize {
        let pc = self.code.len();
        if op.needs_offset() {
            self.offsets.push((pc as u32, self.offset));
        }
        if op.may_collect() {
            self.record_gc_point(pc as u32);
        }
        self.code.push(op);
        pc
    }

    /// Records the reference slots live at the collecting op at `pc`:
    /// reference locals, traced operand-stack values (where they are read
    /// from: a lazy one's local or its home) and the pending
    /// [`gc_operands`](Self::gc_operands).
    fn record_gc_point(&mut self, pc: u32) {
        let start = self.gc_slots.len();
        let locals = self.locals.iter().filter(|l| l.2).map(|l| l.0);
        let stack = self.stack.iter().filter(|e| e.gc).map(|e| e.src);
        self.gc_slots.extend(locals.chain(stack));
        self.gc_slots.append(&mut self.gc_operands);
        self.gc_slots[start..].sort_unstable();
        let mut n = start;
        for i in start..self.gc_slots.len() {
            if n == start || self.gc_slots[n - 1] != self.gc_slots[i] {
                self.gc_slots[n] = self.gc_slots[i];
                n += 1;
            }
        }
        self.gc_slots.truncate(n);
        if n > start {
            self.gc_points.push((pc, n as u32));
        }
    }

    /// Sets whether the value on top of the operand stack is a traced
    /// reference.
    fn set_top_gc(&mut self, gc: bool) {
        if let Some(e) = self.stack.last_mut() {
            e.gc = gc;
        }
    }

    /// The home slot of the next pushed value.
    fn next_home(&self) -> u32 {
        self.stack
            .last()
            .map(|e| e.home as u32 + e.size as u32)
            .unwrap_or(self.temps_base)
    }

    /// Pushes a value computed into its home slot; returns that slot.
    fn push_temp(&mut self, size: u8) -> Slot {
        let home = self.next_home();
        let end = home + size as u32;
        self.max_slots = self.max_slots.max(end);
        // A slot past the frame's limit is clamped so translation can go
        // on; `max_slots` already exceeds the limit, so the function is
        // refused at the end. Only out-of-range slots are clamped: moving
        // an in-range one would alias it with the value below.
        let home = if end <= u16::MAX as u32 {
            home
        } else {
            u16::MAX as u32 - 2
        } as Slot;
        self.stack.push(Entry {
            home,
            src: home,
            size,
            gc: false,
        });
        home
    }

    /// Pushes a lazy reference to the value in slot `src`.
    fn push_lazy(&mut self, src: Slot, size: u8) {
        let home = self.push_temp(size);
        self.stack.last_mut().unwrap().src = src;
        let _ = home;
    }

    fn pop(&mut self) -> Entry {
        self.stack.pop().expect("validated wasm never underflows")
    }

    fn copy_op(dst: Slot, src: Slot, size: u8) -> Op {
        if size == 2 {
            Op::Copy2(crate::bytecode::Un { dst, src })
        } else {
            Op::Copy(crate::bytecode::Un { dst, src })
        }
    }

    /// Moves stack entry `i` into its home slot if it is lazy. A pooled
    /// constant is written there by a `Const` op, as if it had never been
    /// pooled, so the folds that look for a `Const` op still see it.
    fn materialize(&mut self, i: usize) {
        let e = self.stack[i];
        if e.src != e.home {
            match self.pooled(e) {
                Some((value, is64)) => {
                    self.unref_pooled(e);
                    self.emit_const(e.home, value, is64)
                }
                None => self.emit_copy(e.home, e.src, e.size),
            }
            self.stack[i].src = e.home;
        }
    }

    /// Emits a `Const32`/`Const64` writing `value` to `dst`.
    fn emit_const(&mut self, dst: Slot, value: u64, is64: bool) {
        self.emit(if is64 {
            Op::Const64 { dst, value }
        } else {
            Op::Const32 {
                dst,
                value: value as u32,
            }
        });
    }

    /// Pushes a constant (an `i32`/`f32` zero-extended; `is64` for the
    /// 64-bit types). Inside a loop it becomes a lazy read of a pool slot,
    /// filled once per call instead of once per iteration; elsewhere, or
    /// with the pool full, a `Const` op writes it to its home.
    fn push_const(&mut self, value: u64, is64: bool) {
        if self.loops > 0 && !self.is_unreachable() {
            let found = self
                .pool
                .iter()
                .position(|&(v, w, _)| (v, w) == (value, is64));
            let index = match found {
                Some(i) => Some(i),
                None if (self.pool.len() as u32) < self.pool_cap => {
                    self.pool.push((value, is64, 0));
                    Some(self.pool.len() - 1)
                }
                None => None,
            };
            if let Some(i) = index {
                self.pool[i].2 += 1;
                self.push_lazy((self.pool_base + i as u32) as Slot, 1);
                return;
            }
        }
        let dst = self.push_temp(1);
        self.emit_const(dst, value, is64);
    }

    /// The pool index of the constant entry `e` reads, if it reads one.
    fn pool_index(&self, e: Entry) -> Option<usize> {
        let i = (e.src as u32).checked_sub(self.pool_base)? as usize;
        (e.src != e.home && i < self.pool.len()).then_some(i)
    }

    /// The constant entry `e` reads from the pool, if it does.
    fn pooled(&self, e: Entry) -> Option<(u64, bool)> {
        self.pool_index(e).map(|i| (self.pool[i].0, self.pool[i].1))
    }

    /// Notes that pooled entry `e` will not be read from its pool slot
    /// (its value was folded into an op, or written by a `Const` op).
    fn unref_pooled(&mut self, e: Entry) {
        if let Some(i) = self.pool_index(e) {
            self.pool[i].2 -= 1;
        }
    }

    /// Removes the `InitConsts` op at pc 0: every pc after it moves down
    /// by one. Branch offsets are relative, so only the absolute pcs move:
    /// the offset table and the exception regions.
    fn drop_init_consts(&mut self) {
        debug_assert!(matches!(self.code.first(), Some(Op::InitConsts)));
        self.code.remove(0);
        for (pc, _) in self.offsets.iter_mut() {
            *pc -= 1;
        }
        for (pc, _) in self.gc_points.iter_mut() {
            *pc -= 1;
        }
        for h in self.handlers.regions.iter_mut() {
            h.start -= 1;
            h.end -= 1;
            for c in h.catches.iter_mut() {
                c.pad -= 1;
            }
        }
    }

    /// Materialises the top `n` entries.
    fn materialize_top(&mut self, n: usize) {
        let len = self.stack.len();
        for i in len - n..len {
            self.materialize(i);
        }
    }

    /// Materialises every entry (block entry: a later copy in a
    /// conditionally executed arm must not be what makes a value valid).
    fn materialize_all(&mut self) {
        for i in 0..self.stack.len() {
            self.materialize(i);
        }
    }

    /// Materialises every entry still reading local slot `slot`, before
    /// that local is overwritten.
    fn materialize_local(&mut self, slot: Slot) {
        for i in 0..self.stack.len() {
            if self.stack[i].src == slot && self.stack[i].src != self.stack[i].home {
                self.materialize(i);
            }
        }
    }

    /// Starts a new straight-line fuel region at the current pc (a label).
    fn start_region(&mut self) {
        self.last_label = self.pc();
        if self.consume_fuel {
            self.finish_region();
            let pc = self.emit(Op::Fuel { amount: 0 });
            self.fuel_site = Some(pc);
        }
    }

    /// Writes the instruction count of the region just ended into its
    /// charging op.
    fn finish_region(&mut self) {
        if let Some(site) = self.fuel_site.take() {
            let n = core::mem::take(&mut self.fuel_count);
            match &mut self.code[site] {
                Op::Fuel { amount } => *amount = n,
                Op::LoopHead { fuel } => *fuel = n,
                _ => unreachable!("fuel site is a Fuel or LoopHead op"),
            }
        }
    }

    /// Replaces the `Br` at `pc`, if its target is a return op or a
    /// conditional branch, by a copy of that op (the branch's copy falling
    /// through to the op after the original): both read only frame slots,
    /// so executing them at the `Br` is equivalent and saves a dispatch.
    /// The copy is of the target's base form: an accumulator form reads
    /// the result of the op before the original, not of the one before
    /// the copy.
    fn thread_jump(&mut self, pc: usize) {
        let Op::Br { offset } = self.code[pc] else {
            return;
        };
        let target = (pc as i64 + 1 + offset as i64) as usize;
        let mut op = self.code[target].base_form();
        if let Op::Return | Op::Return1 { .. } = op {
            self.code[pc] = op;
            return;
        }
        // A jump to a test (the loop back-edge `br` of LLVM's loops,
        // whose header tests the exit condition) becomes a copy of the
        // test that falls through to the op after it: one op run per
        // iteration instead of two. Not when metering fuel, where the
        // test may be a region's first op and charge for it; and only
        // for a test that is not a threaded copy itself.
        if self.consume_fuel {
            return;
        }
        let Some((taken, fallthrough)) = op.cond_branch_targets_mut() else {
            return;
        };
        let next = pc as i64 + 1;
        let Ok(new_fallthrough) = i16::try_from(target as i64 + 1 - next) else {
            return;
        };
        if *fallthrough != 0 {
            return;
        }
        let taken_target = target as i64 + 1 + i64::from(*taken);
        *taken = (taken_target - next) as i32;
        *fallthrough = new_fallthrough;
        self.code[pc] = op;
    }

    /// Points the branch at `pc` to `target`.
    fn patch(&mut self, pc: usize, target: usize) {
        let rel = target as i64 - (pc as i64 + 1);
        let rel = rel as i32;
        match self.code[pc].branch_offset_mut() {
            Some(offset) => *offset = rel,
            None => unreachable!("patching a non-branch"),
        }
    }
}
