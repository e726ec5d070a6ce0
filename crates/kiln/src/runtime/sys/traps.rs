//! Wasm activations: entering wasm code and getting back out on a trap.
//!
//! [`Traps::call_wasm`] pushes an [`Activation`] (on its own stack frame)
//! onto this thread's list and calls the architecture's entry trampoline,
//! which saves the callee-saved registers on its frame, stores the stack
//! pointer that points at them in the activation, and calls the wasm entry
//! function. A normal return comes back through the trampoline with 0.
//!
//! A trap comes back through the trampoline's *resume* path with 1: the
//! signal handler (for a hardware fault in registered wasm code) or
//! [`raise_trap`] (for host code called from wasm) writes a
//! [`TrapRecord`] into the innermost activation, sets the stack pointer to
//! the saved one and jumps to the resume code, which reloads the
//! callee-saved registers from the trampoline frame and returns 1 to
//! `call_wasm`. The frames between (wasm, and host frames without
//! destructors) are simply abandoned; nothing on them needs cleaning up.
//!
//! Activations form a per-thread linked list so host → wasm → host → wasm
//! nests: a trap always goes to the innermost one, whose `call_wasm` pops
//! it and hands the trap to its caller (which may be host code called by
//! outer wasm, and decides whether to raise it further).

use core::convert::Infallible;
use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{Ordering, compiler_fence};

use kiln_environ::TrapCode;

use super::arch;
use super::{SysError, TrapRecord};

/// The function `call_wasm` enters: the array-call trampoline a native
/// backend produces, taking four pointer-sized arguments in the C ABI.
pub(crate) type WasmEntry = unsafe extern "C" fn(usize, usize, usize, usize);

/// One entry into wasm, living on `call_wasm`'s stack frame.
///
/// The trampolines read and write the first two fields by offset.
#[repr(C)]
pub(super) struct Activation {
    /// Stack pointer in the trampoline frame, just below the saved
    /// callee-saved registers; the resume path starts from it. Written by
    /// the trampoline before it calls wasm (0 until then).
    pub(super) resume_sp: usize,
    /// The trampoline frame's frame pointer (for backtrace walks).
    pub(super) entry_fp: usize,
    /// The enclosing activation of this thread, or null.
    pub(super) prev: *mut Activation,
    /// The trap that ended this activation, written just before resuming.
    pub(super) trap: Option<TrapRecord>,
    /// Where the signal handler records the return addresses of the frames
    /// above a fault (null: not wanted).
    pub(super) trace: *mut TraceBuf,
}

/// Return addresses of the frames above a faulting wasm instruction, found
/// by walking the frame-pointer chain inside the signal handler (the
/// frames are gone once the activation has unwound). Fixed size, so the
/// handler never allocates; deeper stacks keep their innermost frames.
#[derive(Clone, Debug)]
pub(crate) struct TraceBuf {
    /// The return addresses, innermost first.
    pub(crate) pcs: [usize; TraceBuf::CAPACITY],
    /// How many of `pcs` are valid.
    pub(crate) len: usize,
}

impl TraceBuf {
    /// Frames kept per trap.
    pub(crate) const CAPACITY: usize = 128;

    /// An empty buffer.
    pub(crate) const fn new() -> Self {
        TraceBuf {
            pcs: [0; TraceBuf::CAPACITY],
            len: 0,
        }
    }

    /// Records the return addresses of the frame chain starting at frame
    /// handle `fp` (the frame pointer; the stack pointer on s390x, see
    /// `arch::frame_caller`), up to (not including) the frame at `stop` or
    /// above it.
    ///
    /// # Safety
    ///
    /// Every frame from `fp` up to `stop` must be a valid frame record of
    /// the architecture's shape on this thread's stack (true of code
    /// compiled with frame pointers, which wasm code is, and of the
    /// trampolines that call it).
    pub(crate) unsafe fn walk(&mut self, mut fp: usize, stop: usize) {
        self.len = 0;
        let word = size_of::<usize>();
        while fp != 0 && fp < stop && fp.is_multiple_of(word) && self.len < TraceBuf::CAPACITY {
            // SAFETY: `fp` is a frame record below `stop` (the contract).
            let Some((next, ret)) = (unsafe { arch::frame_caller(fp) }) else {
                break;
            };
            self.pcs[self.len] = ret;
            self.len += 1;
            // Frames only get older going up the stack; anything else is
            // not a frame chain and ends the walk.
            if next <= fp {
                break;
            }
            fp = next;
        }
    }

