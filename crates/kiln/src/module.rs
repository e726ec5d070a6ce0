//! [`Module`]: a decoded, validated and translated module.

use crate::Engine;
use crate::prelude::*;
use crate::runtime::native::{NativeCode, Text, artifact};
use crate::types::{ExternType, FuncType, GlobalType, TableType};
use alloc::sync::Arc;
#[cfg(feature = "std")]
use anyhow::Context as _;
use anyhow::{Result, bail};
use kiln_environ::{EntityType, ExternKind, ModuleTranslation, TranslationError};
use kiln_interp::{InterpModule, TranslateConfig};
#[cfg(feature = "std")]
use std::path::Path;

/// A compiled WebAssembly module, ready to instantiate in any store of its
/// engine. Cheap to clone (an `Arc` inside), `Send` and `Sync`.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) translation: Arc<ModuleTranslation>,
    /// The interpreter's bytecode. A native module keeps it too: its
    /// instances' `VmInstance` records (data and element segments the
    /// builtins use) point at it.
    pub(crate) code: Arc<InterpModule>,
    /// The module's native code, when the engine runs native code.
    pub(crate) native: Option<Arc<NativeCode>>,
    /// Engine-wide signature id of each type index.
    pub(crate) sigs: Box<[u32]>,
    /// Each type index as a public `FuncType` (`None` for a struct or
    /// array type).
    pub(crate) types: Box<[Option<FuncType>]>,
}

impl core::fmt::Debug for Module {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl Module {
    /// Compiles a module from a binary, or (with the `wat` feature) from
    /// WebAssembly text when `bytes` does not start with `\0asm`.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        #[cfg(feature = "wat")]
        if !bytes.starts_with(b"\0asm") {
            let wasm = wat::parse_bytes(bytes)?;
            return Module::from_binary(engine, &wasm);
        }
        Module::from_binary(engine, bytes)
    }

