//! [`AnyRef`] and [`I31`]: values of the GC proposal's `any` hierarchy as
//! the embedder sees them, and the rooting that keeps them valid.
//!
//! An `AnyRef` names a struct, an array, an unboxed 31-bit integer, or a
//! host value made internal by `any.convert_extern`, in one store. The
//! collector moves objects and frees what nothing reaches, so a handle
//! never holds an object's address: it names an entry of the store's
//! root table, which the collector treats as a root and rewrites
//! ([`GcHandle`]). Entries live until the innermost [`RootScope`] (or the
//! host-function call) that was open when they were made ends; with no
//! scope open, until the store is dropped. A handle used after its entry
//! is gone is refused with an error (or a panic from the methods that
//! cannot return one), never read as another object.

use crate::prelude::*;
use crate::runtime::{StoreId, StoreOpaque};
use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut};
use anyhow::{Result, bail};
use kiln_environ::gc_layout::{self, KIND_ARRAY, KIND_STRUCT};

/// How a GC reference handle names its value: an `i31` inline (it never
/// moves and is never freed), anything else through a root-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum GcHandle {
    /// An `i31`'s reference bits.
    Unboxed(u32),
    /// Entry `index` of the store's root table, valid while the entry's
    /// stamp is still `stamp`.
    Rooted { index: u32, stamp: u64 },
}

/// A store's root table: the references the host holds (`AnyRef` and
/// `ExternRef` handles), each with a stamp no other entry ever gets, so a
/// stale handle is recognised after its entry was dropped and reused.
#[derive(Default)]
pub(crate) struct HostRoots {
    entries: Vec<(u32, u64)>,
    next_stamp: u64,
    /// `ManuallyRooted` entries: `None` once unrooted (reused from
    /// `manual_free`).
    manual: Vec<Option<(u32, u64)>>,
    manual_free: Vec<u32>,
}

impl HostRoots {
    /// Roots `bits` (an object or a host value) in a new entry.
    fn push(&mut self, bits: u32) -> GcHandle {
        let index = u32::try_from(self.entries.len()).expect("too many rooted GC references");
        self.next_stamp += 1;
        self.entries.push((bits, self.next_stamp));
        GcHandle::Rooted {
            index,
            stamp: self.next_stamp,
        }
    }

    /// The bits entry `index` holds, if its stamp is still `stamp`.
    fn get(&self, index: u32, stamp: u64) -> Option<u32> {
        match self.entries.get(index as usize) {
            Some(&(bits, s)) if s == stamp => Some(bits),
            _ => None,
        }
    }

    /// How many entries are live (a scope's mark).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops the entries made since `mark` (a scope ends).
    pub(crate) fn truncate(&mut self, mark: usize) {
        self.entries.truncate(mark);
    }

    /// Every entry's bits, scoped and manual, for the collector to
    /// rewrite.
    pub(crate) fn bits_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        let manual = self.manual.iter_mut().flatten();
        self.entries.iter_mut().chain(manual).map(|(bits, _)| bits)
    }

    /// Roots `bits` until [`unroot_manual`](Self::unroot_manual); returns
    /// the entry's index and stamp.
    pub(crate) fn push_manual(&mut self, bits: u32) -> (u32, u64) {
        self.next_stamp += 1;
        let entry = Some((bits, self.next_stamp));
        let index = match self.manual_free.pop() {
            Some(i) => {
                self.manual[i as usize] = entry;
                i
            }
            None => {
                self.manual.push(entry);
                u32::try_from(self.manual.len() - 1).expect("too many manual roots")
            }
        };
        (index, self.next_stamp)
    }

    /// The bits manual entry `index` holds, if it is still the one
    /// stamped `stamp`.
    pub(crate) fn get_manual(&self, index: u32, stamp: u64) -> Option<u32> {
        match self.manual.get(index as usize) {
            Some(Some((bits, s))) if *s == stamp => Some(*bits),
            _ => None,
        }
    }

    /// Drops manual entry `index` if it is still the one stamped `stamp`.
    pub(crate) fn unroot_manual(&mut self, index: u32, stamp: u64) {
        if self.get_manual(index, stamp).is_some() {
            self.manual[index as usize] = None;
            self.manual_free.push(index);
        }
    }
}

impl StoreOpaque {
    /// A handle for the non-null reference `bits`: rooted unless it is
    /// an `i31`.
    pub(crate) fn root_gc_ref(&self, bits: u32) -> GcHandle {
        debug_assert_ne!(bits, 0);
        if gc_layout::is_i31(bits) {
            GcHandle::Unboxed(bits)
        } else {
            self.host_roots.lock().push(bits)
        }
    }

