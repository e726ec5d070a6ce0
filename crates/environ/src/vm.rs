//! The instance model: the records every backend runs against.
//!
//! The runtime (`kiln`'s `runtime` module) allocates each of these once,
//! at a stable address, for as long as its store lives. The interpreter
//! reads and writes them through raw pointers; native code reaches the
//! same memory, table, global and function records through each
//! instance's `VMContext`, whose layout is [`VMOffsets`](crate::VMOffsets)
//! (`docs/native-abi.md`). No backend owns them, so a store's memories,
//! tables, globals and function references look the same whichever
//! backend runs its code, and code from two backends can share them.
//!
//! ```text
//!   VmInstance ──memories[i]──► VmMemory { base, len, id }   (linear memory i)
//!              ──tables[i]────► VmTable  { base, len, id }   (u64 reference bits)
//!              ──globals[i]───► VmGlobal { lo, hi }
//!              ──funcs[i]─────► VmFuncRef                    (function index space)
//!              ──sigs[t]──────  engine-wide signature id of type index t
//!
//!   VMContext (native code's view of the same instance, VMOffsets layout):
//!     memories[i] ─► the same VmMemory     tables[i]  ─► the same VmTable
//!     globals[i]  ─► the same VmGlobal     funcrefs[i] ─► the same VmFuncRef
//! ```
//!
//! Reference values (in value slots, globals and tables) are `u64` bits:
//! `0` is null; a non-null `funcref` is the address of a [`VmFuncRef`]; a
//! reference of the `any` or `extern` hierarchy is a 32-bit GC reference
//! (an i31, a host value's index, or an object's offset in the store's
//! [`VmGcHeap`]), zero-extended, as [`crate::gc_layout`] describes.

use alloc::boxed::Box;

/// A linear memory: `docs/native-abi.md`'s memory record.
///
/// The runtime updates `base` and `len` when the memory grows; code
/// reloads them after every call out of the current function.
#[repr(C)]
#[derive(Debug)]
pub struct VmMemory {
    /// First byte of the memory; dangling but non-null when `len == 0`.
    pub base: *mut u8,
    /// Current size in bytes.
    pub len: usize,
    /// Store-level id, so the runtime can find its owner.
    pub id: u32,
}

/// A table of `len` reference slots: `docs/native-abi.md`'s table record.
#[repr(C)]
#[derive(Debug)]
pub struct VmTable {
    /// First element; dangling but non-null when `len == 0`.
    pub base: *mut u64,
    /// Current size in elements.
    pub len: u32,
    /// Store-level id, so the runtime can find its owner.
    pub id: u32,
}

/// A global's storage. Scalars live in `lo` (an `i32` or `f32` in its low
/// 32 bits, zero-extended); a `v128` uses `lo` for lanes' low half and
/// `hi` for the high half, both in native byte order.
#[repr(C, align(16))]
#[derive(Debug, Default, Clone, Copy)]
pub struct VmGlobal {
    /// Low 64 bits of the value.
    pub lo: u64,
    /// High 64 bits (only `v128` uses them).
    pub hi: u64,
}

/// A store's GC heap, as code sees it: objects are at byte offsets from
/// `base` (`crate::gc_layout`). The runtime updates `base` and `len` when
/// the heap grows or moves (a collection), so code reloads `base` after
/// every call out of the current function and every allocation.
///
/// `top` and `end` are the allocation fast path, shared by compiled code,
/// the interpreter and the runtime: an object of `size` bytes fits when
/// `top + size <= end`, and is then at offset `top`, which grows by
/// `size`. The bytes from `top` on are not zeroed (a space is reused
/// after a collection): whoever allocates writes every field. Otherwise
/// the allocation goes to the runtime, which may collect; it sets `end`
/// to 0 to send every allocation its way (a test mode).
#[repr(C)]
#[derive(Debug)]
pub struct VmGcHeap {
    /// The heap's first byte; dangling but non-null while it is empty.
    pub base: *mut u8,
    /// Bytes in use or reserved for objects.
    pub len: usize,
    /// Offset of the first free byte (at least 8: offset 0 is null).
    pub top: u32,
    /// Where the fast path stops.
    pub end: u32,
    /// Where the nursery starts: objects below it are old. A store of a
    /// reference to a young object into an old one goes through the
    /// write barrier (`docs/gc.md`, "The collector").
    pub nursery_start: u32,
}

