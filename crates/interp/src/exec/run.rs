//! The interpreter's entry point and everything its handlers keep out of
//! line: the context ([`Cx`]) the hot state does not fit in, traps, host
//! calls, lazy translation of callees and exception unwinding.
//!
//! Invariants the translator guarantees and the handlers rely on:
//! - every slot an op names is `< frame_slots` of its function, and the
//!   frame `fp..fp+frame_slots` is reserved in the value stack;
//! - every branch lands inside the function's code, and code ends in a
//!   control transfer, so `ip` never leaves the code;
//! - bodies are valid wasm: indices (functions, globals, tables, types,
//!   segments) are in range and every operand has the right type.

use super::handlers::dispatch;
use super::{Frame, backtrace, caller};
use crate::bytecode::Op;
use crate::translate::{CATCH_ALL, Catch, Handler, InterpFunc, NO_REGION, NO_SLOT};
use crate::vm::{ExecState, Host, Trap, TrapReason};
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::AtomicBool;
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmFuncRef, VmInstance};

/// Memory 0 of `inst` as (base, length); null/0 if it has none.
///
/// # Safety
/// `inst` and its memories are live.
#[inline]
pub(super) unsafe fn mem0(inst: *const VmInstance) -> (*mut u8, usize) {
    // SAFETY: per the contract.
    unsafe {
        match (*inst).memories.first() {
            Some(&m) => ((*m).base, (*m).len),
            None => (ptr::null_mut(), 0),
        }
    }
}

/// Base and length of `inst`'s memory `index`.
///
/// # Safety
/// As for [`mem0`]; `index` is a valid memory index (validation).
#[inline]
pub(super) unsafe fn memory(inst: *const VmInstance, index: u32) -> (*mut u8, usize) {
    // SAFETY: per the contract.
    unsafe {
        let m = (&(*inst).memories)[index as usize];
        ((*m).base, (*m).len)
    }
}

/// Zeroes the declared locals of `cf`'s frame at `fp`. Most functions have
/// a handful of locals, where a `memset` call costs more than the stores,
/// and in a threaded call handler any call also costs the register saves
/// around it, on every call. LLVM turns a plain zeroing loop into `memset`;
/// volatile stores keep it a loop, for long runs of locals too (a few
/// cycles per eight slots more than `memset`, against saves on every call).
/// (The constant pool after the locals is the `InitConsts` op's job, so
/// that functions without one pay nothing for it.)
///
/// # Safety
/// `fp..fp+frame_slots` of `cf` is reserved.
#[inline(always)]
pub(super) unsafe fn init_locals(fp: *mut u64, cf: *const InterpFunc) {
    // SAFETY: locals lie inside the reserved frame.
    unsafe {
        let start = fp.add((*cf).param_slots as usize);
        let n = (*cf).local_slots as usize;
        for i in 0..n {
            start.add(i).write_volatile(0);
        }
    }
}

/// Appends the interpreter's frames to a trap raised by the host.
///
/// # Safety
/// As for [`backtrace`]; `es` is live.
#[cold]
#[inline(never)]
unsafe fn with_frames(mut t: Trap, cx: &Cx<'_>, ip: *const Op) -> Trap {
    // SAFETY: per the contract.
    unsafe { backtrace(&mut t, (*cx.es).stack.values.as_ptr(), cx.frame(ip)) };
    t
}

/// Builds the trap for `code` raised at `ip`. Out of line and cold, so the
/// dispatch loop stays small.
///
/// # Safety
/// As for [`backtrace`]; `es` is live.
#[cold]
#[inline(never)]
unsafe fn wasm_trap(code: TrapCode, cx: &Cx<'_>, ip: *const Op) -> Trap {
    // SAFETY: per the contract.
    unsafe { with_frames(Trap::wasm(code), cx, ip) }
}

/// The first clause that catches an exception of tag `tag` (store id) raised
/// at `pc` of a function with `handlers`, walking out through enclosing
/// and delegated-to regions.
///
/// # Safety
/// `inst` is live; the handlers' tag indices are valid for it.
unsafe fn find_catch(
    handlers: &[Handler],
    inst: *const VmInstance,
    pc: u32,
    tag: u32,
) -> Option<Catch> {
    let mut region = Handler::innermost(handlers, pc);
    while let Some(i) = region {
        let h = &handlers[i as usize];
        let next = match h.delegate {
            Some(target) => target,
            None => {
                for c in h.catches.iter() {
                    // SAFETY: per the contract.
                    if c.tag == CATCH_ALL || unsafe { (&(*inst).tags)[c.tag as usize] } == tag {
                        return Some(*c);
                    }
                }
                h.parent
            }
        };
        region = (next != NO_REGION).then_some(next);
    }
    None
}

