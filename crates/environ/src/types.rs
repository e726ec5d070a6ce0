//! Kiln's own view of wasm types: a closed set of value types (no GC heap
//! types yet), so backends match exhaustively instead of over wasmparser's
//! open-ended reference types.

use crate::TranslationError;
use alloc::boxed::Box;
use core::fmt;

/// A WebAssembly value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 128-bit SIMD vector.
    V128,
    /// Nullable reference to a function.
    FuncRef,
    /// Nullable reference to a host value.
    ExternRef,
}

impl ValType {
    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    /// Converts from wasmparser, rejecting types of proposals Kiln lacks.
    pub fn from_wasmparser(ty: wasmparser::ValType, offset: u64) -> Result<Self, TranslationError> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => Self::from_ref_type(r, offset)?,
        })
    }

    /// Converts a wasmparser reference type (only `funcref` and `externref`).
    pub fn from_ref_type(r: wasmparser::RefType, offset: u64) -> Result<Self, TranslationError> {
        if r == wasmparser::RefType::FUNCREF {
            Ok(ValType::FuncRef)
        } else if r == wasmparser::RefType::EXTERNREF {
            Ok(ValType::ExternRef)
        } else {
            Err(TranslationError::unsupported(
                alloc::format!("unsupported reference type {r}"),
                offset,
            ))
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncType {
    /// Parameter types, in order.
    pub params: Box<[ValType]>,
    /// Result types, in order.
    pub results: Box<[ValType]>,
}

impl FuncType {
    /// Builds a signature from parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        Self {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// The type of a table: element type and limits (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    /// `FuncRef` or `ExternRef`.
    pub element: ValType,
    /// Initial size in elements.
    pub minimum: u64,
    /// Maximum size in elements, if bounded.
    pub maximum: Option<u64>,
    /// Whether the table is indexed by `i64` (memory64's table64).
    pub table64: bool,
}

/// The type of a linear memory: limits in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryType {
    /// Initial size in pages.
    pub minimum: u64,
    /// Maximum size in pages, if bounded.
    pub maximum: Option<u64>,
    /// Whether addresses are 64-bit (memory64); rejected by validation unless enabled.
    pub memory64: bool,
    /// Whether the memory is shared (threads).
    pub shared: bool,
    /// The base-2 logarithm of the page size: 16 (64 KiB) unless the
    /// custom-page-sizes proposal chose 0 (one-byte pages).
    pub page_size_log2: u8,
}

/// The type of a global: value type and mutability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    /// The value type held.
    pub content: ValType,
    /// Whether `global.set` may change it.
    pub mutable: bool,
}

/// The type of an import or export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityType {
    /// A function, by its module-level type index.
    Func(u32),
    /// A table.
    Table(TableType),
    /// A linear memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl TableType {
    pub(crate) fn from_wasmparser(
        t: &wasmparser::TableType,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(Self {
            element: ValType::from_ref_type(t.element_type, offset)?,
            minimum: t.initial,
            maximum: t.maximum,
            table64: t.table64,
        })
    }
}

impl TableType {
    /// The index type's value type: `I64` for table64, else `I32`.
    pub fn index_type(&self) -> ValType {
        if self.table64 {
            ValType::I64
        } else {
            ValType::I32
        }
    }
}

impl MemoryType {
    /// The page size in bytes.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }

    /// The most pages a memory of this type can have: as many as make
    /// 2^32 bytes (2^64 for memory64), and at most what the address type
    /// can count (`u32::MAX` one-byte pages).
    pub fn absolute_max_pages(&self) -> u64 {
        let bits = if self.memory64 { 64 } else { 32 };
        let index_max = if self.memory64 {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        };
        let pages = 1u128 << (bits - u32::from(self.page_size_log2));
        u64::try_from(pages).unwrap_or(u64::MAX).min(index_max)
    }

    /// `pages` pages in bytes, or `None` if that overflows `u64`.
    pub fn pages_to_bytes(&self, pages: u64) -> Option<u64> {
        pages.checked_mul(self.page_size())
    }

    /// The address type's value type: `I64` for memory64, else `I32`.
    pub fn index_type(&self) -> ValType {
        if self.memory64 {
            ValType::I64
        } else {
            ValType::I32
        }
    }

    pub(crate) fn from_wasmparser(m: &wasmparser::MemoryType) -> Self {
        Self {
            minimum: m.initial,
            maximum: m.maximum,
            memory64: m.memory64,
            shared: m.shared,
            page_size_log2: m.page_size_log2.map_or(16, |l| l as u8),
        }
    }
}

impl GlobalType {
    pub(crate) fn from_wasmparser(
        g: &wasmparser::GlobalType,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(Self {
            content: ValType::from_wasmparser(g.content_type, offset)?,
            mutable: g.mutable,
        })
    }
}
