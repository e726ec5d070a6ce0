//! The collector's roots: every place outside the GC heap where a store
//! keeps a traced reference (`docs/gc.md`, "Roots, precisely"), and the
//! store-level entry point of a collection.
//!
//! The roots are the interpreter's frames (the slots its translator
//! recorded at each op that may collect), globals and tables of traced
//! reference types, instances' element segments (which constant
//! expressions may have filled with objects), the payloads of live
//! exceptions, the host's handles (`gc_ref.rs`), and native code's frames:
//! each activation's frame-pointer chain is walked (as the unwinder walks
//! it), and at each return address the call's stack map (recorded by
//! Cranelift, `kiln_environ::StackMapSite`) names the stack slots that
//! hold live references. Host values (`externref`s the host made) nothing
//! reaches are dropped after each full collection.

use super::StoreOpaque;
use super::gc_heap::VisitRoot;
use super::store_data::{GlobalData, InstanceData, TableData};
use crate::prelude::*;
use kiln_interp::ExecState;

/// The parts of a store that hold roots, borrowed apart from its heap.
struct Roots<'a> {
    exec: &'a mut ExecState,
    globals: &'a mut [GlobalData],
    tables: &'a mut [TableData],
    instances: &'a mut [InstanceData],
    exns: &'a mut super::exceptions::ExnHeap,
    tags: &'a [super::exceptions::TagData],
    host: &'a mut crate::gc_ref::HostRoots,
    /// The stack slots native frames' stack maps name (each a reference
    /// zero-extended to 64 bits).
    native: &'a [*mut u64],
}

/// Calls `visit` on the 32-bit reference held in the low half of `slot`.
fn visit_slot(slot: &mut u64, visit: &mut dyn FnMut(&mut u32)) {
    let mut r = *slot as u32;
    visit(&mut r);
    *slot = u64::from(r);
}

impl Roots<'_> {
    /// Calls `visit` on every root, which it may rewrite.
    fn visit(&mut self, visit: &mut dyn FnMut(&mut u32)) {
        kiln_interp::visit_stack_roots(self.exec, &mut |slot| visit_slot(slot, visit));
        for g in self.globals.iter_mut() {
            if g.ty.content.is_traced() {
                visit_slot(&mut g.vm.get_mut().lo, visit);
            }
        }
        for t in self.tables.iter_mut() {
            if t.ty.element.is_traced() {
                for e in t.storage.as_mut_slice() {
                    visit_slot(e, visit);
                }
            }
        }
        for inst in self.instances.iter_mut() {
            let segments = &inst.module.translation().elems;
            for (seg, items) in segments.iter().zip(inst.vm.get_mut().elems.iter_mut()) {
                if seg.ty.is_traced() {
                    for e in items.iter_mut() {
                        visit_slot(e, visit);
                    }
                }
            }
        }
        for exn in self.exns.objects_mut() {
            let mut slot = 0;
            for p in self.tags[exn.tag as usize].ty.params() {
                let ty = p.to_env();
                if ty.is_traced() {
                    visit_slot(&mut exn.payload[slot], visit);
                }
                slot += if ty == kiln_environ::ValType::V128 {
                    2
                } else {
                    1
                };
            }
        }
        self.host.bits_mut().for_each(&mut *visit);
        for &slot in self.native {
            // SAFETY: `native_root_slots` found the slot in a live wasm
            // frame of this store, suspended below the collector (its
            // stack map says it holds a reference across the call the
            // frame is in); nothing else accesses it while we run.
            visit_slot(unsafe { &mut *slot }, visit);
        }
    }
}

impl StoreOpaque {
    /// Whether a collection may run now: the collector can name every
    /// root (always, now that native frames have stack maps; kept as the
    /// one place to say otherwise).
    pub(crate) fn can_collect(&self) -> bool {
        true
    }

    /// The stack slots of native wasm frames that hold live references:
    /// every activation of this store, innermost first, frame by frame
    /// from its last exit from wasm to its entry.
    fn native_root_slots(&self) -> Vec<*mut u64> {
        use core::sync::atomic::Ordering::Relaxed;
        let mut slots = Vec::new();
        if self.native.is_none() || self.native_entry.is_none() {
            return slots;
        }
        let native = self.native_store();
        let limits = &native.limits;
        let innermost = (
            limits.last_wasm_entry_fp.load(Relaxed),
            limits.last_wasm_exit_fp.load(Relaxed),
        );
        let word = size_of::<usize>();
        for &(stop, exit) in
            core::iter::once(&innermost).chain(native.outer_activations.iter().rev())
        {
            let mut fp = exit;
            while fp != 0 && fp < stop && fp.is_multiple_of(word) {
                // SAFETY: as in `native_throw`: `fp` is a frame record of
                // a suspended activation, between its last exit from wasm
                // (whose stub or trampoline frame is still live below us)
                // and its entry; compiled code keeps frame pointers.
                let Some((next, ret)) = (unsafe { super::sys::frame_caller(fp) }) else {
                    break;
                };
                let map = self
                    .instances
                    .iter()
                    .find_map(|d| d.module.inner.native.as_ref()?.stack_map_at(ret));
                if let Some((frame_offset, offsets)) = map {
                    let sp = super::sys::handler_sp(next, frame_offset);
                    slots.extend(offsets.iter().map(|&o| (sp + o as usize) as *mut u64));
                }
                if next <= fp {
                    break;
                }
                fp = next;
            }
        }
        slots
    }