/// Unwinds exception `exn`, raised by the op before `*ip`, to the innermost
/// handler that catches it: in this frame or, popping frames, in a caller
/// of this activation. Lands there (payload and `exnref` in the clause's
/// slots, `*ip` at its pad) or, if none catches it, returns it as the
/// activation's outcome.
///
/// # Safety
/// As for [`run`]; `at` is the current frame (its `ip` past the throwing
/// op), updated to the landing frame and pad.
#[cold]
#[inline(never)]
unsafe fn unwind(
    host: &mut dyn Host,
    es: *mut ExecState,
    at: &mut Frame,
    exn: u64,
) -> Result<(), Trap> {
    let Frame {
        func,
        inst,
        base,
        ip,
    } = at;
    let tag = host.exception_tag(exn);
    // SAFETY: per the contract; the call records followed here were
    // written by calls with live functions and instances, and every slot
    // written is inside the landing frame, which is reserved.
    unsafe {
        loop {
            let code = (**func).code.as_ptr();
            let pc = (ip.offset_from(code) - 1) as u32;
            if let Some(c) = find_catch(&(**func).handlers, *inst, pc, tag) {
                let fp = (*es).stack.values.as_mut_ptr().add(*base);
                if c.payload_slots > 0 {
                    let dst = core::slice::from_raw_parts_mut(
                        fp.add(c.payload as usize),
                        c.payload_slots as usize,
                    );
                    host.exception_payload(exn, dst);
                }
                if c.exn != NO_SLOT {
                    *fp.add(c.exn as usize) = exn;
                }
                if c.expose {
                    host.expose_exception(exn);
                }
                if c.release {
                    host.release_exception(exn);
                }
                *ip = code.add(c.pad as usize);
                return Ok(());
            }
            let fp = (*es).stack.values.as_ptr().add(*base);
            let Some(fr) = caller(fp, *func) else {
                return Err(Trap {
                    reason: TrapReason::Exception(exn),
                    backtrace: Vec::new(),
                });
            };
            *func = fr.func;
            *inst = fr.inst;
            *base = fr.base;
            *ip = fr.ip;
        }
    }
}

/// How an activation ended: the value every handler returns.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Exit {
    /// The entry function returned; its results are in its frame.
    Returned,
    /// A trap (or an uncaught exception) ended it; [`Cx::trap`] holds it.
    Trapped,
}

/// What a handler does after an out-of-line slow path.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    /// Carry on with the rest of the op, from the state handed back in
    /// `cx.mb`, `cx.ml` and the frame at `cx.base`: the host may have moved
    /// the value stack or grown a memory.
    Resume,
    /// An exception was caught: carry on at the handler, `cx.ip` in the
    /// frame at `cx.base` (perhaps another function's), with `cx.mb` and
    /// `cx.ml`. The rest of the op is skipped.
    Caught,
    /// Leave with [`Exit::Trapped`].
    Exit,
}

/// The state of one activation that does not travel in the handlers'
/// argument registers. Slow paths read and update it; handlers reach it
/// through one pointer.
pub(super) struct Cx<'a> {
    /// The store, for host calls, growth and exceptions.
    pub host: &'a mut dyn Host,
    /// The store's execution state (re-derived after host calls).
    pub es: *mut ExecState,
    /// The instance whose code is running.
    pub inst: *const VmInstance,
    /// The function whose code is running.
    pub func: *const InterpFunc,
    /// Index of the current frame's slot 0 in the value stack.
    pub base: usize,
    /// The store's interrupt flag.
    pub interrupt: *const AtomicBool,
    /// The trap that ended the activation, when it returns
    /// [`Exit::Trapped`].
    pub trap: Option<Trap>,
    /// Handed back by slow paths that caught an exception
    /// ([`Flow::Caught`]): where to continue.
    pub ip: *const Op,
    /// Handed back by slow paths ([`Flow::Resume`], [`Flow::Caught`]): the
    /// selected memory's base.
    pub mb: *mut u8,
    /// Handed back with `mb`: the selected memory's length.
    pub ml: usize,
    /// A slow step a call op needs before it can run, set just before
    /// [`run_pending`].
    pub pending: Pending,
}

