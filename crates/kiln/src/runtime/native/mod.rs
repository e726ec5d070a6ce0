//! The native backend's runtime: loading a native compiler's code, the
//! records compiled code reads (`docs/native-abi.md`), and calls between
//! the host and native code.
//!
//! Nothing here knows which compiler made the code: the engine holds a
//! `Box<dyn kiln_environ::Compiler>` (built in `engine.rs`, the one place
//! that names a backend crate) and everything else reads the
//! backend-neutral [`CompiledModule`].
//!
//! ```text
//! native/
//!   mod.rs       engine state, loaded code, funcref and host records (this file)
//!   vmctx.rs     the per-store runtime limits and the per-instance VMContext
//!   call.rs      host → wasm calls inside `call_wasm`, wasm → host entry
//!   builtins.rs  the functions compiled code calls (growth, bulk ops, …)
//!   memory.rs    linear memories in reserved address space
//!   image.rs     copy-on-write initial memory contents
//!   artifact.rs  the precompiled-module file format
//! ```
//!
//! A store of an engine with a native strategy keeps
//! the same records as an interpreter store (`kiln_environ::vm`, in the
//! layouts the ABI names); its functions' records also carry their native
//! entry points and callee contexts, and each instance gets a `VMContext`.

use crate::prelude::*;
pub(crate) mod artifact;
pub(crate) mod builtins;
pub(crate) mod call;
mod gc_builtins;
pub(crate) mod image;
pub(crate) mod memory;
#[cfg(feature = "std")]
pub(crate) mod object;
#[cfg(all(feature = "std", kiln_native))]
pub(crate) mod tiering;
mod unwind;
pub(crate) mod vmctx;

use super::sys::sync::Mutex;
use super::sys::{CodeMemory, CodeRegistration, MemoryImage, Traps, register_code};
use alloc::borrow::Cow;
use alloc::sync::Arc;
use anyhow::{Result, anyhow};
use hashbrown::HashMap;
use kiln_environ::{CompiledModule, Compiler, FuncKey, ModuleTranslation, TrapSite, VMOffsets};

/// What a host function gets as its "callee vmctx": the ABI's magic and
/// array-call entry point, then the store function it stands for.
#[repr(C)]
pub(crate) struct HostContext {
    /// `VMHOST_CONTEXT_MAGIC`.
    pub(crate) magic: u32,
    /// The host entry point in the array convention.
    pub(crate) array_call: usize,
    /// The store index of the host function.
    pub(crate) func: u32,
}

/// Executable pages registered with the signal handler.
///
/// Field order matters: the registration is dropped (unregistering the
/// range) before the code memory is unmapped.
struct Loaded {
    _registration: CodeRegistration,
    memory: CodeSource,
}

