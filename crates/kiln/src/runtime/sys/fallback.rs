//! The platform layer where the runtime has no OS support for native code
//! (today: every target that is not Unix, such as Windows and wasm32).
//!
//! It offers the same items as the Unix layer so the runtime builds
//! unchanged, but none of them can be created: reserving memory, mapping
//! code or building a memory image fails with [`SysError::Unsupported`]
//! (an image reports "none", so data segments are copied). Native engines
//! cannot be set up here (`Traps::init` fails first), so the interpreter
//! runs everything and none of these values ever exists at run time.

use super::SysError;

/// The page size native code would assume; never used to map anything.
pub(crate) fn page_size() -> usize {
    4096
}

/// Machine code in executable memory: never created here.
#[derive(Debug)]
pub(crate) struct CodeMemory {
    never: core::convert::Infallible,
}

impl CodeMemory {
    /// Always fails: this platform layer cannot map executable memory.
    pub(crate) fn new(_image: &[u8]) -> Result<CodeMemory, SysError> {
        Err(SysError::Unsupported("executable memory"))
    }

    /// Address of the first byte of code.
    pub(crate) fn base(&self) -> *const u8 {
        match self.never {}
    }

    /// Bytes of code.
    pub(crate) fn len(&self) -> usize {
        match self.never {}
    }

    /// Whether `pc` lies inside the code.
    pub(crate) fn contains(&self, _pc: usize) -> bool {
        match self.never {}
    }

    /// The code bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self.never {}
    }
}

/// A reservation of address space: never created here.
#[derive(Debug)]
pub(crate) struct Mmap {
    never: core::convert::Infallible,
}

impl Mmap {
    /// Always fails: this platform layer cannot reserve address space.
    pub(crate) fn reserve(_len: usize) -> Result<Mmap, SysError> {
        Err(SysError::Unsupported("virtual memory"))
    }

    /// Always fails, as [`Mmap::reserve`].
    pub(crate) fn accessible(_len: usize) -> Result<Mmap, SysError> {
        Err(SysError::Unsupported("virtual memory"))
    }

    /// The first byte of the mapping.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        match self.never {}
    }

    /// Length of the mapping.
    pub(crate) fn len(&self) -> usize {
        match self.never {}
    }

    /// Makes a range readable and writable.
    pub(crate) fn make_accessible(&mut self, _offset: usize, _len: usize) -> Result<(), SysError> {
        match self.never {}
    }

    /// Moves pages from another mapping.
    ///
    /// # Safety
    ///
    /// As on Unix; unreachable here, since no `Mmap` exists.
    pub(crate) unsafe fn take_prefix(
        &mut self,
        _src: &mut Mmap,
        _len: usize,
    ) -> Result<(), SysError> {
        match self.never {}
    }

    /// Makes a range inaccessible.
    ///
    /// # Safety
    ///
    /// As on Unix; unreachable here, since no `Mmap` exists.
    pub(crate) unsafe fn make_inaccessible(
        &mut self,
        _offset: usize,
        _len: usize,
    ) -> Result<(), SysError> {
        match self.never {}
    }

    /// Gives a range's pages back.
    ///
    /// # Safety
    ///
    /// As on Unix; unreachable here, since no `Mmap` exists.
    pub(crate) unsafe fn decommit(&mut self, _offset: usize, _len: usize) -> Result<(), SysError> {
        match self.never {}
    }

    /// Replaces a range with zero pages.
    ///
    /// # Safety
    ///
    /// As on Unix; unreachable here, since no `Mmap` exists.
    pub(crate) unsafe fn replace_with_zeros(
        &mut self,
        _offset: usize,
        _len: usize,
        _accessible: bool,
    ) -> Result<(), SysError> {
        match self.never {}
    }
}

/// A copy-on-write memory image: never created here.
#[derive(Debug)]
pub(crate) struct MemoryImage {
    never: core::convert::Infallible,
}

impl MemoryImage {
    /// `Ok(None)`: this host cannot back images, so the bytes are copied.
    pub(crate) fn new(_bytes: &[u8], _offset: usize) -> Result<Option<MemoryImage>, SysError> {
        Ok(None)
    }

    /// Where in linear memory the image starts.
    pub(crate) fn offset(&self) -> usize {
        match self.never {}
    }

    /// Size of the image in bytes.
    pub(crate) fn len(&self) -> usize {
        match self.never {}
    }

    /// Maps the image into `map`.
    ///
    /// # Safety
    ///
    /// As on Unix; unreachable here, since no image exists.
    pub(crate) unsafe fn map_into(&self, _map: &mut Mmap, _base: usize) -> Result<(), SysError> {
        match self.never {}
    }

    /// Removes the image from `map`.
    ///
    /// # Safety
    ///
    /// As on Unix; unreachable here, since no image exists.
    pub(crate) unsafe fn remove_from(&self, _map: &mut Mmap, _base: usize) -> Result<(), SysError> {
        match self.never {}
    }
}