/// The slow step a call op hands to [`run_pending`] before running again.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pending {
    /// Nothing (the state between steps).
    None,
    /// Translate defined function `.1` of instance `.0` (lazy modules).
    Translate(*const VmInstance, u32),
    /// Make the value stack at least this many slots long.
    Grow(usize),
}

/// Runs `cx.pending`; false (with the trap in `cx`) if it failed: a
/// translation error, or a stack that may not grow any more.
///
/// # Safety
/// `cx` describes the running frame and `ip` is past the op that set the
/// step.
#[cold]
#[inline(never)]
pub(super) unsafe fn run_pending(cx: &mut Cx<'_>, ip: *const Op) -> bool {
    let step = core::mem::replace(&mut cx.pending, Pending::None);
    // SAFETY: per the contract; a `Translate` step names a live instance
    // and a valid defined-function index (validation).
    unsafe {
        match step {
            Pending::None => true,
            Pending::Translate(inst, i) => !translate_callee(cx, inst, i, ip).is_null(),
            Pending::Grow(end) => match (*cx.es).stack.reserve(end) {
                Ok(()) => true,
                Err(code) => {
                    trap(cx, code, ip);
                    false
                }
            },
        }
    }
}

impl Cx<'_> {
    /// The running frame, stopped at the op before `ip`.
    pub(super) fn frame(&self, ip: *const Op) -> Frame {
        Frame {
            func: self.func,
            inst: self.inst,
            ip,
            base: self.base,
        }
    }
}

/// Runs `func` of `inst`, whose frame (arguments in place, locals zeroed,
/// a call record naming no caller) starts at value slot `base`, until it
/// returns.
///
/// # Safety
/// As for [`crate::invoke`]; the frame must be reserved and initialised.
pub(super) unsafe fn run(
    host: &mut dyn Host,
    inst: *const VmInstance,
    func: *const InterpFunc,
    base: usize,
) -> Result<(), Trap> {
    let es: *mut ExecState = host.exec_state();
    // SAFETY: `es`, `inst` and `func` are live (the `invoke` contract), the
    // frame at `base` is reserved, and the function's code is non-empty.
    unsafe {
        let interrupt: *const AtomicBool = &*(*es).interrupt;
        let ip = (*func).code.as_ptr();
        let fp = (*es).stack.values.as_mut_ptr().add(base);
        let (mb, ml) = mem0(inst);
        let mut cx = Cx {
            host,
            es,
            inst,
            func,
            base,
            interrupt,
            trap: None,
            ip,
            mb,
            ml,
            pending: Pending::None,
        };
        let exit = dispatch(ip, fp, &mut cx, mb, ml, 0);
        #[cfg(feature = "op-profile")]
        if base == 0 {
            super::profile::write_report();
        }
        match exit {
            Exit::Returned => Ok(()),
            Exit::Trapped => match cx.trap.take() {
                Some(t) => Err(t),
                None => core::hint::unreachable_unchecked(),
            },
        }
    }
}

/// Ends the activation with trap `code`, raised by the op before `ip`
/// (which handlers only ever pass for the running function).
#[cold]
#[inline(never)]
pub(super) fn trap(cx: &mut Cx<'_>, code: TrapCode, ip: *const Op) -> Exit {
    // SAFETY: a `Cx` always describes a running activation: only `run`
    // makes one, and handlers keep its function, instance and frames
    // current; `ip` is just past an op of `cx.func`.
    let t = unsafe { wasm_trap(code, cx, ip) };
    cx.trap = Some(t);
    Exit::Trapped
}

/// Ends the activation with `t` (from the host, or a failed translation),
/// raised at the op before `ip`.
///
/// # Safety
/// As for [`trap`].
#[cold]
#[inline(never)]
unsafe fn fail(cx: &mut Cx<'_>, t: Trap, ip: *const Op) -> Flow {
    // SAFETY: per the contract.
    let t = unsafe { with_frames(t, cx, ip) };
    cx.trap = Some(t);
    Flow::Exit
}

/// Defined function `i` of `inst`'s module if it is translated already;
/// the fast path of a call.
///
/// # Safety
/// `inst` is live and `i` a valid defined-function index.
#[inline(always)]
pub(super) unsafe fn translated(inst: *const VmInstance, i: u32) -> *const InterpFunc {
    // SAFETY: per the contract (`crate::invoke`): an instance's `code` is
    // its module's `InterpModule`, which outlives the instance.
    unsafe {
        let m: &crate::InterpModule = &*(*inst).code.cast::<crate::InterpModule>();
        match m.funcs.get_unchecked(i as usize).get() {
            Some(f) => f,
            None => ptr::null(),
        }
    }
}

