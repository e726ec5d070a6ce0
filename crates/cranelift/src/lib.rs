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
//!   address map and relocations resolved ([`CompiledModule`]).
//!
//! What it does not do: map memory executable, install signal handlers,
//! allocate instances or call the code. The runtime (`kiln`'s
//! `runtime` module) does that with a [`CompiledModule`];
//! `docs/native-abi.md` is the contract between the two. Its caller is the
//! `kiln` crate's engine when `Config` selects the Cranelift strategy, and
//! its tests.

#![warn(missing_docs)]

pub mod compiler;
pub mod isa;
pub mod trampolines;
mod translate;

pub use compiler::{
    CompiledFunction, CompiledModule, Compiler, FuncKey, FunctionLocation, Relocation, TrapSite,
};
pub use isa::{IsaBuilder, OptLevel, isa_fingerprint};

/// Why a module or function could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// An operator or feature this backend does not translate (yet).
    #[error("unsupported in the Cranelift backend: {0}")]
    Unsupported(String),
    /// The function body could not be read (the module should have been
    /// validated by `kiln-environ` first).
    #[error("malformed function body: {0}")]
    Wasm(String),
    /// The target triple is unknown or not one Kiln compiles for.
    #[error("unsupported target `{0}`")]
    UnsupportedTarget(String),
    /// A code-generation flag was rejected.
    #[error("invalid Cranelift setting: {0}")]
    Setting(String),
    /// Cranelift failed (a verifier error, an implementation limit).
    #[error("code generation failed for {function}: {message}")]
    Codegen {
        /// Which function (or trampoline) failed.
        function: String,
        /// Cranelift's message.
        message: String,
    },
    /// A relocation could not be resolved in the text image.
    #[error("unresolvable relocation {0}")]
    Relocation(String),
}
