//! Virtual memory, code memory and memory images of a `no_std` build with
//! the `custom-virtual-memory` feature: the same items as the Unix layer,
//! made of the embedder's `kiln_mmap_new`, `kiln_mprotect`,
//! `kiln_mmap_remap`, `kiln_munmap` and `kiln_memory_image_*` functions
//! (`capi.rs`, whose documentation is their contract).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::capi::{self, KILN_PROT_EXEC, KILN_PROT_READ, KILN_PROT_WRITE, KilnMemoryImage};
use crate::runtime::sys::SysError;

/// The embedder's page size, asked once.
pub(crate) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: `kiln_page_size` takes nothing and, by its contract,
            // returns the same power of two on every call.
            let page = unsafe { capi::kiln_page_size() };
            // A broken answer would make every range check below wrong;
            // fall back to the smallest page the contract allows.
            let page = if page.is_power_of_two() && page >= 4096 {
                page
            } else {
                4096
            };
            PAGE.store(page, Ordering::Relaxed);
            page
        }
        page => page,
    }
}

/// `n` rounded up to a whole number of pages.
fn round_up_to_page(n: usize, what: &'static str) -> Result<usize, SysError> {
    crate::runtime::sys::round_up_to_page_of(n, page_size(), what)
}

/// Turns the embedder's status into a result.
fn status(op: &'static str, rc: i32) -> Result<(), SysError> {
    match rc {
        0 => Ok(()),
        errno => Err(SysError::Os { op, errno }),
    }
}

/// A mapping made by `kiln_mmap_new`, unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; nothing about it
// is tied to the thread that made it.
unsafe impl Send for Mmap {}
// SAFETY: shared access only reads the address and length.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Reserves `len` bytes (a multiple of the page size) with no access.
    pub(crate) fn reserve(len: usize) -> Result<Mmap, SysError> {
        Self::new(len, 0, "reserve")
    }

    /// Maps `len` bytes, readable and writable.
    pub(crate) fn accessible(len: usize) -> Result<Mmap, SysError> {
        Self::new(len, KILN_PROT_READ | KILN_PROT_WRITE, "accessible")
    }

    fn new(len: usize, prot: u32, op: &'static str) -> Result<Mmap, SysError> {
        if !len.is_multiple_of(page_size()) {
            return Err(SysError::BadRange {
                op,
                offset: 0,
                len,
                limit: 0,
            });
        }
        if len == 0 {
            return Ok(Mmap {
                ptr: NonNull::dangling(),
                len: 0,
            });
        }
        // SAFETY: asks the embedder for fresh memory; nothing of ours is
        // touched.
        let ptr = unsafe { capi::kiln_mmap_new(len, prot) };
        let ptr = NonNull::new(ptr).ok_or(SysError::Os {
            op: "kiln_mmap_new",
            errno: 12, // ENOMEM on every POSIX system; a label only.
        })?;
        if !(ptr.as_ptr() as usize).is_multiple_of(page_size()) {
            // Unusable; give it back rather than misalign every access.
            // SAFETY: the mapping was just made, of `len` bytes.
            let _ = unsafe { capi::kiln_munmap(ptr.as_ptr(), len) };
            return Err(SysError::Unsupported(
                "kiln_mmap_new returned an address that is not page-aligned",
            ));
        }
        Ok(Mmap { ptr, len })
    }

    /// The first byte of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Length of the mapping in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The address of `offset..offset + len`, checked to be page-aligned
    /// and inside the mapping.
    fn range(&self, op: &'static str, offset: usize, len: usize) -> Result<*mut u8, SysError> {
        crate::runtime::sys::check_page_range(op, offset, len, self.len, page_size())?;
        Ok(self.as_ptr().wrapping_add(offset))
    }

    fn protect(
        &mut self,
        op: &'static str,
        offset: usize,
        len: usize,
        prot: u32,
    ) -> Result<(), SysError> {
        let addr = self.range(op, offset, len)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range is page-aligned and inside our mapping.
        status("kiln_mprotect", unsafe {
            capi::kiln_mprotect(addr, len, prot)
        })
    }

    /// Makes a range readable and writable (contents kept).
    pub(crate) fn make_accessible(&mut self, offset: usize, len: usize) -> Result<(), SysError> {
        self.protect(
            "make_accessible",
            offset,
            len,
            KILN_PROT_READ | KILN_PROT_WRITE,
        )
    }

    /// Makes a range inaccessible.
    ///
    /// # Safety
    ///
    /// Nothing may still use the range's memory through a reference.
    pub(crate) unsafe fn make_inaccessible(
        &mut self,
        offset: usize,
        len: usize,
    ) -> Result<(), SysError> {
        self.protect("make_inaccessible", offset, len, 0)
    }

    /// Moving pages between mappings is not in the platform header; the
    /// caller copies instead.
    ///
    /// # Safety
    ///
    /// As on Unix (nothing happens here).
    pub(crate) unsafe fn take_prefix(
        &mut self,
        _src: &mut Mmap,
        _len: usize,
    ) -> Result<(), SysError> {
        Err(SysError::Unsupported("moving pages between mappings"))
    }

    /// Gives a range's memory back; it reads as zeros afterwards and stays
    /// accessible.
    ///
    /// # Safety
    ///
    /// As for [`Mmap::replace_with_zeros`].
    pub(crate) unsafe fn decommit(&mut self, offset: usize, len: usize) -> Result<(), SysError> {
        // SAFETY: forwarded.
        unsafe { self.replace_with_zeros(offset, len, true) }
    }

    /// Replaces a range with fresh zero pages, accessible or not.
    ///
    /// # Safety
    ///
    /// Nothing may still use the range's old contents through a reference.
    pub(crate) unsafe fn replace_with_zeros(
        &mut self,
        offset: usize,
        len: usize,
        accessible: bool,
    ) -> Result<(), SysError> {
        let addr = self.range("replace_with_zeros", offset, len)?;
        if len == 0 {
            return Ok(());
        }
        let prot = if accessible {
            KILN_PROT_READ | KILN_PROT_WRITE
        } else {
            0
        };
        // SAFETY: the range is inside our mapping; the caller vouches that
        // nothing refers to its contents.
        status("kiln_mmap_remap", unsafe {
            capi::kiln_mmap_remap(addr, len, prot)
        })
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: the whole mapping `kiln_mmap_new` gave us; nothing refers
        // to it once its owner is dropped.
        let _ = unsafe { capi::kiln_munmap(self.as_ptr(), self.len) };
    }
}

