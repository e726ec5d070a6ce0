//! Making freshly written machine code visible to instruction fetch on
//! the calling core, where the architecture needs more than a write: on
//! aarch64, cleaning the data cache and invalidating the instruction cache
//! by line, then a context synchronisation barrier. Other architectures
//! need nothing here (x86_64 and s390x keep the caches coherent; riscv64
//! needs the whole process's harts synchronized, which only the OS can do:
//! the Unix layer asks the kernel, and a `no_std` embedder does it in
//! `kiln_mprotect`). Shared by both code-memory implementations.

// The Unix layer needs these only on aarch64 (elsewhere it has nothing to
// do or asks the kernel); the `no_std` layer calls them everywhere.
#![cfg_attr(not(any(kiln_custom_vm, target_arch = "aarch64")), allow(dead_code))]

#[cfg(target_arch = "aarch64")]
use core::arch::asm;

/// Cleans the data cache and invalidates the instruction cache for the
/// lines covering `start..start + len`, to the point of unification.
///
/// # Safety
/// `start..start + len` must be mapped and readable.
#[cfg(target_arch = "aarch64")]
pub(super) unsafe fn clean_for_fetch(start: *const u8, len: usize) {
    let ctr: u64;
    // SAFETY: CTR_EL0 is readable at EL1, and from EL0 on Linux (the
    // kernel enables or emulates the access); reading it has no side
    // effects.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    let dline = 4usize << ((ctr >> 16) & 0xf);
    let iline = 4usize << (ctr & 0xf);
    let begin = start as usize;
    let end = begin + len;
    // CTR_EL0.IDC (bit 28): no D-cache clean needed for coherence.
    if ctr & (1 << 28) == 0 {
        let mut addr = begin & !(dline - 1);
        while addr < end {
            // SAFETY: `addr` lies in a line of the mapped, readable range
            // (the caller's promise); DC CVAU only writes back cache
            // contents, it does not change memory as seen by programs.
            unsafe { asm!("dc cvau, {}", in(reg) addr, options(nostack, preserves_flags)) };
            addr += dline;
        }
    }
    // SAFETY: a barrier; no memory or register effects visible to Rust.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    // CTR_EL0.DIC (bit 29): no I-cache invalidation needed.
    if ctr & (1 << 29) == 0 {
        let mut addr = begin & !(iline - 1);
        while addr < end {
            // SAFETY: as for DC CVAU: cache maintenance on mapped lines.
            unsafe { asm!("ic ivau, {}", in(reg) addr, options(nostack, preserves_flags)) };
            addr += iline;
        }
        // SAFETY: a barrier.
        unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    }
}

/// Nothing to clean: the caches are coherent with instruction fetch, or
/// (riscv64) the synchronization is the OS's.
///
/// # Safety
/// Nothing to uphold here; `unsafe` to match aarch64.
#[cfg(not(target_arch = "aarch64"))]
pub(super) unsafe fn clean_for_fetch(_start: *const u8, _len: usize) {}

/// Discards instructions this core may have fetched before the new code
/// was in place (`isb` on aarch64; nothing elsewhere).
pub(super) fn synchronize_fetch() {
    #[cfg(target_arch = "aarch64")]
    {
        // SAFETY: ISB is a context synchronisation barrier with no memory
        // or register effects visible to Rust.
        unsafe { asm!("isb", options(nostack, preserves_flags)) };
    }
}
