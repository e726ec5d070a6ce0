//! A store's GC heap: where struct and array objects live, at the byte
//! offsets `kiln_environ::gc_layout` describes.
//!
//! This is the allocation half of `docs/gc.md`: one contiguous region,
//! allocated from by bumping a pointer, grown by doubling (objects are
//! named by offsets, so moving the region changes no reference), and
//! bounded by [`Config::max_gc_heap_size`](crate::Config::max_gc_heap_size).
//! Nothing is collected yet: running past the limit traps with
//! `GcHeapOutOfMemory`. The region is not created until the first
//! allocation, so a store whose modules allocate nothing pays for a null
//! pointer.

use crate::prelude::*;
use kiln_environ::TrapCode;
use kiln_environ::gc_layout::{FieldKind, HEADER_SIZE, KIND_MASK, OBJECT_ALIGN, is_object};
use kiln_environ::vm::VmGcHeap;

/// The heap's storage and its record.
pub(crate) struct GcHeap {
    /// The objects, in 8-byte words so every object is 8-aligned.
    words: Vec<u64>,
    /// Offset of the first free byte. Starts at 8: offset 0 is null.
    top: u32,
    /// The most bytes the heap may hold.
    limit: u32,
    /// The record code reads `base` from; at a stable address.
    vm: Box<VmGcHeap>,
}

impl GcHeap {
    /// An empty heap that may grow to `limit` bytes (at most 4 GiB less
    /// one object alignment: offsets are 32-bit).
    pub(crate) fn new(limit: u64) -> GcHeap {
        GcHeap {
            words: Vec::new(),
            top: OBJECT_ALIGN,
            limit: u32::try_from(limit).unwrap_or(u32::MAX - OBJECT_ALIGN),
            vm: Box::new(VmGcHeap {
                base: core::ptr::NonNull::<u64>::dangling().as_ptr().cast(),
                len: 0,
            }),
        }
    }

    /// The record compiled code reads (through a shared borrow: the
    /// record itself is written only by this heap).
    pub(crate) fn vm_ptr_const(&self) -> *const VmGcHeap {
        &*self.vm
    }

    /// The record instances point at.
    pub(crate) fn vm_ptr(&mut self) -> *mut VmGcHeap {
        &mut *self.vm
    }

    /// Allocates a zeroed object of `size` bytes (a multiple of
    /// [`OBJECT_ALIGN`], header included) of registry type `type_id` and
    /// kind `kind` (`KIND_STRUCT` or `KIND_ARRAY`); returns its offset.
    pub(crate) fn alloc(&mut self, type_id: u32, kind: u32, size: u32) -> Result<u32, TrapCode> {
        debug_assert!(size >= HEADER_SIZE && size.is_multiple_of(OBJECT_ALIGN));
        let at = self.top;
        let end = at
            .checked_add(size)
            .filter(|&end| end <= self.limit)
            .ok_or(TrapCode::GcHeapOutOfMemory)?;
        let words = end.div_ceil(8) as usize;
        if words > self.words.len() {
            // Double, so that a run of allocations copies each byte a
            // bounded number of times.
            let want = words.max(self.words.len() * 2).max(512);
            let max = (self.limit as usize).div_ceil(8);
            self.words.resize(want.min(max).max(words), 0);
            self.vm.base = self.words.as_mut_ptr().cast();
            self.vm.len = self.words.len() * 8;
        }
        self.top = end;
        self.write_u32(at, type_id);
        self.write_u32(at + 4, kind);
        Ok(at)
    }

    /// The registry type id of object `obj`.
    pub(crate) fn type_of(&self, obj: u32) -> u32 {
        self.read_u32(obj)
    }

    /// The kind bits of object `obj`.
    pub(crate) fn kind_of(&self, obj: u32) -> u32 {
        self.read_u32(obj + 4) & KIND_MASK
    }

    /// Whether `r` names an object this heap allocated (a check for
    /// values the host hands in, which may be stale or from elsewhere).
    pub(crate) fn contains(&self, r: u32) -> bool {
        is_object(r) && r < self.top
    }

    /// The bytes `at..at + len` of the heap, which must lie below the
    /// allocation pointer.
    pub(crate) fn bytes(&self, at: u32, len: u32) -> &[u8] {
        let (at, len) = (at as usize, len as usize);
        assert!(
            at + len <= self.top as usize,
            "heap access past the last object"
        );
        // SAFETY: `words` owns at least `top` bytes (allocation grows it
        // first), and any byte pattern is a valid `u8`.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast::<u8>().add(at), len) }
    }

    /// The bytes `at..at + len` of the heap, mutably.
    pub(crate) fn bytes_mut(&mut self, at: u32, len: u32) -> &mut [u8] {
        let (at, len) = (at as usize, len as usize);
        assert!(
            at + len <= self.top as usize,
            "heap access past the last object"
        );
        // SAFETY: as for `bytes`; `&mut self` makes the borrow unique.
        unsafe {
            core::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast::<u8>().add(at), len)
        }
    }

    /// Writes `v` (truncated to the kind) as the field of `kind` at `at`,
    /// in the host's byte order (a `v128` little-endian).
    pub(crate) fn write_field(&mut self, at: u32, kind: FieldKind, v: u128) {
        let size = kind.size();
        let bytes = self.bytes_mut(at, size);
        match kind {
            FieldKind::I8 => bytes[0] = v as u8,
            FieldKind::I16 => bytes.copy_from_slice(&(v as u16).to_ne_bytes()),
            FieldKind::W32 => bytes.copy_from_slice(&(v as u32).to_ne_bytes()),
            FieldKind::W64 => bytes.copy_from_slice(&(v as u64).to_ne_bytes()),
            // Little-endian on every host, as compiled code stores it.
            FieldKind::V128 => bytes.copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// The native-endian `u32` at `at`.
    pub(crate) fn read_u32(&self, at: u32) -> u32 {
        u32::from_ne_bytes(self.bytes(at, 4).try_into().expect("4 bytes"))
    }

    /// Writes the native-endian `u32` `v` at `at`.
    pub(crate) fn write_u32(&mut self, at: u32, v: u32) {
        self.bytes_mut(at, 4).copy_from_slice(&v.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_environ::gc_layout::{KIND_ARRAY, KIND_STRUCT};

    #[test]
    fn allocation_bumps_grows_and_stops_at_the_limit() {
        let mut heap = GcHeap::new(4096);
        let a = heap.alloc(3, KIND_STRUCT, 16).unwrap();
        let b = heap.alloc(4, KIND_ARRAY, 24).unwrap();
        assert_eq!((a, b), (8, 24));
        assert_eq!((heap.type_of(a), heap.kind_of(a)), (3, KIND_STRUCT));
        assert_eq!((heap.type_of(b), heap.kind_of(b)), (4, KIND_ARRAY));
        assert!(heap.contains(b) && !heap.contains(48) && !heap.contains(0));
        // Growth keeps the contents.
        let big = heap.alloc(5, KIND_ARRAY, 2048).unwrap();
        assert_eq!(heap.type_of(a), 3);
        assert_eq!(heap.type_of(big), 5);
        assert_eq!(
            heap.alloc(6, KIND_STRUCT, 4096),
            Err(TrapCode::GcHeapOutOfMemory)
        );
        // A failed allocation leaves the heap usable.
        assert!(heap.alloc(6, KIND_STRUCT, 8).is_ok());
    }
}