/// Machine code in pages that were writable while it was copied in and
/// are read + execute from then on.
#[derive(Debug)]
pub(crate) struct CodeMemory {
    map: Mmap,
    len: usize,
}

impl CodeMemory {
    /// Copies `image` into new executable memory. Fails where the
    /// embedder's `kiln_mprotect` refuses executable pages.
    pub(crate) fn new(image: &[u8]) -> Result<CodeMemory, SysError> {
        if image.is_empty() {
            return Err(SysError::BadRange {
                op: "CodeMemory::new",
                offset: 0,
                len: 0,
                limit: 0,
            });
        }
        let map_len = round_up_to_page(image.len(), "CodeMemory::new")?;
        let mut map = Mmap::accessible(map_len)?;
        // SAFETY: the mapping is fresh, writable and at least as long as
        // `image`, and cannot overlap it.
        unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), map.as_ptr(), image.len()) };
        // SAFETY: the range is mapped and readable.
        unsafe { crate::runtime::sys::cache::clean_for_fetch(map.as_ptr(), image.len()) };
        map.protect(
            "CodeMemory::new",
            0,
            map_len,
            KILN_PROT_READ | KILN_PROT_EXEC,
        )?;
        crate::runtime::sys::cache::synchronize_fetch();
        Ok(CodeMemory {
            map,
            len: image.len(),
        })
    }

    /// Address of the first byte of code.
    pub(crate) fn base(&self) -> *const u8 {
        self.map.as_ptr()
    }

    /// Bytes of code.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `pc` lies inside the code.
    pub(crate) fn contains(&self, pc: usize) -> bool {
        pc.wrapping_sub(self.base() as usize) < self.len
    }

    /// The code bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the mapping are readable for as
        // long as `self` lives, and never written again.
        unsafe { core::slice::from_raw_parts(self.base(), self.len) }
    }
}

/// A module's initial memory contents as an image of the embedder's,
/// mapped copy-on-write into linear memories.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    image: NonNull<KilnMemoryImage>,
    offset: usize,
    len: usize,
}

// SAFETY: the image is immutable once made, and the embedder's functions
// may be called from any thread (their contract).
unsafe impl Send for MemoryImage {}
// SAFETY: as above; shared access only reads the fields.
unsafe impl Sync for MemoryImage {}

impl MemoryImage {
    /// An image of `bytes` for linear-memory offset `offset` (page-aligned),
    /// or `Ok(None)` when the embedder has no images (contents are then
    /// copied).
    pub(crate) fn new(bytes: &[u8], offset: usize) -> Result<Option<MemoryImage>, SysError> {
        let len = round_up_to_page(bytes.len(), "MemoryImage::new")?;
        crate::runtime::sys::check_image_placement(offset, bytes.len(), len, page_size())?;
        // The embedder's contract is a whole number of pages.
        let mut padded = alloc::vec![0u8; len];
        padded[..bytes.len()].copy_from_slice(bytes);
        let mut image = core::ptr::null_mut();
        // SAFETY: `padded` is `len` readable bytes for the call, and
        // `image` a valid place for the result.
        status("kiln_memory_image_new", unsafe {
            capi::kiln_memory_image_new(padded.as_ptr(), len, &mut image)
        })?;
        Ok(NonNull::new(image).map(|image| MemoryImage { image, offset, len }))
    }

    /// Where in linear memory the image starts.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// Size of the image in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Maps the image at `base + offset` in `map`.
    ///
    /// # Safety
    ///
    /// Nothing may refer to the replaced range's old contents.
    pub(crate) unsafe fn map_into(&self, map: &mut Mmap, base: usize) -> Result<(), SysError> {
        let at = base
            .checked_add(self.offset)
            .ok_or(SysError::Overflow("MemoryImage::map_into"))?;
        let addr = map.range("MemoryImage::map_into", at, self.len)?;
        // SAFETY: a live image and a page-aligned range of ours; the caller
        // vouches for the old contents.
        status("kiln_memory_image_map_at", unsafe {
            capi::kiln_memory_image_map_at(self.image.as_ptr(), addr, self.len)
        })
    }

    /// Replaces the image's range in `map` with zero pages.
    ///
    /// # Safety
    ///
    /// As for [`Mmap::replace_with_zeros`].
    pub(crate) unsafe fn remove_from(&self, map: &mut Mmap, base: usize) -> Result<(), SysError> {
        let at = base
            .checked_add(self.offset)
            .ok_or(SysError::Overflow("MemoryImage::remove_from"))?;
        // SAFETY: forwarded.
        unsafe { map.replace_with_zeros(at, self.len, true) }
    }
}

impl Drop for MemoryImage {
    fn drop(&mut self) {
        // SAFETY: the image is ours and used by nothing else; mappings of it
        // may outlive it, which the embedder's contract allows.
        unsafe { capi::kiln_memory_image_free(self.image.as_ptr()) };
    }
}
