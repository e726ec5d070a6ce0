//! aarch64 (AAPCS64, Linux): trampolines and signal context access.
//!
//! The entry trampoline's frame, from high to low addresses:
//!
//! ```text
//!   x29, x30 (frame record)      <- x29 inside the trampoline (entry_fp)
//!   x19..x28
//!   d8..d15 (low 64 bits: all AAPCS64 keeps)
//!                                <- sp when wasm is called (resume_sp)
//! ```
//!
//! The resume path starts with `sp = resume_sp`, reloads d8–d15, x19–x28
//! and the frame record, and returns 1 through the saved x30. The kernel
//! restores FPCR/FPSR and everything else of the interrupted state on
//! `sigreturn`.

use core::arch::naked_asm;
#[cfg(kiln_os_linux)]
use core::ffi::{c_int, c_void};
use core::mem::offset_of;

use super::Supported;
use crate::runtime::sys::traps::{Activation, WasmEntry};

/// Saves callee-saved registers, records the resume stack pointer in
/// `*act`, calls `entry(a0, a1, a2, a3)` and returns 0.
///
/// # Safety
///
/// `act` must point to a live `Activation` that outlives the call, and
/// `entry` must be safe to call with the arguments.
pub(in crate::runtime::sys) unsafe fn enter(
    _: &Supported,
    act: *mut Activation,
    entry: WasmEntry,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
) -> u32 {
    // SAFETY: forwarded from our caller.
    unsafe { kiln_enter_wasm(act, entry, a0, a1, a2, a3) }
}

#[unsafe(naked)]
unsafe extern "C" fn kiln_enter_wasm(
    act: *mut Activation,
    entry: WasmEntry,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
) -> u32 {
    // In: x0 = act, x1 = entry, x2..x5 = a0..a3. Every push is 16 bytes,
    // so sp stays 16-aligned.
    naked_asm!(
        "stp x29, x30, [sp, #-16]!",
        "mov x29, sp",
        "stp x19, x20, [sp, #-16]!",
        "stp x21, x22, [sp, #-16]!",
        "stp x23, x24, [sp, #-16]!",
        "stp x25, x26, [sp, #-16]!",
        "stp x27, x28, [sp, #-16]!",
        "stp d8, d9, [sp, #-16]!",
        "stp d10, d11, [sp, #-16]!",
        "stp d12, d13, [sp, #-16]!",
        "stp d14, d15, [sp, #-16]!",
        "mov x9, sp",
        "str x9, [x0, #{sp}]",
        "str x29, [x0, #{fp}]",
        "mov x9, x1",
        "mov x0, x2",
        "mov x1, x3",
        "mov x2, x4",
        "mov x3, x5",
        "blr x9",
        "mov w0, #0",
        "ldp d14, d15, [sp], #16",
        "ldp d12, d13, [sp], #16",
        "ldp d10, d11, [sp], #16",
        "ldp d8, d9, [sp], #16",
        "ldp x27, x28, [sp], #16",
        "ldp x25, x26, [sp], #16",
        "ldp x23, x24, [sp], #16",
        "ldp x21, x22, [sp], #16",
        "ldp x19, x20, [sp], #16",
        "ldp x29, x30, [sp], #16",
        "ret",
        sp = const offset_of!(Activation, resume_sp),
        fp = const offset_of!(Activation, entry_fp),
    )
}

/// The resume path: entered (never called) with sp = an activation's
/// `resume_sp`; unwinds the trampoline frame and returns 1 from
/// `kiln_enter_wasm`.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_wasm() {
    naked_asm!(
        "mov w0, #1",
        "ldp d14, d15, [sp], #16",
        "ldp d12, d13, [sp], #16",
        "ldp d10, d11, [sp], #16",
        "ldp d8, d9, [sp], #16",
        "ldp x27, x28, [sp], #16",
        "ldp x25, x26, [sp], #16",
        "ldp x23, x24, [sp], #16",
        "ldp x21, x22, [sp], #16",
        "ldp x19, x20, [sp], #16",
        "ldp x29, x30, [sp], #16",
        "ret",
    )
}

