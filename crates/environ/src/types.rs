//! Kiln's own view of wasm types: value types with the 3.0 reference types
//! (nullable or not, abstract or concrete heap types, the GC proposal's
//! `any`/`eq`/`i31`/`struct`/`array`/`none` hierarchy included), so
//! backends match exhaustively instead of over wasmparser's open-ended
//! ones.
//!
//! A concrete heap type names a defined type by a `u32` whose meaning
//! depends on where the type lives: in a [`crate::ModuleTranslation`] it is
//! the module's type index; in the runtime's engine-wide registry of
//! canonical types it is that registry's id, so that types of different
//! modules compare by value. It also says what kind of type it names
//! (function, struct or array), so that a reference type's hierarchy is
//! known without looking the index up.

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
    /// Any GC value or internalized host value: the top of the GC
    /// hierarchy (`any`).
    Any,
    /// Any value comparable with `ref.eq`: structs, arrays and `i31`s
    /// (`eq`).
    Eq,
    /// An unboxed 31-bit integer (`i31`).
    I31,
    /// Any struct (`struct`).
    Struct,
    /// Any array (`array`).
    Array,
    /// No GC value: the bottom of the GC hierarchy (`none`).
    None,
    /// A defined type of the given kind (see the module docs for what the
    /// index means).
    Concrete(TypeKind, u32),
}

/// What a defined (concrete) type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeKind {
    /// A function type.
    Func,
    /// A struct type.
    Struct,
    /// An array type.
    Array,
}

/// Answers whether one defined type is declared a subtype of another, in
/// one index space (a module's type indices, or the engine's registry
/// ids). [`RefType::matches`] asks it about concrete heap types.
pub trait SubtypeOracle {
    /// Whether defined type `sub` is `sup` or has it among its declared
    /// supertypes (transitively).
    fn is_subtype(&self, sub: u32, sup: u32) -> bool;
}

/// The oracle for a space in which no type declares a supertype: concrete
/// types match only themselves.
pub struct NoSubtypes;

impl SubtypeOracle for NoSubtypes {
    fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        sub == sup
    }
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
    /// `anyref`: `(ref null any)`.
    pub const ANYREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Any,
    };

    /// Converts a wasmparser reference type, rejecting heap types of
    /// proposals Kiln lacks (shared-everything threads). `kind_of` says
    /// what each concrete type index names.
    pub fn from_wasmparser(
        r: wasmparser::RefType,
        kind_of: &dyn Fn(u32) -> TypeKind,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(RefType {
            nullable: r.is_nullable(),
            heap: HeapType::from_wasmparser(r.heap_type(), kind_of)
                .ok_or_else(|| unsupported_ref(r, offset))?,
        })
    }

    /// The top of this type's hierarchy as a nullable type: `funcref`,
    /// `externref`, `exnref` or `anyref`. References of one hierarchy
    /// share a representation.
    pub fn top(self) -> RefType {
        match self.heap.top() {
            HeapType::Func => RefType::FUNCREF,
            HeapType::Extern => RefType::EXTERNREF,
            HeapType::Exn => RefType::EXNREF,
            _ => RefType::ANYREF,
        }
    }

    /// Whether this is a reference into the GC hierarchy (`anyref` and
    /// below), whose values are 32-bit GC references.
    pub fn is_gc(self) -> bool {
        self.top() == RefType::ANYREF
    }

    /// Whether the collector traces values of this type: references of
    /// the `any` hierarchy (GC objects) and of the `extern` hierarchy
    /// (host values, and GC objects made external). Function and
    /// exception references live as long as their store and are not.
    pub fn is_traced(self) -> bool {
        matches!(self.top(), RefType::ANYREF | RefType::EXTERNREF)
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
    /// name concrete types in the index space `subtypes` knows.
    pub fn matches(self, other: RefType, subtypes: &dyn SubtypeOracle) -> bool {
        (!self.nullable || other.nullable) && self.heap.matches(other.heap, subtypes)
    }
}

