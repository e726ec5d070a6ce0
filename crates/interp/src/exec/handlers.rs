//! What each op does: one entry per op, `Name pattern => { body }`, made
//! into threaded handlers or the portable loop by `dispatch::handlers!`.
//!
//! Bodies are safe code over the macros of `state_macros!`, which hold the
//! unsafe slot, memory and frame accesses with the reason each holds. An
//! op that touches raw runtime structures itself (globals, tables, calls)
//! says why in its own `SAFETY` comment.

use super::bulk;
#[cfg(kiln_threaded)]
use super::dispatch::Handler;
use super::gc;
use super::num::*;
#[cfg(not(kiln_threaded))]
use super::run::run_pending;
use super::run::{
    Cx, Exit, Flow, Pending, call_host, init_locals, mem0, memory, memory_grow, raise, table_grow,
    throw_new, translated, trap,
};
use crate::bytecode::Op;
#[cfg(kiln_threaded)]
use crate::bytecode::OpCode;
#[cfg(feature = "simd")]
use crate::simd;
use crate::translate::InterpFunc;
use core::ptr;
use core::sync::atomic::Ordering;
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmFuncKind, VmFuncRef, VmInstance};

/// Defines, inside one handler (or the loop), the macros its body uses to
/// read and change the state: `$ip`, `$fp`, `$cx`, `$mb`, `$ml` are that
/// scope's names for the op pointer, frame pointer, context, and the
/// selected memory's base and length. `$d` is a `$` token.
macro_rules! state_macros {
    ($d:tt [$ip:ident, $fp:ident, $cx:ident, $mb:ident, $ml:ident, $acc:ident]) => {
        // Frame-slot access. Every slot an op names is inside its function's
        // frame (the translator's first invariant, see `run`); builds with
        // debug assertions check it, so a translator bug fails a test
        // instead of corrupting the value stack.
        #[allow(unused_macros)]
        macro_rules! slot {
            ($d s:expr) => {{
                let s = $d s as usize;
                // SAFETY: `cx.func` is the running function (live).
                debug_assert!(s < unsafe { (*$cx.func).frame_slots as usize }, "slot {s} outside the frame");
                s
            }};
        }
        #[allow(unused_macros)]
        macro_rules! get {
            ($d s:expr) => {{
                let s = slot!($d s);
                // SAFETY: `s` is inside the frame at `fp`, which is
                // reserved in the value stack.
                unsafe { *$fp.add(s) }
            }};
        }
        // Every write of a slot also leaves its value in the accumulator
        // `acc`, so the op after a single-result op can take that operand
        // from there (its accumulator form, chosen by the translator) and
        // not from memory.
        #[allow(unused_macros)]
        macro_rules! set {
            ($d s:expr, $d v:expr) => {{
                let v: u64 = $d v;
                let s = slot!($d s);
                // SAFETY: as for `get!`.
                unsafe { *$fp.add(s) = v }
                $acc = v;
            }};
        }
        // The operand an accumulator form takes from `acc` (`ACC` is set in
        // each handler or arm): the value the op before it wrote to that
        // slot, which debug builds check.
        #[allow(unused_macros)]
        macro_rules! acc_or {
            ($d s:expr) => {
                if ACC {
                    debug_assert_eq!($acc, get!($d s), "accumulator differs from slot {}", $d s);
                    $acc
                } else {
                    get!($d s)
                }
            };
        }
        #[allow(unused_macros)]
        macro_rules! get128 {
            ($d s:expr) => {
                (get!($d s) as u128) | ((get!($d s as usize + 1) as u128) << 64)
            };
        }
        #[allow(unused_macros)]
        macro_rules! set128 {
            ($d s:expr, $d v:expr) => {{
                let v: u128 = $d v;
                set!($d s, v as u64);
                set!($d s as usize + 1, (v >> 64) as u64);
            }};
        }
        // Leaves with a trap raised by this op.
        #[allow(unused_macros)]
        macro_rules! trap {
            ($d code:expr) => {
                return trap($cx, $d code, $ip)
            };
        }
        #[allow(unused_macros)]
        macro_rules! tri {
            ($d e:expr) => {
                match $d e {
                    Ok(v) => v,
                    Err(code) => trap!(code),
                }
            };
        }
        // Continues from the state an out-of-line slow path handed back.
        #[allow(unused_macros)]
        macro_rules! slow {
            ($d e:expr) => {
                match $d e {
                    Flow::Resume => {
                        // SAFETY: the slow path left `cx.base` at a frame
                        // reserved in the (possibly moved) value stack.
                        $fp = unsafe { (*$cx.es).stack.values.as_mut_ptr().add($cx.base) };
                        $mb = $cx.mb;
                        $ml = $cx.ml;
                    }
                    Flow::Caught => {
                        $ip = $cx.ip;
                        // SAFETY: as above.
                        $fp = unsafe { (*$cx.es).stack.values.as_mut_ptr().add($cx.base) };
                        $mb = $cx.mb;
                        $ml = $cx.ml;
                        next!()
                    }
                    Flow::Exit => return Exit::Trapped,
                }
            };
        }
        #[allow(unused_macros)]
        macro_rules! check_interrupt {
            () => {
                // SAFETY: the flag lives in the store's execution state,
                // which outlives the activation.
                if unsafe { (*$cx.interrupt).load(Ordering::Relaxed) } {
                    trap!(TrapCode::Interrupt)
                }
            };
        }
        // A taken branch; a backward one is a loop back-edge, where the
        // interrupt flag is polled.
        #[allow(unused_macros)]
        macro_rules! jump {
            ($d offset:expr) => {{
                let offset: i32 = $d offset;
                if offset < 0 {
                    check_interrupt!();
                }
                // SAFETY: branch targets are inside the function's code.
                $ip = unsafe { $ip.offset(offset as isize) };
            }};
        }
        #[allow(unused_macros)]
        macro_rules! charge {
            ($d n:expr) => {{
                let n = $d n as u64;
                // SAFETY: the execution state outlives the activation.
                let fuel = unsafe { &mut (*$cx.es).fuel };
                if *fuel < n {
                    trap!(TrapCode::OutOfFuel)
                }
                *fuel -= n;
            }};
        }
        // The code of defined function `$i` of `$inst`. If the module is
        // lazy and it is not translated yet, the op runs again after
        // translating it (or the activation ends if that fails).
        #[allow(unused_macros)]
        macro_rules! callee {
            ($d inst:expr, $d i:expr) => {{
                let (inst, i): (*const VmInstance, u32) = ($d inst, $d i);
                // SAFETY: `inst` is live and `i` a valid defined-function
                // index (validation).
                let cf = unsafe { translated(inst, i) };
                if cf.is_null() {
                    $cx.pending = Pending::Translate(inst, i);
                    retry!();
                }
                cf
            }};
        }
        // Runs the slow step `cx.pending` names, then this op again from
        // its start; the op must not have changed any state yet. Threaded
        // handlers reach the step by a tail call, so the call handlers'
        // fast paths make no call and save no registers.
        #[allow(unused_macros)]
        macro_rules! retry {
            () => {{
                // SAFETY: `ip` was advanced past this op on entry.
                let op_ip = unsafe { $ip.sub(1) };
                #[cfg(kiln_threaded)]
                {
                    // SAFETY: as for `next!`; `op_ip` is this op.
                    return unsafe { retry_after_pending(op_ip, $fp, $cx, $mb, $ml, $acc) };
                }
                #[cfg(not(kiln_threaded))]
                {
                    // SAFETY: `cx` describes the running frame; `ip` is past
                    // this op.
                    if !unsafe { run_pending($cx, $ip) } {
                        return Exit::Trapped;
                    }
                    // SAFETY: the frame at `cx.base` is reserved in the
                    // (possibly moved) value stack.
                    $fp = unsafe { (*$cx.es).stack.values.as_mut_ptr().add($cx.base) };
                    $ip = op_ip;
                    next!()
                }
            }};
        }
        // Enters wasm function `cf` of `ci` with its frame at slot `ab` of
        // the current one, recording the caller in the callee's call record.
        // `same = true` when `ci` is known to be the current instance.
        #[allow(unused_macros)]
        macro_rules! enter {
            ($d ci:expr, $d cf:expr, $d ab:expr, same = $d same:literal) => {{
                let ci: *const VmInstance = $d ci;
                let cf: *const InterpFunc = $d cf;
                let new_base = $cx.base + $d ab as usize;
                // SAFETY: `cf` and the execution state are live.
                let (end, len) = unsafe {
                    (new_base + (*cf).frame_slots as usize, (*$cx.es).stack.values.len())
                };
                if end > len {
                    $cx.pending = Pending::Grow(end);
                    retry!();
                }
                // SAFETY: the execution state, `cf` and `ci` are live; the
                // callee's frame (its record included) fits in the value
                // stack, checked above, and zeroing stays inside it.
                unsafe {
                    let stack = &mut (*$cx.es).stack;
                    $fp = stack.values.as_mut_ptr().add(new_base);
                    let rec = $fp.add((*cf).record_slot as usize);
                    *rec = $cx.func as usize as u64;
                    *rec.add(1) = $cx.inst as usize as u64;
                    *rec.add(2) = $ip as usize as u64;
                    *rec.add(3) = $cx.base as u64;
                    $cx.base = new_base;
                    init_locals($fp, cf);
                    $cx.func = cf;
                    $ip = (*cf).code.as_ptr();
                    // A function's first op never reads the accumulator.
                    $acc = 0;
                    if !$d same && ci != $cx.inst {
                        $cx.inst = ci;
                        ($mb, $ml) = mem0(ci);
                    }
                }
            }};
        }
        // Replaces the current frame with wasm function `cf` of `ci`, whose
        // arguments are at slot `ab`; the caller recorded in the current
        // frame becomes the new frame's.
        #[allow(unused_macros)]
        macro_rules! tail_enter {
            ($d ci:expr, $d cf:expr, $d ab:expr) => {{
                let ci: *const VmInstance = $d ci;
                let cf: *const InterpFunc = $d cf;
                // SAFETY: as for `enter!`; the record is read before the
                // arguments move (they may land on it), the arguments are
                // inside the current frame, and `ptr::copy` allows the
                // overlap.
                unsafe {
                    let old = $fp.add((*$cx.func).record_slot as usize);
                    let record = [*old, *old.add(1), *old.add(2), *old.add(3)];
                    let p = (*cf).param_slots as usize;
                    ptr::copy($fp.add($d ab as usize), $fp, p);
                    let stack = &mut (*$cx.es).stack;
                    tri!(stack.reserve($cx.base + (*cf).frame_slots as usize));
                    $fp = stack.values.as_mut_ptr().add($cx.base);
                    let rec = $fp.add((*cf).record_slot as usize);
                    for (i, v) in record.into_iter().enumerate() {
                        *rec.add(i) = v;
                    }
                    init_locals($fp, cf);
                    $cx.func = cf;
                    $ip = (*cf).code.as_ptr();
                    // A function's first op never reads the accumulator.
                    $acc = 0;
                    if ci != $cx.inst {
                        $cx.inst = ci;
                        ($mb, $ml) = mem0(ci);
                    }
                }
            }};
        }
        // Returns to the caller the current frame's call record names, or
        // leaves the activation if it names none.
        #[allow(unused_macros)]
        macro_rules! do_return {
            () => {{
                // SAFETY: every frame's record was written by the call that
                // entered it (or by `invoke` for the first), with live
                // functions and instances, and the caller's frame is still
                // reserved below this one.
                unsafe {
                    let rec = $fp.add((*$cx.func).record_slot as usize);
                    let func = *rec as usize as *const InterpFunc;
                    if func.is_null() {
                        return Exit::Returned;
                    }
                    let inst = *rec.add(1) as usize as *const VmInstance;
                    $ip = *rec.add(2) as usize as *const Op;
                    let base = *rec.add(3) as usize;
                    $cx.func = func;
                    // The caller's frame starts below this one in the same
                    // value stack, which has not moved since `fp` was derived.
                    $fp = $fp.sub($cx.base - base);
                    $cx.base = base;
                    // The op after a call never reads the accumulator.
                    $acc = 0;
                    if inst != $cx.inst {
                        $cx.inst = inst;
                        ($mb, $ml) = mem0(inst);
                    }
                }
            }};
        }
        // Calls host function `id` (`f`) with the arguments at slot `ab`.
        #[allow(unused_macros)]
        macro_rules! host_call {
            ($d f:expr, $d id:expr, $d ab:expr) => {
                // SAFETY: `f` is a live host funcref; `cx` describes the
                // calling frame.
                slow!(unsafe { call_host($cx, $d f, $d id, $d ab as usize, $ip) })
            };
        }
        // Calls the function reference `f` (any kind) with arguments at
        // slot `ab`; `tail` selects return-call semantics.
        #[allow(unused_macros)]
        macro_rules! call_ref {
            ($d f:expr, $d ab:expr, tail = false) => {{
                let f: *const VmFuncRef = $d f;
                // SAFETY: funcrefs in tables, globals and imports are live
                // for the store's life.
                match unsafe { (*f).kind } {
                    VmFuncKind::Wasm {
                        instance,
                        defined_index,
                    } => {
                        let cf: *const InterpFunc = callee!(instance, defined_index);
                        enter!(instance, cf, $d ab, same = false)
                    }
                    VmFuncKind::Host { id } => host_call!(f, id, $d ab),
                }
            }};
            ($d f:expr, $d ab:expr, tail = true) => {{
                let f: *const VmFuncRef = $d f;
                // SAFETY: as above.
                match unsafe { (*f).kind } {
                    VmFuncKind::Wasm {
                        instance,
                        defined_index,
                    } => {
                        let cf: *const InterpFunc = callee!(instance, defined_index);
                        tail_enter!(instance, cf, $d ab)
                    }
                    VmFuncKind::Host { id } => {
                        host_call!(f, id, $d ab);
                        // SAFETY: the results are inside the frame (the
                        // callee's results fit where its arguments were).
                        unsafe {
                            ptr::copy($fp.add($d ab as usize), $fp, (*f).result_slots as usize)
                        };
                        do_return!()
                    }
                }
            }};
        }
        // Resolves `call_indirect`'s callee, trapping as the spec says.
        #[allow(unused_macros)]
        macro_rules! indirect {
            ($d ty:expr, $d table:expr, $d index:expr) => {{
                // The index slot holds an `i32` zero-extended, or an `i64`
                // (table64): one 64-bit comparison serves both.
                let i = get!($d index);
                // SAFETY: the table index is valid (validation), tables are
                // live, and an element below the length is initialised.
                unsafe {
                    let t = bulk::table($cx.inst, $d table as u32);
                    if i >= u64::from((*t).len) {
                        trap!(TrapCode::UndefinedElement)
                    }
                    let r = *(*t).base.add(i as usize);
                    if r == 0 {
                        trap!(TrapCode::IndirectCallToNull)
                    }
                    let f = r as usize as *const VmFuncRef;
                    let want = (&(*$cx.inst).sigs)[$d ty as usize];
                    if (*f).sig != want && !signature_matches($cx, (*f).sig, want) {
                        trap!(TrapCode::BadSignature)
                    }
                    f
                }
            }};
        }

        // Numeric families: operands read before the result is written.
        #[allow(unused_macros)]
        macro_rules! i32op {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = get!($d b.lhs) as u32;
                let $d y = acc_or!($d b.rhs) as u32;
                set!($d b.dst, ($d e) as u32 as u64)
            }};
        }
        #[allow(unused_macros)]
        macro_rules! i32imm {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = acc_or!($d b.lhs) as u32;
                let $d y = $d b.imm as u32;
                set!($d b.dst, ($d e) as u32 as u64)
            }};
        }
        #[allow(unused_macros)]
        macro_rules! brcmp {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = get!($d b.lhs) as u32;
                let $d y = acc_or!($d b.rhs) as u32;
                if $d e {
                    jump!($d b.offset)
                } else {
                    jump!($d b.fallthrough as i32)
                }
            }};
        }
        #[allow(unused_macros)]
        macro_rules! brcmpi {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = acc_or!($d b.lhs) as u32;
                let $d y = $d b.imm as u32;
                if $d e {
                    jump!($d b.offset)
                } else {
                    jump!($d b.fallthrough as i32)
                }
            }};
        }
        #[allow(unused_macros)]
        macro_rules! i64op {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = get!($d b.lhs);
                let $d y = acc_or!($d b.rhs);
                set!($d b.dst, ($d e) as u64)
            }};
        }
        #[allow(unused_macros)]
        macro_rules! f32op {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = f32_of(get!($d b.lhs));
                let $d y = f32_of(acc_or!($d b.rhs));
                set!($d b.dst, f32_bits($d e))
            }};
        }
        #[allow(unused_macros)]
        macro_rules! f64op {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = f64_of(get!($d b.lhs));
                let $d y = f64_of(acc_or!($d b.rhs));
                set!($d b.dst, f64_bits($d e))
            }};
        }
        #[allow(unused_macros)]
        macro_rules! f32cmp {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = f32_of(get!($d b.lhs));
                let $d y = f32_of(acc_or!($d b.rhs));
                set!($d b.dst, ($d e) as u64)
            }};
        }
        #[allow(unused_macros)]
        macro_rules! f64cmp {
            ($d b:expr, |$d x:ident, $d y:ident| $d e:expr) => {{
                let $d x = f64_of(get!($d b.lhs));
                let $d y = f64_of(acc_or!($d b.rhs));
                set!($d b.dst, ($d e) as u64)
            }};
        }
        #[allow(unused_macros)]
        macro_rules! un {
            ($d u:expr, |$d x:ident| $d e:expr) => {{
                let $d x = acc_or!($d u.src);
                set!($d u.dst, $d e)
            }};
        }
        // Effective address of an `n`-byte access to the selected memory,
        // bounds-checked: the access `[a, a + n)` lies inside `[0, ml)`.
        // The address slot holds an `i32` zero-extended or a memory64
        // `i64`; the sum is checked for overflow, so one form serves both.
        #[allow(unused_macros)]
        macro_rules! ea {
            ($d addr:expr, $d offset:expr, $d n:expr) => {
                ea!(@value get!($d addr), $d offset, $d n)
            };
            (@value $d a:expr, $d offset:expr, $d n:expr) => {{
                let a: u64 = $d a;
                let end = match a.checked_add($d offset as u64 + $d n as u64) {
                    Some(end) if end <= $ml as u64 => end,
                    _ => trap!(TrapCode::MemoryOutOfBounds),
                };
                // SAFETY: `end <= ml`, so the `n` bytes from `end - n` are
                // inside the memory.
                unsafe { $mb.add((end - $d n as u64) as usize) }
            }};
        }
        #[allow(unused_macros)]
        macro_rules! load {
            ($d m:expr, $d n:literal, $d t:ty, |$d v:ident| $d e:expr) => {
                load!(@at acc_or!($d m.addr), $d m.offset, $d m.val, $d n, $d t, |$d v| $d e)
            };
            // From an address value already computed (an `i32`, zero-extended).
            (@at $d a:expr, $d offset:expr, $d val:expr, $d n:literal, $d t:ty, |$d v:ident| $d e:expr) => {{
                let p = ea!(@value $d a, $d offset, $d n);
                // SAFETY: `ea!` checked that `n` bytes at `p` are inside
                // the memory; memory bytes are always initialised.
                let $d v = <$d t>::from_le_bytes(unsafe { ptr::read_unaligned(p as *const [u8; $d n]) });
                set!($d val, $d e)
            }};
        }
        #[allow(unused_macros)]
        macro_rules! store {
            ($d m:expr, $d n:literal, $d t:ty) => {
                store!($d m.addr, $d m.offset, $d n, acc_or!($d m.val) as $d t)
            };
            ($d addr:expr, $d offset:expr, $d n:literal, $d v:expr) => {
                store!(@at get!($d addr), $d offset, $d n, $d v)
            };
            // To an address value already read.
            (@at $d a:expr, $d offset:expr, $d n:literal, $d v:expr) => {{
                let v = $d v;
                let p = ea!(@value $d a, $d offset, $d n);
                // SAFETY: as for `load!`; wasm code owns its memory's bytes
                // (no Rust reference to them is live while it runs).
                unsafe { ptr::write_unaligned(p as *mut [u8; $d n], v.to_le_bytes()) };
                // No op reads the accumulator after a store: dropping its
                // value frees its register for the body (else stores
                // push and pop a callee-saved one).
                $acc = 0;
            }};
        }
    };
}

