//! The execution engine: the per-store [`Stack`], [`invoke`], the entry
//! point and slow paths (`run.rs`), the op handlers (`handlers.rs`) and how
//! they are chained, threaded or in a portable loop (`dispatch.rs`).
//!
//! wasm → wasm calls never recurse on the host stack: a call writes the
//! caller's state into the callee frame's call record ([`RECORD_SLOTS`]
//! value slots at the callee's `record_slot`) and dispatch continues in the
//! callee. The records chain the frames of an activation; the first one's
//! record names no function. Only host functions, and wasm reached again
//! from a host function, nest host frames.

mod bulk;
pub(crate) mod gc;
#[macro_use]
mod dispatch;
mod handlers;
mod num;
#[cfg(feature = "op-profile")]
mod profile;
mod run;

use crate::bytecode::Op;
use crate::translate::InterpFunc;
use crate::vm::{BacktraceFrame, Host, Trap};
use alloc::vec::Vec;
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmFuncKind, VmFuncRef, VmInstance};

/// The state of a frame: the running one, or a suspended caller read
/// from a call record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub func: *const InterpFunc,
    pub inst: *const VmInstance,
    /// Where it resumes: the op after the call (or the trapping op).
    pub ip: *const Op,
    /// Index of its slot 0 in the value stack.
    pub base: usize,
}

/// Value slots of a call record, at `record_slot` of every frame: the
/// caller's function (null in an activation's first frame), instance,
/// return `ip` and frame base, each as a `u64`.
pub(crate) const RECORD_SLOTS: usize = 4;

/// The caller recorded in the frame at `fp` of `func`, or `None` in an
/// activation's first frame.
///
/// # Safety
/// `fp` is a frame of `func` that a call (or [`run::run`]) entered, so its
/// record is initialised.
#[inline(always)]
pub(super) unsafe fn caller(fp: *const u64, func: *const InterpFunc) -> Option<Frame> {
    // SAFETY: per the contract, the record lies inside the reserved frame.
    unsafe {
        let rec = fp.add((*func).record_slot as usize);
        let func = *rec as usize as *const InterpFunc;
        if func.is_null() {
            return None;
        }
        Some(Frame {
            func,
            inst: *rec.add(1) as usize as *const VmInstance,
            ip: *rec.add(2) as usize as *const Op,
            base: *rec.add(3) as usize,
        })
    }
}

/// The value stack of one store: the frames of every active
/// [`invoke`](crate::invoke) (including re-entrant ones from host
/// functions), each with its call record. A nested invocation starts at
/// `top`, above every slot its callers still use.
#[derive(Debug)]
pub struct Stack {
    /// Never longer than `max_bytes / 8`: a frame that does not fit is a
    /// stack overflow, so a call's one length check is also the limit.
    values: Vec<u64>,
    /// First value slot not used by any active invocation.
    top: usize,
    max_bytes: usize,
}

impl Stack {
    /// A stack that traps with `StackOverflow` beyond `max_bytes` of values
    /// (call records included).
    pub fn new(max_bytes: usize) -> Self {
        Stack {
            values: Vec::new(),
            top: 0,
            max_bytes,
        }
    }

    /// Makes slots `..end` addressable, or reports `StackOverflow` if that
    /// exceeds the byte limit. May move the value storage.
    #[inline(always)]
    pub(crate) fn reserve(&mut self, end: usize) -> Result<(), TrapCode> {
        if end > self.values.len() {
            self.grow(end)?;
        }
        Ok(())
    }

    /// Makes room for `end` value slots, up to the byte limit. If the
    /// allocator refuses (the limit may be larger than what the host can
    /// provide, e.g. `usize::MAX`), that is a stack overflow, not an abort.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, end: usize) -> Result<(), TrapCode> {
        let limit = self.max_bytes / 8;
        if end > limit {
            return Err(TrapCode::StackOverflow);
        }
        let len = self.values.len();
        let want = end.max(len.saturating_mul(2)).max(256).min(limit);
        // Doubling may ask for more than the host has; then try for
        // exactly what is needed.
        let new_len = if self.values.try_reserve_exact(want - len).is_ok() {
            want
        } else if self.values.try_reserve_exact(end - len).is_ok() {
            end
        } else {
            return Err(TrapCode::StackOverflow);
        };
        self.values.resize(new_len, 0);
        Ok(())
    }
}

/// Builds the backtrace of a trap raised at `ip` in frame `at`, followed
/// by the callers its call records name, up to the activation's first
/// frame.
///
/// # Safety
/// `values` is the value stack; every frame of the chain from `at` was
/// entered by a call (or `run`), with live functions and instances; `at.ip`
/// points one past the trapping op inside `at.func`'s code.
pub(crate) unsafe fn backtrace(trap: &mut Trap, values: *const u64, at: Frame) {
    let mut at = Some(at);
    while let Some(fr) = at {
        // SAFETY: per the contract; `ip` is in (or one past the end of)
        // `func`'s code, after the op of interest.
        unsafe {
            let f = &*fr.func;
            let pc = fr.ip.offset_from(f.code.as_ptr()) - 1;
            trap.backtrace.push(BacktraceFrame {
                instance: (*fr.inst).id,
                func_index: f.func_index,
                wasm_offset: f.wasm_offset(pc as u32),
            });
            at = caller(values.add(fr.base), fr.func);
        }
    }
}

