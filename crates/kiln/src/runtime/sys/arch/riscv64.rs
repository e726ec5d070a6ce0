//! riscv64 (LP64D psABI, Linux): trampolines and signal context access.
//!
//! Cranelift's riscv64 frames keep `s0` as the frame pointer, pointing at
//! the pair its prologue pushed: the caller's `s0` at `[s0]` and `ra` at
//! `[s0 + 8]` (the x86_64/aarch64 record shape; GCC's riscv frames differ,
//! with `s0` at the frame's top, but no walk crosses a GCC frame). The
//! entry trampoline builds the same record, so a walk up from wasm stops
//! at it. Its frame, from high to low addresses:
//!
//! ```text
//!   ra
//!   s0                           <- s0 inside the trampoline (entry_fp)
//!   s1..s11
//!   fs0..fs11 (64 bits each)
//!   8 bytes of padding           <- sp when wasm is called (resume_sp)
//! ```
//!
//! The resume path starts with `sp = resume_sp`, reloads fs0–fs11, s1–s11,
//! s0 and ra, and returns 1. Traps are `unimp` (SIGILL) and faulting
//! accesses (SIGSEGV/SIGBUS); riscv64 division never faults (Cranelift
//! checks the divisor). The saved pc is the faulting instruction's; the
//! kernel restores `fcsr` and everything else on `sigreturn`.

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

/// The register saves and reloads of the trampoline frame (208 bytes, so
/// sp stays 16-aligned).
macro_rules! frame {
    (save) => {
        concat!(
            "addi sp, sp, -208\n",
            "sd ra, 200(sp)\n",
            "sd s0, 192(sp)\n",
            "addi s0, sp, 192\n",
            "sd s1, 184(sp)\n",
            "sd s2, 176(sp)\n",
            "sd s3, 168(sp)\n",
            "sd s4, 160(sp)\n",
            "sd s5, 152(sp)\n",
            "sd s6, 144(sp)\n",
            "sd s7, 136(sp)\n",
            "sd s8, 128(sp)\n",
            "sd s9, 120(sp)\n",
            "sd s10, 112(sp)\n",
            "sd s11, 104(sp)\n",
            // The crate is built for RV64GC, but naked asm is assembled
            // with the baseline's features only: name D explicitly.
            ".option push\n",
            ".option arch, +d\n",
            "fsd fs0, 96(sp)\n",
            "fsd fs1, 88(sp)\n",
            "fsd fs2, 80(sp)\n",
            "fsd fs3, 72(sp)\n",
            "fsd fs4, 64(sp)\n",
            "fsd fs5, 56(sp)\n",
            "fsd fs6, 48(sp)\n",
            "fsd fs7, 40(sp)\n",
            "fsd fs8, 32(sp)\n",
            "fsd fs9, 24(sp)\n",
            "fsd fs10, 16(sp)\n",
            "fsd fs11, 8(sp)\n",
            ".option pop\n",
        )
    };
    (restore_and_return) => {
        concat!(
            ".option push\n",
            ".option arch, +d\n",
            "fld fs11, 8(sp)\n",
            "fld fs10, 16(sp)\n",
            "fld fs9, 24(sp)\n",
            "fld fs8, 32(sp)\n",
            "fld fs7, 40(sp)\n",
            "fld fs6, 48(sp)\n",
            "fld fs5, 56(sp)\n",
            "fld fs4, 64(sp)\n",
            "fld fs3, 72(sp)\n",
            "fld fs2, 80(sp)\n",
            "fld fs1, 88(sp)\n",
            "fld fs0, 96(sp)\n",
            ".option pop\n",
            "ld s11, 104(sp)\n",
            "ld s10, 112(sp)\n",
            "ld s9, 120(sp)\n",
            "ld s8, 128(sp)\n",
            "ld s7, 136(sp)\n",
            "ld s6, 144(sp)\n",
            "ld s5, 152(sp)\n",
            "ld s4, 160(sp)\n",
            "ld s3, 168(sp)\n",
            "ld s2, 176(sp)\n",
            "ld s1, 184(sp)\n",
            "ld s0, 192(sp)\n",
            "ld ra, 200(sp)\n",
            "addi sp, sp, 208\n",
            "ret\n",
        )
    };
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
    // In: a0 = act, a1 = entry, a2..a5 = the four arguments.
    naked_asm!(
        frame!(save),
        "sd sp, {sp}(a0)",
        "sd s0, {fp}(a0)",
        "mv t0, a1",
        "mv a0, a2",
        "mv a1, a3",
        "mv a2, a4",
        "mv a3, a5",
        "jalr t0",
        "li a0, 0",
        frame!(restore_and_return),
        sp = const offset_of!(Activation, resume_sp),
        fp = const offset_of!(Activation, entry_fp),
    )
}

/// The resume path: entered (never called) with sp = an activation's
/// `resume_sp`; unwinds the trampoline frame and returns 1 from
/// `kiln_enter_wasm`.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_wasm() {
    naked_asm!("li a0, 1", frame!(restore_and_return))
}

/// Switches to stack pointer `sp` (in a0) and takes the resume path (its
/// instructions repeated here, which needs no branch to a symbol).
#[unsafe(naked)]
unsafe extern "C" fn kiln_unwind_to(sp: usize) -> ! {
    naked_asm!("mv sp, a0", "li a0, 1", frame!(restore_and_return))
}

/// Continues at exception handler `pc` of a wasm frame: stack pointer
/// `sp`, frame pointer `fp` (s0), the exception in the first payload
/// register (a0; a1, the second, zero). Cranelift's handlers expect
/// nothing else: a function with a handler keeps nothing in registers
/// across the call.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_handler(pc: usize, sp: usize, fp: usize, payload: usize) -> ! {
    naked_asm!(
        "mv t0, a0",
        "mv sp, a1",
        "mv s0, a2",
        "mv a0, a3",
        "li a1, 0",
        "jr t0",
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

/// Register numbers in `mcontext_t::__gregs` (the kernel's
/// `user_regs_struct`: pc first, then x1..x31).
const REG_PC: usize = 0;
const REG_SP: usize = 2;
const REG_S0: usize = 8;

/// The interrupted pc and frame pointer (s0).
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
    let gregs = unsafe { &(*uc).uc_mcontext.__gregs };
    Some((gregs[REG_PC] as usize, gregs[REG_S0] as usize))
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
    let gregs = unsafe { &mut (*uc).uc_mcontext.__gregs };
    gregs[REG_PC] = kiln_resume_wasm as *const () as usize as libc::c_ulong;
    gregs[REG_SP] = sp as libc::c_ulong;
}