    /// The reference bits `handle` names now, or an error if its root
    /// entry is gone (its scope ended).
    pub(crate) fn gc_ref_bits(&self, handle: GcHandle) -> Result<u32> {
        match handle {
            GcHandle::Unboxed(bits) => Ok(bits),
            GcHandle::Rooted { index, stamp } => match self.host_roots.lock().get(index, stamp) {
                Some(bits) => Ok(bits),
                None => bail!(
                    "a GC reference handle was used after the root scope it was made in ended"
                ),
            },
        }
    }

    /// [`gc_ref_bits`](Self::gc_ref_bits) for methods that cannot return
    /// an error.
    pub(crate) fn gc_ref_bits_or_panic(&self, handle: GcHandle) -> u32 {
        self.gc_ref_bits(handle).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A scope for GC reference handles: every `AnyRef` and `ExternRef` made
/// while it is open (by calls, global and table reads, conversions) is
/// unrooted when it is dropped, so a host loop that handles references
/// does not keep them all alive. It borrows the store and gives it back
/// through [`AsContextMut`].
pub struct RootScope<C: AsContextMut> {
    store: C,
    mark: usize,
}

impl<C: AsContextMut> RootScope<C> {
    /// Opens a scope on `store`.
    pub fn new(mut store: C) -> RootScope<C> {
        let mark = store.as_context_mut().0.opaque.host_roots.lock().len();
        RootScope { store, mark }
    }
}

impl<C: AsContextMut> Drop for RootScope<C> {
    fn drop(&mut self) {
        let mark = self.mark;
        self.store
            .as_context_mut()
            .0
            .opaque
            .host_roots
            .lock()
            .truncate(mark);
    }
}

impl<C: AsContextMut> AsContext for RootScope<C> {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        self.store.as_context()
    }
}

impl<C: AsContextMut> AsContextMut for RootScope<C> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        self.store.as_context_mut()
    }
}

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
/// `==` compares handles; [`AnyRef::ref_eq`] compares what they name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnyRef {
    pub(crate) store: StoreId,
    pub(crate) handle: GcHandle,
}

impl AnyRef {
    /// The reference to the unboxed integer `value` (no allocation).
    pub fn from_i31(store: impl AsContext, value: I31) -> AnyRef {
        AnyRef {
            store: store.as_context().0.opaque.id,
            handle: GcHandle::Unboxed(gc_layout::i31_ref(value.0)),
        }
    }

    /// The integer, if this is an `i31`.
    pub fn as_i31(&self) -> Option<I31> {
        match self.handle {
            GcHandle::Unboxed(bits) => Some(I31(bits >> 1)),
            GcHandle::Rooted { .. } => None,
        }
    }

    /// Whether this is an `i31`.
    pub fn is_i31(&self) -> bool {
        matches!(self.handle, GcHandle::Unboxed(_))
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
    /// an internalized host value. Panics if `store` is not the
    /// reference's store or the handle's scope ended.
    pub fn is_eqref(&self, store: impl AsContext) -> bool {
        !gc_layout::is_host_value(self.bits(&store.as_context().0.opaque))
    }

    /// Whether `a` and `b` name the same value (wasm's `ref.eq`, and for
    /// host values the same host value). Errors if either handle's scope
    /// ended or belongs to another store.
    pub fn ref_eq(store: impl AsContext, a: &AnyRef, b: &AnyRef) -> Result<bool> {
        let store = &store.as_context().0.opaque;
        if a.store != store.id || b.store != store.id {
            bail!("anyref belongs to a different store");
        }
        Ok(store.gc_ref_bits(a.handle)? == store.gc_ref_bits(b.handle)?)
    }

    /// The reference bits now (they change when the collector moves the
    /// object).
    pub(crate) fn bits(&self, store: &StoreOpaque) -> u32 {
        store.check(self.store);
        store.gc_ref_bits_or_panic(self.handle)
    }

    fn object_kind(&self, store: &StoreOpaque) -> Option<u32> {
        let bits = self.bits(store);
        store
            .gc_heap
            .contains(bits)
            .then(|| store.gc_heap.kind_of(bits))
    }

    /// `any.convert_extern`: the `externref` as an `anyref` (a host value
    /// becomes an internal one; a converted wasm value is itself again).
    /// Panics if `store` is not the reference's store.
    pub fn convert_extern(store: impl AsContext, r: crate::ExternRef) -> AnyRef {
        let store = &store.as_context().0.opaque;
        store.check(r.store);
        // The same bits, in a handle of its own.
        let bits = store.gc_ref_bits_or_panic(r.handle);
        AnyRef {
            store: r.store,
            handle: store.root_gc_ref(bits),
        }
    }

    /// A rooted handle for the reference bits `bits` (`None` for null).
    pub(crate) fn from_bits(store: &StoreOpaque, bits: u64) -> Option<AnyRef> {
        (bits != 0).then(|| AnyRef {
            store: store.id,
            handle: store.root_gc_ref(bits as u32),
        })
    }
}
