//! [`Owned`]: a heap allocation at a stable address that the interpreter may
//! read and write through raw pointers while the runtime also holds it.

use crate::prelude::*;
use core::ptr::NonNull;

/// Owns a `T` on the heap like `Box<T>`, but without `Box`'s uniqueness
/// guarantee: raw pointers handed out by [`Owned::as_ptr`] stay valid while
/// the runtime takes short-lived references with [`Owned::get`] and
/// [`Owned::get_mut`]. Freed on drop.
pub(crate) struct Owned<T> {
    ptr: NonNull<T>,
}

impl<T> Owned<T> {
    /// Moves `value` to the heap.
    pub(crate) fn new(value: T) -> Self {
        Owned {
            ptr: NonNull::from(Box::leak(Box::new(value))),
        }
    }

    /// The stable address of the value.
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// A shared reference to the value.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: `ptr` came from `Box::leak` and is freed only in `drop`, so
        // it is valid. The only other accessor is the interpreter, through
        // raw pointers, and it never runs while the runtime holds a
        // reference obtained here: the store is single-threaded and the
        // borrow of `self` ends before control returns to wasm.
        unsafe { self.ptr.as_ref() }
    }

    /// A mutable reference to the value.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: as in `get`; `&mut self` rules out other references made
        // by the runtime, and wasm does not run while this one lives.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::leak` in `new` and is dropped exactly
        // once, here; the store owning this is being dropped, so no wasm can
        // still be using the value.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

/// Many `T`s at stable addresses, allocated in chunks and freed together
/// when the slab is dropped: what [`Owned`] is for one value, for the
/// thousands of function records an instance of a large module creates,
/// where one allocation each was most of the cost of instantiation.
pub(crate) struct Slab<T> {
    /// Each chunk is filled up to its capacity and never grown, so its
    /// elements never move.
    chunks: Vec<Vec<T>>,
}

/// The first chunk's capacity; each next one doubles, up to [`MAX_CHUNK`].
const FIRST_CHUNK: usize = 64;
/// The largest chunk's capacity.
const MAX_CHUNK: usize = 16 * 1024;

impl<T> Slab<T> {
    /// An empty slab (no allocation until the first push).
    pub(crate) const fn new() -> Self {
        Slab { chunks: Vec::new() }
    }

    /// Moves `value` into the slab and returns its address, valid until
    /// the slab is dropped.
    pub(crate) fn push(&mut self, value: T) -> NonNull<T> {
        let full = self.chunks.last().is_none_or(|c| c.len() == c.capacity());
        if full {
            let capacity = self
                .chunks
                .last()
                .map_or(FIRST_CHUNK, |c| (c.capacity() * 2).min(MAX_CHUNK));
            self.chunks.push(Vec::with_capacity(capacity));
        }
        let chunk = self.chunks.last_mut().expect("a chunk with room");
        debug_assert!(chunk.len() < chunk.capacity());
        // Below capacity `push` never reallocates, so the addresses handed
        // out for this chunk's earlier elements stay valid.
        chunk.push(value);
        let last = chunk.len() - 1;
        NonNull::from(&mut chunk[last])
    }
}
