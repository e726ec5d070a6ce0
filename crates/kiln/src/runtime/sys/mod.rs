//! The platform layer: every operating-system call the runtime makes.
//!
//! The native backends need four things from the host, and nothing else in
//! the runtime talks to the OS for them:
//!
//! * **virtual memory** ([`Mmap`]): reserve address space with no access,
//!   open and close page ranges inside it, give pages back (they read as
//!   zero again), unmap on drop. Linear memories live in one reservation
//!   each and grow in place by changing protections;
//! * **code memory** ([`CodeMemory`]): machine code copied into pages that
//!   are writable while filled and then read + execute, never both, with
//!   the instruction cache made coherent where the architecture needs it;
//! * **memory images** ([`MemoryImage`]): a module's initial data in a
//!   sealed `memfd`, mapped copy-on-write into a reservation, so
//!   instantiation is one `mmap` and wasm's writes never reach the image;
//! * **traps** ([`Traps`]): hardware faults (SIGSEGV, SIGBUS, SIGILL,
//!   SIGFPE) in registered wasm code become a [`TrapRecord`] returned by
//!   [`Traps::call_wasm`]; faults anywhere else go to the handler that was
//!   installed before ours. Host code unwinds to the innermost activation
//!   with [`raise_trap`].
//!
//! `docs/platform.md` describes the design (why no `setjmp`, how the
//! handler chains, why it is async-signal-safe) and what a `no_std`
//! embedder will have to provide in its place.
//!
//! ```text
//! sys/
//!   mod.rs        errors, TrapRecord, reservation defaults (this file)
//!   registry.rs   which address ranges hold wasm code (signal-safe reads)
//!   traps.rs      activations, call_wasm, raise_trap (portable part)
//!   arch/         entry/resume trampolines and ucontext access per CPU
//!   unix/         mmap, code memory, memfd images, signal handlers
//!   cache.rs      instruction-cache maintenance for new code
//!   fallback.rs   elsewhere (Windows, wasm32, no_std without
//!                 custom-virtual-memory): the same items, never created
//!   sync.rs       locks and the per-thread slot (std, or the embedder's)
//!   custom/       without std: the embedder's functions
//!                 (include/kiln-platform.h): locks and TLS, and with the
//!                 custom-* features virtual memory and fault handling
//!   tests.rs      unit tests
//! ```
//!
//! All the `unsafe` code of the layer is in this module; each block says
//! why it holds.

// The native backend (`runtime::native`) uses code memory, reservations,
// memory images, registration and `call_wasm`; a few calls (decommit,
// removing an image) are for instance reuse, which is not built yet, and
// only the layer's own tests use them so far.
#![cfg_attr(not(test), allow(dead_code))]

use core::fmt;

use kiln_environ::TrapCode;

mod arch;
mod cache;
mod registry;
pub(crate) mod sync;
mod traps;

#[cfg(not(feature = "std"))]
mod custom;

#[cfg(kiln_os)]
mod unix;

#[cfg(not(any(kiln_os, kiln_custom_vm)))]
mod fallback;

#[cfg(test)]
mod tests;

// The layer's API. Unused outside its tests until the native backend wires
// it in (as for `dead_code` above).
#[cfg(kiln_custom_vm)]
pub(crate) use custom::vm::{CodeMemory, MemoryImage, Mmap, page_size};
#[cfg(not(any(kiln_os, kiln_custom_vm)))]
pub(crate) use fallback::{CodeMemory, MemoryImage, Mmap, page_size};

/// Whether this build can reserve address space ([`Mmap`]): the OS layer,
/// or the embedder's with `custom-virtual-memory`. Without it native
/// linear memories live on the heap and code checks every access, and
/// only statically linked native code can run.
pub(crate) const HAS_VIRTUAL_MEMORY: bool = cfg!(any(kiln_os, kiln_custom_vm));
#[cfg_attr(not(test), allow(unused_imports))]
pub(crate) use registry::{CodeLookup, CodeRegistration, is_wasm_pc, register_code};
#[cfg_attr(not(test), allow(unused_imports))]
pub(crate) use traps::{
    TraceBuf, Traps, WasmEntry, frame_caller, handler_sp, raise_trap, resume_handler,
};
#[cfg(kiln_os)]
#[cfg_attr(not(test), allow(unused_imports))]
pub(crate) use unix::{CodeMemory, MemoryImage, Mmap, page_size};

