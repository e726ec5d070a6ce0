//! [`Val`]: a dynamically typed wasm value, and [`ExternRef`].

use crate::func::Func;
use crate::prelude::*;
use crate::runtime::{StoreId, StoreOpaque};
use crate::store::AsContextMut;
use crate::types::ValType;
use anyhow::{Result, bail};
use core::any::Any;
use kiln_environ as env;

/// A wasm value of any type. Floats are kept as their bit patterns, so NaN
/// payloads survive round trips.
#[derive(Clone, Copy, Debug)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as its bits.
    F32(u32),
    /// An `f64`, as its bits.
    F64(u64),
    /// A `v128`, lane 0 in the low bits.
    V128(u128),
    /// A `funcref`, `None` for null.
    FuncRef(Option<Func>),
    /// An `externref`, `None` for null.
    ExternRef(Option<ExternRef>),
    /// An `exnref`, `None` for null.
    ExnRef(Option<crate::ExnRef>),
    /// An `anyref` (or any type below it: `eqref`, `i31ref`, structs,
    /// arrays), `None` for null.
    AnyRef(Option<crate::AnyRef>),
}

impl Val {
    /// The value's type, with references at the top of their hierarchy:
    /// `funcref` for any function reference (null included), `externref`
    /// for any host reference. [`Val::matches_ty`] checks a value against
    /// a more precise reference type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FUNCREF,
            Val::ExternRef(_) => ValType::EXTERNREF,
            Val::ExnRef(_) => ValType::EXNREF,
            Val::AnyRef(_) => ValType::ANYREF,
        }
    }

    /// The zero (or null) value of `ty`; `None` for a non-nullable
    /// reference type, which has no default.
    pub fn default_for(ty: &ValType) -> Option<Val> {
        Val::default_for_env(ty.to_env())
    }

    /// The default of a canonical type, as [`Val::default_for`].
    pub(crate) fn default_for_env(ty: env::ValType) -> Option<Val> {
        Some(match ty {
            env::ValType::I32 => Val::I32(0),
            env::ValType::I64 => Val::I64(0),
            env::ValType::F32 => Val::F32(0),
            env::ValType::F64 => Val::F64(0),
            env::ValType::V128 => Val::V128(0),
            env::ValType::Ref(r) if !r.nullable => return None,
            env::ValType::Ref(r) if r.is_func() => Val::FuncRef(None),
            env::ValType::Ref(r) if r.is_exn() => Val::ExnRef(None),
            env::ValType::Ref(r) if r.is_gc() => Val::AnyRef(None),
            env::ValType::Ref(_) => Val::ExternRef(None),
        })
    }

    /// Whether this value, of `store`, is a value of type `ty`: its kind
    /// matches, and a reference is null only where `ty` is nullable and is
    /// a function of `ty`'s function type where `ty` names one.
    pub fn matches_ty(&self, store: impl crate::store::AsContext, ty: &ValType) -> bool {
        let store = &store.as_context().0.opaque;
        self.matches_env(store, ty.to_env())
    }

    fn matches_env(&self, store: &StoreOpaque, ty: env::ValType) -> bool {
        use env::HeapType;
        let r = match (self, ty) {
            (Val::I32(_), env::ValType::I32)
            | (Val::I64(_), env::ValType::I64)
            | (Val::F32(_), env::ValType::F32)
            | (Val::F64(_), env::ValType::F64)
            | (Val::V128(_), env::ValType::V128) => return true,
            (
                Val::FuncRef(_) | Val::ExternRef(_) | Val::ExnRef(_) | Val::AnyRef(_),
                env::ValType::Ref(r),
            ) => r,
            _ => return false,
        };
        match self {
            Val::FuncRef(None) => r.nullable && r.is_func(),
            Val::ExternRef(None) => r.nullable && r.top() == env::RefType::EXTERNREF,
            Val::ExnRef(None) => r.nullable && r.is_exn(),
            Val::ExnRef(Some(_)) => r.heap == HeapType::Exn,
            Val::FuncRef(Some(f)) => match r.heap {
                HeapType::Func => true,
                HeapType::Concrete(_, id) => {
                    f.store == store.id
                        && kiln_environ::SubtypeOracle::is_subtype(
                            &store.engine,
                            store.func_type(f.index).id(),
                            id,
                        )
                }
                _ => false,
            },
            Val::ExternRef(Some(_)) => r.heap == HeapType::Extern,
            Val::AnyRef(None) => r.nullable && r.is_gc(),
            Val::AnyRef(Some(a)) => {
                a.store == store.id
                    && store
                        .gc_ref_bits(a.handle)
                        .is_ok_and(|bits| any_matches(store, bits, r.heap))
            }
            _ => false,
        }
    }

    /// The `i32`, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }

    /// The `i64`, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// The `f32`, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }

    /// The `f64`, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }

    /// The `v128`, if this is one.
    pub fn v128(&self) -> Option<u128> {
        match self {
            Val::V128(v) => Some(*v),
            _ => None,
        }
    }

    /// The `funcref`, if this is one (`Some(None)` for null).
    pub fn funcref(&self) -> Option<Option<&Func>> {
        match self {
            Val::FuncRef(f) => Some(f.as_ref()),
            _ => None,
        }
    }

    /// The `externref`, if this is one (`Some(None)` for null).
    pub fn externref(&self) -> Option<Option<&ExternRef>> {
        match self {
            Val::ExternRef(r) => Some(r.as_ref()),
            _ => None,
        }
    }

    /// The `i32`; panics if this is not one.
    #[track_caller]
    pub fn unwrap_i32(&self) -> i32 {
        self.i32().expect("expected an i32 value")
    }

    /// The `i64`; panics if this is not one.
    #[track_caller]
    pub fn unwrap_i64(&self) -> i64 {
        self.i64().expect("expected an i64 value")
    }

    /// The `f32`; panics if this is not one.
    #[track_caller]
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().expect("expected an f32 value")
    }

    /// The `f64`; panics if this is not one.
    #[track_caller]
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().expect("expected an f64 value")
    }

    /// The raw bits of this value as stored in a value slot or global
    /// (references as store addresses/ids). Checks that references belong
    /// to `store`.
    pub(crate) fn bits_in(&self, store: &StoreOpaque) -> u128 {
        match *self {
            Val::I32(v) => u128::from(v as u32),
            Val::I64(v) => u128::from(v as u64),
            Val::F32(v) => u128::from(v),
            Val::F64(v) => u128::from(v),
            Val::V128(v) => v,
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => 0,
            Val::AnyRef(Some(a)) => u128::from(a.bits(store)),
            Val::ExnRef(Some(e)) => {
                store.check(e.store);
                u128::from(e.bits)
            }
            Val::FuncRef(Some(f)) => {
                store.check(f.store);
                u128::from(store.func_bits(f.index))
            }
            Val::ExternRef(Some(r)) => u128::from(r.bits(store)),
        }
    }

    /// The value of canonical type `ty` with raw bits `bits` in `store`.
    pub(crate) fn from_bits(store: &StoreOpaque, ty: env::ValType, bits: u128) -> Val {
        match ty {
            env::ValType::I32 => Val::I32(bits as u32 as i32),
            env::ValType::I64 => Val::I64(bits as u64 as i64),
            env::ValType::F32 => Val::F32(bits as u32),
            env::ValType::F64 => Val::F64(bits as u64),
            env::ValType::V128 => Val::V128(bits),
            env::ValType::Ref(r) if r.is_func() => {
                Val::FuncRef(Func::from_bits(store, bits as u64))
            }
            env::ValType::Ref(r) if r.is_exn() => {
                Val::ExnRef(crate::ExnRef::from_bits(store, bits as u64))
            }
            env::ValType::Ref(r) if r.is_gc() => {
                Val::AnyRef(crate::AnyRef::from_bits(store, bits as u64))
            }
            env::ValType::Ref(_) => Val::ExternRef(ExternRef::from_bits(store, bits as u64)),
        }
    }

    /// Writes the value into `slots` (one slot, two for `v128`); returns the
    /// number of slots written.
    pub(crate) fn write_slots(&self, store: &StoreOpaque, slots: &mut [u64]) -> usize {
        let bits = self.bits_in(store);
        slots[0] = bits as u64;
        if let Val::V128(_) = self {
            slots[1] = (bits >> 64) as u64;
            2
        } else {
            1
        }
    }

    /// Reads a value of type `ty` from `slots`; returns it and the number
    /// of slots read.
    pub(crate) fn read_slots(store: &StoreOpaque, ty: env::ValType, slots: &[u64]) -> (Val, usize) {
        if ty == env::ValType::V128 {
            let bits = u128::from(slots[0]) | (u128::from(slots[1]) << 64);
            (Val::V128(bits), 2)
        } else {
            (Val::from_bits(store, ty, u128::from(slots[0])), 1)
        }
    }

    /// Errors unless the value is of canonical type `ty` and belongs to
    /// `store`.
    pub(crate) fn check_type(&self, store: &StoreOpaque, ty: env::ValType) -> Result<()> {
        match self {
            Val::FuncRef(Some(f)) if f.store != store.id => {
                bail!("funcref belongs to a different store")
            }
            Val::FuncRef(Some(f)) => store.check_callable(f.index)?,
            Val::ExternRef(Some(r)) if r.store != store.id => {
                bail!("externref belongs to a different store")
            }
            Val::AnyRef(Some(a)) if a.store != store.id => {
                bail!("anyref belongs to a different store")
            }
            Val::ExternRef(Some(r)) => {
                store.gc_ref_bits(r.handle)?;
            }
            Val::AnyRef(Some(a)) => {
                store.gc_ref_bits(a.handle)?;
            }
            Val::ExnRef(Some(e)) if e.store != store.id || !store.exns.contains(e.bits) => {
                bail!("exnref belongs to a different store")
            }
            _ => {}
        }
        if !self.matches_env(store, ty) {
            let want = ValType::from_env(&store.engine, ty);
            match self {
                Val::FuncRef(None)
                | Val::ExternRef(None)
                | Val::ExnRef(None)
                | Val::AnyRef(None) => {
                    bail!("type mismatch: expected {want}, found null")
                }
                Val::FuncRef(Some(f)) => bail!(
                    "type mismatch: expected {want}, found a function of type {}",
                    store.func_type(f.index)
                ),
                _ => bail!("type mismatch: expected {want}, found {}", self.ty()),
            }
        }
        Ok(())
    }
}

