//! Reserved virtual memory: [`Mmap`].
//!
//! A reservation is address space mapped with no access and no swap
//! reserved (`MAP_NORESERVE`), so reserving 4 GiB costs neither memory nor
//! commit charge. Page ranges inside it are opened (read + write) and
//! closed with `mprotect`; their pages are given back with `madvise`, after
//! which they read as zero (or, under a copy-on-write image, as the image).
//! The base address never changes, so a linear memory that grows inside its
//! reservation does not move.

use core::ffi::c_void;
use core::ptr::{self, NonNull};
use std::sync::OnceLock;

use rustix::mm::{self, MapFlags, MprotectFlags, ProtFlags};

use super::os;
use crate::runtime::sys::SysError;

/// The host's page size in bytes (a power of two).
///
/// From libc's `sysconf`, not `rustix::param::page_size`: on Linux rustix
/// finds it by walking the auxiliary vector and checking the vDSO's ELF
/// header, which segfaults under valgrind (its vDSO pointer is unmapped)
/// before any wasm runs.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: `sysconf` only reads a configuration value.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(n)
            .ok()
            .filter(|n| n.is_power_of_two())
            .unwrap_or(4096)
    })
}

/// `n` rounded up to a multiple of the page size.
pub(crate) fn round_up_to_page(n: usize, what: &'static str) -> Result<usize, SysError> {
    crate::runtime::sys::round_up_to_page_of(n, page_size(), what)
}

/// Flags of a fresh reservation: private, and on Linux without reserving
/// swap for pages that may never be touched.
fn reserve_flags() -> MapFlags {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        MapFlags::PRIVATE | MapFlags::NORESERVE
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        MapFlags::PRIVATE
    }
}

