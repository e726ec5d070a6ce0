//! Kiln's baseline compiler: WebAssembly to machine code in one pass.
//!
//! Each function is compiled by one walk over its operators, with no
//! intermediate representation: an operand stack that knows which values
//! are constants, locals, registers or spilled decides the instructions as
//! it goes (`x64`). The code follows the same ABI as `kiln-cranelift`'s
//! (`docs/native-abi.md`), so the two compilers' functions call each other
//! in one module. Code it does not translate yet (SIMD, GC, exceptions,
//! tail calls, fuel) goes to the optimizing compiler it was built with,
//! function by function, unless fallback is off; that compiler also makes
//! the trampolines and builtin stubs and links the image.
//!
//! The runtime (`kiln`'s engine) builds it for `Strategy::Baseline`; the
//! design is in `docs/baseline.md`. It compiles for x86-64 hosts only for
//! now.

mod x64;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kiln_environ::{
    CompileError, CompiledFunction, CompiledModule, Compiler, FuncKey, ModuleTranslation, Tunables,
    VMOffsets,
};

/// CPU features the generated code may use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuFeatures {
    /// `lzcnt`.
    pub lzcnt: bool,
    /// `tzcnt` (BMI1).
    pub bmi1: bool,
    /// `popcnt`.
    pub popcnt: bool,
    /// `roundss`/`roundsd` (SSE4.1).
    pub sse41: bool,
}

impl CpuFeatures {
    /// What this machine's CPU has.
    pub fn host() -> CpuFeatures {
        #[cfg(target_arch = "x86_64")]
        {
            CpuFeatures {
                lzcnt: std::is_x86_feature_detected!("lzcnt"),
                bmi1: std::is_x86_feature_detected!("bmi1"),
                popcnt: std::is_x86_feature_detected!("popcnt"),
                sse41: std::is_x86_feature_detected!("sse4.1"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        CpuFeatures::default()
    }
}

/// What a function's translation reads: the module and the settings.
pub(crate) struct Env<'a> {
    module: &'a ModuleTranslation,
    offsets: VMOffsets,
    tunables: Tunables,
    cpu: CpuFeatures,
    /// Whether functions get tiering entries and counters.
    tiered: bool,
}

/// The baseline compiler for one host, paired with the optimizing
/// compiler that makes what it does not.
pub struct BaselineCompiler {
    optimizing: Arc<dyn Compiler>,
    cpu: CpuFeatures,
    fallback: bool,
    tiered: bool,
}

impl BaselineCompiler {
    /// A baseline compiler for this host. `optimizing` (the engine's
    /// Cranelift compiler for the same target and tunables) makes the
    /// trampolines, the builtin stubs, and, when `fallback` is set, the
    /// functions this compiler cannot translate yet; with `fallback`
    /// off such a function fails to compile.
    pub fn new(optimizing: Box<dyn Compiler>, fallback: bool) -> Result<Self, CompileError> {
        let triple = optimizing.triple();
        if !cfg!(target_arch = "x86_64") || !triple.starts_with("x86_64") {
            return Err(CompileError::UnsupportedTarget(format!(
                "{triple} (the baseline compiler makes x86-64 code for this host only)"
            )));
        }
        Ok(BaselineCompiler {
            optimizing: Arc::from(optimizing),
            cpu: CpuFeatures::host(),
            fallback,
            tiered: false,
        })
    }

    /// The same compiler making code that tiers up: each function gets a
    /// tiering entry and counters (`docs/native-abi.md`, "Tiering"), and
    /// the optimizing compiler is offered to the runtime to promote hot
    /// functions with. Functions this compiler cannot translate are
    /// optimized from the start (fallback is always on).
    pub fn tiered(mut self) -> Self {
        self.tiered = true;
        self.fallback = true;
        self
    }

    fn env<'a>(&self, module: &'a ModuleTranslation) -> Env<'a> {
        Env {
            module,
            offsets: self.optimizing.offsets(module),
            tunables: self.optimizing.tunables(),
            cpu: self.cpu,
            tiered: self.tiered,
        }
    }

    /// Compiles wasm function `index` with this compiler alone.
    pub fn compile_wasm(
        &self,
        module: &ModuleTranslation,
        index: u32,
    ) -> Result<CompiledFunction, CompileError> {
        if module.is_imported_func(index) || index as usize >= module.functions.len() {
            return Err(CompileError::Unsupported(format!(
                "wasm function {index}: no such defined function"
            )));
        }
        x64::compile_function(&self.env(module), index)
    }
}

