//! The wasm → CLIF translator for one function body.
//!
//! [`translate_function`] reads a validated body with wasmparser's operator
//! reader and builds a Cranelift function with `cranelift-frontend`: wasm
//! locals become frontend `Variable`s, the operand stack is a `Vec<Value>`,
//! and structured control flow becomes CLIF blocks whose parameters carry
//! the values a branch passes. The operator families live in sibling
//! modules (`control`, `memory`, `table`, `call`, `numeric`, and `simd`,
//! which the SIMD translation owns); this module holds the shared state,
//! the dispatch, locals, globals and the prologue checks. Every trap goes
//! through `traps`, which emits a trap instruction or a call to the `trap`
//! builtin according to the engine's trap mode.
//!
//! Every body is validated by `kiln-environ` before it reaches here, so the
//! translator trusts stack shapes and indices; anything it cannot translate
//! is a [`CompileError::Unsupported`] naming the operator.

mod call;
mod control;
mod exceptions;
mod gc;
mod memory;
mod numeric;
pub(crate) mod relaxed;
pub(crate) mod simd;
mod stack_maps;
mod table;
mod traps;

use crate::CompileError;
use cranelift_codegen::ir::{
    self, AbiParam, AliasRegion, AliasRegionData, ArgumentPurpose, Endianness, InstBuilder,
    MemFlagsData, Signature, SourceLoc, Type, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use kiln_environ::{Builtin, FuncType, ModuleTranslation, Tunables, VMOffsets, ValType};
use wasmparser::Operator;

/// User external-name namespace of direct calls to wasm functions; the
/// index is the callee's function index.
pub(crate) const NS_WASM_FUNC: u32 = 0;
/// User external-name namespace of calls to builtin trampolines; the index
/// is [`Builtin::index`].
pub(crate) const NS_BUILTIN: u32 = 1;

/// Kiln's trap codes as Cranelift user trap codes. Cranelift's own reserved
/// codes cover stack overflow, heap out of bounds, integer overflow,
/// division by zero and bad conversions.
pub(crate) mod trap {
    use cranelift_codegen::ir::TrapCode;

    /// `unreachable`.
    pub const UNREACHABLE: TrapCode = TrapCode::unwrap_user(1);
    /// Table access out of bounds.
    pub const TABLE_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(2);
    /// `call_indirect` index past the table's end.
    pub const UNDEFINED_ELEMENT: TrapCode = TrapCode::unwrap_user(3);
    /// `call_indirect` of a null entry.
    pub const INDIRECT_CALL_TO_NULL: TrapCode = TrapCode::unwrap_user(4);
    /// `call_indirect` signature mismatch.
    pub const BAD_SIGNATURE: TrapCode = TrapCode::unwrap_user(5);
    /// Null reference.
    pub const NULL_REFERENCE: TrapCode = TrapCode::unwrap_user(6);
    /// Fuel exhausted.
    pub const OUT_OF_FUEL: TrapCode = TrapCode::unwrap_user(7);
    /// Interrupted.
    pub const INTERRUPT: TrapCode = TrapCode::unwrap_user(8);
    /// `ref.cast` failure.
    pub const CAST_FAILURE: TrapCode = TrapCode::unwrap_user(9);
    /// Array access out of bounds.
    pub const ARRAY_OUT_OF_BOUNDS: TrapCode = TrapCode::unwrap_user(10);
    /// GC heap exhausted.
    pub const GC_HEAP_OUT_OF_MEMORY: TrapCode = TrapCode::unwrap_user(11);

    /// The Cranelift trap code the translator uses for Kiln's `code`.
    pub fn to_clif(code: kiln_environ::TrapCode) -> TrapCode {
        use kiln_environ::TrapCode as K;
        match code {
            K::StackOverflow => TrapCode::STACK_OVERFLOW,
            K::MemoryOutOfBounds => TrapCode::HEAP_OUT_OF_BOUNDS,
            K::IntegerOverflow => TrapCode::INTEGER_OVERFLOW,
            K::IntegerDivisionByZero => TrapCode::INTEGER_DIVISION_BY_ZERO,
            K::BadConversionToInteger => TrapCode::BAD_CONVERSION_TO_INTEGER,
            K::UnreachableCodeReached => UNREACHABLE,
            K::TableOutOfBounds => TABLE_OUT_OF_BOUNDS,
            K::UndefinedElement => UNDEFINED_ELEMENT,
            K::IndirectCallToNull => INDIRECT_CALL_TO_NULL,
            K::BadSignature => BAD_SIGNATURE,
            K::NullReference => NULL_REFERENCE,
            K::OutOfFuel => OUT_OF_FUEL,
            K::Interrupt => INTERRUPT,
            K::CastFailure => CAST_FAILURE,
            K::ArrayOutOfBounds => ARRAY_OUT_OF_BOUNDS,
            K::GcHeapOutOfMemory => GC_HEAP_OUT_OF_MEMORY,
            // `TrapCode` is non-exhaustive: a code added later without a
            // Cranelift counterpart reads as `unreachable`.
            _ => UNREACHABLE,
        }
    }

    /// Maps a Cranelift trap code from a compiled function back to Kiln's.
    pub fn to_kiln(code: TrapCode) -> Option<kiln_environ::TrapCode> {
        use kiln_environ::TrapCode as K;
        Some(match code {
            TrapCode::STACK_OVERFLOW => K::StackOverflow,
            TrapCode::HEAP_OUT_OF_BOUNDS => K::MemoryOutOfBounds,
            TrapCode::INTEGER_OVERFLOW => K::IntegerOverflow,
            TrapCode::INTEGER_DIVISION_BY_ZERO => K::IntegerDivisionByZero,
            TrapCode::BAD_CONVERSION_TO_INTEGER => K::BadConversionToInteger,
            UNREACHABLE => K::UnreachableCodeReached,
            TABLE_OUT_OF_BOUNDS => K::TableOutOfBounds,
            UNDEFINED_ELEMENT => K::UndefinedElement,
            INDIRECT_CALL_TO_NULL => K::IndirectCallToNull,
            BAD_SIGNATURE => K::BadSignature,
            NULL_REFERENCE => K::NullReference,
            OUT_OF_FUEL => K::OutOfFuel,
            INTERRUPT => K::Interrupt,
            CAST_FAILURE => K::CastFailure,
            ARRAY_OUT_OF_BOUNDS => K::ArrayOutOfBounds,
            GC_HEAP_OUT_OF_MEMORY => K::GcHeapOutOfMemory,
            _ => return None,
        })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn every_kiln_code_round_trips() {
            for code in kiln_environ::TrapCode::ALL {
                assert_eq!(super::to_kiln(super::to_clif(*code)), Some(*code));
            }
        }
    }
}

/// What the translator needs to know about the module and the target,
/// shared by every function of one compilation.
pub(crate) struct ModuleEnv<'a> {
    /// The module.
    pub module: &'a ModuleTranslation,
    /// Its `VMContext` layout for the target's pointer size.
    pub offsets: VMOffsets,
    /// Code-generation settings shared with the runtime.
    pub tunables: Tunables,
    /// The target's pointer type.
    pub pointer_type: Type,
    /// Whether the target rounds floats natively (`ceil`, `floor`,
    /// `trunc`, `nearest`); x86-64 needs SSE4.1 for it.
    pub native_rounding: bool,
    /// Whether the target is little-endian (globals and table elements are
    /// stored in native byte order).
    pub little_endian: bool,
    /// The target's C calling convention, for builtins and the array
    /// convention.
    pub host_call_conv: CallConv,
    /// Whether a frame's handle for the runtime's frame walks is its stack
    /// pointer rather than its frame pointer: on s390x, whose frames link
    /// through a backchain stored at the stack pointer (see the runtime's
    /// `sys/arch/s390x.rs`).
    pub frame_handle_is_sp: bool,
    /// How the C convention wants 32-bit integer arguments of builtins
    /// widened to a register: zero-extended on s390x (the runtime's
    /// builtins take `u32`, and its ABI leaves widening to the caller),
    /// sign-extended on riscv64 (its ABI sign-extends every 32-bit value,
    /// unsigned ones included), not at all on x86-64 and aarch64, where
    /// the callee ignores the upper bits.
    pub i32_arg_extension: ir::ArgumentExtension,
    /// What the frontend needs to know about the target.
    pub frontend_config: cranelift_codegen::isa::TargetFrontendConfig,
    /// What the target offers relaxed SIMD.
    pub relaxed: relaxed::RelaxedCaps,
}