    /// Compiles a module from a binary.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let (translation, code) = translate(engine, binary)?;
        let native = match engine.native() {
            Some(native) => Some(native.compile(&translation)?),
            None => None,
        };
        Module::assemble(engine, translation, code, native)
    }

    /// A module from its parts: the translation, the interpreter's view,
    /// and native code if the engine runs native code.
    fn assemble(
        engine: &Engine,
        translation: Arc<ModuleTranslation>,
        code: InterpModule,
        native: Option<Arc<NativeCode>>,
    ) -> Result<Module> {
        let sigs = engine.register_module_types(&translation)?;
        let types: Box<[Option<FuncType>]> = sigs
            .iter()
            .zip(&translation.types)
            .map(|(&id, ty)| ty.as_func().map(|_| FuncType::registered(engine, id)))
            .collect();
        if let (Some(code), Some(n)) = (&native, engine.native()) {
            n.offer_trampolines(code, &sigs);
        }
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                translation,
                code: Arc::new(code),
                native,
                sigs,
                types,
            }),
        })
    }

    /// Writes this module as a precompiled artifact, which
    /// [`Module::deserialize`] loads later (in another process, into an
    /// engine with the same configuration) without compiling it again.
    /// Only native modules (a native strategy such as Cranelift) have code
    /// to save.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let (Some(code), Some(native)) = (&self.inner.native, self.inner.engine.native()) else {
            bail!("only modules compiled by the Cranelift strategy can be serialized");
        };
        if !native.can_compile() {
            bail!("an engine without a compiler cannot serialize: keep the artifact it loaded");
        }
        if self.inner.engine.strategy() == crate::Strategy::Tiered {
            bail!(
                "tiered code is compiled in the process that runs it: serialize a module of an \
                 engine with the baseline or Cranelift strategy instead"
            );
        }
        Ok(artifact::write(
            native.fingerprint(),
            &self.inner.translation.wasm,
            code.meta(),
            code.text(),
        ))
    }

    /// Loads a module written by [`Module::serialize`],
    /// [`Engine::precompile_module`] or `kiln compile`.
    ///
    /// The artifact must come from the same Kiln version and an engine with
    /// the same target and settings as `engine`, compiled for CPU features
    /// this host has; anything else is refused with an error saying what
    /// differs. Its wasm metadata
    /// is parsed again; its function bodies are neither validated nor
    /// compiled again.
    ///
    /// # Safety
    ///
    /// The artifact's machine code is run as it is: only the file's
    /// structure is checked, not what its code does. `bytes` must have
    /// been written by Kiln and not changed since, as with any native code
    /// a program loads. Never load artifacts from an untrusted source.
    pub unsafe fn deserialize(engine: &Engine, bytes: &[u8]) -> Result<Module> {
        let Some(native) = engine.native() else {
            bail!(
                "precompiled modules need an engine with the Cranelift strategy; this one interprets"
            );
        };
        let artifact = artifact::read(bytes)?;
        let text = Text::Copy(artifact.text);
        Module::from_artifact(engine, native, artifact, text)
    }

    /// Loads a module compiled by `kiln compile --emit-object` and linked
    /// into this program: its code runs where the system linker put it, so
    /// Kiln maps nothing executable and changes no page's protection (only
    /// data and linear memories are allocated). The same compatibility
    /// rules as for [`Module::deserialize`] apply.
    ///
    /// The program names the object's symbol (`--symbol`, or derived from
    /// `-o`) as an `extern` static:
    ///
    /// ```ignore
    /// unsafe extern "C" {
    ///     static kiln_module_app: kiln::StaticModule;
    /// }
    /// let module = unsafe { Module::from_static(&engine, &kiln_module_app)? };
    /// ```
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]: `module` must be the descriptor of an
    /// object Kiln wrote, linked unchanged, whose code is then run as is.
    pub unsafe fn from_static(engine: &Engine, module: &'static StaticModule) -> Result<Module> {
        let Some(native) = engine.native() else {
            bail!(
                "statically linked modules need an engine with the Cranelift strategy; this one interprets"
            );
        };
        if module.magic != StaticModule::MAGIC {
            bail!(
                "this is not a Kiln module descriptor (bad magic); was the object written by `kiln compile --emit-object`?"
            );
        }
        // SAFETY: the linker resolved both pointers to the object's own
        // sections, of the lengths recorded beside them, and they are part
        // of the program's image for its whole life (the caller vouches
        // that the descriptor is one Kiln wrote).
        let (text, meta) = unsafe {
            (
                core::slice::from_raw_parts(module.text, module.text_len),
                core::slice::from_raw_parts(module.meta, module.meta_len),
            )
        };
        let artifact = artifact::read_linked(meta, text)?;
        Module::from_artifact(engine, native, artifact, Text::Static(text))
    }

    /// The module of a parsed artifact whose code is `text`.
    fn from_artifact(
        engine: &Engine,
        native: &crate::runtime::native::NativeEngine,
        artifact: artifact::Artifact<'_>,
        text: Text<'_>,
    ) -> Result<Module> {
        native.check_compatible(artifact.fingerprint)?;
        let (translation, code) = {
            let config = engine.config();
            let (translation, _bodies) =
                kiln_environ::translate_module_deferred(artifact.wasm, config.features)
                    .map_err(parse_error)?;
            let translation = Arc::new(translation);
            let code = InterpModule::lazy(
                translation.clone(),
                &TranslateConfig {
                    consume_fuel: config.consume_fuel,
                },
            );
            (translation, code)
        };
        if !artifact.compiled.fits(&translation) {
            bail!("the precompiled module is corrupt: its code does not match its wasm");
        }
        let native = native.load(artifact.compiled, text, &translation)?;
        Module::assemble(engine, translation, code, Some(native))
    }

    /// [`Module::deserialize`] on the contents of a file; errors name it.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`], and the file must not change while
    /// this runs (it is mapped, not copied).
    #[cfg(feature = "std")]
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        // Mapped rather than read: a large module's code is copied once,
        // from the page cache into executable memory.
        let bytes = crate::runtime::sys::FileBytes::open(path)
            .with_context(|| format!("failed to read input file `{}`", path.display()))?;
        // SAFETY: the caller vouches for the file (and that it does not
        // change while it is loaded).
        unsafe { Module::deserialize(engine, bytes.as_slice()) }
            .with_context(|| format!("failed to load `{}`", path.display()))
    }

    /// Whether `bytes` starts like a precompiled artifact (as opposed to a
    /// wasm binary or text), without checking that it would load.
    pub fn is_precompiled(bytes: &[u8]) -> bool {
        artifact::is_artifact(bytes)
    }

    /// Compiles a module from a file (binary or text); errors name the file.
    #[cfg(feature = "std")]
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .with_context(|| format!("failed to read input file `{}`", path.display()))?;
        Module::new(engine, bytes)
            .with_context(|| format!("failed to compile `{}`", path.display()))
    }

    /// Checks that `binary` is a valid module under the engine's features,
    /// without compiling it.
    pub fn validate(engine: &Engine, binary: &[u8]) -> Result<()> {
        kiln_environ::translate_module(binary, engine.config().features)
            .map(drop)
            .map_err(parse_error)
    }

    /// What tiering has done for this module so far: functions queued,
    /// promoted, loop entries compiled, frames moved by on-stack
    /// replacement. `None` unless its engine uses
    /// [`Strategy::Tiered`](crate::Strategy::Tiered).
    pub fn tier_stats(&self) -> Option<TierStats> {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(t) = self.inner.native.as_ref()?.tiering.as_ref() {
            return Some(t.stats());
        }
        None
    }

    /// The module's name from its name section, if any.
    pub fn name(&self) -> Option<&str> {
        self.inner.translation.names.module.as_deref()
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> {
        self.inner.translation.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.field,
            ty: self.entity_type(&i.ty),
        })
    }

    /// The module's exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> {
        let t = &self.inner.translation;
        t.exports.iter().map(move |e| ExportType {
            name: &e.name,
            ty: match e.kind {
                ExternKind::Func => {
                    ExternType::Func(self.func_type_at(t.functions[e.index as usize]))
                }
                ExternKind::Table => ExternType::Table(self.table_type(t.tables[e.index as usize])),
                ExternKind::Memory => ExternType::Memory(t.memories[e.index as usize].into()),
                ExternKind::Global => {
                    ExternType::Global(self.global_type(t.globals[e.index as usize]))
                }
                ExternKind::Tag => ExternType::Tag(crate::TagType::new(
                    self.func_type_at(t.tags[e.index as usize]),
                )),
            },
        })
    }

    /// The module's type of an import or export, in the public form.
    pub(crate) fn entity_type_of(&self, ty: &EntityType) -> ExternType {
        self.entity_type(ty)
    }

    /// The module's type of an import or export.
    fn entity_type(&self, ty: &EntityType) -> ExternType {
        match ty {
            EntityType::Func(idx) => ExternType::Func(self.func_type_at(*idx)),
            EntityType::Table(t) => ExternType::Table(self.table_type(*t)),
            EntityType::Memory(m) => ExternType::Memory((*m).into()),
            EntityType::Global(g) => ExternType::Global(self.global_type(*g)),
            EntityType::Tag(ty) => ExternType::Tag(crate::TagType::new(self.func_type_at(*ty))),
        }
    }

    /// The function type type index `idx` declares (validation checked
    /// that functions and tags name function types).
    pub(crate) fn func_type_at(&self, idx: u32) -> FuncType {
        self.inner.types[idx as usize]
            .clone()
            .expect("validation checked that this type index names a function type")
    }

    /// `ty`, a type of this module (concrete heap types by module type
    /// index), in the engine's canonical form (by registry id).
    pub(crate) fn canonical(&self, ty: kiln_environ::ValType) -> kiln_environ::ValType {
        ty.map_concrete(|i| self.inner.sigs[i as usize])
    }

    /// A table type of this module, canonical.
    pub(crate) fn canonical_table(&self, t: kiln_environ::TableType) -> kiln_environ::TableType {
        let element = match self.canonical(kiln_environ::ValType::Ref(t.element)) {
            kiln_environ::ValType::Ref(r) => r,
            _ => unreachable!("a reference type stays one"),
        };
        kiln_environ::TableType { element, ..t }
    }

    /// A global type of this module, canonical.
    pub(crate) fn canonical_global(&self, g: kiln_environ::GlobalType) -> kiln_environ::GlobalType {
        kiln_environ::GlobalType {
            content: self.canonical(g.content),
            ..g
        }
    }

    fn table_type(&self, t: kiln_environ::TableType) -> TableType {
        TableType::from_env(&self.inner.engine, self.canonical_table(t))
    }

    fn global_type(&self, g: kiln_environ::GlobalType) -> GlobalType {
        GlobalType::from_env(&self.inner.engine, self.canonical_global(g))
    }

    pub(crate) fn translation(&self) -> &ModuleTranslation {
        &self.inner.translation
    }
}