/// The lowest address of the current thread's stack, where the OS can
/// say (Linux); `None` elsewhere, where callers fall back to fixed budgets.
pub(crate) fn thread_stack_low() -> Option<usize> {
    #[cfg(kiln_os)]
    {
        unix::thread_stack_low()
    }
    #[cfg(not(kiln_os))]
    {
        None
    }
}

/// A whole file's bytes for reading: mapped where the OS can (no copy,
/// pages read on demand), read into the heap elsewhere.
#[cfg(feature = "std")]
pub(crate) enum FileBytes {
    /// A private read-only mapping.
    #[cfg(kiln_os)]
    Mapped(unix::FileMap),
    /// The file read into memory.
    #[cfg_attr(kiln_os, allow(dead_code))]
    Read(alloc::vec::Vec<u8>),
}

#[cfg(feature = "std")]
impl FileBytes {
    /// The bytes of the file at `path`.
    pub(crate) fn open(path: &std::path::Path) -> std::io::Result<FileBytes> {
        #[cfg(kiln_os)]
        {
            unix::FileMap::open(path).map(FileBytes::Mapped)
        }
        #[cfg(not(kiln_os))]
        {
            std::fs::read(path).map(FileBytes::Read)
        }
    }

    /// The file's contents.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            #[cfg(kiln_os)]
            FileBytes::Mapped(m) => m.as_slice(),
            FileBytes::Read(v) => v,
        }
    }
}

/// Why a platform operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SysError {
    /// An offset or length was not a multiple of the page size, was zero
    /// where that is meaningless, or reached past the end of a mapping.
    BadRange {
        /// What was being done.
        op: &'static str,
        /// Offset of the range, in bytes.
        offset: usize,
        /// Length of the range, in bytes.
        len: usize,
        /// Size of the mapping the range is in (0 when not applicable).
        limit: usize,
    },
    /// A size computation overflowed the address space.
    Overflow(&'static str),
    /// The OS refused: `op` is the call, `errno` its error number.
    Os {
        /// The system call.
        op: &'static str,
        /// The raw error number.
        errno: i32,
    },
    /// This host (OS, architecture or kernel) does not offer the feature;
    /// the runtime falls back (explicit bounds checks, copying data
    /// segments, or the interpreter).
    Unsupported(&'static str),
    /// Code registration overlapping an already registered range.
    Overlap {
        /// Start of the new range.
        start: usize,
        /// Its length.
        len: usize,
    },
    /// [`raise_trap`] was called on a thread with no wasm activation.
    NoActivation,
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SysError::BadRange {
                op,
                offset,
                len,
                limit,
            } => write!(
                f,
                "{op}: bad range of {len:#x} bytes at offset {offset:#x} \
                 (mapping of {limit:#x} bytes; ranges must be page-aligned and inside it)"
            ),
            SysError::Overflow(what) => write!(f, "{what}: size overflows the address space"),
            #[cfg(feature = "std")]
            SysError::Os { op, errno } => write!(
                f,
                "{op} failed: {}",
                std::io::Error::from_raw_os_error(*errno)
            ),
            #[cfg(not(feature = "std"))]
            SysError::Os { op, errno } => write!(f, "{op} failed: error {errno}"),
            SysError::Unsupported(what) => write!(f, "not supported on this host: {what}"),
            SysError::Overlap { start, len } => write!(
                f,
                "code range {start:#x}+{len:#x} overlaps code that is already registered"
            ),
            SysError::NoActivation => f.write_str("raise_trap called outside any wasm activation"),
        }
    }
}

impl core::error::Error for SysError {}

/// `n` rounded up to a multiple of `page` (a power of two), for `what`.
/// Shared by the Unix and the embedder's (`custom/`) layers.
pub(crate) fn round_up_to_page_of(
    n: usize,
    page: usize,
    what: &'static str,
) -> Result<usize, SysError> {
    let mask = page - 1;
    n.checked_add(mask)
        .map(|n| n & !mask)
        .ok_or(SysError::Overflow(what))
}