/// The CLIF type that holds a wasm value of type `ty`.
///
/// References are their 64-bit bits on every target (the same bits tables,
/// globals and value slots hold); `v128` is `I8X16` by convention with the
/// SIMD translation.
pub(crate) fn clif_type(ty: ValType) -> Type {
    match ty {
        ValType::I32 => types::I32,
        ValType::I64 | ValType::Ref(_) => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
    }
}

/// The native wasm calling convention: `(callee_vmctx, caller_vmctx,
/// params…) -> results`, Cranelift's `tail` convention (so `return_call`
/// works between any two wasm functions).
pub(crate) fn wasm_signature(pointer_type: Type, ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(pointer_type, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(pointer_type));
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// The signature of an on-stack-replacement entry of a function of type
/// `ty`: `(callee_vmctx, caller_vmctx, locals, operands) -> results`, in
/// the wasm convention.
pub(crate) fn osr_signature(pointer_type: Type, ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(pointer_type, ArgumentPurpose::VMContext));
    sig.params
        .extend([pointer_type; 3].iter().map(|&t| AbiParam::new(t)));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(clif_type(*t))));
    sig
}

/// The signature compiled code calls a builtin's stub with: the builtin's
/// own, except that the stub of one that raises exceptions uses the wasm
/// calling convention (`Tail`), whose exceptional edges Cranelift treats as
/// clobbering every register, as the unwinder requires (it restores no
/// register but the stack and frame pointers).
pub(crate) fn stub_signature(env: &ModuleEnv<'_>, builtin: Builtin) -> Signature {
    let mut sig = builtin_signature(env, builtin);
    if builtin.raises_exceptions() {
        sig.call_conv = CallConv::Tail;
    }
    sig
}