/// Where a module's executable code is.
enum CodeSource {
    /// Pages Kiln mapped and filled (compiled here, or from an artifact).
    Mapped(CodeMemory),
    /// Code the system linker put in the program's own text segment (a
    /// statically linked module): Kiln maps and protects nothing.
    Static(&'static [u8]),
}

impl CodeSource {
    fn as_slice(&self) -> &[u8] {
        match self {
            CodeSource::Mapped(m) => m.as_slice(),
            CodeSource::Static(s) => s,
        }
    }
}

/// A module's native code, loaded, plus what the runtime needs to find
/// entry points and name frames.
pub(crate) struct NativeCode {
    /// `None` for a module without code.
    loaded: Option<Loaded>,
    /// The compiler's metadata (function ranges, trap table, address map);
    /// its text is emptied once loaded.
    meta: CompiledModule,
    /// Image offset of each defined function's body, by defined index.
    wasm_offsets: Box<[u32]>,
    /// Image offset of each defined function's array-to-wasm trampoline.
    array_offsets: Box<[Option<u32>]>,
    /// Image offset of the wasm-to-array trampoline of each type index.
    wasm_to_array: Box<[Option<u32>]>,
    /// The module's `VMContext` layout.
    pub(crate) offsets: VMOffsets,
    /// Copy-on-write initial contents of each defined memory, by defined
    /// index (`None`: its data segments are copied).
    pub(crate) images: Box<[Option<MemoryImage>]>,
    /// Tiering state, for code compiled for tiering.
    #[cfg(all(feature = "std", kiln_native))]
    pub(crate) tiering: Option<Arc<tiering::Tiering>>,
}

// SAFETY: the code memory is read-only and executable once loaded, and
// nothing in `NativeCode` is mutated after construction; the registration
// is only dropped with the value.
unsafe impl Send for NativeCode {}
// SAFETY: as above: shared access only reads immutable data.
unsafe impl Sync for NativeCode {}

impl NativeCode {
    /// Loads `compiled` (for `module`) into executable memory and registers
    /// its trap table.
    fn load(
        compiled: CompiledModule,
        text: Text<'_>,
        module: &ModuleTranslation,
        offsets: VMOffsets,
    ) -> Result<Self> {
        let images = image::build_images(module);
        if text.bytes().is_empty() {
            // A module without functions has no code to load.
            return Ok(NativeCode {
                loaded: None,
                wasm_offsets: Box::new([]),
                array_offsets: Box::new([]),
                wasm_to_array: Box::new([]),
                offsets,
                meta: compiled,
                images,
                #[cfg(all(feature = "std", kiln_native))]
                tiering: None,
            });
        }
        let memory = match text {
            Text::Copy(bytes) => CodeSource::Mapped(
                CodeMemory::new(bytes).map_err(|e| anyhow!("failed to map native code: {e}"))?,
            ),
            Text::Static(bytes) => CodeSource::Static(bytes),
        };
        let (start, len) = (memory.as_slice().as_ptr() as usize, memory.as_slice().len());
        let lookup = trap_lookup(compiled.traps.clone());
        let registration = register_code(start, len, lookup)
            .map_err(|e| anyhow!("failed to register native code: {e}"))?;
        let imported = module.num_imported_funcs;
        let defined = compiled.num_defined_funcs as usize;
        let mut wasm_offsets = vec![0; defined].into_boxed_slice();
        let mut array_offsets = vec![None; defined].into_boxed_slice();
        let mut by_key = HashMap::new();
        for f in &compiled.functions {
            by_key.insert(f.key, f.range.start);
            match f.key {
                FuncKey::Wasm(i) => {
                    if let Some(slot) = wasm_offsets.get_mut((i - imported) as usize) {
                        *slot = f.range.start;
                    }
                }
                FuncKey::ArrayToWasm(i) => {
                    if let Some(slot) = array_offsets.get_mut((i - imported) as usize) {
                        *slot = Some(f.range.start);
                    }
                }
                _ => {}
            }
        }
        let wasm_to_array = compiled
            .wasm_to_array
            .iter()
            .map(|k| by_key.get(k).copied())
            .collect();
        let mut meta = compiled;
        // The bytes live in the code memory now.
        meta.text = Vec::new();
        Ok(NativeCode {
            loaded: Some(Loaded {
                _registration: registration,
                memory,
            }),
            wasm_offsets,
            array_offsets,
            wasm_to_array,
            offsets,
            meta,
            images,
            #[cfg(all(feature = "std", kiln_native))]
            tiering: None,
        })
    }

    /// The tier table's address for the `VMContext` (0 without tiering).
    pub(crate) fn tier_table(&self) -> usize {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(t) = &self.tiering {
            return t.table();
        }
        0
    }

    /// The handler of the call in this code whose return address is `ret`:
    /// the handler's address and the call's frame offset.
    pub(crate) fn handler_at(&self, ret: usize) -> Option<(usize, u32)> {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(found) = self.tiering.as_ref().and_then(|t| t.handler_at(ret)) {
            return Some(found);
        }
        let loaded = self.loaded.as_ref()?;
        let base = loaded.memory.as_slice().as_ptr() as usize;
        let offset = u32::try_from(ret.checked_sub(base)?).ok()?;
        if offset as usize > loaded.memory.as_slice().len() {
            return None;
        }
        let handlers = &self.meta.handlers;
        let i = handlers
            .binary_search_by_key(&offset, |h| h.ret_offset)
            .ok()?;
        let h = handlers[i];
        Some((base + h.handler_offset as usize, h.frame_offset))
    }

    /// The stack map of the call in this code whose return address is
    /// `ret`: the call's frame offset and the live references' offsets
    /// from the caller's stack pointer.
    pub(crate) fn stack_map_at(&self, ret: usize) -> Option<(u32, Cow<'_, [u32]>)> {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some((frame, slots)) = self.tiering.as_ref().and_then(|t| t.stack_map_at(ret)) {
            return Some((frame, Cow::Owned(slots)));
        }
        let loaded = self.loaded.as_ref()?;
        let base = loaded.memory.as_slice().as_ptr() as usize;
        let offset = u32::try_from(ret.checked_sub(base)?).ok()?;
        if offset as usize > loaded.memory.as_slice().len() {
            return None;
        }
        let maps = &self.meta.stack_maps;
        let i = maps.binary_search_by_key(&offset, |m| m.ret_offset).ok()?;
        Some((maps[i].frame_offset, Cow::Borrowed(&maps[i].slots)))
    }