/// Where a function's code is, for the interpreter.
#[derive(Debug, Clone, Copy)]
pub enum VmFuncKind {
    /// A function defined in a wasm instance.
    Wasm {
        /// The instance that defines it.
        instance: *const VmInstance,
        /// Its index among the module's *defined* functions.
        defined_index: u32,
    },
    /// A host function; the runtime's own id for it.
    Host {
        /// Runtime-chosen id, passed back when the function is called.
        id: u32,
    },
}

/// A callable function: one record per function per store, never moved;
/// a non-null `funcref` value is its address, whichever backend runs.
///
/// The first four fields are `docs/native-abi.md`'s funcref record, at
/// the offsets [`VMOffsets`](crate::VMOffsets) gives (`funcref_wasm_call`
/// … `funcref_sig`), which is what native code reads; the interpreter
/// reads `sig`, `kind` and the slot counts. In an interpreter store the
/// native fields are 0.
#[repr(C)]
#[derive(Debug)]
pub struct VmFuncRef {
    /// Code to call in the wasm convention (native stores).
    pub wasm_call: usize,
    /// Code to call in the array convention, or 0 if the host cannot
    /// call it (native stores).
    pub array_call: usize,
    /// The callee context native code passes as first argument: the
    /// defining instance's `VMContext`, or a host function's context.
    pub vmctx: usize,
    /// Engine-wide canonical signature id: two functions have the same id
    /// exactly when their types are equal.
    pub sig: u32,
    /// Number of value slots its parameters take (a `v128` takes two).
    pub param_slots: u32,
    /// Number of value slots its results take.
    pub result_slots: u32,
    /// Where the code is, for the interpreter.
    pub kind: VmFuncKind,
}

/// A live instance as the interpreter and the runtime's builtins see it.
#[derive(Debug)]
pub struct VmInstance {
    /// The backend's code for the instance's module, type-erased so this
    /// record belongs to no backend: in an interpreter store the
    /// interpreter's translated module. The runtime's module, which the
    /// instance keeps alive, owns it.
    pub code: *const (),
    /// Memory index space.
    pub memories: Box<[*mut VmMemory]>,
    /// Table index space.
    pub tables: Box<[*mut VmTable]>,
    /// Global index space.
    pub globals: Box<[*mut VmGlobal]>,
    /// Function index space (imports first).
    pub funcs: Box<[*const VmFuncRef]>,
    /// Engine-wide signature id of each module type index.
    pub sigs: Box<[u32]>,
    /// Tag index space (imports first): each tag's store id, its identity
    /// (a thrown exception matches a handler when the ids are equal).
    pub tags: Box<[u32]>,
    /// Each data segment's bytes (pointer, length); `memory.init` reads
    /// them, `data.drop` sets the length to 0. The bytes belong to the
    /// module, which outlives the instance.
    pub datas: Box<[(*const u8, usize)]>,
    /// Each element segment's evaluated reference bits; `elem.drop`
    /// empties it.
    pub elems: Box<[Box<[u64]>]>,
    /// Runtime-chosen id of this instance, for backtraces.
    pub id: u32,
    /// The store's GC heap record (one per store, shared by its
    /// instances).
    pub gc_heap: *mut VmGcHeap,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VMOffsets;
    use core::mem::{offset_of, size_of};

    #[test]
    fn records_have_the_native_abi_layout() {
        let o = VMOffsets::from_counts(size_of::<usize>() as u8, 0, 0, 0, 0, 0);
        assert_eq!(
            o.funcref_wasm_call() as usize,
            offset_of!(VmFuncRef, wasm_call)
        );
        assert_eq!(
            o.funcref_array_call() as usize,
            offset_of!(VmFuncRef, array_call)
        );
        assert_eq!(o.funcref_vmctx() as usize, offset_of!(VmFuncRef, vmctx));
        assert_eq!(o.funcref_sig() as usize, offset_of!(VmFuncRef, sig));
        assert_eq!(o.memory_base() as usize, offset_of!(VmMemory, base));
        assert_eq!(o.memory_len() as usize, offset_of!(VmMemory, len));
        assert_eq!(o.table_base() as usize, offset_of!(VmTable, base));
        assert_eq!(o.table_len() as usize, offset_of!(VmTable, len));
        assert_eq!(size_of::<VmGlobal>(), 16);
    }
}
