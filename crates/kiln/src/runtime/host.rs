//! Calls into and out of wasm: the store's [`Host`] implementation (host
//! functions, growth), the entry point from the embedder, and turning the
//! interpreter's traps into errors.

use super::store_data::{FuncKind, StoreInner, StoreOpaque};
use crate::func::Caller;
use crate::prelude::*;
use crate::trap::{FrameInfo, Trap, WasmBacktrace};
use core::sync::atomic::Ordering;
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmInstance, VmMemory, VmTable};
use kiln_interp::{ExecState, Host, TrapReason, vm};

/// Where the OS cannot say where the thread's stack ends: how much native
/// stack nested host → wasm re-entry may use, measured from the outermost
/// call into wasm. Unoptimized builds of the interpreter loop take tens of
/// KiB per nesting, optimized ones a couple of KiB.
#[cfg(not(target_family = "wasm"))]
pub(crate) const NATIVE_REENTRY_BUDGET: usize = 1 << 20;

/// On wasm targets the "native" stack is the program's shadow stack in its
/// own linear memory, which Rust links at 1 MiB by default, so the budget
/// above would be all of it: a quarter instead. Each nesting takes far less
/// of it than a native frame (scalars live in wasm locals, not there).
#[cfg(target_family = "wasm")]
pub(crate) const NATIVE_REENTRY_BUDGET: usize = 256 << 10;

/// Native stack kept free below the deepest interpreter re-entry: room for
/// one more nesting of the interpreter loop in an unoptimized build (tens
/// of KiB) and the host function that tried to re-enter.
const REENTRY_STACK_RESERVE: usize = 128 << 10;

/// Whether a host → wasm re-entry at stack pointer `sp`, inside a call
/// that entered wasm at `entry`, would nest too deep: closer than
/// [`REENTRY_STACK_RESERVE`] to the end of the thread's stack where the OS
/// says where that is, otherwise more than [`NATIVE_REENTRY_BUDGET`]
/// below `entry`. Either way it traps with [`TrapCode::StackOverflow`]
/// instead of overflowing the stack.
fn reentry_too_deep(entry: usize, sp: usize) -> bool {
    match super::sys::thread_stack_low() {
        Some(low) => sp < low.saturating_add(REENTRY_STACK_RESERVE),
        None => entry.abs_diff(sp) > NATIVE_REENTRY_BUDGET,
    }
}

impl<T> StoreInner<T> {
    /// Calls store function `index` with arguments in `slots`, leaving its
    /// results there. `slots` must be at least as long as the larger of its
    /// parameter and result slot counts.
    pub(crate) fn call_func(&mut self, index: u32, slots: &mut [u64]) -> anyhow::Result<()> {
        let func = self.opaque.func(index);
        match func.kind {
            FuncKind::Host { host } => self.call_host_func(host, None, slots),
            FuncKind::Wasm if self.opaque.is_native() => self.call_native(index, slots),
            FuncKind::Wasm => {
                // Wasm → wasm calls do not use the native stack, but each
                // host → wasm re-entry nests the interpreter loop once more.
                let marker = 0u8;
                let sp = core::hint::black_box(&marker) as *const u8 as usize;
                let outermost = match self.opaque.native_entry {
                    None => true,
                    Some(entry) if reentry_too_deep(entry, sp) => {
                        return Err(anyhow::Error::new(Trap::new(
                            TrapCode::StackOverflow,
                            Vec::new(),
                        )));
                    }
                    Some(_) => false,
                };
                // Forget the entry point when the outermost call ends, also
                // when a host function's panic unwinds through it: a stale
                // entry would make every later call, from wherever the
                // store moves (another thread's stack), look too deep.
                let guard = ClearNativeEntry {
                    store: self,
                    outermost,
                };
                if outermost {
                    guard.store.opaque.native_entry = Some(sp);
                }
                let ptr = guard.store.opaque.func_ptr(index);
                // SAFETY: `ptr` is a `VmFuncRef` owned by this store, and so
                // is everything reachable from it: its instance, that
                // instance's memories, tables, globals and functions (imports
                // are checked to belong to this store at instantiation), and
                // the module bytes the instance's data segments point into
                // (kept alive by the instance's `Module`). None of it is freed
                // before the store is dropped, and `&mut self` guarantees no
                // other access to the store while the interpreter runs;
                // re-entry from host functions goes through this same `&mut`.
                let result = unsafe { kiln_interp::invoke(&mut *guard.store, ptr, slots) };
                drop(guard);
                result.map_err(|trap| self.opaque.trap_to_error(trap))
            }
        }
    }

    /// Calls host function `host` with the value slots, on behalf of
    /// instance `instance` (or the embedder).
    pub(crate) fn call_host_func(
        &mut self,
        host: u32,
        instance: Option<u32>,
        slots: &mut [u64],
    ) -> anyhow::Result<()> {
        let f = self.host_funcs[host as usize].clone();
        // The call is a root scope: handles made for its arguments, and
        // by the function, end with it (its results are bits in `slots`
        // by then).
        let mark = self.opaque.host_roots.lock().len();
        let result = f(
            Caller {
                store: self,
                instance,
            },
            slots,
        );
        self.opaque.host_roots.lock().truncate(mark);
        result
    }
}

/// Resets [`StoreOpaque::native_entry`] when the outermost call into wasm
/// ends, however it ends.
struct ClearNativeEntry<'a, T> {
    store: &'a mut StoreInner<T>,
    outermost: bool,
}

