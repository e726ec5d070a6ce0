//! Per-architecture pieces of trap handling: the entry trampoline, the
//! resume path, and reading/redirecting a signal's saved machine context.
//!
//! Every implementation offers the same items:
//!
//! * `Supported`: a token type, uninhabited where traps are unsupported;
//!   `supported()` returns one where they are;
//! * `enter(&Supported, act, entry, a0, a1, a2, a3) -> u32`: the entry
//!   trampoline (0: returned normally, 1: resumed after a trap);
//! * `unwind_to(&Supported, sp) -> !`: jump to the resume path with the
//!   stack pointer an activation saved (used by `raise_trap`);
//! * `fault_context(ucontext) -> Option<(pc, fp)>` and
//!   `redirect(ucontext, sp)`: what the signal handler reads and writes.

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod x86_64;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(super) use x86_64::*;

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
mod aarch64;
#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
pub(super) use aarch64::*;

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod unsupported;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub(super) use unsupported::*;