/// The C signature of a builtin (and of its trampoline).
pub(crate) fn builtin_signature(env: &ModuleEnv<'_>, builtin: Builtin) -> Signature {
    use kiln_environ::BuiltinType as B;
    let ty = |t: B| match t {
        B::VmCtx | B::Ptr => env.pointer_type,
        B::I32 => types::I32,
        B::I64 => types::I64,
        B::F32 => types::F32,
        B::F64 => types::F64,
    };
    let s = builtin.signature();
    let mut sig = Signature::new(env.host_call_conv);
    let param = |t: B| {
        let mut p = AbiParam::new(ty(t));
        if t == B::I32 {
            p.extension = env.i32_arg_extension;
        }
        p
    };
    sig.params.extend(s.params.iter().map(|t| param(*t)));
    sig.returns.extend(s.result.map(param));
    sig
}

/// A translated function: its CLIF and the builtins it calls.
pub(crate) struct TranslatedFunction {
    /// The function, ready for `cranelift_codegen::Context`.
    pub func: ir::Function,
    /// Which builtins it calls (their trampolines must be in the image).
    pub builtins: Vec<Builtin>,
}

/// Alias regions, so Cranelift's alias analysis knows heap stores do not
/// change `VMContext` fields or table contents, and stores to mutable
/// globals do not change memory and table records.
#[derive(Clone, Copy)]
pub(crate) struct Regions {
    /// The `VMContext`, the runtime limits and other runtime-owned fields.
    pub vmctx: AliasRegion,
    pub heap: AliasRegion,
    pub table: AliasRegion,
    /// Memory and table records (`base`, `len`).
    pub records: AliasRegion,
    /// Global cells.
    pub globals: AliasRegion,
}

/// What kind of runtime-owned field a load or store touches, which decides
/// its flags ([`Translator::vm_flags`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Field {
    /// Constant for the instance's life and always readable: `VMContext`
    /// fields, the signature-id array, immutable globals, and a memory's
    /// base under guard pages.
    Const,
    /// Constant, but readable only after an earlier check.
    Readonly,
    /// A memory or table record's `base` or `len`, which only the runtime
    /// changes (on growth, inside a call).
    Record,
    /// A mutable global's cell.
    Global,
    /// The store's runtime limits (fuel counter, interrupt flag), which
    /// the runtime or another thread may change at any time.
    Limits,
}

/// Translation state of one function.
pub(crate) struct Translator<'a, 'f> {
    pub env: &'a ModuleEnv<'a>,
    pub builder: FunctionBuilder<'f>,
    /// The wasm operand stack.
    pub stack: Vec<Value>,
    /// Open control frames, innermost last.
    pub control: Vec<control::Frame>,
    /// Each wasm local's variable and type.
    pub locals: Vec<(Variable, ValType)>,
    /// This function's `VMContext` (its first parameter).
    pub vmctx: Value,
    /// Whether the current position can execute. Code after `br`,
    /// `return`, `unreachable`… is skipped until the enclosing `else`/`end`.
    pub reachable: bool,
    /// Depth of blocks opened inside unreachable code (skipped entirely).
    pub unreachable_depth: u32,
    /// Wasm operators run since fuel was last charged.
    pub fuel_pending: i64,
    /// Whether the straight-line code since the current CLIF block began
    /// (every block start counts as a join, conservatively) called a wasm
    /// function of this module, whose entry polls the interrupt flag: a
    /// loop back-edge here needs no poll of its own.
    pub interrupt_polled: bool,
    pub regions: Regions,
    pub builtins_used: Vec<Builtin>,
    /// Values that define a traced reference (`stack_maps.rs`).
    pub gc_seeds: Vec<Value>,
    /// Without signals-based traps: the function's trap block for each
    /// trap code it uses (see `traps.rs`), filled once the body is done.
    pub trap_blocks: Vec<(kiln_environ::TrapCode, ir::Block)>,
    /// Without signals-based traps: memory bases and lengths loaded since
    /// the last call or join (see [`HeapCache`]).
    pub heap_cache: HeapCache,
    /// Exception handler scopes, innermost last (see `exceptions.rs`).
    pub eh: Vec<exceptions::EhScope>,
    /// When translating an on-stack-replacement entry: where it enters.
    pub osr: Option<OsrEntry>,
}

/// An on-stack-replacement entry being translated (see
/// [`translate_function`]).
pub(crate) struct OsrEntry {
    /// Wasm byte offset of the `loop` operator it enters at.
    loop_offset: u32,
    /// The block, so far empty, that the entry block jumps to: it loads
    /// the operand stack once the translation reaches the loop and knows
    /// its types.
    dispatch: ir::Block,
    /// The baseline frame's operand slots (the third parameter is its
    /// locals, read in the entry block).
    operands: Value,
    /// Whether the loop was reached.
    spliced: bool,
}

/// A field of a memory record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HeapField {
    /// `base`.
    Base,
    /// `len`.
    Len,
}

/// Memory record fields loaded in straight-line code, reused by later
/// accesses instead of loaded again.
///
/// Cranelift's alias analysis does this by itself within a block, but
/// not reliably across the blocks that signal-free bounds checks split
/// the code into: in a loop, the block after a check takes a merged memory
/// state from its visits before and after the back-edge and loses the
/// earlier load, so every access would reload `base` and `len`. The
/// translator knows better: a record changes only inside a call (growth
/// is a builtin), and the block after a check has the block before it as
/// its only predecessor, so a value loaded there is still current. The
/// cache is emptied at every call and every switch to a block that may
/// have other predecessors (`Translator::switch_to`), so whatever it
/// holds dominates the code using it.
#[derive(Default)]
pub(crate) struct HeapCache {
    entries: Vec<(u32, HeapField, Value)>,
}

