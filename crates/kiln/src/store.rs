//! [`Store`] and the context traits every store-taking method accepts.

use crate::Engine;
use crate::func::Caller;
use crate::prelude::*;
use crate::runtime::StoreInner;
use crate::runtime::native::vmctx::VMRuntimeLimits;
use alloc::sync::Arc;
use anyhow::{Result, bail};
use core::sync::atomic::{AtomicBool, Ordering};

/// Owns all runtime state: instances, memories, tables, globals, functions
/// and externref values, plus embedder data of type `T`.
///
/// Nothing in a store is freed before the store is dropped. A store is
/// single-threaded (`&mut` access runs wasm) but can move between threads:
/// `Store<T>` is `Send` when `T` is.
pub struct Store<T> {
    pub(crate) inner: StoreInner<T>,
}

impl<T> Store<T> {
    /// A new, empty store for `engine`, holding `data`.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        Store {
            inner: StoreInner::new(engine, data),
        }
    }

    /// The embedder data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The embedder data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store, returning the embedder data.
    pub fn into_data(self) -> T {
        self.inner.data
    }

    /// The engine this store belongs to.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    /// Runs a garbage collection now: objects and host values that
    /// nothing reaches are freed (see `docs/gc.md`). Does nothing while
    /// natively compiled code is running in this store (from a host
    /// function it called): its frames cannot be scanned yet.
    pub fn gc(&mut self) {
        let store = &mut self.inner.opaque;
        if store.can_collect() {
            store.collect_garbage();
        }
    }

    /// What the garbage collector has done so far in this store.
    pub fn gc_stats(&self) -> crate::GcStats {
        self.inner.opaque.gc_heap.stats()
    }

    /// Takes the exception an uncaught wasm throw left (the call returned
    /// a [`ThrownException`](crate::ThrownException) error), if any.
    pub fn take_pending_exception(&mut self) -> Option<crate::ExnRef> {
        let store = &mut self.inner.opaque;
        let bits = store.pending_exception.take()?;
        crate::ExnRef::from_bits(store, bits)
    }

    /// Whether an exception is pending (see
    /// [`Store::take_pending_exception`]).
    pub fn has_pending_exception(&self) -> bool {
        self.inner.opaque.pending_exception.is_some()
    }

    /// Makes `exn` the pending exception and returns the error that, out
    /// of a host function, throws it into the wasm that called it (or, out
    /// of no wasm, to the embedder).
    pub fn throw<R>(&mut self, exn: crate::ExnRef) -> Result<R, crate::ThrownException> {
        Err(self.inner.opaque.throw_exn(exn))
    }

    /// Sets the fuel remaining for wasm in this store. Errors unless fuel
    /// consumption is enabled with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.opaque.check_fuel_enabled()?;
        self.inner.opaque.exec.fuel = fuel;
        Ok(())
    }

    /// The fuel remaining. Errors unless fuel consumption is enabled.
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.opaque.check_fuel_enabled()?;
        Ok(self.inner.opaque.exec.fuel)
    }

    /// Installs a resource limiter, consulted whenever a memory or table of
    /// this store is created or grows. `limiter` projects it out of the
    /// embedder data.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.inner.limiter = Some(Box::new(limiter));
    }

    /// A handle that can interrupt wasm running in this store, from any
    /// thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            flag: self.inner.opaque.exec.interrupt.clone(),
            native: self
                .inner
                .opaque
                .native
                .as_ref()
                .map(|n| n.get().limits.clone()),
        }
    }
}

impl crate::runtime::StoreOpaque {
    fn check_fuel_enabled(&self) -> Result<()> {
        if !self.engine.config().consume_fuel {
            bail!("fuel is not configured in this store (enable `Config::consume_fuel`)");
        }
        Ok(())
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("data", &self.inner.data)
            .finish_non_exhaustive()
    }
}

