//! Executable memory: [`CodeMemory`].
//!
//! Code is copied into fresh read + write pages, which are then switched to
//! read + execute with `mprotect`. The pages are never writable and
//! executable at once (W^X), and nothing writes them afterwards.
//!
//! Instruction-cache coherence is per architecture:
//! * x86, x86_64 and s390x keep instruction fetch coherent with stores, so
//!   nothing is needed beyond the `mprotect` call;
//! * aarch64 needs the data cache cleaned and the instruction cache
//!   invalidated to the point of unification for the written lines, then a
//!   context synchronisation on every core that may run the code: an `isb`
//!   here, and `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)` for the other
//!   threads of the process (when the kernel has it);
//! * riscv64 Linux asks the kernel (`riscv_flush_icache`), which fences
//!   every hart the process may run on;
//! * any other architecture reports [`SysError::Unsupported`].

use rustix::mm::{self, MprotectFlags};

use super::mmap::{Mmap, round_up_to_page};
use super::os;
use crate::runtime::sys::SysError;

/// Machine code in read + execute memory, unmapped on drop.
#[derive(Debug)]
pub(crate) struct CodeMemory {
    map: Mmap,
    /// Bytes of code (the mapping is this rounded up to pages).
    len: usize,
}

impl CodeMemory {
    /// Maps `image` as executable code. The image must not be empty.
    pub(crate) fn new(image: &[u8]) -> Result<CodeMemory, SysError> {
        if image.is_empty() {
            return Err(SysError::BadRange {
                op: "CodeMemory::new",
                offset: 0,
                len: 0,
                limit: 0,
            });
        }
        icache::check_supported()?;
        let map_len = round_up_to_page(image.len(), "CodeMemory::new")?;
        let map = Mmap::accessible(map_len)?;
        // SAFETY: `map` is a fresh read + write mapping of at least
        // `image.len()` bytes that nothing else refers to, and `image` is a
        // distinct allocation, so the copy is in bounds and cannot overlap.
        unsafe { core::ptr::copy_nonoverlapping(image.as_ptr(), map.as_ptr(), image.len()) };
        // SAFETY: the written bytes are inside `map`, which is still
        // writable (the data cache maintenance needs no more than that).
        unsafe { icache::before_protect(map.as_ptr(), image.len()) };
        // SAFETY: the range is exactly our own mapping; dropping write access
        // is what W^X asks, and no `&mut` into it exists.
        unsafe {
            mm::mprotect(
                map.as_ptr().cast(),
                map_len,
                MprotectFlags::READ | MprotectFlags::EXEC,
            )
        }
        .map_err(os("mprotect"))?;
        icache::after_protect(map.as_ptr(), image.len())?;
        Ok(CodeMemory {
            map,
            len: image.len(),
        })
    }

    /// Address of the first byte of code.
    pub(crate) fn base(&self) -> *const u8 {
        self.map.as_ptr()
    }

    /// Bytes of code (as given to [`CodeMemory::new`]).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `pc` lies inside the code.
    pub(crate) fn contains(&self, pc: usize) -> bool {
        pc.wrapping_sub(self.base() as usize) < self.len
    }

    /// The code bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the mapping hold the copied image,
        // are readable (read + execute) and never written again while `self`
        // lives, so a shared slice borrowed from `self` is valid.
        unsafe { core::slice::from_raw_parts(self.base(), self.len) }
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "x86", target_arch = "s390x"))]
mod icache {
    //! Coherent instruction fetch: nothing to do.
    use crate::runtime::sys::SysError;

    pub(super) fn check_supported() -> Result<(), SysError> {
        Ok(())
    }

    /// # Safety
    /// Nothing to uphold here; `unsafe` to match the other architectures.
    pub(super) unsafe fn before_protect(_start: *const u8, _len: usize) {}

    pub(super) fn after_protect(_start: *const u8, _len: usize) -> Result<(), SysError> {
        Ok(())
    }
}

