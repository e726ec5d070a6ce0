//! [`Config`]: global settings of an [`Engine`](crate::Engine).

use crate::prelude::*;
use kiln_environ::wasmparser::WasmFeatures;

/// Which backend runs wasm code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// The platform's default backend: [`Strategy::Cranelift`] on Linux
    /// x86_64, aarch64, s390x and riscv64, the interpreter elsewhere. It
    /// also falls back to the interpreter where native code cannot run
    /// (e.g. a sandbox that forbids executable memory, a build without the
    /// `cranelift` feature) or could not run every enabled feature (wasm
    /// SIMD on a riscv64 CPU without the vector extension).
    /// [`Engine::strategy`](crate::Engine::strategy) says which it chose.
    #[default]
    Auto,
    /// Kiln's portable interpreter.
    Interpreter,
    /// Native code from Kiln's optimizing compiler (`kiln-cranelift`, the
    /// `cranelift` feature). Needs a host where the runtime can turn
    /// hardware faults into traps (Linux on x86_64, aarch64, s390x or
    /// riscv64 today); [`Engine::new`](crate::Engine::new) fails elsewhere.
    /// In a build without the `cranelift` feature the engine cannot
    /// compile, but loads modules precompiled elsewhere
    /// ([`Module::deserialize`](crate::Module::deserialize)).
    Cranelift,
    /// Native code from Kiln's single-pass baseline compiler
    /// (`kiln-baseline`), which compiles many times faster than Cranelift
    /// and makes slower code. x86-64 Linux hosts only for now. Functions it
    /// cannot translate yet are compiled by Cranelift in the same module
    /// unless [`Config::baseline_fallback`] is off. Needs the `cranelift`
    /// feature.
    Baseline,
    /// Tiered native code: every function starts as baseline code, so a
    /// module starts as fast as with [`Strategy::Baseline`]; functions
    /// that turn out hot are compiled by Cranelift on background threads
    /// and replace their baseline code for every later call, and a
    /// baseline frame looping hot moves into the optimized code at a loop
    /// header (on-stack replacement). [`Config::tier_threshold`] and
    /// [`Config::tier_threads`] tune it. The `baseline` feature's hosts
    /// only.
    Tiered,
}

/// The default of [`Config::tier_threshold`].
pub const DEFAULT_TIER_THRESHOLD: u32 = 10_000;

/// The default of [`Config::max_gc_heap_size`]: 1 GiB.
pub const DEFAULT_MAX_GC_HEAP_SIZE: u64 = 1 << 30;

/// The default of [`Config::max_wasm_stack`]: 8 MiB.
///
/// The interpreter keeps wasm frames on a heap-allocated stack, so this is
/// cheap; at typical frame sizes (a few dozen bytes plus the frame's
/// registers) it lets ordinary recursion go several tens of thousands of
/// frames deep, while runaway recursion still traps quickly with "call stack
/// exhausted".
pub(crate) const DEFAULT_MAX_WASM_STACK: usize = 8 << 20;

/// Global configuration: enabled proposals, backend, fuel, stack limit.
///
/// Every setter returns `&mut Self` so calls chain:
///
/// ```
/// let mut config = kiln::Config::new();
/// config.consume_fuel(true).wasm_simd(false);
/// let engine = kiln::Engine::new(&config).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) features: WasmFeatures,
    pub(crate) strategy: Strategy,
    pub(crate) consume_fuel: bool,
    pub(crate) max_wasm_stack: usize,
    /// See [`Config::max_gc_heap_size`].
    pub(crate) max_gc_heap_size: u64,
    /// See [`Config::gc_stress`].
    pub(crate) gc_stress: bool,
    /// Whether the embedder chose `max_wasm_stack` (the default is capped
    /// for native code where the thread's stack bounds are unknown).
    pub(crate) max_wasm_stack_chosen: bool,
    pub(crate) lazy_translation: bool,
    /// See [`Config::baseline_fallback`].
    pub(crate) baseline_fallback: bool,
    /// See [`Config::tier_threshold`].
    pub(crate) tier_threshold: u32,
    /// See [`Config::tier_threads`] (0: the default).
    pub(crate) tier_threads: usize,
    /// See [`Config::tier_log`].
    pub(crate) tier_log: bool,
    /// See [`Config::tier_synchronously`].
    pub(crate) tier_sync: bool,
    pub(crate) memory_reservation: u64,
    pub(crate) memory_guard_size: u64,
    pub(crate) memory_reservation_for_growth: u64,
    pub(crate) target: Option<String>,
    pub(crate) signals_based_traps: bool,
    /// [`Config::relaxed_simd_deterministic`].
    pub(crate) relaxed_simd_deterministic: bool,
}

