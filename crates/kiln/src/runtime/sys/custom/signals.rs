//! Fault handling of a `no_std` build with the `custom-native-signals`
//! feature: the embedder installs its own fault handlers
//! (`kiln_traps_init`) and passes faults to [`handle_fault`], which does
//! what the Unix signal handler does (`unix/signals.rs`) except rewriting
//! the machine context: it tells the embedder where to resume instead.

use core::sync::atomic::{AtomicU8, Ordering};

use super::capi::{self, KilnTrapResume};
use crate::runtime::sys::{SysError, arch, traps};

/// `kiln_traps_init` has not been called.
const UNINIT: u8 = 0;
/// One thread is calling it.
const RUNNING: u8 = 1;
/// It succeeded.
const READY: u8 = 2;
/// It failed; every later attempt fails too, as on Unix.
const FAILED: u8 = 3;

static STATE: AtomicU8 = AtomicU8::new(UNINIT);

/// Has the embedder install its fault handlers, once per process.
pub(in crate::runtime::sys) fn install_handlers() -> Result<(), SysError> {
    loop {
        match STATE.compare_exchange(UNINIT, RUNNING, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: `handle_fault` has the signature the header
                // declares and is safe to call from a fault handler.
                let rc = unsafe { capi::kiln_traps_init(handle_fault) };
                let done = if rc == 0 { READY } else { FAILED };
                STATE.store(done, Ordering::Release);
                return match done {
                    READY => Ok(()),
                    _ => Err(SysError::Os {
                        op: "kiln_traps_init",
                        errno: rc,
                    }),
                };
            }
            Err(READY) => return Ok(()),
            Err(FAILED) => {
                return Err(SysError::Unsupported(
                    "signals-based traps: kiln_traps_init failed",
                ));
            }
            // Another thread is installing: wait for its outcome.
            Err(_) => core::hint::spin_loop(),
        }
    }
}

/// The handler the embedder calls on a fault (`KilnTrapHandler` in the
/// header): records a trap of this thread's wasm code in its innermost
/// activation and says where to resume. Async-signal-safe: a TLS read and
/// the code registry's lock-free lookup, as in the Unix handler.
unsafe extern "C" fn handle_fault(
    pc: usize,
    fp: usize,
    fault_addr: usize,
    resume: *mut KilnTrapResume,
) -> bool {
    let Some(arch) = arch::supported() else {
        return false;
    };
    if resume.is_null() {
        return false;
    }
    let Some(sp) = traps::record_fault(pc, fp, fault_addr, None) else {
        return false;
    };
    // SAFETY: `resume` is non-null and, by the header's contract, points at
    // a `KilnTrapResume` the embedder owns for the call.
    unsafe {
        resume.write(KilnTrapResume {
            pc: arch::resume_pc(&arch),
            sp,
        })
    };
    true
}
