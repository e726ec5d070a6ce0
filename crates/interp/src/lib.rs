//! `kiln-interp`: Kiln's portable interpreter.
//!
//! It owns the register bytecode (documented op by op in
//! `docs/bytecode.md`), the single-pass translator from wasm to that
//! bytecode, and its execution: threaded handlers on x86_64 and aarch64, the
//! same handlers in a portable loop elsewhere. It runs on any Rust target,
//! 32- or 64-bit, little- or big-endian, and is `#![no_std]` with `alloc`.
//!
//! What it does not own: stores, memories, tables, globals, function
//! references and instances are the shared records of
//! [`kiln_environ::vm`], allocated by the runtime in the `kiln` crate,
//! which answers the interpreter's slow-path requests through
//! [`vm::Host`].
//!
//! Entry points: once per module, [`translate_module_validating`] (eager:
//! validates and translates each body in one decode),
//! [`translate_module`] (eager, bodies already validated) or
//! [`InterpModule::lazy`] (each function translated on its first call);
//! then [`invoke`] per call from the embedder.

#![no_std]

extern crate alloc;

pub mod bytecode;
pub(crate) mod exec;
#[cfg(feature = "simd")]
pub mod simd;
mod translate;
pub mod vm;

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
pub use exec::{Stack, visit_stack_roots};
use kiln_environ::vm::VmFuncRef;
use kiln_environ::{FuncToValidate, ModuleTranslation, TranslationError};
use once_cell::race::OnceBox;
pub use vm::{BacktraceFrame, ExecState, Host, SuspendedFrames, Trap, TrapReason};
use wasmparser::FuncValidatorAllocations;

/// Options that change the bytecode the translator emits.
#[derive(Debug, Clone, Copy, Default)]
pub struct TranslateConfig {
    /// Emit fuel accounting (charged at block entries, back-edges and
    /// calls against [`ExecState::fuel`]).
    pub consume_fuel: bool,
}

/// The translated bytecode of one module. `Send + Sync`; shared by every
/// instance of the module.
///
/// Each function's bytecode is either made up front ([`translate_module`],
/// [`translate_module_validating`]) or on the function's first call
/// ([`InterpModule::lazy`]); either way the execution loop finds it in the
/// same slot.
pub struct InterpModule {
    /// One slot per *defined* function, in order. Lazily translated
    /// functions are empty until first called; a slot, once set, never
    /// changes, so a pointer into it stays valid for the module's life.
    pub(crate) funcs: Box<[OnceBox<translate::InterpFunc>]>,
    /// What the GC ops need to know about each of the module's types.
    pub(crate) gc_types: Box<[exec::gc::GcTypeLayout]>,
    /// What lazily translated functions are made from; `None` when every
    /// function was translated up front.
    source: Option<(Arc<ModuleTranslation>, TranslateConfig)>,
}

impl core::fmt::Debug for InterpModule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InterpModule")
            .field("funcs", &self.funcs.len())
            .field("lazy", &self.source.is_some())
            .finish()
    }
}

impl InterpModule {
    /// A module whose functions are translated on their first call.
    ///
    /// `translation` must come from [`kiln_environ::translate_module`]
    /// (every body validated): translating a body on first call does not
    /// validate it again.
    pub fn lazy(translation: Arc<ModuleTranslation>, config: &TranslateConfig) -> Self {
        InterpModule {
            funcs: (0..translation.bodies.len())
                .map(|_| OnceBox::new())
                .collect(),
            gc_types: exec::gc::layouts(&translation),
            source: Some((translation, *config)),
        }
    }

    /// Number of defined functions.
    pub fn func_count(&self) -> usize {
        self.funcs.len()
    }

    /// Number of defined functions translated so far (all of them unless
    /// the module is [lazy](InterpModule::lazy)).
    pub fn translated_count(&self) -> usize {
        self.funcs.iter().filter(|f| f.get().is_some()).count()
    }

    /// Bytes of bytecode made so far: ops, offset tables and shuffle
    /// masks, without allocator overhead. For the benchmark that compares
    /// it with the code section.
    pub fn bytecode_bytes(&self) -> usize {
        self.funcs
            .iter()
            .filter_map(|f| f.get())
            .map(|f| f.heap_bytes() + core::mem::size_of::<translate::InterpFunc>())
            .sum()
    }

    /// Defined function `defined_index`, translating it first if it has
    /// not been yet. Fails only where eager translation would have failed
    /// when the module was made (a function too big for the bytecode).
    #[inline]
    pub(crate) fn func(
        &self,
        defined_index: u32,
    ) -> Result<&translate::InterpFunc, TranslationError> {
        match self.funcs[defined_index as usize].get() {
            Some(f) => Ok(f),
            None => self.translate_on_first_call(defined_index),
        }
    }

    #[cold]
    #[inline(never)]
    fn translate_on_first_call(
        &self,
        defined_index: u32,
    ) -> Result<&translate::InterpFunc, TranslationError> {
        let Some((translation, config)) = &self.source else {
            unreachable!("an eagerly translated module has every function")
        };
        let func = translate::translate_function(
            translation,
            translation.num_imported_funcs + defined_index,
            config.consume_fuel,
            None,
            &mut translate::Scratch::default(),
        )?;
        // Another thread may have translated it meanwhile: then its copy
        // stays and this one is dropped; both are the same bytecode.
        Ok(self.funcs[defined_index as usize].get_or_init(|| Box::new(func)))
    }

