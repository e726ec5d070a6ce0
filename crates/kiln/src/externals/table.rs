//! [`Table`]: a table handle.

use crate::runtime::StoreId;
use crate::store::{AsContext, AsContextMut};
use crate::types::TableType;
use crate::values::Val;
use anyhow::{Context as _, Result, bail};

/// A table of references in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Table {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Table {
    /// Creates a table of type `ty` with every element set to `init`
    /// (asking the store's limiter, if any).
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Val) -> Result<Table> {
        let inner = store.as_context_mut().0;
        let element = crate::ValType::Ref(ty.element().clone());
        if element
            .engine()
            .is_some_and(|e| !crate::Engine::same(e, &inner.opaque.engine))
        {
            bail!("the table's type belongs to another engine than the store");
        }
        let ty = ty.to_env();
        init.check_type(&inner.opaque, kiln_environ::ValType::Ref(ty.element))
            .context("initial value of a table")?;
        let bits = init.bits_in(&inner.opaque) as u64;
        let index = inner.new_table(ty, bits)?;
        Ok(Table {
            store: inner.opaque.id,
            index,
        })
    }

    /// The table's type, with the current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        TableType::from_env(&store.engine, store.table(self.index).current_type())
    }

    /// Current size in elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        store.table(self.index).elems().len() as u64
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, store: impl AsContext, index: u64) -> Option<Val> {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        let table = store.table(self.index);
        let bits = *table.elems().get(usize::try_from(index).ok()?)?;
        let ty = kiln_environ::ValType::Ref(table.ty.element);
        Some(Val::from_bits(store, ty, u128::from(bits)))
    }

    /// Sets element `index` to `val`; errors if out of bounds or of the
    /// wrong type.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store);
        val.check_type(
            store,
            kiln_environ::ValType::Ref(store.table(self.index).ty.element),
        )?;
        let bits = val.bits_in(store) as u64;
        let elems = store.table_mut(self.index).elems_mut();
        match usize::try_from(index).ok().and_then(|i| elems.get_mut(i)) {
            Some(slot) => {
                *slot = bits;
                Ok(())
            }
            None => bail!("out of bounds table access"),
        }
    }

    /// Grows the table by `delta` elements set to `init` (subject to its
    /// maximum and the store's limiter) and returns the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Val) -> Result<u64> {
        let inner = store.as_context_mut().0;
        inner.opaque.check(self.store);
        let element = inner.opaque.table(self.index).ty.element;
        init.check_type(&inner.opaque, kiln_environ::ValType::Ref(element))?;
        let bits = init.bits_in(&inner.opaque) as u64;
        match inner.grow_table(self.index, delta, bits)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by `{delta}`"),
        }
    }
}