    /// Puts `pc` before the recorded return addresses (dropping the
    /// outermost one if the buffer is full).
    fn prepend(&mut self, pc: usize) {
        let keep = self.len.min(TraceBuf::CAPACITY - 1);
        self.pcs.copy_within(..keep, 1);
        self.pcs[0] = pc;
        self.len = keep + 1;
    }
}

/// This thread's innermost activation (null outside wasm), kept in the
/// runtime's per-thread slot ([`super::sync::tls_get`]). Async-signal-safe:
/// the signal handler reads it only once the pc is known to be in wasm
/// code, which this thread can only be running after `call_wasm` set it.
pub(super) fn current() -> *mut Activation {
    super::sync::tls_get().cast()
}

fn set_current(act: *mut Activation) {
    super::sync::tls_set(act.cast());
}

/// Proof that trap handling works on this thread: the architecture can
/// resume at an activation's entry and, when made by [`Traps::init`], the
/// process's signal handlers are installed and this thread has a big
/// enough alternate signal stack ([`Traps::init_without_signals`] skips
/// both, for code that never faults). It is neither `Send` nor `Sync`:
/// each thread that runs wasm gets its own.
#[derive(Clone, Copy)]
pub(crate) struct Traps {
    /// Uninhabited on architectures without trap resumption, so `Traps`
    /// cannot exist there.
    arch: arch::Supported,
    _per_thread: PhantomData<*const ()>,
}

impl core::fmt::Debug for Traps {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Traps")
    }
}

impl Traps {
    /// Sets up trap handling for the calling thread, installing the
    /// process's signal handlers the first time. Cheap after the first call
    /// on a thread.
    ///
    /// Fails with [`SysError::Unsupported`] where trap resumption is not
    /// implemented (today: anything but x86_64, aarch64, s390x and riscv64,
    /// on Linux or without `std`), or where faults cannot be caught (a
    /// `no_std` build without `custom-native-signals`).
    pub(crate) fn init() -> Result<Traps, SysError> {
        let arch = arch::supported().ok_or(SysError::Unsupported(
            "resuming from traps on this OS and architecture",
        ))?;
        #[cfg(kiln_os)]
        {
            super::unix::signals::install_handlers()?;
            super::unix::signals::ensure_alt_stack()?;
        }
        #[cfg(kiln_custom_signals)]
        super::custom::signals::install_handlers()?;
        #[cfg(not(any(kiln_os, kiln_custom_signals)))]
        {
            let _ = arch;
            Err(SysError::Unsupported(
                "code that traps by faulting: this build has no signal handling \
                 (enable custom-native-signals, or compile with signals_based_traps(false))",
            ))
        }
        #[cfg(any(kiln_os, kiln_custom_signals))]
        Ok(Traps {
            arch,
            _per_thread: PhantomData,
        })
    }

    /// Sets up the calling thread to run code compiled without
    /// signals-based traps, which raises every trap through
    /// [`raise_trap`]: that needs only the architecture's entry and resume
    /// trampolines, so no signal handler and no alternate signal stack is
    /// installed. A fault in code run this way is not a trap but a crash,
    /// as anywhere outside wasm.
    ///
    /// Fails with [`SysError::Unsupported`] where [`Traps::init`] does.
    pub(crate) fn init_without_signals() -> Result<Traps, SysError> {
        let arch = arch::supported().ok_or(SysError::Unsupported(
            "resuming from traps on this OS and architecture",
        ))?;
        Ok(Traps {
            arch,
            _per_thread: PhantomData,
        })
    }