impl HeapType {
    /// Converts a wasmparser heap type; `None` for the shared ones Kiln
    /// lacks, and for indices wasmparser resolved into its own spaces.
    pub fn from_wasmparser(
        h: wasmparser::HeapType,
        kind_of: &dyn Fn(u32) -> TypeKind,
    ) -> Option<HeapType> {
        use wasmparser::AbstractHeapType as A;
        Some(match h {
            wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
                A::Func => HeapType::Func,
                A::NoFunc => HeapType::NoFunc,
                A::Extern => HeapType::Extern,
                A::NoExtern => HeapType::NoExtern,
                A::Exn => HeapType::Exn,
                A::NoExn => HeapType::NoExn,
                A::Any => HeapType::Any,
                A::Eq => HeapType::Eq,
                A::I31 => HeapType::I31,
                A::Struct => HeapType::Struct,
                A::Array => HeapType::Array,
                A::None => HeapType::None,
                A::Cont | A::NoCont => return None,
            },
            wasmparser::HeapType::Concrete(wasmparser::UnpackedIndex::Module(i)) => {
                HeapType::Concrete(kind_of(i), i)
            }
            _ => return None,
        })
    }

    /// The top of this heap type's hierarchy: `Func`, `Extern`, `Exn` or
    /// `Any`.
    pub fn top(self) -> HeapType {
        use HeapType::*;
        match self {
            Func | NoFunc | Concrete(TypeKind::Func, _) => Func,
            Extern | NoExtern => Extern,
            Exn | NoExn => Exn,
            Any | Eq | I31 | Struct | Array | None | Concrete(_, _) => Any,
        }
    }

    /// The bottom of this heap type's hierarchy: `NoFunc`, `NoExtern`,
    /// `NoExn` or `None`.
    pub fn bottom(self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Exn => HeapType::NoExn,
            _ => HeapType::None,
        }
    }

    /// Whether `self` is a subtype of `other` (see [`RefType::matches`]).
    pub fn matches(self, other: HeapType, subtypes: &dyn SubtypeOracle) -> bool {
        use HeapType::*;
        match (self, other) {
            (a, b) if a == b => true,
            (Concrete(_, a), Concrete(_, b)) => subtypes.is_subtype(a, b),
            // Each hierarchy's bottom is below everything in it.
            (NoFunc | NoExtern | NoExn | None, b) => self.top() == b.top(),
            (Concrete(TypeKind::Func, _), Func) => true,
            (Concrete(TypeKind::Struct, _), Struct | Eq | Any) => true,
            (Concrete(TypeKind::Array, _), Array | Eq | Any) => true,
            (I31 | Struct | Array, Eq | Any) | (Eq, Any) => true,
            _ => false,
        }
    }

    /// This heap type with its concrete index mapped through `f` (e.g.
    /// module type index to registry id).
    pub fn map_concrete(self, f: impl FnOnce(u32) -> u32) -> HeapType {
        match self {
            HeapType::Concrete(k, i) => HeapType::Concrete(k, f(i)),
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
    /// `anyref`.
    pub const ANYREF: ValType = ValType::Ref(RefType::ANYREF);

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// Whether this is a reference the collector traces
    /// ([`RefType::is_traced`]).
    pub fn is_traced(self) -> bool {
        self.as_ref_type().is_some_and(RefType::is_traced)
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
    pub fn matches(self, other: ValType, subtypes: &dyn SubtypeOracle) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b, subtypes),
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

    /// Converts from wasmparser, rejecting types of proposals Kiln lacks;
    /// `kind_of` says what each concrete type index names.
    pub fn from_wasmparser(
        ty: wasmparser::ValType,
        kind_of: &dyn Fn(u32) -> TypeKind,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => {
                ValType::Ref(RefType::from_wasmparser(r, kind_of, offset)?)
            }
        })
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
            HeapType::Any => f.write_str("any"),
            HeapType::Eq => f.write_str("eq"),
            HeapType::I31 => f.write_str("i31"),
            HeapType::Struct => f.write_str("struct"),
            HeapType::Array => f.write_str("array"),
            HeapType::None => f.write_str("none"),
            HeapType::Concrete(_, i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RefType::FUNCREF => f.write_str("funcref"),
            RefType::EXTERNREF => f.write_str("externref"),
            RefType::EXNREF => f.write_str("exnref"),
            RefType::ANYREF => f.write_str("anyref"),
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
        kind_of: &dyn Fn(u32) -> TypeKind,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(Self {
            element: RefType::from_wasmparser(t.element_type, kind_of, offset)?,
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
        kind_of: &dyn Fn(u32) -> TypeKind,
        offset: u64,
    ) -> Result<Self, TranslationError> {
        Ok(Self {
            content: ValType::from_wasmparser(g.content_type, kind_of, offset)?,
            mutable: g.mutable,
        })
    }
}
