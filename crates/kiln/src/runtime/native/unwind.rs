//! The unwinder for exceptions in native code.
//!
//! A throw (the `throw` and `throw_ref` builtins, or a host function
//! throwing at its call site) walks the innermost activation's frame chain
//! from its last exit from wasm, as backtraces do. Each frame's return
//! address is looked up in its module's handler sites (the calls the
//! compiler made inside a handler scope, `kiln_environ::HandlerSite`): the
//! first frame with one resumes at the handler, with the frame's stack
//! pointer (its frame pointer less the site's frame offset; on s390x the
//! frame handle, which is the stack pointer) and the
//! exception in the first payload register. Frames walked past are
//! abandoned; compiled code's frames own nothing. With no handler before
//! the activation's entry, the exception leaves wasm: the call into wasm
//! fails with a `ThrownException`, the exception pending in the store.

use super::builtins::Exit;
use crate::runtime::StoreOpaque;
use core::sync::atomic::Ordering::Relaxed;

impl StoreOpaque {
    /// Raises exception `exn` in the innermost activation: where a handler
    /// takes it, or the error that ends the activation.
    pub(crate) fn native_throw(&mut self, exn: u64) -> Exit {
        let limits = &self.native_store().limits;
        let mut fp = limits.last_wasm_exit_fp.load(Relaxed);
        let stop = limits.last_wasm_entry_fp.load(Relaxed);
        let word = size_of::<usize>();
        while fp != 0 && fp < stop && fp.is_multiple_of(word) {
            // SAFETY: `fp` is a frame record of the innermost activation,
            // between its last exit (recorded by the stub or trampoline
            // that left wasm, still live below us) and its entry: compiled
            // code keeps frame pointers, so the chain is intact.
            let Some((next, ret)) = (unsafe { crate::runtime::sys::frame_caller(fp) }) else {
                break;
            };
            // `ret` is a return address into the frame at `next`.
            if let Some((pc, frame_offset)) = self.handler_for(ret) {
                return Exit::Resume {
                    pc,
                    sp: crate::runtime::sys::handler_sp(next, frame_offset),
                    fp: next,
                    exn,
                };
            }
            if next <= fp {
                break;
            }
            fp = next;
        }
        Exit::Host(anyhow::Error::new(self.thrown(exn)))
    }

    /// The handler of the call whose return address is `ret`, in the code
    /// of one of this store's modules: its address and the frame offset.
    fn handler_for(&self, ret: usize) -> Option<(usize, u32)> {
        self.instances
            .iter()
            .find_map(|data| data.module.inner.native.as_ref()?.handler_at(ret))
    }
}