/// Translates defined function `i` of `inst`'s module on its first call;
/// null (with the trap in `cx`) if that fails.
///
/// # Safety
/// As for [`translated`]; `cx` describes the calling frame and `ip` is
/// past the call.
#[cold]
#[inline(never)]
unsafe fn translate_callee(
    cx: &mut Cx<'_>,
    inst: *const VmInstance,
    i: u32,
    ip: *const Op,
) -> *const InterpFunc {
    // SAFETY: per the contract; a translated function stays where it is
    // for the module's life.
    unsafe {
        let m: &crate::InterpModule = &*(*inst).code.cast::<crate::InterpModule>();
        match m.func(i) {
            Ok(f) => f,
            Err(e) => {
                let t = Trap {
                    reason: TrapReason::Translation(e),
                    backtrace: Vec::new(),
                };
                fail(cx, t, ip);
                ptr::null()
            }
        }
    }
}

/// Before the host runs: nested invocations push above every slot of the
/// current frame.
///
/// # Safety
/// `cx` describes the running frame.
unsafe fn before_host(cx: &mut Cx<'_>) {
    // SAFETY: the execution state and the running function are live.
    unsafe { (*cx.es).stack.top = cx.base + (*cx.func).frame_slots as usize };
}

/// After the host ran: the value stack may have moved and memories grown.
/// Hands back the selected memory for [`Flow::Resume`].
///
/// # Safety
/// `cx` describes the running frame.
unsafe fn after_host(cx: &mut Cx<'_>) {
    cx.es = cx.host.exec_state();
    // SAFETY: `es` is live; the instance is live.
    unsafe {
        cx.interrupt = &*(*cx.es).interrupt;
        (cx.mb, cx.ml) = mem0(cx.inst);
    }
}

/// Finishes a slow path that ran the host and got `r`: on success the
/// value, with the state handed back; a thrown exception unwinds from the
/// op before `ip`; any other trap ends the activation.
///
/// # Safety
/// `cx` describes the running frame; `ip` is in its function's code.
unsafe fn host_outcome<T>(cx: &mut Cx<'_>, r: Result<T, Trap>, ip: *const Op) -> Result<T, Flow> {
    // SAFETY: per the contract.
    unsafe {
        after_host(cx);
        match r {
            Ok(v) => Ok(v),
            // A host function (or wasm it called) threw: the call site is
            // where it propagates from.
            Err(Trap {
                reason: TrapReason::Exception(exn),
                ..
            }) => {
                let (mb, ml) = (cx.mb, cx.ml);
                Err(raise(cx, ip, mb, ml, exn))
            }
            Err(t) => Err(fail(cx, t, ip)),
        }
    }
}

/// Calls host function `id` (`f`) with the arguments at slot `ab` of the
/// current frame, writing its results there. Arguments travel in a separate
/// buffer so a re-entrant invocation may grow (move) the value stack.
///
/// # Safety
/// `f` is live; `cx` describes the running frame, `ip` is past the call.
#[inline(never)]
pub(super) unsafe fn call_host(
    cx: &mut Cx<'_>,
    f: *const VmFuncRef,
    id: u32,
    ab: usize,
    ip: *const Op,
) -> Flow {
    // SAFETY: per the contract; the value stack is re-derived after the
    // call, which may have moved it.
    unsafe {
        let base = cx.base;
        let p = (*f).param_slots as usize;
        let r = (*f).result_slots as usize;
        let n = p.max(r);
        let mut small = [0u64; 16];
        let mut big: Vec<u64> = Vec::new();
        let buf: &mut [u64] = if n <= small.len() {
            &mut small[..n]
        } else {
            big.resize(n, 0);
            &mut big[..]
        };
        let stack = &mut (*cx.es).stack;
        buf[..p].copy_from_slice(&stack.values[base + ab..base + ab + p]);
        before_host(cx);
        // The collector may run in the host function: it finds this
        // frame's references through the suspended frame.
        (*cx.es).suspended.0.push(cx.frame(ip));
        let result = cx.host.call_host(id, cx.inst, buf);
        cx.host.exec_state().suspended.0.pop();
        match host_outcome(cx, result, ip) {
            Ok(()) => {
                let stack = &mut (*cx.es).stack;
                stack.values[base + ab..base + ab + r].copy_from_slice(&buf[..r]);
                Flow::Resume
            }
            Err(flow) => flow,
        }
    }
}

