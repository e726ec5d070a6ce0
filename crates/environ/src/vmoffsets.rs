//! [`VMOffsets`]: the byte layout of an instance's `VMContext` and of the
//! small records native code reads through it, for a given pointer size.
//!
//! Native code reaches everything an instance owns through one pointer, the
//! callee's `VMContext` (its first argument). The runtime allocates that
//! block and fills it; the compiler only needs the offsets computed here.
//! They depend only on the module's index spaces and the target's pointer
//! size, so a cross compiler computes the same layout as the runtime on the
//! target. `docs/native-abi.md` draws the layout and explains every field.

use crate::ModuleTranslation;

/// Value of the `VMContext` magic field ("kiln" in ASCII, read as a
/// little-endian `u32`); lets the runtime check a pointer really is one.
pub const VMCONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"kiln");

/// Value of the magic field of a host function's context (`"khst"`), the
/// `VMContext` stand-in passed as callee to a host function.
pub const VMHOST_CONTEXT_MAGIC: u32 = u32::from_le_bytes(*b"khst");

/// Size of one value slot in the array calling convention (`ValRaw`): every
/// value, `v128` included, takes one 16-byte slot.
pub const VAL_RAW_SIZE: u32 = 16;

/// Where everything lives in a module's `VMContext`, for one pointer size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VMOffsets {
    /// Target pointer size in bytes: 4 or 8.
    pub pointer_size: u8,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Number of memories (imported and defined).
    pub num_memories: u32,
    /// Number of tables (imported and defined).
    pub num_tables: u32,
    /// Number of globals (imported and defined).
    pub num_globals: u32,
    /// Number of functions in the index space (imported and defined).
    pub num_funcs: u32,
    imported_funcs: u32,
    memories: u32,
    tables: u32,
    globals: u32,
    funcrefs: u32,
    size: u32,
}

impl VMOffsets {
    /// The layout for `module` on a target with `pointer_size`-byte pointers.
    ///
    /// # Panics
    /// If `pointer_size` is not 4 or 8 (a caller bug, not bad input).
    pub fn new(pointer_size: u8, module: &ModuleTranslation) -> Self {
        Self::from_counts(
            pointer_size,
            module.num_imported_funcs,
            module.memories.len() as u32,
            module.tables.len() as u32,
            module.globals.len() as u32,
            module.functions.len() as u32,
        )
    }

    /// The layout from raw index-space sizes.
    ///
    /// # Panics
    /// If `pointer_size` is not 4 or 8.
    pub fn from_counts(
        pointer_size: u8,
        num_imported_funcs: u32,
        num_memories: u32,
        num_tables: u32,
        num_globals: u32,
        num_funcs: u32,
    ) -> Self {
        assert!(pointer_size == 4 || pointer_size == 8, "pointer size");
        let p = u32::from(pointer_size);
        // Header: magic, limits, builtins, signature ids, GC heap, tier
        // table; one pointer slot each, so every later field is pointer
        // aligned.
        let imported_funcs = 6 * p;
        let memories = imported_funcs + num_imported_funcs * 3 * p;
        let tables = memories + num_memories * p;
        let globals = tables + num_tables * p;
        let funcrefs = globals + num_globals * p;
        let size = funcrefs + num_funcs * p;
        Self {
            pointer_size,
            num_imported_funcs,
            num_memories,
            num_tables,
            num_globals,
            num_funcs,
            imported_funcs,
            memories,
            tables,
            globals,
            funcrefs,
            size,
        }
    }

    fn ptr(&self) -> u32 {
        u32::from(self.pointer_size)
    }

    // ---- VMContext header ----

    /// Offset of the `u32` magic ([`VMCONTEXT_MAGIC`]).
    pub fn vmctx_magic(&self) -> u32 {
        0
    }

    /// Offset of the pointer to the store's runtime limits record.
    pub fn vmctx_runtime_limits(&self) -> u32 {
        self.ptr()
    }

    /// Offset of the pointer to the builtin function table (an array of
    /// code pointers indexed by [`crate::Builtin::index`]).
    pub fn vmctx_builtins(&self) -> u32 {
        2 * self.ptr()
    }

    /// Offset of the pointer to the engine-wide signature ids of the
    /// module's types (an array of `u32`, indexed by type index).
    pub fn vmctx_signature_ids(&self) -> u32 {
        3 * self.ptr()
    }

    /// Offset of the pointer to the store's GC heap record
    /// ([`crate::vm::VmGcHeap`]).
    pub fn vmctx_gc_heap(&self) -> u32 {
        4 * self.ptr()
    }

