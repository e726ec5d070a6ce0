//! Compiling a whole module: translation and code generation of every
//! function and trampoline in parallel, then one text image.
//!
//! [`Compiler::compile_module`] makes a work list (defined functions,
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
use crate::{CompileError, trampolines};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, ExternalName};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::FunctionBuilderContext;
use kiln_environ::{
    Builtin, ConstOp, ElemItems, ExternKind, FuncType, ModuleTranslation, TrapCode, Tunables,
    VMOffsets,
};
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a piece of compiled code is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FuncKey {
    /// Defined wasm function, by function index (imports included in the
    /// numbering).
    Wasm(u32),
    /// The array-to-wasm trampoline of defined function `index`.
    ArrayToWasm(u32),
    /// The wasm-to-array trampoline for signatures equal to type `index`.
    WasmToArray(u32),
    /// The stub that calls a builtin.
    Builtin(Builtin),
}

impl std::fmt::Display for FuncKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FuncKey::Wasm(i) => write!(f, "wasm function {i}"),
            FuncKey::ArrayToWasm(i) => write!(f, "array-to-wasm trampoline of function {i}"),
            FuncKey::WasmToArray(t) => write!(f, "wasm-to-array trampoline of type {t}"),
            FuncKey::Builtin(b) => write!(f, "builtin stub `{}`", b.name()),
        }
    }
}

/// A call from one piece of code to another, at `offset` in the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// Offset of the patched bytes in the calling function's code.
    pub offset: u32,
    /// Cranelift's relocation kind (ISA-specific call encoding).
    pub kind: Reloc,
    /// What is called.
    pub target: FuncKey,
    /// Addend, as Cranelift reports it.
    pub addend: i64,
}

/// An instruction that may trap, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrapSite {
    /// Offset of the trapping instruction (function- or image-relative,
    /// depending on the container).
    pub offset: u32,
    /// The wasm trap it raises.
    pub code: TrapCode,
}

/// One compiled function or trampoline before layout.
#[derive(Clone, Debug)]
pub struct CompiledFunction {
    /// What it is.
    pub key: FuncKey,
    /// Machine code.
    pub code: Vec<u8>,
    /// Required alignment of `code`'s start.
    pub alignment: u32,
    /// Calls to other code of the module.
    pub relocations: Vec<Relocation>,
    /// Trap sites, by offset in `code`.
    pub traps: Vec<TrapSite>,
    /// `(code offset, wasm byte offset)`, sorted: the instruction at or
    /// after each code offset comes from the wasm operator at that offset
    /// in the module binary.
    pub address_map: Vec<(u32, u32)>,
    /// Builtins the function calls.
    pub builtins: Vec<Builtin>,
}

/// Where a piece of code landed in the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionLocation {
    /// What it is.
    pub key: FuncKey,
    /// Its bytes in [`CompiledModule::text`].
    pub range: Range<u32>,
}

/// A module's native code, laid out and linked, with its metadata.
#[derive(Clone, Debug)]
pub struct CompiledModule {
    /// Target triple the code is for.
    pub triple: String,
    /// Position-independent machine code: every call between functions of
    /// the image is already resolved. Copy it anywhere page-aligned, make it
    /// executable, and add a location's offset to the copy's address.
    pub text: Vec<u8>,
    /// Every function and trampoline, sorted by offset.
    pub functions: Vec<FunctionLocation>,
    /// Trap sites, image-relative, sorted by offset.
    pub traps: Vec<TrapSite>,
    /// `(image offset, wasm byte offset)` of wasm functions, sorted.
    pub address_map: Vec<(u32, u32)>,
    /// For each type index, the key of the wasm-to-array trampoline
    /// serving it (types with equal signatures share one).
    pub wasm_to_array: Vec<FuncKey>,
    /// Number of wasm functions compiled (defined functions).
    pub num_defined_funcs: u32,
}

impl CompiledModule {
    /// The image range of `key`, if it was compiled.
    pub fn range_of(&self, key: FuncKey) -> Option<Range<u32>> {
        self.functions
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.range.clone())
    }

    /// The trap raised by the instruction at image offset `pc`, if it is a
    /// trap site (what a signal handler asks).
    pub fn trap_at(&self, pc: u32) -> Option<TrapCode> {
        self.traps
            .binary_search_by_key(&pc, |t| t.offset)
            .ok()
            .map(|i| self.traps[i].code)
    }

    /// The code containing image offset `pc`, and the wasm byte offset of
    /// the operator it belongs to when known (what a backtrace asks).
    pub fn lookup_pc(&self, pc: u32) -> Option<(FuncKey, Option<u32>)> {
        let i = self
            .functions
            .partition_point(|f| f.range.start <= pc)
            .checked_sub(1)?;
        let f = &self.functions[i];
        if pc >= f.range.end {
            return None;
        }
        let wasm = match f.key {
            FuncKey::Wasm(_) => {
                let j = self.address_map.partition_point(|(o, _)| *o <= pc);
                j.checked_sub(1)
                    .map(|j| self.address_map[j])
                    .filter(|(o, _)| *o >= f.range.start)
                    .map(|(_, w)| w)
            }
            _ => None,
        };
        Some((f.key, wasm))
    }
}

