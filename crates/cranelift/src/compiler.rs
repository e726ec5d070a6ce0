//! Compiling a whole module: translation and code generation of every
//! function and trampoline in parallel, then one text image.
//!
//! [`CraneliftCompiler::compile_module`] makes a work list (defined functions,
//! array-to-wasm trampolines of functions the host can reach, one
//! wasm-to-array trampoline per distinct function type), compiles it on a
//! pool of scoped threads that pull indices from a shared counter (each
//! thread owns its `cranelift_codegen::Context` and frontend context), then
//! compiles the stubs of the builtins the code uses, and finally appends
//! everything to Cranelift's text-section builder, which resolves the calls
//! between them (inserting veneers where a branch cannot reach) into one
//! position-independent image.

use crate::isa::{has_native_rounding, has_vectors};
use crate::translate::{self, ModuleEnv, NS_BUILTIN, NS_WASM_FUNC, trap};
use crate::{CompileError, signal_free, trampolines};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;
use kiln_environ::{
    Builtin, CompiledFunction, CompiledModule, FuncKey, FunctionLocation, HandlerSite,
    ModuleTranslation, Relocation, RelocationKind, StackMapSite, TrapSite, Tunables, VMOffsets,
};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest frame (bytes below the frame pointer) a wasm function
/// compiled without signals-based traps may have.
///
/// Such a function checks the stack limit in its body, after the prologue
/// allocated the frame, and the prologue (or a spill) may store into the
/// frame before the check runs. The runtime keeps 256 KiB of stack free
/// below the limit for host calls and builtins; a frame of at most this
/// size therefore lands inside that reserve even when the check is about to
/// fail, and leaves room for the `trap` builtin's own frames. Real wasm
/// functions need a few KiB; a larger frame is refused at compile time
/// rather than risking a fault nothing could handle.
pub const SIGNAL_FREE_MAX_FRAME: u32 = 64 << 10;

/// Compiles modules for one ISA with one set of [`Tunables`].
pub struct CraneliftCompiler {
    isa: OwnedTargetIsa,
    tunables: Tunables,
    threads: usize,
}