    /// Offset of the pointer to the module's tier table (null unless the
    /// module was compiled for tiering): one code address per defined
    /// function, where calls of its baseline entry continue, then one
    /// signed 64-bit counter per defined function. See
    /// `docs/native-abi.md`, "Tiering".
    pub fn vmctx_tier_table(&self) -> u32 {
        5 * self.ptr()
    }

    /// Byte offset, from the tier table's start, of defined function
    /// `defined`'s counter.
    pub fn tier_counter(&self, defined: u32) -> u32 {
        8 * (self.num_funcs - self.num_imported_funcs + defined)
    }

    /// Byte offset, from the tier table's start, of defined function
    /// `defined`'s code address.
    pub fn tier_entry(&self, defined: u32) -> u32 {
        8 * defined
    }

    // ---- index spaces ----

    /// Offset of imported function `index`'s entry (three pointers).
    pub fn vmctx_imported_func(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_imported_funcs);
        self.imported_funcs + index * 3 * self.ptr()
    }

    /// Offset of the wasm-convention code pointer of imported function
    /// `index`.
    pub fn vmctx_imported_func_wasm_call(&self, index: u32) -> u32 {
        self.vmctx_imported_func(index)
    }

    /// Offset of the callee `VMContext` of imported function `index`.
    pub fn vmctx_imported_func_vmctx(&self, index: u32) -> u32 {
        self.vmctx_imported_func(index) + self.ptr()
    }

    /// Offset of the funcref record pointer of imported function `index`.
    pub fn vmctx_imported_func_funcref(&self, index: u32) -> u32 {
        self.vmctx_imported_func(index) + 2 * self.ptr()
    }

    /// Offset of the pointer to memory `index`'s record ([`VMOffsets::memory_base`]).
    pub fn vmctx_memory(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_memories);
        self.memories + index * self.ptr()
    }

    /// Offset of the pointer to table `index`'s record.
    pub fn vmctx_table(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_tables);
        self.tables + index * self.ptr()
    }

    /// Offset of the pointer to global `index`'s 16-byte cell.
    pub fn vmctx_global(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_globals);
        self.globals + index * self.ptr()
    }

    /// Offset of the pointer to function `index`'s funcref record (imports
    /// included; the same pointer `ref.func` yields).
    pub fn vmctx_funcref(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_funcs);
        self.funcrefs + index * self.ptr()
    }

    /// Total size of the `VMContext` in bytes.
    pub fn size_of_vmctx(&self) -> u32 {
        self.size
    }

    // ---- memory record: matches kiln_interp::vm::VmMemory ----

    /// Offset of `base` (pointer to byte 0) in a memory record.
    pub fn memory_base(&self) -> u32 {
        0
    }

    /// Offset of `len` (current size in bytes, pointer-sized) in a memory
    /// record.
    pub fn memory_len(&self) -> u32 {
        self.ptr()
    }

    // ---- table record: matches kiln_interp::vm::VmTable ----

    /// Offset of `base` (pointer to the first `u64` element) in a table
    /// record.
    pub fn table_base(&self) -> u32 {
        0
    }

    /// Offset of `len` (`u32` element count) in a table record.
    pub fn table_len(&self) -> u32 {
        self.ptr()
    }

    /// Size of one table element: reference bits are always a `u64`.
    pub fn table_element_size(&self) -> u32 {
        8
    }

    // ---- funcref record ----

    /// Offset of the wasm-convention code pointer in a funcref record.
    pub fn funcref_wasm_call(&self) -> u32 {
        0
    }

    /// Offset of the array-convention code pointer in a funcref record.
    pub fn funcref_array_call(&self) -> u32 {
        self.ptr()
    }

    /// Offset of the callee `VMContext` pointer in a funcref record.
    pub fn funcref_vmctx(&self) -> u32 {
        2 * self.ptr()
    }

    /// Offset of the engine-wide signature id (`u32`) in a funcref record.
    pub fn funcref_sig(&self) -> u32 {
        3 * self.ptr()
    }

    /// Size of the part of a funcref record native code reads (pointer
    /// aligned); the runtime's record ([`VmFuncRef`](crate::vm::VmFuncRef))
    /// carries the interpreter's fields after it.
    pub fn size_of_funcref(&self) -> u32 {
        align(3 * self.ptr() + 4, self.ptr())
    }

    // ---- runtime limits record (one per store) ----

    /// Offset of the stack limit (pointer-sized): the lowest stack address
    /// wasm may use; a prologue below it traps with `StackOverflow`.
    pub fn limits_stack_limit(&self) -> u32 {
        0
    }

    /// Offset of the fuel counter (`i64`, counts up toward zero; positive
    /// means exhausted).
    pub fn limits_fuel_consumed(&self) -> u32 {
        8
    }

    /// Offset of the interrupt flag (`u32`, non-zero when set).
    pub fn limits_interrupt(&self) -> u32 {
        16
    }

    /// Offset of the frame pointer of the last wasm → host exit (pointer).
    pub fn limits_last_wasm_exit_fp(&self) -> u32 {
        24
    }

    /// Offset of the wasm pc of the last wasm → host exit (pointer).
    pub fn limits_last_wasm_exit_pc(&self) -> u32 {
        24 + self.ptr()
    }

    /// Offset of the frame pointer of the innermost host → wasm entry
    /// (pointer), where backtraces stop.
    pub fn limits_last_wasm_entry_fp(&self) -> u32 {
        24 + 2 * self.ptr()
    }

    /// Size of the runtime limits record.
    pub fn size_of_limits(&self) -> u32 {
        align(24 + 3 * self.ptr(), 8)
    }

    // ---- host function context ----

    /// Offset of the `u32` magic ([`VMHOST_CONTEXT_MAGIC`]) in a host
    /// function's context.
    pub fn host_ctx_magic(&self) -> u32 {
        0
    }

    /// Offset of the array-convention host function pointer in a host
    /// function's context; the wasm-to-array trampoline calls it.
    pub fn host_ctx_array_call(&self) -> u32 {
        self.ptr()
    }
}