    /// Calls `entry(a0, a1, a2, a3)` as a wasm activation: a hardware trap
    /// in registered wasm code it runs, or a [`raise_trap`] from host code it
    /// calls, ends the call with `Err`. Calls nest.
    ///
    /// # Safety
    ///
    /// `entry` must be safe to call with these arguments, and everything it
    /// runs must obey the activation's contract: a trap abandons every frame
    /// between the fault and this call without running destructors, so only
    /// wasm code and host frames that own nothing needing a drop may be
    /// live when one is taken; host code must not let a Rust panic unwind
    /// into wasm frames (`extern "C"` turns it into an abort).
    pub(crate) unsafe fn call_wasm(
        self,
        entry: WasmEntry,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
    ) -> Result<(), TrapRecord> {
        // SAFETY: forwarded contract; no trace is asked for.
        unsafe { self.call_wasm_traced(entry, a0, a1, a2, a3, ptr::null_mut()) }
    }

    /// [`Traps::call_wasm`], and on a hardware trap the return addresses of
    /// the frames above the fault are recorded in `*trace` (if not null).
    ///
    /// # Safety
    ///
    /// As for [`Traps::call_wasm`]; `trace`, if not null, must stay valid
    /// and unused by anything else for the call.
    pub(crate) unsafe fn call_wasm_traced(
        self,
        entry: WasmEntry,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        trace: *mut TraceBuf,
    ) -> Result<(), TrapRecord> {
        let mut activation = Activation {
            resume_sp: 0,
            entry_fp: 0,
            prev: current(),
            trap: None,
            trace,
        };
        let act: *mut Activation = &mut activation;
        set_current(act);
        // SAFETY: `act` points to a live activation on this frame that stays
        // put until `enter` returns; the caller vouches for `entry` and its
        // arguments, and for the trap contract of whatever it runs.
        let status = unsafe { arch::enter(&self.arch, act, entry, a0, a1, a2, a3) };
        // The trap record may have been written by a signal handler or by
        // `raise_trap` "during" the call; keep the compiler from moving the
        // reads below above it (the pointer escaped into `enter`, so it
        // already may not assume the fields unchanged).
        compiler_fence(Ordering::SeqCst);
        // SAFETY: `act` is still our live local; nothing else refers to it
        // once `enter` has returned.
        let (prev, trap) = unsafe { ((*act).prev, (*act).trap) };
        set_current(prev);
        match (status, trap) {
            (0, _) => Ok(()),
            (_, Some(trap)) => Err(trap),
            // The resume path is only taken after a record is written; if it
            // ever were not, report the trap as best we can, not crash.
            (_, None) => Err(TrapRecord {
                code: TrapCode::UnreachableCodeReached,
                pc: None,
                fault_addr: None,
                fp: None,
                entry_fp: activation.entry_fp,
            }),
        }
    }
}

/// Ends the innermost wasm activation of this thread with a trap of `code`:
/// its [`Traps::call_wasm`] returns `Err` with this code. For libcalls
/// (host functions called by compiled code) that detect a trap condition.
///
/// Returns only if the thread is not inside wasm, with
/// [`SysError::NoActivation`].
///
/// # Safety
///
/// Every frame between this call and the innermost `call_wasm` is abandoned
/// without running destructors: there must be no Rust frame in between
/// that owns something to drop (a `Box`, a lock guard, a `Vec`...), or it
/// leaks or leaves shared state inconsistent. The runtime guarantees that
/// by calling this only from the outermost frame of a libcall, after it
/// dropped everything it owns.
pub(crate) unsafe fn raise_trap(code: TrapCode) -> Result<Infallible, SysError> {
    let act = current();
    // SAFETY: a non-null CURRENT points at the activation of a
    // `call_wasm` frame below us on this thread's stack, live while we run.
    let Some(activation) = (unsafe { act.as_mut() }) else {
        return Err(SysError::NoActivation);
    };
    let Some(arch) = arch::supported() else {
        return Err(SysError::NoActivation);
    };
    if activation.resume_sp == 0 {
        return Err(SysError::NoActivation);
    }
    activation.trap = Some(TrapRecord {
        code,
        pc: None,
        fault_addr: None,
        fp: None,
        entry_fp: activation.entry_fp,
    });
    let sp = activation.resume_sp;
    compiler_fence(Ordering::SeqCst);
    // SAFETY: `sp` is the stack pointer the trampoline of the innermost
    // activation saved, and that frame is still live (we are running above
    // it on the same stack); the caller promises that no frame in between
    // needs unwinding.
    unsafe { arch::unwind_to(&arch, sp) }
}

