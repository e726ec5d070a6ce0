//! `kiln-cranelift`: Kiln's optimizing backend, on Cranelift.
//!
//! It turns a validated [`kiln_environ::ModuleTranslation`] into native code
//! for one target ISA:
//!
//! - [`isa`] picks the target (the host, or any supported triple for cross
//!   compilation) and the code-generation flags;
//! - `translate` turns each wasm function body into Cranelift IR against
//!   the instance layout of [`kiln_environ::VMOffsets`];
//! - [`trampolines`] builds the glue between the host's array calling
//!   convention and the native wasm convention, and the stubs through which
//!   compiled code calls the runtime's builtins;
//! - [`compiler`] compiles all of it in parallel and lays the machine code
//!   out in one position-independent text image with its trap table,
//!   address map and relocations resolved ([`CompiledModule`]);
//! - `signal_free` checks code compiled without signals-based traps: no
//!   instruction of it may need the trap table.
//!
//! [`CraneliftCompiler`] implements `kiln_environ::Compiler`, the
//! backend-neutral compiler interface, so the runtime drives it without
//! naming this crate's types.
//!
//! What it does not do: map memory executable, install signal handlers,
//! allocate instances or call the code. The runtime (`kiln`'s
//! `runtime` module) does that with a [`CompiledModule`];
//! `docs/native-abi.md` is the contract between the two. Its callers are
//! the `kiln` crate's engine factory, when `Config` selects the Cranelift
//! strategy, and this crate's tests.

#![warn(missing_docs)]

pub mod compiler;
pub mod isa;
mod signal_free;
pub mod trampolines;
mod translate;

pub use compiler::CraneliftCompiler;
pub use isa::{IsaBuilder, OptLevel, isa_fingerprint};
/// Re-exported: the compiler interface's types, which this crate produces.
pub use kiln_environ::{
    CompileError, CompiledFunction, CompiledModule, FuncKey, FunctionLocation, Relocation, TrapSite,
};
