//! What a store owns: the interpreter-visible structures of every memory,
//! table, global, function and instance created in it, plus host functions,
//! externref values and execution state.

use super::memory::LinearMemory;
use super::native::HostContext;
use super::native::memory::{MappedMemory, MemoryStorage, Reservation};
use super::native::vmctx::{NativeStore, VmCtx};
use super::owned::{Owned, Slab};
use super::sys::MemoryImage;
use super::table::TableStorage;
use crate::func::Caller;
use crate::prelude::*;
use crate::store::ResourceLimiter;
use crate::{Engine, FuncType, Module};
use alloc::sync::Arc;
use anyhow::{Result, bail};
use core::any::Any;
use core::ptr::NonNull;
#[cfg(target_has_atomic = "64")]
use core::sync::atomic::AtomicU64;
use core::sync::atomic::{AtomicBool, Ordering};
use hashbrown::HashMap;
use kiln_environ as env;
use kiln_environ::vm::{VmFuncKind, VmFuncRef, VmGlobal, VmInstance, VmMemory, VmTable};
use kiln_interp::{ExecState, Stack};

/// Identifies a store, so handles (`Func`, `Memory`, …) used with the wrong
/// store are caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StoreId(u64);

impl StoreId {
    fn fresh() -> StoreId {
        #[cfg(target_has_atomic = "64")]
        {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            StoreId(NEXT.fetch_add(1, Ordering::Relaxed))
        }
        // Without 64-bit atomics (32-bit microcontrollers) ids are 32-bit:
        // a reused id would let a stale handle name a live store, so
        // running out is a panic rather than a wrap.
        #[cfg(not(target_has_atomic = "64"))]
        {
            static NEXT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(1);
            let id = NEXT
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
                .expect("more than 2^32 stores created in this process");
            StoreId(u64::from(id))
        }
    }
}

/// A host function as stored: called with the caller and the value slots
/// (arguments in, results out), decoding and encoding them itself.
pub(crate) type HostFunc<T> =
    Arc<dyn Fn(Caller<'_, T>, &mut [u64]) -> Result<()> + Send + Sync + 'static>;

/// The store-owned record behind a `funcref`: the shared [`VmFuncRef`]
/// (first, so `funcref` bits, its address, are the entry's address, in
/// every store whatever its backend) and the function's store index, so
/// the index can be recovered from the bits.
#[repr(C)]
pub(crate) struct FuncEntry {
    vm: VmFuncRef,
    index: u32,
}

/// The native fields of a funcref record (`docs/native-abi.md`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NativeEntry {
    /// Code to call in the wasm convention.
    pub(crate) wasm_call: usize,
    /// Code to call in the array convention (0: the host cannot call it).
    pub(crate) array_call: usize,
    /// The callee context passed as first argument.
    pub(crate) vmctx: usize,
}

/// Where a function's code is, in the store's terms.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FuncKind {
    /// A function defined by a wasm instance.
    Wasm,
    /// Host function `host` of the store's host-function table.
    Host {
        /// Index into `StoreInner::host_funcs`.
        host: u32,
    },
}

pub(crate) struct FuncData {
    /// The function's records, in the store's `func_entries` slab.
    entry: NonNull<FuncEntry>,
    /// A host function's context in a native store (what its funcref's
    /// `vmctx` points at).
    host_ctx: Option<Owned<HostContext>>,
    pub(crate) kind: FuncKind,
}

pub(crate) struct MemoryData {
    vm: Owned<VmMemory>,
    storage: MemoryStorage,
    pub(crate) ty: env::MemoryType,
}

pub(crate) struct TableData {
    vm: Owned<VmTable>,
    pub(super) storage: TableStorage,
    pub(crate) ty: env::TableType,
}

pub(crate) struct GlobalData {
    pub(super) vm: Owned<VmGlobal>,
    pub(crate) ty: env::GlobalType,
}