impl HeapCache {
    /// The value of `field` of memory `mem`, if loaded since the last
    /// call or join.
    pub fn get(&self, mem: u32, field: HeapField) -> Option<Value> {
        self.entries
            .iter()
            .find(|(m, f, _)| *m == mem && *f == field)
            .map(|(_, _, v)| *v)
    }

    /// Records `v` as the value of `field` of memory `mem`.
    pub fn insert(&mut self, mem: u32, field: HeapField, v: Value) {
        self.entries.push((mem, field, v));
    }

    /// Forgets everything (at a call or a join).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Translates defined function `func_index` of `env.module` to CLIF.
///
/// With `osr` set, translates its on-stack-replacement entry at the loop
/// at that wasm byte offset instead: a function `(callee_vmctx,
/// caller_vmctx, locals, operands) -> results` whose entry block reads the
/// locals from the baseline frame and jumps to a *dispatch* block. The
/// body is translated as usual from a start block nothing jumps to (so
/// Cranelift drops it), which builds the control frames around the loop;
/// when the translation reaches the loop, both paths meet in a block whose
/// parameters are the operand stack, the dispatch block filling them from
/// the frame's operand slots. From there on the code is the function's
/// own. Layout of the frame: `docs/native-abi.md`, "Tiering".
pub(crate) fn translate_function(
    env: &ModuleEnv<'_>,
    func_index: u32,
    osr: Option<u32>,
    fb_ctx: &mut FunctionBuilderContext,
) -> Result<TranslatedFunction, CompileError> {
    let module = env.module;
    let ty = module.func_type(func_index);
    let sig = match osr {
        None => wasm_signature(env.pointer_type, ty),
        Some(_) => osr_signature(env.pointer_type, ty),
    };
    let name = ir::UserFuncName::user(NS_WASM_FUNC, func_index);
    let mut func = ir::Function::with_name_signature(name, sig);
    let mut region = |id: u32, description: &'static str| {
        func.dfg.alias_regions.insert(AliasRegionData {
            user_id: id,
            description: description.into(),
        })
    };
    let regions = Regions {
        vmctx: region(0, "vmctx"),
        heap: region(1, "heap"),
        table: region(2, "table"),
        records: region(3, "records"),
        globals: region(4, "globals"),
    };

    let body = module.function_body_reader(func_index);
    let builder = FunctionBuilder::new(&mut func, fb_ctx);
    let mut t = Translator {
        env,
        builder,
        stack: Vec::new(),
        control: Vec::new(),
        locals: Vec::new(),
        vmctx: Value::from_u32(0), // set by the prologue
        reachable: true,
        unreachable_depth: 0,
        eh: Vec::new(),
        fuel_pending: 0,
        interrupt_polled: false,
        regions,
        builtins_used: Vec::new(),
        gc_seeds: Vec::new(),
        trap_blocks: Vec::new(),
        heap_cache: HeapCache::default(),
        osr: None,
    };
    match osr {
        None => t.prologue(ty, &body)?,
        Some(at) => t.osr_prologue(ty, &body, at)?,
    }
    let mut reader = body.get_operators_reader().map_err(parse_error)?;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read().map_err(parse_error)?;
        t.builder.set_srcloc(SourceLoc::new(offset as u32));
        if let Some(o) = &t.osr
            && o.loop_offset == offset as u32
            && t.reachable
            && matches!(op, Operator::Loop { .. })
        {
            t.osr_splice();
        }
        t.translate_op(&op)?;
    }
    if t.osr.as_ref().is_some_and(|o| !o.spliced) {
        return Err(CompileError::Unsupported(format!(
            "on-stack replacement into wasm function {func_index}: no reachable loop at offset {}",
            osr.unwrap_or(0)
        )));
    }
    t.finish_traps();
    t.builder.seal_all_blocks();
    t.declare_gc_values();
    let builtins = core::mem::take(&mut t.builtins_used);
    t.builder.finalize(env.frontend_config);
    Ok(TranslatedFunction { func, builtins })
}

/// Whether `body` calls a wasm function (or a host function through an
/// import or a table).
///
/// Signal-free code checks the stack only in such functions. A function
/// that calls none cannot recurse: its own frame (at most
/// `SIGNAL_FREE_MAX_FRAME`), and the builtins it may call, which never
/// call wasm, fit in the reserve the runtime keeps below the stack limit,
/// from wherever its checked caller was. Cranelift's own prologue check
/// likewise leaves out leaf functions without a frame.
fn calls_wasm(body: &wasmparser::FunctionBody<'_>) -> Result<bool, CompileError> {
    let mut reader = body.get_operators_reader().map_err(parse_error)?;
    while !reader.eof() {
        match reader.read().map_err(parse_error)? {
            Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. } => return Ok(true),
            _ => {}
        }
    }
    Ok(false)
}

pub(crate) fn parse_error(e: wasmparser::BinaryReaderError) -> CompileError {
    CompileError::Wasm(e.to_string())
}

