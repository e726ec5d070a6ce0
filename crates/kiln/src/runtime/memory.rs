//! Backing storage of linear memories.
//!
//! Today a memory is one zeroed heap allocation with spare capacity. Growth
//! within the capacity only moves the length (the spare bytes are zero and
//! were never visible to wasm); growth beyond it reallocates (allocate,
//! copy, free) to at least double the capacity, so a module growing one page
//! at a time costs amortised linear, not quadratic, copying. Zeroed pages
//! the OS hands out lazily cost no resident memory until touched. The
//! store updates the memory's
//! [`VmMemory`](kiln_environ::vm::VmMemory) `base`/`len` afterwards. Keeping this
//! in one place lets a later change move memories to reserved virtual memory
//! with guard pages without touching the rest of the runtime.

use alloc::alloc::{Layout, alloc_zeroed, dealloc};
use core::ptr::NonNull;

/// Size of a default wasm page (tests' unit of memory sizes).
#[cfg(test)]
pub(crate) const WASM_PAGE_SIZE: u64 = 65536;

/// Alignment of the allocation, so wide loads could be aligned.
const ALIGN: usize = 16;

/// The bytes of one linear memory.
pub(crate) struct LinearMemory {
    ptr: NonNull<u8>,
    len: usize,
    /// Size of the allocation; bytes in `len..capacity` are zero.
    capacity: usize,
}

// SAFETY: `LinearMemory` uniquely owns its allocation (plain bytes); moving
// it to another thread moves that ownership.
unsafe impl Send for LinearMemory {}
// SAFETY: shared access only hands out `&[u8]`, which is `Sync`.
unsafe impl Sync for LinearMemory {}

impl LinearMemory {
    /// A zeroed memory of `bytes` bytes, or `None` if the size does not
    /// fit the address space or the allocation fails.
    pub(crate) fn new(bytes: u64) -> Option<Self> {
        let len = allocation_size(bytes)?;
        Some(LinearMemory {
            ptr: allocate_zeroed(len)?,
            len,
            capacity: len,
        })
    }

    /// First byte (dangling but non-null and aligned when empty).
    pub(crate) fn base(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Current size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Grows to `bytes` bytes (not fewer than now), zero-filling the new
    /// part; spare capacity is bounded by `max_bytes`, the memory's
    /// maximum. Returns `false`, leaving the memory unchanged, if the
    /// allocation fails. The base address may change.
    pub(crate) fn grow_to(&mut self, bytes: u64, max_bytes: u64) -> bool {
        let Some(new_len) = allocation_size(bytes) else {
            return false;
        };
        debug_assert!(new_len >= self.len);
        if new_len <= self.capacity {
            self.len = new_len;
            return true;
        }
        // On 32-bit hosts a 4 GiB maximum does not fit `usize`; the spare
        // capacity is then bounded by what an allocation can be.
        let limit = allocation_size(max_bytes.max(bytes)).unwrap_or(MAX_ALLOCATION);
        let doubled = self.capacity.saturating_mul(2).min(limit).max(new_len);
        let Some((new_ptr, capacity)) = allocate_zeroed(doubled)
            .map(|p| (p, doubled))
            .or_else(|| allocate_zeroed(new_len).map(|p| (p, new_len)))
        else {
            return false;
        };
        // SAFETY: both allocations are live, distinct, and at least
        // `self.len` bytes long; the old one is freed right after and never
        // used again.
        unsafe {
            core::ptr::copy_nonoverlapping(self.ptr.as_ptr(), new_ptr.as_ptr(), self.len);
            free(self.ptr, self.capacity);
        }
        self.ptr = new_ptr;
        self.len = new_len;
        self.capacity = capacity;
        true
    }

    /// Size of the allocation in bytes (at least [`Self::len`]).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The whole memory as bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` is valid for `len` initialized (zeroed, then written)
        // bytes, or dangling and aligned with `len == 0`. Wasm only writes
        // through its raw copy of `ptr` while the store is mutably borrowed
        // by a call, so not during this shared borrow.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The whole memory as mutable bytes.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes this the only
        // reference, and wasm does not run while it lives.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: `ptr` was allocated by `allocate_zeroed(self.capacity)`
        // and is freed once, here.
        unsafe { free(self.ptr, self.capacity) }
    }
}