/// An instance: its interpreter view and, per index space, the store
/// indices of its entities (for exports and `Caller::get_export`).
pub(crate) struct InstanceData {
    pub(crate) vm: Owned<VmInstance>,
    /// The instance's `VMContext` in a native store: owned here, read only
    /// by compiled code and the builtins (through raw pointers).
    pub(crate) _vmctx: Option<VmCtx>,
    pub(crate) module: Module,
    pub(crate) funcs: Box<[u32]>,
    pub(crate) tables: Box<[u32]>,
    pub(crate) memories: Box<[u32]>,
    pub(crate) globals: Box<[u32]>,
    pub(crate) tags: Box<[u32]>,
}

/// The part of a store that does not depend on the embedder's data type.
pub struct StoreOpaque {
    pub(crate) id: StoreId,
    pub(crate) engine: Engine,
    pub(crate) exec: ExecState,
    /// Approximate native stack pointer at the outermost call into wasm
    /// that is still running (`None` when no wasm runs).
    pub(crate) native_entry: Option<usize>,
    funcs: Vec<FuncData>,
    /// Where every function's [`FuncEntry`] lives (stable addresses,
    /// freed with the store).
    func_entries: Slab<FuncEntry>,
    /// The type of each signature id this store's functions use, indexed
    /// by the engine's (dense) id: one shared `FuncType` per signature
    /// rather than one per function.
    func_types: Vec<Option<FuncType>>,
    memories: Vec<MemoryData>,
    pub(super) tables: Vec<TableData>,
    pub(super) globals: Vec<GlobalData>,
    pub(crate) instances: Vec<InstanceData>,
    /// Host values (`externref`s the host made), by index; a freed
    /// index is `None` until reused.
    externrefs: Vec<Option<Box<dyn Any + Send + Sync>>>,
    /// Indices of freed host values, for reuse.
    free_externrefs: Vec<u32>,
    /// The host's GC reference handles (`gc_ref.rs`).
    pub(crate) host_roots: super::sys::sync::Mutex<crate::gc_ref::HostRoots>,
    /// Struct and array objects (`gc_heap.rs`).
    pub(crate) gc_heap: super::gc_heap::GcHeap,
    pub(super) tags: Vec<super::exceptions::TagData>,
    /// Exception objects (see `exceptions.rs`).
    pub(crate) exns: super::exceptions::ExnHeap,
    /// The exception an uncaught throw left for the embedder (or a host
    /// function is throwing), as `exnref` bits.
    pub(crate) pending_exception: Option<u64>,
    /// The native backend's per-store state (`None` in an interpreter
    /// store).
    pub(crate) native: Option<Owned<NativeStore>>,
}

// SAFETY: the raw pointers inside (`Owned`, the `vm` structures) point only
// to allocations this store owns, never shared with another store, and
// everything else inside is `Send` (host data is `Send + Sync`, modules and
// the engine are `Send + Sync`). Moving the store moves all of it together.
unsafe impl Send for StoreOpaque {}
// SAFETY: `&StoreOpaque` only gives read access to owned data; wasm only
// runs through `&mut` access, so no thread can mutate through a shared
// reference.
unsafe impl Sync for StoreOpaque {}

impl StoreOpaque {
    pub(crate) fn new(engine: &Engine) -> Self {
        StoreOpaque {
            id: StoreId::fresh(),
            engine: engine.clone(),
            exec: ExecState {
                suspended: Default::default(),
                stack: Stack::new(engine.config().max_wasm_stack),
                fuel: 0,
                interrupt: Arc::new(AtomicBool::new(false)),
            },
            native_entry: None,
            funcs: Vec::new(),
            func_entries: Slab::new(),
            func_types: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            externrefs: Vec::new(),
            free_externrefs: Vec::new(),
            host_roots: super::sys::sync::Mutex::new(Default::default()),
            gc_heap: super::gc_heap::GcHeap::new(engine),
            tags: Vec::new(),
            exns: Default::default(),
            pending_exception: None,
            native: None,
        }
    }

    /// Whether this store runs native code.
    pub(crate) fn is_native(&self) -> bool {
        self.native.is_some()
    }

    /// The native state of a native store.
    ///
    /// Panics in an interpreter store (callers check [`Self::is_native`]).
    pub(crate) fn native_store(&self) -> &NativeStore {
        self.native.as_ref().expect("a native store").get()
    }

