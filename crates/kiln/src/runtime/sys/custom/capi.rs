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