impl<'a, 'f> Translator<'a, 'f> {
    /// Entry block, locals, stack-limit check, fuel and interrupt checks,
    /// and the outermost control frame.
    fn prologue(
        &mut self,
        ty: &FuncType,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<(), CompileError> {
        let params = self.entry_block();

        if self.env.tunables.signals_based_traps {
            self.prologue_stack_limit()?;
        } else if calls_wasm(body)? {
            self.stack_check();
        }

        // Locals: parameters first, then the declared ones, zeroed.
        for (i, p) in ty.params.iter().enumerate() {
            let var = self.builder.declare_var(clif_type(*p));
            if p.is_traced() {
                self.mark_gc(params[i + 2]);
            }
            self.builder.def_var(var, params[i + 2]);
            self.locals.push((var, *p));
        }
        for vty in self.declared_locals(body)? {
            let var = self.builder.declare_var(clif_type(vty));
            let zero = self.zero(vty);
            self.builder.def_var(var, zero);
            self.locals.push((var, vty));
        }

        self.fuel_check();
        self.interrupt_poll();

        self.push_function_frame(ty);
        Ok(())
    }

    /// The prologue of an on-stack-replacement entry at the loop at wasm
    /// offset `at` (see [`translate_function`]): locals from the frame, a
    /// jump to the dispatch block, and a start block for the body that
    /// nothing reaches.
    fn osr_prologue(
        &mut self,
        ty: &FuncType,
        body: &wasmparser::FunctionBody<'_>,
        at: u32,
    ) -> Result<(), CompileError> {
        let params = self.entry_block();
        let (frame_locals, operands) = (params[2], params[3]);
        if self.env.tunables.signals_based_traps {
            self.prologue_stack_limit()?;
        } else {
            self.stack_check();
        }
        let mut types: Vec<ValType> = ty.params.to_vec();
        types.extend(self.declared_locals(body)?);
        // Local `i` is 8 bytes at `locals - 8 * (i + 1)`.
        let flags = MemFlagsData::trusted();
        for (i, &vty) in types.iter().enumerate() {
            if vty == ValType::V128 {
                return Err(CompileError::Unsupported(
                    "on-stack replacement with v128 locals".into(),
                ));
            }
            let var = self.builder.declare_var(clif_type(vty));
            let off = -8 * (i as i32 + 1);
            let v = self
                .builder
                .ins()
                .load(clif_type(vty), flags, frame_locals, off);
            if vty.is_traced() {
                self.mark_gc(v);
            }
            self.builder.def_var(var, v);
            self.locals.push((var, vty));
        }
        let dispatch = self.builder.create_block();
        self.builder.ins().jump(dispatch, &[]);
        self.builder.seal_block(dispatch);
        // The function's own start, which nothing reaches: it only builds
        // the control frames the loop sits in.
        let start = self.builder.create_block();
        self.switch_to(start);
        self.builder.seal_block(start);
        for &(var, vty) in &self.locals.clone() {
            let zero = self.zero(vty);
            self.builder.def_var(var, zero);
        }
        self.push_function_frame(ty);
        self.osr = Some(OsrEntry {
            loop_offset: at,
            dispatch,
            operands,
            spliced: false,
        });
        Ok(())
    }

    /// Starts the entry block, whose parameters are the function's (the
    /// `VMContext` first), and returns them.
    fn entry_block(&mut self) -> Vec<Value> {
        let entry = self.builder.create_block();
        self.builder.append_block_params_for_function_params(entry);
        self.builder.switch_to_block(entry);
        self.builder.seal_block(entry);
        let params = self.builder.block_params(entry).to_vec();
        self.vmctx = params[0];
        params
    }

    /// The types of the locals `body` declares (after the parameters).
    fn declared_locals(
        &self,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<Vec<ValType>, CompileError> {
        let mut types = Vec::new();
        let mut locals = body.get_locals_reader().map_err(parse_error)?;
        for _ in 0..locals.get_count() {
            let (count, wty) = locals.read().map_err(parse_error)?;
            let vty = self
                .env
                .module
                .convert_val_type(wty, 0)
                .map_err(|e| CompileError::Unsupported(e.message))?;
            types.extend(core::iter::repeat_n(vty, count as usize));
        }
        Ok(types)
    }

    /// The outermost control frame: the body is a block whose end
    /// returns.
    fn push_function_frame(&mut self, ty: &FuncType) {
        let results: Vec<Type> = ty.results.iter().map(|t| clif_type(*t)).collect();
        let exit = self.builder.create_block();
        for r in &results {
            self.builder.append_block_param(exit, *r);
        }
        self.control.push(control::Frame {
            kind: control::FrameKind::Function,
            exit,
            header: None,
            params: Vec::new(),
            results,
            stack_base: 0,
            exit_reached: false,
        });
    }

    /// At the loop an on-stack-replacement entry enters: joins the start
    /// path's operand stack and the frame's operand slots (read in the
    /// dispatch block) in one block, which the loop then follows.
    fn osr_splice(&mut self) {
        let Some(osr) = self.osr.as_mut() else { return };
        osr.spliced = true;
        let (dispatch, operands) = (osr.dispatch, osr.operands);
        self.fuel_flush();
        let types: Vec<Type> = self
            .stack
            .iter()
            .map(|&v| self.builder.func.dfg.value_type(v))
            .collect();
        let join = self.builder.create_block();
        for &t in &types {
            self.builder.append_block_param(join, t);
        }
        let from_start = control::args(&self.stack);
        self.builder.ins().jump(join, &from_start);
        self.switch_to(dispatch);
        // Operand `k` (from the bottom) is 8 bytes at
        // `operands - 8 * (k + 1)`.
        let flags = MemFlagsData::trusted();
        let loaded: Vec<Value> = types
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                let off = -8 * (k as i32 + 1);
                self.builder.ins().load(t, flags, operands, off)
            })
            .collect();
        let from_frame = control::args(&loaded);
        self.builder.ins().jump(join, &from_frame);
        self.builder.seal_block(join);
        self.switch_to(join);
        self.stack = self.builder.block_params(join).to_vec();
        // The baseline frame charged the `loop` operator itself before
        // its header; the unit `translate_op` is about to count for it
        // must not be charged again.
        if self.env.tunables.consume_fuel {
            self.fuel_pending = -1;
        }
    }