    /// The native state's stable address (null in an interpreter store).
    pub(crate) fn native_store_ptr(&self) -> *mut NativeStore {
        self.native
            .as_ref()
            .map_or(core::ptr::null_mut(), |n| n.as_ptr())
    }

    /// Fills the native fields of function `index`'s funcref record: its
    /// code in the wasm and array conventions and its callee context.
    pub(crate) fn set_native_entry(&mut self, index: u32, entry: NativeEntry) {
        let record = self.funcs[index as usize].entry;
        // SAFETY: the entry lives in `self.func_entries` until the store is
        // dropped; `&mut self` rules out other references made by the
        // runtime, and wasm (which reads entries through raw pointers)
        // does not run while the store is borrowed here.
        unsafe {
            let vm = &mut (*record.as_ptr()).vm;
            vm.wasm_call = entry.wasm_call;
            vm.array_call = entry.array_call;
            vm.vmctx = entry.vmctx;
        }
    }

    /// Gives host function `index` the wasm-to-array trampoline at `addr`
    /// if it has none (see [`NativeEngine::offer_trampolines`]). The
    /// trampoline's code must live as long as the store (it belongs to a
    /// module the store instantiates).
    ///
    /// [`NativeEngine::offer_trampolines`]: super::native::NativeEngine::offer_trampolines
    pub(crate) fn fill_missing_trampoline(&mut self, index: u32, addr: usize) {
        let record = self.funcs[index as usize].entry;
        // SAFETY: as in `set_native_entry`.
        unsafe {
            let vm = &mut (*record.as_ptr()).vm;
            if vm.wasm_call == 0 && vm.vmctx != 0 {
                vm.wasm_call = addr;
            }
        }
    }

    /// Errors if native code in this store could not call function
    /// `index`: a host function of a loader engine whose signature no
    /// loaded module has a trampoline for. Checked wherever the host hands
    /// wasm a function reference other than through an import.
    pub(crate) fn check_callable(&self, index: u32) -> Result<()> {
        if self.native.is_none() {
            return Ok(());
        }
        // SAFETY: the record lives until the store is dropped; nothing
        // writes it while `&self` is held.
        let wasm_call = unsafe { (*self.func_ptr(index)).wasm_call };
        if wasm_call == 0 {
            bail!(
                "this host function cannot be called from native code yet: the engine has no \
                 compiler, and no module loaded so far has a trampoline for its type; load a \
                 module that uses the type first"
            );
        }
        Ok(())
    }

    /// Panics unless a handle of store `id` belongs to this store.
    #[track_caller]
    pub(crate) fn check(&self, id: StoreId) {
        assert!(
            id == self.id,
            "object used with the wrong store (it belongs to another `Store`)"
        );
    }

    // ---- functions ----

    /// Records `ty` as the type of engine signature id `sig` (a no-op when
    /// it already is) and returns its parameter and result slot counts,
    /// for [`StoreOpaque::push_func`].
    pub(crate) fn register_type(&mut self, ty: &FuncType, sig: u32) -> FuncSlots {
        let i = sig as usize;
        if self.func_types.len() <= i {
            self.func_types.resize(i + 1, None);
        }
        if self.func_types[i].is_none() {
            self.func_types[i] = Some(ty.clone());
        }
        FuncSlots {
            params: slot_count(ty.param_slice()),
            results: slot_count(ty.result_slice()),
        }
    }

    /// Adds a function reference whose engine signature id is `sig`, a
    /// type already given to [`StoreOpaque::register_type`] (which gave
    /// `slots`); returns its store index. Called once per function of
    /// every instance, so it does no more than fill two records.
    pub(crate) fn push_func(
        &mut self,
        sig: u32,
        slots: FuncSlots,
        vm_kind: VmFuncKind,
        kind: FuncKind,
    ) -> u32 {
        debug_assert!(
            self.func_types
                .get(sig as usize)
                .is_some_and(Option::is_some)
        );
        let index = u32::try_from(self.funcs.len()).expect("too many functions in one store");
        let entry = self.func_entries.push(FuncEntry {
            vm: VmFuncRef {
                wasm_call: 0,
                array_call: 0,
                vmctx: 0,
                sig,
                param_slots: slots.params,
                result_slots: slots.results,
                kind: vm_kind,
            },
            index,
        });
        self.funcs.push(FuncData {
            entry,
            host_ctx: None,
            kind,
        });
        index
    }

