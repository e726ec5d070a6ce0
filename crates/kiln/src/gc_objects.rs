//! Struct and array objects as the host sees them: [`StructRef`],
//! [`ArrayRef`] and [`EqRef`], allocated and read from the host (with the
//! `gc` feature, like the GC proposal itself).
//!
//! Every handle names a root-table entry (`gc_ref.rs`), never an
//! object's offset, so the collector may move the object under it.
//! Allocation from the host may collect, like allocation from wasm: the
//! values given for the fields are handles too, read only after the
//! collection.

use crate::gc_ref::GcHandle;
use crate::prelude::*;
use crate::rooted::{GcRef, RootParts, object};
use crate::runtime::gc_ops;
use crate::runtime::{StoreId, StoreOpaque};
use crate::store::{AsContext, AsContextMut};
use crate::{AnyRef, ArrayType, StructType, Val};
use anyhow::{Result, bail};
use kiln_environ::gc_layout::{
    self, ARRAY_LEN_OFFSET, FieldKind, KIND_ARRAY, KIND_STRUCT, StructLayout,
};
use kiln_environ::{CompositeType, FieldType, StorageType};

/// A reference to a struct (non-null).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StructRef {
    store: StoreId,
    handle: GcHandle,
}

/// A reference to an array (non-null).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ArrayRef {
    store: StoreId,
    handle: GcHandle,
}

/// A reference in the `eq` hierarchy: a struct, an array or an `i31`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EqRef {
    store: StoreId,
    handle: GcHandle,
}

/// The value bits of `v` for a field storing `st` (packed fields keep the
/// low bits), after checking its type against `st`'s unpacked type.
fn field_bits(store: &StoreOpaque, st: StorageType, v: &Val) -> Result<u128> {
    v.check_type(store, st.unpacked())?;
    Ok(v.bits_in(store))
}

/// The value of a field storing `st` whose bits are `bits`.
fn field_val(store: &StoreOpaque, st: StorageType, bits: u128) -> Val {
    Val::from_bits(store, st.unpacked(), bits)
}

/// The registered type `id` of a type handle made in `engine`, checked to
/// be this store's engine.
fn registered(
    store: &StoreOpaque,
    engine: &crate::Engine,
    id: u32,
) -> Result<alloc::sync::Arc<crate::type_registry::RegisteredType>> {
    if !crate::Engine::same(engine, &store.engine) {
        bail!("the type belongs to another engine");
    }
    Ok(store.engine.registered_type(id))
}

impl StructRef {
    /// Allocates a struct of type `ty` with `fields` (one value per field,
    /// in order, each of the field's type). May collect. Errors on a
    /// wrong count or type, a type of another engine, a value of another
    /// store, or a full heap (`GcHeapOutOfMemory`).
    pub fn new(mut store: impl AsContextMut, ty: &StructType, fields: &[Val]) -> Result<StructRef> {
        let inner = store.as_context_mut().0;
        let store = &mut inner.opaque;
        let reg = registered(store, ty.engine(), ty.id())?;
        let CompositeType::Struct(s) = &reg.sub.composite else {
            bail!("not a struct type");
        };
        if fields.len() != s.fields.len() {
            bail!(
                "struct type has {} fields, {} values given",
                s.fields.len(),
                fields.len()
            );
        }
        for (f, v) in s.fields.iter().zip(fields) {
            field_bits(store, f.storage, v)?;
        }
        let layout = StructLayout::of(s);
        if !inner.gc_make_room(layout.size, &mut |_| {}) {
            return Err(out_of_memory());
        }
        let store = &mut inner.opaque;
        // The fields' bits after any collection moved what they name.
        let bits: Vec<u128> = s
            .fields
            .iter()
            .zip(fields)
            .map(|(f, v)| field_bits(store, f.storage, v))
            .collect::<Result<_>>()?;
        let obj = store
            .gc_heap
            .alloc(ty.id(), KIND_STRUCT, layout.size)
            .map_err(|code| crate::Trap::new(code, Vec::new()))?;
        for (&(offset, kind), b) in layout.fields.iter().zip(bits) {
            store.gc_heap.write_field(obj + offset, kind, b);
        }
        Ok(StructRef {
            store: store.id,
            handle: store.root_gc_ref(obj),
        })
    }