/// A page-aligned range of reserved address space, unmapped on drop.
///
/// The mapping hands out only raw pointers: what lives in it (a linear
/// memory, a stack) is the owner's business, and the methods that take
/// access away or discard contents are `unsafe` because a reference into
/// the range would then dangle or change under its holder.
#[derive(Debug)]
pub(crate) struct Mmap {
    /// Base of the mapping; dangling (never dereferenced) when `len == 0`.
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: `Mmap` owns its address range outright; nothing in it is tied to
// the creating thread, so it can move to and be shared with other threads
// (it hands out raw pointers only, whose use is the holder's contract).
unsafe impl Send for Mmap {}
// SAFETY: as above; `&Mmap` only reads `ptr` and `len`.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Reserves `len` bytes of inaccessible address space. `len` must be a
    /// multiple of the page size; 0 gives an empty mapping with no OS call.
    pub(crate) fn reserve(len: usize) -> Result<Mmap, SysError> {
        if !len.is_multiple_of(page_size()) {
            return Err(SysError::BadRange {
                op: "reserve",
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
        // SAFETY: a new anonymous mapping at an address the kernel chooses
        // (no MAP_FIXED) cannot overlap, and so cannot clobber, any memory
        // already in use.
        let ptr = unsafe {
            mm::mmap_anonymous(ptr::null_mut(), len, ProtFlags::empty(), reserve_flags())
        }
        .map_err(os("mmap"))?;
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(SysError::Os {
            op: "mmap",
            errno: libc::ENOMEM,
        })?;
        Ok(Mmap { ptr, len })
    }

    /// Maps the first `len` bytes of `file` private and read-only (for
    /// reading it without copying it into the heap); 0 gives an empty
    /// mapping with no OS call.
    pub(crate) fn map_file_read_only(file: &std::fs::File, len: usize) -> Result<Mmap, SysError> {
        if len == 0 {
            return Ok(Mmap {
                ptr: NonNull::dangling(),
                len: 0,
            });
        }
        // SAFETY: a new private read-only mapping at an address the kernel
        // chooses (no MAP_FIXED) cannot clobber memory in use. The file may
        // be closed afterwards: the mapping keeps it.
        let ptr = unsafe {
            mm::mmap(
                ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::PRIVATE,
                file,
                0,
            )
        }
        .map_err(os("mmap"))?;
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(SysError::Os {
            op: "mmap",
            errno: libc::ENOMEM,
        })?;
        Ok(Mmap { ptr, len })
    }

    /// Reserves `len` bytes (a page multiple) that are all read + write.
    pub(crate) fn accessible(len: usize) -> Result<Mmap, SysError> {
        let mut map = Mmap::reserve(len)?;
        map.make_accessible(0, len)?;
        Ok(map)
    }

    /// First byte of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Size of the mapping in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The address of `offset..offset + len` after checking that it is
    /// page-aligned and inside the mapping.
    pub(super) fn range(
        &self,
        op: &'static str,
        offset: usize,
        len: usize,
    ) -> Result<*mut c_void, SysError> {
        crate::runtime::sys::check_page_range(op, offset, len, self.len, page_size())?;
        // `wrapping_add` rather than `add`: the offset is in bounds (checked
        // above), this just avoids an `unsafe` block for pointer arithmetic
        // on a pointer that may be dangling when the mapping is empty.
        Ok(self.as_ptr().wrapping_add(offset).cast())
    }

    /// Moves the first `len` bytes (a page multiple) of `src` to the start
    /// of `self` without copying: the kernel moves the pages, so pages that
    /// were never touched stay untouched (and uncommitted). `src` gives the
    /// range up and shrinks to the rest of its mapping. Where the OS cannot
    /// do it (not Linux, or the range spans mappings of different kinds,
    /// such as a copy-on-write memory image over part of a linear memory),
    /// this fails and changes nothing; the caller copies instead.
    ///
    /// # Safety
    ///
    /// No Rust reference may point into either range: `src`'s stops
    /// existing, and `self`'s contents are replaced.
    pub(crate) unsafe fn take_prefix(
        &mut self,
        src: &mut Mmap,
        len: usize,
    ) -> Result<(), SysError> {
        let to = self.range("take_prefix", 0, len)?;
        let from = src.range("take_prefix", 0, len)?;
        if len == 0 {
            return Ok(());
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // SAFETY: both ranges are page-aligned and inside mappings we
            // own (checked above), and the caller vouches that no reference
            // points into them. MREMAP_FIXED atomically replaces the pages
            // at `to`; on failure nothing has changed.
            unsafe {
                mm::mremap_fixed(from, len, len, mm::MremapFlags::MAYMOVE, to)
                    .map_err(os("mremap"))?;
            }
            // The moved range is no longer `src`'s; dropping `src` must not
            // unmap it (nor whatever the kernel may later place there).
            src.len -= len;
            src.ptr = if src.len == 0 {
                NonNull::dangling()
            } else {
                // SAFETY: `len < src.len` before the subtraction, so the
                // pointer stays inside (and is derived from) `src`'s mapping,
                // which is non-null.
                unsafe { NonNull::new_unchecked(src.ptr.as_ptr().add(len)) }
            };
            Ok(())
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = (to, from);
            Err(SysError::Unsupported("moving pages between mappings"))
        }
    }

    /// Makes `offset..offset + len` readable and writable. Pages never
    /// touched before read as zero. Both numbers must be page multiples.
    pub(crate) fn make_accessible(&mut self, offset: usize, len: usize) -> Result<(), SysError> {
        let addr = self.range("make_accessible", offset, len)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range is inside this mapping, which we own; adding
        // access cannot invalidate anything that relied on the old (smaller)
        // access.
        unsafe { mm::mprotect(addr, len, MprotectFlags::READ | MprotectFlags::WRITE) }
            .map_err(os("mprotect"))
    }

    /// Removes all access to `offset..offset + len`; the contents are kept
    /// and come back with [`Mmap::make_accessible`].
    ///
    /// # Safety
    ///
    /// No Rust reference may point into the range while it is inaccessible
    /// (raw pointers are fine: wasm code that uses one faults into a trap).
    pub(crate) unsafe fn make_inaccessible(
        &mut self,
        offset: usize,
        len: usize,
    ) -> Result<(), SysError> {
        let addr = self.range("make_inaccessible", offset, len)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the range is inside our mapping, and the caller promises
        // that nothing holds a reference into it.
        unsafe { mm::mprotect(addr, len, MprotectFlags::empty()) }.map_err(os("mprotect"))
    }

    /// Gives the pages of `offset..offset + len` back to the OS, keeping
    /// their protection. Afterwards anonymous pages read as zero, and pages
    /// under a [`MemoryImage`](super::MemoryImage) read as the image again
    /// (the private copies made by writes are dropped).
    ///
    /// # Safety
    ///
    /// The contents change: no Rust reference may point into the range.
    pub(crate) unsafe fn decommit(&mut self, offset: usize, len: usize) -> Result<(), SysError> {
        #[cfg_attr(
            not(any(target_os = "linux", target_os = "android")),
            expect(unused_variables, reason = "only madvise takes the address")
        )]
        let addr = self.range("decommit", offset, len)?;
        if len == 0 {
            return Ok(());
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // SAFETY: the range is inside our mapping and the caller promises
            // no reference into it. On Linux, MADV_DONTNEED on a private
            // mapping drops its pages: anonymous ones come back zero-filled,
            // file-backed ones re-read the file.
            unsafe { mm::madvise(addr, len, mm::Advice::LinuxDontNeed) }.map_err(os("madvise"))
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            // Elsewhere MADV_DONTNEED may keep the contents; a fresh mapping
            // is the portable way to get zeros (images are Linux-only).
            // SAFETY: as above.
            unsafe { self.replace_with_zeros(offset, len, true) }
        }
    }

    /// Replaces `offset..offset + len` with fresh anonymous zero pages,
    /// readable and writable if `accessible`, otherwise inaccessible. This
    /// also removes a [`MemoryImage`](super::MemoryImage) mapped there.
    ///
    /// # Safety
    ///
    /// The contents change: no Rust reference may point into the range.
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
            ProtFlags::READ | ProtFlags::WRITE
        } else {
            ProtFlags::empty()
        };
        // SAFETY: MAP_FIXED replaces exactly the given range, which lies
        // inside this mapping (checked by `range`), so no memory outside
        // what we own is touched; the caller promises no reference into it.
        let got = unsafe { mm::mmap_anonymous(addr, len, prot, reserve_flags() | MapFlags::FIXED) }
            .map_err(os("mmap"))?;
        debug_assert_eq!(got, addr);
        Ok(())
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: we own the mapping and this is its last use. An error
        // (only possible for a bad range, which ours is not) is ignored:
        // there is nothing useful to do with it in a destructor.
        let _ = unsafe { mm::munmap(self.as_ptr().cast(), self.len) };
    }
}
