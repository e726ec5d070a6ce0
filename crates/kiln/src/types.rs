//! The types of functions, tables, memories, globals, imports and exports.

use alloc::sync::Arc;
use core::fmt;
use kiln_environ as env;
use kiln_environ::ValType;

/// The type of a function: parameter and result types.
///
/// Displays in text-format syntax, e.g. `(func (param i32) (result i32))`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    // Shared: every function of every instance keeps its type.
    inner: Arc<env::FuncType>,
}

impl FuncType {
    /// A function type with the given parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            inner: Arc::new(env::FuncType::new(params, results)),
        }
    }

    /// The parameter types, in order.
    pub fn params(
        &self,
    ) -> impl ExactSizeIterator<Item = ValType> + DoubleEndedIterator + Clone + '_ {
        self.inner.params.iter().copied()
    }

    /// The result types, in order.
    pub fn results(
        &self,
    ) -> impl ExactSizeIterator<Item = ValType> + DoubleEndedIterator + Clone + '_ {
        self.inner.results.iter().copied()
    }

    pub(crate) fn param_slice(&self) -> &[ValType] {
        &self.inner.params
    }

    pub(crate) fn result_slice(&self) -> &[ValType] {
        &self.inner.results
    }

    pub(crate) fn inner(&self) -> &env::FuncType {
        &self.inner
    }
}

impl From<env::FuncType> for FuncType {
    fn from(inner: env::FuncType) -> Self {
        FuncType {
            inner: Arc::new(inner),
        }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// The type of a table: element type and limits, in elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    pub(crate) inner: env::TableType,
}

impl TableType {
    /// A table of `element` references (`FuncRef` or `ExternRef`) with at
    /// least `min` and at most `max` elements.
    pub fn new(element: ValType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            inner: env::TableType {
                element,
                minimum: u64::from(min),
                maximum: max.map(u64::from),
                table64: false,
            },
        }
    }

    /// A table indexed by `i64` (memory64's table64) of `element`
    /// references, with at least `min` and at most `max` elements.
    pub fn new64(element: ValType, min: u64, max: Option<u64>) -> TableType {
        TableType {
            inner: env::TableType {
                element,
                minimum: min,
                maximum: max,
                table64: true,
            },
        }
    }

    /// Whether the table is indexed by `i64`.
    pub fn is_64(&self) -> bool {
        self.inner.table64
    }

    /// The element type.
    pub fn element(&self) -> ValType {
        self.inner.element
    }

    /// The minimum size, in elements.
    pub fn minimum(&self) -> u64 {
        self.inner.minimum
    }

    /// The maximum size, in elements, if bounded.
    pub fn maximum(&self) -> Option<u64> {
        self.inner.maximum
    }
}

impl From<env::TableType> for TableType {
    fn from(inner: env::TableType) -> Self {
        TableType { inner }
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(table ")?;
        if self.inner.table64 {
            f.write_str("i64 ")?;
        }
        write!(f, "{}", self.inner.minimum)?;
        if let Some(max) = self.inner.maximum {
            write!(f, " {max}")?;
        }
        write!(f, " {})", self.inner.element)
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    pub(crate) inner: env::GlobalType,
}

impl GlobalType {
    /// A global holding `content` values.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            inner: env::GlobalType {
                content,
                mutable: mutability == Mutability::Var,
            },
        }
    }

    /// The value type held.
    pub fn content(&self) -> ValType {
        self.inner.content
    }

    /// Whether the global is mutable.
    pub fn mutability(&self) -> Mutability {
        if self.inner.mutable {
            Mutability::Var
        } else {
            Mutability::Const
        }
    }
}

impl From<env::GlobalType> for GlobalType {
    fn from(inner: env::GlobalType) -> Self {
        GlobalType { inner }
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.mutable {
            write!(f, "(global (mut {}))", self.inner.content)
        } else {
            write!(f, "(global {})", self.inner.content)
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

    /// `"func"`, `"table"`, `"memory"` or `"global"`.
    pub fn desc(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Global(_) => "global",
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