    /// Stack limit with signals: Cranelift compares the stack pointer
    /// after the frame is allocated with the store's limit in the
    /// prologue and traps with `STACK_OVERFLOW` below it.
    fn prologue_stack_limit(&mut self) -> Result<(), CompileError> {
        let vmctx_gv = self
            .builder
            .func
            .create_global_value(ir::GlobalValueData::VMContext);
        let ptr = self.env.pointer_type;
        let ro = self.builder.func.dfg.mem_flags.insert(
            MemFlagsData::trusted()
                .with_readonly()
                .with_alias_region(Some(self.regions.vmctx)),
        );
        let ro = ro.map_err(|_| {
            CompileError::Unsupported("more than 65535 distinct memory flags".into())
        })?;
        let limits = self
            .builder
            .func
            .create_global_value(ir::GlobalValueData::Load {
                base: vmctx_gv,
                offset: (self.env.offsets.vmctx_runtime_limits() as i32).into(),
                global_type: ptr,
                flags: ro,
            });
        let stack_limit = self
            .builder
            .func
            .create_global_value(ir::GlobalValueData::Load {
                base: limits,
                offset: (self.env.offsets.limits_stack_limit() as i32).into(),
                global_type: ptr,
                flags: ro,
            });
        self.builder.func.stack_limit = Some(stack_limit);

        Ok(())
    }

    /// The zero value of a wasm type (locals' initial value).
    pub fn zero(&mut self, ty: ValType) -> Value {
        match ty {
            ValType::I32 => self.builder.ins().iconst(types::I32, 0),
            ValType::I64 | ValType::Ref(_) => self.builder.ins().iconst(types::I64, 0),
            ValType::F32 => self.builder.ins().f32const(0.0),
            ValType::F64 => self.builder.ins().f64const(0.0),
            ValType::V128 => self.v128_const(0),
        }
    }

    /// A `v128` constant (`I8X16`, byte `i` = lane byte `i`).
    pub fn v128_const(&mut self, bits: u128) -> Value {
        let data = ir::ConstantData::from(bits.to_le_bytes().to_vec());
        let handle = self.builder.func.dfg.constants.insert(data);
        self.builder.ins().vconst(types::I8X16, handle)
    }

    pub fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    pub fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// The integer `v` as type `ty`: zero-extended or reduced (the `i32`
    /// sizes and indices of 32-bit memories and tables widen to the `i64`
    /// builtins take; their results narrow back).
    pub fn int_as(&mut self, v: Value, ty: Type) -> Value {
        let have = self.builder.func.dfg.value_type(v);
        if have == ty {
            v
        } else if have.bits() > ty.bits() {
            self.builder.ins().ireduce(ty, v)
        } else {
            self.builder.ins().uextend(ty, v)
        }
    }

    /// The top `n` operands, in order, left on the stack.
    pub fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Flags of a trusted access (never traps, aligned) to runtime-owned
    /// memory of kind `field`.
    pub fn vm_flags(&self, field: Field) -> MemFlagsData {
        let trusted = MemFlagsData::trusted();
        match field {
            // Readable from function entry on and never written while the
            // instance lives: the load is pure, so GVN shares it and LICM
            // hoists it out of loops (across calls too).
            Field::Const => trusted
                .with_readonly()
                .with_can_move()
                .with_alias_region(Some(self.regions.vmctx)),
            // Immutable, but the address is only valid once a check before
            // it passed (e.g. a funcref's non-null check): it must stay
            // below that check.
            Field::Readonly => trusted
                .with_readonly()
                .with_alias_region(Some(self.regions.vmctx)),
            // Changed only by the runtime, so only a call can change it; a
            // region of their own keeps heap and global stores from
            // invalidating earlier loads.
            Field::Record => trusted.with_alias_region(Some(self.regions.records)),
            Field::Global => trusted.with_alias_region(Some(self.regions.globals)),
            Field::Limits => trusted.with_alias_region(Some(self.regions.vmctx)),
        }
    }

    /// Loads a pointer-sized field at `offset` from `base`.
    pub fn load_ptr(&mut self, base: Value, offset: u32, field: Field) -> Value {
        let flags = self.vm_flags(field);
        let ptr = self.env.pointer_type;
        self.builder.ins().load(ptr, flags, base, offset as i32)
    }

    /// The runtime limits record of the store.
    pub fn limits_ptr(&mut self) -> Value {
        let off = self.env.offsets.vmctx_runtime_limits();
        self.load_ptr(self.vmctx, off, Field::Const)
    }

