//! Linear memories in reserved address space: one [`Mmap`] reservation
//! each, grown by opening pages. Native code needs them; interpreter stores
//! on 64-bit hosts use them too, with a reservation of zero (just the
//! memory plus room to grow) and no guard.
//!
//! With a reservation of at least 4 GiB (guard-page mode) a memory never
//! moves and compiled code skips bounds checks the guard region covers.
//! With a smaller one every access is checked, and a memory that outgrows
//! its reservation moves to a bigger one (with room past its new length:
//! `memory_reservation_for_growth`, or half the length if more), which
//! compiled code tolerates because it reloads the base after every call. On Linux the move hands the pages over (`mremap`)
//! instead of copying them, so its cost follows the pages in use, not the
//! length.

use crate::runtime::memory::LinearMemory;
use crate::runtime::sys::{MemoryImage, Mmap, page_size};

/// Reservation sizes, from the engine's `Config`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reservation {
    /// Bytes reserved for the memory itself.
    pub(crate) reservation: u64,
    /// Inaccessible bytes after it.
    pub(crate) guard: u64,
    /// Extra bytes reserved when a memory has to move.
    pub(crate) for_growth: u64,
}

impl Reservation {
    /// Room reserved past `len` bytes when a memory is placed or moved:
    /// `for_growth`, or half the length if that is more, so that a memory
    /// growing a little at a time moves a logarithmic number of times.
    fn slack(&self, len: u64) -> u64 {
        self.for_growth.max(len / 2)
    }
}

/// A linear memory in reserved address space.
pub(crate) struct MappedMemory {
    map: Mmap,
    /// Accessible bytes (the wasm length).
    len: usize,
    /// Bytes of the mapping that may become accessible (the rest is guard).
    capacity: usize,
    sizes: Reservation,
}

fn round_to_page(n: u64) -> Option<usize> {
    let page = page_size() as u64;
    usize::try_from(n.checked_next_multiple_of(page)?).ok()
}

impl MappedMemory {
    /// A memory of `len` bytes; `None` if the address space cannot be
    /// reserved.
    pub(crate) fn new(len: u64, sizes: Reservation) -> Option<Self> {
        let capacity = if len <= sizes.reservation {
            sizes.reservation
        } else {
            len.checked_add(sizes.slack(len))?
        };
        Self::with_capacity(len, capacity, sizes)
    }

    fn with_capacity(len: u64, capacity: u64, sizes: Reservation) -> Option<Self> {
        let capacity = round_to_page(capacity)?;
        let total = round_to_page((capacity as u64).checked_add(sizes.guard)?)?;
        let len = usize::try_from(len).ok()?;
        let mut map = Mmap::reserve(total).ok()?;
        map.make_accessible(0, round_to_page(len as u64)?).ok()?;
        Some(MappedMemory {
            map,
            len,
            capacity,
            sizes,
        })
    }

    /// Byte 0 of the memory; stable until a growth past the reservation.
    pub(crate) fn base(&self) -> *mut u8 {
        self.map.as_ptr()
    }

    /// Current length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Grows to `new_len` bytes; `false` if the address space or memory
    /// ran out (the memory is then unchanged).
    pub(crate) fn grow_to(&mut self, new_len: u64) -> bool {
        let Ok(new_len_usize) = usize::try_from(new_len) else {
            return false;
        };
        if new_len_usize <= self.len {
            return true;
        }
        if new_len_usize <= self.capacity {
            let (Some(old), Some(new)) = (round_to_page(self.len as u64), round_to_page(new_len))
            else {
                return false;
            };
            if self.map.make_accessible(old, new - old).is_err() {
                return false;
            }
            self.len = new_len_usize;
            return true;
        }
        // Past the reservation: move to a bigger one.
        let Some(capacity) = new_len.checked_add(self.sizes.slack(new_len)) else {
            return false;
        };
        let Some(mut moved) = Self::with_capacity(new_len, capacity, self.sizes) else {
            return false;
        };
        // Moving the pages, where the OS can, costs page-table updates for
        // the pages in use; copying would read every page up to the length
        // and commit as many new ones, gigabytes for a sparse memory64.
        let used = round_to_page(self.len as u64).unwrap_or(self.len);
        // SAFETY: `&mut self` means no reference into either mapping is
        // live, and compiled code reloads the base after this growth.
        if unsafe { moved.map.take_prefix(&mut self.map, used) }.is_err() {
            moved.as_mut_slice()[..self.len].copy_from_slice(self.as_slice());
        }
        *self = moved;
        true
    }