/// Decides whether memories and tables may grow (or be created at a given
/// size). Install one with [`Store::limiter`].
pub trait ResourceLimiter {
    /// Whether a memory may grow from `current` to `desired` bytes;
    /// `maximum` is its declared maximum in bytes, if any. `Ok(false)`
    /// refuses (wasm sees `memory.grow` return -1); `Err` traps.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// Whether a table may grow from `current` to `desired` elements;
    /// `maximum` is its declared maximum, if any. `Ok(false)` refuses;
    /// `Err` traps.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// Whether the store's GC heap may grow from `current` to `desired`
    /// bytes; `maximum` is [`Config::max_gc_heap_size`](crate::Config::max_gc_heap_size).
    /// The heap's size is what its old generation holds (garbage
    /// included, until a full collection) plus its nursery; it grows when
    /// a collection promotes objects and when an object does not fit the
    /// nursery. `false` refuses: the heap collects fully instead, and if
    /// that does not make room the allocation traps with
    /// `GcHeapOutOfMemory` (an error from the API). The default allows.
    fn gc_heap_growing(&mut self, current: usize, desired: usize, maximum: usize) -> bool {
        let _ = (current, desired, maximum);
        true
    }
}

/// Stops wasm running in a store, from any thread.
///
/// After [`interrupt`](InterruptHandle::interrupt), running wasm traps with
/// [`TrapCode::Interrupt`](crate::TrapCode::Interrupt) at its next loop
/// back-edge or call. If no wasm is running, the request stays pending and
/// the next wasm code to reach a back-edge or call traps; straight-line code
/// without either runs to completion and leaves it pending. The request is
/// consumed by the trap it causes.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    flag: Arc<AtomicBool>,
    /// A native store's runtime limits, whose `interrupt` word compiled
    /// code polls.
    native: Option<Arc<VMRuntimeLimits>>,
}

impl InterruptHandle {
    /// Requests an interrupt.
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::Relaxed);
        if let Some(limits) = &self.native {
            limits.interrupt.store(1, Ordering::Relaxed);
        }
    }
}

/// A shared borrow of a store, as taken by read-only operations.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// A mutable borrow of a store, as taken by operations that may run wasm or
/// change state.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<'a, T> StoreContext<'a, T> {
    /// The embedder data.
    pub fn data(&self) -> &'a T {
        &self.0.data
    }

    /// The engine of the store.
    pub fn engine(&self) -> &'a Engine {
        &self.0.opaque.engine
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The embedder data.
    pub fn data(&self) -> &T {
        &self.0.data
    }

    /// The embedder data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }

    /// The engine of the store.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

/// Anything that can lend a shared borrow of a store: [`Store`],
/// [`StoreContext`], [`StoreContextMut`], [`Caller`], and references to
/// them.
pub trait AsContext {
    /// The store's embedder data type.
    type Data;

    /// Borrows the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that can lend a mutable borrow of a store: [`Store`],
/// [`StoreContextMut`], [`Caller`], and `&mut` references to them.
pub trait AsContextMut: AsContext {
    /// Borrows the store mutably.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        C::as_context(self)
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        C::as_context(self)
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        C::as_context_mut(self)
    }
}

impl<'a, C: AsContext + ?Sized> From<&'a C> for StoreContext<'a, C::Data> {
    fn from(c: &'a C) -> Self {
        c.as_context()
    }
}

impl<'a, C: AsContext + ?Sized> From<&'a mut C> for StoreContext<'a, C::Data> {
    fn from(c: &'a mut C) -> Self {
        let c: &'a C = c;
        c.as_context()
    }
}

impl<'a, C: AsContextMut + ?Sized> From<&'a mut C> for StoreContextMut<'a, C::Data> {
    fn from(c: &'a mut C) -> Self {
        c.as_context_mut()
    }
}

impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(c: StoreContextMut<'a, T>) -> Self {
        StoreContext(c.0)
    }
}
