//! Signal handlers that turn hardware faults in wasm code into traps.
//!
//! One handler serves SIGSEGV, SIGBUS, SIGILL and SIGFPE. It is installed
//! once per process with `SA_SIGINFO | SA_ONSTACK | SA_NODEFER`, and the
//! handler each signal had before is kept. On a fault the handler asks the
//! code registry whether the pc is in registered wasm code, and (only then)
//! whether this thread is inside a wasm activation. If both, it records the
//! trap in the activation and rewrites the saved machine context so that
//! returning from the handler lands in the entry trampoline's resume path.
//! Otherwise the fault is not ours and goes to the previous handler:
//!
//! * a previous `SA_SIGINFO` handler or plain handler is called directly;
//! * for `SIG_DFL` (and `SIG_IGN`, which the kernel overrides for real
//!   faults anyway) the default action is restored and the handler
//!   returns: the faulting instruction runs again and the process dies of
//!   the signal, as it would have without us. A signal sent with `kill`
//!   rather than raised by a fault is re-raised instead, since returning
//!   would not repeat it.
//!
//! So a crash in host code still crashes loudly, and Rust's own
//! stack-overflow handler (installed by `std` at start-up for SIGSEGV and
//! SIGBUS) still reports overflows.
//!
//! Everything the handler does is async-signal-safe: a TLS load, atomic
//! operations and a binary search in the code registry (see
//! `registry.rs`), the registered lookup closure (whose contract says it
//! must be), `sigaction`, `raise`, and writes to the ucontext. It saves and
//! restores `errno` around the forwarding path.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::mem::{self, MaybeUninit};
use core::sync::atomic::{AtomicBool, Ordering};
use std::cell::RefCell;
use std::sync::OnceLock;

use crate::runtime::sys::unix::{Mmap, page_size};
use crate::runtime::sys::{SysError, arch, traps};