/// One step of a walk over wasm frames: the caller's frame handle and the
/// return address into it (see `arch::frame_caller`).
///
/// # Safety
///
/// `fp` must be a frame handle of a live frame of this thread with the
/// architecture's frame record.
pub(crate) unsafe fn frame_caller(fp: usize) -> Option<(usize, usize)> {
    // SAFETY: the caller's contract.
    unsafe { arch::frame_caller(fp) }
}

/// The stack pointer an exception handler of the frame with handle
/// `handle` runs with, given its call site's `frame_offset` (see
/// `arch::handler_sp`).
pub(crate) fn handler_sp(handle: usize, frame_offset: u32) -> usize {
    arch::handler_sp(handle, frame_offset)
}

/// Continues at exception handler `pc` of a wasm frame of the innermost
/// activation, with stack pointer `sp`, frame pointer `fp` and the
/// exception `payload`, abandoning every frame above. Errors if trap
/// handling is not set up (no activation).
///
/// # Safety
///
/// `pc`, `sp` and `fp` must come from a handler site of a live wasm frame
/// of the innermost activation on this thread (the unwinder found them
/// walking its frame chain); no frame above it may own anything that needs
/// dropping.
pub(crate) unsafe fn resume_handler(
    pc: usize,
    sp: usize,
    fp: usize,
    payload: usize,
) -> Result<Infallible, SysError> {
    let Some(arch) = arch::supported() else {
        return Err(SysError::NoActivation);
    };
    if current().is_null() {
        return Err(SysError::NoActivation);
    }
    compiler_fence(Ordering::SeqCst);
    // SAFETY: the caller's contract.
    unsafe { arch::resume_handler(&arch, pc, sp, fp, payload) }
}

/// Called by the signal handler: if the fault at `pc` is a trap of
/// registered wasm code run by this thread's innermost activation, records
/// it there and returns the stack pointer to resume at. Async-signal-safe.
///
/// `early_return` is the faulting function's return address where a
/// stack-overflow check runs before the function has a frame (s390x: see
/// `arch::prologue_return_address`); the walk from `fp` then starts at its
/// caller's caller, so it goes first in the trace.
pub(super) fn record_fault(
    pc: usize,
    fp: usize,
    fault_addr: usize,
    early_return: Option<usize>,
) -> Option<usize> {
    let mut act: *mut Activation = ptr::null_mut();
    let code = super::registry::trap_at(pc, || {
        act = current();
        // SAFETY: a non-null CURRENT points at a live activation of this
        // thread (we are on the same thread, interrupting its wasm code).
        !act.is_null() && unsafe { (*act).resume_sp } != 0
    })?;
    // SAFETY: as above: `act` was checked non-null and live.
    let activation = unsafe { &mut *act };
    if !activation.trace.is_null() {
        // SAFETY: a non-null `trace` is valid for the activation and used by
        // nothing else meanwhile (the contract of `call_wasm_traced`).
        let trace = unsafe { &mut *activation.trace };
        // SAFETY: the faulting code is registered wasm code, compiled with
        // frame pointers (a backchain on s390x), so the chain from `fp` up
        // to the entry trampoline's frame is made of valid frame records.
        unsafe { trace.walk(fp, activation.entry_fp) };
        if code == TrapCode::StackOverflow
            && let Some(ret) = early_return
        {
            trace.prepend(ret);
        }
    }
    activation.trap = Some(TrapRecord {
        code,
        pc: Some(pc),
        fault_addr: Some(fault_addr),
        fp: Some(fp),
        entry_fp: activation.entry_fp,
    });
    Some(activation.resume_sp)
}