/// The default of [`Config::memory_reservation`]: the whole 32-bit index
/// space on 64-bit hosts, 64 MiB on smaller ones.
const DEFAULT_MEMORY_RESERVATION: u64 = if usize::BITS >= 64 { 1 << 32 } else { 64 << 20 };

/// The default of [`Config::memory_guard_size`]: 32 MiB on 64-bit hosts
/// (as Wasmtime), 64 KiB on smaller ones.
const DEFAULT_MEMORY_GUARD_SIZE: u64 = if usize::BITS >= 64 {
    32 << 20
} else {
    64 << 10
};

/// The default of [`Config::memory_reservation_for_growth`]: 2 MiB on
/// 64-bit hosts, 1 MiB on smaller ones.
const DEFAULT_MEMORY_RESERVATION_FOR_GROWTH: u64 =
    if usize::BITS >= 64 { 2 << 20 } else { 1 << 20 };

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The default configuration: every supported proposal enabled
    /// (WebAssembly 2.0, tail calls, extended constant expressions,
    /// multi-memory, memory64, function references, exceptions (legacy ones
    /// too), relaxed SIMD, wide arithmetic; SIMD and relaxed SIMD
    /// only with the `simd` feature), the
    /// [`Strategy::Auto`] backend, no fuel, an 8 MiB wasm stack.
    pub fn new() -> Self {
        // A build without the `simd` feature cannot run SIMD, so it does
        // not accept it by default.
        #[cfg_attr(all(feature = "simd", feature = "gc"), allow(unused_mut))]
        let mut features = kiln_environ::default_features();
        #[cfg(not(feature = "simd"))]
        features.remove(WasmFeatures::SIMD | WasmFeatures::RELAXED_SIMD);
        // Nor GC without the `gc` feature.
        #[cfg(not(feature = "gc"))]
        features.remove(WasmFeatures::GC);
        Config {
            features,
            strategy: Strategy::Auto,
            consume_fuel: false,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            max_gc_heap_size: DEFAULT_MAX_GC_HEAP_SIZE,
            gc_stress: false,
            max_wasm_stack_chosen: false,
            lazy_translation: false,
            baseline_fallback: true,
            tier_threshold: DEFAULT_TIER_THRESHOLD,
            tier_threads: 0,
            tier_log: false,
            tier_sync: false,
            memory_reservation: DEFAULT_MEMORY_RESERVATION,
            memory_guard_size: DEFAULT_MEMORY_GUARD_SIZE,
            memory_reservation_for_growth: DEFAULT_MEMORY_RESERVATION_FOR_GROWTH,
            target: None,
            signals_based_traps: true,
            relaxed_simd_deterministic: false,
        }
    }

    fn feature(&mut self, flag: WasmFeatures, enable: bool) -> &mut Self {
        self.features.set(flag, enable);
        self
    }

    /// Enables the fixed-width SIMD proposal (`v128`). Default: on, where
    /// the crate's `simd` feature is (it is by default); without that
    /// feature, enabling it makes [`Engine::new`](crate::Engine::new) fail.
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::SIMD, enable)
    }

    /// Enables the relaxed SIMD proposal: SIMD operators whose results may
    /// depend on the host (see [`Config::relaxed_simd_deterministic`]).
    /// Default: on where the `simd` feature is.
    pub fn wasm_relaxed_simd(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::RELAXED_SIMD, enable)
    }

    /// Gives relaxed SIMD operators the same results on every host and
    /// backend: each behaves as its deterministic choice (swizzle,
    /// `trunc_sat`, `min`/`max`, `q15mulr_sat_s` and `bitselect` for the
    /// operators with such twins, one rounding for multiply-add, signed
    /// operands and wrapping pair sums for the dot products), as the
    /// interpreter always does. Default: off, so native code uses the
    /// host's fastest instructions (e.g. `pshufb` for swizzle, a separate
    /// multiply and add where there is no fused multiply-add). Recorded in
    /// the fingerprint of precompiled code.
    pub fn relaxed_simd_deterministic(&mut self, enable: bool) -> &mut Self {
        self.relaxed_simd_deterministic = enable;
        self
    }

    /// Enables the GC proposal: struct and array types, `i31ref`, the
    /// `any`/`eq`/`struct`/`array` hierarchy, casts, and the collector that
    /// frees their objects. Default: on, where the crate's `gc` feature is
    /// (it is by default); without that feature, enabling it makes
    /// [`Engine::new`](crate::Engine::new) fail.
    pub fn wasm_gc(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::GC, enable)
    }

    /// Enables the wide-arithmetic proposal: 128-bit addition and
    /// subtraction and 64×64→128-bit multiplication on `i64` pairs.
    /// Default: on.
    pub fn wasm_wide_arithmetic(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::WIDE_ARITHMETIC, enable)
    }

    /// Enables the memory64 proposal: linear memories and tables indexed by
    /// `i64`. Default: on.
    pub fn wasm_memory64(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MEMORY64, enable)
    }

    /// Enables the function-references proposal: typed function references
    /// (`(ref $t)`, `(ref null func)`), `call_ref`, `return_call_ref`,
    /// `ref.as_non_null`, `br_on_null`, `br_on_non_null`, non-nullable
    /// locals and table initializers. Default: on.
    pub fn wasm_function_references(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::FUNCTION_REFERENCES, enable)
    }

    /// Enables the exception-handling proposal: tags, `throw`,
    /// `throw_ref`, `try_table` and `exnref`. Default: on. (Cranelift's
    /// code for s390x does not support it yet: modules that use it fail
    /// to compile there.)
    pub fn wasm_exceptions(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::EXCEPTIONS, enable)
    }

    /// Enables the legacy exception instructions (`try`, `catch`,
    /// `catch_all`, `delegate`, `rethrow`) that toolchains still emit.
    /// Default: on.
    pub fn wasm_legacy_exceptions(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::LEGACY_EXCEPTIONS, enable)
    }

    /// Enables the custom-page-sizes proposal: memories whose pages are one
    /// byte rather than 64 KiB (`(pagesize 1)`). Default: off, as in
    /// Wasmtime (the proposal is not part of WebAssembly 3.0). Accesses to
    /// a one-byte-page memory are always checked explicitly.
    pub fn wasm_custom_page_sizes(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::CUSTOM_PAGE_SIZES, enable)
    }

    /// Enables the multi-memory proposal: any number of linear memories per
    /// module. Default: on.
    pub fn wasm_multi_memory(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MULTI_MEMORY, enable)
    }

    /// Enables the bulk memory operations proposal. Default: on.
    pub fn wasm_bulk_memory(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::BULK_MEMORY, enable)
    }

    /// Enables the reference types proposal. Default: on.
    pub fn wasm_reference_types(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::REFERENCE_TYPES, enable)
    }

    /// Enables the multi-value proposal. Default: on.
    pub fn wasm_multi_value(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MULTI_VALUE, enable)
    }

    /// Enables the sign-extension operators proposal. Default: on.
    pub fn wasm_sign_extension(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::SIGN_EXTENSION, enable)
    }

    /// Enables the non-trapping float-to-int conversions proposal. Default: on.
    pub fn wasm_saturating_float_to_int(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::SATURATING_FLOAT_TO_INT, enable)
    }

    /// Enables importing and exporting mutable globals. Default: on.
    pub fn wasm_mutable_global(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::MUTABLE_GLOBAL, enable)
    }

    /// Enables the tail call proposal. Default: on.
    pub fn wasm_tail_call(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::TAIL_CALL, enable)
    }

    /// Enables the extended constant expressions proposal. Default: on.
    pub fn wasm_extended_const(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::EXTENDED_CONST, enable)
    }

    /// Selects the backend. Default: [`Strategy::Auto`].
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        self.strategy = strategy;
        self
    }

    /// Whether [`Strategy::Baseline`] hands a function it cannot translate
    /// (an operator or type it does not support yet) to Cranelift, so the
    /// module still compiles with that function optimized. Off, such a
    /// module fails to compile with an error naming what was missing,
    /// which is how the baseline compiler's coverage is tested. Default:
    /// on.
    pub fn baseline_fallback(&mut self, enable: bool) -> &mut Self {
        self.baseline_fallback = enable;
        self
    }

    /// With [`Strategy::Tiered`]: how many calls of a function and
    /// iterations of its loops (counted together) make it hot. A hot
    /// function is queued for Cranelift; a loop still running in baseline
    /// code checks again every `threshold` iterations whether optimized
    /// code to continue in is ready. 0 is taken as 1 (every function is
    /// promoted as soon as it runs, which tests use). Default:
    /// [`DEFAULT_TIER_THRESHOLD`].
    pub fn tier_threshold(&mut self, threshold: u32) -> &mut Self {
        self.tier_threshold = threshold.max(1);
        self
    }

    /// With [`Strategy::Tiered`]: how many background threads compile hot
    /// functions, per engine (started on first use). Default: half the
    /// machine's cores, at least one and at most four.
    pub fn tier_threads(&mut self, threads: usize) -> &mut Self {
        self.tier_threads = threads;
        self
    }

    /// With [`Strategy::Tiered`]: compiles hot code on the thread that
    /// found it hot, before that thread goes on, instead of in the
    /// background. Slower to start, but deterministic: with a threshold of
    /// 1 every function runs optimized from its second call and every loop
    /// moves into optimized code on its first iteration, which is how the
    /// spec suite tests tiering (`-C tier-sync=y`). Default: off.
    pub fn tier_synchronously(&mut self, enable: bool) -> &mut Self {
        self.tier_sync = enable;
        self
    }

    /// With [`Strategy::Tiered`]: prints a line to standard error for each
    /// function queued, promoted or entered by on-stack replacement, with
    /// the time since the engine started (`kiln run -D tier-log`).
    /// Default: off. [`Module::tier_stats`](crate::Module::tier_stats)
    /// counts the same events.
    pub fn tier_log(&mut self, enable: bool) -> &mut Self {
        self.tier_log = enable;
        self
    }

    /// Translates each function to the interpreter's bytecode on its first
    /// call instead of when the module is compiled. The whole module is
    /// still validated up front, so an invalid module fails in
    /// [`Module::new`](crate::Module::new) either way; what changes is that
    /// start-up costs only validation, and functions never called cost
    /// nothing more. Default: off (every function translated up front,
    /// validated in the same pass). Only the interpreter uses it.
    pub fn lazy_translation(&mut self, enable: bool) -> &mut Self {
        self.lazy_translation = enable;
        self
    }

    /// Enables fuel metering: code is charged fuel at loop back-edges and
    /// calls, and traps with [`TrapCode::OutOfFuel`](crate::TrapCode::OutOfFuel)
    /// when the store's fuel (see [`Store::set_fuel`](crate::Store::set_fuel))
    /// runs out. A store starts with no fuel. Default: off.
    pub fn consume_fuel(&mut self, enable: bool) -> &mut Self {
        self.consume_fuel = enable;
        self
    }

    /// The maximum size, in bytes, of a store's wasm stack (values and
    /// frames); deeper recursion traps with "call stack exhausted".
    /// Default: 8 MiB.
    ///
    /// Wasm → wasm calls use only this stack. A host function that calls
    /// back into wasm nests on the native stack, so such re-entry is also
    /// limited: on Linux to 128 KiB short of the end of the thread's stack,
    /// elsewhere to 1 MiB of native stack from the outermost call (256 KiB
    /// of the shadow stack on wasm targets); it traps the same way beyond.
    ///
    /// On the native backend ([`Strategy::Cranelift`]) wasm frames live on
    /// the thread's own stack: this is how far below the outermost entry
    /// into wasm they may reach, further capped so that 256 KiB of the
    /// thread's stack stay free for host functions and the runtime. Deeper
    /// recursion traps with [`TrapCode::StackOverflow`](crate::TrapCode::StackOverflow).
    /// Where Kiln cannot find the end of the thread's stack (without `std`,
    /// and off Linux) that cap is unknown, so native code gets at most
    /// 1 MiB unless this was set: an embedder whose threads have other
    /// stack sizes sets it to what their stacks hold, less what its host
    /// functions need.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self.max_wasm_stack_chosen = true;
        self
    }

    /// The most bytes each store's GC heap (its struct and array objects)
    /// may hold. An allocation past it traps with
    /// [`TrapCode::GcHeapOutOfMemory`](crate::TrapCode::GcHeapOutOfMemory)
    /// (an error from the host API). Objects are named by 32-bit offsets,
    /// so values above 4 GiB act as 4 GiB. Default:
    /// [`DEFAULT_MAX_GC_HEAP_SIZE`] (1 GiB).
    pub fn max_gc_heap_size(&mut self, bytes: u64) -> &mut Self {
        self.max_gc_heap_size = bytes;
        self
    }

    /// A test mode for the garbage collector: collect before every
    /// allocation that may collect, and check every reference in the heap
    /// and in the roots after each collection (a failed check panics).
    /// A root the collector does not know about shows up at once instead
    /// of as a rare corruption. Very slow; off by default.
    pub fn gc_stress(&mut self, on: bool) -> &mut Self {
        self.gc_stress = on;
        self
    }

    /// Bytes of address space reserved up front for each linear memory on
    /// the native backend ([`Strategy::Cranelift`]; the interpreter ignores
    /// it). Default: 4 GiB on 64-bit hosts, 64 MiB elsewhere.
    ///
    /// With at least 4 GiB (every 32-bit address), and unless
    /// [`signals_based_traps`](Config::signals_based_traps) is off,
    /// compiled code relies on guard pages: loads and stores whose static offset stays inside
    /// [`memory_guard_size`](Config::memory_guard_size) carry no bounds
    /// check, a miss faults and becomes a trap, and a memory never moves
    /// (growth only changes page protections). Below 4 GiB every access is
    /// checked explicitly and a memory that outgrows its reservation is
    /// moved to a bigger one.
    pub fn memory_reservation(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation = bytes;
        self
    }

    /// Bytes of inaccessible address space after each linear memory's
    /// reservation on the native backend. Default: 32 MiB on 64-bit hosts,
    /// 64 KiB elsewhere; none is reserved without
    /// [`signals_based_traps`](Config::signals_based_traps), which never
    /// relies on it. Larger guards let more accesses skip their bounds
    /// check; smaller ones fit more memories in the address space.
    pub fn memory_guard_size(&mut self, bytes: u64) -> &mut Self {
        self.memory_guard_size = bytes;
        self
    }

    /// Extra bytes reserved past a linear memory's new size when it has to
    /// move to a bigger reservation (a memory64 past
    /// [`memory_reservation`](Config::memory_reservation), or any memory
    /// when that is below 4 GiB), so the next growth can happen in place;
    /// a memory reserves half its new length instead when that is more.
    /// Default: 2 MiB on 64-bit hosts.
    pub fn memory_reservation_for_growth(&mut self, bytes: u64) -> &mut Self {
        self.memory_reservation_for_growth = bytes;
        self
    }

    /// Whether native code may rely on the host's signals (hardware
    /// faults caught by a signal handler) to raise traps. Default: on.
    ///
    /// On, traps are faulting instructions: an out-of-bounds access hits a
    /// guard page, `unreachable` and failed checks execute a trapping
    /// instruction, and the runtime's signal handler (installed when the
    /// engine is created) turns the fault into a [`Trap`](crate::Trap).
    ///
    /// Off, for hosts without signals (embedded, `no_std`), compiled code
    /// never faults on purpose: every memory access is bounds-checked
    /// explicitly (no guard pages, whatever
    /// [`memory_reservation`](Config::memory_reservation) says), every
    /// trap is a call into the runtime, which unwinds without a signal,
    /// and each function checks the stack limit itself. No signal handler
    /// is installed. It costs some speed and code size; see
    /// `docs/signal-free.md` for what changes and what it costs.
    ///
    /// The setting is part of a precompiled module's fingerprint: an
    /// engine loads only modules compiled with the same value. Only the
    /// native backend ([`Strategy::Cranelift`]) uses it; the interpreter
    /// needs no signals either way.
    pub fn signals_based_traps(&mut self, enable: bool) -> &mut Self {
        self.signals_based_traps = enable;
        self
    }

    /// Compiles for another machine, named by its target triple
    /// (`aarch64-unknown-linux-gnu`, `x86_64-unknown-linux-gnu`,
    /// `s390x-unknown-linux-gnu`, `riscv64gc-unknown-linux-gnu`). Such an
    /// engine runs nothing: it only writes precompiled modules with
    /// [`Engine::precompile_module`](crate::Engine::precompile_module),
    /// for a machine of that kind to load with
    /// [`Module::deserialize`](crate::Module::deserialize). Cross-compiled
    /// x86-64 code assumes x86-64-v2 (SSE4.2, POPCNT). Needs the Cranelift
    /// strategy (or `Auto`). Default: the host.
    pub fn target(&mut self, triple: &str) -> &mut Self {
        self.target = Some(triple.to_string());
        self
    }

    /// The backend the engine asks for: [`Strategy::Auto`] resolved to
    /// Cranelift where native code passes the whole spec suite and the
    /// API, soundness and native tests (Linux on x86_64; on aarch64, s390x
    /// and riscv64, tested under qemu-user), the interpreter elsewhere.
    pub(crate) fn resolved_strategy(&self) -> Strategy {
        match self.strategy {
            // Only a build that can compile picks native code by itself; a
            // build without a compiler (no `cranelift` feature) loads
            // precompiled native code only when asked for by name.
            Strategy::Auto
                // `kiln_native` is set only for the native architectures.
                if cfg!(all(kiln_native, target_os = "linux")) =>
            {
                Strategy::Cranelift
            }
            Strategy::Auto => Strategy::Interpreter,
            s => s,
        }
    }

    /// The code-generation settings the native backend and the runtime's
    /// memory allocator share: one set of numbers for both.
    pub(crate) fn tunables(&self) -> kiln_environ::Tunables {
        use kiln_environ::BoundsCheckStrategy;
        // Guard pages only pay off when the reservation covers every 32-bit
        // address; otherwise every access is checked and memories may move.
        // Code that may not rely on signals cannot rely on guard pages.
        // Nor can a build without virtual memory, whose memories live on
        // the heap.
        let bounds_checks = if self.signals_based_traps
            && crate::runtime::sys::HAS_VIRTUAL_MEMORY
            && usize::BITS >= 64
            && self.memory_reservation >= 1 << 32
        {
            BoundsCheckStrategy::GuardPages
        } else {
            BoundsCheckStrategy::Explicit
        };
        kiln_environ::Tunables {
            bounds_checks,
            memory_reservation: self.memory_reservation,
            // Without signals nothing may fault, so a guard region would
            // only waste address space.
            memory_guard_size: if self.signals_based_traps {
                self.memory_guard_size
            } else {
                0
            },
            consume_fuel: self.consume_fuel,
            // Like the interpreter, native code always honours interrupts.
            interruptible: true,
            signals_based_traps: self.signals_based_traps,
            relaxed_simd_deterministic: self.relaxed_simd_deterministic,
        }
    }
}
