//! The builtins compiled code calls (`kiln_environ::Builtin`), over the
//! store's data, and [`enter`], the rule every call from wasm into the
//! runtime follows.
//!
//! Each builtin is an `extern "C"` function generic over the store's data
//! type `T` (growth consults the store's `ResourceLimiter`, which lives in
//! `T`), so each store's builtin table is [`table::<T>`].
//!
//! Indices arrive from validated code, but every lookup is still checked:
//! a bad index becomes a trap, never a panic across wasm frames.

use super::call::{ValRaw, raw_to_slots, slots_to_raw};
use super::gc_builtins as gc;
use super::vmctx::{Pending, header};
use crate::prelude::*;
use crate::runtime::store_data::StoreInner;
use crate::runtime::sys::raise_trap;
use core::sync::atomic::Ordering::Relaxed;
use kiln_environ::{Builtin, TrapCode};

/// Why a call from wasm into the runtime does not return normally.
pub(crate) enum Exit {
    /// A wasm trap.
    Trap(TrapCode),
    /// A host error (from a host function or the resource limiter),
    /// returned to the embedder as is.
    Host(anyhow::Error),
    /// An exception a handler takes: continue at `pc` of the wasm frame
    /// `sp`/`fp`, the exception's bits in the first payload register.
    Resume {
        pc: usize,
        sp: usize,
        fp: usize,
        exn: u64,
    },
}

/// Runs `f` on the store running wasm and the calling instance (both found
/// through `vmctx`'s header). On `Err` or a panic it parks the error or
/// panic in the store's native state and unwinds to the innermost entry
/// from the host with `raise_trap`.
///
/// # Safety
///
/// `vmctx` must be the live `VMContext` of the calling instance, in a
/// store that is running wasm (its native state points at the store).
/// The frames between this call and the entry from the host must own
/// nothing that needs dropping (true of compiled code and of the
/// `extern "C"` builtins here, which only pass plain values).
pub(crate) unsafe fn enter<T, R>(
    vmctx: *mut u8,
    f: impl FnOnce(&mut StoreInner<T>, u32) -> Result<R, Exit>,
) -> R {
    // SAFETY: per the contract, the header of `vmctx` names the store's
    // native state, whose `store` is the running `StoreInner<T>`; nothing
    // else uses it while wasm runs (the host's `&mut` is parked in
    // `call_native`).
    let (native, instance) = unsafe { header(vmctx) };
    let outcome = {
        // SAFETY: as above.
        let store = unsafe { &mut *(*native).store.cast::<StoreInner<T>>() };
        // Without `std` a panic cannot unwind (the embedder's panic
        // handler ends the program), so there is nothing to catch.
        #[cfg(feature = "std")]
        {
            std::panic::catch_unwind(core::panic::AssertUnwindSafe(move || f(store, instance)))
        }
        #[cfg(not(feature = "std"))]
        {
            Ok::<_, core::convert::Infallible>(f(store, instance))
        }
    };
    let (code, pending) = match outcome {
        Ok(Ok(r)) => return r,
        Ok(Err(Exit::Resume { pc, sp, fp, exn })) => {
            // SAFETY: the unwinder found `pc`, `sp` and `fp` walking the
            // frame chain of the innermost activation from its last exit;
            // the frames above it are this builtin's, the stub's or the
            // trampoline's and wasm's, which own nothing (the closure's
            // values were dropped when it returned).
            match unsafe { crate::runtime::sys::resume_handler(pc, sp, fp, exn as usize) } {
                Ok(never) => match never {},
                Err(_) => abort(),
            }
        }
        Ok(Err(Exit::Trap(code))) => (code, None),
        // The code is not reported: `call_native` returns the pending
        // error instead.
        Ok(Err(Exit::Host(err))) => (TrapCode::UnreachableCodeReached, Some(Pending::Error(err))),
        #[cfg(feature = "std")]
        Err(payload) => (
            TrapCode::UnreachableCodeReached,
            Some(Pending::Panic(payload)),
        ),
        #[cfg(not(feature = "std"))]
        Err(never) => match never {},
    };
    // SAFETY: the native state is alive (above); no reference to it is
    // held here. The frames from the stub or trampoline that called us (it
    // recorded its frame as the last exit) up to the innermost entry are
    // compiled code with frame pointers, still live below us.
    unsafe {
        if pending.is_some() {
            (*native).pending = pending;
        }
        let limits = &(*native).limits;
        let exit_fp = limits.last_wasm_exit_fp.load(Relaxed);
        let entry_fp = limits.last_wasm_entry_fp.load(Relaxed);
        (*native).trace.walk(exit_fp, entry_fp);
    }
    // Everything this frame owned has been moved into the store; what is
    // left (`code`, the pointers) needs no drop, so abandoning the frame is
    // sound.
    // SAFETY: see the function's contract.
    match unsafe { raise_trap(code) } {
        Ok(never) => match never {},
        // No activation: compiled code was called outside `call_wasm`,
        // which the runtime never does. There is nowhere to return to.
        Err(_) => abort(),
    }
}