    /// The type of function `index`.
    pub(crate) fn func_type(&self, index: u32) -> &FuncType {
        let entry = self.funcs[index as usize].entry;
        // SAFETY: the entry lives in `self.func_entries` until the store is
        // dropped, and its signature never changes after `push_func`; this
        // only reads it.
        let sig = unsafe { (*entry.as_ptr()).vm.sig };
        self.func_types[sig as usize]
            .as_ref()
            .expect("every function's signature is registered")
    }

    /// Number of functions (wasm and host) created in this store.
    #[cfg(test)]
    pub(crate) fn func_count(&self) -> usize {
        self.funcs.len()
    }

    pub(crate) fn func(&self, index: u32) -> &FuncData {
        &self.funcs[index as usize]
    }

    /// The `VmFuncRef` of function `index` (its `funcref` bits as a pointer).
    pub(crate) fn func_ptr(&self, index: u32) -> *const VmFuncRef {
        // `vm` is the first field of the `repr(C)` `FuncEntry`.
        self.funcs[index as usize]
            .entry
            .as_ptr()
            .cast::<VmFuncRef>()
    }

    /// The `funcref` bits of function `index`: the address of its
    /// `VmFuncRef`.
    pub(crate) fn func_bits(&self, index: u32) -> u64 {
        self.func_ptr(index) as usize as u64
    }

    /// The store index of the function whose `funcref` bits are `bits`
    /// (non-zero).
    pub(crate) fn func_index_from_bits(&self, bits: u64) -> u32 {
        debug_assert_ne!(bits, 0);
        let ptr = bits as usize as *const FuncEntry;
        // SAFETY: non-null `funcref` bits only ever come from `func_bits` of
        // this store (the runtime writes them into tables, globals and value
        // slots, and wasm only copies them around), so `ptr` is the address
        // of a live `FuncEntry` owned by `self.funcs`, which frees nothing
        // before the store is dropped.
        let index = unsafe { (*ptr).index };
        assert!(
            core::ptr::eq(self.funcs[index as usize].entry.as_ptr(), ptr),
            "funcref does not belong to this store"
        );
        index
    }

    // ---- memories ----

    /// Adds a memory of `ty.minimum` pages (no limiter involved); errors if
    /// it cannot be allocated.
    pub(crate) fn push_memory(&mut self, ty: env::MemoryType) -> Result<u32> {
        if ty.shared {
            bail!("shared memories (threads) are not supported");
        }
        let id = u32::try_from(self.memories.len()).expect("too many memories in one store");
        let storage = ty
            .pages_to_bytes(ty.minimum)
            .and_then(|bytes| self.new_memory_storage(bytes));
        let Some(storage) = storage else {
            bail!("failed to allocate a memory of {} pages", ty.minimum);
        };
        let vm = Owned::new(VmMemory {
            base: storage.base(),
            len: storage.len(),
            id,
        });
        self.memories.push(MemoryData { vm, storage, ty });
        Ok(id)
    }

    /// Storage for a new memory of `bytes` bytes: reserved address space
    /// where the host has virtual memory, the heap otherwise.
    ///
    /// A native store needs the layout its compiled code assumes (guard
    /// pages included). An interpreter store checks every access itself:
    /// on 64-bit hosts it takes a reservation of just its size plus room to
    /// grow (no guard), which moves its pages when it outgrows it
    /// (`MappedMemory::grow_to`). A heap allocation would copy, and commit,
    /// its whole length on every growth past its capacity: gigabytes the
    /// module never touched, for a sparse memory64. (Not a 4 GiB
    /// reservation per memory as native code takes: under qemu-user, as
    /// CI runs big-endian tests, every reserved page costs the emulator
    /// memory, and the spec suite's thousands of memories ran it out.)
    /// 32-bit hosts keep the heap, whose address space is too small to
    /// leave room after every memory.
    fn new_memory_storage(&self, bytes: u64) -> Option<MemoryStorage> {
        let native = self.is_native();
        if crate::runtime::sys::HAS_VIRTUAL_MEMORY && (native || usize::BITS >= 64) {
            let config = self.engine.config();
            let sizes = if native {
                Reservation {
                    reservation: config.memory_reservation,
                    // The same guard the compiler was told about: none
                    // when code may not rely on faults.
                    guard: config.tunables().memory_guard_size,
                    for_growth: config.memory_reservation_for_growth,
                }
            } else {
                Reservation {
                    reservation: 0,
                    guard: 0,
                    for_growth: config.memory_reservation_for_growth,
                }
            };
            return MappedMemory::new(bytes, sizes).map(MemoryStorage::Mapped);
        }
        LinearMemory::new(bytes).map(MemoryStorage::Heap)
    }

