//! The functions a `no_std` embedder implements for Kiln.
//!
//! `include/kiln-platform.h` is generated from this file by cbindgen
//! (`crates/kiln/tests/platform_header.rs` regenerates it and fails when the
//! checked-in header differs; run it with `KILN_BLESS=1` to update it). Each
//! declaration's documentation is copied into the header and says exactly
//! what the function must do.
//!
//! With the `std` feature none of these are used: the runtime gets the
//! same services from the standard library.

// The names are the C header's: the embedder defines these symbols.
unsafe extern "C" {
    /// Returns the value most recently passed to `kiln_tls_set` on the
    /// calling thread, or NULL if it never called `kiln_tls_set`.
    ///
    /// Kiln keeps one pointer per thread: the innermost WebAssembly
    /// activation running on it, which traps unwind to. Each thread that
    /// runs WebAssembly needs its own value; an embedder with a single
    /// thread may keep it in one global variable. The function must not
    /// allocate, lock or fail: it is called while WebAssembly code is
    /// being entered and left.
    pub fn kiln_tls_get() -> *mut u8;

    /// Makes `value` the calling thread's value for `kiln_tls_get`.
    /// `value` may be NULL. The same restrictions as for `kiln_tls_get`
    /// apply.
    pub fn kiln_tls_set(value: *mut u8);

    /// Acquires the lock identified by `lock`, waiting while another
    /// thread holds it.
    ///
    /// `lock` points at a pointer-aligned word that Kiln owns and never
    /// reads or writes itself: it is 0 when the lock is created, and from
    /// then on only `kiln_lock_acquire` and `kiln_lock_release` touch it.
    /// The word is the whole state of the lock, e.g. 0 for free and 1 for
    /// held, changed with atomic operations (a spin lock, or a futex word).
    /// Kiln may free the memory holding the word whenever the lock is not
    /// held, without telling the embedder, so the word must not own
    /// anything. Kiln never acquires a lock it already holds and never
    /// holds one while it runs WebAssembly or embedder callbacks. An
    /// embedder without threads may make both lock functions do nothing.
    pub fn kiln_lock_acquire(lock: *mut usize);

    /// Releases the lock identified by `lock`, which the calling thread
    /// acquired with `kiln_lock_acquire`.
    pub fn kiln_lock_release(lock: *mut usize);
}

/// Protection value for [`kiln_mmap_new`], [`kiln_mmap_remap`] and
/// [`kiln_mprotect`]: pages may be read. Without any bit set, pages may
/// not be accessed at all.
#[cfg(feature = "custom-virtual-memory")]
pub const KILN_PROT_READ: u32 = 1;
/// Protection bit: pages may be written.
#[cfg(feature = "custom-virtual-memory")]
pub const KILN_PROT_WRITE: u32 = 2;
/// Protection bit: instructions may be fetched from the pages.
#[cfg(feature = "custom-virtual-memory")]
pub const KILN_PROT_EXEC: u32 = 4;

/// A copy-on-write memory image the embedder made in
/// [`kiln_memory_image_new`]. Kiln only passes the pointer back.
#[cfg(feature = "custom-virtual-memory")]
pub struct KilnMemoryImage {
    _opaque: [u8; 0],
}

/// Where a WebAssembly trap resumes, as [`KilnTrapHandler`] reports it.
#[cfg(feature = "custom-native-signals")]
#[repr(C)]
pub struct KilnTrapResume {
    /// The address the interrupted thread must continue at.
    pub pc: usize,
    /// The stack pointer it must continue with.
    pub sp: usize,
}

/// Kiln's fault handler, which Kiln passes to [`kiln_traps_init`].
///
/// The embedder calls it from its handler for a memory access fault, an
/// illegal instruction or an arithmetic fault (on POSIX systems:
/// SIGSEGV, SIGBUS, SIGILL and SIGFPE), on the faulting thread, with:
///
/// * `pc`: the address of the faulting instruction;
/// * `fp`: the interrupted frame pointer register (x86_64: `rbp`;
///   aarch64: `x29`; riscv64: `s0`; s390x, whose frames have no frame
///   pointer: the stack pointer `r15`);
/// * `fault_addr`: the data address a memory access fault touched, or 0
///   for the other faults;
/// * `resume`: where Kiln writes how to continue.
///
/// It returns true when the fault is a trap in WebAssembly code run by
/// this thread. Then the embedder must make the thread continue at
/// `resume->pc` with its stack pointer set to `resume->sp` (on POSIX:
/// write both into the `ucontext_t` and return from the signal handler);
/// no other register needs restoring. It returns false for every other
/// fault, which the embedder handles as if Kiln were not there (usually
/// by crashing). The function only reads memory Kiln owns and takes no
/// lock, so it is safe in a signal handler.
#[cfg(feature = "custom-native-signals")]
pub type KilnTrapHandler = unsafe extern "C" fn(
    pc: usize,
    fp: usize,
    fault_addr: usize,
    resume: *mut KilnTrapResume,
) -> bool;