/// Validates `binary` and builds the interpreter's view of it: eager
/// bytecode, or (lazy translation, or a native engine, whose functions are
/// never interpreted) nothing until a function's first call.
pub(crate) fn translate(
    engine: &Engine,
    binary: &[u8],
) -> Result<(Arc<ModuleTranslation>, InterpModule)> {
    let config = engine.config();
    let translate_config = TranslateConfig {
        consume_fuel: config.consume_fuel,
    };
    let compile_error = |e| anyhow::anyhow!("failed to compile WebAssembly module: {e}");
    if config.lazy_translation || engine.native().is_some() {
        // Validate everything now; translate each function at its first call.
        let translation =
            Arc::new(kiln_environ::translate_module(binary, config.features).map_err(parse_error)?);
        let code = InterpModule::lazy(translation.clone(), &translate_config);
        return Ok((translation, code));
    }
    // Validate each body while translating it: one decode, not two.
    let (translation, bodies) =
        kiln_environ::translate_module_deferred(binary, config.features).map_err(parse_error)?;
    let code = kiln_interp::translate_module_validating(&translation, bodies, &translate_config)
        .map_err(|e| {
            // A body the validator rejected reads like any other invalid
            // module; a valid one too big for the bytecode is a compile
            // error.
            if e.unsupported {
                compile_error(e)
            } else {
                parse_error(e)
            }
        })?;
    Ok((Arc::new(translation), code))
}

