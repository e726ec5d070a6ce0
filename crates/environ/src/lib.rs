//! `kiln-environ`: the front end every Kiln backend shares.
//!
//! It decodes and validates a WebAssembly binary exactly once, with
//! `wasmparser`, and produces a [`ModuleTranslation`]: the module's types,
//! imports, exports, memories, tables, globals, segments, function bodies (as
//! byte ranges into the original binary) and names. Backends (the interpreter
//! today; Cranelift and the baseline compiler later) consume that translation
//! unchanged and never re-validate. A backend that decodes every body anyway
//! may instead take the bodies unvalidated ([`translate_module_deferred`])
//! and validate each while translating it, decoding it once.
//!
//! It also defines what every native backend shares with the runtime: the
//! instance layout ([`VMOffsets`]), the runtime functions compiled code
//! calls ([`Builtin`]), the code-generation settings both sides must
//! agree on ([`Tunables`]), and the compiler interface ([`Compiler`],
//! producing a backend-neutral [`CompiledModule`]);
//! `docs/native-abi.md` describes them.
//!
//! [`vm`] defines the instance model: the memory, table, global,
//! function-reference and instance records the runtime allocates and every
//! backend (the interpreter and native code alike) runs against.
//!
//! What it does not do: generate code, allocate memories, or know about
//! stores. It is `#![no_std]` with `alloc`, so the runtime can build without
//! `std`.

#![no_std]

extern crate alloc;

mod builtins;
mod compile;
mod composite;
mod const_expr;
mod error;
pub mod gc_cast;
pub mod gc_layout;
mod module;
mod operator_name;
mod translate;
mod trap;
mod tunables;
mod types;
pub mod vm;
mod vmoffsets;

pub use builtins::{Builtin, BuiltinSignature, BuiltinType};
pub use compile::{
    CompileError, CompiledFunction, CompiledModule, Compiler, FuncKey, FunctionLocation,
    HandlerSite, Relocation, RelocationKind, StackMapSite, TrapSite, builtin_stub_keys, code_keys,
};
pub use composite::{ArrayType, CompositeType, FieldType, StorageType, StructType, SubType};
pub use const_expr::{ConstExpr, ConstOp};
pub use error::TranslationError;
pub use module::{
    DataSegment, DataSegmentKind, ElemItems, ElemSegment, ElemSegmentKind, Export, ExternKind,
    FunctionBody, Import, ModuleTranslation, Names,
};
pub use operator_name::operator_name;
pub use translate::{
    FuncToValidate, default_features, translate_module, translate_module_deferred,
};
pub use trap::TrapCode;
pub use tunables::{BoundsCheckStrategy, Tunables};
pub use types::{
    EntityType, FuncType, GlobalType, HeapType, MemoryType, NoSubtypes, RefType, SubtypeOracle,
    TableType, TypeKind, ValType,
};
pub use vmoffsets::{VAL_RAW_SIZE, VMCONTEXT_MAGIC, VMHOST_CONTEXT_MAGIC, VMOffsets};
/// Re-exported so backends and the runtime name the same parser version.
pub use wasmparser;