// Only pointers to `KilnMemoryImage` cross the boundary, and a pointer's
// ABI does not depend on what it points at; the type stays opaque so that
// the header declares it as an incomplete struct.
#[allow(improper_ctypes)]
unsafe extern "C" {
    /// Returns the size of a virtual memory page in bytes: a power of two
    /// of at least 4096, the same on every call. Every address and length
    /// Kiln passes to the functions below is a multiple of it.
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_page_size() -> usize;

    /// Maps `size` bytes of new, zero-filled memory with protection `prot`
    /// (0, or `KILN_PROT_READ | KILN_PROT_WRITE`) and returns its first
    /// address, which must be page-aligned; returns NULL if it cannot.
    ///
    /// Kiln reserves large regions this way (a 32-bit linear memory takes
    /// 4 GiB plus a guard region) and opens pages inside them as memory
    /// grows, so pages mapped with protection 0 should cost address space
    /// only, not memory (on POSIX: `mmap` with `PROT_NONE` and
    /// `MAP_NORESERVE`). An access to a page without access rights must
    /// fault (and reach [`KilnTrapHandler`] with `custom-native-signals`).
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_mmap_new(size: usize, prot: u32) -> *mut u8;

    /// Replaces the `size` bytes at `addr`, inside one mapping made by
    /// `kiln_mmap_new`, with fresh zero-filled pages of protection `prot`,
    /// giving the old pages' memory back to the system. Returns 0, or a
    /// nonzero error number if it cannot.
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_mmap_remap(addr: *mut u8, size: usize, prot: u32) -> i32;

    /// Changes the protection of the `size` bytes at `addr`, inside one
    /// mapping made by `kiln_mmap_new`, to `prot`, keeping their contents.
    /// Returns 0, or a nonzero error number if it cannot.
    ///
    /// `prot` is 0, `KILN_PROT_READ | KILN_PROT_WRITE`, or
    /// `KILN_PROT_READ | KILN_PROT_EXEC` for machine code Kiln has just
    /// written. In the last case the function must also make the new
    /// instructions visible to instruction fetch on every core that may
    /// run them, where the processor needs more than what Kiln does on
    /// the calling core (x86_64 and s390x need nothing; on aarch64 Kiln
    /// cleans and invalidates the caches itself, and the function need
    /// only serialize other cores, e.g. with Linux's `membarrier`
    /// `SYNC_CORE` command; on riscv64 it must synchronize every hart's
    /// instruction fetch, e.g. with Linux's `riscv_flush_icache`). An
    /// embedder whose platform forbids executable memory fails this
    /// call; Kiln then runs only statically linked native code.
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_mprotect(addr: *mut u8, size: usize, prot: u32) -> i32;

    /// Unmaps the whole mapping of `size` bytes at `addr` that
    /// `kiln_mmap_new` returned. Kiln never unmaps part of a mapping.
    /// Returns 0, or a nonzero error number if it cannot.
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_munmap(addr: *mut u8, size: usize) -> i32;

    /// Makes a copy-on-write image of the `len` bytes at `data` (a
    /// multiple of the page size) and stores it in `*image`, so that
    /// `kiln_memory_image_map_at` can later map it into linear memories
    /// without copying. Kiln may free `data` once this returns.
    ///
    /// Returns 0 on success, or a nonzero error number. An embedder
    /// without the means (on POSIX, a `memfd` or another shareable file)
    /// stores NULL and returns 0: Kiln then copies initial memory contents
    /// at each instantiation instead.
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_memory_image_new(
        data: *const u8,
        len: usize,
        image: *mut *mut KilnMemoryImage,
    ) -> i32;

    /// Maps `image`'s `len` bytes (the length it was made with) at `addr`,
    /// a page-aligned address inside a mapping made by `kiln_mmap_new`,
    /// readable and writable, in place of the pages there. Writes through
    /// this mapping must never reach the image or other mappings of it.
    /// Returns 0, or a nonzero error number if it cannot.
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_memory_image_map_at(image: *mut KilnMemoryImage, addr: *mut u8, len: usize) -> i32;

    /// Frees `image`. Linear memories that mapped it may still be in use
    /// and must keep their contents (as a POSIX mapping of a file keeps
    /// working after the file is closed).
    #[cfg(feature = "custom-virtual-memory")]
    pub fn kiln_memory_image_free(image: *mut KilnMemoryImage);

    /// Installs the embedder's fault handling so that it calls `handler`
    /// (see [`KilnTrapHandler`]) for every memory access fault, illegal
    /// instruction and arithmetic fault on any thread, before anything
    /// else handles it. Returns 0, or a nonzero error number if it cannot;
    /// Kiln then refuses to run code that relies on faults.
    ///
    /// Kiln calls it once per process, before it first runs native code
    /// compiled with signals-based traps (code compiled with
    /// `signals_based_traps(false)` needs no handler). WebAssembly code
    /// checks its own stack limit, leaving room for the handler to run on
    /// the faulting thread's stack, so no separate signal stack is needed
    /// for WebAssembly's sake.
    #[cfg(feature = "custom-native-signals")]
    pub fn kiln_traps_init(handler: KilnTrapHandler) -> i32;
}