    /// Calls a builtin through its trampoline (which records the exit
    /// frame for backtraces, then jumps to the runtime's function).
    pub fn call_builtin(&mut self, builtin: Builtin, args: &[Value]) -> Option<Value> {
        let (fref, all) = self.builtin_ref(builtin, args);
        let call = self.builder.ins().call(fref, &all);
        self.builder.inst_results(call).first().copied()
    }

    /// The function reference of `builtin` and its full argument list
    /// (`vmctx` first), for a plain or a `try_call`.
    pub fn builtin_ref(&mut self, builtin: Builtin, args: &[Value]) -> (ir::FuncRef, Vec<Value>) {
        // Growth and the bulk operations change memory records.
        self.heap_cache.clear();
        if !self.builtins_used.contains(&builtin) {
            self.builtins_used.push(builtin);
        }
        let sig = stub_signature(self.env, builtin);
        let sig = self.builder.import_signature(sig);
        let name = self
            .builder
            .func
            .declare_imported_user_function(ir::UserExternalName::new(NS_BUILTIN, builtin.index()));
        let fref = self.builder.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        (fref, all)
    }

    /// At function entry and loop headers: charge pending fuel and call
    /// the `out_of_fuel` builtin once the budget is spent.
    pub fn fuel_check(&mut self) {
        if self.env.tunables.consume_fuel {
            self.fuel_flush();
            let limits = self.limits_ptr();
            let off = self.env.offsets.limits_fuel_consumed() as i32;
            let flags = self.vm_flags(Field::Limits);
            let consumed = self.builder.ins().load(types::I64, flags, limits, off);
            let exhausted =
                self.builder
                    .ins()
                    .icmp_imm_s(ir::condcodes::IntCC::SignedGreaterThan, consumed, 0);
            self.cold_call_if(exhausted, Builtin::OutOfFuel);
        }
    }

    /// At function entry and before loop back-edges: trap if the interrupt
    /// flag is set. Together these bound the code run between polls: an
    /// endless run must take a back-edge or a call again and again.
    pub fn interrupt_poll(&mut self) {
        if self.env.tunables.interruptible {
            // Another thread sets the flag, so the load is atomic: alias
            // analysis treats it as a fence and never replaces it with an
            // earlier load of the same word (a plain load in a loop free of
            // calls and stores would be). A set flag traps right here with
            // the interrupt code, which the runtime turns into the trap and
            // consumes the request with; unlike a call to the `interrupted`
            // builtin, a trap clobbers no registers, so a loop keeps its
            // values in registers and a leaf function stays a leaf. (Without
            // signals the trap is a call to the `trap` builtin in a cold
            // block, which clobbers nothing on the hot path either.)
            let limits = self.limits_ptr();
            let off = self.env.offsets.limits_interrupt();
            let flags = self.vm_flags(Field::Limits);
            let flag = if self.env.tunables.signals_based_traps {
                let addr = self.builder.ins().iadd_imm_u(limits, i64::from(off));
                self.builder.ins().atomic_load(types::I32, flags, addr)
            } else {
                // riscv64 lowers `atomic_load` to a load that names the heap
                // trap code whatever its flags say, a trap site signal-free
                // code may not have. A sequence point is the same barrier
                // to alias analysis (the load is never merged with an
                // earlier one) and emits no instruction.
                self.builder.ins().sequence_point();
                self.builder
                    .ins()
                    .load(types::I32, flags, limits, off as i32)
            };
            self.trap_if(flag, kiln_environ::TrapCode::Interrupt);
        }
    }

    /// Starts emitting into `block`. A block may have several predecessors,
    /// so what the code before it did (see `interrupt_polled`) is forgotten.
    pub fn switch_to(&mut self, block: ir::Block) {
        self.builder.switch_to_block(block);
        self.interrupt_polled = false;
        self.heap_cache.clear();
    }

    /// `if cond { builtin(vmctx) }` with the call in a cold block.
    fn cold_call_if(&mut self, cond: Value, builtin: Builtin) {
        let cold = self.builder.create_block();
        let cont = self.builder.create_block();
        self.builder.set_cold_block(cold);
        self.builder.ins().brif(cond, cold, &[], cont, &[]);
        self.builder.seal_block(cold);
        self.switch_to(cold);
        self.call_builtin(builtin, &[]);
        self.builder.ins().jump(cont, &[]);
        self.builder.seal_block(cont);
        self.switch_to(cont);
    }

    /// Adds the operators counted since the last flush to the store's fuel
    /// counter. Called before anything that leaves straight-line code, so
    /// callees and the runtime see an exact count.
    pub fn fuel_flush(&mut self) {
        if !self.env.tunables.consume_fuel || self.fuel_pending == 0 || !self.reachable {
            self.fuel_pending = 0;
            return;
        }
        let limits = self.limits_ptr();
        let off = self.env.offsets.limits_fuel_consumed() as i32;
        let flags = self.vm_flags(Field::Limits);
        let consumed = self.builder.ins().load(types::I64, flags, limits, off);
        let updated = self.builder.ins().iadd_imm_s(consumed, self.fuel_pending);
        self.builder.ins().store(flags, updated, limits, off);
        self.fuel_pending = 0;
    }