/// Switches to stack pointer `sp` (in x0) and takes the resume path.
#[unsafe(naked)]
unsafe extern "C" fn kiln_unwind_to(sp: usize) -> ! {
    naked_asm!("mov sp, x0", "b {resume}", resume = sym kiln_resume_wasm)
}

/// Continues at exception handler `pc` of a wasm frame: stack pointer
/// `sp`, frame pointer `fp`, the exception in the first payload register
/// (x0; x1, the second, zero). Cranelift's handlers expect nothing else:
/// a function with a handler keeps nothing in registers across the call.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_handler(pc: usize, sp: usize, fp: usize, payload: usize) -> ! {
    naked_asm!(
        "mov x16, x0",
        "mov sp, x1",
        "mov x29, x2",
        "mov x0, x3",
        "mov x1, xzr",
        "br x16",
    )
}

/// Jumps to exception handler `pc` with the frame `sp`/`fp` and `payload`
/// (see [`kiln_resume_handler`]).
///
/// # Safety
///
/// `pc`, `sp` and `fp` must describe a live wasm frame of this thread
/// below every frame being abandoned, at a call site whose handler is
/// `pc`; the abandoned frames must own nothing.
pub(in crate::runtime::sys) unsafe fn resume_handler(
    _: &Supported,
    pc: usize,
    sp: usize,
    fp: usize,
    payload: usize,
) -> ! {
    // SAFETY: forwarded from our caller.
    unsafe { kiln_resume_handler(pc, sp, fp, payload) }
}

/// Resumes the activation whose trampoline saved `sp`.
///
/// # Safety
///
/// `sp` must be the `resume_sp` of a live activation of this thread whose
/// trampoline frame is below every frame being abandoned.
pub(in crate::runtime::sys) unsafe fn unwind_to(_: &Supported, sp: usize) -> ! {
    // SAFETY: forwarded from our caller.
    unsafe { kiln_unwind_to(sp) }
}

/// Where a fault handler makes the interrupted thread continue to end a
/// trapped activation: the resume path, entered with the stack pointer set
/// to the activation's `resume_sp`.
#[cfg_attr(not(kiln_custom_signals), allow(dead_code))]
pub(in crate::runtime::sys) fn resume_pc(_: &Supported) -> usize {
    kiln_resume_wasm as *const () as usize
}

/// The interrupted pc and frame pointer (x29).
///
/// # Safety
///
/// `ucontext` must be the third argument of an `SA_SIGINFO` handler.
#[cfg(kiln_os_linux)]
pub(in crate::runtime::sys) unsafe fn fault_context(
    _signal: c_int,
    _info: *mut libc::siginfo_t,
    ucontext: *mut c_void,
) -> Option<(usize, usize)> {
    let uc = ucontext.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext_t to SA_SIGINFO handlers.
    let mc = unsafe { &(*uc).uc_mcontext };
    Some((mc.pc as usize, mc.regs[29] as usize))
}

/// Makes the handler's return land on the resume path with sp = `sp`.
///
/// # Safety
///
/// `ucontext` as for [`fault_context`]; `sp` the `resume_sp` of the
/// innermost activation of the interrupted thread.
#[cfg(kiln_os_linux)]
pub(in crate::runtime::sys) unsafe fn redirect(ucontext: *mut c_void, sp: usize) {
    let uc = ucontext.cast::<libc::ucontext_t>();
    // SAFETY: as above; the kernel reloads these registers from the
    // ucontext when the handler returns (rt_sigreturn).
    let mc = unsafe { &mut (*uc).uc_mcontext };
    mc.pc = kiln_resume_wasm as *const () as usize as u64;
    mc.sp = sp as u64;
}