    /// The struct's type.
    pub fn ty(&self, store: impl AsContext) -> Result<StructType> {
        let store = &store.as_context().0.opaque;
        let obj = object(store, self.store, self.handle)?;
        Ok(StructType::registered(
            &store.engine,
            store.gc_heap.type_of(obj),
        ))
    }

    /// Field `i`'s value (a packed field zero-extended to `i32`).
    pub fn field(&self, store: impl AsContext, i: usize) -> Result<Val> {
        let store = &store.as_context().0.opaque;
        let (at, kind, f) = self.field_at(store, i)?;
        let bits = store.gc_heap.read_field(at, kind);
        Ok(field_val(store, f.storage, bits))
    }

    /// Sets field `i` (which must be mutable) to `value`.
    pub fn set_field(&self, mut store: impl AsContextMut, i: usize, value: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let (at, kind, f) = self.field_at(store, i)?;
        if !f.mutable {
            bail!("field {i} is immutable");
        }
        let bits = field_bits(store, f.storage, &value)?;
        store.gc_heap.write_field(at, kind, bits);
        if f.storage.is_traced() {
            let obj = object(store, self.store, self.handle)?;
            store.gc_heap.write_barrier(obj, at, bits as u32);
        }
        Ok(())
    }

    /// Field `i`'s heap offset, kind and type.
    fn field_at(&self, store: &StoreOpaque, i: usize) -> Result<(u32, FieldKind, FieldType)> {
        let obj = object(store, self.store, self.handle)?;
        let reg = store.engine.registered_type(store.gc_heap.type_of(obj));
        let CompositeType::Struct(s) = &reg.sub.composite else {
            bail!("not a struct");
        };
        let Some(&f) = s.fields.get(i) else {
            bail!("struct has no field {i}");
        };
        let (offset, kind) = StructLayout::of(s).fields[i];
        Ok((obj + offset, kind, f))
    }

    /// This struct as an `anyref`.
    pub fn to_anyref(&self) -> AnyRef {
        AnyRef {
            store: self.store,
            handle: self.handle,
        }
    }

    /// This struct as an `eqref`.
    pub fn to_eqref(&self) -> EqRef {
        EqRef {
            store: self.store,
            handle: self.handle,
        }
    }
}

impl ArrayRef {
    /// Allocates an array of type `ty` with `len` elements, each `elem`.
    /// May collect. Errors as [`StructRef::new`] does.
    pub fn new(
        mut store: impl AsContextMut,
        ty: &ArrayType,
        elem: &Val,
        len: u32,
    ) -> Result<ArrayRef> {
        let inner = store.as_context_mut().0;
        let store = &mut inner.opaque;
        let reg = registered(store, ty.engine(), ty.id())?;
        let CompositeType::Array(a) = &reg.sub.composite else {
            bail!("not an array type");
        };
        let st = a.element.storage;
        field_bits(store, st, elem)?;
        let kind = FieldKind::of(st);
        let size = gc_layout::array_size(kind, len).ok_or_else(|| {
            crate::Trap::new(kiln_environ::TrapCode::GcHeapOutOfMemory, Vec::new())
        })?;
        if !inner.gc_make_room(size, &mut |_| {}) {
            return Err(out_of_memory());
        }
        let store = &mut inner.opaque;
        let bits = field_bits(store, st, elem)?;
        let arr = store
            .gc_heap
            .alloc(ty.id(), KIND_ARRAY, size)
            .map_err(|code| crate::Trap::new(code, Vec::new()))?;
        store
            .gc_heap
            .write_field(arr + ARRAY_LEN_OFFSET, FieldKind::W32, u128::from(len));
        for i in 0..len {
            store
                .gc_heap
                .write_field(gc_ops::elem_at(arr, kind, i), kind, bits);
        }
        Ok(ArrayRef {
            store: store.id,
            handle: store.root_gc_ref(arr),
        })
    }

    /// The array's type.
    pub fn ty(&self, store: impl AsContext) -> Result<ArrayType> {
        let store = &store.as_context().0.opaque;
        let arr = object(store, self.store, self.handle)?;
        Ok(ArrayType::registered(
            &store.engine,
            store.gc_heap.type_of(arr),
        ))
    }

    /// The number of elements.
    pub fn len(&self, store: impl AsContext) -> Result<u32> {
        let store = &store.as_context().0.opaque;
        let arr = object(store, self.store, self.handle)?;
        Ok(store.gc_heap.read_u32(arr + ARRAY_LEN_OFFSET))
    }