    fn base(&self) -> usize {
        self.loaded
            .as_ref()
            .map_or(0, |l| l.memory.as_slice().as_ptr() as usize)
    }

    /// The loaded text image (empty for a module without code).
    pub(crate) fn text(&self) -> &[u8] {
        self.loaded.as_ref().map_or(&[], |l| l.memory.as_slice())
    }

    /// The compiler's tables for this code (its `text` is empty: see
    /// [`NativeCode::text`]).
    pub(crate) fn meta(&self) -> &CompiledModule {
        &self.meta
    }

    /// The function index and wasm byte offset of the code at `pc`, if
    /// `pc` is inside a wasm function of this module.
    pub(crate) fn lookup_pc(&self, pc: usize) -> Option<(u32, Option<u32>)> {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(found) = self.tiering.as_ref().and_then(|t| t.lookup_pc(pc)) {
            return Some(found);
        }
        let loaded = self.loaded.as_ref()?;
        let text = loaded.memory.as_slice();
        if !text.as_ptr_range().contains(&(pc as *const u8)) {
            return None;
        }
        let offset = u32::try_from(pc - self.base()).ok()?;
        match self.meta.lookup_pc(offset)? {
            (FuncKey::Wasm(index), wasm) => Some((index, wasm)),
            _ => None,
        }
    }

    /// Address of defined function `defined`'s body (wasm convention).
    pub(crate) fn wasm_call(&self, defined: u32) -> usize {
        self.base() + self.wasm_offsets[defined as usize] as usize
    }

    /// Address of defined function `defined`'s array-to-wasm trampoline,
    /// or 0 if it has none (the host cannot reach it).
    pub(crate) fn array_call(&self, defined: u32) -> usize {
        self.array_offsets[defined as usize].map_or(0, |o| self.base() + o as usize)
    }

    /// Address of the wasm-to-array trampoline for type index `ty`.
    pub(crate) fn wasm_to_array(&self, ty: u32) -> Option<usize> {
        let o = (*self.wasm_to_array.get(ty as usize)?)?;
        Some(self.base() + o as usize)
    }
}

/// The signal handler's view of code whose trap sites are `traps` (sorted
/// by offset from the code's start).
pub(crate) fn trap_lookup(traps: Vec<TrapSite>) -> super::sys::CodeLookup {
    let traps: Arc<[TrapSite]> = traps.into();
    Arc::new(move |offset: usize| {
        // Runs in the signal handler: a binary search over an immutable
        // table, no allocation, no locks, no panics.
        let offset = u32::try_from(offset).ok()?;
        traps
            .binary_search_by_key(&offset, |t| t.offset)
            .ok()
            .map(|i| traps[i].code)
    })
}

/// A module's text image as handed to [`NativeEngine::load`].
pub(crate) enum Text<'a> {
    /// Bytes to copy into fresh executable pages.
    Copy(&'a [u8]),
    /// Code already in executable memory for the program's whole life (a
    /// statically linked module), run where it is.
    Static(&'static [u8]),
}

impl Text<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Text::Copy(b) => b,
            Text::Static(b) => b,
        }
    }
}

/// A loaded wasm-to-array trampoline: the code that holds it and its
/// address.
type HostTrampoline = (Arc<NativeCode>, usize);

/// An engine's native compiler and what it shares between modules.
///
/// Without a compiler (a build without the `cranelift` feature) it is a
/// *loader*: it runs modules compiled elsewhere, checking their
/// fingerprint against what this host and configuration can run
/// ([`loader_fingerprint`]), and finds host-function trampolines in the
/// modules it has loaded instead of compiling them.
pub(crate) struct NativeEngine {
    compiler: Option<Box<dyn Compiler>>,
    /// Everything compiled code depends on besides the module, as text:
    /// artifacts record it and load only into an engine with the same.
    fingerprint: String,
    /// Whether the compiler targets this host (otherwise the engine only
    /// precompiles, for another machine).
    runs_here: bool,
    /// Wasm-to-array trampolines for host functions, by signature id:
    /// compiled once per signature in a module of one type, kept loaded
    /// for the engine's life. A loader takes them from the first loaded
    /// module that has one for the signature (and keeps that module's code
    /// for the engine's life).
    host_trampolines: Mutex<HashMap<u32, Option<HostTrampoline>>>,
    /// Tiering's background compilation, for a tiering compiler.
    #[cfg(all(feature = "std", kiln_native))]
    tier: Option<Arc<tiering::TierService>>,
}

