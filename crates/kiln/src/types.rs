//! The types of functions, tables, memories, globals, imports and exports.

mod gc;
mod value;

pub use gc::{ArrayType, FieldType, StorageType, StructType};
pub use value::{HeapType, RefType, ValType};

use crate::Engine;
use alloc::sync::Arc;
use core::fmt;
use kiln_environ as env;

/// The type of a function: parameter and result types.
///
/// A function type belongs to an [`Engine`], which gives every distinct
/// type one id: equal types compare equal in O(1) and typed function
/// references of different modules match by that id.
///
/// Displays in text-format syntax, e.g. `(func (param i32) (result i32))`
/// (a concrete reference type inside shows its registry index).
#[derive(Clone)]
pub struct FuncType {
    engine: Engine,
    id: u32,
    /// The canonical type (concrete heap types are registry ids).
    ty: Arc<env::FuncType>,
}

impl FuncType {
    /// The function type with the given parameter and result types,
    /// registered in `engine`.
    ///
    /// # Panics
    ///
    /// If a parameter or result names a concrete function type of another
    /// engine.
    pub fn new(
        engine: &Engine,
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        let check = |t: ValType| {
            if let Some(e) = t.engine() {
                assert!(
                    Engine::same(e, engine),
                    "a function type cannot name a type of another engine"
                );
            }
            t.to_env()
        };
        let key = env::FuncType::new(
            params.into_iter().map(check),
            results.into_iter().map(check),
        );
        let id = engine.register_func_type(&key);
        FuncType::registered(engine, id)
    }

    /// The type registered as `id` in `engine`.
    pub(crate) fn registered(engine: &Engine, id: u32) -> FuncType {
        FuncType {
            engine: engine.clone(),
            id,
            ty: engine.func_type(id),
        }
    }

    /// The parameter types, in order.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + DoubleEndedIterator + '_ {
        self.ty
            .params
            .iter()
            .map(|&t| ValType::from_env(&self.engine, t))
    }

    /// The result types, in order.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + DoubleEndedIterator + '_ {
        self.ty
            .results
            .iter()
            .map(|&t| ValType::from_env(&self.engine, t))
    }

    /// The engine this type belongs to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a function of type `self` may be used where one of type
    /// `other` is expected: the same type, or one that declares `other`
    /// among its supertypes.
    pub fn matches(&self, other: &FuncType) -> bool {
        Engine::same(&self.engine, &other.engine)
            && env::SubtypeOracle::is_subtype(&self.engine, self.id, other.id)
    }

    /// Its id in the engine's registry (the `call_indirect` signature id).
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// The canonical parameter types.
    pub(crate) fn param_slice(&self) -> &[env::ValType] {
        &self.ty.params
    }

    /// The canonical result types.
    pub(crate) fn result_slice(&self) -> &[env::ValType] {
        &self.ty.results
    }

    /// The canonical type.
    pub(crate) fn inner(&self) -> &env::FuncType {
        &self.ty
    }
}

impl PartialEq for FuncType {
    fn eq(&self, other: &FuncType) -> bool {
        self.id == other.id && Engine::same(&self.engine, &other.engine)
    }
}

impl Eq for FuncType {}

impl core::hash::Hash for FuncType {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FuncType({})", self.ty)
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ty.fmt(f)
    }
}

/// The type of a table: element type and limits, in elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableType {
    element: RefType,
    minimum: u64,
    maximum: Option<u64>,
    table64: bool,
}

impl TableType {
    /// A table of `element` references with at least `min` and at most
    /// `max` elements.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            element,
            minimum: u64::from(min),
            maximum: max.map(u64::from),
            table64: false,
        }
    }

    /// A table indexed by `i64` (memory64's table64) of `element`
    /// references, with at least `min` and at most `max` elements.
    pub fn new64(element: RefType, min: u64, max: Option<u64>) -> TableType {
        TableType {
            element,
            minimum: min,
            maximum: max,
            table64: true,
        }
    }

    /// Whether the table is indexed by `i64`.
    pub fn is_64(&self) -> bool {
        self.table64
    }

    /// The element type.
    pub fn element(&self) -> &RefType {
        &self.element
    }

    /// The minimum size, in elements.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }

    /// The maximum size, in elements, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }

    /// The canonical form the runtime uses.
    pub(crate) fn to_env(&self) -> env::TableType {
        env::TableType {
            element: self.element.to_env(),
            minimum: self.minimum,
            maximum: self.maximum,
            table64: self.table64,
        }
    }

    /// The public form of `ty`, a canonical type of `engine`.
    pub(crate) fn from_env(engine: &Engine, ty: env::TableType) -> TableType {
        TableType {
            element: RefType::from_env(engine, ty.element),
            minimum: ty.minimum,
            maximum: ty.maximum,
            table64: ty.table64,
        }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(table ")?;
        if self.table64 {
            f.write_str("i64 ")?;
        }
        write!(f, "{}", self.minimum)?;
        if let Some(max) = self.maximum {
            write!(f, " {max}")?;
        }
        write!(f, " {})", self.element)
    }
}

/// The type of a linear memory: limits in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryType {
    pub(crate) inner: env::MemoryType,
}