handlers! { $ [ip, fp, cx, mb, ml, acc]
    // ---- control ----
    Unreachable => { trap!(TrapCode::UnreachableCodeReached) }
    Br { offset } => { jump!(offset) }
    BrIfNez {
        cond,
        fallthrough,
        offset,
    } / BrIfNezAcc {
        cond,
        fallthrough,
        offset,
    } => {
        if acc_or!(cond) as u32 != 0 {
            jump!(offset)
        } else {
            jump!(fallthrough as i32)
        }
    }
    BrIfEqz {
        cond,
        fallthrough,
        offset,
    } / BrIfEqzAcc {
        cond,
        fallthrough,
        offset,
    } => {
        if acc_or!(cond) as u32 == 0 {
            jump!(offset)
        } else {
            jump!(fallthrough as i32)
        }
    }
    BrTable { index, len } / BrTableAcc { index, len } => {
        let i = (acc_or!(index) as u32).min(len);
        // SAFETY: `len + 1` branch ops follow, and `i <= len`.
        ip = unsafe { ip.add(i as usize) };
    }
    Return => { do_return!() }
    Return1 { src } / Return1Acc { src } => {
        set!(0, acc_or!(src));
        do_return!()
    }
    Fuel { amount } => { charge!(amount) }
    LoopHead { fuel } => {
        check_interrupt!();
        if fuel != 0 {
            charge!(fuel);
        }
    }
    Call { func: f, base: ab } => {
        check_interrupt!();
        let cf: *const InterpFunc = callee!(cx.inst, f);
        enter!(cx.inst, cf, ab, same = true)
    }
    CallImport { func: f, base: ab } => {
        check_interrupt!();
        // SAFETY: the instance is live and `f` a valid import index.
        let r = unsafe { (&(*cx.inst).funcs)[f as usize] };
        call_ref!(r, ab, tail = false)
    }
    CallIndirect {
        ty,
        table,
        index,
        base: ab,
    } => {
        check_interrupt!();
        let r = indirect!(ty, table, index);
        call_ref!(r, ab, tail = false)
    }
    ReturnCall { func: f, base: ab } => {
        check_interrupt!();
        let cf: *const InterpFunc = callee!(cx.inst, f);
        tail_enter!(cx.inst, cf, ab)
    }
    ReturnCallImport { func: f, base: ab } => {
        check_interrupt!();
        // SAFETY: as for `CallImport`.
        let r = unsafe { (&(*cx.inst).funcs)[f as usize] };
        call_ref!(r, ab, tail = true)
    }
    ReturnCallIndirect {
        ty,
        table,
        index,
        base: ab,
    } => {
        check_interrupt!();
        let r = indirect!(ty, table, index);
        call_ref!(r, ab, tail = true)
    }

    CallRef { func: f, base: ab } => {
        check_interrupt!();
        let bits = get!(f);
        if bits == 0 {
            trap!(TrapCode::NullReference)
        }
        call_ref!(bits as usize as *const VmFuncRef, ab, tail = false)
    }
    ReturnCallRef { func: f, base: ab } => {
        check_interrupt!();
        let bits = get!(f);
        if bits == 0 {
            trap!(TrapCode::NullReference)
        }
        call_ref!(bits as usize as *const VmFuncRef, ab, tail = true)
    }
    Throw {
        tag,
        base: pb,
        slots,
    } => {
        if slots > 0 {
            // The payload's last slot is in the frame (checked in debug).
            slot!(pb as usize + slots as usize - 1);
        }
        // SAFETY: the tag index is valid and the payload slots are in the
        // frame; `cx` describes it.
        slow!(unsafe { throw_new(cx, tag, pb as usize, slots as usize, ip, mb, ml) })
    }
    ThrowRef { src } => {
        let exn = get!(src);
        if exn == 0 {
            trap!(TrapCode::NullReference)
        }
        // SAFETY: `cx` describes the running frame.
        slow!(unsafe { raise(cx, ip, mb, ml, exn) })
    }
    ExnRelease { slot } => { cx.host.release_exception(get!(slot)) }
    RefAsNonNull { src } => {
        if get!(src) == 0 {
            trap!(TrapCode::NullReference)
        }
    }

    // ---- data movement ----
    Copy(u) / CopyAcc(u) => { set!(u.dst, acc_or!(u.src)) }
    CopyPair { dst0, src0, dst1, src1 } => {
        set!(dst0, get!(src0));
        set!(dst1, get!(src1))
    }
    CopyBr { dst, src, offset } => {
        set!(dst, get!(src));
        jump!(offset)
    }
    Copy2(u) => {
        let lo = get!(u.src);
        let hi = get!(u.src as usize + 1);
        set!(u.dst, lo);
        set!(u.dst as usize + 1, hi);
    }
    Const32 { dst, value } => { set!(dst, value as u64) }
    Const64 { dst, value } => { set!(dst, value) }
    Select { dst, cond, a, b } => {
        let v = if get!(cond) as u32 != 0 {
            get!(a)
        } else {
            get!(b)
        };
        set!(dst, v)
    }
    Select2 { dst, cond, a, b } => {
        let v = if get!(cond) as u32 != 0 {
            get128!(a)
        } else {
            get128!(b)
        };
        set128!(dst, v)
    }
    GlobalGet { dst, global } => {
        // SAFETY: the instance and its globals are live; the index is
        // valid (validation).
        let v = unsafe { (*(&(*cx.inst).globals)[global as usize]).lo };
        set!(dst, v)
    }
    GlobalSet { src, global } => {
        let v = get!(src);
        // SAFETY: as for `GlobalGet`; validation allows only mutable
        // globals here, and no Rust reference to a global is live.
        unsafe { (*(&(*cx.inst).globals)[global as usize]).lo = v }
    }
    GlobalGet2 { dst, global } => {
        // SAFETY: as for `GlobalGet`.
        let (lo, hi) = unsafe {
            let g = (&(*cx.inst).globals)[global as usize];
            ((*g).lo, (*g).hi)
        };
        set!(dst, lo);
        set!(dst as usize + 1, hi);
    }
    GlobalSet2 { src, global } => {
        let (lo, hi) = (get!(src), get!(src as usize + 1));
        // SAFETY: as for `GlobalSet`.
        unsafe {
            let g = (&(*cx.inst).globals)[global as usize];
            (*g).lo = lo;
            (*g).hi = hi;
        }
    }
    RefFunc { dst, func: f } => {
        // SAFETY: the instance is live and `f` a valid function index.
        let r = unsafe { (&(*cx.inst).funcs)[f as usize] };
        set!(dst, r as usize as u64)
    }

    // ---- memory ----
    Load32(m) / Load32Acc(m) => { load!(m, 4, u32, |v| v as u64) }
    Load64(m) / Load64Acc(m) => { load!(m, 8, u64, |v| v) }
    Load8S32(m) / Load8S32Acc(m) => { load!(m, 1, i8, |v| v as i32 as u32 as u64) }
    Load8S64(m) / Load8S64Acc(m) => { load!(m, 1, i8, |v| v as i64 as u64) }
    Load8U(m) / Load8UAcc(m) => { load!(m, 1, u8, |v| v as u64) }
    Load16S32(m) / Load16S32Acc(m) => { load!(m, 2, i16, |v| v as i32 as u32 as u64) }
    Load16S64(m) / Load16S64Acc(m) => { load!(m, 2, i16, |v| v as i64 as u64) }
    Load16U(m) / Load16UAcc(m) => { load!(m, 2, u16, |v| v as u64) }
    Load32S64(m) / Load32S64Acc(m) => { load!(m, 4, i32, |v| v as i64 as u64) }
    Store8(m) / Store8Acc(m) => { store!(m, 1, u8) }
    Store16(m) / Store16Acc(m) => { store!(m, 2, u16) }
    Store32(m) / Store32Acc(m) => { store!(m, 4, u32) }
    Store64(m) / Store64Acc(m) => { store!(m, 8, u64) }
    Load32AddImm { val, addr, imm, offset } / Load32AddImmAcc { val, addr, imm, offset } => {
        load!(@at add32(acc_or!(addr), imm as u32), offset, val, 4, u32, |v| v as u64)
    }
    Load32Add { val, a, b, offset } => {
        load!(@at add32(get!(a), get!(b) as u32), offset, val, 4, u32, |v| v as u64)
    }
    Load32Index { val, base, idx, shift, offset } => {
        load!(@at index32(get!(base), get!(idx), shift), offset, val, 4, u32, |v| v as u64)
    }
    Load64AddImm { val, addr, imm, offset } / Load64AddImmAcc { val, addr, imm, offset } => {
        load!(@at add32(acc_or!(addr), imm as u32), offset, val, 8, u64, |v| v)
    }
    Load64Add { val, a, b, offset } => {
        load!(@at add32(get!(a), get!(b) as u32), offset, val, 8, u64, |v| v)
    }
    Load64Index { val, base, idx, shift, offset } => {
        load!(@at index32(get!(base), get!(idx), shift), offset, val, 8, u64, |v| v)
    }
    Load8UAddImm { val, addr, imm, offset } / Load8UAddImmAcc { val, addr, imm, offset } => {
        load!(@at add32(acc_or!(addr), imm as u32), offset, val, 1, u8, |v| v as u64)
    }
    Load8UAdd { val, a, b, offset } => {
        load!(@at add32(get!(a), get!(b) as u32), offset, val, 1, u8, |v| v as u64)
    }
    Load8UIndex { val, base, idx, shift, offset } => {
        load!(@at index32(get!(base), get!(idx), shift), offset, val, 1, u8, |v| v as u64)
    }
    Store8Imm { addr, value, offset } / Store8ImmAcc { addr, value, offset } => {
        store!(@at acc_or!(addr), offset, 1, value as u8) }
    Store16Imm { addr, value, offset } / Store16ImmAcc { addr, value, offset } => {
        store!(@at acc_or!(addr), offset, 2, value as u16) }
    Store32Imm { addr, value, offset } / Store32ImmAcc { addr, value, offset } => {
        store!(@at acc_or!(addr), offset, 4, value) }
    Store64Imm { addr, value, offset } / Store64ImmAcc { addr, value, offset } => {
        store!(@at acc_or!(addr), offset, 8, value as i64) }
    LoadMem { ty, mem, m } => {
        let (addr, offset) = (get!(m.addr), m.offset);
        // SAFETY: the memory index is valid; `bulk::load` bounds-checks.
        let v = tri!(unsafe {
            let (b, l) = memory(cx.inst, mem as u32);
            bulk::load(b, l, addr, offset, ty)
        });
        set!(m.val, v)
    }
    StoreMem { ty, mem, m } => {
        let (addr, offset, v) = (get!(m.addr), m.offset, get!(m.val));
        // SAFETY: as for `LoadMem`.
        tri!(unsafe {
            let (b, l) = memory(cx.inst, mem as u32);
            bulk::store(b, l, addr, offset, ty, v)
        })
    }
    AddAddress { dst, a, b } => {
        match get!(a).checked_add(get!(b)) {
            Some(sum) => set!(dst, sum),
            None => trap!(TrapCode::MemoryOutOfBounds),
        }
    }
    Add128(w) => {
        let a = u128::from(get!(w.a_lo)) | (u128::from(get!(w.a_hi)) << 64);
        let b = u128::from(get!(w.b_lo)) | (u128::from(get!(w.b_hi)) << 64);
        let r = a.wrapping_add(b);
        set!(w.lo, r as u64);
        set!(w.hi, (r >> 64) as u64)
    }
    Sub128(w) => {
        let a = u128::from(get!(w.a_lo)) | (u128::from(get!(w.a_hi)) << 64);
        let b = u128::from(get!(w.b_lo)) | (u128::from(get!(w.b_hi)) << 64);
        let r = a.wrapping_sub(b);
        set!(w.lo, r as u64);
        set!(w.hi, (r >> 64) as u64)
    }
    MulWideS(m) => {
        let r = i128::from(get!(m.a) as i64) * i128::from(get!(m.b) as i64);
        set!(m.lo, r as u64);
        set!(m.hi, (r >> 64) as u64)
    }
    MulWideU(m) => {
        let r = u128::from(get!(m.a)) * u128::from(get!(m.b));
        set!(m.lo, r as u64);
        set!(m.hi, (r >> 64) as u64)
    }
    SelectMemory { mem } => {
        // SAFETY: the memory index is valid (validation).
        (mb, ml) = unsafe { memory(cx.inst, mem as u32) }
    }
    MemorySize {
        mem,
        page_size_log2,
        dst,
    } => {
        // SAFETY: the memory index is valid and memories are live.
        let len = unsafe { (*(&(*cx.inst).memories)[mem as usize]).len };
        set!(dst, (len >> page_size_log2) as u64)
    }
    MemoryGrow { mem, wide, x } => {
        let delta = if wide {
            get!(x.src)
        } else {
            get!(x.src) as u32 as u64
        };
        let dst = slot!(x.dst);
        // SAFETY: the memory index is valid; `cx` describes the frame.
        slow!(unsafe {
            let m = (&(*cx.inst).memories)[mem as usize];
            memory_grow(cx, m, delta, wide, dst, ip)
        })
    }
    MemoryInit {
        mem,
        data,
        dst,
        src,
        len,
    } => {
        let (d, s, n) = (get!(dst), get!(src) as u32, get!(len) as u32);
        // SAFETY: memory and segment indices are valid (validation);
        // `bulk::memory_init` bounds-checks both ranges.
        tri!(unsafe {
            let (b, l) = if mem == 0 {
                (mb, ml)
            } else {
                memory(cx.inst, mem as u32)
            };
            bulk::memory_init(cx.inst, b, l, data, d, s, n)
        })
    }
    DataDrop { data } => {
        // SAFETY: the segment index is valid.
        unsafe { bulk::data_drop(cx.inst, data) }
    }
    MemoryCopy {
        dst_mem,
        src_mem,
        dst,
        src,
        len,
    } => {
        let (d, s, n) = (get!(dst), get!(src), get!(len));
        // SAFETY: the memory indices are valid; `bulk::memory_copy`
        // bounds-checks both ranges.
        tri!(unsafe {
            if dst_mem == 0 && src_mem == 0 {
                bulk::memory_copy((mb, ml), (mb, ml), d, s, n)
            } else {
                bulk::memory_copy(
                    memory(cx.inst, dst_mem as u32),
                    memory(cx.inst, src_mem as u32),
                    d,
                    s,
                    n,
                )
            }
        })
    }
    MemoryFill { mem, dst, val, len } => {
        let (d, v, n) = (get!(dst), get!(val) as u8, get!(len));
        // SAFETY: the memory index is valid; `bulk::memory_fill`
        // bounds-checks.
        tri!(unsafe {
            let (b, l) = if mem == 0 {
                (mb, ml)
            } else {
                memory(cx.inst, mem as u32)
            };
            bulk::memory_fill(b, l, d, v, n)
        })
    }

    // ---- GC objects (the work is in `gc`) ----
    RefI31 { dst, src } => { set!(dst, u64::from(kiln_environ::gc_layout::i31_ref(get!(src) as u32))) }
    I31Get { dst, src, signed } => {
        let r = get!(src) as u32;
        if r == 0 {
            trap!(TrapCode::NullReference)
        }
        set!(dst, u64::from(if signed { ((r as i32) >> 1) as u32 } else { r >> 1 }))
    }
    StructNew { dst, base, ty, default } => {
        let fields = if default {
            ptr::null()
        } else {
            // SAFETY: the field slots start at `base`, inside the frame.
            unsafe { fp.add(base as usize) }
        };
        // SAFETY: as above.
        let r = tri!(unsafe { gc::struct_new(cx, ty, fields, ip) });
        set!(dst, r)
    }
    StructGet { dst, obj, offset, kind, signed } => {
        let o = get!(obj) as u32;
        if o == 0 {
            trap!(TrapCode::NullReference)
        }
        // SAFETY: a non-null struct reference of the field's type names
        // an object with this field (validation, the translator's layout).
        let v = unsafe { gc::load(cx.inst, o + offset, kind, signed) };
        set!(dst, v as u64);
        if kind == kiln_environ::gc_layout::FieldKind::V128 as u8 {
            set!(dst as usize + 1, (v >> 64) as u64);
        }
    }
    StructSet { obj, val, offset, kind } => {
        let o = get!(obj) as u32;
        if o == 0 {
            trap!(TrapCode::NullReference)
        }
        let v = if kind == kiln_environ::gc_layout::FieldKind::V128 as u8 { get128!(val) } else { u128::from(get!(val)) };
        // SAFETY: as for `StructGet`.
        unsafe { gc::store(cx.inst, o + offset, kind, v) }
    }
    ArrayNew { dst, init, len, ty, default } => {
        let init = if default {
            ptr::null()
        } else {
            // SAFETY: the value's slots are inside the frame.
            unsafe { fp.add(init as usize) }
        };
        let len = get!(len) as u32 as u64;
        // SAFETY: as above.
        let r = tri!(unsafe { gc::array_new(cx, ty, init, len, ip) });
        set!(dst, r)
    }
    ArrayNewFixed { dst, base, ty, len } => {
        // SAFETY: the element slots start at `base`, inside the frame.
        let r = tri!(unsafe { gc::array_new_fixed(cx, ty, fp.add(base as usize), len, ip) });
        set!(dst, r)
    }
    ArrayNewSegment { dst, offset, len, ty, seg } => {
        let (o, n) = (get!(offset) as u32, get!(len) as u32);
        let r = tri!(gc::array_new_segment(cx, ty, seg, u64::from(o), u64::from(n), ip));
        set!(dst, r)
    }
    ArrayGet { dst, arr, index, kind, signed } => {
        let (a, i) = (get!(arr), get!(index) as u32);
        // SAFETY: a non-null array reference names an array of this
        // store with elements of `kind` (validation).
        let at = tri!(unsafe { gc::elems(cx.inst, a, u64::from(i), 1, kind) });
        // SAFETY: `elems` checked the index.
        let v = unsafe { gc::load(cx.inst, at, kind, signed) };
        set!(dst, v as u64);
        if kind == kiln_environ::gc_layout::FieldKind::V128 as u8 {
            set!(dst as usize + 1, (v >> 64) as u64);
        }
    }
    ArraySet { arr, index, val, kind } => {
        let (a, i) = (get!(arr), get!(index) as u32);
        // SAFETY: as for `ArrayGet`.
        let at = tri!(unsafe { gc::elems(cx.inst, a, u64::from(i), 1, kind) });
        let v = if kind == kiln_environ::gc_layout::FieldKind::V128 as u8 { get128!(val) } else { u128::from(get!(val)) };
        // SAFETY: `elems` checked the index.
        unsafe { gc::store(cx.inst, at, kind, v) }
    }
    ArrayLen { dst, arr } => {
        let a = get!(arr);
        // SAFETY: as for `ArrayGet`.
        let n = tri!(unsafe { gc::array_len(cx.inst, a) });
        set!(dst, n)
    }
    ArrayFill { arr, offset, val, len, kind } => {
        let v = if kind == kiln_environ::gc_layout::FieldKind::V128 as u8 { get128!(val) } else { u128::from(get!(val)) };
        let (a, o, n) = (get!(arr), get!(offset) as u32, get!(len) as u32);
        // SAFETY: as for `ArrayGet`; `array_fill` checks the range.
        tri!(unsafe { gc::array_fill(cx.inst, a, u64::from(o), v, u64::from(n), kind) })
    }
    ArrayCopy { dst, dst_offset, src, src_offset, len, kind } => {
        let (da, sa) = (get!(dst), get!(src));
        let (d, s, n) = (get!(dst_offset) as u32, get!(src_offset) as u32, get!(len) as u32);
        // SAFETY: as for `ArrayGet`; `array_copy` checks both ranges.
        tri!(unsafe { gc::array_copy(cx.inst, da, u64::from(d), sa, u64::from(s), u64::from(n), kind) })
    }
    ArrayInitSegment { arr, offset, src, len, kind, seg } => {
        let a = get!(arr);
        let (o, s, n) = (get!(offset) as u32, get!(src) as u32, get!(len) as u32);
        // SAFETY: as for `ArrayGet`; the ranges are checked.
        tri!(unsafe { gc::array_init_segment(cx.inst, a, u64::from(o), seg, u64::from(s), u64::from(n), kind) })
    }
    GcBarrier { obj, val, index, offset, at } => {
        let (o, v, i) = (get!(obj) as u32, get!(val) as u32, get!(index) as u32);
        // SAFETY: the object slot holds a non-null object of this store
        // (the store before this op trapped on null or a bad index).
        unsafe { gc::barrier(cx, o, v, i, offset, at) }
    }
    RefTest { dst, src, target, flags } => {
        let ok = gc::ref_test(cx, get!(src), target, flags);
        set!(dst, u64::from(ok))
    }
    RefCast { src, target, flags } => {
        if !gc::ref_test(cx, get!(src), target, flags) {
            trap!(TrapCode::CastFailure)
        }
    }

    // ---- tables ----
    TableGet { table, dst, index } => {
        let i = get!(index);
        // SAFETY: the table index is valid; `bulk::table_get` checks `i`.
        let v = tri!(unsafe { bulk::table_get(bulk::table(cx.inst, table), i) });
        set!(dst, v)
    }
    TableSet { table, index, val } => {
        let (i, v) = (get!(index), get!(val));
        // SAFETY: as for `TableGet`.
        tri!(unsafe { bulk::table_set(bulk::table(cx.inst, table), i, v) })
    }
    TableSize { table, dst } => {
        // SAFETY: the table index is valid and tables are live.
        let len = unsafe { (*bulk::table(cx.inst, table)).len };
        set!(dst, len as u64)
    }
    TableGrow {
        table,
        wide,
        dst,
        init,
        delta,
    } => {
        let (init, delta) = (get!(init), get!(delta));
        let dst = slot!(dst);
        // SAFETY: the table index is valid; `cx` describes the frame.
        slow!(unsafe {
            let t = bulk::table(cx.inst, table);
            table_grow(cx, t, delta, init, wide, dst, ip)
        })
    }
    TableFill {
        table,
        dst,
        val,
        len,
    } => {
        let (d, v, n) = (get!(dst), get!(val), get!(len));
        // SAFETY: the table index is valid; `bulk::table_fill` checks the
        // range.
        tri!(unsafe { bulk::table_fill(bulk::table(cx.inst, table), d, v, n) })
    }
    TableCopy {
        dst_table,
        src_table,
        dst,
        src,
        len,
    } => {
        let (d, s, n) = (get!(dst), get!(src), get!(len));
        // SAFETY: the table indices are valid; `bulk::table_copy` checks
        // both ranges.
        tri!(unsafe {
            let dt = bulk::table(cx.inst, dst_table as u32);
            let st = bulk::table(cx.inst, src_table as u32);
            bulk::table_copy(dt, st, d, s, n)
        })
    }
    TableInit {
        table,
        elem,
        dst,
        src,
        len,
    } => {
        let (d, s, n) = (get!(dst), get!(src) as u32, get!(len) as u32);
        // SAFETY: table and segment indices are valid;
        // `bulk::table_init` checks both ranges.
        tri!(unsafe {
            let t = bulk::table(cx.inst, table as u32);
            bulk::table_init(cx.inst, t, elem, d, s, n)
        })
    }
    ElemDrop { elem } => {
        // SAFETY: the segment index is valid.
        unsafe { bulk::elem_drop(cx.inst, elem) }
    }

    // ---- i32 ----
    I32Eqz(u) / I32EqzAcc(u) => { un!(u, |x| (x as u32 == 0) as u64) }
    I32Eq(b) / I32EqAcc(b) => { i32op!(b, |x, y| x == y) }
    I32Ne(b) / I32NeAcc(b) => { i32op!(b, |x, y| x != y) }
    I32LtS(b) / I32LtSAcc(b) => { i32op!(b, |x, y| (x as i32) < (y as i32)) }
    I32LtU(b) / I32LtUAcc(b) => { i32op!(b, |x, y| x < y) }
    I32GtS(b) / I32GtSAcc(b) => { i32op!(b, |x, y| (x as i32) > (y as i32)) }
    I32GtU(b) / I32GtUAcc(b) => { i32op!(b, |x, y| x > y) }
    I32LeS(b) / I32LeSAcc(b) => { i32op!(b, |x, y| (x as i32) <= (y as i32)) }
    I32LeU(b) / I32LeUAcc(b) => { i32op!(b, |x, y| x <= y) }
    I32GeS(b) / I32GeSAcc(b) => { i32op!(b, |x, y| (x as i32) >= (y as i32)) }
    I32GeU(b) / I32GeUAcc(b) => { i32op!(b, |x, y| x >= y) }
    I32Clz(u) / I32ClzAcc(u) => { un!(u, |x| (x as u32).leading_zeros() as u64) }
    I32Ctz(u) / I32CtzAcc(u) => { un!(u, |x| (x as u32).trailing_zeros() as u64) }
    I32Popcnt(u) / I32PopcntAcc(u) => { un!(u, |x| (x as u32).count_ones() as u64) }
    I32Add(b) / I32AddAcc(b) => { i32op!(b, |x, y| x.wrapping_add(y)) }
    I32Sub(b) / I32SubAcc(b) => { i32op!(b, |x, y| x.wrapping_sub(y)) }
    I32Mul(b) / I32MulAcc(b) => { i32op!(b, |x, y| x.wrapping_mul(y)) }
    I32DivS(b) / I32DivSAcc(b) => {
        let (x, y) = (get!(b.lhs) as i32, acc_or!(b.rhs) as i32);
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        if x == i32::MIN && y == -1 {
            trap!(TrapCode::IntegerOverflow)
        }
        set!(b.dst, (x / y) as u32 as u64)
    }
    I32DivU(b) / I32DivUAcc(b) => {
        let (x, y) = (get!(b.lhs) as u32, acc_or!(b.rhs) as u32);
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        set!(b.dst, (x / y) as u64)
    }
    I32RemS(b) / I32RemSAcc(b) => {
        let (x, y) = (get!(b.lhs) as i32, acc_or!(b.rhs) as i32);
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        set!(b.dst, x.wrapping_rem(y) as u32 as u64)
    }
    I32RemU(b) / I32RemUAcc(b) => {
        let (x, y) = (get!(b.lhs) as u32, acc_or!(b.rhs) as u32);
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        set!(b.dst, (x % y) as u64)
    }
    I32And(b) / I32AndAcc(b) => { i32op!(b, |x, y| x & y) }
    I32Or(b) / I32OrAcc(b) => { i32op!(b, |x, y| x | y) }
    I32Xor(b) / I32XorAcc(b) => { i32op!(b, |x, y| x ^ y) }
    I32Shl(b) / I32ShlAcc(b) => { i32op!(b, |x, y| x.wrapping_shl(y)) }
    I32ShrS(b) / I32ShrSAcc(b) => { i32op!(b, |x, y| (x as i32).wrapping_shr(y)) }
    I32ShrU(b) / I32ShrUAcc(b) => { i32op!(b, |x, y| x.wrapping_shr(y)) }
    I32Rotl(b) / I32RotlAcc(b) => { i32op!(b, |x, y| x.rotate_left(y & 31)) }
    I32Rotr(b) / I32RotrAcc(b) => { i32op!(b, |x, y| x.rotate_right(y & 31)) }

    // ---- immediate forms ----
    I32AddImm(b) / I32AddImmAcc(b) => { i32imm!(b, |x, y| x.wrapping_add(y)) }
    I32MulImm(b) / I32MulImmAcc(b) => { i32imm!(b, |x, y| x.wrapping_mul(y)) }
    I32AndImm(b) / I32AndImmAcc(b) => { i32imm!(b, |x, y| x & y) }
    I32OrImm(b) / I32OrImmAcc(b) => { i32imm!(b, |x, y| x | y) }
    I32XorImm(b) / I32XorImmAcc(b) => { i32imm!(b, |x, y| x ^ y) }
    I32ShlImm(b) / I32ShlImmAcc(b) => { i32imm!(b, |x, y| x.wrapping_shl(y)) }
    I32ShrSImm(b) / I32ShrSImmAcc(b) => { i32imm!(b, |x, y| (x as i32).wrapping_shr(y)) }
    I32ShrUImm(b) / I32ShrUImmAcc(b) => { i32imm!(b, |x, y| x.wrapping_shr(y)) }
    I32RotlImm(b) / I32RotlImmAcc(b) => { i32imm!(b, |x, y| x.rotate_left(y & 31)) }
    I32RotrImm(b) / I32RotrImmAcc(b) => { i32imm!(b, |x, y| x.rotate_right(y & 31)) }
    I32EqImm(b) / I32EqImmAcc(b) => { i32imm!(b, |x, y| x == y) }
    I32NeImm(b) / I32NeImmAcc(b) => { i32imm!(b, |x, y| x != y) }
    I32LtSImm(b) / I32LtSImmAcc(b) => { i32imm!(b, |x, y| (x as i32) < (y as i32)) }
    I32LtUImm(b) / I32LtUImmAcc(b) => { i32imm!(b, |x, y| x < y) }
    I32GtSImm(b) / I32GtSImmAcc(b) => { i32imm!(b, |x, y| (x as i32) > (y as i32)) }
    I32GtUImm(b) / I32GtUImmAcc(b) => { i32imm!(b, |x, y| x > y) }
    I32LeSImm(b) / I32LeSImmAcc(b) => { i32imm!(b, |x, y| (x as i32) <= (y as i32)) }
    I32LeUImm(b) / I32LeUImmAcc(b) => { i32imm!(b, |x, y| x <= y) }
    I32GeSImm(b) / I32GeSImmAcc(b) => { i32imm!(b, |x, y| (x as i32) >= (y as i32)) }
    I32GeUImm(b) / I32GeUImmAcc(b) => { i32imm!(b, |x, y| x >= y) }
    I64AddImm(b) / I64AddImmAcc(b) => { set!(b.dst, acc_or!(b.lhs).wrapping_add(b.imm as i64 as u64)) }
    I64AndImm { dst, lhs, imm } => { set!(dst, get!(lhs) & imm) }
    I64OrImm { dst, lhs, imm } => { set!(dst, get!(lhs) | imm) }
    I64XorImm { dst, lhs, imm } => { set!(dst, get!(lhs) ^ imm) }
    I64MulImm { dst, lhs, imm } => { set!(dst, get!(lhs).wrapping_mul(imm)) }
    I64ShlImm { dst, lhs, imm } => { set!(dst, get!(lhs).wrapping_shl(imm as u32)) }
    I64ShrSImm { dst, lhs, imm } => { set!(dst, (get!(lhs) as i64).wrapping_shr(imm as u32) as u64) }
    I64ShrUImm { dst, lhs, imm } => { set!(dst, get!(lhs).wrapping_shr(imm as u32)) }
    I64RotlImm { dst, lhs, imm } => { set!(dst, get!(lhs).rotate_left(imm as u32)) }
    I64RotrImm { dst, lhs, imm } => { set!(dst, get!(lhs).rotate_right(imm as u32)) }
    I32AddImmPair { dst0, src0, dst1, src1, imm0, imm1 } => {
        set!(dst0, add32(get!(src0), imm0 as i32 as u32));
        set!(dst1, add32(get!(src1), imm1 as i32 as u32))
    }
    I32AddShl { dst, base, idx, shift } => { set!(dst, index32(get!(base), get!(idx), shift)) }

    // ---- compare and branch ----
    BrI32Eq(b) / BrI32EqAcc(b) => { brcmp!(b, |x, y| x == y) }
    BrI32Ne(b) / BrI32NeAcc(b) => { brcmp!(b, |x, y| x != y) }
    BrI32LtS(b) / BrI32LtSAcc(b) => { brcmp!(b, |x, y| (x as i32) < (y as i32)) }
    BrI32LtU(b) / BrI32LtUAcc(b) => { brcmp!(b, |x, y| x < y) }
    BrI32GtS(b) / BrI32GtSAcc(b) => { brcmp!(b, |x, y| (x as i32) > (y as i32)) }
    BrI32GtU(b) / BrI32GtUAcc(b) => { brcmp!(b, |x, y| x > y) }
    BrI32LeS(b) / BrI32LeSAcc(b) => { brcmp!(b, |x, y| (x as i32) <= (y as i32)) }
    BrI32LeU(b) / BrI32LeUAcc(b) => { brcmp!(b, |x, y| x <= y) }
    BrI32GeS(b) / BrI32GeSAcc(b) => { brcmp!(b, |x, y| (x as i32) >= (y as i32)) }
    BrI32GeU(b) / BrI32GeUAcc(b) => { brcmp!(b, |x, y| x >= y) }
    BrI32EqImm(b) / BrI32EqImmAcc(b) => { brcmpi!(b, |x, y| x == y) }
    BrI32NeImm(b) / BrI32NeImmAcc(b) => { brcmpi!(b, |x, y| x != y) }
    BrI32LtSImm(b) / BrI32LtSImmAcc(b) => { brcmpi!(b, |x, y| (x as i32) < (y as i32)) }
    BrI32LtUImm(b) / BrI32LtUImmAcc(b) => { brcmpi!(b, |x, y| x < y) }
    BrI32GtSImm(b) / BrI32GtSImmAcc(b) => { brcmpi!(b, |x, y| (x as i32) > (y as i32)) }
    BrI32GtUImm(b) / BrI32GtUImmAcc(b) => { brcmpi!(b, |x, y| x > y) }
    BrI32LeSImm(b) / BrI32LeSImmAcc(b) => { brcmpi!(b, |x, y| (x as i32) <= (y as i32)) }
    BrI32LeUImm(b) / BrI32LeUImmAcc(b) => { brcmpi!(b, |x, y| x <= y) }
    BrI32GeSImm(b) / BrI32GeSImmAcc(b) => { brcmpi!(b, |x, y| (x as i32) >= (y as i32)) }
    BrI32GeUImm(b) / BrI32GeUImmAcc(b) => { brcmpi!(b, |x, y| x >= y) }

    // ---- i64 ----
    I64Eqz(u) / I64EqzAcc(u) => { un!(u, |x| (x == 0) as u64) }
    I64Eq(b) / I64EqAcc(b) => { i64op!(b, |x, y| x == y) }
    I64Ne(b) / I64NeAcc(b) => { i64op!(b, |x, y| x != y) }
    I64LtS(b) / I64LtSAcc(b) => { i64op!(b, |x, y| (x as i64) < (y as i64)) }
    I64LtU(b) / I64LtUAcc(b) => { i64op!(b, |x, y| x < y) }
    I64GtS(b) / I64GtSAcc(b) => { i64op!(b, |x, y| (x as i64) > (y as i64)) }
    I64GtU(b) / I64GtUAcc(b) => { i64op!(b, |x, y| x > y) }
    I64LeS(b) / I64LeSAcc(b) => { i64op!(b, |x, y| (x as i64) <= (y as i64)) }
    I64LeU(b) / I64LeUAcc(b) => { i64op!(b, |x, y| x <= y) }
    I64GeS(b) / I64GeSAcc(b) => { i64op!(b, |x, y| (x as i64) >= (y as i64)) }
    I64GeU(b) / I64GeUAcc(b) => { i64op!(b, |x, y| x >= y) }
    I64Clz(u) / I64ClzAcc(u) => { un!(u, |x| x.leading_zeros() as u64) }
    I64Ctz(u) / I64CtzAcc(u) => { un!(u, |x| x.trailing_zeros() as u64) }
    I64Popcnt(u) / I64PopcntAcc(u) => { un!(u, |x| x.count_ones() as u64) }
    I64Add(b) / I64AddAcc(b) => { i64op!(b, |x, y| x.wrapping_add(y)) }
    I64Sub(b) / I64SubAcc(b) => { i64op!(b, |x, y| x.wrapping_sub(y)) }
    I64Mul(b) / I64MulAcc(b) => { i64op!(b, |x, y| x.wrapping_mul(y)) }
    I64DivS(b) / I64DivSAcc(b) => {
        let (x, y) = (get!(b.lhs) as i64, acc_or!(b.rhs) as i64);
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        if x == i64::MIN && y == -1 {
            trap!(TrapCode::IntegerOverflow)
        }
        set!(b.dst, (x / y) as u64)
    }
    I64DivU(b) / I64DivUAcc(b) => {
        let (x, y) = (get!(b.lhs), acc_or!(b.rhs));
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        set!(b.dst, x / y)
    }
    I64RemS(b) / I64RemSAcc(b) => {
        let (x, y) = (get!(b.lhs) as i64, acc_or!(b.rhs) as i64);
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        set!(b.dst, x.wrapping_rem(y) as u64)
    }
    I64RemU(b) / I64RemUAcc(b) => {
        let (x, y) = (get!(b.lhs), acc_or!(b.rhs));
        if y == 0 {
            trap!(TrapCode::IntegerDivisionByZero)
        }
        set!(b.dst, x % y)
    }
    I64And(b) / I64AndAcc(b) => { i64op!(b, |x, y| x & y) }
    I64Or(b) / I64OrAcc(b) => { i64op!(b, |x, y| x | y) }
    I64Xor(b) / I64XorAcc(b) => { i64op!(b, |x, y| x ^ y) }
    I64Shl(b) / I64ShlAcc(b) => { i64op!(b, |x, y| x.wrapping_shl(y as u32)) }
    I64ShrS(b) / I64ShrSAcc(b) => { i64op!(b, |x, y| (x as i64).wrapping_shr(y as u32)) }
    I64ShrU(b) / I64ShrUAcc(b) => { i64op!(b, |x, y| x.wrapping_shr(y as u32)) }
    I64Rotl(b) / I64RotlAcc(b) => { i64op!(b, |x, y| x.rotate_left((y & 63) as u32)) }
    I64Rotr(b) / I64RotrAcc(b) => { i64op!(b, |x, y| x.rotate_right((y & 63) as u32)) }

    // ---- floats ----
    F32Eq(b) / F32EqAcc(b) => { f32cmp!(b, |x, y| x == y) }
    F32Ne(b) / F32NeAcc(b) => { f32cmp!(b, |x, y| x != y) }
    F32Lt(b) / F32LtAcc(b) => { f32cmp!(b, |x, y| x < y) }
    F32Gt(b) / F32GtAcc(b) => { f32cmp!(b, |x, y| x > y) }
    F32Le(b) / F32LeAcc(b) => { f32cmp!(b, |x, y| x <= y) }
    F32Ge(b) / F32GeAcc(b) => { f32cmp!(b, |x, y| x >= y) }
    F64Eq(b) / F64EqAcc(b) => { f64cmp!(b, |x, y| x == y) }
    F64Ne(b) / F64NeAcc(b) => { f64cmp!(b, |x, y| x != y) }
    F64Lt(b) / F64LtAcc(b) => { f64cmp!(b, |x, y| x < y) }
    F64Gt(b) / F64GtAcc(b) => { f64cmp!(b, |x, y| x > y) }
    F64Le(b) / F64LeAcc(b) => { f64cmp!(b, |x, y| x <= y) }
    F64Ge(b) / F64GeAcc(b) => { f64cmp!(b, |x, y| x >= y) }
    F32Abs(u) / F32AbsAcc(u) => { un!(u, |x| x & 0x7fff_ffff) }
    F32Neg(u) / F32NegAcc(u) => { un!(u, |x| (x ^ 0x8000_0000) & 0xffff_ffff) }
    F32Ceil(u) / F32CeilAcc(u) => { un!(u, |x| f32_bits(round32(f32_of(x), libm::ceilf))) }
    F32Floor(u) / F32FloorAcc(u) => { un!(u, |x| f32_bits(round32(f32_of(x), libm::floorf))) }
    F32Trunc(u) / F32TruncAcc(u) => { un!(u, |x| f32_bits(round32(f32_of(x), libm::truncf))) }
    F32Nearest(u) / F32NearestAcc(u) => { un!(u, |x| f32_bits(round32(f32_of(x), libm::rintf))) }
    F32Sqrt(u) / F32SqrtAcc(u) => { un!(u, |x| f32_bits(round32(f32_of(x), libm::sqrtf))) }
    F32Add(b) / F32AddAcc(b) => { f32op!(b, |x, y| x + y) }
    F32Sub(b) / F32SubAcc(b) => { f32op!(b, |x, y| x - y) }
    F32Mul(b) / F32MulAcc(b) => { f32op!(b, |x, y| x * y) }
    F32Div(b) / F32DivAcc(b) => { f32op!(b, |x, y| x / y) }
    F32Min(b) / F32MinAcc(b) => { f32op!(b, |x, y| fmin32(x, y)) }
    F32Max(b) / F32MaxAcc(b) => { f32op!(b, |x, y| fmax32(x, y)) }
    F32Copysign(b) / F32CopysignAcc(b) => {
        let (x, y) = (get!(b.lhs), acc_or!(b.rhs));
        set!(b.dst, (x & 0x7fff_ffff) | (y & 0x8000_0000))
    }
    F64Abs(u) / F64AbsAcc(u) => { un!(u, |x| x & 0x7fff_ffff_ffff_ffff) }
    F64Neg(u) / F64NegAcc(u) => { un!(u, |x| x ^ 0x8000_0000_0000_0000) }
    F64Ceil(u) / F64CeilAcc(u) => { un!(u, |x| f64_bits(round64(f64_of(x), libm::ceil))) }
    F64Floor(u) / F64FloorAcc(u) => { un!(u, |x| f64_bits(round64(f64_of(x), libm::floor))) }
    F64Trunc(u) / F64TruncAcc(u) => { un!(u, |x| f64_bits(round64(f64_of(x), libm::trunc))) }
    F64Nearest(u) / F64NearestAcc(u) => { un!(u, |x| f64_bits(round64(f64_of(x), libm::rint))) }
    F64Sqrt(u) / F64SqrtAcc(u) => { un!(u, |x| f64_bits(round64(f64_of(x), libm::sqrt))) }
    F64Add(b) / F64AddAcc(b) => { f64op!(b, |x, y| x + y) }
    F32MulAdd(m) / F32MulAddAcc(m) => {
        let product = f32_of(get!(m.a)) * f32_of(acc_or!(m.b));
        set!(m.dst, f32_bits(product + f32_of(get!(m.c))))
    }
    F64MulAdd(m) / F64MulAddAcc(m) => {
        let product = f64_of(get!(m.a)) * f64_of(acc_or!(m.b));
        set!(m.dst, f64_bits(product + f64_of(get!(m.c))))
    }
    F64Sub(b) / F64SubAcc(b) => { f64op!(b, |x, y| x - y) }
    F64Mul(b) / F64MulAcc(b) => { f64op!(b, |x, y| x * y) }
    F64Div(b) / F64DivAcc(b) => { f64op!(b, |x, y| x / y) }
    F64Min(b) / F64MinAcc(b) => { f64op!(b, |x, y| fmin64(x, y)) }
    F64Max(b) / F64MaxAcc(b) => { f64op!(b, |x, y| fmax64(x, y)) }
    F64Copysign(b) / F64CopysignAcc(b) => {
        let (x, y) = (get!(b.lhs), acc_or!(b.rhs));
        const SIGN: u64 = 0x8000_0000_0000_0000;
        set!(b.dst, (x & !SIGN) | (y & SIGN))
    }

    // ---- conversions ----
    I32WrapI64(u) / I32WrapI64Acc(u) => { un!(u, |x| x as u32 as u64) }
    I32TruncF32S(u) / I32TruncF32SAcc(u) => {
        let v = tri!(trunc_i32_s(f32_of(acc_or!(u.src)) as f64));
        set!(u.dst, v)
    }
    I32TruncF32U(u) / I32TruncF32UAcc(u) => {
        let v = tri!(trunc_i32_u(f32_of(acc_or!(u.src)) as f64));
        set!(u.dst, v)
    }
    I32TruncF64S(u) / I32TruncF64SAcc(u) => {
        let v = tri!(trunc_i32_s(f64_of(acc_or!(u.src))));
        set!(u.dst, v)
    }
    I32TruncF64U(u) / I32TruncF64UAcc(u) => {
        let v = tri!(trunc_i32_u(f64_of(acc_or!(u.src))));
        set!(u.dst, v)
    }
    I64ExtendI32S(u) / I64ExtendI32SAcc(u) => { un!(u, |x| x as u32 as i32 as i64 as u64) }
    I64TruncF32S(u) / I64TruncF32SAcc(u) => {
        let v = tri!(trunc_i64_s(f32_of(acc_or!(u.src)) as f64));
        set!(u.dst, v)
    }
    I64TruncF32U(u) / I64TruncF32UAcc(u) => {
        let v = tri!(trunc_i64_u(f32_of(acc_or!(u.src)) as f64));
        set!(u.dst, v)
    }
    I64TruncF64S(u) / I64TruncF64SAcc(u) => {
        let v = tri!(trunc_i64_s(f64_of(acc_or!(u.src))));
        set!(u.dst, v)
    }
    I64TruncF64U(u) / I64TruncF64UAcc(u) => {
        let v = tri!(trunc_i64_u(f64_of(acc_or!(u.src))));
        set!(u.dst, v)
    }
    F32ConvertI32S(u) / F32ConvertI32SAcc(u) => { un!(u, |x| f32_bits(x as u32 as i32 as f32)) }
    F32ConvertI32U(u) / F32ConvertI32UAcc(u) => { un!(u, |x| f32_bits(x as u32 as f32)) }
    F32ConvertI64S(u) / F32ConvertI64SAcc(u) => { un!(u, |x| f32_bits(x as i64 as f32)) }
    F32ConvertI64U(u) / F32ConvertI64UAcc(u) => { un!(u, |x| f32_bits(x as f32)) }
    F32DemoteF64(u) / F32DemoteF64Acc(u) => { un!(u, |x| f32_bits(f64_of(x) as f32)) }
    F64ConvertI32S(u) / F64ConvertI32SAcc(u) => { un!(u, |x| f64_bits(x as u32 as i32 as f64)) }
    F64ConvertI32U(u) / F64ConvertI32UAcc(u) => { un!(u, |x| f64_bits(x as u32 as f64)) }
    F64ConvertI64S(u) / F64ConvertI64SAcc(u) => { un!(u, |x| f64_bits(x as i64 as f64)) }
    F64ConvertI64U(u) / F64ConvertI64UAcc(u) => { un!(u, |x| f64_bits(x as f64)) }
    F64PromoteF32(u) / F64PromoteF32Acc(u) => { un!(u, |x| f64_bits(f32_of(x) as f64)) }
    I32Extend8S(u) / I32Extend8SAcc(u) => { un!(u, |x| x as u8 as i8 as i32 as u32 as u64) }
    I32Extend16S(u) / I32Extend16SAcc(u) => { un!(u, |x| x as u16 as i16 as i32 as u32 as u64) }
    I64Extend8S(u) / I64Extend8SAcc(u) => { un!(u, |x| x as u8 as i8 as i64 as u64) }
    I64Extend16S(u) / I64Extend16SAcc(u) => { un!(u, |x| x as u16 as i16 as i64 as u64) }
    I64Extend32S(u) / I64Extend32SAcc(u) => { un!(u, |x| x as u32 as i32 as i64 as u64) }
    // Rust's float-to-int `as` saturates and maps NaN to 0,
    // which is exactly `trunc_sat`.
    I32TruncSatF32S(u) / I32TruncSatF32SAcc(u) => { un!(u, |x| f32_of(x) as i32 as u32 as u64) }
    I32TruncSatF32U(u) / I32TruncSatF32UAcc(u) => { un!(u, |x| f32_of(x) as u32 as u64) }
    I32TruncSatF64S(u) / I32TruncSatF64SAcc(u) => { un!(u, |x| f64_of(x) as i32 as u32 as u64) }
    I32TruncSatF64U(u) / I32TruncSatF64UAcc(u) => { un!(u, |x| f64_of(x) as u32 as u64) }
    I64TruncSatF32S(u) / I64TruncSatF32SAcc(u) => { un!(u, |x| f32_of(x) as i64 as u64) }
    I64TruncSatF32U(u) / I64TruncSatF32UAcc(u) => { un!(u, |x| f32_of(x) as u64) }
    I64TruncSatF64S(u) / I64TruncSatF64SAcc(u) => { un!(u, |x| f64_of(x) as i64 as u64) }
    I64TruncSatF64U(u) / I64TruncSatF64UAcc(u) => { un!(u, |x| f64_of(x) as u64) }

    // ---- SIMD ----
    #[cfg(feature = "simd")]
    V128Unary { op, dst, a } => { set128!(dst, op.eval(get128!(a))) }
    #[cfg(feature = "simd")]
    V128Binary { op, dst, a, b } => {
        let (x, y) = (get128!(a), get128!(b));
        set128!(dst, op.eval(x, y))
    }
    #[cfg(feature = "simd")]
    V128Ternary { op, dst, a, b, c } => {
        let (x, y, z) = (get128!(a), get128!(b), get128!(c));
        set128!(dst, op.eval(x, y, z))
    }
    #[cfg(feature = "simd")]
    V128Shift { op, dst, a, b } => {
        let (x, n) = (get128!(a), get!(b) as u32);
        set128!(dst, op.eval(x, n))
    }
    #[cfg(feature = "simd")]
    V128Test { op, dst, a } => { set!(dst, op.eval(get128!(a)) as u64) }
    #[cfg(feature = "simd")]
    V128Splat { op, dst, a } => { set128!(dst, op.eval(get!(a))) }
    #[cfg(feature = "simd")]
    V128Extract { op, lane, dst, a } => { set!(dst, op.eval(get128!(a), lane)) }
    #[cfg(feature = "simd")]
    V128Replace {
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
    V128Shuffle { dst, a, b, idx } => {
        let (x, y) = (get128!(a), get128!(b));
        // SAFETY: the running function is live and `idx` indexes its
        // shuffle masks (the translator made both).
        let lanes = unsafe { &(&(*cx.func).shuffles)[idx as usize] };
        set128!(dst, simd::shuffle(x, y, lanes))
    }
    #[cfg(feature = "simd")]
    V128Load {
        kind,
        dst,
        addr,
        offset,
    } => {
        let n = kind.bytes() as usize;
        let p = ea!(addr, offset, n);
        // SAFETY: `ea!` checked the `n` bytes at `p`.
        let raw = unsafe { read_le(p, n) };
        set128!(dst, kind.finish(raw))
    }
    #[cfg(feature = "simd")]
    V128LoadLane {
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
        // SAFETY: `ea!` checked the `n` bytes at `p`.
        let raw = unsafe { read_le(p, n) } as u64;
        set128!(dst, simd::load_lane(width, v, lane, raw))
    }
    InitConsts => {
        let f = cx.func;
        // SAFETY: the running function is live.
        let (first, consts) = unsafe { (((*f).param_slots + (*f).local_slots) as usize, &(*f).consts) };
        if let Some(last) = consts.len().checked_sub(1) {
            slot!(first + last);
        }
        // SAFETY: the pool's slots follow the locals inside the frame (the
        // translator reserves them), so every write is inside the
        // reserved frame.
        unsafe {
            let pool = fp.add(first);
            for (i, &k) in consts.iter().enumerate() {
                *pool.add(i) = k;
            }
        }
    }
    #[cfg(feature = "simd")]
    V128Store { addr, src, offset } => {
        let v = get128!(src);
        let p = ea!(addr, offset, 16);
        // SAFETY: `ea!` checked the 16 bytes at `p`; wasm owns them.
        unsafe { ptr::write_unaligned(p as *mut [u8; 16], v.to_le_bytes()) };
    }
    #[cfg(feature = "simd")]
    V128StoreLane {
        width,
        lane,
        addr,
        src,
        offset,
    } => {
        let n = width.bytes() as usize;
        let v = simd::store_lane(width, get128!(src), lane);
        let p = ea!(addr, offset, n);
        // SAFETY: `ea!` checked the `n` bytes at `p`; wasm owns them.
        unsafe { write_le(p, v, n) };
    }
}

/// The `n` bytes (16, 8, 4, 2 or 1) at `p` as a little-endian number. Each
/// width is one unaligned load: no buffer whose address could escape a
/// threaded handler's frame (see `dispatch`), and no `memcpy` call.
///
/// # Safety
/// `p..p+n` is readable.
#[cfg(feature = "simd")]
#[inline(always)]
unsafe fn read_le(p: *const u8, n: usize) -> u128 {
    // SAFETY: per the contract, each read covers exactly `n` bytes.
    unsafe {
        match n {
            16 => u128::from_le_bytes(ptr::read_unaligned(p.cast::<[u8; 16]>())),
            8 => u128::from(u64::from_le_bytes(ptr::read_unaligned(p.cast::<[u8; 8]>()))),
            4 => u128::from(u32::from_le_bytes(ptr::read_unaligned(p.cast::<[u8; 4]>()))),
            2 => u128::from(u16::from_le_bytes(ptr::read_unaligned(p.cast::<[u8; 2]>()))),
            _ => u128::from(*p),
        }
    }
}

/// Writes the low `n` bytes (8, 4, 2 or 1) of `v` to `p`, little-endian,
/// as [`read_le`] reads.
///
/// # Safety
/// `p..p+n` is writable.
#[cfg(feature = "simd")]
#[inline(always)]
unsafe fn write_le(p: *mut u8, v: u64, n: usize) {
    // SAFETY: per the contract, each write covers exactly `n` bytes.
    unsafe {
        match n {
            8 => ptr::write_unaligned(p.cast::<[u8; 8]>(), v.to_le_bytes()),
            4 => ptr::write_unaligned(p.cast::<[u8; 4]>(), (v as u32).to_le_bytes()),
            2 => ptr::write_unaligned(p.cast::<[u8; 2]>(), (v as u16).to_le_bytes()),
            _ => *p = v as u8,
        }
    }
}

/// Runs the slow step `cx.pending` names (translating a callee, growing
/// the value stack), then the op at `ip` again from its start: the
/// threaded call handlers' way out of their fast path, reached by a tail
/// call.
///
/// # Safety
/// As for `dispatch`: `ip` is the op that set `cx.pending`, in the code of
/// `cx.func`, whose frame starts at `fp`.
#[cfg(kiln_threaded)]
#[cold]
#[inline(never)]
unsafe fn retry_after_pending(
    ip: *const Op,
    _stale_fp: *mut u64,
    cx: &mut Cx<'_>,
    mb: *mut u8,
    ml: usize,
    acc: u64,
) -> Exit {
    // SAFETY: per the contract; `ip + 1` is past the op, as slow paths
    // expect, and the frame is re-derived from the (possibly moved) stack.
    unsafe {
        if !super::run::run_pending(cx, ip.add(1)) {
            return Exit::Trapped;
        }
        let fp = (*cx.es).stack.values.as_mut_ptr().add(cx.base);
        dispatch(ip, fp, cx, mb, ml, acc)
    }
}

/// Whether a function whose signature id is `have` may be called through
/// `call_indirect` of type `want`, once the ids differed: only when `have`
/// declares `want` among its supertypes. Out of line, so the fast path
/// (equal ids) stays one compare.
#[cold]
#[inline(never)]
fn signature_matches(cx: &Cx<'_>, have: u32, want: u32) -> bool {
    cx.host.is_subtype(have, want)
}