impl NativeEngine {
    /// An engine around `compiler`, for modules validated with `features`.
    /// `runs_here` says whether its code is for this host; a compiler for
    /// another machine only precompiles. Fails where code for this host
    /// cannot run (no trap handling on this OS or architecture). Installs
    /// the signal handlers only if the compiler's code relies on them
    /// (`Tunables::signals_based_traps`).
    #[cfg_attr(not(kiln_native), allow(dead_code))]
    pub(crate) fn new(
        compiler: Box<dyn Compiler>,
        features: wasmparser::WasmFeatures,
        runs_here: bool,
    ) -> Result<Self> {
        let signals = compiler.tunables().signals_based_traps;
        if runs_here {
            let traps = if signals {
                Traps::init()
            } else {
                Traps::init_without_signals()
            };
            traps
                .map_err(|e| anyhow!("the {} strategy cannot run here: {e}", compiler.backend()))?;
        }
        // The trap mode has a line of its own (it is in the tunables too)
        // so that a mismatch names it.
        let fingerprint = format!(
            "backend={}\n{}\nsignals_based_traps={signals}\ntunables={:?}\nfeatures={:#x}\nabi={}",
            compiler.backend(),
            compiler.settings(),
            compiler.tunables(),
            features.bits(),
            abi_line(compiler.pointer_bytes()),
        );
        Ok(NativeEngine {
            compiler: Some(compiler),
            fingerprint,
            runs_here,
            host_trampolines: Mutex::new(HashMap::new()),
            #[cfg(all(feature = "std", kiln_native))]
            tier: None,
        })
    }

    /// Starts tiering with `config`'s settings: a compiler whose modules
    /// tier up gets the background service that promotes their code.
    #[cfg(all(feature = "std", kiln_native))]
    pub(crate) fn start_tiering(&mut self, config: &crate::Config) -> Result<()> {
        let optimizing = self
            .compiler
            .as_ref()
            .and_then(|c| c.tier_up_compiler())
            .ok_or_else(|| anyhow!("this compiler does not tier up"))?;
        self.tier = Some(tiering::TierService::new(optimizing, config));
        Ok(())
    }

    /// An engine without a compiler, which loads code precompiled for this
    /// host and `tunables`, for modules validated with `features`. Fails
    /// where native code cannot run.
    #[cfg_attr(kiln_native, allow(dead_code))]
    pub(crate) fn loader(
        tunables: kiln_environ::Tunables,
        features: wasmparser::WasmFeatures,
    ) -> Result<Self> {
        // Code compiled without signals-based traps needs no handler.
        let traps = if tunables.signals_based_traps {
            Traps::init()
        } else {
            Traps::init_without_signals()
        };
        traps.map_err(|e| anyhow!("native code cannot run here: {e}"))?;
        Ok(NativeEngine {
            compiler: None,
            fingerprint: loader_fingerprint(tunables, features),
            runs_here: true,
            host_trampolines: Mutex::new(HashMap::new()),
            #[cfg(all(feature = "std", kiln_native))]
            tier: None,
        })
    }

    /// Whether the compiler's target can run wasm SIMD code (a loader:
    /// whatever the artifact's compiler accepted).
    pub(crate) fn supports_simd(&self) -> bool {
        self.compiler.as_ref().is_none_or(|c| c.supports_simd())
    }

    /// The compiler's settings (`Compiler::settings`): target, CPU
    /// features, code generator flags; for a loader, the host triple.
    pub(crate) fn settings(&self) -> String {
        match &self.compiler {
            Some(c) => c.settings(),
            None => format!("triple={HOST_TRIPLE}\ncompiler=none (loads precompiled modules only)"),
        }
    }

    /// The target triple code is compiled for (or, for a loader, runs on).
    pub(crate) fn triple(&self) -> String {
        match &self.compiler {
            Some(c) => c.triple(),
            None => HOST_TRIPLE.to_string(),
        }
    }

    /// Whether this engine compiles (it is not a loader).
    pub(crate) fn can_compile(&self) -> bool {
        self.compiler.is_some()
    }

