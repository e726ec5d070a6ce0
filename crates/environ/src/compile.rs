//! The interface between the runtime and a native compiler.
//!
//! A native backend (`kiln-cranelift` today, the baseline compiler later)
//! implements [`Compiler`]: it turns a [`ModuleTranslation`] into a
//! [`CompiledModule`], one position-independent text image with the tables
//! the runtime needs to run it (where each function and trampoline is, which
//! instructions trap and why, which wasm operator each instruction came
//! from). Everything here is backend-neutral, so the runtime, the artifact
//! format and a second compiler never name a backend's own types.
//!
//! ```text
//!   ModuleTranslation ──► code_keys() ──► [FuncKey]            what to compile
//!                                           │ Compiler::compile_function, each
//!                                           ▼
//!                                   [CompiledFunction]         code + relocations
//!                                           │ Compiler::compile_module links them
//!                                           ▼
//!                                   CompiledModule             text + tables
//! ```
//!
//! The calling conventions the code follows, and what it may assume of the
//! runtime, are in `docs/native-abi.md`.

use crate::{Builtin, ConstOp, ElemItems, ExternKind, FuncType, ModuleTranslation, TrapCode};
use crate::{Tunables, VMOffsets};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

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

impl fmt::Display for FuncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FuncKey::Wasm(i) => write!(f, "wasm function {i}"),
            FuncKey::ArrayToWasm(i) => write!(f, "array-to-wasm trampoline of function {i}"),
            FuncKey::WasmToArray(t) => write!(f, "wasm-to-array trampoline of type {t}"),
            FuncKey::Builtin(b) => write!(f, "builtin stub `{}`", b.name()),
        }
    }
}

/// How a call site encodes its target, per instruction set. These are the
/// only relocations Kiln's code has: calls from one piece of code of a
/// module to another, resolved when the module's text is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelocationKind {
    /// x86-64: a 32-bit PC-relative displacement (`call rel32`), relative
    /// to the end of the field.
    X86CallPcRel4,
    /// aarch64: a 26-bit word offset in a `bl` instruction (±128 MiB).
    Arm64Call,
    /// s390x: a 32-bit PC-relative halfword offset (`brasl`).
    S390xPcRel32Dbl,
    /// riscv64: an `auipc` + `jalr` pair with a 32-bit PC-relative offset.
    RiscvCallPlt,
}

/// A call from one piece of code to another, at `offset` in the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relocation {
    /// Offset of the patched bytes in the calling function's code.
    pub offset: u32,
    /// How the call site encodes its target.
    pub kind: RelocationKind,
    /// What is called.
    pub target: FuncKey,
    /// Addend to the target's address, as the encoding defines it.
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

/// A call that may raise an exception, made inside a handler scope: where
/// its exceptions are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandlerSite {
    /// Offset of the call's return address (function- or image-relative,
    /// depending on the container): the pc a frame walk sees.
    pub ret_offset: u32,
    /// Offset of the handler's code, relative like `ret_offset`.
    pub handler_offset: u32,
    /// Bytes from the stack pointer at the call up to the frame pointer:
    /// the unwinder resumes the handler with `sp = fp - frame_offset`.
    pub frame_offset: u32,
}

