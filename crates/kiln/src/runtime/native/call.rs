//! Calls between the host and native code.
//!
//! Host → wasm: [`StoreInner::call_native`] converts the interpreter-style
//! value slots the API uses into the ABI's 16-byte slots, sets up the
//! store's runtime limits (stack limit, fuel) and calls the function's
//! array-to-wasm trampoline inside [`Traps::call_wasm`], so a fault becomes
//! a [`Trap`] and the store stays usable.
//!
//! Wasm → host: a host function's funcref record names [`host_entry`] as
//! its array-call code; wasm reaches it through a wasm-to-array trampoline
//! and it runs the host closure under the same rules as a builtin
//! (`builtins::enter`): errors and panics unwind wasm with `raise_trap`
//! and are picked up again here.

use super::builtins::{Exit, enter};
use super::vmctx::Pending;
use crate::prelude::*;
use crate::runtime::store_data::{FuncKind, StoreInner};
use crate::runtime::sys::{Traps, WasmEntry};
use crate::trap::{FrameInfo, Trap, WasmBacktrace};
use anyhow::{Result, anyhow, bail};
use core::sync::atomic::Ordering::Relaxed;
use kiln_environ::{TrapCode, ValType};

/// One ABI value slot (`VAL_RAW_SIZE` bytes), as two native-endian words.
pub(crate) type ValRaw = [u64; 2];

/// Up to this many values, a host ↔ wasm call keeps its argument buffer
/// on the stack: these conversions run on every such call, and nearly all
/// signatures are this small.
const INLINE_VALUES: usize = 16;

/// Native stack kept free below the wasm stack limit for host functions
/// called from wasm, builtins and the runtime itself.
const HOST_STACK_RESERVE: usize = 256 << 10;

/// A 32-bit value (`i32`, `f32` bits) as the first word of an ABI slot:
/// its four bytes at the start of the slot in native byte order, which is
/// the low half of the word on a little-endian host and the high half on a
/// big-endian one (s390x).
fn narrow_to_word(x: u32) -> u64 {
    if cfg!(target_endian = "little") {
        u64::from(x)
    } else {
        u64::from(x) << 32
    }
}

/// The 32-bit value at the start of an ABI slot whose first word is `w`
/// (the inverse of [`narrow_to_word`]; the slot's other bytes are ignored).
fn word_to_narrow(w: u64) -> u32 {
    if cfg!(target_endian = "little") {
        w as u32
    } else {
        (w >> 32) as u32
    }
}

/// Copies arguments of types `tys` from interpreter slots (a `v128` takes
/// two) into ABI slots (one each).
///
/// Interpreter slots hold values as integers: a 32-bit value in the low
/// bits, a `v128` as its low then high 64 bits. ABI slots hold them as
/// bytes (docs/native-abi.md, "Array convention"): in native byte order at
/// the start of the slot, a `v128` in wasm (little-endian) byte order.
pub(super) fn slots_to_raw(tys: &[ValType], slots: &[u64], values: &mut [ValRaw]) {
    let mut pos = 0;
    for (ty, v) in tys.iter().zip(values.iter_mut()) {
        match ty {
            ValType::V128 => {
                *v = [slots[pos].to_le(), slots[pos + 1].to_le()];
                pos += 2;
            }
            ValType::I32 | ValType::F32 => {
                *v = [narrow_to_word(slots[pos] as u32), 0];
                pos += 1;
            }
            _ => {
                *v = [slots[pos], 0];
                pos += 1;
            }
        }
    }
}

/// Copies values of types `tys` from ABI slots into interpreter slots.
/// Narrow values only own the first four bytes of their slot: the rest is
/// ignored.
pub(super) fn raw_to_slots(tys: &[ValType], values: &[ValRaw], slots: &mut [u64]) {
    let mut pos = 0;
    for (ty, v) in tys.iter().zip(values) {
        match ty {
            ValType::V128 => {
                slots[pos] = u64::from_le(v[0]);
                slots[pos + 1] = u64::from_le(v[1]);
                pos += 2;
            }
            ValType::I32 | ValType::F32 => {
                slots[pos] = u64::from(word_to_narrow(v[0]));
                pos += 1;
            }
            _ => {
                slots[pos] = v[0];
                pos += 1;
            }
        }
    }
}

