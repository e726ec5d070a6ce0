//! Kiln's own view of wasm types: value types with the 3.0 reference types
//! (nullable or not, abstract or concrete heap types; no GC heap types
//! yet), so backends match exhaustively instead of over wasmparser's
//! open-ended ones.
//!
//! A concrete heap type names a function type by a `u32` whose meaning
//! depends on where the type lives: in a [`crate::ModuleTranslation`] it is
//! the module's type index; in the runtime's engine-wide registry of
//! canonical types it is that registry's id, so that types of different
//! modules compare by value.

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
    /// A reference.
    Ref(RefType),
}

/// A reference type: a heap type, and whether null is a value of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefType {
    /// Whether `null` is a value of this type.
    pub nullable: bool,
    /// What the reference points to.
    pub heap: HeapType,
}

/// The type of what a reference points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeapType {
    /// Any function (`func`).
    Func,
    /// No function: the bottom of the function types (`nofunc`).
    NoFunc,
    /// Any host value (`extern`).
    Extern,
    /// No host value (`noextern`).
    NoExtern,
    /// Any exception (`exn`).
    Exn,
    /// No exception: the bottom of the exception hierarchy (`noexn`).
    NoExn,
    /// A function of the given type (see the module docs for what the
    /// index means).
    Concrete(u32),
}

impl RefType {
    /// `funcref`: `(ref null func)`.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Func,
    };
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Extern,
    };
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Exn,
    };

    /// Converts a wasmparser reference type, rejecting heap types of
    /// proposals Kiln lacks (GC, exceptions, shared).
    pub fn from_wasmparser(r: wasmparser::RefType, offset: u64) -> Result<Self, TranslationError> {
        use wasmparser::AbstractHeapType as A;
        let heap = match r.heap_type() {
            wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                _ => return Err(unsupported_ref(r, offset)),
            },
            wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)) => {
                HeapType::Concrete(i)
            }
            _ => return Err(unsupported_ref(r, offset)),
        };
        Ok(RefType {
            nullable: r.is_nullable(),
            heap,
        })
    }

    /// The top of this type's hierarchy as a nullable type: `funcref`,
    /// `externref` or `exnref`. References of one hierarchy share a
    /// representation.
    pub fn top(self) -> RefType {
        match self.heap {
            HeapType::Func | HeapType::NoFunc | HeapType::Concrete(_) => RefType::FUNCREF,
            HeapType::Extern | HeapType::NoExtern => RefType::EXTERNREF,
            HeapType::Exn | HeapType::NoExn => RefType::EXNREF,
        }
    }

    /// Whether this is an exception reference type (any nullability).
    pub fn is_exn(self) -> bool {
        self.top() == RefType::EXNREF
    }

    /// Whether this is a function reference type (any nullability).
    pub fn is_func(self) -> bool {
        self.top() == RefType::FUNCREF
    }

    /// Whether every value of `self` is a value of `other`, when both
    /// name concrete types in the same index space. Without the GC
    /// proposal a function type has no declared supertypes, so concrete
    /// types match only themselves.
    pub fn matches(self, other: RefType) -> bool {
        (!self.nullable || other.nullable) && self.heap.matches(other.heap)
    }
}

impl HeapType {
    /// Whether `self` is a subtype of `other` (see [`RefType::matches`]).
    pub fn matches(self, other: HeapType) -> bool {
        use HeapType::*;
        match (self, other) {
            (a, b) if a == b => true,
            (NoFunc, Func | Concrete(_)) | (Concrete(_), Func) => true,
            (NoExtern, Extern) | (NoExn, Exn) => true,
            _ => false,
        }
    }

    /// This heap type with its concrete index mapped through `f` (e.g.
    /// module type index to registry id).
    pub fn map_concrete(self, f: impl FnOnce(u32) -> u32) -> HeapType {
        match self {
            HeapType::Concrete(i) => HeapType::Concrete(f(i)),
            other => other,
        }
    }
}

fn unsupported_ref(r: wasmparser::RefType, offset: u64) -> TranslationError {
    TranslationError::unsupported(alloc::format!("unsupported reference type {r}"), offset)
}

impl ValType {
    /// `funcref`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// The reference type, if this is one.
    pub fn as_ref_type(self) -> Option<RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// Whether every value of `self` is a value of `other` (equal numeric
    /// types; [`RefType::matches`] for references).
    pub fn matches(self, other: ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b),
            (a, b) => a == b,
        }
    }

    /// Whether the type has a default value (zero or null): every type but
    /// non-nullable references, whose locals must be set before use.
    pub fn is_defaultable(self) -> bool {
        !matches!(
            self,
            ValType::Ref(RefType {
                nullable: false,
                ..
            })
        )
    }

    /// This type with its concrete index mapped through `f`.
    pub fn map_concrete(self, f: impl FnOnce(u32) -> u32) -> ValType {
        match self {
            ValType::Ref(r) => ValType::Ref(RefType {
                nullable: r.nullable,
                heap: r.heap.map_concrete(f),
            }),
            other => other,
        }
    }

    /// Converts from wasmparser, rejecting types of proposals Kiln lacks.
    pub fn from_wasmparser(ty: wasmparser::ValType, offset: u64) -> Result<Self, TranslationError> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => ValType::Ref(RefType::from_wasmparser(r, offset)?),
        })
    }

    /// Converts a wasmparser reference type.
    pub fn from_ref_type(r: wasmparser::RefType, offset: u64) -> Result<Self, TranslationError> {
        Ok(ValType::Ref(RefType::from_wasmparser(r, offset)?))
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Concrete(i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RefType::FUNCREF => f.write_str("funcref"),
            RefType::EXTERNREF => f.write_str("externref"),
            RefType::EXNREF => f.write_str("exnref"),
            RefType { nullable, heap } => {
                let null = if nullable { "null " } else { "" };
                write!(f, "(ref {null}{heap})")
            }
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
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
    /// The element type.
    pub element: RefType,
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
    /// An exception tag, by the module-level index of its function type.
    Tag(u32),
}

impl TableType {
    pub(crate) fn from_wasmparser(
        t: &wasmparser::TableType,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(Self {
            element: RefType::from_wasmparser(t.element_type, offset)?,
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