fn parse_error(e: TranslationError) -> anyhow::Error {
    anyhow::anyhow!("failed to parse WebAssembly module: {e}")
}

/// An import of a module: where it comes from and its type.
#[derive(Clone, Debug)]
pub struct ImportType<'a> {
    module: &'a str,
    name: &'a str,
    ty: ExternType,
}

impl<'a> ImportType<'a> {
    /// The module name.
    pub fn module(&self) -> &'a str {
        self.module
    }

    /// The field name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The required type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// An export of a module: its name and type.
#[derive(Clone, Debug)]
pub struct ExportType<'a> {
    name: &'a str,
    ty: ExternType,
}

impl<'a> ExportType<'a> {
    /// The export name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The exported item's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// The descriptor of a module compiled to an object file
/// (`kiln compile --emit-object`) and linked into the program, for
/// [`Module::from_static`]. Its fields are filled in by the object and the
/// system linker; a program only names it as an `extern` static.
#[repr(C)]
#[derive(Debug)]
pub struct StaticModule {
    magic: [u8; 8],
    text: *const u8,
    text_len: usize,
    meta: *const u8,
    meta_len: usize,
}

// SAFETY: the descriptor and what it points at are immutable parts of the
// program's image.
unsafe impl Sync for StaticModule {}

impl StaticModule {
    /// The descriptor's first bytes.
    pub(crate) const MAGIC: [u8; 8] = *b"kilnlink";
}

/// What tiering has done for one module so far
/// ([`Module::tier_stats`](crate::Module::tier_stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Functions queued for the optimizing compiler.
    pub queued: u32,
    /// Functions whose optimized code replaced their baseline code.
    pub promoted: u32,
    /// On-stack-replacement entries compiled (one per function and loop).
    pub osr_entries: u32,
    /// Baseline frames that moved into optimized code at a loop header.
    pub osr_transfers: u64,
    /// Functions or loop entries the optimizing compiler could not compile
    /// (they stay baseline code).
    pub failed: u32,
}

#[cfg(all(test, kiln_native))]
mod static_module_tests {
    use super::*;
    use crate::{Config, Strategy};

    fn leak(bytes: Vec<u8>) -> &'static [u8] {
        Vec::leak(bytes)
    }

    fn engine() -> Engine {
        Engine::new(Config::new().strategy(Strategy::Cranelift)).unwrap()
    }

    /// A descriptor as the linker would leave it, for `text` and `meta`.
    fn descriptor(
        magic: [u8; 8],
        text: &'static [u8],
        meta: &'static [u8],
    ) -> &'static StaticModule {
        Box::leak(Box::new(StaticModule {
            magic,
            text: text.as_ptr(),
            text_len: text.len(),
            meta: meta.as_ptr(),
            meta_len: meta.len(),
        }))
    }

    #[test]
    fn descriptors_that_are_not_kilns_or_do_not_fit_are_refused() {
        let engine = engine();
        let native = engine.native().unwrap();
        let (t, _) = translate(
            &engine,
            &wat::parse_str("(module (func (export \"f\")))").unwrap(),
        )
        .unwrap();
        let compiled = native.compile_only(&t).unwrap();
        let meta = leak(artifact::write(
            native.fingerprint(),
            &t.wasm,
            &compiled,
            &[],
        ));
        let text = leak(compiled.text.clone());

        let bad_magic = descriptor(*b"notkiln!", text, meta);
        // SAFETY: refused before any code is touched.
        let err = unsafe { Module::from_static(&engine, bad_magic) }.unwrap_err();
        assert!(err.to_string().contains("bad magic"), "{err}");

        // Code shorter than the metadata's functions: the structure check
        // refuses it.
        let short = descriptor(StaticModule::MAGIC, &text[..1], meta);
        // SAFETY: as above.
        let err = unsafe { Module::from_static(&engine, short) }.unwrap_err();
        assert!(format!("{err:#}").contains("outside the text"), "{err:#}");

        // An artifact with its own text is not a linked module's metadata.
        let whole = leak(artifact::write(
            native.fingerprint(),
            &t.wasm,
            &compiled,
            text,
        ));
        let doubled = descriptor(StaticModule::MAGIC, text, whole);
        // SAFETY: as above.
        let err = unsafe { Module::from_static(&engine, doubled) }.unwrap_err();
        assert!(format!("{err:#}").contains("its own text"), "{err:#}");
    }
}