/// A call site's live GC references (a *stack map*): while the call whose
/// return address is at `ret_offset` runs, the 32-bit references the
/// caller still needs are at `sp + slot` for each of `slots`, with `sp`
/// the caller's stack pointer, `frame_offset` bytes below its frame
/// pointer. The collector reads and rewrites them there; the caller
/// reloads them after the call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackMapSite {
    /// Offset of the call's return address, relative like
    /// [`HandlerSite::ret_offset`].
    pub ret_offset: u32,
    /// Bytes from the stack pointer at the call up to the frame pointer.
    pub frame_offset: u32,
    /// Byte offsets from that stack pointer of the live references.
    pub slots: Vec<u32>,
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
    /// Exception handler sites, by offset in `code`.
    pub handlers: Vec<HandlerSite>,
    /// Stack maps of the calls that have live GC references, by offset in
    /// `code`.
    pub stack_maps: Vec<StackMapSite>,
    /// `(code offset, wasm byte offset)`, sorted: the instruction at or
    /// after each code offset comes from the wasm operator at that offset
    /// in the module binary.
    pub address_map: Vec<(u32, u32)>,
    /// Builtins the function calls (their stubs must be compiled too).
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
    /// Exception handler sites, image-relative, sorted by return offset.
    pub handlers: Vec<HandlerSite>,
    /// Stack maps, image-relative, sorted by return offset.
    pub stack_maps: Vec<StackMapSite>,
    /// `(image offset, wasm byte offset)` of wasm functions, sorted.
    pub address_map: Vec<(u32, u32)>,
    /// For each type index, the key of the wasm-to-array trampoline
    /// serving it (types with equal signatures share one).
    pub wasm_to_array: Vec<FuncKey>,
    /// Number of wasm functions compiled (defined functions).
    pub num_defined_funcs: u32,
    /// For a module compiled for tiering (empty otherwise): per defined
    /// function, the image offset its tier-table entry starts at, which is
    /// where a call through its entry continues until optimized code
    /// replaces it. For a function with a tiering entry (baseline code)
    /// that is just past the entry; for one compiled optimized from the
    /// start, its own start. See `docs/native-abi.md`, "Tiering".
    pub tier_entries: Vec<u32>,
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

    /// Checks that these tables fit `module` (each defined function's body
    /// exactly once, every key in range), so that a corrupt or mismatched
    /// precompiled file is refused before anything indexes with it.
    pub fn fits(&self, module: &ModuleTranslation) -> bool {
        let imported = module.num_imported_funcs;
        let defined = module.bodies.len();
        let total = imported as usize + defined;
        let mut seen = alloc::vec![false; defined];
        let mut ok = self.num_defined_funcs as usize == defined
            && self.wasm_to_array.len() == module.types.len();
        for f in &self.functions {
            ok &= match f.key {
                FuncKey::Wasm(i) => match i.checked_sub(imported) {
                    Some(d) if (d as usize) < defined && !seen[d as usize] => {
                        seen[d as usize] = true;
                        true
                    }
                    _ => false,
                },
                FuncKey::ArrayToWasm(i) => i >= imported && (i as usize) < total,
                FuncKey::WasmToArray(i) => (i as usize) < module.types.len(),
                FuncKey::Builtin(_) => true,
            };
        }
        ok && seen.iter().all(|&s| s)
    }
}

/// Why a module or function could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// An operator or feature this backend does not translate (yet).
    Unsupported(String),
    /// The function body could not be read (the module should have been
    /// validated first).
    Wasm(String),
    /// The target triple is unknown or not one the backend compiles for.
    UnsupportedTarget(String),
    /// A code-generation setting was rejected.
    Setting(String),
    /// Code generation failed (a verifier error, an implementation limit).
    Codegen {
        /// Which function (or trampoline) failed.
        function: String,
        /// The code generator's message.
        message: String,
    },
    /// A call could not be resolved in the text image.
    Relocation(String),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Unsupported(what) => write!(f, "unsupported by the compiler: {what}"),
            CompileError::Wasm(what) => write!(f, "malformed function body: {what}"),
            CompileError::UnsupportedTarget(t) => write!(f, "unsupported target `{t}`"),
            CompileError::Setting(what) => write!(f, "invalid compiler setting: {what}"),
            CompileError::Codegen { function, message } => {
                write!(f, "code generation failed for {function}: {message}")
            }
            CompileError::Relocation(what) => write!(f, "unresolvable relocation {what}"),
        }
    }
}

impl core::error::Error for CompileError {}

/// A native compiler for one target and one set of [`Tunables`].
///
/// The runtime holds one per engine as `Box<dyn Compiler>` and names the
/// implementing crate in one place only, where the engine builds it from
/// its `Config`. Everything a compiled module's code relies on (the
/// `VMContext` layout, builtins, trampolines, calling conventions) is in
/// `docs/native-abi.md`, so code from two compilers can call each other.
pub trait Compiler: Send + Sync {
    /// The backend's name (`"cranelift"`), recorded in artifacts so code
    /// is only loaded by an engine of the same backend.
    fn backend(&self) -> &'static str;

    /// The target triple code is compiled for.
    fn triple(&self) -> String;

    /// The target's pointer size in bytes.
    fn pointer_bytes(&self) -> u8;

    /// Whether the target is little-endian.
    fn little_endian(&self) -> bool;

    /// Everything the generated code depends on besides the module and
    /// the [`Tunables`], as `name=value` lines: at least `triple=` and
    /// `isa=` (the CPU features, as space-separated `name=true|false`
    /// words), plus any code generator settings (`flags=`).
    fn settings(&self) -> String;

    /// The settings the compiler follows.
    fn tunables(&self) -> Tunables;

    /// Whether the target can run wasm SIMD (`v128`) code; when it cannot,
    /// functions using it fail to compile with [`CompileError::Unsupported`].
    fn supports_simd(&self) -> bool {
        true
    }

