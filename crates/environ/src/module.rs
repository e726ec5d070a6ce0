//! [`ModuleTranslation`]: everything a backend and the runtime need to know
//! about a module, decoded once.

use crate::{
    ConstExpr, EntityType, FuncType, GlobalType, MemoryType, SubType, SubtypeOracle, TableType,
    TypeKind, ValType,
};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

/// The kind of an exported or imported entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternKind {
    /// A function.
    Func,
    /// A table.
    Table,
    /// A linear memory.
    Memory,
    /// A global.
    Global,
    /// An exception tag.
    Tag,
}

/// An import: where it comes from and what type it must have.
#[derive(Clone, Debug)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub field: String,
    /// Required type.
    pub ty: EntityType,
}

/// An export: a name for an entity in one of the index spaces.
#[derive(Clone, Debug)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// Which index space `index` refers to.
    pub kind: ExternKind,
    /// Index into that space (imports first).
    pub index: u32,
}

/// How a data segment is used.
#[derive(Clone, Debug)]
pub enum DataSegmentKind {
    /// Copied by `memory.init` only.
    Passive,
    /// Copied into `memory` at `offset` during instantiation.
    Active {
        /// Memory index.
        memory: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
}

/// A data segment. Its bytes stay in the module binary.
#[derive(Clone, Debug)]
pub struct DataSegment {
    /// Active or passive.
    pub kind: DataSegmentKind,
    /// Byte range of the segment's contents in [`ModuleTranslation::wasm`].
    pub data: Range<usize>,
}

/// How an element segment is used.
#[derive(Clone, Debug)]
pub enum ElemSegmentKind {
    /// Copied by `table.init` only.
    Passive,
    /// Copied into `table` at `offset` during instantiation.
    Active {
        /// Table index.
        table: u32,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Only declares functions referenceable with `ref.func`; dropped at once.
    Declared,
}

/// The items of an element segment.
#[derive(Clone, Debug)]
pub enum ElemItems {
    /// Function indices (the compact `funcref` form).
    Functions(Vec<u32>),
    /// One constant expression per element.
    Expressions(Vec<ConstExpr>),
}

impl ElemItems {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            ElemItems::Functions(f) => f.len(),
            ElemItems::Expressions(e) => e.len(),
        }
    }

    /// Whether the segment has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct ElemSegment {
    /// Passive, active or declared.
    pub kind: ElemSegmentKind,
    /// Element type (`FuncRef` or `ExternRef`).
    pub ty: ValType,
    /// The elements.
    pub items: ElemItems,
}

/// A defined function's body, as a byte range into [`ModuleTranslation::wasm`].
#[derive(Clone, Debug)]
pub struct FunctionBody {
    /// Module-level type index of the function.
    pub type_index: u32,
    /// Byte range of the body (locals and code, without the size prefix).
    pub range: Range<usize>,
}

/// Names from the `name` custom section, for backtraces and debugging.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// The module's name, if given.
    pub module: Option<String>,
    /// Function names by function index.
    pub functions: BTreeMap<u32, String>,
}

/// A decoded and validated module.
///
/// Index spaces (functions, tables, memories, globals) list imports first,
/// as in the spec.
#[derive(Clone, Debug, Default)]
pub struct ModuleTranslation {
    /// The original binary; function bodies and data segments point into it.
    pub wasm: Vec<u8>,
    /// Defined types by type index.
    pub types: Vec<SubType>,
    /// The recursion groups, in order: each is a range of type indices
    /// (a type declared outside `rec` is a group of one).
    pub rec_groups: Vec<Range<u32>>,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// Type index of every function (imported and defined).
    pub functions: Vec<u32>,
    /// Every table type (imported and defined).
    pub tables: Vec<TableType>,
    /// Initializer of each *defined* table, if it has one (else null-filled).
    pub table_inits: Vec<Option<ConstExpr>>,
    /// Every memory type (imported and defined).
    pub memories: Vec<MemoryType>,
    /// Every global type (imported and defined).
    pub globals: Vec<GlobalType>,
    /// Initializer of each *defined* global.
    pub global_inits: Vec<ConstExpr>,
    /// The function type index of every tag (imported and defined): its
    /// parameters are the exception's payload.
    pub tags: Vec<u32>,
    /// Exports, in order.
    pub exports: Vec<Export>,
    /// The start function, if any.
    pub start: Option<u32>,
    /// Element segments.
    pub elems: Vec<ElemSegment>,
    /// Data segments.
    pub datas: Vec<DataSegment>,
    /// Bodies of the defined functions, in order.
    pub bodies: Vec<FunctionBody>,
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Number of imported tags.
    pub num_imported_tags: u32,
    /// Names from the name section.
    pub names: Names,
}

impl ModuleTranslation {
    /// The signature of function `func_index`.
    pub fn func_type(&self, func_index: u32) -> &FuncType {
        self.signature(self.functions[func_index as usize])
    }

    /// The signature type index `type_index` declares. Validation has
    /// checked that every use of a type index as a signature (functions,
    /// tags, calls, blocks) names a function type.
    pub fn signature(&self, type_index: u32) -> &FuncType {
        self.types[type_index as usize]
            .as_func()
            .expect("validation checked that this type index names a function type")
    }

    /// What kind of type `type_index` is.
    pub fn type_kind(&self, type_index: u32) -> TypeKind {
        self.types[type_index as usize].kind()
    }

    /// Whether any type of the module is a struct or array type, or any
    /// value type in it is a reference into the GC hierarchy: a module
    /// for which this is false needs no GC heap.
    pub fn uses_gc_types(&self) -> bool {
        self.types.iter().any(|t| t.kind() != TypeKind::Func)
    }

    /// Whether `func_index` is imported.
    pub fn is_imported_func(&self, func_index: u32) -> bool {
        func_index < self.num_imported_funcs
    }

    /// The body of defined function `func_index` (which must not be imported).
    pub fn body(&self, func_index: u32) -> &FunctionBody {
        &self.bodies[(func_index - self.num_imported_funcs) as usize]
    }

    /// A wasmparser reader over a defined function's body, with offsets
    /// relative to the start of the module binary.
    pub fn function_body_reader(&self, func_index: u32) -> wasmparser::FunctionBody<'_> {
        let range = self.body(func_index).range.clone();
        wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
            &self.wasm[range.clone()],
            range.start as u64,
        ))
    }

    /// The name of function `func_index` from the name section, if any.
    pub fn func_name(&self, func_index: u32) -> Option<&str> {
        self.names.functions.get(&func_index).map(|s| s.as_str())
    }

    /// Converts a wasmparser value type of this module's code.
    pub fn convert_val_type(
        &self,
        ty: wasmparser::ValType,
        offset: u64,
    ) -> Result<ValType, crate::TranslationError> {
        ValType::from_wasmparser(ty, &|i| self.type_kind(i), offset)
    }

    /// The contents of data segment `index`.
    pub fn data_bytes(&self, index: u32) -> &[u8] {
        &self.wasm[self.datas[index as usize].data.clone()]
    }
}

impl SubtypeOracle for ModuleTranslation {
    fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        let mut t = Some(sub);
        while let Some(i) = t {
            if i == sup {
                return true;
            }
            t = self.types[i as usize].supertype;
        }
        false
    }
}