impl<T> Drop for ClearNativeEntry<'_, T> {
    fn drop(&mut self) {
        if self.outermost {
            self.store.opaque.native_entry = None;
        }
    }
}

fn host_trap(err: anyhow::Error) -> vm::Trap {
    vm::Trap {
        reason: TrapReason::Host(Box::new(err)),
        backtrace: Vec::new(),
    }
}

impl<T> StoreInner<T> {
    /// The interpreter's view of a host function's error: a thrown
    /// exception (the store's pending one) is thrown on into wasm at the
    /// call site; anything else ends the call.
    fn host_call_trap(&mut self, err: anyhow::Error) -> vm::Trap {
        if err.is::<crate::ThrownException>()
            && let Some(bits) = self.opaque.pending_exception.take()
        {
            return vm::Trap {
                reason: TrapReason::Exception(bits),
                backtrace: Vec::new(),
            };
        }
        host_trap(err)
    }
}

impl<T> Host for StoreInner<T> {
    fn exec_state(&mut self) -> &mut ExecState {
        &mut self.opaque.exec
    }

    fn call_host(
        &mut self,
        id: u32,
        caller: *const VmInstance,
        slots: &mut [u64],
    ) -> Result<(), vm::Trap> {
        let instance = if caller.is_null() {
            None
        } else {
            // SAFETY: a non-null `caller` is the `VmInstance` of the running
            // wasm function, which this store owns and keeps alive.
            Some(unsafe { (*caller).id })
        };
        self.call_host_func(id, instance, slots)
            .map_err(|e| self.host_call_trap(e))
    }

    fn memory_grow(
        &mut self,
        memory: *mut VmMemory,
        delta_pages: u64,
    ) -> Result<Option<u64>, vm::Trap> {
        // SAFETY: the interpreter only passes memories from the running
        // instance's index space, all owned by this store and alive.
        let id = unsafe { (*memory).id };
        self.grow_memory(id, delta_pages).map_err(host_trap)
    }

    fn table_grow(
        &mut self,
        table: *mut VmTable,
        delta: u64,
        init: u64,
    ) -> Result<Option<u64>, vm::Trap> {
        // SAFETY: as for `memory_grow`: a table of the running instance,
        // owned by this store.
        let id = unsafe { (*table).id };
        self.grow_table(id, delta, init).map_err(host_trap)
    }

    fn new_exception(&mut self, tag: u32, payload: &[u64]) -> u64 {
        self.opaque.exns.alloc(tag, payload)
    }

    fn exception_tag(&self, exn: u64) -> u32 {
        self.opaque.exns.get(exn).tag
    }

    fn exception_payload(&self, exn: u64, dst: &mut [u64]) {
        dst.copy_from_slice(&self.opaque.exns.get(exn).payload);
    }

    fn expose_exception(&mut self, exn: u64) {
        self.opaque.exns.expose(exn);
    }

    fn release_exception(&mut self, exn: u64) {
        self.opaque.exns.release(exn);
    }

    fn gc_alloc(&mut self, type_id: u32, kind: u32, size: u32) -> Result<u32, TrapCode> {
        if !self.gc_make_room(size, &mut |_| {}) {
            return Err(TrapCode::GcHeapOutOfMemory);
        }
        self.opaque.gc_heap.alloc(type_id, kind, size)
    }

    fn gc_remember(&mut self, obj: u32, field: u32) {
        self.opaque.gc_heap.remember_store(obj, field);
    }

    fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        kiln_environ::SubtypeOracle::is_subtype(&self.opaque.engine, sub, sup)
    }
}

impl StoreOpaque {
    /// Converts an interpreter trap into the embedder's error: a [`Trap`]
    /// for wasm traps, the original error (with the backtrace as context)
    /// for host errors.
    pub(crate) fn trap_to_error(&mut self, trap: vm::Trap) -> anyhow::Error {
        let frames: Vec<FrameInfo> = trap.backtrace.iter().map(|f| self.frame_info(f)).collect();
        match trap.reason {
            TrapReason::Wasm(code) => {
                if code == TrapCode::Interrupt {
                    // The request is consumed by the trap it caused.
                    self.exec.interrupt.store(false, Ordering::Relaxed);
                }
                anyhow::Error::new(Trap::new(code, frames))
            }
            TrapReason::Host(payload) => match payload.downcast::<anyhow::Error>() {
                Ok(err) if frames.is_empty() || err.is::<Trap>() => *err,
                Ok(err) => err.context(WasmBacktrace { frames }),
                Err(_) => anyhow::anyhow!("host function failed with an error of unknown type"),
            },
            TrapReason::Exception(bits) => anyhow::Error::new(self.thrown(bits)),
            TrapReason::Translation(e) => {
                let err = anyhow::anyhow!(
                    "failed to translate a function at its first call (lazy translation): {e}"
                );
                if frames.is_empty() {
                    err
                } else {
                    err.context(WasmBacktrace { frames })
                }
            }
        }
    }

    pub(crate) fn frame_info(&self, frame: &vm::BacktraceFrame) -> FrameInfo {
        let module = self
            .instances
            .get(frame.instance as usize)
            .map(|i| i.module.translation());
        FrameInfo {
            func_index: frame.func_index,
            func_name: module
                .and_then(|m| m.func_name(frame.func_index))
                .map(str::to_string),
            module_name: module.and_then(|m| m.names.module.clone()),
            module_offset: frame.wasm_offset.map(|o| o as usize),
        }
    }
}