#[cfg(all(
    target_arch = "aarch64",
    any(target_os = "linux", target_os = "android")
))]
mod icache {
    //! aarch64: clean D-cache and invalidate I-cache by line, then
    //! synchronise every core's pipeline.
    use std::sync::OnceLock;

    use rustix::thread::{MembarrierCommand, membarrier};

    use crate::runtime::sys::SysError;

    pub(super) fn check_supported() -> Result<(), SysError> {
        Ok(())
    }

    /// Cleans and invalidates the caches for the new code (shared with the
    /// `no_std` layer: `sys/cache.rs`).
    ///
    /// # Safety
    /// `start..start + len` must be mapped and readable.
    pub(super) unsafe fn before_protect(start: *const u8, len: usize) {
        // SAFETY: forwarded from our caller.
        unsafe { crate::runtime::sys::cache::clean_for_fetch(start, len) }
    }

    /// Flushes this core's pipeline (`isb`) and, through `membarrier`, every
    /// other core running a thread of this process.
    pub(super) fn after_protect(_start: *const u8, _len: usize) -> Result<(), SysError> {
        crate::runtime::sys::cache::synchronize_fetch();
        // Registration is once per process; kernels before 4.16 lack the
        // command, and then threads pick the code up at their next context
        // synchronisation event (any syscall or interrupt), which publishing
        // the code to another thread in practice implies.
        static REGISTERED: OnceLock<bool> = OnceLock::new();
        let registered = *REGISTERED.get_or_init(|| {
            membarrier(MembarrierCommand::RegisterPrivateExpeditedSyncCore).is_ok()
        });
        if registered {
            membarrier(MembarrierCommand::PrivateExpeditedSyncCore)
                .map_err(super::os("membarrier"))?;
        }
        Ok(())
    }
}

#[cfg(all(target_arch = "riscv64", target_os = "linux"))]
mod icache {
    //! riscv64: `fence.i` only affects the local hart; the kernel's
    //! `riscv_flush_icache` covers every hart of the process.
    use crate::runtime::sys::SysError;

    pub(super) fn check_supported() -> Result<(), SysError> {
        Ok(())
    }

    /// # Safety
    /// Nothing to uphold before the protection change.
    pub(super) unsafe fn before_protect(_start: *const u8, _len: usize) {}

    /// `__NR_riscv_flush_icache` (`__NR_arch_specific_syscall + 15`, from
    /// the kernel's `asm/unistd.h`); the `libc` crate does not name it.
    const SYS_RISCV_FLUSH_ICACHE: libc::c_long = 244 + 15;

    pub(super) fn after_protect(start: *const u8, len: usize) -> Result<(), SysError> {
        let end = (start as usize).wrapping_add(len);
        // SAFETY: riscv_flush_icache(start, end, flags = 0: all threads)
        // only synchronises instruction fetch; it reads no user memory.
        let rc = unsafe { libc::syscall(SYS_RISCV_FLUSH_ICACHE, start as usize, end, 0usize) };
        if rc != 0 {
            return Err(SysError::Os {
                op: "riscv_flush_icache",
                errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            });
        }
        Ok(())
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "s390x",
    all(
        target_arch = "aarch64",
        any(target_os = "linux", target_os = "android")
    ),
    all(target_arch = "riscv64", target_os = "linux"),
)))]
mod icache {
    //! No known way to make the instruction cache coherent here.
    use crate::runtime::sys::SysError;

    pub(super) fn check_supported() -> Result<(), SysError> {
        Err(SysError::Unsupported(
            "code memory: instruction-cache coherence on this architecture",
        ))
    }

    /// # Safety
    /// Never reached: `check_supported` fails first.
    pub(super) unsafe fn before_protect(_start: *const u8, _len: usize) {}

    pub(super) fn after_protect(_start: *const u8, _len: usize) -> Result<(), SysError> {
        check_supported()
    }
}
