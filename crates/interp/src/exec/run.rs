//! The dispatch loop: a `match` on the next op, in a loop, with the hot
//! state (instruction pointer, frame pointer, memory 0 base and length)
//! cached in locals.
//!
//! Invariants the translator guarantees and the loop relies on:
//! - every slot an op names is `< frame_slots` of its function, and the
//!   frame `fp..fp+frame_slots` is reserved in the value stack;
//! - every branch lands inside the function's code, and code ends in a
//!   control transfer, so `ip` never leaves the code;
//! - bodies are valid wasm: indices (functions, globals, tables, types,
//!   segments) are in range and every operand has the right type.

use super::bulk;
use super::num::*;
use super::{Frame, backtrace};
use crate::bytecode::Op;
#[cfg(feature = "simd")]
use crate::simd;
use crate::translate::{CATCH_ALL, Catch, Handler, InterpFunc, NO_REGION, NO_SLOT};
use crate::vm::{ExecState, Host, Trap, TrapReason};
use alloc::vec::Vec;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmFuncKind, VmFuncRef, VmInstance};

/// Memory 0 of `inst` as (base, length); null/0 if it has none.
///
/// # Safety
/// `inst` and its memories are live.
#[inline]
unsafe fn mem0(inst: *const VmInstance) -> (*mut u8, usize) {
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
unsafe fn memory(inst: *const VmInstance, index: u32) -> (*mut u8, usize) {
    // SAFETY: per the contract.
    unsafe {
        let m = (&(*inst).memories)[index as usize];
        ((*m).base, (*m).len)
    }
}

/// Zeroes the declared locals of `cf`'s frame at `fp`. A plain loop: most
/// functions have a handful of locals, where a `memset` call costs more.
///
/// # Safety
/// `fp..fp+frame_slots` of `cf` is reserved.
#[inline(always)]
unsafe fn zero_locals(fp: *mut u64, cf: *const InterpFunc) {
    // SAFETY: locals lie inside the reserved frame.
    unsafe {
        let start = (*cf).param_slots as usize;
        let n = (*cf).local_slots as usize;
        for i in 0..n {
            *fp.add(start + i) = 0;
        }
    }
}

/// Calls host function `id` (`f`) with the arguments at slot `ab` of the
/// frame at value slot `base`, writing its results there. Arguments travel
/// in a separate buffer so a re-entrant invocation may grow (move) the
/// value stack; `top` is where such an invocation may start.
///
/// # Safety
/// `f` and `inst` are live; the frame is reserved.
#[inline(never)]
unsafe fn call_host<H: Host>(
    host: &mut H,
    f: *const VmFuncRef,
    id: u32,
    inst: *const VmInstance,
    base: usize,
    ab: usize,
    top: usize,
) -> Result<(), Trap> {
    // SAFETY: per the contract; the value stack is re-derived after the
    // call, which may have moved it.
    unsafe {
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
        let stack = &mut host.exec_state().stack;
        buf[..p].copy_from_slice(&stack.values[base + ab..base + ab + p]);
        stack.top = top;
        host.call_host(id, inst, buf)?;
        let stack = &mut host.exec_state().stack;
        stack.values[base + ab..base + ab + r].copy_from_slice(&buf[..r]);
        Ok(())
    }
}

/// Appends the interpreter's frames to a trap raised by the host.
///
/// # Safety
/// As for [`backtrace`]; `es` is live.
#[cold]
#[inline(never)]
unsafe fn with_frames(
    mut t: Trap,
    es: *mut ExecState,
    entry_frames: usize,
    func: *const InterpFunc,
    inst: *const VmInstance,
    ip: *const Op,
) -> Trap {
    // SAFETY: per the contract.
    unsafe {
        backtrace(
            &mut t,
            &(&(*es).stack.frames)[entry_frames..],
            func,
            inst,
            ip,
        )
    };
    t
}

/// Builds the trap for `code` raised at `ip`. Out of line and cold, so the
/// dispatch loop stays small.
///
/// # Safety
/// As for [`backtrace`]; `es` is live.
#[cold]
#[inline(never)]
unsafe fn wasm_trap(
    code: TrapCode,
    es: *mut ExecState,
    entry_frames: usize,
    func: *const InterpFunc,
    inst: *const VmInstance,
    ip: *const Op,
) -> Trap {
    let mut t = Trap::wasm(code);
    // SAFETY: per the contract.
    unsafe {
        backtrace(
            &mut t,
            &(&(*es).stack.frames)[entry_frames..],
            func,
            inst,
            ip,
        )
    };
    t
}

/// Defined function `i` of `inst`'s module, translated on first use if
/// the module is lazy.
///
/// # Safety
/// `inst` is live and `i` a valid defined-function index.
#[inline]
unsafe fn module_func(
    inst: *const VmInstance,
    i: u32,
) -> Result<*const InterpFunc, kiln_environ::TranslationError> {
    // SAFETY: per the contract (`crate::invoke`): an instance's `code` is
    // its module's `InterpModule`, which outlives the instance, and a
    // translated function stays where it is for the module's life.
    unsafe {
        let m: &crate::InterpModule = &*(*inst).code.cast::<crate::InterpModule>();
        m.func(i).map(|f| f as *const InterpFunc)
    }
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
unsafe fn unwind<H: Host>(
    host: &mut H,
    es: *mut ExecState,
    entry_frames: usize,
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
    // SAFETY: per the contract; frames popped here were pushed by `run`
    // with live functions and instances, and every slot written is inside
    // the landing frame, which is reserved.
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
            let stack = &mut (*es).stack;
            if stack.frames.len() == entry_frames {
                return Err(Trap {
                    reason: TrapReason::Exception(exn),
                    backtrace: Vec::new(),
                });
            }
            let Some(fr) = stack.frames.pop() else {
                core::hint::unreachable_unchecked()
            };
            *func = fr.func;
            *inst = fr.inst;
            *base = fr.base;
            *ip = fr.ip;
        }
    }
}

