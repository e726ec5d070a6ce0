//! [`AnyRef`] and [`I31`]: values of the GC proposal's `any` hierarchy as
//! the embedder sees them.
//!
//! An `AnyRef` names a struct, an array, an unboxed 31-bit integer, or a
//! host value made internal by `any.convert_extern`, in one store. The
//! store's GC heap does not collect yet (`docs/gc.md`), so an object an
//! `AnyRef` names lives as long as its store; rooted handles that survive
//! a moving collection come with the collector.

use crate::runtime::{StoreId, StoreOpaque};
use crate::store::AsContext;
use kiln_environ::gc_layout::{self, KIND_ARRAY, KIND_STRUCT};

/// An unboxed 31-bit integer (`i31ref`'s payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct I31(u32);

impl I31 {
    /// The low 31 bits of `value` (the top bit is dropped, as `ref.i31`
    /// does).
    pub fn wrapping_u32(value: u32) -> I31 {
        I31(value & 0x7fff_ffff)
    }

    /// The low 31 bits of `value`, as `ref.i31` would keep them.
    pub fn wrapping_i32(value: i32) -> I31 {
        I31::wrapping_u32(value as u32)
    }

    /// The value zero-extended to 32 bits (`i31.get_u`).
    pub fn get_u32(self) -> u32 {
        self.0
    }

    /// The value sign-extended to 32 bits (`i31.get_s`).
    pub fn get_i32(self) -> i32 {
        ((self.0 << 1) as i32) >> 1
    }
}

/// A non-null reference in the `any` hierarchy (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnyRef {
    pub(crate) store: StoreId,
    /// The reference bits (`kiln_environ::gc_layout`), never 0.
    pub(crate) bits: u32,
}

impl AnyRef {
    /// The reference to the unboxed integer `value` (no allocation).
    pub fn from_i31(store: impl AsContext, value: I31) -> AnyRef {
        AnyRef {
            store: store.as_context().0.opaque.id,
            bits: gc_layout::i31_ref(value.0),
        }
    }

    /// The integer, if this is an `i31`.
    pub fn as_i31(&self) -> Option<I31> {
        gc_layout::is_i31(self.bits).then_some(I31(self.bits >> 1))
    }

    /// Whether this is an `i31`.
    pub fn is_i31(&self) -> bool {
        gc_layout::is_i31(self.bits)
    }

    /// Whether this is a struct. Panics if `store` is not the reference's
    /// store.
    pub fn is_struct(&self, store: impl AsContext) -> bool {
        self.object_kind(&store.as_context().0.opaque) == Some(KIND_STRUCT)
    }

    /// Whether this is an array. Panics if `store` is not the reference's
    /// store.
    pub fn is_array(&self, store: impl AsContext) -> bool {
        self.object_kind(&store.as_context().0.opaque) == Some(KIND_ARRAY)
    }

    /// Whether this is an `eqref` (an `i31`, a struct or an array), not
    /// an internalized host value.
    pub fn is_eqref(&self) -> bool {
        !gc_layout::is_host_value(self.bits)
    }

    fn object_kind(&self, store: &StoreOpaque) -> Option<u32> {
        store.check(self.store);
        store
            .gc_heap
            .contains(self.bits)
            .then(|| store.gc_heap.kind_of(self.bits))
    }

    /// `any.convert_extern`: the `externref` as an `anyref` (a host value
    /// becomes an internal one; a converted wasm value is itself again).
    /// Panics if `store` is not the reference's store.
    pub fn convert_extern(store: impl AsContext, r: crate::ExternRef) -> AnyRef {
        store.as_context().0.opaque.check(r.store);
        AnyRef {
            store: r.store,
            bits: r.id,
        }
    }

    pub(crate) fn from_bits(store: &StoreOpaque, bits: u64) -> Option<AnyRef> {
        (bits != 0).then_some(AnyRef {
            store: store.id,
            bits: bits as u32,
        })
    }
}
