//! The Unix implementation of the platform layer: `mmap`-based virtual
//! memory, code memory and `memfd` images over `rustix`, and the signal
//! handlers over `libc` (rustix does not wrap `sigaction`, `sigaltstack` or
//! the `ucontext` layout).

mod code;
mod file;
mod image;
mod mmap;
pub(super) mod signals;
mod stack;

pub(crate) use code::CodeMemory;
pub(crate) use file::FileMap;
pub(crate) use image::MemoryImage;
pub(crate) use mmap::{Mmap, page_size};
pub(crate) use stack::thread_stack_low;

use super::SysError;

/// Wraps an errno from rustix as a [`SysError::Os`].
fn os(op: &'static str) -> impl FnOnce(rustix::io::Errno) -> SysError {
    move |e| SysError::Os {
        op,
        errno: e.raw_os_error(),
    }
}