/// This thread's trap-handling token, set up on its first call into wasm.
/// With `signals` false (code compiled without signals-based traps) no
/// signal handler is installed for it.
///
/// Cached per thread because `Traps::init` queries the alternate signal
/// stack (a system call) whenever the thread already had one of its own;
/// a thread's alternate stack is not expected to be replaced under it.
#[cfg(feature = "std")]
fn thread_traps(signals: bool) -> Result<Traps> {
    use core::cell::Cell;
    std::thread_local! {
        static TRAPS: Cell<Option<Traps>> = const { Cell::new(None) };
    }
    if !signals {
        return Traps::init_without_signals()
            .map_err(|e| anyhow!("cannot run native code here: {e}"));
    }
    if let Some(traps) = TRAPS.with(Cell::get) {
        return Ok(traps);
    }
    let traps = Traps::init().map_err(|e| anyhow!("cannot run native code here: {e}"))?;
    TRAPS.with(|c| c.set(Some(traps)));
    Ok(traps)
}

/// The trap-handling token. Without `std`, `Traps::init` makes no system
/// call, so there is nothing to cache.
#[cfg(not(feature = "std"))]
fn thread_traps(signals: bool) -> Result<Traps> {
    let traps = if signals {
        Traps::init()
    } else {
        Traps::init_without_signals()
    };
    traps.map_err(|e| anyhow!("cannot run native code here: {e}"))
}

/// The stack limit for wasm entered at stack pointer `sp`: `max_wasm_stack`
/// below it, but never closer than [`HOST_STACK_RESERVE`] to the end of the
/// thread's stack. Where that end is unknown, a default (not `chosen`)
/// `max_wasm_stack` is capped at [`UNKNOWN_STACK_BUDGET`].
fn stack_limit(sp: usize, max_wasm_stack: usize, chosen: bool) -> usize {
    stack_limit_within(
        sp,
        max_wasm_stack,
        chosen,
        crate::runtime::sys::thread_stack_low(),
    )
}

/// [`stack_limit`] for a thread whose stack ends at `low`, if known.
fn stack_limit_within(sp: usize, max_wasm_stack: usize, chosen: bool, low: Option<usize>) -> usize {
    match low {
        Some(low) => sp
            .saturating_sub(max_wasm_stack)
            .max(low.saturating_add(HOST_STACK_RESERVE)),
        None if chosen => sp.saturating_sub(max_wasm_stack),
        None => sp.saturating_sub(max_wasm_stack.min(UNKNOWN_STACK_BUDGET)),
    }
}

/// How deep native wasm frames may go below the outermost entry when the
/// thread's stack bounds are unknown and the embedder chose no limit: small
/// enough for the stacks threads commonly get (8 MiB for a Linux main
/// thread, 2 MiB for a Rust thread) with room for the host, and matching
/// the re-entry budget `Config::max_wasm_stack` documents.
const UNKNOWN_STACK_BUDGET: usize = 1 << 20;

impl<T> StoreInner<T> {
    /// Fuel the store holds, into the limits record compiled code counts in.
    pub(crate) fn fuel_to_limits(&mut self) {
        let fuel = i64::try_from(self.opaque.exec.fuel).unwrap_or(i64::MAX);
        self.opaque
            .native_store()
            .limits
            .fuel_consumed
            .store(-fuel, Relaxed);
    }

    /// Fuel left according to the limits record, back into the store.
    pub(crate) fn fuel_from_limits(&mut self) {
        let consumed = self
            .opaque
            .native_store()
            .limits
            .fuel_consumed
            .load(Relaxed);
        self.opaque.exec.fuel = if consumed >= 0 {
            0
        } else {
            consumed.unsigned_abs()
        };
    }

