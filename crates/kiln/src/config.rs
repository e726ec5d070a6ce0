//! [`Config`]: global settings of an [`Engine`](crate::Engine).

use kiln_environ::wasmparser::WasmFeatures;

/// Which backend runs wasm code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// The platform's default backend (the interpreter everywhere today).
    #[default]
    Auto,
    /// Kiln's portable interpreter.
    Interpreter,
}

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
    pub(crate) lazy_translation: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The default configuration: every supported proposal enabled
    /// (WebAssembly 2.0, tail calls, extended constant expressions), the
    /// [`Strategy::Auto`] backend, no fuel, an 8 MiB wasm stack.
    pub fn new() -> Self {
        Config {
            features: kiln_environ::default_features(),
            strategy: Strategy::Auto,
            consume_fuel: false,
            max_wasm_stack: DEFAULT_MAX_WASM_STACK,
            lazy_translation: false,
        }
    }

    fn feature(&mut self, flag: WasmFeatures, enable: bool) -> &mut Self {
        self.features.set(flag, enable);
        self
    }

    /// Enables the fixed-width SIMD proposal (`v128`). Default: on.
    pub fn wasm_simd(&mut self, enable: bool) -> &mut Self {
        self.feature(WasmFeatures::SIMD, enable)
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
    /// limited to 1 MiB of native stack (it traps the same way beyond).
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Self {
        self.max_wasm_stack = bytes;
        self
    }
}