fn align(x: u32, to: u32) -> u32 {
    x.div_ceil(to) * to
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn fields(o: &VMOffsets) -> Vec<(u32, u32)> {
        let p = u32::from(o.pointer_size);
        let mut v = alloc::vec![
            (o.vmctx_magic(), 4),
            (o.vmctx_runtime_limits(), p),
            (o.vmctx_builtins(), p),
            (o.vmctx_signature_ids(), p),
            (o.vmctx_gc_heap(), p),
            (o.vmctx_tier_table(), p),
        ];
        for i in 0..o.num_imported_funcs {
            v.push((o.vmctx_imported_func_wasm_call(i), p));
            v.push((o.vmctx_imported_func_vmctx(i), p));
            v.push((o.vmctx_imported_func_funcref(i), p));
        }
        v.extend((0..o.num_memories).map(|i| (o.vmctx_memory(i), p)));
        v.extend((0..o.num_tables).map(|i| (o.vmctx_table(i), p)));
        v.extend((0..o.num_globals).map(|i| (o.vmctx_global(i), p)));
        v.extend((0..o.num_funcs).map(|i| (o.vmctx_funcref(i), p)));
        v
    }

    fn check(o: &VMOffsets) {
        let mut f = fields(o);
        f.sort();
        let p = u32::from(o.pointer_size);
        for w in f.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "overlap: {w:?}");
        }
        for (off, size) in &f {
            assert_eq!(off % size.min(&p), 0, "misaligned field at {off}");
            assert!(off + size <= o.size_of_vmctx());
        }
        // Records.
        let limits = [
            (o.limits_stack_limit(), p),
            (o.limits_fuel_consumed(), 8),
            (o.limits_interrupt(), 4),
            (o.limits_last_wasm_exit_fp(), p),
            (o.limits_last_wasm_exit_pc(), p),
            (o.limits_last_wasm_entry_fp(), p),
        ];
        for w in limits.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0);
        }
        for (off, size) in limits {
            assert_eq!(off % size, 0);
            assert!(off + size <= o.size_of_limits());
        }
        assert!(o.funcref_sig() + 4 <= o.size_of_funcref());
        assert_eq!(o.size_of_funcref() % p, 0);
    }

    #[test]
    fn layouts_for_both_pointer_sizes() {
        for p in [4u8, 8] {
            for counts in [(0, 0, 0, 0, 0), (2, 1, 3, 5, 7), (10, 0, 1, 0, 10)] {
                let o = VMOffsets::from_counts(p, counts.0, counts.1, counts.2, counts.3, counts.4);
                check(&o);
            }
        }
    }

    #[test]
    fn pointer_size_scales_the_layout() {
        let o4 = VMOffsets::from_counts(4, 1, 1, 1, 1, 2);
        let o8 = VMOffsets::from_counts(8, 1, 1, 1, 1, 2);
        assert_eq!(o8.size_of_vmctx(), 2 * o4.size_of_vmctx());
        assert_eq!(o4.vmctx_imported_func(0), 24);
        assert_eq!(o8.vmctx_imported_func(0), 48);
        assert_eq!(o4.memory_len(), 4);
        assert_eq!(o8.memory_len(), 8);
        assert_eq!(o4.size_of_funcref(), 16);
        assert_eq!(o8.size_of_funcref(), 32);
        assert_eq!(o8.size_of_limits(), 48);
        assert_eq!(o4.size_of_limits(), 40);
    }
}