    /// The compiler, or the error a loader gives when asked to compile.
    fn compiler(&self) -> Result<&dyn Compiler> {
        self.compiler.as_deref().ok_or_else(|| {
            anyhow!(
                "this build of Kiln has no native compiler (the `cranelift` feature is off): \
                 it can only load modules precompiled with `kiln compile` (Module::deserialize), \
                 or run them on the interpreter"
            )
        })
    }

    /// What compiled code depends on besides the module (see the field).
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Errors, naming the first field that differs, unless code written by
    /// an engine with fingerprint `theirs` may run in this one.
    pub(crate) fn check_compatible(&self, theirs: &str) -> Result<()> {
        match self.compiler {
            Some(_) => check_compatible(theirs, &self.fingerprint),
            None => check_loadable(theirs, &self.fingerprint),
        }
    }

    /// Compiles `module` without loading it.
    pub(crate) fn compile_only(&self, module: &ModuleTranslation) -> Result<CompiledModule> {
        self.compiler()?
            .compile_module(module)
            .map_err(|e| anyhow!("failed to compile WebAssembly module: {e}"))
    }

    /// Compiles and loads `module`, with tiering if the compiler tiers.
    pub(crate) fn compile(&self, module: &Arc<ModuleTranslation>) -> Result<Arc<NativeCode>> {
        let mut compiled = self.compile_only(module)?;
        let text = core::mem::take(&mut compiled.text);
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(service) = &self.tier
            && !compiled.tier_entries.is_empty()
        {
            let entries = core::mem::take(&mut compiled.tier_entries);
            let mut code = self.load_code(compiled, Text::Copy(&text), module)?;
            let tiering = tiering::Tiering::new(service.clone(), module.clone(), &code, &entries);
            code.tiering = Some(tiering);
            return Ok(Arc::new(code));
        }
        self.load(compiled, Text::Copy(&text), module)
    }

    /// Loads code compiled for `module` (here or read from an artifact):
    /// `text` is the image, `compiled` its tables (its own `text` is not
    /// used, so an artifact's bytes need not be copied out of the file).
    pub(crate) fn load(
        &self,
        compiled: CompiledModule,
        text: Text<'_>,
        module: &ModuleTranslation,
    ) -> Result<Arc<NativeCode>> {
        Ok(Arc::new(self.load_code(compiled, text, module)?))
    }

    fn load_code(
        &self,
        compiled: CompiledModule,
        text: Text<'_>,
        module: &ModuleTranslation,
    ) -> Result<NativeCode> {
        if !self.runs_here {
            anyhow::bail!(
                "this engine compiles for `{}`, not for this host: its modules can only be precompiled",
                self.triple()
            );
        }
        // The layout every backend uses for this host's pointer width.
        let offsets = VMOffsets::new(size_of::<usize>() as u8, module);
        NativeCode::load(compiled, text, module, offsets)
    }

    /// Offers a loaded module's wasm-to-array trampolines (for its types,
    /// whose signature ids are `sigs`) to host functions created later; a
    /// loader has no other source of them. Keeps the first module that
    /// has one for a signature loaded for the engine's life.
    pub(crate) fn offer_trampolines(&self, code: &Arc<NativeCode>, sigs: &[u32]) {
        if self.compiler.is_some() {
            return;
        }
        let mut cache = self.host_trampolines.lock();
        for (ty, &sig) in sigs.iter().enumerate() {
            if let Some(addr) = code.wasm_to_array(ty as u32) {
                cache
                    .entry(sig)
                    .or_insert_with(|| Some((code.clone(), addr)));
            }
        }
    }

    /// The wasm-to-array trampoline wasm uses to call a host function of
    /// type `ty` (signature id `sig`), or `None` if it could not be built
    /// (or, for a loader, no loaded module has one yet).
    pub(crate) fn host_trampoline(&self, sig: u32, ty: &kiln_environ::FuncType) -> Option<usize> {
        let mut cache = self.host_trampolines.lock();
        if self.compiler.is_none() {
            return cache.get(&sig)?.as_ref().map(|(_, addr)| *addr);
        }
        cache
            .entry(sig)
            .or_insert_with(|| {
                let wasm = type_only_module(ty);
                let t =
                    kiln_environ::translate_module(&wasm, kiln_environ::default_features()).ok()?;
                let code = self.compile(&Arc::new(t)).ok()?;
                let addr = code.wasm_to_array(0)?;
                Some((code, addr))
            })
            .as_ref()
            .map(|(_, addr)| *addr)
    }
}

