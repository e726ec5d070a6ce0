//! The boundary between the interpreter and the runtime that owns a store.
//!
//! The records the interpreter runs against (memories, tables, globals,
//! function references, instances) are the shared instance model of
//! [`kiln_environ::vm`], which the runtime allocates and every backend
//! uses; the interpreter reads and writes them through raw pointers on its
//! hot paths (loads, stores, globals, table reads, direct calls). This
//! module holds the interpreter's own side of the boundary: its per-store
//! execution state, how it reports traps, and the [`Host`] trait through
//! which it asks the runtime for everything slow or policy-laden (host
//! functions, growth under a limiter).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::AtomicBool;
use kiln_environ::TrapCode;
use kiln_environ::vm::{VmInstance, VmMemory, VmTable};

/// One frame of a wasm backtrace, innermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacktraceFrame {
    /// Runtime id of the instance ([`VmInstance::id`]).
    pub instance: u32,
    /// Function index in the module's function index space.
    pub func_index: u32,
    /// Byte offset in the module binary of the instruction executing in
    /// that frame (the trapping one, or the call), if known.
    pub wasm_offset: Option<u32>,
}

/// Why execution stopped: a wasm trap code, or an error a host function
/// returned (opaque to the interpreter).
pub enum TrapReason {
    /// A trap raised by wasm code (or by the interpreter's limits).
    Wasm(TrapCode),
    /// An error raised by a host function, passed through unchanged.
    Host(Box<dyn core::any::Any + Send + Sync>),
    /// A lazily translated function could not be translated at its first
    /// call (the error eager translation would have given up front).
    Translation(kiln_environ::TranslationError),
    /// A wasm exception no handler caught, as its `exnref` bits (see
    /// [`Host::new_exception`]). Wasm code it unwinds into catches it:
    /// a host function that returns one throws it at its call site.
    Exception(u64),
}

impl core::fmt::Debug for TrapReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TrapReason::Wasm(code) => write!(f, "Wasm({code:?})"),
            TrapReason::Host(_) => f.write_str("Host(..)"),
            TrapReason::Translation(e) => write!(f, "Translation({e})"),
            TrapReason::Exception(bits) => write!(f, "Exception({bits:#x})"),
        }
    }
}

/// A trap with the wasm frames it unwound through.
#[derive(Debug)]
pub struct Trap {
    /// What happened.
    pub reason: TrapReason,
    /// Wasm frames, innermost first.
    pub backtrace: Vec<BacktraceFrame>,
}

impl Trap {
    /// A trap with a code and no frames yet.
    pub fn wasm(code: TrapCode) -> Self {
        Trap {
            reason: TrapReason::Wasm(code),
            backtrace: Vec::new(),
        }
    }
}

/// Per-store execution state the interpreter keeps between calls: the value
/// stack, the frame stack, fuel and the interrupt flag.
pub struct ExecState {
    /// The value stack and call frames, reused across calls (host → wasm →
    /// host → wasm re-entry pushes on top of what is there).
    pub stack: crate::Stack,
    /// Remaining fuel; only consulted when the module was translated with
    /// fuel metering.
    pub fuel: u64,
    /// Set from any thread to stop running code at the next back-edge or
    /// call with [`TrapCode::Interrupt`]; the runtime clears it.
    pub interrupt: Arc<AtomicBool>,
    /// The running frame of every activation that is waiting for the host
    /// (a host call, or an allocation that may collect), innermost last:
    /// where [`visit_stack_roots`](crate::visit_stack_roots) starts.
    pub suspended: SuspendedFrames,
}

/// The frames [`ExecState::suspended`] lists. Only the interpreter adds
/// and removes them, around each host call and allocation.
#[derive(Debug, Default)]
pub struct SuspendedFrames(pub(crate) Vec<crate::exec::Frame>);

/// The slow paths the interpreter needs from the runtime.
pub trait Host {
    /// The store's execution state.
    fn exec_state(&mut self) -> &mut ExecState;

    /// Calls host function `id` (from [`VmFuncKind::Host`](kiln_environ::vm::VmFuncKind::Host)). `slots` holds
    /// the arguments on entry (one slot per scalar, two per `v128`) and
    /// receives the results, starting at index 0; it is at least
    /// `max(param_slots, result_slots)` long. `caller` is the instance whose
    /// code made the call, or null when called from the embedder.
    fn call_host(
        &mut self,
        id: u32,
        caller: *const VmInstance,
        slots: &mut [u64],
    ) -> Result<(), Trap>;

    /// Grows `memory` by `delta_pages` 64 KiB pages, subject to its maximum
    /// and the store's limiter; updates `base`/`len`. Returns the old size
    /// in pages, or `None` if growth was refused (wasm sees -1). An `Err`
    /// is a trap raised by the limiter.
    fn memory_grow(&mut self, memory: *mut VmMemory, delta_pages: u64)
    -> Result<Option<u64>, Trap>;

    /// Grows `table` by `delta` elements filled with `init`, subject to its
    /// maximum and the store's limiter. Returns the old size, or `None` if
    /// refused.
    fn table_grow(
        &mut self,
        table: *mut VmTable,
        delta: u64,
        init: u64,
    ) -> Result<Option<u64>, Trap>;

    /// Allocates an exception of the tag with store id `tag` (an entry of
    /// [`VmInstance::tags`]) carrying `payload` (the tag's parameters, one
    /// slot per scalar, two per `v128`); returns its non-zero `exnref`
    /// bits.
    fn new_exception(&mut self, tag: u32, payload: &[u64]) -> u64;

    /// The store id of the tag of exception `exn`.
    fn exception_tag(&self, exn: u64) -> u32;

    /// Copies the payload of exception `exn` into `dst` (exactly its
    /// length).
    fn exception_payload(&self, exn: u64, dst: &mut [u64]);

    /// Says that `exn` is now held as an `exnref` value (in a slot, and so
    /// possibly anywhere): it lives as long as the store.
    fn expose_exception(&mut self, exn: u64);

    /// Allocates a zeroed object of `size` bytes (header included) of
    /// registry type `type_id` and kind `kind` (`gc_layout::KIND_STRUCT`
    /// or `KIND_ARRAY`) in the store's GC heap, writing its header;
    /// returns its offset. The heap may move: the caller reads the base
    /// from the [`VmGcHeap`](kiln_environ::vm::VmGcHeap) record again.
    fn gc_alloc(&mut self, type_id: u32, kind: u32, size: u32) -> Result<u32, TrapCode>;

    /// The write barrier's slow path: old object `obj` was given a
    /// reference to a young one at heap offset `field` (`u32::MAX`: by a
    /// bulk instruction, anywhere), and joins the remembered set. Never
    /// collects.
    fn gc_remember(&mut self, obj: u32, field: u32);

    /// Whether the type with registry id `sub` is `sup` or declares it
    /// among its supertypes: `call_indirect` asks when a function's
    /// signature id differs from the expected one.
    fn is_subtype(&self, sub: u32, sup: u32) -> bool;

    /// Says that nothing refers to `exn` any more (a handler took its
    /// payload): unless it was exposed, its memory can be reused.
    fn release_exception(&mut self, exn: u64);
}