/// Checks that `offset..offset + len` is page-aligned (pages of `page`
/// bytes) and inside a mapping of `limit` bytes, for operation `op`.
pub(crate) fn check_page_range(
    op: &'static str,
    offset: usize,
    len: usize,
    limit: usize,
    page: usize,
) -> Result<(), SysError> {
    let mask = page - 1;
    let fits = offset.checked_add(len).is_some_and(|end| end <= limit);
    if offset & mask != 0 || len & mask != 0 || !fits {
        return Err(SysError::BadRange {
            op,
            offset,
            len,
            limit,
        });
    }
    Ok(())
}

/// Checks where a memory image of `bytes_len` bytes (`len` once rounded to
/// pages) would start in linear memory: at a page-aligned `offset`, not
/// empty, and ending inside the address space.
pub(crate) fn check_image_placement(
    offset: usize,
    bytes_len: usize,
    len: usize,
    page: usize,
) -> Result<(), SysError> {
    if !offset.is_multiple_of(page) || bytes_len == 0 || offset.checked_add(len).is_none() {
        return Err(SysError::BadRange {
            op: "MemoryImage::new",
            offset,
            len: bytes_len,
            limit: 0,
        });
    }
    Ok(())
}

/// A trap taken in wasm code, as [`Traps::call_wasm`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TrapRecord {
    /// Why wasm stopped.
    pub code: TrapCode,
    /// Where it stopped: the faulting instruction for a hardware trap;
    /// `None` for [`raise_trap`] (the runtime records the pc of the libcall
    /// that raised it on the way out of wasm).
    pub pc: Option<usize>,
    /// The address the faulting access touched (`si_addr`): for SIGSEGV
    /// and SIGBUS the data address, for SIGILL and SIGFPE the instruction.
    /// `None` for [`raise_trap`].
    pub fault_addr: Option<usize>,
    /// The frame pointer at the fault, from which the runtime walks wasm
    /// frames; `None` for [`raise_trap`].
    pub fp: Option<usize>,
    /// The frame pointer of the entry trampoline's frame: a frame-pointer
    /// walk from [`TrapRecord::fp`] is done when it reaches this frame.
    pub entry_fp: usize,
}

/// How much address space a 32-bit linear memory gets on this host.
///
/// On 64-bit hosts the whole 4 GiB index space is reserved, followed by an
/// inaccessible guard, so compiled code needs no bounds checks for accesses
/// whose static offset stays inside the guard. On hosts with a small
/// address space that does not fit (a 32-bit process has 3–4 GiB in all),
/// so memories reserve a modest region, carry explicit checks, and move
/// when they outgrow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemoryReservation {
    /// Bytes reserved for the memory itself.
    pub reservation: u64,
    /// Inaccessible bytes after the reservation.
    pub guard: u64,
    /// Whether the reservation covers every 32-bit index, so code may rely
    /// on faults instead of explicit checks.
    pub covers_32bit_index_space: bool,
}

impl MemoryReservation {
    /// The defaults for this host: 4 GiB + 32 MiB guard on 64-bit hosts,
    /// 64 MiB + 64 KiB guard (explicit checks) on smaller ones.
    pub(crate) const fn host_default() -> Self {
        if usize::BITS >= 64 {
            MemoryReservation {
                reservation: 1 << 32,
                guard: 32 << 20,
                covers_32bit_index_space: true,
            }
        } else {
            MemoryReservation {
                reservation: 64 << 20,
                guard: 64 << 10,
                covers_32bit_index_space: false,
            }
        }
    }

    /// Reservation plus guard, in bytes, if that fits this host's `usize`.
    pub(crate) fn total(&self) -> Result<usize, SysError> {
        let total = self
            .reservation
            .checked_add(self.guard)
            .ok_or(SysError::Overflow("memory reservation"))?;
        usize::try_from(total).map_err(|_| SysError::Overflow("memory reservation"))
    }
}
