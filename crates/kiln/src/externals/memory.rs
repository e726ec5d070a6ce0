//! [`Memory`]: a linear memory handle.

use crate::runtime::StoreId;
use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut};
use crate::types::MemoryType;
use anyhow::{Result, bail};

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memory {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Memory {
    /// Creates a memory of type `ty` (asking the store's limiter, if any).
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let inner = store.as_context_mut().0;
        let index = inner.new_memory(ty.inner)?;
        Ok(Memory {
            store: inner.opaque.id,
            index,
        })
    }

    /// The memory's type, with the current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        store.memory(self.index).current_type().into()
    }

    /// Current size in 64 KiB pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        store.memory(self.index).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        store.memory(self.index).data().len()
    }

    /// The memory's contents. Pass `&store`, `&caller` or a
    /// [`StoreContext`].
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = &store.into().0.opaque;
        store.check(self.store);
        store.memory(self.index).data()
    }

    /// The memory's contents, mutably. Pass `&mut store`, `&mut caller` or a
    /// [`StoreContextMut`].
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let store = &mut store.into().0.opaque;
        store.check(self.store);
        store.memory_mut(self.index).data_mut()
    }

    /// Grows the memory by `delta` pages (subject to its maximum and the
    /// store's limiter) and returns the previous size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let inner = store.as_context_mut().0;
        inner.opaque.check(self.store);
        match inner.grow_memory(self.index, delta)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by `{delta}` pages"),
        }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`; errors (with "out of
    /// bounds memory access") if the range is outside the memory.
    pub fn read(&self, store: impl AsContext, offset: usize, buf: &mut [u8]) -> Result<()> {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        let data = store.memory(self.index).data();
        match offset
            .checked_add(buf.len())
            .and_then(|end| data.get(offset..end))
        {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => bail!("out of bounds memory access"),
        }
    }

    /// Copies `buf` into the memory at `offset`; errors (with "out of
    /// bounds memory access") if the range is outside the memory.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buf: &[u8]) -> Result<()> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(self.store);
        let data = store.memory_mut(self.index).data_mut();
        match offset
            .checked_add(buf.len())
            .and_then(|end| data.get_mut(offset..end))
        {
            Some(dst) => {
                dst.copy_from_slice(buf);
                Ok(())
            }
            None => bail!("out of bounds memory access"),
        }
    }
}