    /// Translates one operator.
    fn translate_op(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        if !self.reachable {
            return self.translate_unreachable_op(op);
        }
        if self.env.tunables.consume_fuel {
            // Every operator costs one unit, except the purely structural
            // ones, matching the interpreter's accounting closely enough
            // for limits (not for exact cross-backend equality).
            if !matches!(
                op,
                Operator::Nop | Operator::Drop | Operator::End | Operator::Else
            ) {
                self.fuel_pending += 1;
            }
        }
        use Operator as O;
        match op {
            O::Nop => {}
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let (a, b, c) = self.pop3();
                let v = self.builder.ins().select(c, a, b);
                self.push(v);
            }
            O::LocalGet { local_index } => {
                let var = self.locals[*local_index as usize].0;
                let v = self.builder.use_var(var);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                let var = self.locals[*local_index as usize].0;
                self.builder.def_var(var, v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                let var = self.locals[*local_index as usize].0;
                self.builder.def_var(var, v);
            }
            O::GlobalGet { global_index } => {
                let v = self.global_get(*global_index);
                if self.env.module.globals[*global_index as usize]
                    .content
                    .is_traced()
                {
                    self.mark_gc(v);
                }
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                self.global_set(*global_index, v);
            }
            O::V128Const { value } => {
                let v = self.v128_const(u128::from_le_bytes(*value.bytes()));
                self.push(v);
            }
            _ => {
                if self.translate_exception_op(op)?
                    || self.translate_control_op(op)?
                    || self.translate_call_op(op)?
                    || self.translate_memory_op(op)?
                    || self.translate_table_op(op)?
                    || self.translate_gc_op(op)?
                    || self.translate_numeric_op(op)?
                    || simd::translate_simd_op(op, &mut self.builder, &mut self.stack)?
                    || self.translate_relaxed_op(op)?
                {
                    return Ok(());
                }
                return Err(CompileError::Unsupported(operator_name(op)));
            }
        }
        Ok(())
    }

    /// The address of global `index`'s 16-byte cell.
    fn global_cell(&mut self, index: u32) -> Value {
        let off = self.env.offsets.vmctx_global(index);
        self.load_ptr(self.vmctx, off, Field::Const)
    }

    /// Flags for a global's cell: an immutable global is set before any
    /// code of the instance runs, so Cranelift may hoist and share its
    /// loads; a mutable one (say, the stack pointer of a Rust program) has
    /// its own region so its stores leave other cached loads alone.
    fn global_flags(&self, index: u32) -> MemFlagsData {
        let mutable = self.env.module.globals[index as usize].mutable;
        self.vm_flags(if mutable { Field::Global } else { Field::Const })
    }

    fn global_get(&mut self, index: u32) -> Value {
        let ty = self.env.module.globals[index as usize].content;
        let cell = self.global_cell(index);
        let flags = self.global_flags(index);
        // The cell holds `lo: u64, hi: u64` in native byte order; a 32-bit
        // value is the low half of `lo`, so it is read as a u64 and narrowed
        // (which is right on big-endian targets too).
        match ty {
            ValType::I64 | ValType::Ref(_) | ValType::F64 => {
                self.builder.ins().load(clif_type(ty), flags, cell, 0)
            }
            ValType::I32 | ValType::F32 => {
                let lo = self.builder.ins().load(types::I64, flags, cell, 0);
                let v = self.builder.ins().ireduce(types::I32, lo);
                if ty == ValType::F32 {
                    self.builder
                        .ins()
                        .bitcast(types::F32, MemFlagsData::new(), v)
                } else {
                    v
                }
            }
            ValType::V128 => {
                if self.env.little_endian {
                    self.builder.ins().load(types::I8X16, flags, cell, 0)
                } else {
                    let lo = self.builder.ins().load(types::I64, flags, cell, 0);
                    let hi = self.builder.ins().load(types::I64, flags, cell, 8);
                    let wide = self.builder.ins().iconcat(lo, hi);
                    let le = MemFlagsData::new().with_endianness(Endianness::Little);
                    self.builder.ins().bitcast(types::I8X16, le, wide)
                }
            }
        }
    }

    fn global_set(&mut self, index: u32, v: Value) {
        let ty = self.env.module.globals[index as usize].content;
        let cell = self.global_cell(index);
        let flags = self.global_flags(index);
        match ty {
            ValType::I64 | ValType::Ref(_) | ValType::F64 => {
                self.builder.ins().store(flags, v, cell, 0);
            }
            ValType::I32 | ValType::F32 => {
                let v = if ty == ValType::F32 {
                    self.builder
                        .ins()
                        .bitcast(types::I32, MemFlagsData::new(), v)
                } else {
                    v
                };
                let wide = self.builder.ins().uextend(types::I64, v);
                self.builder.ins().store(flags, wide, cell, 0);
            }
            ValType::V128 => {
                if self.env.little_endian {
                    self.builder.ins().store(flags, v, cell, 0);
                } else {
                    let le = MemFlagsData::new().with_endianness(Endianness::Little);
                    let wide = self.builder.ins().bitcast(types::I128, le, v);
                    let (lo, hi) = self.builder.ins().isplit(wide);
                    self.builder.ins().store(flags, lo, cell, 0);
                    self.builder.ins().store(flags, hi, cell, 8);
                }
            }
        }
    }
}

/// A short name for an operator, for `Unsupported` errors.
pub(crate) fn operator_name(op: &Operator<'_>) -> String {
    let debug = format!("{op:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or("operator")
        .to_string()
}