/// Ends the process: there is no frame to return to.
fn abort() -> ! {
    #[cfg(feature = "std")]
    std::process::abort();
    #[cfg(not(feature = "std"))]
    panic!("a builtin was called outside any wasm activation");
}

fn oob_memory() -> Exit {
    Exit::Trap(TrapCode::MemoryOutOfBounds)
}

fn oob_table() -> Exit {
    Exit::Trap(TrapCode::TableOutOfBounds)
}

/// `start..start + len` if it lies within `0..limit`.
fn range(start: u64, len: u64, limit: usize) -> Option<core::ops::Range<usize>> {
    let start = usize::try_from(start).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= limit).then_some(start..end)
}

impl<T> StoreInner<T> {
    /// Store index of memory `index` of instance `instance`.
    fn memory_of(&self, instance: u32, index: u32) -> Result<u32, Exit> {
        let data = self.opaque.instance(instance);
        data.memories
            .get(index as usize)
            .copied()
            .ok_or_else(oob_memory)
    }

    /// Store index of table `index` of instance `instance`.
    fn table_of(&self, instance: u32, index: u32) -> Result<u32, Exit> {
        let data = self.opaque.instance(instance);
        data.tables
            .get(index as usize)
            .copied()
            .ok_or_else(oob_table)
    }
}

