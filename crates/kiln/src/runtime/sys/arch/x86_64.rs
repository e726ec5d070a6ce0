//! x86_64 (System V ABI, Linux): trampolines and signal context access.
//!
//! The entry trampoline's frame, from high to low addresses:
//!
//! ```text
//!   return address into call_wasm
//!   rbp                          <- rbp inside the trampoline (entry_fp)
//!   rbx, r12, r13, r14, r15
//!   8 bytes of padding           <- rsp when wasm is called (resume_sp)
//! ```
//!
//! The resume path starts with `rsp = resume_sp`, pops the padding and the
//! six callee-saved registers, and returns 1. x86_64 has no callee-saved
//! vector registers in this ABI; the control words (MXCSR, x87 CW) and the
//! direction flag are left as the ABI requires by compiled code, and the
//! kernel restores the rest of the interrupted state on `sigreturn`.

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
    // In: rdi = act, rsi = entry, rdx/rcx/r8/r9 = a0..a3. On entry rsp is
    // 8 mod 16; after seven pushes and 8 bytes of padding it is 0 mod 16,
    // as the call to `entry` needs.
    naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "sub rsp, 8",
        "mov [rdi + {sp}], rsp",
        "mov [rdi + {fp}], rbp",
        "mov rax, rsi",
        "mov rdi, rdx",
        "mov rsi, rcx",
        "mov rdx, r8",
        "mov rcx, r9",
        "call rax",
        "xor eax, eax",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        sp = const offset_of!(Activation, resume_sp),
        fp = const offset_of!(Activation, entry_fp),
    )
}

/// The resume path: entered (never called) with rsp = an activation's
/// `resume_sp`; unwinds the trampoline frame and returns 1 from
/// `kiln_enter_wasm`.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_wasm() {
    naked_asm!(
        "mov eax, 1",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    )
}

/// Switches to stack pointer `sp` (in rdi) and takes the resume path.
#[unsafe(naked)]
unsafe extern "C" fn kiln_unwind_to(sp: usize) -> ! {
    naked_asm!("mov rsp, rdi", "jmp {resume}", resume = sym kiln_resume_wasm)
}

/// Continues at exception handler `pc` of a wasm frame: stack pointer
/// `sp`, frame pointer `fp`, the exception in the first payload register
/// (rax; rdx, the second, zero). Cranelift's handlers expect nothing else:
/// a function with a handler keeps nothing in registers across the call.
#[unsafe(naked)]
unsafe extern "C" fn kiln_resume_handler(pc: usize, sp: usize, fp: usize, payload: usize) -> ! {
    naked_asm!(
        "mov rsp, rsi",
        "mov rbp, rdx",
        "mov rax, rcx",
        "xor edx, edx",
        "jmp rdi",
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

/// The interrupted pc and frame pointer.
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
    let gregs = unsafe { &(*uc).uc_mcontext.gregs };
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let fp = gregs[libc::REG_RBP as usize] as usize;
    Some((pc, fp))
}

/// Makes the handler's return land on the resume path with rsp = `sp`.
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
    let gregs = unsafe { &mut (*uc).uc_mcontext.gregs };
    gregs[libc::REG_RIP as usize] = kiln_resume_wasm as *const () as usize as libc::greg_t;
    gregs[libc::REG_RSP as usize] = sp as libc::greg_t;
}
