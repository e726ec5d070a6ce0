//! Handles the host keeps past every [`RootScope`](crate::RootScope):
//! [`ManuallyRooted`], for any handle type ([`GcRef`]): `AnyRef`,
//! `ExternRef`, and with the `gc` feature the struct and array handles.

use crate::AnyRef;
use crate::gc_ref::GcHandle;
use crate::runtime::{StoreId, StoreOpaque};
use crate::store::AsContext;
use anyhow::{Result, bail};
use core::marker::PhantomData;

/// The bits `handle` names now, checked to be of `store` (an error for a
/// handle of another store or whose scope ended).
pub(crate) fn object(store: &StoreOpaque, owner: StoreId, handle: GcHandle) -> Result<u32> {
    if owner != store.id {
        bail!("a GC reference used with a store it does not belong to");
    }
    store.gc_ref_bits(handle)
}

/// The handle types a [`ManuallyRooted`] can hold.
pub trait GcRef: Copy + private::Sealed {}

pub(crate) mod private {
    /// A handle's store and root: what `ManuallyRooted` keeps.
    pub trait Sealed {
        fn parts(&self) -> super::RootParts;
        fn from_parts(parts: super::RootParts) -> Self;
    }
}

/// A handle's store and root entry (opaque; used by [`GcRef`]'s sealed
/// methods).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct RootParts(pub(crate) StoreId, pub(crate) GcHandle);

/// Makes handle types (each with `store` and `handle` fields) [`GcRef`]s.
macro_rules! gc_ref_types {
    ($($t:ty),*) => {$(
        impl $crate::rooted::private::Sealed for $t {
            fn parts(&self) -> $crate::rooted::RootParts {
                $crate::rooted::RootParts(self.store, self.handle)
            }
            fn from_parts(parts: $crate::rooted::RootParts) -> Self {
                Self { store: parts.0, handle: parts.1 }
            }
        }
        impl $crate::rooted::GcRef for $t {}
    )*};
}
#[cfg(feature = "gc")]
pub(crate) use gc_ref_types;
gc_ref_types!(AnyRef, crate::ExternRef);

/// A handle rooted until [`ManuallyRooted::unroot`] is called, whatever
/// scopes end: for references the host keeps across calls (in its own
/// data structures). Forgetting to unroot it keeps the object alive as
/// long as the store; an unrooted handle is refused with an error.
#[derive(Debug)]
pub struct ManuallyRooted<T: GcRef> {
    store: StoreId,
    index: u32,
    stamp: u64,
    _ty: PhantomData<T>,
}

impl<T: GcRef> ManuallyRooted<T> {
    /// Roots what `r` names until [`unroot`](Self::unroot).
    pub fn new(store: impl AsContext, r: &T) -> Result<ManuallyRooted<T>> {
        let store = &store.as_context().0.opaque;
        let RootParts(owner, handle) = r.parts();
        let bits = object(store, owner, handle)?;
        let (index, stamp) = store.host_roots.lock().push_manual(bits);
        Ok(ManuallyRooted {
            store: owner,
            index,
            stamp,
            _ty: PhantomData,
        })
    }

    /// A handle in the current scope for what this roots.
    pub fn get(&self, store: impl AsContext) -> Result<T> {
        let store = &store.as_context().0.opaque;
        if self.store != store.id {
            bail!("a GC reference used with a store it does not belong to");
        }
        let Some(bits) = store.host_roots.lock().get_manual(self.index, self.stamp) else {
            bail!("the manually rooted handle was unrooted");
        };
        Ok(T::from_parts(RootParts(
            self.store,
            store.root_gc_ref(bits),
        )))
    }

    /// Ends the root: the object may be freed once nothing else reaches
    /// it.
    pub fn unroot(self, store: impl AsContext) {
        let store = &store.as_context().0.opaque;
        if self.store == store.id {
            store
                .host_roots
                .lock()
                .unroot_manual(self.index, self.stamp);
        }
    }
}
