//! [`Engine`]: configuration plus the engine-wide type registry.

use crate::prelude::*;
use crate::runtime::native::NativeEngine;
use crate::runtime::sys::sync::{Mutex, MutexGuard};
use crate::type_registry::{RegisteredType, TypeRegistry};
use crate::{Config, Strategy};
use alloc::sync::Arc;
use anyhow::Result;
use kiln_environ::wasmparser::WasmFeatures;

/// The root of everything: global configuration and state shared by all
/// modules and stores created from it.
///
/// Cheap to clone (an `Arc` inside), `Send` and `Sync`.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    config: Config,
    /// The canonical types of every module and host signature.
    types: Mutex<TypeRegistry>,
    /// The native compiler, when the strategy is native.
    native: Option<NativeEngine>,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default()).expect("the default config is valid")
    }
}

impl Engine {
    /// Creates an engine with `config`.
    pub fn new(config: &Config) -> crate::Result<Engine> {
        #[cfg(not(feature = "simd"))]
        if config
            .features
            .intersects(WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD)
        {
            anyhow::bail!(
                "this build of Kiln cannot run SIMD (it lacks the `simd` cargo feature); \
                 disable the proposal with `Config::wasm_simd(false)`"
            );
        }
        #[cfg(not(feature = "gc"))]
        if config.features.contains(WasmFeatures::GC) {
            anyhow::bail!(
                "this build of Kiln cannot run the GC proposal (it lacks the `gc` cargo \
                 feature); disable it with `Config::wasm_gc(false)`"
            );
        }
        if config.max_wasm_stack == 0 {
            anyhow::bail!("`max_wasm_stack` must be greater than zero");
        }
        let native = match (&config.target, config.strategy, config.resolved_strategy()) {
            (Some(_), Strategy::Interpreter, _) => anyhow::bail!(
                "a compilation target needs the Cranelift strategy: the interpreter has no target"
            ),
            (_, Strategy::Baseline | Strategy::Tiered, _) => {
                Some(native_engine(config, config.target.as_deref())?)
            }
            // Another machine's code: nothing here has to support running it.
            (Some(triple), _, _) => Some(native_engine(config, Some(triple))?),
            // Asked for by name: failing to set it up is an error.
            (None, Strategy::Cranelift, _) => Some(native_engine(config, None)?),
            // Chosen by default: fall back to the interpreter where native
            // code cannot run, or could not run SIMD modules the config
            // accepts (riscv64 without the vector extension).
            (None, _, Strategy::Cranelift) => native_engine(config, None)
                .ok()
                .filter(|n| n.supports_simd() || !config.features.contains(WasmFeatures::SIMD)),
            _ => None,
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                types: Mutex::new(TypeRegistry::default()),
                native,
            }),
        })
    }

    /// The backend this engine actually runs code with:
    /// [`Strategy::Cranelift`], [`Strategy::Baseline`],
    /// [`Strategy::Tiered`] or
    /// [`Strategy::Interpreter`], never
    /// [`Strategy::Auto`] (resolved for this host, including the fallback
    /// to the interpreter where native code cannot be set up).
    pub fn strategy(&self) -> Strategy {
        if self.inner.native.is_some() {
            match self.inner.config.strategy {
                s @ (Strategy::Baseline | Strategy::Tiered) => s,
                _ => Strategy::Cranelift,
            }
        } else {
            Strategy::Interpreter
        }
    }

    /// Compiles a module (binary, or text with the `wat` feature) for this
    /// engine's target and returns it as a precompiled artifact, which
    /// [`Module::deserialize`](crate::Module::deserialize) loads on a
    /// machine of that target with an engine of the same configuration.
    /// The module is validated; nothing is loaded or run here, so an
    /// engine made with [`Config::target`] can precompile for another
    /// machine.
    pub fn precompile_module(&self, bytes: &[u8]) -> crate::Result<Vec<u8>> {
        let (native, translation, compiled) = self.compile_ahead(bytes)?;
        Ok(crate::runtime::native::artifact::write(
            native.fingerprint(),
            &translation.wasm,
            &compiled,
            &compiled.text,
        ))
    }

    /// Validates and compiles `bytes` (binary, or text with the `wat`
    /// feature) with the native compiler, loading nothing.
    fn compile_ahead(
        &self,
        bytes: &[u8],
    ) -> crate::Result<(
        &NativeEngine,
        Arc<kiln_environ::ModuleTranslation>,
        kiln_environ::CompiledModule,
    )> {
        let Some(native) = self.native() else {
            anyhow::bail!(
                "precompiling needs an engine with the Cranelift strategy; this one interprets"
            );
        };
        if self.inner.config.strategy == Strategy::Tiered {
            anyhow::bail!(
                "tiered code is compiled in the process that runs it: precompile with the \
                 baseline or Cranelift strategy instead"
            );
        }
        #[cfg(feature = "wat")]
        let text;
        #[cfg(feature = "wat")]
        let bytes = if bytes.starts_with(b"\0asm") {
            bytes
        } else {
            text = wat::parse_bytes(bytes)?;
            &text[..]
        };
        let (translation, _) = crate::module::translate(self, bytes)?;
        let compiled = native.compile_only(&translation)?;
        Ok((native, translation, compiled))
    }

    /// Compiles a module (binary, or text with the `wat` feature) into a
    /// relocatable ELF object for this engine's target, exporting `symbol`:
    /// a [`StaticModule`](crate::StaticModule) that
    /// [`Module::from_static`](crate::Module::from_static) loads once the
    /// object is linked into a program. `symbol` must be a C identifier.
    #[cfg(feature = "std")]
    pub fn precompile_object(&self, bytes: &[u8], symbol: &str) -> crate::Result<Vec<u8>> {
        if !crate::runtime::native::object::is_symbol_name(symbol) {
            anyhow::bail!(
                "`{symbol}` is not a valid symbol name (letters, digits and `_`, not starting with a digit)"
            );
        }
        let (native, translation, compiled) = self.compile_ahead(bytes)?;
        let meta = crate::runtime::native::artifact::write(
            native.fingerprint(),
            &translation.wasm,
            &compiled,
            &[],
        );
        crate::runtime::native::object::write(&native.triple(), symbol, &compiled.text, &meta)
    }

    /// What the native compiler generates code for, as `name=value` lines
    /// (`triple=`, `isa=` with the CPU features, `flags=`), or `None` when
    /// this engine interprets.
    pub fn native_settings(&self) -> Option<String> {
        self.native().map(|n| n.settings())
    }

    /// The native compiler, if this engine runs native code.
    pub(crate) fn native(&self) -> Option<&NativeEngine> {
        self.inner.native.as_ref()
    }

    /// The configuration this engine was created with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether `a` and `b` are the same engine (clones of one another).
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The registry id of the function type `key` (canonical: its
    /// concrete heap types are registry ids), as a final type of its own
    /// recursion group, which is what a host signature is.
    pub(crate) fn register_func_type(&self, key: &kiln_environ::FuncType) -> u32 {
        self.lock_types()
            .register_group(&[kiln_environ::SubType::func(key.clone())])
            .expect("too many distinct types in one engine")
            .start
    }

    /// The registry id of `ty` (canonical) as a recursion group of its
    /// own, which is what the embedder's struct and array types are.
    pub(crate) fn register_type(&self, ty: kiln_environ::SubType) -> Result<u32> {
        Ok(self.lock_types().register_group(&[ty])?.start)
    }

    /// Registers every recursion group of `t` in order; returns the
    /// registry id of each of its type indices.
    pub(crate) fn register_module_types(
        &self,
        t: &kiln_environ::ModuleTranslation,
    ) -> Result<Box<[u32]>> {
        let mut reg = self.lock_types();
        let mut ids: Vec<u32> = Vec::with_capacity(t.types.len());
        for group in &t.rec_groups {
            let key = crate::type_registry::group_key(&t.types, group.clone(), &ids);
            ids.extend(reg.register_group(&key)?);
        }
        Ok(ids.into_boxed_slice())
    }

    /// The canonical function type registered as `id` (which must be a
    /// function type).
    pub(crate) fn func_type(&self, id: u32) -> Arc<kiln_environ::FuncType> {
        self.lock_types()
            .get(id)
            .func
            .clone()
            .expect("registry id of a function type")
    }

    /// The canonical type registered as `id`.
    pub(crate) fn registered_type(&self, id: u32) -> Arc<RegisteredType> {
        self.lock_types().get(id).clone()
    }

    fn lock_types(&self) -> MutexGuard<'_, TypeRegistry> {
        // The registry is only ever appended to, so it is consistent even if
        // a thread panicked while holding the lock (which does not poison).
        self.inner.types.lock()
    }
}