    /// Calls wasm function `index` of a native store with arguments in
    /// `slots` (interpreter layout), leaving its results there.
    pub(crate) fn call_native(&mut self, index: u32, slots: &mut [u64]) -> Result<()> {
        let signals = self.opaque.engine.config().signals_based_traps;
        let traps = thread_traps(signals)?;
        let ty = self.opaque.func_type(index).clone();
        // SAFETY: the record is a live funcref record of this store.
        let record = unsafe { &*self.opaque.func_ptr(index) };
        if record.array_call == 0 {
            bail!("function {index} has no entry point for calls from the host");
        }
        let n = ty.params().len().max(ty.results().len()).max(1);
        let mut inline = [[0; 2]; INLINE_VALUES];
        let mut heap = Vec::new();
        let values: &mut [ValRaw] = if n <= INLINE_VALUES {
            &mut inline[..n]
        } else {
            heap.resize(n, [0; 2]);
            &mut heap
        };
        slots_to_raw(ty.param_slice(), slots, values);

        let limits = self.opaque.native_store().limits.clone();
        let marker = 0u8;
        let sp = core::hint::black_box(&marker) as *const u8 as usize;
        let outermost = self.opaque.native_entry.is_none();
        if outermost {
            let config = self.opaque.engine.config();
            let limit = stack_limit(sp, config.max_wasm_stack, config.max_wasm_stack_chosen);
            limits.stack_limit.store(limit, Relaxed);
            self.opaque.native_entry = Some(sp);
        }
        // A nested entry (from a host function called by wasm) must give
        // the outer activation its frame records back.
        let saved = (
            limits.last_wasm_entry_fp.load(Relaxed),
            limits.last_wasm_exit_fp.load(Relaxed),
            limits.last_wasm_exit_pc.load(Relaxed),
        );
        self.fuel_to_limits();
        let native = self.opaque.native_store_ptr();
        if !outermost {
            // SAFETY: `native` is this store's native state, alive as long
            // as the store; no other reference to it is live here.
            unsafe { (*native).outer_activations.push((saved.0, saved.1)) };
        }
        let this: *mut StoreInner<T> = self;
        // SAFETY: `native` is this store's native state (stable, alive as
        // long as the store). Builtins and host entries reach the store
        // through the pointer stored here while `self` is not used, and it
        // is restored before `self` is used again.
        let previous = unsafe { core::mem::replace(&mut (*native).store, this.cast()) };
        // SAFETY: `array_call` is the array-to-wasm trampoline of a function
        // of type `ty`, compiled for this engine, whose code stays loaded
        // (the instance's module is kept by the store); it takes its callee
        // context, a caller context, and `n` slots, at least as many as its
        // parameters and results. Everything it reaches — the `VMContext`,
        // memories, tables, globals, funcref records — is owned by this
        // store and alive. Traps only abandon wasm frames and the frames of
        // builtins and host entries, which drop everything they own before
        // raising (`builtins::enter`).
        let result = unsafe {
            (*native).trace.len = 0;
            (*native).trap_site = None;
            let entry: WasmEntry = core::mem::transmute::<usize, WasmEntry>(record.array_call);
            traps.call_wasm_traced(
                entry,
                record.vmctx,
                record.vmctx,
                values.as_mut_ptr() as usize,
                n,
                &raw mut (*native).trace,
            )
        };
        // SAFETY: as above; `self` is usable again from here on.
        let (pending, site) = unsafe {
            (*native).store = previous;
            ((*native).pending.take(), (*native).trap_site.take())
        };
        limits.last_wasm_entry_fp.store(saved.0, Relaxed);
        limits.last_wasm_exit_fp.store(saved.1, Relaxed);
        limits.last_wasm_exit_pc.store(saved.2, Relaxed);
        if !outermost {
            // SAFETY: as above; the store is usable again.
            unsafe { (*native).outer_activations.pop() };
        }
        if outermost {
            self.opaque.native_entry = None;
        }
        self.fuel_from_limits();
        match (result, pending) {
            (Ok(()), _) => {
                raw_to_slots(ty.result_slice(), values, slots);
                Ok(())
            }
            (Err(_), Some(Pending::Error(err))) => {
                // As on the interpreter: a host error comes back unchanged,
                // with the wasm frames it unwound as context.
                let frames = self.opaque.native_backtrace(None, None);
                if frames.is_empty() || err.is::<Trap>() {
                    Err(err)
                } else {
                    Err(err.context(WasmBacktrace { frames }))
                }
            }
            #[cfg(feature = "std")]
            (Err(_), Some(Pending::Panic(payload))) => std::panic::resume_unwind(payload),
            (Err(trap), None) => {
                if trap.code == TrapCode::Interrupt {
                    self.clear_interrupt();
                }
                let frames = self.opaque.native_backtrace(trap.pc, site);
                Err(anyhow::Error::new(Trap::new(trap.code, frames)))
            }
        }
    }

    /// Consumes a pending interrupt request.
    pub(crate) fn clear_interrupt(&mut self) {
        self.opaque.exec.interrupt.store(false, Relaxed);
        if self.opaque.is_native() {
            self.opaque
                .native_store()
                .limits
                .interrupt
                .store(0, Relaxed);
        }
    }

