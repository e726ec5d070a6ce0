//! The records native code reads through its `VMContext`: the store-wide
//! runtime limits, and each instance's `VMContext` itself.
//!
//! A `VMContext` is preceded by a two-word header the ABI does not see:
//!
//! ```text
//! alloc ─► [ *mut NativeStore ][ instance index ][ VMContext (VMOffsets) … ]
//!                                                 ▲
//!                                                 └─ the pointer code gets
//! ```
//!
//! so a builtin or host entry, which only gets the caller's `VMContext`,
//! finds its store and instance two words below it, whatever the module's
//! layout.

use crate::prelude::*;
use crate::runtime::store_data::StoreOpaque;
use crate::runtime::sys::TraceBuf;
use alloc::alloc::Layout;
use alloc::sync::Arc;
use anyhow::Result;
#[cfg(feature = "std")]
use core::any::Any;
use core::ptr::NonNull;
#[cfg(target_has_atomic = "64")]
use core::sync::atomic::AtomicI64;
use core::sync::atomic::{AtomicU32, AtomicUsize};
use kiln_environ::vm::VmFuncRef;
use kiln_environ::{Builtin, VMCONTEXT_MAGIC, VMOffsets};

/// The fuel counter: an `AtomicI64` on every target native code runs on.
#[cfg(target_has_atomic = "64")]
pub(crate) type FuelCounter = AtomicI64;

/// The fuel counter where the target has no 64-bit atomics (32-bit
/// microcontrollers, which only interpret: no compiled code reads it
/// there). Two 32-bit halves keep the field's size and alignment; a read
/// racing a write could see a torn value, which no code on these targets
/// can do, and which would be a wrong count, not undefined behaviour.
#[cfg(not(target_has_atomic = "64"))]
#[repr(C, align(8))]
#[derive(Debug, Default)]
pub(crate) struct FuelCounter {
    #[cfg(target_endian = "little")]
    lo: AtomicU32,
    hi: AtomicU32,
    #[cfg(target_endian = "big")]
    lo: AtomicU32,
}

#[cfg(not(target_has_atomic = "64"))]
impl FuelCounter {
    /// The value, as `AtomicI64::load` would return it.
    pub(crate) fn load(&self, order: core::sync::atomic::Ordering) -> i64 {
        let lo = u64::from(self.lo.load(order));
        let hi = u64::from(self.hi.load(order));
        ((hi << 32) | lo) as i64
    }

    /// Sets the value, as `AtomicI64::store` would.
    pub(crate) fn store(&self, value: i64, order: core::sync::atomic::Ordering) {
        self.lo.store(value as u32, order);
        self.hi.store((value as u64 >> 32) as u32, order);
    }
}

/// The store-wide runtime limits record (`docs/native-abi.md`). Compiled
/// code reads and writes it through a raw pointer; the runtime uses atomic
/// accesses, so an [`InterruptHandle`](crate::InterruptHandle) on another
/// thread may set `interrupt` while wasm runs.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct VMRuntimeLimits {
    /// Lowest stack address wasm may use.
    pub(crate) stack_limit: AtomicUsize,
    /// Fuel consumed; positive means out of fuel.
    pub(crate) fuel_consumed: FuelCounter,
    /// Non-zero asks running code to call `Interrupted`.
    pub(crate) interrupt: AtomicU32,
    /// The ABI puts the pointers below at fixed offsets from 24 on every
    /// host; on 32-bit hosts nothing else would pad `interrupt` to there.
    _padding: u32,
    /// Frame pointer of the last exit from wasm.
    pub(crate) last_wasm_exit_fp: AtomicUsize,
    /// Pc of the last exit from wasm.
    pub(crate) last_wasm_exit_pc: AtomicUsize,
    /// Frame pointer of the innermost array-to-wasm trampoline.
    pub(crate) last_wasm_entry_fp: AtomicUsize,
}

/// Why wasm was unwound other than by a wasm trap: the error or panic of a
/// host function or builtin, parked here while the activation unwinds and
/// picked up by the `call_wasm` that returns.
pub(crate) enum Pending {
    /// A host function or the resource limiter returned this error.
    Error(anyhow::Error),
    /// A host function or the resource limiter panicked; the panic resumes
    /// once wasm frames are gone.
    #[cfg(feature = "std")]
    Panic(Box<dyn Any + Send>),
}