/// Compiles modules for one ISA with one set of [`Tunables`].
pub struct Compiler {
    isa: OwnedTargetIsa,
    tunables: Tunables,
    threads: usize,
}

impl Compiler {
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
        self.compile_with(&env, key, &mut fb, &mut ctx)
    }

    fn compile_with(
        &self,
        env: &ModuleEnv<'_>,
        key: FuncKey,
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
                let t = translate::translate_function(env, i, fb)?;
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
                kind: r.kind,
                target,
                addend: r.addend,
            });
        }
        let mut traps = Vec::new();
        for t in buffer.traps() {
            let code = trap::to_kiln(t.code).ok_or_else(|| CompileError::Codegen {
                function: key.to_string(),
                message: format!("unexpected trap code {}", t.code),
            })?;
            traps.push(TrapSite {
                offset: t.offset,
                code,
            });
        }
        let address_map = buffer
            .get_srclocs_sorted()
            .iter()
            .filter(|s| !s.loc.is_default())
            .map(|s| (s.start, s.loc.bits()))
            .collect();
        let alignment = buffer
            .alignment
            .max(self.isa.function_alignment().preferred);
        Ok(CompiledFunction {
            key,
            code: compiled.code_buffer().to_vec(),
            alignment,
            relocations,
            traps,
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
                let r = self.compile_with(env, *key, &mut fb, &mut ctx);
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
        let n_imported = module.num_imported_funcs;
        let n_funcs = module.functions.len() as u32;

        let mut keys: Vec<FuncKey> = (n_imported..n_funcs).map(FuncKey::Wasm).collect();
        keys.extend(
            escaping_functions(module)
                .into_iter()
                .filter(|i| *i >= n_imported && *i < n_funcs)
                .map(FuncKey::ArrayToWasm),
        );
        // One wasm-to-array trampoline per distinct signature.
        let mut by_sig: HashMap<&FuncType, u32> = HashMap::new();
        let mut wasm_to_array = Vec::with_capacity(module.types.len());
        for (i, ty) in module.types.iter().enumerate() {
            let rep = *by_sig.entry(ty).or_insert_with(|| {
                keys.push(FuncKey::WasmToArray(i as u32));
                i as u32
            });
            wasm_to_array.push(FuncKey::WasmToArray(rep));
        }
        let mut compiled = self.compile_all(&env, &keys)?;
        let used: BTreeSet<Builtin> = compiled
            .iter()
            .flat_map(|f| f.builtins.iter().copied())
            .collect();
        let stubs: Vec<FuncKey> = used.into_iter().map(FuncKey::Builtin).collect();
        compiled.extend(self.compile_all(&env, &stubs)?);
        let (text, functions, traps, address_map) = self.link(&compiled)?;
        Ok(CompiledModule {
            triple: self.isa.triple().to_string(),
            text,
            functions,
            traps,
            address_map,
            wasm_to_array,
            num_defined_funcs: n_funcs - n_imported,
        })
    }

    /// Lays `funcs` out in one text section and resolves their calls.
    #[allow(clippy::type_complexity)]
    fn link(
        &self,
        funcs: &[CompiledFunction],
    ) -> Result<
        (
            Vec<u8>,
            Vec<FunctionLocation>,
            Vec<TrapSite>,
            Vec<(u32, u32)>,
        ),
        CompileError,
    > {
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
                if !builder.resolve_reloc(start + u64::from(r.offset), r.kind, r.addend, target) {
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
            address_map.extend(f.address_map.iter().map(|(o, w)| (start + o, *w)));
        }
        functions.sort_by_key(|f| f.range.start);
        traps.sort_by_key(|t| t.offset);
        address_map.sort_by_key(|(o, _)| *o);
        Ok((text, functions, traps, address_map))
    }
}

/// Functions the host can reach and therefore call through the array
/// convention: exports, the start function, table and element segment
/// contents, and `ref.func` targets in constant expressions (which
/// validation requires for any `ref.func` in a body too).
fn escaping_functions(module: &ModuleTranslation) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for e in &module.exports {
        if e.kind == ExternKind::Func {
            out.insert(e.index);
        }
    }
    out.extend(module.start);
    let from_expr = |ops: &[ConstOp], out: &mut BTreeSet<u32>| {
        for op in ops {
            if let ConstOp::RefFunc(f) = op {
                out.insert(*f);
            }
        }
    };
    for e in &module.elems {
        match &e.items {
            ElemItems::Functions(f) => out.extend(f.iter().copied()),
            ElemItems::Expressions(exprs) => {
                for x in exprs {
                    from_expr(&x.ops, &mut out);
                }
            }
        }
    }
    for g in &module.global_inits {
        from_expr(&g.ops, &mut out);
    }
    for t in module.table_inits.iter().flatten() {
        from_expr(&t.ops, &mut out);
    }
    out
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