/// A binary module with one type section entry, `ty`, and nothing else:
/// compiling it yields exactly the wasm-to-array trampoline for `ty`.
fn type_only_module(ty: &kiln_environ::FuncType) -> Vec<u8> {
    use kiln_environ::ValType;
    fn code(t: &ValType) -> u8 {
        match t {
            ValType::I32 => 0x7f,
            ValType::I64 => 0x7e,
            ValType::F32 => 0x7d,
            ValType::F64 => 0x7c,
            ValType::V128 => 0x7b,
            // Every reference is 64 bits at the machine level, so a
            // trampoline for `funcref` serves any reference type.
            ValType::Ref(_) => 0x70,
        }
    }
    fn leb(out: &mut Vec<u8>, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut body = vec![1, 0x60];
    leb(&mut body, ty.params.len());
    body.extend(ty.params.iter().map(code));
    leb(&mut body, ty.results.len());
    body.extend(ty.results.iter().map(code));
    let mut wasm = b"\0asm\x01\0\0\0\x01".to_vec();
    leb(&mut wasm, body.len());
    wasm.extend(body);
    wasm
}

/// Whether code written by an engine with fingerprint `theirs` may run in
/// one with `ours`: every field equal, except that the CPU features the
/// code was compiled for need only be a subset of this host's. The error
/// names the first field that differs.
fn check_compatible(theirs: &str, ours: &str) -> Result<()> {
    for (name, what) in [
        ("backend", "compiler backend"),
        ("triple", "target"),
        ("isa", "set of CPU features"),
        ("flags", "set of code generator settings"),
        TRAP_MODE,
        ("tunables", "set of memory or fuel settings"),
        ("features", "set of WebAssembly features"),
        ("abi", "runtime ABI (another build of Kiln)"),
    ] {
        let (a, b) = (field(theirs, name), field(ours, name));
        let fits = if name == "isa" {
            isa_features_fit(&a, &b)
        } else {
            a == b
        };
        if !fits {
            anyhow::bail!(
                "the precompiled module was compiled for a different {what} (module: `{a}`; engine: `{b}`); compile it again with this engine's settings"
            );
        }
    }
    Ok(())
}

/// The fingerprint line of the trap mode, and how a mismatch names it: a
/// line of its own (the mode is in `tunables=` too) so that the error
/// says which setting to change.
const TRAP_MODE: (&str, &str) = (
    "signals_based_traps",
    "trap mode, `signals_based_traps` (`Config::signals_based_traps`, `-W signals-based-traps`)",
);

/// The value of line `name=` of fingerprint `fp` ("" if absent).
fn field(fp: &str, name: &str) -> String {
    fp.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("")
        .to_string()
}

/// The target triple this build of Kiln runs on, as cargo named it.
const HOST_TRIPLE: &str = env!("KILN_HOST_TRIPLE");

/// What a loader (an engine without a compiler) requires of an artifact:
/// the fields it can know without a compiler, in the compiler
/// fingerprint's format. The compiler's own lines (`backend`, `isa`,
/// `flags`) are `*`: [`check_loadable`] judges them.
fn loader_fingerprint(
    tunables: kiln_environ::Tunables,
    features: wasmparser::WasmFeatures,
) -> String {
    format!(
        "backend=*\ntriple={HOST_TRIPLE}\nisa=*\nflags=*\nsignals_based_traps={}\ntunables={tunables:?}\nfeatures={:#x}\nabi={}",
        tunables.signals_based_traps,
        features.bits(),
        abi_line(size_of::<usize>() as u8),
    )
}

/// The runtime ABI as compiled code sees it, for `pointer_bytes`-byte
/// pointers: the builtin table's order and the `VMContext` layout (a
/// sample with one of each entity). Artifacts of the same Kiln version with
/// another ABI (a development build) are then refused instead of misread.
fn abi_line(pointer_bytes: u8) -> String {
    let builtins: Vec<&str> = kiln_environ::Builtin::ALL
        .iter()
        .map(|b| b.name())
        .collect();
    let layout = VMOffsets::from_counts(pointer_bytes, 1, 1, 1, 1, 1);
    format!("{} {layout:?}", builtins.join(","))
}

/// Errors, naming the first field that does not fit, unless an artifact
/// with fingerprint `theirs` runs in a loader with fingerprint `ours`
/// ([`loader_fingerprint`]): same target, tunables, wasm features and
/// runtime ABI, and every CPU feature the code was compiled to use present
/// on this CPU where the standard library can tell (x86_64 and aarch64);
/// elsewhere the caller of `Module::deserialize`, which is `unsafe`,
/// vouches for the CPU. Any backend's code is accepted: they share the ABI.
fn check_loadable(theirs: &str, ours: &str) -> Result<()> {
    if field(theirs, "backend").is_empty() {
        anyhow::bail!(
            "the precompiled module names no compiler backend; it is not a Kiln artifact"
        );
    }
    for (name, what) in [
        ("triple", "target"),
        TRAP_MODE,
        ("tunables", "set of memory or fuel settings"),
        ("features", "set of WebAssembly features"),
        ("abi", "runtime ABI (another build of Kiln)"),
    ] {
        let (a, b) = (field(theirs, name), field(ours, name));
        if a != b {
            anyhow::bail!(
                "the precompiled module was compiled for a different {what} (module: `{a}`; engine: `{b}`); compile it again with this engine's settings"
            );
        }
    }
    if let Some(missing) = missing_cpu_feature(&field(theirs, "isa")) {
        anyhow::bail!(
            "the precompiled module was compiled for a CPU with `{missing}`, which this CPU lacks; compile it again for this machine"
        );
    }
    Ok(())
}

/// The first CPU feature the ISA flags `needed` (Cranelift's `has_*=true`
/// words) turn on that this CPU lacks, where `std` can detect it; a flag
/// this function cannot map counts as missing, so unknown code is refused
/// rather than run.
fn missing_cpu_feature(needed: &str) -> Option<String> {
    let on = needed
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .filter(|&(_, v)| v == "true")
        .map(|(name, _)| name);
    for name in on {
        if !cpu_has(name)? {
            return Some(name.to_string());
        }
    }
    None
}

/// Whether this CPU has the feature Cranelift calls `name`: `Some(bool)`
/// where it can be told, `None` where it cannot be checked here (no `std`,
/// or an architecture `std` cannot query on stable Rust), which accepts.
#[allow(unreachable_code)]
fn cpu_has(name: &str) -> Option<bool> {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        use std::arch::is_x86_feature_detected as has;
        return Some(match name {
            "has_sse3" => has!("sse3"),
            "has_ssse3" => has!("ssse3"),
            "has_cmpxchg16b" => has!("cmpxchg16b"),
            "has_sse41" => has!("sse4.1"),
            "has_sse42" => has!("sse4.2"),
            "has_avx" => has!("avx"),
            "has_avx2" => has!("avx2"),
            "has_fma" => has!("fma"),
            "has_bmi1" => has!("bmi1"),
            "has_bmi2" => has!("bmi2"),
            "has_popcnt" => has!("popcnt"),
            "has_lzcnt" => has!("lzcnt"),
            "has_avx512bitalg" => has!("avx512bitalg"),
            "has_avx512dq" => has!("avx512dq"),
            "has_avx512f" => has!("avx512f"),
            "has_avx512vl" => has!("avx512vl"),
            "has_avx512vbmi" => has!("avx512vbmi"),
            "has_avx512vnni" => has!("avx512vnni"),
            "has_avx_vnni" => has!("avxvnni"),
            _ => false,
        });
    }
    #[cfg(all(feature = "std", target_arch = "aarch64"))]
    {
        use std::arch::is_aarch64_feature_detected as has;
        return Some(match name {
            "has_lse" => has!("lse"),
            "has_pauth" => has!("paca"),
            "has_fp16" => has!("fp16"),
            "has_dotprod" => has!("dotprod"),
            "has_i8mm" => has!("i8mm"),
            "sign_return_address" | "sign_return_address_all" | "sign_return_address_with_bkey" => {
                has!("paca")
            }
            "use_bti" => has!("bti"),
            _ => false,
        });
    }
    let _ = name;
    None
}