    /// Number of defined functions (imports excluded): the valid indices
    /// of [`Self::code`] and [`Self::code_len`] are `0..num_funcs()`.
    pub fn num_funcs(&self) -> u32 {
        self.funcs.len() as u32
    }

    /// Number of bytecode ops of defined function `defined_index` (for
    /// diagnostics and benchmarks of the translator). An index past
    /// [`Self::num_funcs`] is an error.
    pub fn code_len(&self, defined_index: u32) -> Result<usize, TranslationError> {
        Ok(self.checked_func(defined_index)?.code.len())
    }

    /// The bytecode of defined function `defined_index`, for disassembly
    /// (it starts with `InitConsts` if the function has a constant pool).
    /// An index past [`Self::num_funcs`] is an error.
    pub fn code(&self, defined_index: u32) -> Result<&[bytecode::Op], TranslationError> {
        Ok(&self.checked_func(defined_index)?.code)
    }

    /// [`Self::func`] for a caller outside the runtime, whose index
    /// validation has not checked.
    fn checked_func(&self, defined_index: u32) -> Result<&translate::InterpFunc, TranslationError> {
        if defined_index >= self.num_funcs() {
            return Err(TranslationError {
                message: alloc::format!(
                    "no defined function {defined_index}: the module defines {}",
                    self.num_funcs()
                ),
                offset: 0,
                unsupported: false,
            });
        }
        self.func(defined_index)
    }
}

/// Translates every defined function of `translation` to bytecode. Every
/// body must have been validated ([`kiln_environ::translate_module`]).
pub fn translate_module(
    translation: &ModuleTranslation,
    config: &TranslateConfig,
) -> Result<InterpModule, TranslationError> {
    let first = translation.num_imported_funcs;
    let mut scratch = translate::Scratch::default();
    let funcs = (0..translation.bodies.len() as u32)
        .map(|i| {
            translate::translate_function(
                translation,
                first + i,
                config.consume_fuel,
                None,
                &mut scratch,
            )
            .map(|f| OnceBox::with_value(Box::new(f)))
        })
        .collect::<Result<_, _>>()?;
    Ok(InterpModule {
        funcs,
        gc_types: exec::gc::layouts(translation),
        source: None,
    })
}

/// Validates and translates every defined function of `translation`, which
/// came from [`kiln_environ::translate_module_deferred`] together with
/// `bodies` (one per defined function, in order). Each body is decoded
/// once, for both jobs; an invalid body fails the whole module with the
/// validator's error.
pub fn translate_module_validating(
    translation: &ModuleTranslation,
    bodies: Vec<FuncToValidate>,
    config: &TranslateConfig,
) -> Result<InterpModule, TranslationError> {
    assert_eq!(
        bodies.len(),
        translation.bodies.len(),
        "one body to validate per defined function"
    );
    let first = translation.num_imported_funcs;
    let mut allocs = FuncValidatorAllocations::default();
    let mut scratch = translate::Scratch::default();
    let mut funcs = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let mut validator = body.into_validator(core::mem::take(&mut allocs));
        let func = translate::translate_function(
            translation,
            first + i as u32,
            config.consume_fuel,
            Some(&mut validator),
            &mut scratch,
        )?;
        allocs = validator.into_allocations();
        funcs.push(OnceBox::with_value(Box::new(func)));
    }
    Ok(InterpModule {
        funcs: funcs.into_boxed_slice(),
        gc_types: exec::gc::layouts(translation),
        source: None,
    })
}

/// Calls `func` with arguments in `slots` (one slot per scalar, two per
/// `v128`, low half first) and leaves its results there, from index 0.
/// `slots` is at least `max(param_slots, result_slots)` long.
///
/// Re-entrant: a host function called from here may call `invoke` again
/// with the same `host`; the nested call runs on the same [`Stack`], above
/// the frames of this one. However the call ends (results, a trap, or a
/// panic from a host function unwinding through it) the stack is back
/// where this call found it.
///
/// # Safety
/// `func` and everything reachable from it (its instance, memories, tables,
/// globals, other functions) must be live for the duration of the call, as
/// the runtime guarantees for a store, and reached by nothing but the
/// interpreter, except inside the [`Host`] methods it calls: there the
/// runtime may read and write them, grow (move) memories and tables, and
/// re-enter `invoke`; the interpreter reloads every cached view (memory
/// base and length, value stack) after each such call. The structures
/// themselves (`VmMemory`, `VmTable`, `VmGlobal`, `VmFuncRef`,
/// `VmInstance`) must not move or be freed. Every reachable instance's
/// `code` must point at the [`InterpModule`] translated from its module.
pub unsafe fn invoke<H: Host>(
    host: &mut H,
    func: *const VmFuncRef,
    slots: &mut [u64],
) -> Result<(), Trap> {
    // SAFETY: forwarded contract.
    unsafe { exec::invoke(host, func, slots) }
}

// The runtime shares one translated module across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<InterpModule>();
    assert_send_sync::<Stack>();
};