/// Subtyping between registry ids, for type checks at the API and at
/// instantiation (not on any hot path: it takes the registry's lock).
impl kiln_environ::SubtypeOracle for Engine {
    fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        self.lock_types().is_subtype(sub, sup)
    }
}

/// The native engine `config` asks for, compiling for `target` (or this
/// host). This is the one place in the runtime that names a compiler
/// backend crate: everything else drives it as a `kiln_environ::Compiler`.
#[cfg(kiln_native)]
fn native_engine(config: &Config, target: Option<&str>) -> Result<NativeEngine> {
    use kiln_cranelift::{CraneliftCompiler, IsaBuilder};
    let (isa, what) = match target {
        Some(triple) => (IsaBuilder::target(triple), format!("`{triple}`")),
        None => (IsaBuilder::host(), "this host".to_string()),
    };
    let isa = isa
        .build()
        .map_err(|e| anyhow::anyhow!("failed to configure Cranelift for {what}: {e}"))?;
    let cranelift = Box::new(CraneliftCompiler::new(isa, config.tunables()));
    let tiered = config.strategy == Strategy::Tiered;
    let compiler: Box<dyn kiln_environ::Compiler> = if tiered
        || config.strategy == Strategy::Baseline
    {
        #[cfg(not(feature = "baseline"))]
        anyhow::bail!(
            "this build of Kiln has no baseline compiler (the `baseline` feature is off), \
             which the {:?} strategy needs",
            config.strategy
        );
        #[cfg(feature = "baseline")]
        let baseline = kiln_baseline::BaselineCompiler::new(cranelift, config.baseline_fallback)
            .map_err(|e| anyhow::anyhow!("the baseline compiler cannot compile for {what}: {e}"))?;
        #[cfg(feature = "baseline")]
        if tiered {
            Box::new(baseline.tiered())
        } else {
            Box::new(baseline)
        }
    } else {
        cranelift
    };
    let mut engine = NativeEngine::new(compiler, config.features, target.is_none())?;
    if tiered {
        engine.start_tiering(config)?;
    }
    Ok(engine)
}