    /// Runs host function `func` for wasm instance `instance` with the
    /// `len` ABI slots at `values`.
    ///
    /// # Safety
    ///
    /// `values` must point at `len` slots, at least as many as the
    /// function's parameters and results, valid for the call.
    unsafe fn call_host_from_native(
        &mut self,
        func: u32,
        instance: u32,
        values: *mut ValRaw,
        len: usize,
    ) -> Result<(), Exit> {
        let data = self.opaque.func(func);
        let FuncKind::Host { host } = data.kind else {
            return Err(Exit::Host(anyhow!(
                "host entry reached for a wasm function"
            )));
        };
        let ty = self.opaque.func_type(func).clone();
        // SAFETY: per the contract.
        let values = unsafe { core::slice::from_raw_parts_mut(values, len) };
        let param_slots = crate::runtime::store_data::slot_count(ty.param_slice());
        let result_slots = crate::runtime::store_data::slot_count(ty.result_slice());
        let n = param_slots.max(result_slots).max(1) as usize;
        let mut inline = [0u64; INLINE_VALUES];
        let mut heap = Vec::new();
        let slots: &mut [u64] = if n <= INLINE_VALUES {
            &mut inline[..n]
        } else {
            heap.resize(n, 0);
            &mut heap
        };
        raw_to_slots(ty.param_slice(), values, slots);
        self.fuel_from_limits();
        let result = self.call_host_func(host, Some(instance), slots);
        self.fuel_to_limits();
        if let Err(err) = result {
            // A host function throwing (or wasm it called, uncaught there)
            // raises the exception at this call site.
            if err.is::<crate::ThrownException>()
                && let Some(exn) = self.opaque.pending_exception.take()
            {
                return Err(self.opaque.native_throw(exn));
            }
            return Err(Exit::Host(err));
        }
        slots_to_raw(ty.result_slice(), slots, values);
        Ok(())
    }
}

/// The array-call entry point of every host function in a native store of
/// data type `T`: what wasm-to-array trampolines call.
///
/// # Safety
///
/// Called only by compiled code, with the host function's
/// [`HostContext`](super::HostContext), the calling instance's `VMContext`,
/// and `len` valid ABI slots.
pub(crate) unsafe extern "C" fn host_entry<T>(
    host_ctx: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut ValRaw,
    len: usize,
) {
    // SAFETY: per the contract, `host_ctx` is a live `HostContext` of the
    // store and `caller_vmctx` a live `VMContext` of it, so `enter` finds
    // the running store; `values` is valid for the call.
    unsafe {
        let func = (*host_ctx.cast::<super::HostContext>()).func;
        enter::<T, ()>(caller_vmctx, |store, instance| {
            store.call_host_from_native(func, instance, values, len)
        })
    }
}

impl crate::runtime::StoreOpaque {
    /// The wasm frames of the last trap: the faulting `pc` (for a hardware
    /// trap) and the return addresses recorded in the trace buffer, named
    /// through the modules of this store's instances. Frames of trampolines
    /// and host code are left out. `site`, from the `trap` builtin
    /// (`NativeStore::trap_site`), replaces the innermost frame's offset.
    fn native_backtrace(&self, pc: Option<usize>, site: Option<u32>) -> Vec<FrameInfo> {
        let trace = &self.native_store().trace;
        // A return address points after its call; step back into it.
        let pcs = pc
            .into_iter()
            .chain(trace.pcs[..trace.len].iter().map(|r| r.wrapping_sub(1)));
        let mut frames = Vec::new();
        for pc in pcs {
            let found = self.instances.iter().enumerate().find_map(|(i, data)| {
                let code = data.module.inner.native.as_ref()?;
                code.lookup_pc(pc).map(|(f, wasm)| (i as u32, f, wasm))
            });
            if let Some((instance, func_index, mut wasm_offset)) = found {
                if let Some(site) = site.filter(|_| frames.is_empty()) {
                    wasm_offset = (site != u32::MAX).then_some(site);
                }
                frames.push(self.frame_info(&kiln_interp::vm::BacktraceFrame {
                    instance,
                    func_index,
                    wasm_offset,
                }));
            }
        }
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn a_known_stack_end_caps_the_budget_with_room_for_the_host() {
        let sp = 100 * MIB;
        assert_eq!(stack_limit_within(sp, 8 * MIB, false, Some(0)), 92 * MIB);
        let low = 95 * MIB;
        assert_eq!(
            stack_limit_within(sp, 8 * MIB, true, Some(low)),
            low + HOST_STACK_RESERVE
        );
    }

    #[test]
    fn unknown_stack_bounds_cap_only_the_default_budget() {
        // The default 8 MiB would run a no_std thread off its stack (a
        // crash the min-platform example hit); a chosen size is trusted.
        let sp = 100 * MIB;
        assert_eq!(
            stack_limit_within(sp, 8 * MIB, false, None),
            sp - UNKNOWN_STACK_BUDGET
        );
        assert_eq!(stack_limit_within(sp, 8 * MIB, true, None), 92 * MIB);
        assert_eq!(
            stack_limit_within(sp, 64 << 10, false, None),
            sp - (64 << 10)
        );
    }
}
