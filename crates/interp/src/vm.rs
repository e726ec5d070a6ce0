//! The boundary between the interpreter and the runtime that owns a store.
//!
//! The runtime (`kiln`'s `runtime` module) allocates and owns every structure
//! here, at stable addresses, for as long as the store lives. The
//! interpreter reads and writes them through raw pointers on its hot paths
//! (loads, stores, globals, table reads, direct calls), and goes through the
//! [`Host`] trait for everything slow or policy-laden (host functions, growth
//! under a limiter).
//!
//! ```text
//!   VmInstance ──memories[i]──► VmMemory { base, len }      (linear memory i)
//!              ──tables[i]────► VmTable  { base, len }      (u64 reference bits)
//!              ──globals[i]───► VmGlobal { lo, hi }
//!              ──funcs[i]─────► VmFuncRef { sig, kind }     (function index space)
//!              ──sigs[t]──────  engine-wide signature id of type index t
//! ```
//!
//! Reference values (in value slots, globals and tables) are `u64` bits:
//! `0` is null; a non-null `funcref` is the address of a [`VmFuncRef`]; a
//! non-null `externref` is an opaque non-zero id the runtime chose.

use crate::InterpModule;
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::AtomicBool;
use kiln_environ::TrapCode;

/// A linear memory as the interpreter sees it.
///
/// The runtime updates `base` and `len` when the memory grows; the
/// interpreter reloads them after every call out of the current function.
#[repr(C)]
#[derive(Debug)]
pub struct VmMemory {
    /// First byte of the memory; dangling but non-null when `len == 0`.
    pub base: *mut u8,
    /// Current size in bytes.
    pub len: usize,
    /// Store-level id, so the runtime can find its owner in [`Host`] calls.
    pub id: u32,
}

/// A table as the interpreter sees it: `len` reference slots.
#[repr(C)]
#[derive(Debug)]
pub struct VmTable {
    /// First element; dangling but non-null when `len == 0`.
    pub base: *mut u64,
    /// Current size in elements.
    pub len: u32,
    /// Store-level id, so the runtime can find its owner in [`Host`] calls.
    pub id: u32,
}

/// A global's storage. Scalars live in `lo` (an `i32` or `f32` in its low 32
/// bits, zero-extended); a `v128` uses `lo` for lanes' low half and `hi`
/// for the high half.
#[repr(C, align(16))]
#[derive(Debug, Default, Clone, Copy)]
pub struct VmGlobal {
    /// Low 64 bits of the value.
    pub lo: u64,
    /// High 64 bits (only `v128` uses them).
    pub hi: u64,
}

/// What a function reference points at.
#[derive(Debug, Clone, Copy)]
pub enum VmFuncKind {
    /// A function defined in a wasm instance run by this interpreter.
    Wasm {
        /// The instance that defines it.
        instance: *const VmInstance,
        /// Its index among the module's *defined* functions.
        defined_index: u32,
    },
    /// A host function; the runtime's own id for it.
    Host {
        /// Runtime-chosen id, passed back in [`Host::call_host`].
        id: u32,
    },
}

/// A callable function: its signature and where it lives. Owned by the
/// store, never moved; a non-null `funcref` value is its address.
#[derive(Debug)]
pub struct VmFuncRef {
    /// Engine-wide canonical signature id: two functions have the same id
    /// exactly when their types are equal.
    pub sig: u32,
    /// Where the code is.
    pub kind: VmFuncKind,
    /// Number of value slots its parameters take (a `v128` takes two).
    pub param_slots: u32,
    /// Number of value slots its results take.
    pub result_slots: u32,
}

/// A live instance as the interpreter sees it.
#[derive(Debug)]
pub struct VmInstance {
    /// The translated bytecode of the instance's module.
    pub module: Arc<InterpModule>,
    /// Memory index space.
    pub memories: Box<[*mut VmMemory]>,
    /// Table index space.
    pub tables: Box<[*mut VmTable]>,
    /// Global index space.
    pub globals: Box<[*mut VmGlobal]>,
    /// Function index space (imports first).
    pub funcs: Box<[*const VmFuncRef]>,
    /// Engine-wide signature id of each module type index.
    pub sigs: Box<[u32]>,
    /// Each data segment's bytes (pointer, length); `memory.init` reads
    /// them, `data.drop` sets the length to 0. The bytes belong to the
    /// module, which outlives the instance.
    pub datas: Box<[(*const u8, usize)]>,
    /// Each element segment's evaluated reference bits; `elem.drop`
    /// empties it.
    pub elems: Box<[Box<[u64]>]>,
    /// Runtime-chosen id of this instance, for backtraces.
    pub id: u32,
}

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
}

impl core::fmt::Debug for TrapReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TrapReason::Wasm(code) => write!(f, "Wasm({code:?})"),
            TrapReason::Host(_) => f.write_str("Host(..)"),
            TrapReason::Translation(e) => write!(f, "Translation({e})"),
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
}

/// The slow paths the interpreter needs from the runtime.
pub trait Host {
    /// The store's execution state.
    fn exec_state(&mut self) -> &mut ExecState;

    /// Calls host function `id` (from [`VmFuncKind::Host`]). `slots` holds
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
        delta: u32,
        init: u64,
    ) -> Result<Option<u32>, Trap>;
}
