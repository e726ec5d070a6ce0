//! [`Builtin`]: the runtime functions ("libcalls") native code calls for
//! work too large or too policy-laden to inline (growth, bulk memory and
//! table operations, fuel and interrupt slow paths, float rounding on ISAs
//! without the instructions).
//!
//! The table is shared by every native backend and the runtime: the runtime
//! fills an array of function pointers indexed by [`Builtin::index`] and
//! stores its address in each `VMContext` header; compiled code loads the
//! pointer it needs from there. Every builtin uses the platform's C calling
//! convention and takes the calling instance's `VMContext` first.
//!
//! A builtin that must trap (an out-of-bounds `memory.copy`, a limiter
//! refusing with an error, fuel exhaustion, [`Builtin::Trap`] always) never
//! returns: the runtime
//! records the reason and unwinds to the innermost host → wasm entry, the
//! same way it leaves a faulting signal handler. The exit frame pointer and
//! pc are in the runtime limits record at that point (see
//! `docs/native-abi.md`).

/// The type of one builtin parameter or result, at the C ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinType {
    /// A pointer-sized value: the caller's `VMContext`.
    VmCtx,
    /// Another pointer (a buffer in the caller's frame).
    Ptr,
    /// A 32-bit integer (indices, sizes and addresses of 32-bit memories).
    I32,
    /// A 64-bit integer (also reference bits, see `docs/native-abi.md`).
    I64,
    /// A 32-bit float.
    F32,
    /// A 64-bit float.
    F64,
}

/// A builtin's C signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuiltinSignature {
    /// Parameters, in order; the first is always [`BuiltinType::VmCtx`].
    pub params: &'static [BuiltinType],
    /// The single result, if any.
    pub result: Option<BuiltinType>,
}

use BuiltinType::{F32, F64, I32, I64, Ptr, VmCtx};