    pub(crate) fn memory(&self, index: u32) -> &MemoryData {
        &self.memories[index as usize]
    }

    pub(crate) fn memory_ptr(&self, index: u32) -> *mut VmMemory {
        self.memories[index as usize].vm.as_ptr()
    }

    /// Grows memory `index` to `pages` pages without consulting limits;
    /// `false` if the allocation failed.
    fn resize_memory(&mut self, index: u32, pages: u64) -> bool {
        let m = &mut self.memories[index as usize];
        let max_pages = m.ty.maximum.unwrap_or(m.ty.absolute_max_pages());
        let (Some(bytes), max_bytes) = (
            m.ty.pages_to_bytes(pages),
            m.ty.pages_to_bytes(max_pages).unwrap_or(u64::MAX),
        ) else {
            return false;
        };
        if !m.storage.grow_to(bytes, max_bytes) {
            return false;
        }
        let (base, len) = (m.storage.base(), m.storage.len());
        let vm = m.vm.get_mut();
        vm.base = base;
        vm.len = len;
        true
    }

    // ---- tables ----

    pub(crate) fn push_table(&mut self, ty: env::TableType, init: u64) -> Result<u32> {
        let id = u32::try_from(self.tables.len()).expect("too many tables in one store");
        let Some(mut storage) = TableStorage::new(ty.minimum, init) else {
            bail!("failed to allocate a table of {} elements", ty.minimum);
        };
        let vm = Owned::new(VmTable {
            base: storage.base(),
            len: storage.len() as u32,
            id,
        });
        self.tables.push(TableData { vm, storage, ty });
        Ok(id)
    }

    pub(crate) fn table(&self, index: u32) -> &TableData {
        &self.tables[index as usize]
    }

    pub(crate) fn table_mut(&mut self, index: u32) -> &mut TableData {
        &mut self.tables[index as usize]
    }

    pub(crate) fn table_ptr(&self, index: u32) -> *mut VmTable {
        self.tables[index as usize].vm.as_ptr()
    }

    fn resize_table(&mut self, index: u32, len: u64, init: u64) -> bool {
        let t = &mut self.tables[index as usize];
        if !t.storage.grow_to(len, init) {
            return false;
        }
        let (base, len) = (t.storage.base(), t.storage.len() as u32);
        let vm = t.vm.get_mut();
        vm.base = base;
        vm.len = len;
        true
    }

    // ---- globals ----

    pub(crate) fn push_global(&mut self, ty: env::GlobalType, bits: u128) -> u32 {
        let id = u32::try_from(self.globals.len()).expect("too many globals in one store");
        let vm = Owned::new(VmGlobal {
            lo: bits as u64,
            hi: (bits >> 64) as u64,
        });
        self.globals.push(GlobalData { vm, ty });
        id
    }

    pub(crate) fn global(&self, index: u32) -> &GlobalData {
        &self.globals[index as usize]
    }

    pub(crate) fn global_ptr(&self, index: u32) -> *mut VmGlobal {
        self.globals[index as usize].vm.as_ptr()
    }

    /// The bits of global `index` (scalars zero-extended).
    pub(crate) fn global_bits(&self, index: u32) -> u128 {
        let g = &self.globals[index as usize];
        let vm = g.vm.get();
        let bits = u128::from(vm.lo) | (u128::from(vm.hi) << 64);
        mask_bits(g.ty.content, bits)
    }