/// Without a native compiler in this build: an engine that loads code
/// precompiled for this host, where native code can run; compiling for
/// another target is an error.
#[cfg(not(kiln_native))]
fn native_engine(config: &Config, target: Option<&str>) -> Result<NativeEngine> {
    if let Some(triple) = target {
        anyhow::bail!(
            "this build of Kiln has no native compiler (the `cranelift` feature is off), \
             so it cannot compile for `{triple}`"
        );
    }
    NativeEngine::loader(config.tunables(), config.features)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module whose one type is `(struct (field i32))`.
    const STRUCT_MODULE: &[u8] = b"\0asm\x01\0\0\0\x01\x05\x01\x5f\x01\x7f\x00";

    /// GC types need the proposal, which needs the `gc` feature: a build
    /// without it rejects them and refuses to turn the proposal on.
    #[test]
    fn gc_modules_need_the_proposal_and_the_feature() {
        let mut off = Config::new();
        off.wasm_gc(false);
        let engine = Engine::new(&off).unwrap();
        assert!(crate::Module::new(&engine, STRUCT_MODULE).is_err());
        let default = Config::new();
        let engine = Engine::new(&default).unwrap();
        if cfg!(feature = "gc") {
            crate::Module::new(&engine, STRUCT_MODULE).unwrap();
        } else {
            assert!(crate::Module::new(&engine, STRUCT_MODULE).is_err());
            let mut on = Config::new();
            on.wasm_gc(true);
            let err = match Engine::new(&on) {
                Ok(_) => panic!("a build without `gc` accepted the proposal"),
                Err(e) => e.to_string(),
            };
            assert!(err.contains("`gc` cargo"), "{err}");
        }
    }
}