    /// Maps `image` copy-on-write over the memory; `false` (memory
    /// unchanged) if it does not lie inside the accessible bytes or the
    /// mapping failed, in which case the caller copies the data instead.
    pub(crate) fn map_image(&mut self, image: &MemoryImage) -> bool {
        let fits = image
            .offset()
            .checked_add(image.len())
            .is_some_and(|end| end <= self.len);
        // SAFETY: `&mut self` means the runtime holds no reference into
        // the memory and compiled code is not running on it; the range was
        // just checked to lie in the accessible part of the mapping.
        fits && unsafe { image.map_into(&mut self.map, 0) }.is_ok()
    }

    /// The memory's bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the mapping are accessible (made
        // so at creation or growth, never taken away) and owned by `self`;
        // compiled code does not run while the runtime holds this borrow.
        unsafe { core::slice::from_raw_parts(self.map.as_ptr(), self.len) }
    }

    /// The memory's bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` rules out other
        // borrows made by the runtime.
        unsafe { core::slice::from_raw_parts_mut(self.map.as_ptr(), self.len) }
    }
}

/// Where a store keeps a linear memory: on the heap for the interpreter,
/// in reserved address space for native code.
pub(crate) enum MemoryStorage {
    /// The interpreter's heap allocation.
    Heap(LinearMemory),
    /// A reservation compiled code may rely on.
    Mapped(MappedMemory),
}

impl MemoryStorage {
    /// Byte 0 of the memory.
    pub(crate) fn base(&self) -> *mut u8 {
        match self {
            MemoryStorage::Heap(m) => m.base(),
            MemoryStorage::Mapped(m) => m.base(),
        }
    }

    /// Current length in bytes.
    pub(crate) fn len(&self) -> usize {
        match self {
            MemoryStorage::Heap(m) => m.len(),
            MemoryStorage::Mapped(m) => m.len(),
        }
    }

    /// Grows to `bytes` bytes (at most `max_bytes`); `false` on failure.
    pub(crate) fn grow_to(&mut self, bytes: u64, max_bytes: u64) -> bool {
        match self {
            MemoryStorage::Heap(m) => m.grow_to(bytes, max_bytes),
            MemoryStorage::Mapped(m) => bytes <= max_bytes && m.grow_to(bytes),
        }
    }

    /// Maps `image` over a reserved memory (see
    /// [`MappedMemory::map_image`]); `false` for a heap memory.
    pub(crate) fn map_image(&mut self, image: &MemoryImage) -> bool {
        match self {
            MemoryStorage::Heap(_) => false,
            MemoryStorage::Mapped(m) => m.map_image(image),
        }
    }

    /// The memory's bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            MemoryStorage::Heap(m) => m.as_slice(),
            MemoryStorage::Mapped(m) => m.as_slice(),
        }
    }

    /// The memory's bytes, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            MemoryStorage::Heap(m) => m.as_mut_slice(),
            MemoryStorage::Mapped(m) => m.as_mut_slice(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::memory::WASM_PAGE_SIZE;

    const SMALL: Reservation = Reservation {
        reservation: 2 * WASM_PAGE_SIZE,
        guard: WASM_PAGE_SIZE,
        for_growth: WASM_PAGE_SIZE,
    };

    #[test]
    fn grows_in_place_inside_the_reservation() {
        let mut m = MappedMemory::new(WASM_PAGE_SIZE, SMALL).unwrap();
        let base = m.base();
        m.as_mut_slice()[100] = 7;
        assert!(m.grow_to(2 * WASM_PAGE_SIZE));
        assert_eq!(m.base(), base);
        assert_eq!(m.len(), 2 * WASM_PAGE_SIZE as usize);
        assert_eq!(m.as_slice()[100], 7);
        assert_eq!(m.as_slice()[WASM_PAGE_SIZE as usize + 5], 0);
    }

    #[test]
    fn moves_past_the_reservation_keeping_contents() {
        let mut m = MappedMemory::new(2 * WASM_PAGE_SIZE, SMALL).unwrap();
        m.as_mut_slice()[WASM_PAGE_SIZE as usize + 1] = 9;
        assert!(m.grow_to(3 * WASM_PAGE_SIZE));
        assert_eq!(m.len(), 3 * WASM_PAGE_SIZE as usize);
        assert_eq!(m.as_slice()[WASM_PAGE_SIZE as usize + 1], 9);
        // One page of growth room came with the move: no second move.
        let base = m.base();
        assert!(m.grow_to(4 * WASM_PAGE_SIZE));
        assert_eq!(m.base(), base);
    }

    #[test]
    fn absurd_sizes_fail_cleanly() {
        assert!(MappedMemory::new(u64::MAX, SMALL).is_none());
        let mut m = MappedMemory::new(0, SMALL).unwrap();
        assert!(!m.grow_to(u64::MAX));
        assert_eq!(m.len(), 0);
    }
}