    pub(crate) fn set_global_bits(&mut self, index: u32, bits: u128) {
        let g = &mut self.globals[index as usize];
        let bits = mask_bits(g.ty.content, bits);
        let vm = g.vm.get_mut();
        vm.lo = bits as u64;
        vm.hi = (bits >> 64) as u64;
    }

    // ---- instances ----

    pub(crate) fn push_instance(&mut self, data: InstanceData) -> u32 {
        let index = u32::try_from(self.instances.len()).expect("too many instances in one store");
        self.instances.push(data);
        index
    }

    pub(crate) fn instance(&self, index: u32) -> &InstanceData {
        &self.instances[index as usize]
    }

    pub(crate) fn instance_mut(&mut self, index: u32) -> &mut InstanceData {
        &mut self.instances[index as usize]
    }

    // ---- tags ----

    /// Adds a tag of (canonical) function type `ty`; returns its store
    /// index, its identity.
    pub(crate) fn push_tag(&mut self, ty: FuncType) -> u32 {
        self.tags.push(super::exceptions::TagData { ty });
        u32::try_from(self.tags.len() - 1).expect("too many tags in one store")
    }

    /// The type of tag `index`.
    pub(crate) fn tag_type(&self, index: u32) -> &FuncType {
        &self.tags[index as usize].ty
    }

    // ---- externrefs ----

    /// Stores a host value; returns its `externref` bits
    /// (`gc_layout::host_value_ref` of its index).
    pub(crate) fn push_externref(&mut self, value: Box<dyn Any + Send + Sync>) -> u32 {
        // Bits 2..32 hold the index: at most 2^30 live host values.
        let index = match self.free_externrefs.pop() {
            Some(i) => {
                self.externrefs[i as usize] = Some(value);
                i
            }
            None => {
                let i = u32::try_from(self.externrefs.len())
                    .ok()
                    .filter(|&i| i < 1 << 30)
                    .expect("too many externrefs in one store");
                self.externrefs.push(Some(value));
                i
            }
        };
        kiln_environ::gc_layout::host_value_ref(index)
    }

    /// Drops every host value whose index `reached` does not hold (after a
    /// collection: nothing refers to them any more).
    pub(crate) fn free_unreached_externrefs(&mut self, reached: &[bool]) {
        for (i, slot) in self.externrefs.iter_mut().enumerate() {
            if slot.is_some() && !reached.get(i).copied().unwrap_or(false) {
                *slot = None;
                self.free_externrefs.push(i as u32);
            }
        }
    }

    /// The host value of `externref` bits `bits`, or `None` when they
    /// are a wasm GC value that `extern.convert_any` made an `externref`.
    pub(crate) fn externref(&self, bits: u32) -> Option<&(dyn Any + Send + Sync)> {
        use kiln_environ::gc_layout::{host_value_index, is_host_value};
        if !is_host_value(bits) {
            return None;
        }
        let value = self.externrefs[host_value_index(bits) as usize]
            .as_deref()
            .expect("a reachable host value is live");
        Some(value)
    }
}

impl MemoryData {
    /// The memory's bytes.
    pub(crate) fn data(&self) -> &[u8] {
        self.storage.as_slice()
    }

    /// The memory's bytes, mutably.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        self.storage.as_mut_slice()
    }

    /// Maps a copy-on-write image over a fresh memory; `false` if it could
    /// not be (a heap memory, or the mapping failed): copy instead.
    pub(crate) fn map_image(&mut self, image: &MemoryImage) -> bool {
        self.storage.map_image(image)
    }

    /// Current size in pages.
    pub(crate) fn pages(&self) -> u64 {
        self.storage.len() as u64 >> self.ty.page_size_log2
    }

    /// The type with the current size as minimum.
    pub(crate) fn current_type(&self) -> env::MemoryType {
        env::MemoryType {
            minimum: self.pages(),
            ..self.ty
        }
    }
}

impl StoreOpaque {
    pub(crate) fn memory_mut(&mut self, index: u32) -> &mut MemoryData {
        &mut self.memories[index as usize]
    }
}

impl TableData {
    /// The table's elements.
    pub(crate) fn elems(&self) -> &[u64] {
        self.storage.as_slice()
    }