/// See [`crate::invoke`].
///
/// # Safety
/// As for [`crate::invoke`].
pub(crate) unsafe fn invoke<H: Host>(
    host: &mut H,
    func: *const VmFuncRef,
    slots: &mut [u64],
) -> Result<(), Trap> {
    // SAFETY: the caller guarantees `func` is live.
    let f = unsafe { &*func };
    let (instance, defined_index) = match f.kind {
        VmFuncKind::Host { id } => return host.call_host(id, core::ptr::null(), slots),
        VmFuncKind::Wasm {
            instance,
            defined_index,
        } => (instance, defined_index),
    };
    // SAFETY: a live wasm funcref's instance is live, its `code` is its
    // module's `InterpModule` (the contract of `crate::invoke`), and that
    // module has the defined function.
    let ifunc: *const InterpFunc = unsafe {
        let m: &crate::InterpModule = &*(*instance).code.cast::<crate::InterpModule>();
        match m.func(defined_index) {
            Ok(f) => f,
            Err(e) => {
                return Err(Trap {
                    reason: crate::vm::TrapReason::Translation(e),
                    backtrace: Vec::new(),
                });
            }
        }
    };
    // SAFETY: just derived from a live reference.
    let (param_slots, frame_slots) =
        unsafe { ((*ifunc).param_slots as usize, (*ifunc).frame_slots as usize) };
    let result_slots = f.result_slots as usize;

    let stack = &mut host.exec_state().stack;
    let start = stack.top;
    if let Err(code) = stack.reserve(start + frame_slots) {
        return Err(Trap::wasm(code));
    }
    stack.values[start..start + param_slots].copy_from_slice(&slots[..param_slots]);
    // SAFETY: `ifunc` was derived from a live reference above.
    let (local_slots, record_slot) =
        unsafe { ((*ifunc).local_slots as usize, (*ifunc).record_slot as usize) };
    // Locals start zeroed (the function's first op fills its constant
    // pool), and the call record names no caller: this is the
    // activation's first frame.
    let local_end = start + param_slots + local_slots;
    stack.values[start + param_slots..local_end].fill(0);
    stack.values[start + record_slot] = 0;

    // From here on, however this invocation ends (return, trap, or a panic
    // in a host function unwinding through it), the stack is left as this
    // invocation found it.
    let suspended = host.exec_state().suspended.0.len();
    let guard = ResetStack {
        host,
        start,
        suspended,
    };
    // SAFETY: the frame is reserved and initialised; pointers are live per
    // this function's contract.
    let result = unsafe { run::run(&mut *guard.host, instance, ifunc, start) };
    if result.is_ok() {
        let stack = &guard.host.exec_state().stack;
        slots[..result_slots].copy_from_slice(&stack.values[start..start + result_slots]);
    }
    drop(guard);
    result
}

/// Restores the stack's `top` when an invocation ends, including by
/// unwinding: a host function may panic, and an embedder that catches the
/// panic keeps using the store. Without the reset, the slots of the
/// abandoned invocation would stay in use (counted against the limit)
/// forever.
struct ResetStack<'a, H: Host> {
    host: &'a mut H,
    start: usize,
    /// Suspended frames of the callers (a panic may skip the pops).
    suspended: usize,
}

impl<H: Host> Drop for ResetStack<'_, H> {
    fn drop(&mut self) {
        let es = self.host.exec_state();
        es.stack.top = self.start;
        es.suspended.0.truncate(self.suspended);
    }
}

/// Calls `visit` on every value slot of the store's interpreter frames
/// that holds a reference the collector traces (`docs/gc.md`): for each
/// activation waiting for the host, its running frame and every caller
/// its call records chain, at the slots the translator recorded for the
/// op each frame is stopped at. `visit` may rewrite a slot (a moving
/// collector's new address); the frames read it after the host returns.
pub fn visit_stack_roots(es: &mut crate::ExecState, visit: &mut dyn FnMut(&mut u64)) {
    let values = es.stack.values.as_mut_ptr();
    for &top in &es.suspended.0 {
        let mut at = Some(top);
        while let Some(fr) = at {
            // SAFETY: a suspended frame is the running frame of a live
            // activation (pushed before it called the host, popped before
            // it went on, truncated when it ended), and its callers' records
            // were written by the calls that entered them; functions and
            // instances outlive their activations. Every recorded slot is
            // inside its function's frame, which is reserved.
            unsafe {
                let f = &*fr.func;
                let pc = fr.ip.offset_from(f.code.as_ptr()) - 1;
                for &slot in f.gc_maps.at(pc as u32) {
                    visit(&mut *values.add(fr.base + slot as usize));
                }
                at = caller(values.add(fr.base), fr.func);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limit larger than the host can allocate (here: more than `isize`
    /// can address) turns into a stack-overflow trap, not an abort or a
    /// "capacity overflow" panic.
    #[test]
    fn unallocatable_stack_is_a_stack_overflow() {
        let mut stack = Stack::new(usize::MAX);
        assert_eq!(stack.reserve(100), Ok(()));
        assert!(stack.values.len() >= 100);
        assert_eq!(
            stack.reserve(usize::MAX / 8 - 1),
            Err(TrapCode::StackOverflow)
        );
        // Unchanged, and still usable.
        assert_eq!(stack.reserve(1000), Ok(()));
    }

    /// The byte limit holds exactly: the stack never grows past
    /// `max_bytes / 8` slots, so the call path's single length check is
    /// also the limit check.
    #[test]
    fn reserve_stops_at_the_byte_limit() {
        let mut stack = Stack::new(8 * 1000);
        assert_eq!(stack.reserve(1000), Ok(()));
        assert_eq!(stack.values.len(), 1000);
        assert_eq!(stack.reserve(1001), Err(TrapCode::StackOverflow));
        assert_eq!(stack.values.len(), 1000);
    }
}