/// Whether code needing the ISA flags `needed` (`name=value` words) runs
/// on a CPU with `host`'s: each feature it turned on is on here, and
/// every non-boolean setting is equal.
fn isa_features_fit(needed: &str, host: &str) -> bool {
    let host: hashbrown::HashMap<&str, &str> = host
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect();
    needed
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .all(|(name, value)| match value {
            "false" => true,
            _ => host.get(name) == Some(&value),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_environ::{VMCONTEXT_MAGIC, ValType};

    #[test]
    fn host_context_matches_the_abi() {
        let o = VMOffsets::from_counts(size_of::<usize>() as u8, 0, 0, 0, 0, 0);
        assert_eq!(
            o.host_ctx_magic() as usize,
            core::mem::offset_of!(HostContext, magic)
        );
        assert_eq!(
            o.host_ctx_array_call() as usize,
            core::mem::offset_of!(HostContext, array_call)
        );
        assert_ne!(VMCONTEXT_MAGIC, 0);
    }

    #[test]
    fn type_only_module_is_valid() {
        let ty = kiln_environ::FuncType::new(
            [ValType::I32, ValType::V128, ValType::FUNCREF],
            [ValType::F64, ValType::EXTERNREF],
        );
        let t = kiln_environ::translate_module(
            &type_only_module(&ty),
            kiln_environ::default_features(),
        )
        .unwrap();
        assert_eq!(t.types.len(), 1);
        // References are all 64 bits to a trampoline: encoded as funcref.
        let same_abi = kiln_environ::FuncType::new(
            [ValType::I32, ValType::V128, ValType::FUNCREF],
            [ValType::F64, ValType::FUNCREF],
        );
        assert_eq!(*t.signature(0), same_abi);
    }

    #[test]
    fn cpu_features_need_only_be_present() {
        let host = "has_avx=true has_sse41=true has_avx512f=false";
        assert!(isa_features_fit("has_sse41=true has_avx=false", host));
        assert!(isa_features_fit("", host));
        assert!(!isa_features_fit("has_avx512f=true", host));
        assert!(!isa_features_fit("has_bmi2=true", host));
        assert!(!isa_features_fit("sign_return_address_with_bkey=b", "x=a"));
    }

    #[test]
    fn fingerprints_compare_field_by_field() {
        let ours = "triple=x\nflags=a=1\nisa=f=true g=true\ntunables=T\nfeatures=0x1";
        assert!(check_compatible(ours, ours).is_ok());
        let fewer = "triple=x\nflags=a=1\nisa=f=true g=false\ntunables=T\nfeatures=0x1";
        assert!(check_compatible(fewer, ours).is_ok());
        let err = check_compatible(ours, fewer).unwrap_err().to_string();
        assert!(err.contains("CPU features"), "{err}");
        let other = "triple=y\nflags=a=1\nisa=\ntunables=T\nfeatures=0x1";
        let err = check_compatible(other, ours).unwrap_err().to_string();
        assert!(err.contains("target"), "{err}");
        let with = "triple=x\nflags=a=1\nisa=\nsignals_based_traps=true\ntunables=T";
        let without = "triple=x\nflags=a=1\nisa=\nsignals_based_traps=false\ntunables=U";
        let err = check_compatible(without, with).unwrap_err().to_string();
        assert!(err.contains("`signals_based_traps`"), "{err}");
        assert!(err.contains("module: `false`; engine: `true`"), "{err}");
    }

    /// A loader accepts exactly what this build's own compiler writes for
    /// the same configuration, and names the field that differs otherwise.
    #[cfg(kiln_native)]
    #[test]
    fn a_loader_accepts_its_hosts_compiler_and_names_what_differs() {
        let config = crate::Config::new()
            .strategy(crate::Strategy::Cranelift)
            .clone();
        let engine = crate::Engine::new(&config).unwrap();
        let compiled = engine.native().unwrap().fingerprint().to_string();
        let loader = loader_fingerprint(config.tunables(), config.features);
        check_loadable(&compiled, &loader).unwrap();

        let swap = |name: &str, value: &str| {
            compiled
                .lines()
                .map(|l| match l.split_once('=') {
                    Some((n, _)) if n == name => format!("{n}={value}"),
                    _ => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (name, what) in [
            ("triple", "different target"),
            ("signals_based_traps", "`signals_based_traps`"),
            ("tunables", "memory or fuel settings"),
            ("features", "WebAssembly features"),
            ("abi", "runtime ABI"),
        ] {
            let err = check_loadable(&swap(name, "other"), &loader)
                .unwrap_err()
                .to_string();
            assert!(err.contains(what), "{name}: {err}");
        }
        let err = check_loadable(&swap("backend", ""), &loader)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no compiler backend"), "{err}");
        // Code compiled for a CPU feature this function cannot check (or
        // this CPU lacks) is refused where `std` can tell.
        let needs = format!("{} has_made_up_feature=true", field(&compiled, "isa"));
        let result = check_loadable(&swap("isa", &needs), &loader);
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            let err = result.unwrap_err().to_string();
            assert!(err.contains("has_made_up_feature"), "{err}");
        } else {
            result.unwrap();
        }
    }
}
