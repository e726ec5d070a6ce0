//! Backing storage of tables: a vector of reference bits (`0` is null).

use crate::prelude::*;
/// The most elements a table may have, whatever its declared maximum: about
/// 80 MiB of references. Growing beyond fails (wasm sees -1).
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// The elements of one table.
pub(crate) struct TableStorage {
    elems: Vec<u64>,
}

impl TableStorage {
    /// A table of `len` elements set to `init`, or `None` if too large.
    pub(crate) fn new(len: u64, init: u64) -> Option<Self> {
        let mut t = TableStorage { elems: Vec::new() };
        t.grow_to(len, init).then_some(t)
    }

    /// First element (the interpreter's `VmTable::base`). Does not create a
    /// reference to the elements, so earlier raw pointers stay valid.
    pub(crate) fn base(&mut self) -> *mut u64 {
        self.elems.as_mut_ptr()
    }

    /// Current size in elements.
    pub(crate) fn len(&self) -> usize {
        self.elems.len()
    }

    /// Grows to `len` elements (not fewer than now) filled with `init`.
    /// Returns `false`, unchanged, if the size is over the limit or the
    /// allocation fails. The base address may change.
    pub(crate) fn grow_to(&mut self, len: u64, init: u64) -> bool {
        if len > MAX_TABLE_ELEMENTS {
            return false;
        }
        let len = len as usize;
        let extra = len.saturating_sub(self.elems.len());
        if self.elems.try_reserve_exact(extra).is_err() {
            return false;
        }
        self.elems.resize(len, init);
        true
    }

    /// The elements.
    pub(crate) fn as_slice(&self) -> &[u64] {
        &self.elems
    }

    /// The elements, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u64] {
        &mut self.elems
    }
}
