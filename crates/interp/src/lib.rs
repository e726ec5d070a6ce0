//! `kiln-interp`: Kiln's portable interpreter.
//!
//! It owns the register bytecode (documented op by op in
//! `docs/bytecode.md`), the single-pass translator from wasm to that
//! bytecode, and the execution loop. It runs on any Rust target, 32- or
//! 64-bit, little- or big-endian, and is `#![no_std]` with `alloc`.
//!
//! What it does not own: stores, memories, tables and globals are allocated
//! by the runtime in the `kiln` crate, which hands the interpreter raw views
//! of them ([`vm`]) and answers its slow-path requests through [`vm::Host`].
//!
//! Entry points: [`translate_module`] once per module, then [`invoke`] per
//! call from the embedder.

#![no_std]

extern crate alloc;

pub mod bytecode;
mod exec;
pub mod simd;
mod translate;
pub mod vm;

use alloc::boxed::Box;
use alloc::vec::Vec;
pub use exec::Stack;
use kiln_environ::{ModuleTranslation, TranslationError};
pub use vm::{
    BacktraceFrame, ExecState, Host, Trap, TrapReason, VmFuncKind, VmFuncRef, VmGlobal, VmInstance,
    VmMemory, VmTable,
};

/// Options that change the bytecode the translator emits.
#[derive(Debug, Clone, Copy, Default)]
pub struct TranslateConfig {
    /// Emit fuel accounting (charged at block entries, back-edges and
    /// calls against [`ExecState::fuel`]).
    pub consume_fuel: bool,
}

/// The translated bytecode of one module. `Send + Sync`; shared by every
/// instance of the module.
#[derive(Debug)]
pub struct InterpModule {
    /// One entry per *defined* function, in order.
    pub(crate) funcs: Box<[translate::InterpFunc]>,
}

impl InterpModule {
    /// Number of defined functions.
    pub fn func_count(&self) -> usize {
        self.funcs.len()
    }

    /// Number of bytecode ops of defined function `defined_index` (for
    /// diagnostics and benchmarks of the translator).
    pub fn code_len(&self, defined_index: u32) -> usize {
        self.funcs[defined_index as usize].code.len()
    }

    /// The bytecode of defined function `defined_index`, for disassembly.
    pub fn code(&self, defined_index: u32) -> &[bytecode::Op] {
        &self.funcs[defined_index as usize].code
    }
}

/// Translates every defined function of `translation` to bytecode.
pub fn translate_module(
    translation: &ModuleTranslation,
    config: &TranslateConfig,
) -> Result<InterpModule, TranslationError> {
    let first = translation.num_imported_funcs;
    let mut funcs = Vec::with_capacity(translation.bodies.len());
    for i in 0..translation.bodies.len() as u32 {
        funcs.push(translate::translate_function(
            translation,
            first + i,
            config.consume_fuel,
        )?);
    }
    Ok(InterpModule {
        funcs: funcs.into_boxed_slice(),
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
/// `VmInstance`) must not move or be freed.
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
