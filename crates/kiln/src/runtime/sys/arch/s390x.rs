//! s390x (z/Architecture ELF ABI, Linux): trampolines, signal context
//! access and frame walking.
//!
//! s390x has no frame-pointer register chain. With `preserve_frame_pointers`
//! Cranelift keeps the ABI's optional *backchain* instead: every function
//! allocates a frame whose lowest word (at its stack pointer, which does
//! not move after the prologue) holds the stack pointer of its caller's
//! frame, and its prologue saves r14 (the return address) with r6–r15 in
//! the 160-byte register save area its caller provides at the caller's
//! stack pointer, r14 at offset 112. A frame's *handle*, the value walks
//! start from and stop at, is therefore its stack pointer:
//!
//! ```text
//!   caller = [sp]            the caller's frame handle (backchain)
//!   return = [caller + 112]  where this frame's prologue saved r14
//! ```
//!
//! The entry trampoline's frame follows the same rules, so a walk up from
//! wasm stops at it. From high to low addresses:
//!
//! ```text
//!   caller's register save area: r6..r15 at 48..128 (r14 at 112)
//!   f8..f15 (64 bits each: all the ABI keeps)
//!   160-byte register save area for the callee, backchain at 0
//!                                <- r15 when wasm is called
//!                                   (resume_sp = entry_fp)
//! ```
//!
//! The resume path starts with `r15 = resume_sp`, reloads f8–f15, then
//! r6–r15 from the caller's save area, and returns 1 through the saved r14.
//!
//! Program interrupts: for an operation exception (the 2-byte `0x0000`
//! Cranelift emits as a trap, also embedded in the `brcl` of a conditional
//! trap), a fixed-point divide exception (integer division by zero, SIGFPE)
//! and a data exception (SIGFPE) the PSW the kernel saves points *after*
//! the instruction. Access exceptions (SIGSEGV) leave it at the faulting
//! instruction. Cranelift matches this by recording the first kind of trap
//! site on the *last byte* of its instruction and faulting accesses on the
//! first, so `fault_context` reports `psw - 1` for SIGILL and SIGFPE and
//! the PSW otherwise, and the handler re-raises a SIGILL/SIGFPE that is
//! not a wasm trap, since returning would skip the instruction instead of
//! repeating it. (`si_addr` holds the instruction's first byte for those
//! signals and the data address for SIGSEGV; only the latter is used.)

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
    // Five argument registers (r2–r6) would leave the last argument on the
    // stack; passing the four values through memory keeps the trampoline
    // simple.
    let args = [a0, a1, a2, a3];
    // SAFETY: forwarded from our caller; `args` outlives the call.
    unsafe { kiln_enter_wasm(act, entry, args.as_ptr()) }
}

#[unsafe(naked)]
unsafe extern "C" fn kiln_enter_wasm(
    act: *mut Activation,
    entry: WasmEntry,
    args: *const usize,
) -> u32 {
    // In: r2 = act, r3 = entry, r4 = args. The frame is 160 (register save
    // area for the callee) + 64 (f8–f15) bytes, a multiple of 8.
    naked_asm!(
        "stmg %r6, %r15, 48(%r15)",
        "lgr %r1, %r15",
        "aghi %r15, -224",
        "stg %r1, 0(%r15)",
        "std %f8, 160(%r15)",
        "std %f9, 168(%r15)",
        "std %f10, 176(%r15)",
        "std %f11, 184(%r15)",
        "std %f12, 192(%r15)",
        "std %f13, 200(%r15)",
        "std %f14, 208(%r15)",
        "std %f15, 216(%r15)",
        "stg %r15, {sp}(%r2)",
        "stg %r15, {fp}(%r2)",
        "lgr %r1, %r4",
        "lgr %r6, %r3",
        "lg %r2, 0(%r1)",
        "lg %r3, 8(%r1)",
        "lg %r4, 16(%r1)",
        "lg %r5, 24(%r1)",
        "basr %r14, %r6",
        "lghi %r2, 0",
        "ld %f8, 160(%r15)",
        "ld %f9, 168(%r15)",
        "ld %f10, 176(%r15)",
        "ld %f11, 184(%r15)",
        "ld %f12, 192(%r15)",
        "ld %f13, 200(%r15)",
        "ld %f14, 208(%r15)",
        "ld %f15, 216(%r15)",
        "lmg %r6, %r15, 272(%r15)",
        "br %r14",
        sp = const offset_of!(Activation, resume_sp),
        fp = const offset_of!(Activation, entry_fp),
    )
}

/// The resume path: entered (never called) with r15 = an activation's
/// `resume_sp`; unwinds the trampoline frame and returns 1 from
/// `kiln_enter_wasm`.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_wasm() {
    naked_asm!(
        "lghi %r2, 1",
        "ld %f8, 160(%r15)",
        "ld %f9, 168(%r15)",
        "ld %f10, 176(%r15)",
        "ld %f11, 184(%r15)",
        "ld %f12, 192(%r15)",
        "ld %f13, 200(%r15)",
        "ld %f14, 208(%r15)",
        "ld %f15, 216(%r15)",
        "lmg %r6, %r15, 272(%r15)",
        "br %r14",
    )
}

/// Switches to stack pointer `sp` (in r2) and takes the resume path (its
/// instructions repeated here, which needs no branch to a symbol).
#[unsafe(naked)]
unsafe extern "C" fn kiln_unwind_to(sp: usize) -> ! {
    naked_asm!(
        "lgr %r15, %r2",
        "lghi %r2, 1",
        "ld %f8, 160(%r15)",
        "ld %f9, 168(%r15)",
        "ld %f10, 176(%r15)",
        "ld %f11, 184(%r15)",
        "ld %f12, 192(%r15)",
        "ld %f13, 200(%r15)",
        "ld %f14, 208(%r15)",
        "ld %f15, 216(%r15)",
        "lmg %r6, %r15, 272(%r15)",
        "br %r14",
    )
}