/// A store's native state, at a stable address the `VMContext` header
/// points at.
pub(crate) struct NativeStore {
    /// The runtime limits every instance of the store shares.
    pub(crate) limits: Arc<VMRuntimeLimits>,
    /// The builtin table, in `Builtin::index` order, for this store's data
    /// type.
    pub(crate) builtins: Box<[usize]>,
    /// The `StoreInner<T>` currently running wasm (set at each entry from
    /// the host, null before the first).
    pub(crate) store: *mut (),
    /// Set when a host function or builtin unwinds wasm.
    pub(crate) pending: Option<Pending>,
    /// The frames of the last trap (filled by the signal handler or by a
    /// builtin before it unwinds).
    pub(crate) trace: TraceBuf,
    /// The wasm offset the `trap` builtin was given for the last trap
    /// (`u32::MAX`: none), when that builtin raised it: the innermost
    /// frame's offset, which its return address cannot tell because every
    /// site of one trap code in a function shares one call.
    pub(crate) trap_site: Option<u32>,
    /// `(entry fp, exit fp)` of each activation a host function's call
    /// back into wasm suspended, outermost first: the collector walks
    /// their frames as well as the innermost one's.
    pub(crate) outer_activations: Vec<(usize, usize)>,
}

impl NativeStore {
    /// The native state of a store whose data type is `T`.
    pub(crate) fn new<T>() -> Self {
        NativeStore {
            limits: Arc::new(VMRuntimeLimits::default()),
            builtins: super::builtins::table::<T>(),
            store: core::ptr::null_mut(),
            pending: None,
            trace: TraceBuf::new(),
            trap_site: None,
            outer_activations: Vec::new(),
        }
    }
}

/// Words of the header before each `VMContext`.
const HEADER_WORDS: usize = 2;

/// One instance's `VMContext` (with its header), zeroed, then filled by
/// [`fill`]. Freed with the store.
pub(crate) struct VmCtx {
    alloc: NonNull<usize>,
    words: usize,
}

impl VmCtx {
    /// A zeroed `VMContext` of `offsets`' size for instance `instance` of
    /// the store whose native state is `store`.
    pub(crate) fn new(offsets: &VMOffsets, store: *mut NativeStore, instance: u32) -> Self {
        let words = HEADER_WORDS + (offsets.size_of_vmctx() as usize).div_ceil(size_of::<usize>());
        let layout = Layout::array::<usize>(words).expect("VMContext size fits in memory");
        // SAFETY: the layout has a non-zero size (at least the header).
        let ptr = unsafe { alloc::alloc::alloc_zeroed(layout) }.cast::<usize>();
        let Some(alloc) = NonNull::new(ptr) else {
            alloc::alloc::handle_alloc_error(layout)
        };
        let mut v = VmCtx { alloc, words };
        v.set_word(0, store as usize);
        v.set_word(1, instance as usize);
        v
    }

    fn set_word(&mut self, index: usize, value: usize) {
        assert!(index < self.words, "VMContext write out of bounds");
        // SAFETY: `index` is inside the allocation (checked above), which
        // lives until `self` is dropped.
        unsafe { self.alloc.as_ptr().add(index).write(value) }
    }

    /// Writes pointer-sized `value` at `VMContext` offset `offset`.
    pub(crate) fn set(&mut self, offset: u32, value: usize) {
        debug_assert_eq!(offset as usize % size_of::<usize>(), 0);
        self.set_word(HEADER_WORDS + offset as usize / size_of::<usize>(), value);
    }

    /// The `VMContext` pointer compiled code gets.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        // `wrapping_add`: the header is inside the allocation.
        self.alloc.as_ptr().wrapping_add(HEADER_WORDS).cast()
    }
}

impl Drop for VmCtx {
    fn drop(&mut self) {
        let layout = Layout::array::<usize>(self.words).expect("layout was valid at allocation");
        // SAFETY: allocated in `new` with this layout, freed once; the
        // store (and so any code using this context) is being dropped.
        unsafe { alloc::alloc::dealloc(self.alloc.as_ptr().cast(), layout) }
    }
}

// SAFETY: a `VmCtx` is plain memory owned by one store; it moves with it.
unsafe impl Send for VmCtx {}
// SAFETY: shared access never writes through it.
unsafe impl Sync for VmCtx {}