/// Runs `func` of `inst`, whose frame (arguments in place, locals zeroed)
/// starts at value slot `base`, until it returns to its caller (the frame
/// count drops back to `entry_frames`).
///
/// # Safety
/// As for [`crate::invoke`]; the frame must be reserved and initialised.
#[allow(clippy::cognitive_complexity)]
pub(super) unsafe fn run<H: Host>(
    host: &mut H,
    inst: *const VmInstance,
    func: *const InterpFunc,
    base: usize,
    entry_frames: usize,
) -> Result<(), Trap> {
    // SAFETY (whole loop): the pointers cached here are derived from live
    // store-owned structures (the `invoke` contract) and from the value
    // stack, which only moves inside `reserve` or a host call, after which
    // `fp` is recomputed. Slot indices, branch targets and entity indices
    // are in range by the invariants listed in the module docs. Linear
    // memory is only touched after an explicit bounds check against the
    // cached length, which is reloaded whenever it can change (growth,
    // host calls, instance switches).
    unsafe {
        let mut inst = inst;
        let mut func = func;
        let mut base = base;
        let mut es: *mut ExecState = host.exec_state();
        let mut ip: *const Op = (*func).code.as_ptr();
        let mut fp: *mut u64 = (*es).stack.values.as_mut_ptr().add(base);
        let mut interrupt: *const AtomicBool = &*(*es).interrupt;
        let (mut mem_base, mut mem_len) = mem0(inst);

        macro_rules! get {
            ($s:expr) => {
                *fp.add($s as usize)
            };
        }
        macro_rules! set {
            ($s:expr, $v:expr) => {{
                let v: u64 = $v;
                *fp.add($s as usize) = v;
            }};
        }
        macro_rules! get128 {
            ($s:expr) => {
                (get!($s) as u128) | ((get!($s as usize + 1) as u128) << 64)
            };
        }
        macro_rules! set128 {
            ($s:expr, $v:expr) => {{
                let v: u128 = $v;
                set!($s, v as u64);
                set!($s as usize + 1, (v >> 64) as u64);
            }};
        }
        macro_rules! trap {
            ($code:expr) => {{
                return Err(wasm_trap($code, es, entry_frames, func, inst, ip));
            }};
        }
        // The code of defined function `$i` of `$inst`; a lazy translation
        // that fails ends the call with that error.
        macro_rules! callee {
            ($inst:expr, $i:expr) => {
                match module_func($inst, $i) {
                    Ok(cf) => cf,
                    Err(e) => {
                        let t = Trap {
                            reason: TrapReason::Translation(e),
                            backtrace: Vec::new(),
                        };
                        return Err(with_frames(t, es, entry_frames, func, inst, ip));
                    }
                }
            };
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(code) => trap!(code),
                }
            };
        }
        // After anything that may have run arbitrary host code.
        macro_rules! reload {
            () => {{
                es = host.exec_state();
                fp = (*es).stack.values.as_mut_ptr().add(base);
                interrupt = &*(*es).interrupt;
                (mem_base, mem_len) = mem0(inst);
            }};
        }
        // Raises exception `exn` at the op just executed and continues at
        // the handler that catches it (or leaves with it). Expands to a
        // `continue` of the dispatch loop, so only at its level.
        macro_rules! throw {
            ($exn:expr) => {{
                let exn: u64 = $exn;
                let from = inst;
                let mut at = Frame {
                    func,
                    inst,
                    ip,
                    base,
                };
                unwind(host, es, entry_frames, &mut at, exn)?;
                (func, inst, ip, base) = (at.func, at.inst, at.ip, at.base);
                fp = (*es).stack.values.as_mut_ptr().add(base);
                if inst != from {
                    (mem_base, mem_len) = mem0(inst);
                }
                continue;
            }};
        }
        macro_rules! host_result {
            ($r:expr) => {{
                let r = $r;
                reload!();
                match r {
                    Ok(v) => v,
                    // A host function (or wasm it called) threw: the call
                    // site is where it propagates from.
                    Err(Trap {
                        reason: TrapReason::Exception(exn),
                        ..
                    }) => throw!(exn),
                    Err(t) => return Err(with_frames(t, es, entry_frames, func, inst, ip)),
                }
            }};
        }
        macro_rules! check_interrupt {
            () => {
                if (*interrupt).load(Ordering::Relaxed) {
                    trap!(TrapCode::Interrupt)
                }
            };
        }
        // Taken branches; a backward one is a loop back-edge, where the
        // interrupt flag is polled.
        macro_rules! jump {
            ($offset:expr) => {{
                let offset: i32 = $offset;
                if offset < 0 {
                    check_interrupt!();
                }
                ip = ip.offset(offset as isize);
            }};
        }
        macro_rules! charge {
            ($n:expr) => {{
                let n = $n as u64;
                let fuel = &mut (*es).fuel;
                if *fuel < n {
                    trap!(TrapCode::OutOfFuel)
                }
                *fuel -= n;
            }};
        }
        // Pushes the current frame and enters wasm function `cf` of `ci`
        // with its frame at slot `ab` of the current one.
        macro_rules! enter {
            ($ci:expr, $cf:expr, $ab:expr) => {{
                let ci: *const VmInstance = $ci;
                let cf: *const InterpFunc = $cf;
                let new_base = base + $ab as usize;
                let stack = &mut (*es).stack;
                tri!(stack.reserve(new_base + (*cf).frame_slots as usize, 1));
                stack.frames.push(Frame {
                    func,
                    inst,
                    ip,
                    base,
                });
                base = new_base;
                fp = stack.values.as_mut_ptr().add(base);
                zero_locals(fp, cf);
                func = cf;
                ip = (*cf).code.as_ptr();
                if ci != inst {
                    inst = ci;
                    (mem_base, mem_len) = mem0(inst);
                }
            }};
        }
        // Replaces the current frame with wasm function `cf` of `ci`, whose
        // arguments are at slot `ab`.
        macro_rules! tail_enter {
            ($ci:expr, $cf:expr, $ab:expr) => {{
                let ci: *const VmInstance = $ci;
                let cf: *const InterpFunc = $cf;
                let p = (*cf).param_slots as usize;
                ptr::copy(fp.add($ab as usize), fp, p);
                let stack = &mut (*es).stack;
                tri!(stack.reserve(base + (*cf).frame_slots as usize, 0));
                fp = stack.values.as_mut_ptr().add(base);
                zero_locals(fp, cf);
                func = cf;
                ip = (*cf).code.as_ptr();
                if ci != inst {
                    inst = ci;
                    (mem_base, mem_len) = mem0(inst);
                }
            }};
        }
        // Calls host function `id` with the arguments at slot `ab`; the
        // results land at `ab`. Arguments travel in a separate buffer so a
        // re-entrant invocation may grow (move) the value stack.
        macro_rules! call_host {
            ($f:expr, $id:expr, $ab:expr) => {{
                // Nested invocations push above every slot in use here.
                let top = base + (*func).frame_slots as usize;
                host_result!(call_host(host, $f, $id, inst, base, $ab as usize, top));
            }};
        }
        macro_rules! do_return {
            () => {{
                let stack = &mut (*es).stack;
                if stack.frames.len() == entry_frames {
                    return Ok(());
                }
                let fr = match stack.frames.pop() {
                    Some(fr) => fr,
                    None => core::hint::unreachable_unchecked(),
                };
                func = fr.func;
                ip = fr.ip;
                base = fr.base;
                fp = stack.values.as_mut_ptr().add(base);
                if fr.inst != inst {
                    inst = fr.inst;
                    (mem_base, mem_len) = mem0(inst);
                }
            }};
        }
        // Calls the function reference `f` (any kind) with arguments at
        // slot `ab`; `tail` selects return-call semantics.
        macro_rules! call_ref {
            ($f:expr, $ab:expr, tail = false) => {{
                let f: *const VmFuncRef = $f;
                match (*f).kind {
                    VmFuncKind::Wasm {
                        instance,
                        defined_index,
                    } => {
                        let cf: *const InterpFunc = callee!(instance, defined_index);
                        enter!(instance, cf, $ab)
                    }
                    VmFuncKind::Host { id } => call_host!(f, id, $ab),
                }
            }};
            ($f:expr, $ab:expr, tail = true) => {{
                let f: *const VmFuncRef = $f;
                match (*f).kind {
                    VmFuncKind::Wasm {
                        instance,
                        defined_index,
                    } => {
                        let cf: *const InterpFunc = callee!(instance, defined_index);
                        tail_enter!(instance, cf, $ab)
                    }
                    VmFuncKind::Host { id } => {
                        call_host!(f, id, $ab);
                        ptr::copy(fp.add($ab as usize), fp, (*f).result_slots as usize);
                        do_return!()
                    }
                }
            }};
        }
        // Resolves `call_indirect`'s callee, trapping as the spec says.
        macro_rules! indirect {
            ($ty:expr, $table:expr, $index:expr) => {{
                let t = bulk::table(inst, $table as u32);
                // The index slot holds an `i32` zero-extended, or an `i64`
                // (table64): one 64-bit comparison serves both.
                let i = get!($index);
                if i >= u64::from((*t).len) {
                    trap!(TrapCode::UndefinedElement)
                }
                let r = *(*t).base.add(i as usize);
                if r == 0 {
                    trap!(TrapCode::IndirectCallToNull)
                }
                let f = r as usize as *const VmFuncRef;
                if (*f).sig != (&(*inst).sigs)[$ty as usize] {
                    trap!(TrapCode::BadSignature)
                }
                f
            }};
        }

        // Numeric helpers: operands read before the result is written.
        macro_rules! i32op {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = get!($b.lhs) as u32;
                let $y = get!($b.rhs) as u32;
                set!($b.dst, ($e) as u32 as u64)
            }};
        }
        macro_rules! i32imm {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = get!($b.lhs) as u32;
                let $y = $b.imm as u32;
                set!($b.dst, ($e) as u32 as u64)
            }};
        }
        macro_rules! brcmp {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = get!($b.lhs) as u32;
                let $y = get!($b.rhs) as u32;
                if $e {
                    jump!($b.offset)
                }
            }};
        }
        macro_rules! brcmpi {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = get!($b.lhs) as u32;
                let $y = $b.imm as u32;
                if $e {
                    jump!($b.offset)
                }
            }};
        }
        macro_rules! i64op {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = get!($b.lhs);
                let $y = get!($b.rhs);
                set!($b.dst, ($e) as u64)
            }};
        }
        macro_rules! f32op {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f32_of(get!($b.lhs));
                let $y = f32_of(get!($b.rhs));
                set!($b.dst, f32_bits($e))
            }};
        }
        macro_rules! f64op {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f64_of(get!($b.lhs));
                let $y = f64_of(get!($b.rhs));
                set!($b.dst, f64_bits($e))
            }};
        }
        macro_rules! f32cmp {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f32_of(get!($b.lhs));
                let $y = f32_of(get!($b.rhs));
                set!($b.dst, ($e) as u64)
            }};
        }
        macro_rules! f64cmp {
            ($b:expr, |$x:ident, $y:ident| $e:expr) => {{
                let $x = f64_of(get!($b.lhs));
                let $y = f64_of(get!($b.rhs));
                set!($b.dst, ($e) as u64)
            }};
        }
        macro_rules! un {
            ($u:expr, |$x:ident| $e:expr) => {{
                let $x = get!($u.src);
                set!($u.dst, $e)
            }};
        }
        // Effective address of an `n`-byte access, bounds-checked.
        macro_rules! ea {
            ($addr:expr, $offset:expr, $n:expr) => {{
                let a = get!($addr) as u32 as u64 + $offset as u64;
                if a + $n as u64 > mem_len as u64 {
                    trap!(TrapCode::MemoryOutOfBounds)
                }
                mem_base.add(a as usize)
            }};
        }
        macro_rules! load {
            ($m:expr, $n:literal, $t:ty, |$v:ident| $e:expr) => {{
                let p = ea!($m.addr, $m.offset, $n);
                let $v = <$t>::from_le_bytes(ptr::read_unaligned(p as *const [u8; $n]));
                set!($m.val, $e)
            }};
        }
        macro_rules! store {
            ($m:expr, $n:literal, $t:ty) => {{
                let v = get!($m.val) as $t;
                let p = ea!($m.addr, $m.offset, $n);
                ptr::write_unaligned(p as *mut [u8; $n], v.to_le_bytes());
            }};
        }

        loop {
            let op: &Op = &*ip;
            ip = ip.add(1);
            match *op {
                // ---- control ----
                Op::Unreachable => trap!(TrapCode::UnreachableCodeReached),
                Op::Br { offset } => jump!(offset),
                Op::BrIfNez { cond, offset } => {
                    if get!(cond) as u32 != 0 {
                        jump!(offset)
                    }
                }
                Op::BrIfEqz { cond, offset } => {
                    if get!(cond) as u32 == 0 {
                        jump!(offset)
                    }
                }
                Op::BrTable { index, len } => {
                    let i = (get!(index) as u32).min(len);
                    ip = ip.add(i as usize);
                }
                Op::Return => do_return!(),
                Op::Return1 { src } => {
                    set!(0, get!(src));
                    do_return!()
                }
                Op::Fuel { amount } => charge!(amount),
                Op::LoopHead { fuel } => {
                    check_interrupt!();
                    if fuel != 0 {
                        charge!(fuel);
                    }
                }
                Op::Call { func: f, base: ab } => {
                    check_interrupt!();
                    let cf: *const InterpFunc = callee!(inst, f);
                    enter!(inst, cf, ab)
                }
                Op::CallImport { func: f, base: ab } => {
                    check_interrupt!();
                    let r = (&(*inst).funcs)[f as usize];
                    call_ref!(r, ab, tail = false)
                }
                Op::CallIndirect {
                    ty,
                    table,
                    index,
                    base: ab,
                } => {
                    check_interrupt!();
                    let r = indirect!(ty, table, index);
                    call_ref!(r, ab, tail = false)
                }
                Op::ReturnCall { func: f, base: ab } => {
                    check_interrupt!();
                    let cf: *const InterpFunc = callee!(inst, f);
                    tail_enter!(inst, cf, ab)
                }
                Op::ReturnCallImport { func: f, base: ab } => {
                    check_interrupt!();
                    let r = (&(*inst).funcs)[f as usize];
                    call_ref!(r, ab, tail = true)
                }
                Op::ReturnCallIndirect {
                    ty,
                    table,
                    index,
                    base: ab,
                } => {
                    check_interrupt!();
                    let r = indirect!(ty, table, index);
                    call_ref!(r, ab, tail = true)
                }

                Op::CallRef { func: f, base: ab } => {
                    check_interrupt!();
                    let bits = get!(f);
                    if bits == 0 {
                        trap!(TrapCode::NullReference)
                    }
                    call_ref!(bits as usize as *const VmFuncRef, ab, tail = false)
                }
                Op::ReturnCallRef { func: f, base: ab } => {
                    check_interrupt!();
                    let bits = get!(f);
                    if bits == 0 {
                        trap!(TrapCode::NullReference)
                    }
                    call_ref!(bits as usize as *const VmFuncRef, ab, tail = true)
                }
                Op::Throw {
                    tag,
                    base: pb,
                    slots,
                } => {
                    let id = (&(*inst).tags)[tag as usize];
                    let payload = core::slice::from_raw_parts(fp.add(pb as usize), slots as usize);
                    let exn = host.new_exception(id, payload);
                    throw!(exn)
                }
                Op::ThrowRef { src } => {
                    let exn = get!(src);
                    if exn == 0 {
                        trap!(TrapCode::NullReference)
                    }
                    throw!(exn)
                }
                Op::ExnRelease { slot } => host.release_exception(get!(slot)),
                Op::RefAsNonNull { src } => {
                    if get!(src) == 0 {
                        trap!(TrapCode::NullReference)
                    }
                }

                // ---- data movement ----
                Op::Copy(u) => set!(u.dst, get!(u.src)),
                Op::Copy2(u) => {
                    let lo = get!(u.src);
                    let hi = get!(u.src as usize + 1);
                    set!(u.dst, lo);
                    set!(u.dst as usize + 1, hi);
                }
                Op::Const32 { dst, value } => set!(dst, value as u64),
                Op::Const64 { dst, value } => set!(dst, value),
                Op::Select { dst, cond, a, b } => {
                    let v = if get!(cond) as u32 != 0 {
                        get!(a)
                    } else {
                        get!(b)
                    };
                    set!(dst, v)
                }
                Op::Select2 { dst, cond, a, b } => {
                    let v = if get!(cond) as u32 != 0 {
                        get128!(a)
                    } else {
                        get128!(b)
                    };
                    set128!(dst, v)
                }
                Op::GlobalGet { dst, global } => {
                    set!(dst, (*(&(*inst).globals)[global as usize]).lo)
                }
                Op::GlobalSet { src, global } => {
                    (*(&(*inst).globals)[global as usize]).lo = get!(src)
                }
                Op::GlobalGet2 { dst, global } => {
                    let g = (&(*inst).globals)[global as usize];
                    let (lo, hi) = ((*g).lo, (*g).hi);
                    set!(dst, lo);
                    set!(dst as usize + 1, hi);
                }
                Op::GlobalSet2 { src, global } => {
                    let g = (&(*inst).globals)[global as usize];
                    (*g).lo = get!(src);
                    (*g).hi = get!(src as usize + 1);
                }
                Op::RefFunc { dst, func: f } => {
                    set!(dst, (&(*inst).funcs)[f as usize] as usize as u64)
                }

                // ---- memory ----
                Op::Load32(m) => load!(m, 4, u32, |v| v as u64),
                Op::Load64(m) => load!(m, 8, u64, |v| v),
                Op::Load8S32(m) => load!(m, 1, i8, |v| v as i32 as u32 as u64),
                Op::Load8S64(m) => load!(m, 1, i8, |v| v as i64 as u64),
                Op::Load8U(m) => load!(m, 1, u8, |v| v as u64),
                Op::Load16S32(m) => load!(m, 2, i16, |v| v as i32 as u32 as u64),
                Op::Load16S64(m) => load!(m, 2, i16, |v| v as i64 as u64),
                Op::Load16U(m) => load!(m, 2, u16, |v| v as u64),
                Op::Load32S64(m) => load!(m, 4, i32, |v| v as i64 as u64),
                Op::Store8(m) => store!(m, 1, u8),
                Op::Store16(m) => store!(m, 2, u16),
                Op::Store32(m) => store!(m, 4, u32),
                Op::Store64(m) => store!(m, 8, u64),
                Op::LoadMem { ty, mem, m } => {
                    let (b, l) = memory(inst, mem as u32);
                    let v = tri!(bulk::load(b, l, get!(m.addr), m.offset, ty));
                    set!(m.val, v)
                }
                Op::StoreMem { ty, mem, m } => {
                    let (b, l) = memory(inst, mem as u32);
                    tri!(bulk::store(b, l, get!(m.addr), m.offset, ty, get!(m.val)))
                }
                Op::AddAddress { dst, a, b } => match get!(a).checked_add(get!(b)) {
                    Some(sum) => set!(dst, sum),
                    None => trap!(TrapCode::MemoryOutOfBounds),
                },
                Op::Add128(w) | Op::Sub128(w) => {
                    let a = u128::from(get!(w.a_lo)) | (u128::from(get!(w.a_hi)) << 64);
                    let b = u128::from(get!(w.b_lo)) | (u128::from(get!(w.b_hi)) << 64);
                    let r = if matches!(op, Op::Add128(_)) {
                        a.wrapping_add(b)
                    } else {
                        a.wrapping_sub(b)
                    };
                    set!(w.lo, r as u64);
                    set!(w.hi, (r >> 64) as u64)
                }
                Op::MulWideS(m) => {
                    let r = i128::from(get!(m.a) as i64) * i128::from(get!(m.b) as i64);
                    set!(m.lo, r as u64);
                    set!(m.hi, (r >> 64) as u64)
                }
                Op::MulWideU(m) => {
                    let r = u128::from(get!(m.a)) * u128::from(get!(m.b));
                    set!(m.lo, r as u64);
                    set!(m.hi, (r >> 64) as u64)
                }
                Op::SelectMemory { mem } => (mem_base, mem_len) = memory(inst, mem as u32),
                Op::SelectWindow { mem, addr, zero } => {
                    let (b, l) = memory(inst, mem as u32);
                    let a = get!(addr);
                    if a > l as u64 {
                        trap!(TrapCode::MemoryOutOfBounds)
                    }
                    mem_base = b.add(a as usize);
                    mem_len = l - a as usize;
                    set!(zero, 0)
                }
                Op::MemorySize {
                    mem,
                    page_size_log2,
                    dst,
                } => {
                    let m = (&(*inst).memories)[mem as usize];
                    set!(dst, ((*m).len >> page_size_log2) as u64)
                }
                Op::MemoryGrow { mem, wide, x } => {
                    let m = (&(*inst).memories)[mem as usize];
                    let delta = if wide {
                        get!(x.src)
                    } else {
                        get!(x.src) as u32 as u64
                    };
                    (*es).stack.top = base + (*func).frame_slots as usize;
                    let r = host_result!(host.memory_grow(m, delta));
                    let failed = if wide { u64::MAX } else { u64::from(u32::MAX) };
                    set!(x.dst, r.unwrap_or(failed))
                }
                Op::MemoryInit {
                    mem,
                    data,
                    dst,
                    src,
                    len,
                } => {
                    let (b, l) = if mem == 0 {
                        (mem_base, mem_len)
                    } else {
                        memory(inst, mem as u32)
                    };
                    let (d, s, n) = (get!(dst), get!(src) as u32, get!(len) as u32);
                    tri!(bulk::memory_init(inst, b, l, data, d, s, n))
                }
                Op::DataDrop { data } => bulk::data_drop(inst, data),
                Op::MemoryCopy {
                    dst_mem,
                    src_mem,
                    dst,
                    src,
                    len,
                } => {
                    let (d, s, n) = (get!(dst), get!(src), get!(len));
                    if dst_mem == 0 && src_mem == 0 {
                        tri!(bulk::memory_copy(
                            (mem_base, mem_len),
                            (mem_base, mem_len),
                            d,
                            s,
                            n
                        ))
                    } else {
                        tri!(bulk::memory_copy(
                            memory(inst, dst_mem as u32),
                            memory(inst, src_mem as u32),
                            d,
                            s,
                            n
                        ))
                    }
                }
                Op::MemoryFill { mem, dst, val, len } => {
                    let (b, l) = if mem == 0 {
                        (mem_base, mem_len)
                    } else {
                        memory(inst, mem as u32)
                    };
                    let (d, v, n) = (get!(dst), get!(val) as u8, get!(len));
                    tri!(bulk::memory_fill(b, l, d, v, n))
                }

                // ---- tables ----
                Op::TableGet { table, dst, index } => {
                    let v = tri!(bulk::table_get(bulk::table(inst, table), get!(index)));
                    set!(dst, v)
                }
                Op::TableSet { table, index, val } => {
                    tri!(bulk::table_set(
                        bulk::table(inst, table),
                        get!(index),
                        get!(val)
                    ))
                }
                Op::TableSize { table, dst } => set!(dst, (*bulk::table(inst, table)).len as u64),
                Op::TableGrow {
                    table,
                    wide,
                    dst,
                    init,
                    delta,
                } => {
                    let t = bulk::table(inst, table);
                    let (init, delta) = (get!(init), get!(delta));
                    (*es).stack.top = base + (*func).frame_slots as usize;
                    let r = host_result!(host.table_grow(t, delta, init));
                    let failed = if wide { u64::MAX } else { u64::from(u32::MAX) };
                    set!(dst, r.unwrap_or(failed))
                }
                Op::TableFill {
                    table,
                    dst,
                    val,
                    len,
                } => {
                    let (d, v, n) = (get!(dst), get!(val), get!(len));
                    tri!(bulk::table_fill(bulk::table(inst, table), d, v, n))
                }
                Op::TableCopy {
                    dst_table,
                    src_table,
                    dst,
                    src,
                    len,
                } => {
                    let (d, s, n) = (get!(dst), get!(src), get!(len));
                    let dt = bulk::table(inst, dst_table as u32);
                    let st = bulk::table(inst, src_table as u32);
                    tri!(bulk::table_copy(dt, st, d, s, n))
                }
                Op::TableInit {
                    table,
                    elem,
                    dst,
                    src,
                    len,
                } => {
                    let (d, s, n) = (get!(dst), get!(src) as u32, get!(len) as u32);
                    let t = bulk::table(inst, table as u32);
                    tri!(bulk::table_init(inst, t, elem, d, s, n))
                }
                Op::ElemDrop { elem } => bulk::elem_drop(inst, elem),

                // ---- i32 ----
                Op::I32Eqz(u) => un!(u, |x| (x as u32 == 0) as u64),
                Op::I32Eq(b) => i32op!(b, |x, y| x == y),
                Op::I32Ne(b) => i32op!(b, |x, y| x != y),
                Op::I32LtS(b) => i32op!(b, |x, y| (x as i32) < (y as i32)),
                Op::I32LtU(b) => i32op!(b, |x, y| x < y),
                Op::I32GtS(b) => i32op!(b, |x, y| (x as i32) > (y as i32)),
                Op::I32GtU(b) => i32op!(b, |x, y| x > y),
                Op::I32LeS(b) => i32op!(b, |x, y| (x as i32) <= (y as i32)),
                Op::I32LeU(b) => i32op!(b, |x, y| x <= y),
                Op::I32GeS(b) => i32op!(b, |x, y| (x as i32) >= (y as i32)),
                Op::I32GeU(b) => i32op!(b, |x, y| x >= y),
                Op::I32Clz(u) => un!(u, |x| (x as u32).leading_zeros() as u64),
                Op::I32Ctz(u) => un!(u, |x| (x as u32).trailing_zeros() as u64),
                Op::I32Popcnt(u) => un!(u, |x| (x as u32).count_ones() as u64),
                Op::I32Add(b) => i32op!(b, |x, y| x.wrapping_add(y)),
                Op::I32Sub(b) => i32op!(b, |x, y| x.wrapping_sub(y)),
                Op::I32Mul(b) => i32op!(b, |x, y| x.wrapping_mul(y)),
                Op::I32DivS(b) => {
                    let (x, y) = (get!(b.lhs) as i32, get!(b.rhs) as i32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    if x == i32::MIN && y == -1 {
                        trap!(TrapCode::IntegerOverflow)
                    }
                    set!(b.dst, (x / y) as u32 as u64)
                }
                Op::I32DivU(b) => {
                    let (x, y) = (get!(b.lhs) as u32, get!(b.rhs) as u32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    set!(b.dst, (x / y) as u64)
                }
                Op::I32RemS(b) => {
                    let (x, y) = (get!(b.lhs) as i32, get!(b.rhs) as i32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    set!(b.dst, x.wrapping_rem(y) as u32 as u64)
                }
                Op::I32RemU(b) => {
                    let (x, y) = (get!(b.lhs) as u32, get!(b.rhs) as u32);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    set!(b.dst, (x % y) as u64)
                }
                Op::I32And(b) => i32op!(b, |x, y| x & y),
                Op::I32Or(b) => i32op!(b, |x, y| x | y),
                Op::I32Xor(b) => i32op!(b, |x, y| x ^ y),
                Op::I32Shl(b) => i32op!(b, |x, y| x.wrapping_shl(y)),
                Op::I32ShrS(b) => i32op!(b, |x, y| (x as i32).wrapping_shr(y)),
                Op::I32ShrU(b) => i32op!(b, |x, y| x.wrapping_shr(y)),
                Op::I32Rotl(b) => i32op!(b, |x, y| x.rotate_left(y & 31)),
                Op::I32Rotr(b) => i32op!(b, |x, y| x.rotate_right(y & 31)),

                // ---- immediate forms ----
                Op::I32AddImm(b) => i32imm!(b, |x, y| x.wrapping_add(y)),
                Op::I32MulImm(b) => i32imm!(b, |x, y| x.wrapping_mul(y)),
                Op::I32AndImm(b) => i32imm!(b, |x, y| x & y),
                Op::I32OrImm(b) => i32imm!(b, |x, y| x | y),
                Op::I32XorImm(b) => i32imm!(b, |x, y| x ^ y),
                Op::I32ShlImm(b) => i32imm!(b, |x, y| x.wrapping_shl(y)),
                Op::I32ShrSImm(b) => i32imm!(b, |x, y| (x as i32).wrapping_shr(y)),
                Op::I32ShrUImm(b) => i32imm!(b, |x, y| x.wrapping_shr(y)),
                Op::I32EqImm(b) => i32imm!(b, |x, y| x == y),
                Op::I32NeImm(b) => i32imm!(b, |x, y| x != y),
                Op::I32LtSImm(b) => i32imm!(b, |x, y| (x as i32) < (y as i32)),
                Op::I32LtUImm(b) => i32imm!(b, |x, y| x < y),
                Op::I32GtSImm(b) => i32imm!(b, |x, y| (x as i32) > (y as i32)),
                Op::I32GtUImm(b) => i32imm!(b, |x, y| x > y),
                Op::I32LeSImm(b) => i32imm!(b, |x, y| (x as i32) <= (y as i32)),
                Op::I32LeUImm(b) => i32imm!(b, |x, y| x <= y),
                Op::I32GeSImm(b) => i32imm!(b, |x, y| (x as i32) >= (y as i32)),
                Op::I32GeUImm(b) => i32imm!(b, |x, y| x >= y),
                Op::I64AddImm(b) => set!(b.dst, get!(b.lhs).wrapping_add(b.imm as i64 as u64)),

                // ---- compare and branch ----
                Op::BrI32Eq(b) => brcmp!(b, |x, y| x == y),
                Op::BrI32Ne(b) => brcmp!(b, |x, y| x != y),
                Op::BrI32LtS(b) => brcmp!(b, |x, y| (x as i32) < (y as i32)),
                Op::BrI32LtU(b) => brcmp!(b, |x, y| x < y),
                Op::BrI32GtS(b) => brcmp!(b, |x, y| (x as i32) > (y as i32)),
                Op::BrI32GtU(b) => brcmp!(b, |x, y| x > y),
                Op::BrI32LeS(b) => brcmp!(b, |x, y| (x as i32) <= (y as i32)),
                Op::BrI32LeU(b) => brcmp!(b, |x, y| x <= y),
                Op::BrI32GeS(b) => brcmp!(b, |x, y| (x as i32) >= (y as i32)),
                Op::BrI32GeU(b) => brcmp!(b, |x, y| x >= y),
                Op::BrI32EqImm(b) => brcmpi!(b, |x, y| x == y),
                Op::BrI32NeImm(b) => brcmpi!(b, |x, y| x != y),
                Op::BrI32LtSImm(b) => brcmpi!(b, |x, y| (x as i32) < (y as i32)),
                Op::BrI32LtUImm(b) => brcmpi!(b, |x, y| x < y),
                Op::BrI32GtSImm(b) => brcmpi!(b, |x, y| (x as i32) > (y as i32)),
                Op::BrI32GtUImm(b) => brcmpi!(b, |x, y| x > y),
                Op::BrI32LeSImm(b) => brcmpi!(b, |x, y| (x as i32) <= (y as i32)),
                Op::BrI32LeUImm(b) => brcmpi!(b, |x, y| x <= y),
                Op::BrI32GeSImm(b) => brcmpi!(b, |x, y| (x as i32) >= (y as i32)),
                Op::BrI32GeUImm(b) => brcmpi!(b, |x, y| x >= y),

                // ---- i64 ----
                Op::I64Eqz(u) => un!(u, |x| (x == 0) as u64),
                Op::I64Eq(b) => i64op!(b, |x, y| x == y),
                Op::I64Ne(b) => i64op!(b, |x, y| x != y),
                Op::I64LtS(b) => i64op!(b, |x, y| (x as i64) < (y as i64)),
                Op::I64LtU(b) => i64op!(b, |x, y| x < y),
                Op::I64GtS(b) => i64op!(b, |x, y| (x as i64) > (y as i64)),
                Op::I64GtU(b) => i64op!(b, |x, y| x > y),
                Op::I64LeS(b) => i64op!(b, |x, y| (x as i64) <= (y as i64)),
                Op::I64LeU(b) => i64op!(b, |x, y| x <= y),
                Op::I64GeS(b) => i64op!(b, |x, y| (x as i64) >= (y as i64)),
                Op::I64GeU(b) => i64op!(b, |x, y| x >= y),
                Op::I64Clz(u) => un!(u, |x| x.leading_zeros() as u64),
                Op::I64Ctz(u) => un!(u, |x| x.trailing_zeros() as u64),
                Op::I64Popcnt(u) => un!(u, |x| x.count_ones() as u64),
                Op::I64Add(b) => i64op!(b, |x, y| x.wrapping_add(y)),
                Op::I64Sub(b) => i64op!(b, |x, y| x.wrapping_sub(y)),
                Op::I64Mul(b) => i64op!(b, |x, y| x.wrapping_mul(y)),
                Op::I64DivS(b) => {
                    let (x, y) = (get!(b.lhs) as i64, get!(b.rhs) as i64);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    if x == i64::MIN && y == -1 {
                        trap!(TrapCode::IntegerOverflow)
                    }
                    set!(b.dst, (x / y) as u64)
                }
                Op::I64DivU(b) => {
                    let (x, y) = (get!(b.lhs), get!(b.rhs));
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    set!(b.dst, x / y)
                }
                Op::I64RemS(b) => {
                    let (x, y) = (get!(b.lhs) as i64, get!(b.rhs) as i64);
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    set!(b.dst, x.wrapping_rem(y) as u64)
                }
                Op::I64RemU(b) => {
                    let (x, y) = (get!(b.lhs), get!(b.rhs));
                    if y == 0 {
                        trap!(TrapCode::IntegerDivisionByZero)
                    }
                    set!(b.dst, x % y)
                }
                Op::I64And(b) => i64op!(b, |x, y| x & y),
                Op::I64Or(b) => i64op!(b, |x, y| x | y),
                Op::I64Xor(b) => i64op!(b, |x, y| x ^ y),
                Op::I64Shl(b) => i64op!(b, |x, y| x.wrapping_shl(y as u32)),
                Op::I64ShrS(b) => i64op!(b, |x, y| (x as i64).wrapping_shr(y as u32)),
                Op::I64ShrU(b) => i64op!(b, |x, y| x.wrapping_shr(y as u32)),
                Op::I64Rotl(b) => i64op!(b, |x, y| x.rotate_left((y & 63) as u32)),
                Op::I64Rotr(b) => i64op!(b, |x, y| x.rotate_right((y & 63) as u32)),

                // ---- floats ----
                Op::F32Eq(b) => f32cmp!(b, |x, y| x == y),
                Op::F32Ne(b) => f32cmp!(b, |x, y| x != y),
                Op::F32Lt(b) => f32cmp!(b, |x, y| x < y),
                Op::F32Gt(b) => f32cmp!(b, |x, y| x > y),
                Op::F32Le(b) => f32cmp!(b, |x, y| x <= y),
                Op::F32Ge(b) => f32cmp!(b, |x, y| x >= y),
                Op::F64Eq(b) => f64cmp!(b, |x, y| x == y),
                Op::F64Ne(b) => f64cmp!(b, |x, y| x != y),
                Op::F64Lt(b) => f64cmp!(b, |x, y| x < y),
                Op::F64Gt(b) => f64cmp!(b, |x, y| x > y),
                Op::F64Le(b) => f64cmp!(b, |x, y| x <= y),
                Op::F64Ge(b) => f64cmp!(b, |x, y| x >= y),
                Op::F32Abs(u) => un!(u, |x| x & 0x7fff_ffff),
                Op::F32Neg(u) => un!(u, |x| (x ^ 0x8000_0000) & 0xffff_ffff),
                Op::F32Ceil(u) => un!(u, |x| f32_bits(round32(f32_of(x), libm::ceilf))),
                Op::F32Floor(u) => un!(u, |x| f32_bits(round32(f32_of(x), libm::floorf))),
                Op::F32Trunc(u) => un!(u, |x| f32_bits(round32(f32_of(x), libm::truncf))),
                Op::F32Nearest(u) => un!(u, |x| f32_bits(round32(f32_of(x), libm::rintf))),
                Op::F32Sqrt(u) => un!(u, |x| f32_bits(round32(f32_of(x), libm::sqrtf))),
                Op::F32Add(b) => f32op!(b, |x, y| x + y),
                Op::F32Sub(b) => f32op!(b, |x, y| x - y),
                Op::F32Mul(b) => f32op!(b, |x, y| x * y),
                Op::F32Div(b) => f32op!(b, |x, y| x / y),
                Op::F32Min(b) => f32op!(b, |x, y| fmin32(x, y)),
                Op::F32Max(b) => f32op!(b, |x, y| fmax32(x, y)),
                Op::F32Copysign(b) => {
                    let (x, y) = (get!(b.lhs), get!(b.rhs));
                    set!(b.dst, (x & 0x7fff_ffff) | (y & 0x8000_0000))
                }
                Op::F64Abs(u) => un!(u, |x| x & 0x7fff_ffff_ffff_ffff),
                Op::F64Neg(u) => un!(u, |x| x ^ 0x8000_0000_0000_0000),
                Op::F64Ceil(u) => un!(u, |x| f64_bits(round64(f64_of(x), libm::ceil))),
                Op::F64Floor(u) => un!(u, |x| f64_bits(round64(f64_of(x), libm::floor))),
                Op::F64Trunc(u) => un!(u, |x| f64_bits(round64(f64_of(x), libm::trunc))),
                Op::F64Nearest(u) => un!(u, |x| f64_bits(round64(f64_of(x), libm::rint))),
                Op::F64Sqrt(u) => un!(u, |x| f64_bits(round64(f64_of(x), libm::sqrt))),
                Op::F64Add(b) => f64op!(b, |x, y| x + y),
                Op::F32MulAdd(m) => {
                    let product = f32_of(get!(m.a)) * f32_of(get!(m.b));
                    set!(m.dst, f32_bits(product + f32_of(get!(m.c))))
                }
                Op::F64MulAdd(m) => {
                    let product = f64_of(get!(m.a)) * f64_of(get!(m.b));
                    set!(m.dst, f64_bits(product + f64_of(get!(m.c))))
                }
                Op::F64Sub(b) => f64op!(b, |x, y| x - y),
                Op::F64Mul(b) => f64op!(b, |x, y| x * y),
                Op::F64Div(b) => f64op!(b, |x, y| x / y),
                Op::F64Min(b) => f64op!(b, |x, y| fmin64(x, y)),
                Op::F64Max(b) => f64op!(b, |x, y| fmax64(x, y)),
                Op::F64Copysign(b) => {
                    let (x, y) = (get!(b.lhs), get!(b.rhs));
                    const SIGN: u64 = 0x8000_0000_0000_0000;
                    set!(b.dst, (x & !SIGN) | (y & SIGN))
                }

                // ---- conversions ----
                Op::I32WrapI64(u) => un!(u, |x| x as u32 as u64),
                Op::I32TruncF32S(u) => {
                    let v = tri!(trunc_i32_s(f32_of(get!(u.src)) as f64));
                    set!(u.dst, v)
                }
                Op::I32TruncF32U(u) => {
                    let v = tri!(trunc_i32_u(f32_of(get!(u.src)) as f64));
                    set!(u.dst, v)
                }
                Op::I32TruncF64S(u) => {
                    let v = tri!(trunc_i32_s(f64_of(get!(u.src))));
                    set!(u.dst, v)
                }
                Op::I32TruncF64U(u) => {
                    let v = tri!(trunc_i32_u(f64_of(get!(u.src))));
                    set!(u.dst, v)
                }
                Op::I64ExtendI32S(u) => un!(u, |x| x as u32 as i32 as i64 as u64),
                Op::I64TruncF32S(u) => {
                    let v = tri!(trunc_i64_s(f32_of(get!(u.src)) as f64));
                    set!(u.dst, v)
                }
                Op::I64TruncF32U(u) => {
                    let v = tri!(trunc_i64_u(f32_of(get!(u.src)) as f64));
                    set!(u.dst, v)
                }
                Op::I64TruncF64S(u) => {
                    let v = tri!(trunc_i64_s(f64_of(get!(u.src))));
                    set!(u.dst, v)
                }
                Op::I64TruncF64U(u) => {
                    let v = tri!(trunc_i64_u(f64_of(get!(u.src))));
                    set!(u.dst, v)
                }
                Op::F32ConvertI32S(u) => un!(u, |x| f32_bits(x as u32 as i32 as f32)),
                Op::F32ConvertI32U(u) => un!(u, |x| f32_bits(x as u32 as f32)),
                Op::F32ConvertI64S(u) => un!(u, |x| f32_bits(x as i64 as f32)),
                Op::F32ConvertI64U(u) => un!(u, |x| f32_bits(x as f32)),
                Op::F32DemoteF64(u) => un!(u, |x| f32_bits(f64_of(x) as f32)),
                Op::F64ConvertI32S(u) => un!(u, |x| f64_bits(x as u32 as i32 as f64)),
                Op::F64ConvertI32U(u) => un!(u, |x| f64_bits(x as u32 as f64)),
                Op::F64ConvertI64S(u) => un!(u, |x| f64_bits(x as i64 as f64)),
                Op::F64ConvertI64U(u) => un!(u, |x| f64_bits(x as f64)),
                Op::F64PromoteF32(u) => un!(u, |x| f64_bits(f32_of(x) as f64)),
                Op::I32Extend8S(u) => un!(u, |x| x as u8 as i8 as i32 as u32 as u64),
                Op::I32Extend16S(u) => un!(u, |x| x as u16 as i16 as i32 as u32 as u64),
                Op::I64Extend8S(u) => un!(u, |x| x as u8 as i8 as i64 as u64),
                Op::I64Extend16S(u) => un!(u, |x| x as u16 as i16 as i64 as u64),
                Op::I64Extend32S(u) => un!(u, |x| x as u32 as i32 as i64 as u64),
                // Rust's float-to-int `as` saturates and maps NaN to 0,
                // which is exactly `trunc_sat`.
                Op::I32TruncSatF32S(u) => un!(u, |x| f32_of(x) as i32 as u32 as u64),
                Op::I32TruncSatF32U(u) => un!(u, |x| f32_of(x) as u32 as u64),
                Op::I32TruncSatF64S(u) => un!(u, |x| f64_of(x) as i32 as u32 as u64),
                Op::I32TruncSatF64U(u) => un!(u, |x| f64_of(x) as u32 as u64),
                Op::I64TruncSatF32S(u) => un!(u, |x| f32_of(x) as i64 as u64),
                Op::I64TruncSatF32U(u) => un!(u, |x| f32_of(x) as u64),
                Op::I64TruncSatF64S(u) => un!(u, |x| f64_of(x) as i64 as u64),
                Op::I64TruncSatF64U(u) => un!(u, |x| f64_of(x) as u64),

                // ---- SIMD ----
                #[cfg(feature = "simd")]
                Op::V128Unary { op, dst, a } => set128!(dst, op.eval(get128!(a))),
                #[cfg(feature = "simd")]
                Op::V128Binary { op, dst, a, b } => {
                    let (x, y) = (get128!(a), get128!(b));
                    set128!(dst, op.eval(x, y))
                }
                #[cfg(feature = "simd")]
                Op::V128Ternary { op, dst, a, b, c } => {
                    let (x, y, z) = (get128!(a), get128!(b), get128!(c));
                    set128!(dst, op.eval(x, y, z))
                }
                #[cfg(feature = "simd")]
                Op::V128Shift { op, dst, a, b } => {
                    let (x, n) = (get128!(a), get!(b) as u32);
                    set128!(dst, op.eval(x, n))
                }
                #[cfg(feature = "simd")]
                Op::V128Test { op, dst, a } => set!(dst, op.eval(get128!(a)) as u64),
                #[cfg(feature = "simd")]
                Op::V128Splat { op, dst, a } => set128!(dst, op.eval(get!(a))),
                #[cfg(feature = "simd")]
                Op::V128Extract { op, lane, dst, a } => set!(dst, op.eval(get128!(a), lane)),
                #[cfg(feature = "simd")]
                Op::V128Replace {
                    op,
                    lane,
                    dst,
                    a,
                    b,
                } => {
                    let (x, y) = (get128!(a), get!(b));
                    set128!(dst, op.eval(x, lane, y))
                }
                #[cfg(feature = "simd")]
                Op::V128Shuffle { dst, a, b, idx } => {
                    let (x, y) = (get128!(a), get128!(b));
                    let lanes = &(*func).shuffles[idx as usize];
                    set128!(dst, simd::shuffle(x, y, lanes))
                }
                #[cfg(feature = "simd")]
                Op::V128Load {
                    kind,
                    dst,
                    addr,
                    offset,
                } => {
                    let n = kind.bytes() as usize;
                    let p = ea!(addr, offset, n);
                    let mut raw = [0u8; 16];
                    ptr::copy_nonoverlapping(p, raw.as_mut_ptr(), n);
                    set128!(dst, kind.finish(u128::from_le_bytes(raw)))
                }
                #[cfg(feature = "simd")]
                Op::V128LoadLane {
                    width,
                    lane,
                    dst,
                    src,
                    addr,
                    offset,
                } => {
                    let n = width.bytes() as usize;
                    let v = get128!(src);
                    let p = ea!(addr, offset, n);
                    let mut raw = [0u8; 8];
                    ptr::copy_nonoverlapping(p, raw.as_mut_ptr(), n);
                    set128!(
                        dst,
                        simd::load_lane(width, v, lane, u64::from_le_bytes(raw))
                    )
                }
                #[cfg(feature = "simd")]
                Op::V128Store { addr, src, offset } => {
                    let v = get128!(src);
                    let p = ea!(addr, offset, 16);
                    ptr::write_unaligned(p as *mut [u8; 16], v.to_le_bytes());
                }
                #[cfg(feature = "simd")]
                Op::V128StoreLane {
                    width,
                    lane,
                    addr,
                    src,
                    offset,
                } => {
                    let n = width.bytes() as usize;
                    let raw = simd::store_lane(width, get128!(src), lane).to_le_bytes();
                    let p = ea!(addr, offset, n);
                    ptr::copy_nonoverlapping(raw.as_ptr(), p, n);
                }
            }
        }
    }
}
