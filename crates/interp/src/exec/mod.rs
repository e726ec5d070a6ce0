//! The execution engine: the per-store [`Stack`], [`invoke`], the entry
//! point and slow paths (`run.rs`), the op handlers (`handlers.rs`) and how
//! they are chained, threaded or in a portable loop (`dispatch.rs`).
//!
//! wasm → wasm calls never recurse on the host stack: a call pushes a
//! [`Frame`] (the caller's state) and dispatch continues in the callee.
//! Only host functions, and wasm reached again from a host function, nest
//! host frames.

mod bulk;
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

/// A suspended caller: where to resume when the callee returns.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub func: *const InterpFunc,
    pub inst: *const VmInstance,
    /// Return address: the op after the call.
    pub ip: *const Op,
    /// Index of the caller's slot 0 in the value stack.
    pub base: usize,
}

const FRAME_BYTES: usize = core::mem::size_of::<Frame>();

/// The value stack and call frames of one store.
///
/// Frames of every active [`invoke`](crate::invoke) (including re-entrant ones from host
/// functions) share it: a nested invocation starts at `top`, above every
/// slot its callers still use.
#[derive(Debug)]
pub struct Stack {
    values: Vec<u64>,
    frames: Vec<Frame>,
    /// First value slot not used by any active invocation.
    top: usize,
    max_bytes: usize,
}

// SAFETY: the raw pointers in `frames` only exist while an `invoke` runs,
// which borrows the store (and so the stack) exclusively on one thread;
// between invocations `frames` is empty (`invoke` truncates it on every
// exit, unwinding included), so moving the stack to another thread moves no
// live pointers.
unsafe impl Send for Stack {}
// SAFETY: as above; `&Stack` exposes no pointer-reading methods.
unsafe impl Sync for Stack {}

impl Stack {
    /// A stack that traps with `StackOverflow` beyond `max_bytes` of values
    /// and frames.
    pub fn new(max_bytes: usize) -> Self {
        Stack {
            values: Vec::new(),
            frames: Vec::new(),
            top: 0,
            max_bytes,
        }
    }

    /// Makes slots `..end` addressable, with `extra_frames` more frames,
    /// or reports `StackOverflow` if that exceeds the byte limit. May move
    /// the value storage.
    #[inline(always)]
    pub(crate) fn reserve(&mut self, end: usize, extra_frames: usize) -> Result<(), TrapCode> {
        // No overflow: `end` is a live frame base plus at most 65535 slots,
        // and live frame bases and the frame count are bounded by what was
        // actually allocated before.
        let frames = self.frames.len() + extra_frames;
        let bytes = end * 8 + frames * FRAME_BYTES;
        if bytes > self.max_bytes {
            return Err(TrapCode::StackOverflow);
        }
        if end > self.values.len() || frames > self.frames.capacity() {
            self.grow(end, frames)?;
        }
        Ok(())
    }

    /// Pushes a call frame without a capacity check: a call's hot path
    /// has just made room with `reserve(_, 1)`, and a second check (with
    /// `Vec::push`'s out-of-line growth call) costs the threaded call
    /// handler registers and a branch.
    ///
    /// # Safety
    /// `reserve(_, 1)` succeeded since the last push.
    #[inline(always)]
    pub(crate) unsafe fn push_frame_reserved(&mut self, frame: Frame) {
        let len = self.frames.len();
        debug_assert!(len < self.frames.capacity());
        // SAFETY: the slot at `len` is within the capacity (the contract),
        // and writing it before `set_len` initialises the new element.
        unsafe {
            self.frames.as_mut_ptr().add(len).write(frame);
            self.frames.set_len(len + 1);
        }
    }

    /// Makes room for `end` value slots and `frames` frames. If the
    /// allocator refuses (the byte limit may be larger than what the host
    /// can provide, e.g. `usize::MAX`), that is a stack overflow, not an
    /// abort.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, end: usize, frames: usize) -> Result<(), TrapCode> {
        if end > self.values.len() {
            let len = self.values.len();
            let want = end
                .max(len.saturating_mul(2))
                .max(256)
                .min(self.max_bytes / 8)
                .max(end);
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
        }
        if frames > self.frames.capacity() {
            let len = self.frames.len();
            if self.frames.try_reserve(frames - len).is_err() {
                return Err(TrapCode::StackOverflow);
            }
        }
        Ok(())
    }
}

/// Builds the backtrace of a trap raised at `ip` in `func` of `inst`,
/// followed by the suspended callers above `entry_frames`.
///
/// # Safety
/// `func`, `inst` and every frame's pointers must be live; `ip` must point
/// one past the trapping op inside `func`'s code.
pub(crate) unsafe fn backtrace(
    trap: &mut Trap,
    frames: &[Frame],
    func: *const InterpFunc,
    inst: *const VmInstance,
    ip: *const Op,
) {
    let frame_of = |func: *const InterpFunc, inst: *const VmInstance, ip: *const Op| {
        // SAFETY: the caller guarantees these are live and that `ip` is in
        // (or one past the end of) `func`'s code, after the op of interest.
        unsafe {
            let f = &*func;
            let pc = ip.offset_from(f.code.as_ptr()) - 1;
            BacktraceFrame {
                instance: (*inst).id,
                func_index: f.func_index,
                wasm_offset: f.wasm_offset(pc as u32),
            }
        }
    };
    trap.backtrace.push(frame_of(func, inst, ip));
    for fr in frames.iter().rev() {
        trap.backtrace.push(frame_of(fr.func, fr.inst, fr.ip));
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
    let start_frames = stack.frames.len();
    if let Err(code) = stack.reserve(start + frame_slots, 0) {
        return Err(Trap::wasm(code));
    }
    stack.values[start..start + param_slots].copy_from_slice(&slots[..param_slots]);
    // Locals start zeroed.
    // SAFETY: `ifunc` was derived from a live reference above.
    let local_end = start + param_slots + unsafe { (*ifunc).local_slots as usize };
    stack.values[start + param_slots..local_end].fill(0);

    // From here on, however this invocation ends (return, trap, or a panic
    // in a host function unwinding through it), the stack is left as this
    // invocation found it.
    let guard = ResetStack {
        host,
        start,
        start_frames,
    };
    // SAFETY: the frame is reserved and initialised; pointers are live per
    // this function's contract.
    let result = unsafe { run::run(&mut *guard.host, instance, ifunc, start, start_frames) };
    if result.is_ok() {
        let stack = &guard.host.exec_state().stack;
        slots[..result_slots].copy_from_slice(&stack.values[start..start + result_slots]);
    }
    drop(guard);
    result
}

/// Restores the stack's frame count and `top` when an invocation ends,
/// including by unwinding: a host function may panic, and an embedder that
/// catches the panic keeps using the store. Without the reset, the frames of
/// the abandoned invocation would stay on the stack (their slots unusable,
/// counted against the limit) forever.
struct ResetStack<'a, H: Host> {
    host: &'a mut H,
    start: usize,
    start_frames: usize,
}

impl<H: Host> Drop for ResetStack<'_, H> {
    fn drop(&mut self) {
        let stack = &mut self.host.exec_state().stack;
        stack.frames.truncate(self.start_frames);
        stack.top = self.start;
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
        assert_eq!(stack.reserve(100, 1), Ok(()));
        assert!(stack.values.len() >= 100);
        assert_eq!(
            stack.reserve(usize::MAX / 8 - 1, 0),
            Err(TrapCode::StackOverflow)
        );
        // Unchanged, and still usable.
        assert_eq!(stack.reserve(1000, 1), Ok(()));
    }
}
