//! A store's tags and exception objects.
//!
//! A tag's identity is its index in the store: an instance's tag index
//! space maps to those indices (`VmInstance::tags`), and an exception
//! matches a handler when the indices are equal.
//!
//! An exception object is its tag and its payload (value slots, as the
//! interpreter lays out call arguments). Its `exnref` bits are its index
//! plus one. Most exceptions live only while they unwind: a plain `catch`
//! takes the payload and the object is reused. One that became a value
//! (`catch_ref`, a handle the host holds) may be anywhere, so it lives as
//! long as the store, until the GC proposal's collector can trace it.

use crate::prelude::*;
use crate::types::FuncType;

/// A tag: the type of the payload of its exceptions.
pub(crate) struct TagData {
    /// The tag's function type (parameters only), canonical.
    pub(crate) ty: FuncType,
}

/// An exception object.
pub(crate) struct ExnObject {
    /// Store index of its tag.
    pub(crate) tag: u32,
    /// The payload, one slot per scalar and two per `v128`.
    pub(crate) payload: Box<[u64]>,
    /// Whether an `exnref` to it may be held anywhere (never freed then).
    exposed: bool,
}

/// The exception objects of a store.
#[derive(Default)]
pub(crate) struct ExnHeap {
    objects: Vec<Option<ExnObject>>,
    /// Indices of freed objects, for reuse.
    free: Vec<u32>,
}

impl ExnHeap {
    /// A new exception; returns its `exnref` bits (never 0).
    pub(crate) fn alloc(&mut self, tag: u32, payload: &[u64]) -> u64 {
        let object = ExnObject {
            tag,
            payload: payload.into(),
            exposed: false,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.objects[i as usize] = Some(object);
                i
            }
            None => {
                self.objects.push(Some(object));
                u32::try_from(self.objects.len() - 1).expect("too many live exceptions")
            }
        };
        u64::from(index) + 1
    }

    /// The exception `bits` refers to. Bits come from [`Self::alloc`] and
    /// an exception is only freed when nothing can refer to it, so a miss
    /// is a runtime bug.
    pub(crate) fn get(&self, bits: u64) -> &ExnObject {
        bits.checked_sub(1)
            .and_then(|i| self.objects.get(usize::try_from(i).ok()?))
            .and_then(Option::as_ref)
            .expect("exnref refers to a live exception of this store")
    }

    /// Whether `bits` refers to a live exception (for handles the host
    /// brings back).
    pub(crate) fn contains(&self, bits: u64) -> bool {
        bits.checked_sub(1)
            .and_then(|i| self.objects.get(usize::try_from(i).ok()?))
            .is_some_and(Option::is_some)
    }

    /// Marks the exception as held as a value: it is never freed.
    pub(crate) fn expose(&mut self, bits: u64) {
        if let Some(Some(o)) = self.objects.get_mut((bits - 1) as usize) {
            o.exposed = true;
        }
    }

    /// Frees the exception unless it was exposed.
    pub(crate) fn release(&mut self, bits: u64) {
        let index = (bits - 1) as usize;
        if let Some(slot) = self.objects.get_mut(index)
            && slot.as_ref().is_some_and(|o| !o.exposed)
        {
            *slot = None;
            self.free.push(index as u32);
        }
    }

    /// Every live exception, mutably (the collector rewrites the
    /// references in their payloads).
    pub(crate) fn objects_mut(&mut self) -> impl Iterator<Item = &mut ExnObject> {
        self.objects.iter_mut().flatten()
    }

    /// How many exceptions are allocated (for tests of reuse).
    #[cfg(test)]
    pub(crate) fn live(&self) -> usize {
        self.objects.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_exceptions_are_reused_and_exposed_ones_kept() {
        let mut heap = ExnHeap::default();
        let a = heap.alloc(3, &[1, 2]);
        assert_eq!(heap.get(a).tag, 3);
        assert_eq!(&*heap.get(a).payload, &[1, 2]);
        heap.release(a);
        assert_eq!(heap.live(), 0);
        let b = heap.alloc(4, &[]);
        assert_eq!(a, b, "the freed object is reused");
        heap.expose(b);
        heap.release(b);
        assert!(heap.contains(b), "an exposed exception stays");
        assert!(!heap.contains(0) && !heap.contains(99));
    }
}
