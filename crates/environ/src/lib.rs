//! `kiln-environ`: the front end every Kiln backend shares.
//!
//! It decodes and validates a WebAssembly binary exactly once, with
//! `wasmparser`, and produces a [`ModuleTranslation`]: the module's types,
//! imports, exports, memories, tables, globals, segments, function bodies (as
//! byte ranges into the original binary) and names. Backends (the interpreter
//! today; Cranelift and the baseline compiler later) consume that translation
//! unchanged and never re-validate.
//!
//! What it does not do: generate code, allocate memories, or know about
//! stores. It is `#![no_std]` with `alloc`, so the runtime can build without
//! `std`.

#![no_std]

extern crate alloc;

mod const_expr;
mod error;
mod module;
mod translate;
mod trap;
mod types;

pub use const_expr::{ConstExpr, ConstOp};
pub use error::TranslationError;
pub use module::{
    DataSegment, DataSegmentKind, ElemItems, ElemSegment, ElemSegmentKind, Export, ExternKind,
    FunctionBody, Import, ModuleTranslation, Names,
};
pub use translate::{default_features, translate_module};
pub use trap::TrapCode;
pub use types::{EntityType, FuncType, GlobalType, MemoryType, TableType, ValType};
/// Re-exported so backends and the runtime name the same parser version.
pub use wasmparser;
