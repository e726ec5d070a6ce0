//! [`Global`]: a global handle.

use crate::runtime::StoreId;
use crate::store::{AsContext, AsContextMut};
use crate::types::GlobalType;
use crate::values::Val;
use anyhow::{Context as _, Result, bail};

/// A global variable in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Global {
    /// Creates a global of type `ty` holding `val`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let store = &mut store.as_context_mut().0.opaque;
        if ty
            .content()
            .engine()
            .is_some_and(|e| !crate::Engine::same(e, &store.engine))
        {
            bail!("the global's type belongs to another engine than the store");
        }
        let ty = ty.to_env();
        val.check_type(store, ty.content)
            .context("initial value of a global")?;
        let bits = val.bits_in(store);
        let index = store.push_global(ty, bits);
        Ok(Global {
            store: store.id,
            index,
        })
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        GlobalType::from_env(&store.engine, store.global(self.index).ty)
    }

    /// The current value.
    pub fn get(&self, store: impl AsContext) -> Val {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        let ty = store.global(self.index).ty;
        Val::from_bits(store, ty.content, store.global_bits(self.index))
    }

    /// Sets the value; errors if the global is immutable or `val` has the
    /// wrong type.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store);
        let ty = store.global(self.index).ty;
        if !ty.mutable {
            bail!("immutable global cannot be set");
        }
        val.check_type(store, ty.content)?;
        let bits = val.bits_in(store);
        store.set_global_bits(self.index, bits);
        Ok(())
    }
}