    /// Element `i` (a packed one zero-extended to `i32`); an error past
    /// the end.
    pub fn get(&self, store: impl AsContext, i: u32) -> Result<Val> {
        let store = &store.as_context().0.opaque;
        let (at, kind, f) = self.element_at(store, i)?;
        let bits = store.gc_heap.read_field(at, kind);
        Ok(field_val(store, f.storage, bits))
    }

    /// Sets element `i` (of a mutable array type) to `value`; an error
    /// past the end.
    pub fn set(&self, mut store: impl AsContextMut, i: u32, value: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        let (at, kind, f) = self.element_at(store, i)?;
        if !f.mutable {
            bail!("the array's elements are immutable");
        }
        let bits = field_bits(store, f.storage, &value)?;
        store.gc_heap.write_field(at, kind, bits);
        if f.storage.is_traced() {
            let arr = object(store, self.store, self.handle)?;
            store.gc_heap.write_barrier(arr, at, bits as u32);
        }
        Ok(())
    }

    /// Element `i`'s heap offset, kind and type (checking `i`).
    fn element_at(&self, store: &StoreOpaque, i: u32) -> Result<(u32, FieldKind, FieldType)> {
        let arr = object(store, self.store, self.handle)?;
        let reg = store.engine.registered_type(store.gc_heap.type_of(arr));
        let CompositeType::Array(a) = &reg.sub.composite else {
            bail!("not an array");
        };
        let len = store.gc_heap.read_u32(arr + ARRAY_LEN_OFFSET);
        if i >= len {
            bail!("index {i} out of bounds for an array of {len} elements");
        }
        let kind = FieldKind::of(a.element.storage);
        Ok((gc_ops::elem_at(arr, kind, i), kind, a.element))
    }

    /// This array as an `anyref`.
    pub fn to_anyref(&self) -> AnyRef {
        AnyRef {
            store: self.store,
            handle: self.handle,
        }
    }

    /// This array as an `eqref`.
    pub fn to_eqref(&self) -> EqRef {
        EqRef {
            store: self.store,
            handle: self.handle,
        }
    }
}

impl EqRef {
    /// This reference as an `anyref`.
    pub fn to_anyref(&self) -> AnyRef {
        AnyRef {
            store: self.store,
            handle: self.handle,
        }
    }
}

impl AnyRef {
    /// The struct this names, if it names one.
    pub fn as_struct(&self, store: impl AsContext) -> Result<Option<StructRef>> {
        self.as_object_of_kind(&store.as_context().0.opaque, KIND_STRUCT)
    }

    /// The array this names, if it names one.
    pub fn as_array(&self, store: impl AsContext) -> Result<Option<ArrayRef>> {
        self.as_object_of_kind(&store.as_context().0.opaque, KIND_ARRAY)
    }

    /// This handle as a `T`, if it names an object of kind `kind`.
    fn as_object_of_kind<T: GcRef>(&self, store: &StoreOpaque, kind: u32) -> Result<Option<T>> {
        let bits = object(store, self.store, self.handle)?;
        let is = store.gc_heap.contains(bits) && store.gc_heap.kind_of(bits) == kind;
        Ok(is.then(|| T::from_parts(RootParts(self.store, self.handle))))
    }

    /// This reference as an `eqref`, unless it is a host value made
    /// internal.
    pub fn as_eqref(&self, store: impl AsContext) -> Result<Option<EqRef>> {
        let store = &store.as_context().0.opaque;
        let bits = object(store, self.store, self.handle)?;
        Ok((!gc_layout::is_host_value(bits)).then_some(EqRef {
            store: self.store,
            handle: self.handle,
        }))
    }
}

impl From<StructRef> for Val {
    fn from(r: StructRef) -> Val {
        Val::AnyRef(Some(r.to_anyref()))
    }
}

impl From<ArrayRef> for Val {
    fn from(r: ArrayRef) -> Val {
        Val::AnyRef(Some(r.to_anyref()))
    }
}

impl From<EqRef> for Val {
    fn from(r: EqRef) -> Val {
        Val::AnyRef(Some(r.to_anyref()))
    }
}

crate::rooted::gc_ref_types!(StructRef, ArrayRef, EqRef);

/// The error of an allocation the heap has no room for.
fn out_of_memory() -> anyhow::Error {
    crate::Trap::new(kiln_environ::TrapCode::GcHeapOutOfMemory, Vec::new()).into()
}
