//! Locks and the per-thread slot: from `std` when it is there, otherwise
//! from the embedder through `include/kiln-platform.h`.
//!
//! The runtime needs very little of either. Locks guard a few engine-wide
//! tables (signature ids, host trampolines, the code registry's writers),
//! never anything on the path of a wasm instruction. The one thread-local
//! value is the innermost wasm activation of the current thread, which the
//! trap machinery reads to find where to resume.

#[cfg(not(feature = "std"))]
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

/// A mutual-exclusion lock around a `T`, `const`-constructible so it can
/// live in a `static`.
///
/// With `std` it is `std::sync::Mutex`, and a panic while it is held does
/// not poison it (the tables it guards stay consistent at every step).
/// Without `std` it calls the embedder's `kiln_lock_acquire` and
/// `kiln_lock_release` on a word it owns.
pub(crate) struct Mutex<T> {
    #[cfg(feature = "std")]
    inner: std::sync::Mutex<T>,
    #[cfg(not(feature = "std"))]
    word: UnsafeCell<usize>,
    #[cfg(not(feature = "std"))]
    value: UnsafeCell<T>,
}

// SAFETY: without `std` the embedder's lock gives one thread at a time
// access to `value` (the contract of `kiln_lock_acquire`), which is what
// `std::sync::Mutex` promises for the same bounds.
#[cfg(not(feature = "std"))]
unsafe impl<T: Send> Sync for Mutex<T> {}
// SAFETY: moving the lock moves the value; nothing refers to the word
// while the lock is not held, and it cannot be held across a move.
#[cfg(not(feature = "std"))]
unsafe impl<T: Send> Send for Mutex<T> {}

impl<T: core::fmt::Debug> core::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Mutex { .. }")
    }
}

impl<T> Mutex<T> {
    /// An unlocked lock around `value`.
    pub(crate) const fn new(value: T) -> Mutex<T> {
        Mutex {
            #[cfg(feature = "std")]
            inner: std::sync::Mutex::new(value),
            #[cfg(not(feature = "std"))]
            word: UnsafeCell::new(0),
            #[cfg(not(feature = "std"))]
            value: UnsafeCell::new(value),
        }
    }

    /// Waits for the lock and returns a guard that releases it on drop.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(feature = "std")]
        {
            MutexGuard {
                inner: self.inner.lock().unwrap_or_else(|p| p.into_inner()),
            }
        }
        #[cfg(not(feature = "std"))]
        {
            // SAFETY: the word is this lock's own, zero-initialised and
            // only ever passed to the embedder's lock functions, as
            // `kiln_lock_acquire` requires.
            unsafe { super::custom::capi::kiln_lock_acquire(self.word.get()) };
            MutexGuard { lock: self }
        }
    }
}

/// Access to a [`Mutex`]'s value while it is held.
pub(crate) struct MutexGuard<'a, T> {
    #[cfg(feature = "std")]
    inner: std::sync::MutexGuard<'a, T>,
    #[cfg(not(feature = "std"))]
    lock: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        #[cfg(feature = "std")]
        {
            &self.inner
        }
        #[cfg(not(feature = "std"))]
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe {
            &*self.lock.value.get()
        }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        #[cfg(feature = "std")]
        {
            &mut self.inner
        }
        #[cfg(not(feature = "std"))]
        // SAFETY: as in `deref`; `&mut self` makes this the only access.
        unsafe {
            &mut *self.lock.value.get()
        }
    }
}

#[cfg(not(feature = "std"))]
impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this thread acquired the lock in `Mutex::lock` and
        // releases it exactly once, here.
        unsafe { super::custom::capi::kiln_lock_release(self.lock.word.get()) };
    }
}

/// Lets a thread that waits for others (e.g. a code-registry writer
/// waiting for readers) give way.
pub(crate) fn yield_now() {
    #[cfg(feature = "std")]
    std::thread::yield_now();
    #[cfg(not(feature = "std"))]
    core::hint::spin_loop();
}

#[cfg(feature = "std")]
std::thread_local! {
    /// The slot, where `std` provides thread-locals. A `const`-initialised
    /// `Cell` of a pointer has no destructor, so this is a plain TLS word:
    /// reading it is async-signal-safe (no lazy initialisation).
    static SLOT: core::cell::Cell<*mut u8> = const { core::cell::Cell::new(core::ptr::null_mut()) };
}

/// The current thread's runtime slot (null until [`tls_set`]).
/// Async-signal-safe.
#[inline]
pub(crate) fn tls_get() -> *mut u8 {
    #[cfg(feature = "std")]
    {
        SLOT.try_with(core::cell::Cell::get)
            .unwrap_or(core::ptr::null_mut())
    }
    #[cfg(not(feature = "std"))]
    // SAFETY: `kiln_tls_get` has no preconditions.
    unsafe {
        super::custom::capi::kiln_tls_get()
    }
}

/// Sets the current thread's runtime slot.
#[inline]
pub(crate) fn tls_set(value: *mut u8) {
    #[cfg(feature = "std")]
    SLOT.with(|s| s.set(value));
    #[cfg(not(feature = "std"))]
    // SAFETY: `kiln_tls_set` has no preconditions.
    unsafe {
        super::custom::capi::kiln_tls_set(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_serialises_its_value() {
        static COUNT: Mutex<u64> = Mutex::new(0);
        let threads: alloc::vec::Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..10_000 {
                        *COUNT.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*COUNT.lock(), 40_000);
    }

    #[test]
    fn the_slot_is_per_thread() {
        let mut here = 7u8;
        tls_set(&mut here);
        let other = std::thread::spawn(|| tls_get() as usize).join().unwrap();
        assert_eq!(other, 0);
        assert_eq!(tls_get(), &mut here as *mut u8);
        tls_set(core::ptr::null_mut());
    }
}