/// Continues at exception handler `pc` of a wasm frame: r15 = `sp`, the
/// exception in the first payload register (r6; r7, the second, zero).
/// There is no frame pointer to restore, and a function with a handler
/// keeps nothing else in registers across the call.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_handler(pc: usize, sp: usize, fp: usize, payload: usize) -> ! {
    // In: r2 = pc, r3 = sp, r4 = fp (unused), r5 = payload.
    naked_asm!("lgr %r15, %r3", "lgr %r6, %r5", "lghi %r7, 0", "br %r2",)
}

/// Jumps to exception handler `pc` with stack pointer `sp` and `payload`
/// (see [`kiln_resume_handler`]).
///
/// # Safety
///
/// `pc` and `sp` must describe a live wasm frame of this thread below
/// every frame being abandoned, at a call site whose handler is `pc`; the
/// abandoned frames must own nothing.
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

/// The stack pointer an exception handler runs with: the frame handle
/// itself, which is the frame's stack pointer at its calls. (Cranelift's
/// `frame_offset` measures up from there to the frame's top; even a call
/// that lowers the stack pointer for stack arguments leaves the callee's
/// backchain, and so the handle, pointing at the caller's own stack
/// pointer.)
pub(in crate::runtime::sys) fn handler_sp(handle: usize, _frame_offset: u32) -> usize {
    handle
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

/// The faulting instruction's address and the frame handle (r15).
///
/// # Safety
///
/// `info` and `ucontext` must be the second and third arguments of an
/// `SA_SIGINFO` handler for `signal`.
#[cfg(kiln_os_linux)]
pub(in crate::runtime::sys) unsafe fn fault_context(
    signal: c_int,
    _info: *mut libc::siginfo_t,
    ucontext: *mut c_void,
) -> Option<(usize, usize)> {
    let uc = ucontext.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext_t to SA_SIGINFO handlers.
    let mc = unsafe { &(*uc).uc_mcontext };
    let psw = mc.psw.addr as usize;
    // Cranelift records these traps on the last byte of the instruction,
    // which is one byte before the PSW the kernel saved.
    let pc = if fault_returns_past_instruction(signal) {
        psw.wrapping_sub(1)
    } else {
        psw
    };
    Some((pc, mc.gregs[15] as usize))
}

/// Makes the handler's return land on the resume path with r15 = `sp`.
///
/// # Safety
///
/// `ucontext` as for [`fault_context`]; `sp` the `resume_sp` of the
/// innermost activation of the interrupted thread.
#[cfg(kiln_os_linux)]
pub(in crate::runtime::sys) unsafe fn redirect(ucontext: *mut c_void, sp: usize) {
    let uc = ucontext.cast::<libc::ucontext_t>();
    // SAFETY: as above; the kernel reloads the PSW and the registers from
    // the ucontext when the handler returns (rt_sigreturn). The PSW mask
    // (64-bit addressing, problem state) stays as it was.
    let mc = unsafe { &mut (*uc).uc_mcontext };
    mc.psw.addr = kiln_resume_wasm as *const () as usize as u64;
    mc.gregs[15] = sp as u64;
}

/// r14 at the fault. Cranelift's s390x prologue compares the stack pointer
/// with the limit *before* it saves r14 and allocates the frame, so at a
/// stack-overflow trap the faulting function's return address is only in
/// r14, and r15 still is its caller's stack pointer (or the argument area
/// below it, whose first word copies the caller's backchain): the walk
/// from r15 starts at the caller's caller.
///
/// # Safety
///
/// `ucontext` as for [`fault_context`].
#[cfg(kiln_os_linux)]
pub(in crate::runtime::sys) unsafe fn prologue_return_address(
    ucontext: *mut c_void,
) -> Option<usize> {
    let uc = ucontext.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes a valid ucontext_t to SA_SIGINFO handlers.
    Some(unsafe { (*uc).uc_mcontext.gregs[14] } as usize)
}

/// SIGILL (operation exception) and SIGFPE (divide exception) leave the
/// saved PSW after the faulting instruction.
#[cfg(kiln_os_linux)]
pub(in crate::runtime::sys) fn fault_returns_past_instruction(signal: c_int) -> bool {
    signal == libc::SIGILL || signal == libc::SIGFPE
}

/// Offset of r14 in a register save area.
const SAVED_R14: usize = 14 * 8;

/// One step of a backchain walk: the caller's frame handle (its stack
/// pointer) and this frame's return address, which this frame's prologue
/// saved in the caller's register save area. `None` when the chain is
/// broken (a backchain that does not point higher up the stack).
///
/// # Safety
///
/// `sp` must be the stack pointer of a frame that stored its backchain
/// (compiled code with `preserve_frame_pointers`, or the entry trampoline)
/// and whose caller's frame is live.
pub(in crate::runtime::sys) unsafe fn frame_caller(sp: usize) -> Option<(usize, usize)> {
    // SAFETY: the contract: the backchain word at `sp` is readable.
    let caller = unsafe { (sp as *const usize).read() };
    if caller <= sp || !caller.is_multiple_of(8) {
        return None;
    }
    // SAFETY: `caller` is the live caller frame's stack pointer; its
    // register save area (160 bytes from it) holds the saved r14.
    let ret = unsafe { ((caller + SAVED_R14) as *const usize).read() };
    Some((caller, ret))
}