    /// The table's elements, mutably.
    pub(crate) fn elems_mut(&mut self) -> &mut [u64] {
        self.storage.as_mut_slice()
    }

    /// The type with the current size as minimum.
    pub(crate) fn current_type(&self) -> env::TableType {
        env::TableType {
            minimum: self.storage.len() as u64,
            ..self.ty
        }
    }
}

/// `pages` pages of memory type `ty` in bytes, as the limiter sees sizes:
/// saturated at `usize::MAX` (a memory64 maximum of 2^48 pages is 2^64
/// bytes).
fn limiter_bytes(ty: &env::MemoryType, pages: u64) -> usize {
    ty.pages_to_bytes(pages)
        .and_then(|b| usize::try_from(b).ok())
        .unwrap_or(usize::MAX)
}

/// Keeps only the bits a value of type `ty` uses.
pub(crate) fn mask_bits(ty: env::ValType, bits: u128) -> u128 {
    match ty {
        env::ValType::I32 | env::ValType::F32 => bits & 0xffff_ffff,
        env::ValType::V128 => bits,
        _ => bits & u128::from(u64::MAX),
    }
}

/// Value slots taken by values of `tys` (a `v128` takes two).
pub(crate) fn slot_count(tys: &[env::ValType]) -> u32 {
    tys.iter()
        .map(|t| if *t == env::ValType::V128 { 2 } else { 1 })
        .sum()
}

/// A function type's parameter and result counts in value slots (a
/// `v128` takes two).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FuncSlots {
    params: u32,
    results: u32,
}

/// Projects the store's [`ResourceLimiter`] out of the embedder data.
pub(crate) type LimiterFn<T> =
    Box<dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static>;

/// A store: its embedder-independent part, host functions, limiter and the
/// embedder's data.
pub struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) host_funcs: Vec<HostFunc<T>>,
    /// Functions already created in this store for a [`Linker`](crate::Linker)'s
    /// host-function definitions, by the definition's identity (the address
    /// of its shared closure, and its signature id), so repeated
    /// instantiation reuses them instead of growing the store. The address
    /// cannot be reused by another closure while the store lives: the
    /// store keeps a clone of the closure in `host_funcs`.
    linker_funcs: HashMap<(usize, u32), u32>,
    pub(crate) limiter: Option<LimiterFn<T>>,
    pub(crate) data: T,
}

impl<T> StoreInner<T> {
    pub(crate) fn new(engine: &Engine, data: T) -> Self {
        let mut opaque = StoreOpaque::new(engine);
        if engine.native().is_some() {
            opaque.native = Some(Owned::new(NativeStore::new::<T>()));
        }
        StoreInner {
            opaque,
            host_funcs: Vec::new(),
            linker_funcs: HashMap::new(),
            limiter: None,
            data,
        }
    }

    /// Adds a host function; returns its store function index.
    pub(crate) fn push_host_func(&mut self, ty: FuncType, f: HostFunc<T>) -> u32 {
        let host = u32::try_from(self.host_funcs.len()).expect("too many host functions");
        self.host_funcs.push(f);
        let sig = ty.id();
        let slots = self.opaque.register_type(&ty, sig);
        let index = self.opaque.push_func(
            sig,
            slots,
            VmFuncKind::Host { id: host },
            FuncKind::Host { host },
        );
        if let Some(native) = self.opaque.engine.native() {
            let ctx = Owned::new(HostContext {
                magic: kiln_environ::VMHOST_CONTEXT_MAGIC,
                array_call: super::native::call::host_entry::<T> as *const () as usize,
                func: index,
            });
            // A failed trampoline leaves `wasm_call` 0: instantiation then
            // refuses to import the function rather than call address 0.
            let wasm_call = native.host_trampoline(sig, ty.inner()).unwrap_or(0);
            let entry = NativeEntry {
                wasm_call,
                array_call: super::native::call::host_entry::<T> as *const () as usize,
                vmctx: ctx.as_ptr() as usize,
            };
            self.opaque.set_native_entry(index, entry);
            self.opaque.funcs[index as usize].host_ctx = Some(ctx);
        }
        index
    }

