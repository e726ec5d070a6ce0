//! The collector's roots: every place outside the GC heap where a store
//! keeps a traced reference (`docs/gc.md`, "Roots, precisely"), and the
//! store-level entry point of a collection.
//!
//! The roots are the interpreter's frames (the slots its translator
//! recorded at each op that may collect), globals and tables of traced
//! reference types, instances' element segments (which constant
//! expressions may have filled with objects), the payloads of live
//! exceptions, and the host's handles (`gc_ref.rs`). Host values
//! (`externref`s the host made) nothing reaches are dropped after each
//! collection. Native code's frames are not walked yet: a store whose
//! code runs natively collects only while no wasm is running.

use super::StoreOpaque;
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
        self.host.bits_mut().for_each(visit);
    }
}

impl StoreOpaque {
    /// Whether a collection may run now: the collector can name every
    /// root. Native frames have no stack maps yet, so a store whose code
    /// is compiled collects only while no wasm is running.
    pub(crate) fn can_collect(&self) -> bool {
        self.native.is_none() || self.native_entry.is_none()
    }

    /// Allocates through the heap, collecting first when its budget is
    /// spent and the roots can be named; the interpreter's allocation ops
    /// come here.
    pub(crate) fn gc_alloc(
        &mut self,
        type_id: u32,
        kind: u32,
        size: u32,
    ) -> Result<u32, kiln_environ::TrapCode> {
        if self.gc_heap.wants_collection(size) && self.can_collect() {
            self.collect_garbage();
        }
        self.gc_heap.alloc(type_id, kind, size)
    }

    /// Runs a collection (the caller checked [`can_collect`](Self::can_collect)),
    /// then drops the host values it did not reach.
    pub(crate) fn collect_garbage(&mut self) {
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
        };
        let mut reached: Vec<bool> = Vec::new();
        gc_heap.collect(&mut |visit| roots.visit(visit), &mut |r| {
            let i = kiln_environ::gc_layout::host_value_index(r) as usize;
            if reached.len() <= i {
                reached.resize(i + 1, false);
            }
            reached[i] = true;
        });
        if gc_heap.verify {
            let mut all = Vec::new();
            roots.visit(&mut |r| all.push(*r));
            gc_heap.verify_heap(&all);
        }
        drop(host);
        self.free_unreached_externrefs(&reached);
    }
}
