//! Read-only mappings of whole files: [`FileMap`], how a precompiled module
//! is read without copying the file into the heap first.

use std::path::Path;

use super::mmap::Mmap;

/// A file mapped private and read-only (an [`Mmap`], unmapped on drop).
pub(crate) struct FileMap {
    map: Mmap,
}

impl FileMap {
    /// Maps the file at `path`.
    pub(crate) fn open(path: &Path) -> std::io::Result<FileMap> {
        let file = std::fs::File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large to map"))?;
        let map = Mmap::map_file_read_only(&file, len).map_err(std::io::Error::other)?;
        Ok(FileMap { map })
    }

    /// The file's bytes.
    ///
    /// The bytes are the file's as long as nobody changes it: a file
    /// truncated by another process while mapped makes reads past its new
    /// end fault. Loading a precompiled module already requires the file
    /// to be trusted and left alone (`Module::deserialize_file`).
    pub(crate) fn as_slice(&self) -> &[u8] {
        if self.map.len() == 0 {
            return &[];
        }
        // SAFETY: the mapping is `len` readable bytes owned by `self` (made
        // read-only in `open`, never changed), and stays mapped for the
        // borrow's lifetime.
        unsafe { core::slice::from_raw_parts(self.map.as_ptr(), self.map.len()) }
    }
}