unsafe extern "C" fn memory_grow<T>(vmctx: *mut u8, memory: u32, delta: u64) -> i64 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<i64, Exit> {
        let m = store.memory_of(instance, memory)?;
        match store.grow_memory(m, delta) {
            Ok(Some(old)) => Ok(old as i64),
            Ok(None) => Ok(-1),
            Err(e) => Err(Exit::Host(e)),
        }
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn memory_fill<T>(vmctx: *mut u8, memory: u32, dst: u64, byte: u32, len: u64) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let m = store.memory_of(instance, memory)?;
        let bytes = store.opaque.memory_mut(m).data_mut();
        let r = range(dst, len, bytes.len()).ok_or_else(oob_memory)?;
        bytes[r].fill(byte as u8);
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn memory_copy<T>(
    vmctx: *mut u8,
    dst_memory: u32,
    src_memory: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let dm = store.memory_of(instance, dst_memory)?;
        let sm = store.memory_of(instance, src_memory)?;
        let src_len = store.opaque.memory(sm).data().len();
        let s = range(src, len, src_len).ok_or_else(oob_memory)?;
        let dst_len = store.opaque.memory(dm).data().len();
        let d = range(dst, len, dst_len).ok_or_else(oob_memory)?;
        if dm == sm {
            store
                .opaque
                .memory_mut(dm)
                .data_mut()
                .copy_within(s, d.start);
        } else {
            let from = store.opaque.memory(sm).data().as_ptr();
            let to = store.opaque.memory_mut(dm).data_mut().as_mut_ptr();
            // SAFETY: both ranges were checked against their memories'
            // lengths; two distinct memories never overlap.
            unsafe { core::ptr::copy_nonoverlapping(from.add(s.start), to.add(d.start), s.len()) };
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn memory_init<T>(
    vmctx: *mut u8,
    memory: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let m = store.memory_of(instance, memory)?;
        let Some(&(ptr, seg_len)) = store
            .opaque
            .instance(instance)
            .vm
            .get()
            .datas
            .get(data as usize)
        else {
            return Err(oob_memory());
        };
        let s = range(u64::from(src), u64::from(len), seg_len).ok_or_else(oob_memory)?;
        let bytes = store.opaque.memory_mut(m).data_mut();
        let d = range(dst, u64::from(len), bytes.len()).ok_or_else(oob_memory)?;
        // SAFETY: a segment's `(ptr, len)` points into the module's
        // bytes, kept alive by the instance's `Module`; a dropped
        // segment has length 0.
        let seg = unsafe { core::slice::from_raw_parts(ptr, seg_len) };
        bytes[d].copy_from_slice(&seg[s]);
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn data_drop<T>(vmctx: *mut u8, data: u32) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let datas = &mut store.opaque.instance_mut(instance).vm.get_mut().datas;
        if let Some(d) = datas.get_mut(data as usize) {
            d.1 = 0;
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn table_grow<T>(vmctx: *mut u8, table: u32, delta: u64, init: i64) -> i64 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<i64, Exit> {
        let t = store.table_of(instance, table)?;
        match store.grow_table(t, delta, init as u64) {
            Ok(Some(old)) => Ok(old as i64),
            Ok(None) => Ok(-1),
            Err(e) => Err(Exit::Host(e)),
        }
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn table_fill<T>(vmctx: *mut u8, table: u32, dst: u64, bits: i64, len: u64) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let t = store.table_of(instance, table)?;
        let elems = store.opaque.table_mut(t).elems_mut();
        let r = range(dst, len, elems.len()).ok_or_else(oob_table)?;
        elems[r].fill(bits as u64);
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn table_copy<T>(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let dt = store.table_of(instance, dst_table)?;
        let st = store.table_of(instance, src_table)?;
        let s = range(src, len, store.opaque.table(st).elems().len()).ok_or_else(oob_table)?;
        let d = range(dst, len, store.opaque.table(dt).elems().len()).ok_or_else(oob_table)?;
        if dt == st {
            store
                .opaque
                .table_mut(dt)
                .elems_mut()
                .copy_within(s, d.start);
        } else {
            let items = store.opaque.table(st).elems()[s].to_vec();
            store.opaque.table_mut(dt).elems_mut()[d].copy_from_slice(&items);
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn table_init<T>(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let t = store.table_of(instance, table)?;
        let elems = &store.opaque.instance(instance).vm.get().elems;
        let seg = elems.get(elem as usize).map_or(&[][..], |e| &e[..]);
        let s = range(u64::from(src), u64::from(len), seg.len()).ok_or_else(oob_table)?;
        let items = seg[s].to_vec();
        let dst_elems = store.opaque.table_mut(t).elems_mut();
        let d = range(dst, u64::from(len), dst_elems.len()).ok_or_else(oob_table)?;
        dst_elems[d].copy_from_slice(&items);
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn throw<T>(vmctx: *mut u8, tag: u32, payload: *const ValRaw) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let id = *store
            .opaque
            .instance(instance)
            .tags
            .get(tag as usize)
            .ok_or(Exit::Trap(TrapCode::UnreachableCodeReached))?;
        let ty = store.opaque.tag_type(id).clone();
        let n = ty.param_slice().len();
        let mut slots =
            vec![0u64; crate::runtime::store_data::slot_count(ty.param_slice()) as usize];
        // SAFETY: compiled code passes a buffer of one `ValRaw` per
        // parameter of the tag.
        let values = unsafe { core::slice::from_raw_parts(payload, n) };
        raw_to_slots(ty.param_slice(), values, &mut slots);
        let exn = store.opaque.exns.alloc(id, &slots);
        Err(store.opaque.native_throw(exn))
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn throw_ref<T>(vmctx: *mut u8, exn: u64) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        if exn == 0 {
            return Err(Exit::Trap(TrapCode::NullReference));
        }
        Err(store.opaque.native_throw(exn))
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn exn_tag_is<T>(vmctx: *mut u8, exn: u64, tag: u32) -> u32 {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<u32, Exit> {
        let want = store
            .opaque
            .instance(instance)
            .tags
            .get(tag as usize)
            .copied();
        Ok(u32::from(Some(store.opaque.exns.get(exn).tag) == want))
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn is_subtype<T>(vmctx: *mut u8, sub: u32, sup: u32) -> u32 {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<u32, Exit> {
        Ok(u32::from(kiln_environ::SubtypeOracle::is_subtype(
            &store.opaque.engine,
            sub,
            sup,
        )))
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn exn_payload<T>(vmctx: *mut u8, exn: u64, dst: *mut ValRaw) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        let object = store.opaque.exns.get(exn);
        let ty = store.opaque.tag_type(object.tag);
        // SAFETY: compiled code passes a buffer of one `ValRaw` per
        // parameter of the tag it just matched.
        let values = unsafe { core::slice::from_raw_parts_mut(dst, ty.param_slice().len()) };
        slots_to_raw(ty.param_slice(), &object.payload, values);
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn exn_settle<T>(vmctx: *mut u8, exn: u64, keep: u32) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        if keep != 0 {
            store.opaque.exns.expose(exn);
        } else {
            store.opaque.exns.release(exn);
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn elem_drop<T>(vmctx: *mut u8, elem: u32) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        let elems = &mut store.opaque.instance_mut(instance).vm.get_mut().elems;
        if let Some(e) = elems.get_mut(elem as usize) {
            *e = Box::new([]);
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn out_of_fuel<T>(vmctx: *mut u8) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        // Code calls this once the counter went positive; there is no
        // refill policy (yet), so running out is a trap.
        let consumed = store
            .opaque
            .native_store()
            .limits
            .fuel_consumed
            .load(Relaxed);
        if consumed > 0 {
            store.opaque.exec.fuel = 0;
            return Err(Exit::Trap(TrapCode::OutOfFuel));
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

unsafe extern "C" fn interrupted<T>(vmctx: *mut u8) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        let native = store.opaque.native_store().limits.interrupt.load(Relaxed) != 0;
        if native || store.opaque.exec.interrupt.load(Relaxed) {
            // The request is consumed by the trap it causes.
            store.clear_interrupt();
            return Err(Exit::Trap(TrapCode::Interrupt));
        }
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

/// The `trap` builtin: code compiled without signals-based traps calls it
/// wherever other code executes a faulting instruction. It raises the
/// trap the way every builtin does (`enter` → `raise_trap`), which needs
/// no signal: the unwind is a jump to the entry trampoline's resume path.
/// `wasm_offset` is the trapping operator's, for the backtrace.
unsafe extern "C" fn trap<T>(vmctx: *mut u8, code: u32, wasm_offset: u32) {
    let work = move |store: &mut StoreInner<T>, _: u32| -> Result<(), Exit> {
        let native = store.opaque.native_store_ptr();
        // SAFETY: the store is native (it runs compiled code), so the
        // pointer is its live native state, which nothing else borrows
        // while this builtin runs.
        unsafe { (*native).trap_site = Some(wasm_offset) };
        match TrapCode::from_index(code) {
            Some(code) => Err(Exit::Trap(code)),
            // Only a compiler bug could pass another number; say so rather
            // than report a made-up trap.
            None => Err(Exit::Host(anyhow::anyhow!(
                "compiled code raised trap code {code}, which this runtime does not know"
            ))),
        }
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

extern "C" fn ceil_f32(_vmctx: *mut u8, x: f32) -> f32 {
    libm::ceilf(x)
}
extern "C" fn ceil_f64(_vmctx: *mut u8, x: f64) -> f64 {
    libm::ceil(x)
}
extern "C" fn floor_f32(_vmctx: *mut u8, x: f32) -> f32 {
    libm::floorf(x)
}
extern "C" fn floor_f64(_vmctx: *mut u8, x: f64) -> f64 {
    libm::floor(x)
}
extern "C" fn trunc_f32(_vmctx: *mut u8, x: f32) -> f32 {
    libm::truncf(x)
}
extern "C" fn trunc_f64(_vmctx: *mut u8, x: f64) -> f64 {
    libm::trunc(x)
}
extern "C" fn nearest_f32(_vmctx: *mut u8, x: f32) -> f32 {
    libm::roundevenf(x)
}
extern "C" fn nearest_f64(_vmctx: *mut u8, x: f64) -> f64 {
    libm::roundeven(x)
}
extern "C" fn fma_f32(_vmctx: *mut u8, a: f32, b: f32, c: f32) -> f32 {
    libm::fmaf(a, b, c)
}
extern "C" fn fma_f64(_vmctx: *mut u8, a: f64, b: f64, c: f64) -> f64 {
    libm::fma(a, b, c)
}

/// Tiering: defined function `defined` of the calling instance's module
/// is hot (its counter ran out at its entry).
unsafe extern "C" fn tier_up<T>(vmctx: *mut u8, defined: u32) {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<(), Exit> {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(t) = tiering_of(store, instance) {
            t.hot(defined);
        }
        let _ = (store, instance, defined);
        Ok(())
    };
    // SAFETY: compiled code calls builtins with its own `VMContext`, while
    // its store runs wasm; the stub frames in between own nothing.
    unsafe { enter(vmctx, work) }
}

/// Tiering: the entry into optimized code at the loop at wasm offset `at`
/// of defined function `defined`, or 0 (see `Tiering::osr_entry`).
unsafe extern "C" fn tier_osr<T>(vmctx: *mut u8, defined: u32, at: u32) -> usize {
    let work = move |store: &mut StoreInner<T>, instance: u32| -> Result<usize, Exit> {
        #[cfg(all(feature = "std", kiln_native))]
        if let Some(t) = tiering_of(store, instance) {
            return Ok(t.osr_entry(defined, at));
        }
        let _ = (store, instance, defined, at);
        Ok(0)
    };
    // SAFETY: as in `tier_up`.
    unsafe { enter(vmctx, work) }
}

/// The tiering state of `instance`'s module, if it tiers.
#[cfg(all(feature = "std", kiln_native))]
fn tiering_of<T>(
    store: &StoreInner<T>,
    instance: u32,
) -> Option<alloc::sync::Arc<super::tiering::Tiering>> {
    let code = store
        .opaque
        .instance(instance)
        .module
        .inner
        .native
        .as_ref()?;
    code.tiering.clone()
}

/// The builtin table of a store whose data type is `T`, in
/// [`Builtin::index`] order.
pub(crate) fn table<T>() -> Box<[usize]> {
    let mut table = vec![0usize; Builtin::ALL.len()];
    for &b in Builtin::ALL {
        table[b.index() as usize] = match b {
            Builtin::MemoryGrow => memory_grow::<T> as *const () as usize,
            Builtin::MemoryFill => memory_fill::<T> as *const () as usize,
            Builtin::MemoryCopy => memory_copy::<T> as *const () as usize,
            Builtin::MemoryInit => memory_init::<T> as *const () as usize,
            Builtin::DataDrop => data_drop::<T> as *const () as usize,
            Builtin::TableGrow => table_grow::<T> as *const () as usize,
            Builtin::TableFill => table_fill::<T> as *const () as usize,
            Builtin::TableCopy => table_copy::<T> as *const () as usize,
            Builtin::TableInit => table_init::<T> as *const () as usize,
            Builtin::ElemDrop => elem_drop::<T> as *const () as usize,
            Builtin::OutOfFuel => out_of_fuel::<T> as *const () as usize,
            Builtin::Interrupted => interrupted::<T> as *const () as usize,
            Builtin::CeilF32 => ceil_f32 as *const () as usize,
            Builtin::CeilF64 => ceil_f64 as *const () as usize,
            Builtin::FloorF32 => floor_f32 as *const () as usize,
            Builtin::FloorF64 => floor_f64 as *const () as usize,
            Builtin::TruncF32 => trunc_f32 as *const () as usize,
            Builtin::TruncF64 => trunc_f64 as *const () as usize,
            Builtin::NearestF32 => nearest_f32 as *const () as usize,
            Builtin::NearestF64 => nearest_f64 as *const () as usize,
            Builtin::Trap => trap::<T> as *const () as usize,
            Builtin::FmaF32 => fma_f32 as *const () as usize,
            Builtin::FmaF64 => fma_f64 as *const () as usize,
            Builtin::Throw => throw::<T> as *const () as usize,
            Builtin::ThrowRef => throw_ref::<T> as *const () as usize,
            Builtin::ExnTagIs => exn_tag_is::<T> as *const () as usize,
            Builtin::IsSubtype => is_subtype::<T> as *const () as usize,
            Builtin::GcStructNew => gc::gc_struct_new::<T> as *const () as usize,
            Builtin::GcArrayNew => gc::gc_array_new::<T> as *const () as usize,
            Builtin::GcArrayNewSegment => gc::gc_array_new_segment::<T> as *const () as usize,
            Builtin::GcArrayFill => gc::gc_array_fill::<T> as *const () as usize,
            Builtin::GcArrayCopy => gc::gc_array_copy::<T> as *const () as usize,
            Builtin::GcArrayInitSegment => gc::gc_array_init_segment::<T> as *const () as usize,
            Builtin::GcRefTest => gc::gc_ref_test::<T> as *const () as usize,
            Builtin::GcRemember => gc::gc_remember::<T> as *const () as usize,
            Builtin::ExnPayload => exn_payload::<T> as *const () as usize,
            Builtin::ExnSettle => exn_settle::<T> as *const () as usize,
            Builtin::TierUp => tier_up::<T> as *const () as usize,
            Builtin::TierOsr => tier_osr::<T> as *const () as usize,
        };
    }
    table.into_boxed_slice()
}
