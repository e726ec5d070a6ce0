//! Read-only mappings of whole files: [`FileMap`], how a precompiled module
//! is read without copying the file into the heap first.

use core::ptr::{self, NonNull};
use std::path::Path;

use rustix::mm::{self, MapFlags, ProtFlags};

/// A file mapped private and read-only, unmapped on drop.
pub(crate) struct FileMap {
    /// Start of the mapping; dangling (never dereferenced) when `len == 0`.
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by the value; nothing in it is
// tied to the thread that made it.
unsafe impl Send for FileMap {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for FileMap {}

impl FileMap {
    /// Maps the file at `path`.
    pub(crate) fn open(path: &Path) -> std::io::Result<FileMap> {
        let file = std::fs::File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large to map"))?;
        if len == 0 {
            return Ok(FileMap {
                ptr: NonNull::dangling(),
                len: 0,
            });
        }
        // SAFETY: a new private read-only mapping at an address the kernel
        // chooses (no MAP_FIXED) cannot clobber memory in use. The file
        // descriptor may be closed afterwards: the mapping keeps the file.
        let ptr = unsafe {
            mm::mmap(
                ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::PRIVATE,
                &file,
                0,
            )
        }?;
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| std::io::Error::other("mmap returned null"))?;
        Ok(FileMap { ptr, len })
    }

    /// The file's bytes.
    ///
    /// The bytes are the file's as long as nobody changes it: a file
    /// truncated by another process while mapped makes reads past its new
    /// end fault. Loading a precompiled module already requires the file
    /// to be trusted and left alone (`Module::deserialize_file`).
    pub(crate) fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the mapping is `len` readable bytes owned by `self`, and
        // stays mapped for the borrow's lifetime (until drop).
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for FileMap {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        // SAFETY: we own the mapping and this is its last use; an error is
        // ignored, as nothing useful can be done with it here.
        let _ = unsafe { mm::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}