    /// The `VMContext` layout code for `module` assumes.
    fn offsets(&self, module: &ModuleTranslation) -> VMOffsets {
        VMOffsets::new(self.pointer_bytes(), module)
    }

    /// Translates and compiles one piece of code, unlinked.
    fn compile_function(
        &self,
        module: &ModuleTranslation,
        key: FuncKey,
    ) -> Result<CompiledFunction, CompileError>;

    /// Compiles each of `keys`, in order (a backend may spread the work
    /// over threads). A compiler that builds a module from two backends'
    /// code, the baseline compiler handing what it cannot compile to
    /// Cranelift, calls this on the other one.
    fn compile_functions(
        &self,
        module: &ModuleTranslation,
        keys: &[FuncKey],
    ) -> Result<Vec<CompiledFunction>, CompileError> {
        keys.iter()
            .map(|&k| self.compile_function(module, k))
            .collect()
    }

    /// Lays `funcs` (every piece of `module`'s code, from this compiler or
    /// another of the same target) out in one text image and resolves the
    /// calls between them.
    fn link(
        &self,
        module: &ModuleTranslation,
        funcs: Vec<CompiledFunction>,
    ) -> Result<CompiledModule, CompileError>;

    /// Compiles everything [`code_keys`] lists for `module`, plus the
    /// stubs of the builtins the code calls, and links it into one image.
    fn compile_module(&self, module: &ModuleTranslation) -> Result<CompiledModule, CompileError>;

    /// For a tiering compiler (one whose modules have
    /// [`CompiledModule::tier_entries`]): the optimizing compiler that
    /// makes the code hot functions are promoted to, in the background.
    fn tier_up_compiler(&self) -> Option<alloc::sync::Arc<dyn Compiler>> {
        None
    }

    /// Compiles defined function `index`'s *on-stack-replacement entry*
    /// at the loop whose `loop` operator is at wasm byte offset
    /// `loop_offset`: code with the signature `(callee_vmctx,
    /// caller_vmctx, locals, operands) -> results` that reads the
    /// function's locals and the operand stack at the loop's header from a
    /// running baseline frame (the layout is in `docs/native-abi.md`,
    /// "Tiering"), continues the function from that loop, and returns its
    /// results. Unsupported unless the backend implements it.
    fn compile_osr_entry(
        &self,
        module: &ModuleTranslation,
        index: u32,
        loop_offset: u32,
    ) -> Result<CompiledFunction, CompileError> {
        let _ = (module, loop_offset);
        Err(CompileError::Unsupported(alloc::format!(
            "on-stack replacement into wasm function {index} with the {} compiler",
            self.backend()
        )))
    }
}

/// The builtin stubs `funcs` call, as keys to compile (each once, in
/// [`Builtin`] order).
pub fn builtin_stub_keys(funcs: &[CompiledFunction]) -> Vec<FuncKey> {
    let used: BTreeSet<Builtin> = funcs
        .iter()
        .flat_map(|f| f.builtins.iter().copied())
        .collect();
    used.into_iter().map(FuncKey::Builtin).collect()
}

/// What a module needs compiled, in order: every defined function, the
/// array-to-wasm trampoline of each one the host can reach, and one
/// wasm-to-array trampoline per distinct signature. The second list names,
/// for each type index, the trampoline that serves it. Builtin stubs come
/// after, once the functions say which builtins they call.
pub fn code_keys(module: &ModuleTranslation) -> (Vec<FuncKey>, Vec<FuncKey>) {
    let imported = module.num_imported_funcs;
    let total = module.functions.len() as u32;
    let mut keys: Vec<FuncKey> = (imported..total).map(FuncKey::Wasm).collect();
    keys.extend(
        escaping_functions(module)
            .into_iter()
            .filter(|i| (imported..total).contains(i))
            .map(FuncKey::ArrayToWasm),
    );
    let mut by_sig: BTreeMap<&FuncType, u32> = BTreeMap::new();
    let mut wasm_to_array = Vec::with_capacity(module.types.len());
    for (i, ty) in module.types.iter().enumerate() {
        // A struct or array type has no trampoline: its entry names a key
        // no code has, which the loader reads as "none".
        let rep = match ty.as_func() {
            Some(sig) => *by_sig.entry(sig).or_insert_with(|| {
                keys.push(FuncKey::WasmToArray(i as u32));
                i as u32
            }),
            None => i as u32,
        };
        wasm_to_array.push(FuncKey::WasmToArray(rep));
    }
    (keys, wasm_to_array)
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