macro_rules! builtins {
    ($( $(#[$doc:meta])* $name:ident = $sym:literal ($($p:ident),*) $(-> $r:ident)?; )*) => {
        /// Every runtime function native code may call.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum Builtin {
            $( $(#[$doc])* $name, )*
        }

        impl Builtin {
            /// Every builtin, in table order.
            pub const ALL: &'static [Builtin] = &[ $( Builtin::$name, )* ];

            /// Its C signature.
            pub fn signature(self) -> BuiltinSignature {
                match self {
                    $( Builtin::$name => BuiltinSignature {
                        params: &[$($p),*],
                        result: builtins!(@ret $($r)?),
                    }, )*
                }
            }

            /// A stable symbol-like name, for diagnostics and artifacts.
            pub fn name(self) -> &'static str {
                match self {
                    $( Builtin::$name => $sym, )*
                }
            }
        }
    };
    (@ret) => { None };
    (@ret $r:ident) => { Some($r) };
}

builtins! {
    /// `memory.grow`: `(vmctx, memory, delta_pages) -> old_pages`, or `-1`
    /// when growth is refused (the runtime updates the memory record).
    /// Addresses, lengths, indices and deltas are `I64` in every builtin,
    /// zero-extended by the caller for 32-bit memories and tables, so one
    /// signature serves memory64 and table64 too.
    MemoryGrow = "memory_grow" (VmCtx, I32, I64) -> I64;
    /// `memory.fill`: `(vmctx, memory, dst, byte, len)`; traps when out of
    /// bounds.
    MemoryFill = "memory_fill" (VmCtx, I32, I64, I32, I64);
    /// `memory.copy`: `(vmctx, dst_memory, src_memory, dst, src, len)`.
    MemoryCopy = "memory_copy" (VmCtx, I32, I32, I64, I64, I64);
    /// `memory.init`: `(vmctx, memory, data_index, dst, src, len)`.
    MemoryInit = "memory_init" (VmCtx, I32, I32, I64, I32, I32);
    /// `data.drop`: `(vmctx, data_index)`.
    DataDrop = "data_drop" (VmCtx, I32);
    /// `table.grow`: `(vmctx, table, delta, init_ref_bits) -> old_size`, or
    /// `-1` when refused.
    TableGrow = "table_grow" (VmCtx, I32, I64, I64) -> I64;
    /// `table.fill`: `(vmctx, table, dst, ref_bits, len)`.
    TableFill = "table_fill" (VmCtx, I32, I64, I64, I64);
    /// `table.copy`: `(vmctx, dst_table, src_table, dst, src, len)`.
    TableCopy = "table_copy" (VmCtx, I32, I32, I64, I64, I64);
    /// `table.init`: `(vmctx, table, elem_index, dst, src, len)`.
    TableInit = "table_init" (VmCtx, I32, I32, I64, I32, I32);
    /// `elem.drop`: `(vmctx, elem_index)`.
    ElemDrop = "elem_drop" (VmCtx, I32);
    /// The fuel counter went positive: `(vmctx)`. Returns after refilling
    /// the counter, or traps with `OutOfFuel`.
    OutOfFuel = "out_of_fuel" (VmCtx);
    /// The interrupt flag was seen set: `(vmctx)`. Returns to keep running
    /// (after clearing the flag), or traps with `Interrupt`.
    Interrupted = "interrupted" (VmCtx);
    /// `f32.ceil` where the ISA lacks a rounding instruction.
    CeilF32 = "ceil_f32" (VmCtx, F32) -> F32;
    /// `f64.ceil` where the ISA lacks a rounding instruction.
    CeilF64 = "ceil_f64" (VmCtx, F64) -> F64;
    /// `f32.floor` where the ISA lacks a rounding instruction.
    FloorF32 = "floor_f32" (VmCtx, F32) -> F32;
    /// `f64.floor` where the ISA lacks a rounding instruction.
    FloorF64 = "floor_f64" (VmCtx, F64) -> F64;
    /// `f32.trunc` where the ISA lacks a rounding instruction.
    TruncF32 = "trunc_f32" (VmCtx, F32) -> F32;
    /// `f64.trunc` where the ISA lacks a rounding instruction.
    TruncF64 = "trunc_f64" (VmCtx, F64) -> F64;
    /// `f32.nearest` (ties to even) where the ISA lacks a rounding
    /// instruction.
    NearestF32 = "nearest_f32" (VmCtx, F32) -> F32;
    /// `f64.nearest` (ties to even) where the ISA lacks a rounding
    /// instruction.
    NearestF64 = "nearest_f64" (VmCtx, F64) -> F64;
    /// Raises a trap: `(vmctx, code, wasm_offset)`, `code` being the trap's
    /// position in [`crate::TrapCode::ALL`] ([`crate::TrapCode::index`])
    /// and `wasm_offset` the trapping operator's byte offset in the module
    /// (`u32::MAX`: none, e.g. the stack check at function entry), which
    /// the innermost frame of the backtrace reports. Never returns. Code
    /// compiled without signals-based traps
    /// ([`crate::Tunables::signals_based_traps`]) calls it from a cold
    /// block wherever other code would execute a trapping instruction.
    Trap = "trap" (VmCtx, I32, I32);
    /// `a * b + c` rounded once, for a deterministic relaxed multiply-add
    /// where the ISA has no fused multiply-add instruction.
    FmaF32 = "fma_f32" (VmCtx, F32, F32, F32) -> F32;
    /// The same in `f64`.
    FmaF64 = "fma_f64" (VmCtx, F64, F64, F64) -> F64;
    /// `throw`: `(vmctx, tag, payload)`, the tag a module tag index and
    /// the payload a buffer of `ValRaw`s (the tag's parameters). Raises
    /// the exception: unwinds to the handler that takes it, never
    /// returning.
    Throw = "throw" (VmCtx, I32, Ptr);
    /// `throw_ref`: `(vmctx, exnref)`. Raises the exception again (traps
    /// with `NullReference` for null); never returns.
    ThrowRef = "throw_ref" (VmCtx, I64);
    /// A landing block's tag test: `(vmctx, exnref, tag) -> 1` when the
    /// exception's tag is the instance's tag `tag`, else 0.
    ExnTagIs = "exn_tag_is" (VmCtx, I64, I32) -> I32;
    /// `(vmctx, exnref, dst)`: copies the exception's payload into the
    /// `ValRaw` buffer `dst`.
    ExnPayload = "exn_payload" (VmCtx, I64, Ptr);
    /// `(vmctx, exnref, keep)`: a handler is done with the exception:
    /// kept as a value (`keep` = 1: `catch_ref`), or dead (0).
    ExnSettle = "exn_settle" (VmCtx, I64, I32);
    /// `(vmctx, sub, sup) -> 1` when the type with registry id `sub` is
    /// `sup` or declares it among its supertypes, else 0: `call_indirect`
    /// of a non-final type asks when the signature ids differ.
    IsSubtype = "is_subtype" (VmCtx, I32, I32) -> I32;
    /// `struct.new`/`struct.new_default`: `(vmctx, type_index, fields) ->
    /// ref`, the fields a `ValRaw` buffer (one per field), or null for
    /// the default form. Traps with `GcHeapOutOfMemory`.
    GcStructNew = "gc_struct_new" (VmCtx, I32, Ptr) -> I64;
    /// `array.new`/`array.new_default`/`array.new_fixed`: `(vmctx,
    /// type_index, values, count, len) -> ref`: element `i` is value
    /// `i % count` of the `ValRaw` buffer `values` (`count` 0: zero).
    GcArrayNew = "gc_array_new" (VmCtx, I32, Ptr, I32, I32) -> I64;
    /// `array.new_data`/`array.new_elem`: `(vmctx, type_index, segment,
    /// offset, len) -> ref`, `segment`'s top bit set for an element
    /// segment.
    GcArrayNewSegment = "gc_array_new_segment" (VmCtx, I32, I32, I32, I32) -> I64;
    /// `array.fill`: `(vmctx, type_index, array, index, value, len)`, the
    /// value in a `ValRaw` buffer.
    GcArrayFill = "gc_array_fill" (VmCtx, I32, I64, I32, Ptr, I32);
    /// `array.copy`: `(vmctx, type_index, dst, dst_index, src, src_index,
    /// len)`.
    GcArrayCopy = "gc_array_copy" (VmCtx, I32, I64, I32, I64, I32, I32);
    /// `array.init_data`/`array.init_elem`: `(vmctx, type_index, segment,
    /// array, index, offset, len)`.
    GcArrayInitSegment = "gc_array_init_segment" (VmCtx, I32, I32, I64, I32, I32, I32);
    /// `ref.test`: `(vmctx, ref, target, flags) -> 1` when the reference
    /// is of the type `target` and `flags` name (`crate::gc_cast`), else
    /// 0.
    GcRefTest = "gc_ref_test" (VmCtx, I64, I32, I32) -> I32;
    /// The write barrier's slow path: `(vmctx, obj, field)`, an old object
    /// that was just given a reference to a young one at heap offset
    /// `field`, joins the remembered set (and a carded array's card is
    /// marked). Never collects.
    GcRemember = "gc_remember" (VmCtx, I64, I32);
    /// Tiering: defined function `func`'s counter ran out at its entry;
    /// asks for its optimized code (compiled in the background) and
    /// refills the counter.
    TierUp = "tier_up" (VmCtx, I32);
    /// Tiering: defined function `func`'s counter ran out at the header of
    /// the loop at wasm byte offset `loop`; returns the address of the
    /// optimized code's on-stack-replacement entry at that loop when it is
    /// ready (asking for it otherwise), or 0.
    TierOsr = "tier_osr" (VmCtx, I32, I32) -> Ptr;
}

impl Builtin {
    /// Position of this builtin's pointer in the runtime's builtin table.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// Whether the builtin raises wasm exceptions (compiled code calls it
    /// in handler scopes through `try_call`, and its stub takes the wasm
    /// calling convention so that nothing is assumed to survive in
    /// registers on the exceptional edge).
    pub fn raises_exceptions(self) -> bool {
        matches!(self, Builtin::Throw | Builtin::ThrowRef)
    }

    /// The builtin at table position `index`, if there is one.
    pub fn from_index(index: u32) -> Option<Builtin> {
        Self::ALL.get(index as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_dense_and_every_signature_starts_with_vmctx() {
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(b.index() as usize, i);
            assert_eq!(Builtin::from_index(i as u32), Some(*b));
            assert_eq!(b.signature().params[0], BuiltinType::VmCtx);
            assert!(!b.name().is_empty());
        }
        assert_eq!(Builtin::from_index(Builtin::ALL.len() as u32), None);
    }
}