/// The signals hardware faults arrive as.
const SIGNALS: [c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// The handlers that were installed before ours, one per entry of
/// [`SIGNALS`]. Written once by `sigaction` during installation, read by
/// the handler only after the matching `SAVED` flag is set.
struct PreviousHandlers([UnsafeCell<MaybeUninit<libc::sigaction>>; SIGNALS.len()]);

// SAFETY: each cell is written exactly once, by the kernel through the
// `oldact` pointer of `sigaction` inside `install_handlers` (run once,
// under `INSTALLED`'s initialisation), before its `SAVED` flag is set with
// Release; readers load the flag with Acquire first and then only read.
unsafe impl Sync for PreviousHandlers {}

static PREVIOUS: PreviousHandlers =
    PreviousHandlers([const { UnsafeCell::new(MaybeUninit::uninit()) }; SIGNALS.len()]);
static SAVED: [AtomicBool; SIGNALS.len()] = [const { AtomicBool::new(false) }; SIGNALS.len()];

/// The outcome of the one installation attempt of this process.
static INSTALLED: OnceLock<Result<(), SysError>> = OnceLock::new();

/// Installs the fault handlers for the process (the first call does it;
/// later calls return the first call's result).
pub(in crate::runtime::sys) fn install_handlers() -> Result<(), SysError> {
    INSTALLED
        .get_or_init(|| {
            for (i, &signal) in SIGNALS.iter().enumerate() {
                // SAFETY: an all-zero `sigaction` is a valid value (no
                // handler, empty mask, no flags) that we then fill in.
                let mut action: libc::sigaction = unsafe { mem::zeroed() };
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                // SAFETY: `sa_mask` is a valid sigset_t to initialise.
                unsafe { libc::sigemptyset(&mut action.sa_mask) };
                // SAFETY: `action` is fully initialised; the old action is
                // written into our own static cell, which nothing reads
                // until SAVED[i] is set below. `handler` has the signature
                // SA_SIGINFO asks for and is async-signal-safe.
                let rc = unsafe { libc::sigaction(signal, &action, PREVIOUS.0[i].get().cast()) };
                if rc != 0 {
                    return Err(SysError::Os {
                        op: "sigaction",
                        errno: errno(),
                    });
                }
                SAVED[i].store(true, Ordering::Release);
            }
            Ok(())
        })
        .clone()
}

/// The handler for all four signals.
unsafe extern "C" fn handler(signal: c_int, info: *mut libc::siginfo_t, ucontext: *mut c_void) {
    // SAFETY: the kernel hands an SA_SIGINFO handler a valid siginfo and
    // ucontext for `signal`.
    if let Some((pc, fp)) = unsafe { arch::fault_context(signal, info, ucontext) } {
        // SAFETY: `info` is the kernel's valid siginfo for this signal; for
        // the four fault signals `si_addr` is the field in use.
        let fault_addr = unsafe { (*info).si_addr() } as usize;
        // SAFETY: as for `fault_context`.
        let early_return = unsafe { arch::prologue_return_address(ucontext) };
        if let Some(sp) = traps::record_fault(pc, fp, fault_addr, early_return) {
            // SAFETY: `sp` is the resume stack pointer of this thread's
            // innermost activation, which is running the faulting wasm code,
            // so its trampoline frame is live below the abandoned frames.
            unsafe { arch::redirect(ucontext, sp) };
            return;
        }
    }
    let saved_errno = errno();
    // SAFETY: forwarding with the arguments we were given.
    unsafe { forward(signal, info, ucontext) };
    set_errno(saved_errno);
}

/// Hands a fault that is not a wasm trap to the handler installed before
/// ours.
///
/// # Safety
///
/// The arguments must be those the kernel passed to `handler`.
unsafe fn forward(signal: c_int, info: *mut libc::siginfo_t, ucontext: *mut c_void) {
    let Some(i) = SIGNALS.iter().position(|&s| s == signal) else {
        return;
    };
    let previous = if SAVED[i].load(Ordering::Acquire) {
        // SAFETY: SAVED[i] is set only after the kernel filled PREVIOUS[i],
        // which is never written again (see `PreviousHandlers`).
        Some(unsafe { (*PREVIOUS.0[i].get()).assume_init_ref() })
    } else {
        None
    };
    match previous {
        Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: with SA_SIGINFO, `sa_sigaction` holds a handler of
                // this three-argument type, installed by its owner for this
                // signal; we call it as the kernel would have.
                let f: unsafe extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                    unsafe { mem::transmute(prev.sa_sigaction) };
                // SAFETY: as above.
                unsafe { f(signal, info, ucontext) };
            } else {
                // SAFETY: without SA_SIGINFO it holds a one-argument handler.
                let f: unsafe extern "C" fn(c_int) = unsafe { mem::transmute(prev.sa_sigaction) };
                // SAFETY: as above.
                unsafe { f(signal) };
            }
        }
        _ => {
            // SAFETY: an all-zero sigaction with SIG_DFL (0) is the default
            // disposition; installing it is async-signal-safe.
            unsafe {
                let mut default: libc::sigaction = mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigemptyset(&mut default.sa_mask);
                libc::sigaction(signal, &default, core::ptr::null_mut());
            }
            // SAFETY: `info` is valid (see `handler`).
            let sent = unsafe { (*info).si_code } <= 0;
            if sent || arch::fault_returns_past_instruction(signal) {
                // A signal sent by kill/tgkill/sigqueue (si_code <= 0) does
                // not come back by itself, nor does a fault whose saved pc
                // is already past the faulting instruction (s390x SIGILL
                // and SIGFPE); deliver it again, now with the default
                // action. SA_NODEFER leaves it unblocked.
                // SAFETY: raise is async-signal-safe.
                unsafe { libc::raise(signal) };
            }
            // Otherwise returning re-runs the faulting instruction, which
            // faults again and gets the default action (a core dump).
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[cfg(target_os = "linux")]
fn set_errno(value: i32) {
    // SAFETY: `__errno_location` returns this thread's errno slot, valid for
    // the thread's lifetime.
    unsafe { *libc::__errno_location() = value };
}

/// Elsewhere traps are unsupported, so the handler is never installed.
#[cfg(not(target_os = "linux"))]
fn set_errno(_value: i32) {}

/// The smallest alternate signal stack we accept: the handler and what it
/// forwards to (Rust's overflow reporter) need a few KiB; glibc's SIGSTKSZ
/// (8 KiB) is tight, so we ask for more.
const ALT_STACK_SIZE: usize = 64 << 10;

/// An alternate signal stack we installed for this thread: a guard page
/// followed by the stack. On thread exit it is disabled (if still the
/// thread's alternate stack) and unmapped.
struct AltStack {
    map: Mmap,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        let stack_base = self.map.as_ptr().wrapping_add(page_size());
        // SAFETY: querying the current alternate stack into a local.
        let mut current: libc::stack_t = unsafe { mem::zeroed() };
        // SAFETY: a null `ss` only queries; `current` is a valid out-pointer.
        let rc = unsafe { libc::sigaltstack(core::ptr::null(), &mut current) };
        if rc == 0
            && current.ss_sp.cast::<u8>() == stack_base
            && current.ss_flags & libc::SS_DISABLE == 0
        {
            // SAFETY: disabling the alternate stack is always allowed when
            // not running on it, and thread-local destructors do not.
            let disable = libc::stack_t {
                ss_sp: core::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: ALT_STACK_SIZE,
            };
            // SAFETY: as above.
            unsafe { libc::sigaltstack(&disable, core::ptr::null_mut()) };
        }
        // `map` is unmapped by its own Drop, now that no signal can land on it.
    }
}

std::thread_local! {
    /// The alternate stack this thread got from us, if any.
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };
}