impl CraneliftCompiler {
    /// A compiler for `isa` that follows `tunables`, using every core.
    pub fn new(isa: OwnedTargetIsa, tunables: Tunables) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            isa,
            tunables,
            threads,
        }
    }

    /// Limits the number of compilation threads (at least one).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The target ISA.
    pub fn isa(&self) -> &dyn TargetIsa {
        &*self.isa
    }

    /// The `VMContext` layout this compiler uses for `module`.
    pub fn offsets(&self, module: &ModuleTranslation) -> VMOffsets {
        VMOffsets::new(self.isa.pointer_bytes(), module)
    }

    fn env<'a>(&self, module: &'a ModuleTranslation) -> ModuleEnv<'a> {
        ModuleEnv {
            module,
            offsets: self.offsets(module),
            tunables: self.tunables,
            pointer_type: self.isa.pointer_type(),
            native_rounding: has_native_rounding(&*self.isa),
            little_endian: self.isa.endianness() == ir::Endianness::Little,
            host_call_conv: self.isa.default_call_conv(),
            frame_handle_is_sp: self.isa.triple().architecture
                == target_lexicon::Architecture::S390x,
            i32_arg_extension: match self.isa.triple().architecture {
                target_lexicon::Architecture::S390x => ir::ArgumentExtension::Uext,
                target_lexicon::Architecture::Riscv64(_) => ir::ArgumentExtension::Sext,
                _ => ir::ArgumentExtension::None,
            },
            frontend_config: self.isa.frontend_config(),
            relaxed: crate::isa::relaxed_caps(&*self.isa),
        }
    }

    /// Translates and compiles one piece of code.
    pub fn compile_function(
        &self,
        module: &ModuleTranslation,
        key: FuncKey,
    ) -> Result<CompiledFunction, CompileError> {
        let env = self.env(module);
        let mut fb = FunctionBuilderContext::new();
        let mut ctx = Context::new();
        self.compile_with(&env, key, None, &mut fb, &mut ctx)
    }

    /// Compiles wasm function `index`'s on-stack-replacement entry at the
    /// loop at wasm byte offset `loop_offset` (see
    /// `Compiler::compile_osr_entry`).
    pub fn compile_osr_entry(
        &self,
        module: &ModuleTranslation,
        index: u32,
        loop_offset: u32,
    ) -> Result<CompiledFunction, CompileError> {
        let env = self.env(module);
        let mut fb = FunctionBuilderContext::new();
        let mut ctx = Context::new();
        let key = FuncKey::Wasm(index);
        self.compile_with(&env, key, Some(loop_offset), &mut fb, &mut ctx)
    }

    /// Compiles `key`; for a wasm function with `osr` set, its
    /// on-stack-replacement entry at the loop at that wasm offset instead.
    fn compile_with(
        &self,
        env: &ModuleEnv<'_>,
        key: FuncKey,
        osr: Option<u32>,
        fb: &mut FunctionBuilderContext,
        ctx: &mut Context,
    ) -> Result<CompiledFunction, CompileError> {
        let module = env.module;
        let defined = |i: u32| !module.is_imported_func(i) && (i as usize) < module.functions.len();
        let bad_key = || {
            Err(CompileError::Unsupported(format!(
                "{key}: no such entity in the module"
            )))
        };
        match key {
            FuncKey::Wasm(i) | FuncKey::ArrayToWasm(i) if !defined(i) => return bad_key(),
            FuncKey::WasmToArray(t) if t as usize >= module.types.len() => return bad_key(),
            _ => {}
        }
        let (func, builtins) = match key {
            FuncKey::Wasm(i) => {
                let t = translate::translate_function(env, i, osr, fb)?;
                (t.func, t.builtins)
            }
            FuncKey::ArrayToWasm(i) => (trampolines::array_to_wasm(env, i, fb), Vec::new()),
            FuncKey::WasmToArray(t) => (trampolines::wasm_to_array(env, t, fb), Vec::new()),
            FuncKey::Builtin(b) => (trampolines::builtin_stub(env, b, fb), Vec::new()),
        };
        // Cranelift panics deep in lowering on vector code for an ISA
        // without vector registers; say why instead.
        if !has_vectors(&*self.isa) && uses_vectors(&func) {
            return Err(CompileError::Unsupported(format!(
                "{key}: wasm SIMD (v128) on {}, whose CPU features lack the \
                 vector extension (riscv64: V with VLEN >= 128)",
                self.isa.triple()
            )));
        }
        // Without signals nothing may fault: reject the function if a path
        // of the translator forgot the trap helpers (`translate/traps.rs`).
        let signal_free = !self.tunables.signals_based_traps;
        if signal_free && let Some(why) = signal_free::violation(&func) {
            return Err(CompileError::Codegen {
                function: key.to_string(),
                message: format!(
                    "internal error: code compiled without signals-based traps contains {why}"
                ),
            });
        }
        let divisions = signal_free::divisions(&func);
        // The callee names, read before compilation borrows the context.
        let names = func.params.user_named_funcs().clone();
        ctx.clear();
        ctx.func = func;
        let mut ctrl = ControlPlane::default();
        // Cranelift reports most failures as errors but still panics on a
        // few unsupported combinations (e.g. SIMD on a RISC-V without V);
        // those become errors too, so one bad function cannot abort the
        // embedder.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ctx.compile(&*self.isa, &mut ctrl)
                .map(|_| ())
                .map_err(|e| format!("{:?}", e.inner))
        }));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                return Err(CompileError::Codegen {
                    function: key.to_string(),
                    message,
                });
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "Cranelift panicked".into());
                return Err(CompileError::Codegen {
                    function: key.to_string(),
                    message: format!("internal error: {message}"),
                });
            }
        }
        let compiled = ctx.compiled_code().ok_or_else(|| CompileError::Codegen {
            function: key.to_string(),
            message: "no code produced".into(),
        })?;
        let buffer = &compiled.buffer;
        let mut relocations = Vec::new();
        for r in buffer.relocs() {
            let target = match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                    let n = &names[*name];
                    match n.namespace {
                        NS_WASM_FUNC => FuncKey::Wasm(n.index),
                        NS_BUILTIN => FuncKey::Builtin(
                            Builtin::from_index(n.index)
                                .ok_or_else(|| CompileError::Relocation(format!("{n:?}")))?,
                        ),
                        _ => return Err(CompileError::Relocation(format!("{n:?} in {key}"))),
                    }
                }
                other => {
                    return Err(CompileError::Relocation(format!("{other:?} in {key}")));
                }
            };
            relocations.push(Relocation {
                offset: r.offset,
                kind: relocation_kind(r.kind)
                    .ok_or_else(|| CompileError::Relocation(format!("{:?} in {key}", r.kind)))?,
                target,
                addend: r.addend,
            });
        }
        let mut traps = Vec::new();
        for t in buffer.traps() {
            if signal_free {
                // Lowering leaves a few sites that provably never fault
                // (`signal_free::unreachable_site`); they have no place in
                // a table no signal handler reads. Any other is a bug.
                let arch = self.isa.triple().architecture;
                let bytes = compiled.code_buffer();
                if signal_free::unreachable_site(arch, t.code, bytes, t.offset, divisions) {
                    continue;
                }
                return Err(CompileError::Codegen {
                    function: key.to_string(),
                    message: format!(
                        "internal error: code compiled without signals-based traps has a trap site ({})",
                        t.code
                    ),
                });
            }
            let code = trap::to_kiln(t.code).ok_or_else(|| CompileError::Codegen {
                function: key.to_string(),
                message: format!("unexpected trap code {}", t.code),
            })?;
            traps.push(TrapSite {
                offset: t.offset,
                code,
            });
        }
        let mut handlers = Vec::new();
        for site in buffer.call_sites() {
            use cranelift_codegen::FinalizedMachExceptionHandler as H;
            // The translator gives a call in a handler scope one catch-all
            // entry (its landing block dispatches in code).
            let handler = site.exception_handlers.iter().find_map(|h| match h {
                H::Default(offset) => Some(*offset),
                _ => None,
            });
            let Some(handler_offset) = handler else {
                continue;
            };
            let frame_offset = site.frame_offset.ok_or_else(|| CompileError::Codegen {
                function: key.to_string(),
                message: "a call with an exception handler has no frame offset".into(),
            })?;
            handlers.push(HandlerSite {
                ret_offset: site.ret_addr,
                handler_offset,
                frame_offset,
            });
        }
        let stack_maps = buffer
            .user_stack_maps()
            .iter()
            .map(|(ret, span, map)| StackMapSite {
                ret_offset: *ret,
                frame_offset: *span,
                slots: map.entries().map(|(_, offset)| offset).collect(),
            })
            .collect();
        let address_map = buffer
            .get_srclocs_sorted()
            .iter()
            .filter(|s| !s.loc.is_default())
            .map(|s| (s.start, s.loc.bits()))
            .collect();
        if signal_free && let Some(layout) = buffer.frame_layout() {
            let frame = layout.frame_to_fp_offset;
            if frame > SIGNAL_FREE_MAX_FRAME {
                return Err(CompileError::Unsupported(format!(
                    "{key}: a stack frame of {frame} bytes; code compiled without \
                     signals-based traps allows at most {SIGNAL_FREE_MAX_FRAME} \
                     (its stack check runs after the frame is allocated)"
                )));
            }
        }
        let alignment = buffer
            .alignment
            .max(self.isa.function_alignment().preferred);
        Ok(CompiledFunction {
            key,
            code: compiled.code_buffer().to_vec(),
            alignment,
            relocations,
            traps,
            handlers,
            stack_maps,
            address_map,
            builtins,
        })
    }

    /// Compiles `keys` on the thread pool, in order.
    fn compile_all(
        &self,
        env: &ModuleEnv<'_>,
        keys: &[FuncKey],
    ) -> Result<Vec<CompiledFunction>, CompileError> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<CompiledFunction, CompileError>>>> =
            Mutex::new((0..keys.len()).map(|_| None).collect());
        let threads = self.threads.min(keys.len()).max(1);
        let work = || {
            let mut fb = FunctionBuilderContext::new();
            let mut ctx = Context::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(key) = keys.get(i) else { break };
                let r = self.compile_with(env, *key, None, &mut fb, &mut ctx);
                let failed = r.is_err();
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                if failed {
                    // Stop the other workers early: the module fails as a
                    // whole.
                    next.store(keys.len(), Ordering::Relaxed);
                }
            }
        };
        // The calling thread is one of the workers: a small list (a host
        // trampoline, a handful of builtin stubs) then costs no thread
        // spawn at all, which on a busy machine can mean waiting for a
        // core.
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(work);
            }
            work();
        });
        let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(keys.len());
        let mut first_error = None;
        for r in results {
            match r {
                Some(Ok(f)) => out.push(f),
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                None => {}
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Compiles every defined function of `module` with its trampolines
    /// and builtin stubs, and links them into one image.
    pub fn compile_module(
        &self,
        module: &ModuleTranslation,
    ) -> Result<CompiledModule, CompileError> {
        let env = self.env(module);
        let (keys, wasm_to_array) = kiln_environ::code_keys(module);
        let mut compiled = self.compile_all(&env, &keys)?;
        let stubs = kiln_environ::builtin_stub_keys(&compiled);
        compiled.extend(self.compile_all(&env, &stubs)?);
        self.link_module(module, &compiled, wasm_to_array)
    }

    /// Links `compiled` (all of `module`'s code) into one image;
    /// `wasm_to_array` is `code_keys`' second list.
    fn link_module(
        &self,
        module: &ModuleTranslation,
        compiled: &[CompiledFunction],
        wasm_to_array: Vec<FuncKey>,
    ) -> Result<CompiledModule, CompileError> {
        let Linked {
            text,
            functions,
            traps,
            handlers,
            stack_maps,
            address_map,
        } = self.link(compiled)?;
        Ok(CompiledModule {
            triple: self.isa.triple().to_string(),
            text,
            functions,
            traps,
            handlers,
            stack_maps,
            address_map,
            wasm_to_array,
            num_defined_funcs: module.bodies.len() as u32,
            tier_entries: Vec::new(),
        })
    }

    /// Lays `funcs` out in one text section and resolves their calls.
    fn link(&self, funcs: &[CompiledFunction]) -> Result<Linked, CompileError> {
        let label: HashMap<FuncKey, usize> =
            funcs.iter().enumerate().map(|(i, f)| (f.key, i)).collect();
        let mut builder = self.isa.text_section_builder(funcs.len());
        let mut ctrl = ControlPlane::default();
        let mut starts = Vec::with_capacity(funcs.len());
        for f in funcs {
            let start = builder.append(true, &f.code, f.alignment, &mut ctrl);
            starts.push(start);
            for r in &f.relocations {
                let target = *label.get(&r.target).ok_or_else(|| {
                    CompileError::Relocation(format!("{} calls missing {}", f.key, r.target))
                })?;
                let kind = cranelift_reloc(r.kind);
                if !builder.resolve_reloc(start + u64::from(r.offset), kind, r.addend, target) {
                    return Err(CompileError::Relocation(format!(
                        "{:?} from {} to {}",
                        r.kind, f.key, r.target
                    )));
                }
            }
        }
        let text = builder.finish(&mut ctrl);
        let to_u32 = |x: u64| {
            u32::try_from(x).map_err(|_| CompileError::Relocation("text image over 4 GiB".into()))
        };
        let mut functions = Vec::with_capacity(funcs.len());
        let mut traps = Vec::new();
        let mut handlers = Vec::new();
        let mut stack_maps = Vec::new();
        let mut address_map = Vec::new();
        for (f, start) in funcs.iter().zip(&starts) {
            let start = to_u32(*start)?;
            functions.push(FunctionLocation {
                key: f.key,
                range: start..start + f.code.len() as u32,
            });
            traps.extend(f.traps.iter().map(|t| TrapSite {
                offset: start + t.offset,
                code: t.code,
            }));
            handlers.extend(f.handlers.iter().map(|h| HandlerSite {
                ret_offset: start + h.ret_offset,
                handler_offset: start + h.handler_offset,
                frame_offset: h.frame_offset,
            }));
            stack_maps.extend(f.stack_maps.iter().map(|m| StackMapSite {
                ret_offset: start + m.ret_offset,
                ..m.clone()
            }));
            address_map.extend(f.address_map.iter().map(|(o, w)| (start + o, *w)));
        }
        functions.sort_by_key(|f| f.range.start);
        traps.sort_by_key(|t| t.offset);
        handlers.sort_by_key(|h| h.ret_offset);
        stack_maps.sort_by_key(|m| m.ret_offset);
        address_map.sort_by_key(|(o, _)| *o);
        Ok(Linked {
            text,
            functions,
            traps,
            handlers,
            stack_maps,
            address_map,
        })
    }
}

/// A module's code laid out in one text section, with its metadata made
/// image-relative and sorted.
struct Linked {
    text: Vec<u8>,
    functions: Vec<FunctionLocation>,
    traps: Vec<TrapSite>,
    handlers: Vec<HandlerSite>,
    stack_maps: Vec<StackMapSite>,
    address_map: Vec<(u32, u32)>,
}

/// The neutral name of a call relocation Cranelift emitted, if it is one
/// Kiln's code uses.
fn relocation_kind(kind: Reloc) -> Option<RelocationKind> {
    Some(match kind {
        Reloc::X86CallPCRel4 => RelocationKind::X86CallPcRel4,
        Reloc::Arm64Call => RelocationKind::Arm64Call,
        // Equivalent for calls within one image.
        Reloc::S390xPCRel32Dbl | Reloc::S390xPLTRel32Dbl => RelocationKind::S390xPcRel32Dbl,
        Reloc::RiscvCallPlt => RelocationKind::RiscvCallPlt,
        _ => return None,
    })
}

/// Cranelift's name of a neutral call relocation, for its text-section
/// builder.
fn cranelift_reloc(kind: RelocationKind) -> Reloc {
    match kind {
        RelocationKind::X86CallPcRel4 => Reloc::X86CallPCRel4,
        RelocationKind::Arm64Call => Reloc::Arm64Call,
        RelocationKind::S390xPcRel32Dbl => Reloc::S390xPCRel32Dbl,
        RelocationKind::RiscvCallPlt => Reloc::RiscvCallPlt,
    }
}

impl kiln_environ::Compiler for CraneliftCompiler {
    fn backend(&self) -> &'static str {
        "cranelift"
    }

    fn triple(&self) -> String {
        self.isa.triple().to_string()
    }

    fn pointer_bytes(&self) -> u8 {
        self.isa.pointer_bytes()
    }

    fn little_endian(&self) -> bool {
        self.isa.endianness() == ir::Endianness::Little
    }

    fn settings(&self) -> String {
        crate::isa_fingerprint(&*self.isa)
    }

    fn tunables(&self) -> Tunables {
        self.tunables
    }

    fn supports_simd(&self) -> bool {
        has_vectors(&*self.isa)
    }

    fn offsets(&self, module: &ModuleTranslation) -> VMOffsets {
        CraneliftCompiler::offsets(self, module)
    }

    fn compile_function(
        &self,
        module: &ModuleTranslation,
        key: FuncKey,
    ) -> Result<CompiledFunction, CompileError> {
        CraneliftCompiler::compile_function(self, module, key)
    }

    fn compile_functions(
        &self,
        module: &ModuleTranslation,
        keys: &[FuncKey],
    ) -> Result<Vec<CompiledFunction>, CompileError> {
        self.compile_all(&self.env(module), keys)
    }

    fn link(
        &self,
        module: &ModuleTranslation,
        funcs: Vec<CompiledFunction>,
    ) -> Result<CompiledModule, CompileError> {
        let (_, wasm_to_array) = kiln_environ::code_keys(module);
        self.link_module(module, &funcs, wasm_to_array)
    }

    fn compile_module(&self, module: &ModuleTranslation) -> Result<CompiledModule, CompileError> {
        CraneliftCompiler::compile_module(self, module)
    }

    fn compile_osr_entry(
        &self,
        module: &ModuleTranslation,
        index: u32,
        loop_offset: u32,
    ) -> Result<CompiledFunction, CompileError> {
        CraneliftCompiler::compile_osr_entry(self, module, index, loop_offset)
    }
}

/// Whether `func` has a vector value anywhere: a parameter, a result, or
/// any value its instructions define (constants and loads included).
fn uses_vectors(func: &ir::Function) -> bool {
    let sig = &func.signature;
    sig.params
        .iter()
        .chain(&sig.returns)
        .any(|p| p.value_type.is_vector())
        || func
            .dfg
            .values()
            .any(|v| func.dfg.value_type(v).is_vector())
}