/// Whether the `any`-hierarchy reference `bits` (non-null) of `store` is
/// a value of heap type `heap`.
fn any_matches(store: &StoreOpaque, bits: u32, heap: env::HeapType) -> bool {
    use env::HeapType as H;
    use kiln_environ::gc_layout::{KIND_ARRAY, KIND_STRUCT, is_i31};
    let object = store.gc_heap.contains(bits);
    match heap {
        H::Any => true,
        H::Eq => is_i31(bits) || object,
        H::I31 => is_i31(bits),
        H::Struct => object && store.gc_heap.kind_of(bits) == KIND_STRUCT,
        H::Array => object && store.gc_heap.kind_of(bits) == KIND_ARRAY,
        H::Concrete(_, id) => {
            object && env::SubtypeOracle::is_subtype(&store.engine, store.gc_heap.type_of(bits), id)
        }
        _ => false,
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

impl From<u128> for Val {
    fn from(v: u128) -> Val {
        Val::V128(v)
    }
}

impl From<Func> for Val {
    fn from(f: Func) -> Val {
        Val::FuncRef(Some(f))
    }
}

impl From<Option<Func>> for Val {
    fn from(f: Option<Func>) -> Val {
        Val::FuncRef(f)
    }
}

impl From<crate::ExnRef> for Val {
    fn from(e: crate::ExnRef) -> Val {
        Val::ExnRef(Some(e))
    }
}

impl From<ExternRef> for Val {
    fn from(r: ExternRef) -> Val {
        Val::ExternRef(Some(r))
    }
}

impl From<Option<ExternRef>> for Val {
    fn from(r: Option<ExternRef>) -> Val {
        Val::ExternRef(r)
    }
}

/// A non-null `externref`: a host value, passed to and from wasm, or a
/// wasm GC value that `extern.convert_any` made external. A handle is
/// rooted like an [`AnyRef`](crate::AnyRef) (see
/// [`RootScope`](crate::RootScope)); a host value nothing reaches any
/// more (no handle, global, table, object or frame) is dropped by the
/// next collection. `==` compares handles; [`ExternRef::ref_eq`]
/// compares what they name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef {
    pub(crate) store: StoreId,
    pub(crate) handle: crate::gc_ref::GcHandle,
}

impl ExternRef {
    /// Moves `value` into the store and returns a reference to it.
    pub fn new(mut store: impl AsContextMut, value: impl Any + Send + Sync) -> ExternRef {
        let store = &mut store.as_context_mut().0.opaque;
        let bits = store.push_externref(Box::new(value));
        ExternRef {
            store: store.id,
            handle: store.root_gc_ref(bits),
        }
    }

    /// The host value, or `None` when this reference is a wasm GC value
    /// made external by `extern.convert_any`. Panics if `store` is not
    /// the reference's store.
    pub fn data<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContext<'a, T>>,
    ) -> Option<&'a (dyn Any + Send + Sync)> {
        let store = &store.into().0.opaque;
        store.externref(self.bits(store))
    }

    /// Whether `a` and `b` name the same host value (or wasm value).
    /// Errors if either handle's scope ended or belongs to another store.
    pub fn ref_eq(
        store: impl crate::store::AsContext,
        a: &ExternRef,
        b: &ExternRef,
    ) -> Result<bool> {
        let store = &store.as_context().0.opaque;
        if a.store != store.id || b.store != store.id {
            bail!("externref belongs to a different store");
        }
        Ok(store.gc_ref_bits(a.handle)? == store.gc_ref_bits(b.handle)?)
    }

    /// The reference bits now (panics for another store's handle or one
    /// whose scope ended).
    pub(crate) fn bits(&self, store: &StoreOpaque) -> u32 {
        store.check(self.store);
        store.gc_ref_bits_or_panic(self.handle)
    }

    /// `extern.convert_any`: the `anyref` as an `externref`. Panics if
    /// `store` is not the reference's store.
    pub fn convert_any(store: impl crate::store::AsContext, r: crate::AnyRef) -> ExternRef {
        let store = &store.as_context().0.opaque;
        let bits = r.bits(store);
        ExternRef {
            store: r.store,
            handle: store.root_gc_ref(bits),
        }
    }

    /// A rooted handle for the reference bits `bits` (`None` for null).
    pub(crate) fn from_bits(store: &StoreOpaque, bits: u64) -> Option<ExternRef> {
        (bits != 0).then(|| ExternRef {
            store: store.id,
            handle: store.root_gc_ref(bits as u32),
        })
    }
}