/// The native store and instance index recorded in the header of
/// `vmctx`.
///
/// # Safety
///
/// `vmctx` must be a `VMContext` made by [`VmCtx::new`] that is still alive.
pub(crate) unsafe fn header(vmctx: *const u8) -> (*mut NativeStore, u32) {
    let words = vmctx.cast::<usize>();
    // SAFETY: per the contract, the two words before `vmctx` are the
    // header `VmCtx::new` wrote.
    unsafe {
        (
            words.sub(HEADER_WORDS).read() as *mut NativeStore,
            words.sub(HEADER_WORDS - 1).read() as u32,
        )
    }
}

/// The index spaces of an instance, as store indices.
pub(crate) struct IndexSpaces<'a> {
    pub(crate) funcs: &'a [u32],
    pub(crate) tables: &'a [u32],
    pub(crate) memories: &'a [u32],
    pub(crate) globals: &'a [u32],
}

/// Fills `vmctx` for an instance with `spaces`, whose type `sigs` are the
/// module's signature ids (kept alive by the instance's module).
pub(crate) fn fill(
    vmctx: &mut VmCtx,
    offsets: &VMOffsets,
    store: &StoreOpaque,
    sigs: &[u32],
    num_imported_funcs: u32,
    spaces: &IndexSpaces<'_>,
) -> Result<()> {
    let native = store.native_store();
    vmctx.set(offsets.vmctx_magic(), VMCONTEXT_MAGIC as usize);
    vmctx.set(
        offsets.vmctx_runtime_limits(),
        Arc::as_ptr(&native.limits) as usize,
    );
    debug_assert_eq!(native.builtins.len(), Builtin::ALL.len());
    vmctx.set(offsets.vmctx_builtins(), native.builtins.as_ptr() as usize);
    vmctx.set(offsets.vmctx_signature_ids(), sigs.as_ptr() as usize);
    vmctx.set(
        offsets.vmctx_gc_heap(),
        store.gc_heap.vm_ptr_const() as usize,
    );
    for (i, &f) in spaces.funcs.iter().enumerate() {
        let i = i as u32;
        let rec: *const VmFuncRef = store.func_ptr(f);
        if i < num_imported_funcs {
            // SAFETY: `rec` is a live funcref record of this store.
            let (wasm_call, callee) = unsafe { ((*rec).wasm_call, (*rec).vmctx) };
            if wasm_call == 0 {
                anyhow::bail!("no native trampoline for imported host function {i}");
            }
            vmctx.set(offsets.vmctx_imported_func_wasm_call(i), wasm_call);
            vmctx.set(offsets.vmctx_imported_func_vmctx(i), callee);
            vmctx.set(offsets.vmctx_imported_func_funcref(i), rec as usize);
        }
        vmctx.set(offsets.vmctx_funcref(i), rec as usize);
    }
    for (i, &m) in spaces.memories.iter().enumerate() {
        vmctx.set(offsets.vmctx_memory(i as u32), store.memory_ptr(m) as usize);
    }
    for (i, &t) in spaces.tables.iter().enumerate() {
        vmctx.set(offsets.vmctx_table(i as u32), store.table_ptr(t) as usize);
    }
    for (i, &g) in spaces.globals.iter().enumerate() {
        vmctx.set(offsets.vmctx_global(i as u32), store.global_ptr(g) as usize);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn limits_match_the_abi() {
        let o = VMOffsets::from_counts(size_of::<usize>() as u8, 0, 0, 0, 0, 0);
        assert_eq!(
            o.limits_stack_limit() as usize,
            offset_of!(VMRuntimeLimits, stack_limit)
        );
        assert_eq!(
            o.limits_fuel_consumed() as usize,
            offset_of!(VMRuntimeLimits, fuel_consumed)
        );
        assert_eq!(
            o.limits_interrupt() as usize,
            offset_of!(VMRuntimeLimits, interrupt)
        );
        assert_eq!(
            o.limits_last_wasm_exit_fp() as usize,
            offset_of!(VMRuntimeLimits, last_wasm_exit_fp)
        );
        assert_eq!(
            o.limits_last_wasm_exit_pc() as usize,
            offset_of!(VMRuntimeLimits, last_wasm_exit_pc)
        );
        assert_eq!(
            o.limits_last_wasm_entry_fp() as usize,
            offset_of!(VMRuntimeLimits, last_wasm_entry_fp)
        );
        assert!(o.size_of_limits() as usize <= size_of::<VMRuntimeLimits>());
    }
}