    /// The store function for a linker's host-function definition `f` of
    /// type `ty`: created on first use, then reused.
    pub(crate) fn linker_host_func(&mut self, ty: &FuncType, f: &HostFunc<T>) -> u32 {
        let sig = ty.id();
        let key = (Arc::as_ptr(f).cast::<()>() as usize, sig);
        if let Some(&index) = self.linker_funcs.get(&key) {
            return index;
        }
        let index = self.push_host_func(ty.clone(), f.clone());
        self.linker_funcs.insert(key, index);
        index
    }

    fn limiter(&mut self) -> Option<&mut dyn ResourceLimiter> {
        let f = self.limiter.as_mut()?;
        Some(f(&mut self.data))
    }

    /// Creates a memory of type `ty`, asking the limiter first.
    pub(crate) fn new_memory(&mut self, ty: env::MemoryType) -> Result<u32> {
        let limit = ty.absolute_max_pages();
        if ty.minimum > limit || ty.maximum.is_some_and(|m| m > limit) {
            bail!("memory size must be at most {limit} pages");
        }
        if let Some(limiter) = self.limiter() {
            let desired = limiter_bytes(&ty, ty.minimum);
            let maximum = ty.maximum.map(|m| limiter_bytes(&ty, m));
            if !limiter.memory_growing(0, desired, maximum)? {
                bail!(
                    "memory minimum size of {} pages exceeds memory limits",
                    ty.minimum
                );
            }
        }
        self.opaque.push_memory(ty)
    }

    /// Creates a table of type `ty` filled with `init`, asking the limiter
    /// first.
    pub(crate) fn new_table(&mut self, ty: env::TableType, init: u64) -> Result<u32> {
        if let Some(limiter) = self.limiter() {
            let desired = usize::try_from(ty.minimum).unwrap_or(usize::MAX);
            let maximum = ty.maximum.map(|m| usize::try_from(m).unwrap_or(usize::MAX));
            if !limiter.table_growing(0, desired, maximum)? {
                bail!(
                    "table minimum size of {} elements exceeds table limits",
                    ty.minimum
                );
            }
        }
        self.opaque.push_table(ty, init)
    }

    /// Grows memory `index` by `delta` pages, subject to its maximum and the
    /// limiter. `Ok(Some(old_pages))` on success, `Ok(None)` if refused.
    pub(crate) fn grow_memory(&mut self, index: u32, delta: u64) -> Result<Option<u64>> {
        let m = self.opaque.memory(index);
        let old = m.pages();
        let limit = m.ty.absolute_max_pages();
        let max = m.ty.maximum.unwrap_or(limit).min(limit);
        let Some(new) = old.checked_add(delta).filter(|&n| n <= max) else {
            return Ok(None);
        };
        if delta == 0 {
            return Ok(Some(old));
        }
        let ty = self.opaque.memory(index).ty;
        let to_bytes = |pages| limiter_bytes(&ty, pages);
        let declared_max = ty.maximum.map(to_bytes);
        if let Some(limiter) = self.limiter()
            && !limiter.memory_growing(to_bytes(old), to_bytes(new), declared_max)?
        {
            return Ok(None);
        }
        Ok(self.opaque.resize_memory(index, new).then_some(old))
    }

    /// Grows table `index` by `delta` elements filled with `init`, subject
    /// to its maximum and the limiter. `Ok(Some(old_len))` on success,
    /// `Ok(None)` if refused.
    pub(crate) fn grow_table(&mut self, index: u32, delta: u64, init: u64) -> Result<Option<u64>> {
        let t = self.opaque.table(index);
        let old = t.elems().len() as u64;
        let max =
            t.ty.maximum
                .unwrap_or(u64::from(u32::MAX))
                .min(u64::from(u32::MAX));
        let declared_max = t.ty.maximum;
        let Some(new) = old.checked_add(delta).filter(|&n| n <= max) else {
            return Ok(None);
        };
        if delta == 0 {
            return Ok(Some(old));
        }
        if let Some(limiter) = self.limiter() {
            let to_usize = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
            if !limiter.table_growing(to_usize(old), to_usize(new), declared_max.map(to_usize))? {
                return Ok(None);
            }
        }
        Ok(self.opaque.resize_table(index, new, init).then_some(old))
    }
}