/// Gives the calling thread an alternate signal stack of at least
/// [`ALT_STACK_SIZE`] bytes unless it already has one that big.
pub(in crate::runtime::sys) fn ensure_alt_stack() -> Result<(), SysError> {
    ALT_STACK
        .try_with(|slot| {
            if slot.borrow().is_some() {
                return Ok(());
            }
            // SAFETY: an all-zero stack_t is valid; it is only an output.
            let mut current: libc::stack_t = unsafe { mem::zeroed() };
            // SAFETY: a null `ss` only queries into `current`.
            if unsafe { libc::sigaltstack(core::ptr::null(), &mut current) } != 0 {
                return Err(SysError::Os {
                    op: "sigaltstack",
                    errno: errno(),
                });
            }
            if current.ss_flags & libc::SS_DISABLE == 0 && current.ss_size >= ALT_STACK_SIZE {
                return Ok(());
            }
            if current.ss_flags & libc::SS_ONSTACK != 0 {
                // Running on the alternate stack: it cannot be replaced now.
                return Err(SysError::Unsupported(
                    "installing an alternate signal stack from a signal handler",
                ));
            }
            let guard = page_size();
            let size = guard
                .checked_add(ALT_STACK_SIZE)
                .ok_or(SysError::Overflow("alternate signal stack"))?;
            let mut map = Mmap::reserve(size)?;
            map.make_accessible(guard, ALT_STACK_SIZE)?;
            let stack = libc::stack_t {
                ss_sp: map.as_ptr().wrapping_add(guard).cast(),
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            // SAFETY: `stack` describes read + write memory we own and keep
            // alive in ALT_STACK until the thread exits (where the Drop
            // above disables it before unmapping).
            if unsafe { libc::sigaltstack(&stack, core::ptr::null_mut()) } != 0 {
                return Err(SysError::Os {
                    op: "sigaltstack",
                    errno: errno(),
                });
            }
            *slot.borrow_mut() = Some(AltStack { map });
            Ok(())
        })
        .unwrap_or(Err(SysError::Unsupported(
            "alternate signal stack on an exiting thread",
        )))
}