impl MemoryType {
    /// A 32-bit memory of at least `min` and at most `max` pages.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            inner: env::MemoryType {
                minimum: u64::from(min),
                maximum: max.map(u64::from),
                memory64: false,
                shared: false,
                page_size_log2: 16,
            },
        }
    }

    /// A 64-bit memory (memory64) of at least `min` and at most `max`
    /// pages; addresses are `i64`.
    pub fn new64(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            inner: env::MemoryType {
                minimum: min,
                maximum: max,
                memory64: true,
                shared: false,
                page_size_log2: 16,
            },
        }
    }

    /// The minimum size, in pages.
    pub fn minimum(&self) -> u64 {
        self.inner.minimum
    }

    /// The maximum size, in pages, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.inner.maximum
    }

    /// Whether addresses are 64-bit (memory64).
    pub fn is_64(&self) -> bool {
        self.inner.memory64
    }

    /// Whether the memory is shared between threads.
    pub fn is_shared(&self) -> bool {
        self.inner.shared
    }

    /// This type with pages of `2^log2` bytes (the custom-page-sizes
    /// proposal): 16 (64 KiB, the default) or 0 (one byte). Errors for
    /// other sizes, and when the limits exceed what that page size allows.
    pub fn with_page_size_log2(self, log2: u8) -> crate::Result<MemoryType> {
        if log2 != 0 && log2 != 16 {
            anyhow::bail!("invalid custom page size: 2^{log2} bytes (only 1 and 65536 are valid)");
        }
        let inner = env::MemoryType {
            page_size_log2: log2,
            ..self.inner
        };
        let limit = inner.absolute_max_pages();
        if inner.minimum > limit || inner.maximum.is_some_and(|m| m > limit) {
            anyhow::bail!("memory size must be at most {limit} pages of 2^{log2} bytes");
        }
        Ok(MemoryType { inner })
    }

    /// The page size in bytes: 65536 unless a custom page size was chosen.
    pub fn page_size(&self) -> u64 {
        self.inner.page_size()
    }

    /// The base-2 logarithm of [`Self::page_size`].
    pub fn page_size_log2(&self) -> u8 {
        self.inner.page_size_log2
    }
}

impl From<env::MemoryType> for MemoryType {
    fn from(inner: env::MemoryType) -> Self {
        MemoryType { inner }
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(memory ")?;
        if self.inner.memory64 {
            f.write_str("i64 ")?;
        }
        write!(f, "{}", self.inner.minimum)?;
        if let Some(max) = self.inner.maximum {
            write!(f, " {max}")?;
        }
        if self.inner.page_size_log2 != 16 {
            write!(f, " (pagesize {})", self.inner.page_size())?;
        }
        f.write_str(")")
    }
}

/// Whether a global can be changed after initialization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable with `global.set` (and [`Global::set`](crate::Global::set)).
    Var,
}

/// The type of a global: value type and mutability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global holding `content` values.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutability,
        }
    }

    /// The value type held.
    pub fn content(&self) -> &ValType {
        &self.content
    }

    /// Whether the global is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }

    /// The canonical form the runtime uses.
    pub(crate) fn to_env(&self) -> env::GlobalType {
        env::GlobalType {
            content: self.content.to_env(),
            mutable: self.mutability == Mutability::Var,
        }
    }

    /// The public form of `ty`, a canonical type of `engine`.
    pub(crate) fn from_env(engine: &Engine, ty: env::GlobalType) -> GlobalType {
        GlobalType {
            content: ValType::from_env(engine, ty.content),
            mutability: if ty.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
        }
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Var => write!(f, "(global (mut {}))", self.content),
            Mutability::Const => write!(f, "(global {})", self.content),
        }
    }
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// An exception tag.
    Tag(crate::TagType),
}

impl ExternType {
    /// The function type, if this is one.
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            ExternType::Func(t) => Some(t),
            _ => None,
        }
    }

    /// The table type, if this is one.
    pub fn table(&self) -> Option<&TableType> {
        match self {
            ExternType::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The memory type, if this is one.
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            ExternType::Memory(t) => Some(t),
            _ => None,
        }
    }

    /// The global type, if this is one.
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            ExternType::Global(t) => Some(t),
            _ => None,
        }
    }

    /// The tag type, if this is one.
    pub fn tag(&self) -> Option<&crate::TagType> {
        match self {
            ExternType::Tag(t) => Some(t),
            _ => None,
        }
    }

    /// `"func"`, `"table"`, `"memory"`, `"global"` or `"tag"`.
    pub fn desc(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
            ExternType::Tag(_) => "tag",
        }
    }
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => t.fmt(f),
            ExternType::Table(t) => t.fmt(f),
            ExternType::Memory(t) => t.fmt(f),
            ExternType::Global(t) => t.fmt(f),
            ExternType::Tag(t) => t.fmt(f),
        }
    }
}

impl From<FuncType> for ExternType {
    fn from(t: FuncType) -> Self {
        ExternType::Func(t)
    }
}

impl From<TableType> for ExternType {
    fn from(t: TableType) -> Self {
        ExternType::Table(t)
    }
}

impl From<MemoryType> for ExternType {
    fn from(t: MemoryType) -> Self {
        ExternType::Memory(t)
    }
}

impl From<GlobalType> for ExternType {
    fn from(t: GlobalType) -> Self {
        ExternType::Global(t)
    }
}