impl Compiler for BaselineCompiler {
    fn backend(&self) -> &'static str {
        if self.tiered { "tiered" } else { "baseline" }
    }

    fn triple(&self) -> String {
        self.optimizing.triple()
    }

    fn pointer_bytes(&self) -> u8 {
        self.optimizing.pointer_bytes()
    }

    fn little_endian(&self) -> bool {
        self.optimizing.little_endian()
    }

    fn settings(&self) -> String {
        let c = self.cpu;
        format!(
            "{}\nbaseline=x64 lzcnt={} bmi1={} popcnt={} sse41={}\nbaseline_fallback={}",
            self.optimizing.settings(),
            c.lzcnt,
            c.bmi1,
            c.popcnt,
            c.sse41,
            self.fallback
        )
    }

    fn tunables(&self) -> Tunables {
        self.optimizing.tunables()
    }

    fn supports_simd(&self) -> bool {
        self.optimizing.supports_simd()
    }

    fn offsets(&self, module: &ModuleTranslation) -> VMOffsets {
        self.optimizing.offsets(module)
    }

    fn compile_function(
        &self,
        module: &ModuleTranslation,
        key: FuncKey,
    ) -> Result<CompiledFunction, CompileError> {
        match key {
            FuncKey::Wasm(i) => match self.compile_wasm(module, i) {
                Err(e) if self.falls_back(&e) => self.optimizing.compile_function(module, key),
                r => r,
            },
            _ => self.optimizing.compile_function(module, key),
        }
    }

    fn link(
        &self,
        module: &ModuleTranslation,
        funcs: Vec<CompiledFunction>,
    ) -> Result<CompiledModule, CompileError> {
        self.optimizing.link(module, funcs)
    }

    fn compile_module(&self, module: &ModuleTranslation) -> Result<CompiledModule, CompileError> {
        let (keys, _) = kiln_environ::code_keys(module);
        let wasm: Vec<u32> = keys
            .iter()
            .filter_map(|k| match k {
                FuncKey::Wasm(i) => Some(*i),
                _ => None,
            })
            .collect();
        let mut compiled = Vec::with_capacity(keys.len());
        let mut rest: Vec<FuncKey> = keys
            .iter()
            .copied()
            .filter(|k| !matches!(k, FuncKey::Wasm(_)))
            .collect();
        let mut baseline = Vec::with_capacity(wasm.len());
        for (i, r) in wasm.iter().zip(self.compile_all(module, &wasm)) {
            match r {
                Ok(f) => {
                    compiled.push(f);
                    baseline.push(*i);
                }
                Err(e) if self.falls_back(&e) => rest.push(FuncKey::Wasm(*i)),
                Err(e) => return Err(e),
            }
        }
        // The optimizing compiler spreads its share over its threads.
        compiled.extend(self.optimizing.compile_functions(module, &rest)?);
        let stubs = kiln_environ::builtin_stub_keys(&compiled);
        compiled.extend(self.optimizing.compile_functions(module, &stubs)?);
        let mut linked = self.optimizing.link(module, compiled)?;
        if self.tiered {
            linked.tier_entries = tier_entries(module, &linked, &baseline);
        }
        Ok(linked)
    }

    fn tier_up_compiler(&self) -> Option<Arc<dyn Compiler>> {
        self.tiered.then(|| self.optimizing.clone())
    }

    fn compile_osr_entry(
        &self,
        module: &ModuleTranslation,
        index: u32,
        loop_offset: u32,
    ) -> Result<CompiledFunction, CompileError> {
        self.optimizing
            .compile_osr_entry(module, index, loop_offset)
    }
}

/// Where each defined function's tier-table entry starts pointing: past
/// the tiering entry of a function compiled here (`baseline`, sorted), at
/// the start of one the optimizing compiler made.
fn tier_entries(module: &ModuleTranslation, linked: &CompiledModule, baseline: &[u32]) -> Vec<u32> {
    let imported = module.num_imported_funcs;
    let mut entries = vec![0; module.bodies.len()];
    for f in &linked.functions {
        if let FuncKey::Wasm(i) = f.key {
            let skip = if baseline.binary_search(&i).is_ok() {
                x64::tier::ENTRY_BYTES
            } else {
                0
            };
            entries[(i - imported) as usize] = f.range.start + skip;
        }
    }
    entries
}

impl BaselineCompiler {
    /// Whether a function that failed with `e` goes to the optimizing
    /// compiler instead: what this compiler does not translate yet, when
    /// fallback is on.
    fn falls_back(&self, e: &CompileError) -> bool {
        self.fallback && matches!(e, CompileError::Unsupported(_))
    }

    /// Compiles wasm functions `indices` on a pool of scoped threads (one
    /// per core, the calling thread among them), each pulling the next
    /// index from a shared counter; the results come back in order.
    fn compile_all(
        &self,
        module: &ModuleTranslation,
        indices: &[u32],
    ) -> Vec<Result<CompiledFunction, CompileError>> {
        let env = self.env(module);
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(indices.len() / 16 + 1);
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Result<CompiledFunction, CompileError>>>> =
            Mutex::new((0..indices.len()).map(|_| None).collect());
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&index) = indices.get(i) else { break };
                done.push((i, x64::compile_function(&env, index)));
            }
            let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
            for (i, r) in done {
                results[i] = Some(r);
            }
        };
        std::thread::scope(|s| {
            for _ in 1..threads {
                s.spawn(work);
            }
            work();
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| r.expect("every index was compiled"))
            .collect()
    }
}