/// The largest allocation `Layout` accepts.
const MAX_ALLOCATION: usize = isize::MAX as usize - ALIGN;

/// `bytes` as an allocation size, if `Layout` can take it.
fn allocation_size(bytes: u64) -> Option<usize> {
    let bytes = usize::try_from(bytes).ok()?;
    // `Layout` requires the size, rounded up to the alignment, to fit isize.
    (bytes <= isize::MAX as usize - ALIGN).then_some(bytes)
}

fn allocate_zeroed(len: usize) -> Option<NonNull<u8>> {
    if len == 0 {
        // A dangling, aligned pointer: never read or written (length 0).
        return NonNull::new(core::ptr::without_provenance_mut::<u8>(ALIGN));
    }
    let layout = Layout::from_size_align(len, ALIGN).ok()?;
    // SAFETY: `layout` has a non-zero size.
    NonNull::new(unsafe { alloc_zeroed(layout) })
}

/// # Safety
/// `ptr` must come from `allocate_zeroed(len)` and not have been freed.
unsafe fn free(ptr: NonNull<u8>, len: usize) {
    if len != 0 {
        // SAFETY: the caller guarantees `ptr` was allocated with this exact
        // layout (which `allocate_zeroed` validated).
        unsafe { dealloc(ptr.as_ptr(), Layout::from_size_align_unchecked(len, ALIGN)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: u64 = WASM_PAGE_SIZE;

    #[test]
    fn byte_granular_sizes_for_one_byte_pages() {
        let mut m = LinearMemory::new(3).unwrap();
        assert_eq!(m.len(), 3);
        assert!(m.grow_to(5, 10));
        assert_eq!(m.as_slice(), &[0; 5]);
    }

    #[test]
    fn grow_keeps_contents_and_zeroes_the_rest() {
        let mut m = LinearMemory::new(0).unwrap();
        assert_eq!(m.len(), 0);
        assert!(m.grow_to(PAGE, 3 * PAGE));
        m.as_mut_slice()[65535] = 7;
        assert!(m.grow_to(3 * PAGE, 3 * PAGE));
        assert_eq!(m.len(), 3 * 65536);
        assert_eq!(m.as_slice()[65535], 7);
        assert!(m.as_slice()[65536..].iter().all(|&b| b == 0));
        assert_eq!(m.base() as usize % ALIGN, 0);
    }

    #[test]
    fn oversized_memories_are_refused() {
        assert!(allocation_size(u64::MAX).is_none());
        assert!(LinearMemory::new(1 << 56).is_none());
    }

    #[test]
    fn page_by_page_growth_reallocates_logarithmically_often() {
        let mut m = LinearMemory::new(PAGE).unwrap();
        let mut reallocations = 0;
        for pages in 2..=1024 {
            let before = m.base();
            assert!(m.grow_to(pages * PAGE, 1 << 32));
            if m.base() != before {
                reallocations += 1;
            }
            assert_eq!(m.len(), pages as usize * WASM_PAGE_SIZE as usize);
        }
        assert!(reallocations <= 11, "{reallocations} reallocations");
    }

    #[test]
    fn spare_capacity_never_exceeds_the_maximum() {
        let mut m = LinearMemory::new(PAGE).unwrap();
        assert!(m.grow_to(2 * PAGE, 3 * PAGE));
        assert!(m.grow_to(3 * PAGE, 3 * PAGE));
        assert_eq!(m.capacity(), 3 * WASM_PAGE_SIZE as usize);
    }
}