    /// Runs a full collection (the caller checked
    /// [`can_collect`](Self::can_collect)), then drops the host values it
    /// did not reach: `Store::gc`.
    pub(crate) fn collect_garbage(&mut self) {
        self.collect_garbage_with(&mut |_| {}, true, 0);
    }

    /// Makes room for an allocation of `size` bytes: collects first if the
    /// heap wants it, with `extra` naming references the caller holds
    /// outside every root (a builtin's decoded operands, written into the
    /// object afterwards), then sizes the nursery within what the
    /// resource limiter (`grow`) allows; if the object does not fit, a
    /// full collection, and the limiter is asked again. `false` when there
    /// is no room: the allocation traps with `GcHeapOutOfMemory`.
    pub(crate) fn make_room(
        &mut self,
        size: u32,
        extra: &mut dyn FnMut(VisitRoot<'_>),
        grow: &mut dyn FnMut(usize, usize, usize) -> bool,
    ) -> bool {
        let mut full = false;
        if self.gc_heap.wants_collection(size) && self.can_collect() {
            full = self.collect_garbage_with(extra, false, size);
        }
        if self.gc_heap.fit(size, grow) {
            return true;
        }
        if !full && self.can_collect() {
            self.collect_garbage_with(extra, true, size);
        }
        self.gc_heap.fit(size, grow)
    }

    /// A collection with `extra` roots: full when `full` says so (else
    /// as the heap decides), before an allocation of `pending` bytes.
    /// Returns whether it was full.
    fn collect_garbage_with(
        &mut self,
        extra: &mut dyn FnMut(VisitRoot<'_>),
        full: bool,
        pending: u32,
    ) -> bool {
        #[cfg(feature = "std")]
        let start = std::time::Instant::now();
        let full = self.collect_garbage_timed(extra, full, pending);
        #[cfg(feature = "std")]
        {
            let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.gc_heap.record_pause(ns);
        }
        full
    }

    /// The collection itself: roots, copy, verification, and after a
    /// full one the host values. Returns whether it was full.
    fn collect_garbage_timed(
        &mut self,
        extra: &mut dyn FnMut(VisitRoot<'_>),
        full: bool,
        pending: u32,
    ) -> bool {
        let native = self.native_root_slots();
        let StoreOpaque {
            exec,
            globals,
            tables,
            instances,
            exns,
            tags,
            gc_heap,
            host_roots,
            ..
        } = self;
        let mut host = host_roots.lock();
        let mut roots = Roots {
            exec,
            globals,
            tables,
            instances,
            exns,
            tags,
            host: &mut host,
            native: &native,
        };
        let mut reached: Vec<bool> = Vec::new();
        let mut all_roots = |visit: VisitRoot<'_>| {
            roots.visit(&mut *visit);
            extra(visit);
        };
        let full = gc_heap.collect(
            &mut all_roots,
            &mut |r| {
                let i = kiln_environ::gc_layout::host_value_index(r) as usize;
                if reached.len() <= i {
                    reached.resize(i + 1, false);
                }
                reached[i] = true;
            },
            full,
            pending,
        );
        #[cfg(feature = "gc")]
        if gc_heap.verify {
            let mut all = Vec::new();
            all_roots(&mut |r| all.push(*r));
            gc_heap.verify_heap(&all);
        }
        drop(host);
        if full {
            self.free_unreached_externrefs(&reached);
        }
        full
    }
}

impl<T> super::store_data::StoreInner<T> {
    /// [`StoreOpaque::make_room`], asking the store's resource limiter.
    pub(crate) fn gc_make_room(&mut self, size: u32, extra: &mut dyn FnMut(VisitRoot<'_>)) -> bool {
        let super::store_data::StoreInner {
            opaque,
            limiter,
            data,
            ..
        } = self;
        let mut grow = |current, desired, maximum| match limiter {
            Some(f) => f(data).gc_heap_growing(current, desired, maximum),
            None => true,
        };
        opaque.make_room(size, extra, &mut grow)
    }
}
