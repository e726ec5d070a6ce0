//! Copy-on-write memory images: [`MemoryImage`].
//!
//! A module's initial memory contents (its active data segments laid out at
//! their offsets) are written once into an anonymous in-memory file
//! (`memfd`), which is then sealed so that nothing can change or resize it.
//! Each instance maps the file `MAP_PRIVATE | MAP_FIXED` over the matching
//! part of its memory reservation: instantiation is one `mmap`, untouched
//! pages are shared by every instance, and a write gives the writer its own
//! copy of the page without touching the file or the other instances.
//!
//! Resetting a memory for reuse is [`Mmap::decommit`] (the private copies
//! are dropped and the image shows through again) or
//! [`MemoryImage::remove_from`] (anonymous zero pages replace the image).
//!
//! Where `memfd` is missing (not Linux, or a kernel without it, or a
//! sandbox that forbids it) [`MemoryImage::new`] returns `Ok(None)` and the
//! runtime copies the data segments into each memory instead.

#[cfg(any(target_os = "linux", target_os = "android"))]
use rustix::fd::OwnedFd;

use super::mmap::{Mmap, page_size, round_up_to_page};
use crate::runtime::sys::SysError;

/// Initial contents of a linear memory, shareable copy-on-write.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: OwnedFd,
    /// Where in linear memory the image starts (a page multiple).
    offset: usize,
    /// Size of the image, rounded up to pages.
    len: usize,
}

impl MemoryImage {
    /// An image holding `bytes` at linear-memory offset `offset` (which must
    /// be page-aligned). The tail of the last page is zero.
    ///
    /// `Ok(None)` means the host cannot back images (no `memfd`): copy the
    /// bytes into the memory instead. `bytes` may not be empty.
    pub(crate) fn new(bytes: &[u8], offset: usize) -> Result<Option<MemoryImage>, SysError> {
        let len = round_up_to_page(bytes.len(), "MemoryImage::new")?;
        crate::runtime::sys::check_image_placement(offset, bytes.len(), len, page_size())?;
        Self::create(bytes, offset, len)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn create(bytes: &[u8], offset: usize, len: usize) -> Result<Option<MemoryImage>, SysError> {
        use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, ftruncate, memfd_create};
        use rustix::io::{Errno, pwrite};

        use super::os;

        let fd = match memfd_create(
            "kiln-memory-image",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        ) {
            Ok(fd) => fd,
            // No memfd in this kernel (ENOSYS), or not allowed here (a
            // seccomp filter's EPERM, EINVAL for unknown flags): fall back.
            Err(Errno::NOSYS | Errno::PERM | Errno::INVAL) => return Ok(None),
            Err(e) => return Err(os("memfd_create")(e)),
        };
        let file_len = u64::try_from(len).map_err(|_| SysError::Overflow("MemoryImage::new"))?;
        ftruncate(&fd, file_len).map_err(os("ftruncate"))?;
        let mut done = 0;
        while done < bytes.len() {
            let at = u64::try_from(done).map_err(|_| SysError::Overflow("MemoryImage::new"))?;
            match pwrite(&fd, &bytes[done..], at) {
                Ok(0) => {
                    return Err(SysError::Os {
                        op: "pwrite",
                        errno: libc::EIO,
                    });
                }
                Ok(n) => done += n,
                Err(Errno::INTR) => {}
                Err(e) => return Err(os("pwrite")(e)),
            }
        }
        // From here on nobody, us included, can change the file's bytes or
        // size, so every mapping of it sees the same image.
        fcntl_add_seals(
            &fd,
            SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
        )
        .map_err(os("fcntl(F_ADD_SEALS)"))?;
        Ok(Some(MemoryImage { fd, offset, len }))
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn create(_bytes: &[u8], _offset: usize, _len: usize) -> Result<Option<MemoryImage>, SysError> {
        Ok(None)
    }

    /// Linear-memory offset of the image's first byte.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// Size of the image in bytes (a page multiple).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Maps the image copy-on-write, read + write, over
    /// `base + offset()..base + offset() + len()` of `map`, where `base` is
    /// where the linear memory starts in the mapping. Whatever was there is
    /// replaced.
    ///
    /// # Safety
    ///
    /// The contents of the range change: no Rust reference may point into
    /// it. The range should lie in the memory's accessible part (the image
    /// pages are read + write whatever the protection before).
    pub(crate) unsafe fn map_into(&self, map: &mut Mmap, base: usize) -> Result<(), SysError> {
        let at = base
            .checked_add(self.offset)
            .ok_or(SysError::Overflow("MemoryImage::map_into"))?;
        let addr = map.range("MemoryImage::map_into", at, self.len)?;
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::mm::{MapFlags, ProtFlags, mmap};
            // SAFETY: MAP_FIXED replaces exactly `addr..addr + len`, which
            // `range` checked lies inside `map` (ours, mutably borrowed); the
            // caller promises no reference into it. MAP_PRIVATE means writes
            // go to private copies, never to the sealed file.
            let got = unsafe {
                mmap(
                    addr,
                    self.len,
                    ProtFlags::READ | ProtFlags::WRITE,
                    MapFlags::PRIVATE | MapFlags::FIXED,
                    &self.fd,
                    0,
                )
            }
            .map_err(super::os("mmap"))?;
            debug_assert_eq!(got, addr);
            Ok(())
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            // No image can exist here (`new` returns `None`).
            let _ = addr;
            Err(SysError::Unsupported("memory images"))
        }
    }

    /// Replaces the image's range in `map` (memory starting at `base`) with
    /// anonymous zero pages, read + write.
    ///
    /// # Safety
    ///
    /// As for [`MemoryImage::map_into`].
    pub(crate) unsafe fn remove_from(&self, map: &mut Mmap, base: usize) -> Result<(), SysError> {
        let at = base
            .checked_add(self.offset)
            .ok_or(SysError::Overflow("MemoryImage::remove_from"))?;
        // SAFETY: the caller's promise covers this range.
        unsafe { map.replace_with_zeros(at, self.len, true) }
    }
}