/// `memory.grow` of memory `m` by `delta` pages; writes the old size (or
/// -1 in the index type) to slot `dst`.
///
/// # Safety
/// `m` is a live memory of the running instance; as for [`call_host`].
#[inline(never)]
pub(super) unsafe fn memory_grow(
    cx: &mut Cx<'_>,
    m: *mut kiln_environ::vm::VmMemory,
    delta: u64,
    wide: bool,
    dst: usize,
    ip: *const Op,
) -> Flow {
    // SAFETY: per the contract; the frame is re-derived after the host ran.
    unsafe {
        before_host(cx);
        let r = cx.host.memory_grow(m, delta);
        finish_grow(cx, r, wide, dst, ip)
    }
}

/// Ends a `memory.grow` or `table.grow` whose host call returned `r`: the
/// old size, or -1 in the index type (64 bits when `wide`), lands in slot
/// `dst` of the (re-derived) frame.
///
/// # Safety
/// As for [`host_outcome`]; `dst` is a slot of the frame.
unsafe fn finish_grow(
    cx: &mut Cx<'_>,
    r: Result<Option<u64>, Trap>,
    wide: bool,
    dst: usize,
    ip: *const Op,
) -> Flow {
    // SAFETY: per the contract.
    unsafe {
        match host_outcome(cx, r, ip) {
            Ok(r) => {
                let failed = if wide { u64::MAX } else { u64::from(u32::MAX) };
                let fp = (*cx.es).stack.values.as_mut_ptr().add(cx.base);
                *fp.add(dst) = r.unwrap_or(failed);
                Flow::Resume
            }
            Err(flow) => flow,
        }
    }
}

/// `table.grow` of table `t` by `delta` elements of `init`; writes the old
/// size (or -1) to slot `dst`.
///
/// # Safety
/// `t` is a live table of the running instance; as for [`call_host`].
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn table_grow(
    cx: &mut Cx<'_>,
    t: *mut kiln_environ::vm::VmTable,
    delta: u64,
    init: u64,
    wide: bool,
    dst: usize,
    ip: *const Op,
) -> Flow {
    // SAFETY: as for `memory_grow`.
    unsafe {
        before_host(cx);
        let r = cx.host.table_grow(t, delta, init);
        finish_grow(cx, r, wide, dst, ip)
    }
}

/// `throw`: makes an exception of tag `tag` (an index into the instance's
/// tags) from the `slots` slots at `pb`, and raises it.
///
/// # Safety
/// As for [`raise`]; the payload slots are in the frame.
#[inline(never)]
pub(super) unsafe fn throw_new(
    cx: &mut Cx<'_>,
    tag: u32,
    pb: usize,
    slots: usize,
    ip: *const Op,
    mb: *mut u8,
    ml: usize,
) -> Flow {
    // SAFETY: per the contract.
    unsafe {
        let id = (&(*cx.inst).tags)[tag as usize];
        let fp = (*cx.es).stack.values.as_mut_ptr().add(cx.base);
        let payload = core::slice::from_raw_parts(fp.add(pb), slots);
        let exn = cx.host.new_exception(id, payload);
        raise(cx, ip, mb, ml, exn)
    }
}

/// Raises exception `exn` at the op before `ip` and hands back the state
/// at the handler that catches it, or ends the activation with it.
/// `mb`/`ml` are the selected memory, kept if the handler is in the same
/// instance.
///
/// # Safety
/// `cx` describes the running frame; `ip` is in its function's code.
#[inline(never)]
pub(super) unsafe fn raise(
    cx: &mut Cx<'_>,
    ip: *const Op,
    mb: *mut u8,
    ml: usize,
    exn: u64,
) -> Flow {
    let from = cx.inst;
    let mut at = cx.frame(ip);
    // SAFETY: per the contract.
    unsafe {
        match unwind(&mut *cx.host, cx.es, &mut at, exn) {
            Ok(()) => {
                (cx.func, cx.inst, cx.ip, cx.base) = (at.func, at.inst, at.ip, at.base);
                (cx.mb, cx.ml) = if cx.inst != from {
                    mem0(cx.inst)
                } else {
                    (mb, ml)
                };
                Flow::Caught
            }
            Err(t) => {
                cx.trap = Some(t);
                Flow::Exit
            }
        }
    }
}
