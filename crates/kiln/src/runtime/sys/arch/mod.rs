//! Per-architecture pieces of trap handling: the entry trampoline, the
//! resume path, reading/redirecting a signal's saved machine context, and
//! how a frame links to its caller.
//!
//! Every implementation offers the same items:
//!
//! * `Supported`: a token type, uninhabited where traps are unsupported;
//!   `supported()` returns one where they are;
//! * `enter(&Supported, act, entry, a0, a1, a2, a3) -> u32`: the entry
//!   trampoline (0: returned normally, 1: resumed after a trap);
//! * `unwind_to(&Supported, sp) -> !`: jump to the resume path with the
//!   stack pointer an activation saved (used by `raise_trap`);
//! * `resume_pc(&Supported)`: the resume path's address, where an
//!   embedder's fault handler sends a trapped thread (`custom-native-signals`);
//! * `fault_context(signal, info, ucontext) -> Option<(pc, fp)>` and
//!   `redirect(ucontext, sp)`: what the Linux signal handler reads and
//!   writes (only with the OS layer);
//! * `fault_returns_past_instruction(signal)`: whether returning from a
//!   handler for `signal` would skip the faulting instruction instead of
//!   running it again (s390x for SIGILL/SIGFPE), so a fault that is not
//!   ours must be re-raised rather than repeated;
//! * `prologue_return_address(ucontext)`: where a function's stack-overflow
//!   check runs before its frame exists (s390x), the return address it
//!   will save (the link register), which a walk from the stack pointer
//!   would miss; `None` elsewhere (the frame record is pushed first);
//! * `frame_caller(fp) -> Option<(caller_fp, return_pc)>`: one step of a
//!   frame walk. "fp" is the value compiled code records as a frame's
//!   handle (`last_wasm_exit_fp`, `last_wasm_entry_fp`, the `fp` of a
//!   fault): the frame pointer where there is one, the stack pointer on
//!   s390x (whose frames link through a backchain instead);
//! * `handler_sp(handle, frame_offset)`: the stack pointer an exception
//!   handler runs with, from the frame handle of its frame and the offset
//!   Cranelift records at the call site (its frame pointer less its stack
//!   pointer).

#[cfg(all(kiln_arch_traps, target_arch = "x86_64"))]
mod x86_64;
#[cfg(all(kiln_arch_traps, target_arch = "x86_64"))]
pub(super) use x86_64::*;

#[cfg(all(kiln_arch_traps, target_arch = "aarch64"))]
mod aarch64;
#[cfg(all(kiln_arch_traps, target_arch = "aarch64"))]
pub(super) use aarch64::*;

#[cfg(all(kiln_arch_traps, target_arch = "s390x"))]
mod s390x;
#[cfg(all(kiln_arch_traps, target_arch = "s390x"))]
pub(super) use s390x::*;

#[cfg(all(kiln_arch_traps, target_arch = "riscv64"))]
mod riscv64;
#[cfg(all(kiln_arch_traps, target_arch = "riscv64"))]
pub(super) use riscv64::*;

/// Trap resumption is implemented on this architecture: the token the
/// rest of the layer asks for (uninhabited in `unsupported.rs`).
#[cfg(kiln_arch_traps)]
#[derive(Clone, Copy)]
pub(crate) struct Supported(());

/// The token, where trap resumption is implemented.
#[cfg(kiln_arch_traps)]
pub(in crate::runtime::sys) fn supported() -> Option<Supported> {
    Some(Supported(()))
}

#[cfg(not(kiln_arch_traps))]
mod unsupported;
#[cfg(not(kiln_arch_traps))]
pub(super) use unsupported::*;

/// One step of a walk over frame records of the common shape: the frame
/// pointer points at `[saved caller frame pointer, return address]`
/// (x86_64, aarch64, and Cranelift's riscv64 frames, whose `s0` points at
/// the pair it pushed). Returns `None` when the chain is broken (the
/// caller's frame would not be older, i.e. higher on the stack).
///
/// # Safety
///
/// `fp` must point at a readable frame record of that shape.
#[cfg(not(all(kiln_arch_traps, target_arch = "s390x")))]
pub(super) unsafe fn frame_caller(fp: usize) -> Option<(usize, usize)> {
    // SAFETY: the contract: two readable words at `fp`.
    let (next, ret) = unsafe {
        (
            (fp as *const usize).read(),
            (fp as *const usize).add(1).read(),
        )
    };
    Some((next, ret))
}

/// The stack pointer of the frame whose frame pointer is `fp`, at a call
/// site `frame_offset` bytes below it (all but s390x: Cranelift's frame
/// pointer is the frame handle).
#[cfg(not(all(kiln_arch_traps, target_arch = "s390x")))]
pub(super) fn handler_sp(fp: usize, frame_offset: u32) -> usize {
    fp - frame_offset as usize
}

/// No return address to add: the prologue pushes the frame record before
/// the stack-overflow check, so the walk from the frame pointer sees it.
///
/// # Safety
///
/// Nothing is read.
#[cfg(all(kiln_os, not(all(kiln_os_linux, target_arch = "s390x"))))]
pub(super) unsafe fn prologue_return_address(_ucontext: *mut core::ffi::c_void) -> Option<usize> {
    None
}

/// Whether returning from the handler of `signal` skips the faulting
/// instruction: never, on architectures whose saved pc of a fault is the
/// faulting instruction itself.
#[cfg(all(kiln_os, not(all(kiln_os_linux, target_arch = "s390x"))))]
pub(super) fn fault_returns_past_instruction(_signal: core::ffi::c_int) -> bool {
    false
}
