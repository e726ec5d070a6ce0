//! The public value types of WebAssembly 3.0: [`ValType`], [`RefType`] and
//! [`HeapType`], in the shape Wasmtime's API has them.
//!
//! Inside the runtime, types are `kiln_environ`'s `Copy` twins whose
//! concrete heap types are ids of the engine's type registry; these public
//! ones carry a [`FuncType`] instead, and convert to and from the
//! canonical form.

use super::{ArrayType, FuncType, StructType};
use crate::Engine;
use core::fmt;
use kiln_environ as env;

/// A WebAssembly value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

/// A reference type: a heap type, and whether null is one of its values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    is_nullable: bool,
    heap_type: HeapType,
}

/// What a reference points to.
///
/// Function types form one hierarchy (`func` above every concrete function
/// type, `nofunc` below them all), host references another (`extern` and
/// `noextern`), exceptions a third (`exn`, `noexn`), and the GC proposal's
/// values the fourth: `any` above `eq`, `eq` above `i31`, `struct` and
/// `array`, those above their concrete types, and `none` below them all.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any GC value or internalized host reference (`any`).
    Any,
    /// Any value `ref.eq` compares: structs, arrays and `i31`s (`eq`).
    Eq,
    /// An unboxed 31-bit integer (`i31`).
    I31,
    /// Any struct (`struct`).
    Struct,
    /// A struct of this type or a subtype.
    ConcreteStruct(StructType),
    /// Any array (`array`).
    Array,
    /// An array of this type or a subtype.
    ConcreteArray(ArrayType),
    /// No GC value: the bottom of the `any` hierarchy.
    None,
    /// Any host reference (`extern`).
    Extern,
    /// No host reference: the bottom of the `extern` hierarchy.
    NoExtern,
    /// Any function (`func`).
    Func,
    /// A function of this type or a declared subtype.
    ConcreteFunc(FuncType),
    /// No function: the bottom of the `func` hierarchy.
    NoFunc,
    /// Any exception (`exn`).
    Exn,
    /// No exception: the bottom of the `exn` hierarchy.
    NoExn,
}

impl ValType {
    /// `funcref`, the nullable reference to any function.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`, the nullable host reference.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);
    /// `exnref`, the nullable exception reference.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);
    /// `nullfuncref`: only null, in the `func` hierarchy.
    pub const NULLFUNCREF: ValType = ValType::Ref(RefType::NULLFUNCREF);
    /// `nullexternref`: only null, in the `extern` hierarchy.
    pub const NULLEXTERNREF: ValType = ValType::Ref(RefType::NULLEXTERNREF);
    /// `anyref`, the nullable reference to any GC value.
    pub const ANYREF: ValType = ValType::Ref(RefType::ANYREF);
    /// `eqref`.
    pub const EQREF: ValType = ValType::Ref(RefType::EQREF);
    /// `i31ref`.
    pub const I31REF: ValType = ValType::Ref(RefType::I31REF);
    /// `structref`.
    pub const STRUCTREF: ValType = ValType::Ref(RefType::STRUCTREF);
    /// `arrayref`.
    pub const ARRAYREF: ValType = ValType::Ref(RefType::ARRAYREF);
    /// `nullref`: only null, in the `any` hierarchy.
    pub const NULLREF: ValType = ValType::Ref(RefType::NULLREF);

    /// Whether this is a number type (`i32`, `i64`, `f32`, `f64`).
    pub fn is_num(&self) -> bool {
        matches!(
            self,
            ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64
        )
    }

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// The reference type, if this is one.
    pub fn as_ref(&self) -> Option<&RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// The reference type; panics if this is not one.
    #[track_caller]
    pub fn unwrap_ref(&self) -> &RefType {
        self.as_ref().expect("expected a reference type")
    }

    /// Whether this is `funcref` (nullable, any function).
    pub fn is_funcref(&self) -> bool {
        *self == ValType::FUNCREF
    }

    /// Whether this is `externref`.
    pub fn is_externref(&self) -> bool {
        *self == ValType::EXTERNREF
    }

    /// Whether every value of `self` is a value of `other`: subtyping.
    /// Number and vector types match only themselves.
    pub fn matches(&self, other: &ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b),
            (a, b) => a == b,
        }
    }

    /// The canonical form the runtime uses.
    pub(crate) fn to_env(&self) -> env::ValType {
        match self {
            ValType::I32 => env::ValType::I32,
            ValType::I64 => env::ValType::I64,
            ValType::F32 => env::ValType::F32,
            ValType::F64 => env::ValType::F64,
            ValType::V128 => env::ValType::V128,
            ValType::Ref(r) => env::ValType::Ref(r.to_env()),
        }
    }

    /// The public form of `ty`, a canonical type of `engine`.
    pub(crate) fn from_env(engine: &Engine, ty: env::ValType) -> ValType {
        match ty {
            env::ValType::I32 => ValType::I32,
            env::ValType::I64 => ValType::I64,
            env::ValType::F32 => ValType::F32,
            env::ValType::F64 => ValType::F64,
            env::ValType::V128 => ValType::V128,
            env::ValType::Ref(r) => ValType::Ref(RefType::from_env(engine, r)),
        }
    }

    /// The engine whose registered types this type names, if any.
    pub(crate) fn engine(&self) -> Option<&Engine> {
        self.as_ref().and_then(RefType::engine)
    }
}

impl RefType {
    /// `funcref`: `(ref null func)`.
    pub const FUNCREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Func,
    };
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Extern,
    };
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Exn,
    };
    /// `nullfuncref`: `(ref null nofunc)`.
    pub const NULLFUNCREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::NoFunc,
    };
    /// `nullexternref`: `(ref null noextern)`.
    pub const NULLEXTERNREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::NoExtern,
    };
    /// `anyref`: `(ref null any)`.
    pub const ANYREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Any,
    };
    /// `eqref`: `(ref null eq)`.
    pub const EQREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Eq,
    };
    /// `i31ref`: `(ref null i31)`.
    pub const I31REF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::I31,
    };
    /// `structref`: `(ref null struct)`.
    pub const STRUCTREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Struct,
    };
    /// `arrayref`: `(ref null array)`.
    pub const ARRAYREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::Array,
    };
    /// `nullref`: `(ref null none)`.
    pub const NULLREF: RefType = RefType {
        is_nullable: true,
        heap_type: HeapType::None,
    };

    /// A reference to `heap_type`, nullable or not.
    pub fn new(is_nullable: bool, heap_type: HeapType) -> RefType {
        RefType {
            is_nullable,
            heap_type,
        }
    }

    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.is_nullable
    }

    /// What the reference points to.
    pub fn heap_type(&self) -> &HeapType {
        &self.heap_type
    }

    /// Whether every value of `self` is a value of `other`.
    pub fn matches(&self, other: &RefType) -> bool {
        (!self.is_nullable || other.is_nullable) && self.heap_type.matches(&other.heap_type)
    }

    pub(crate) fn to_env(&self) -> env::RefType {
        env::RefType {
            nullable: self.is_nullable,
            heap: self.heap_type.to_env(),
        }
    }

    pub(crate) fn from_env(engine: &Engine, r: env::RefType) -> RefType {
        RefType {
            is_nullable: r.nullable,
            heap_type: HeapType::from_env(engine, r.heap),
        }
    }

    fn engine(&self) -> Option<&Engine> {
        self.heap_type.engine()
    }
}

impl HeapType {
    /// Whether every reference to `self` is a reference to `other`.
    /// Concrete types of two different engines never match.
    pub fn matches(&self, other: &HeapType) -> bool {
        match (self.engine(), other.engine()) {
            (Some(a), Some(b)) if !Engine::same(a, b) => false,
            (Some(e), _) | (_, Some(e)) => self.to_env().matches(other.to_env(), e),
            (None, None) => self.to_env().matches(other.to_env(), &env::NoSubtypes),
        }
    }

    /// The top of this type's hierarchy: `func`, `extern`, `exn` or `any`.
    pub fn top(&self) -> HeapType {
        match self.to_env().top() {
            env::HeapType::Func => HeapType::Func,
            env::HeapType::Extern => HeapType::Extern,
            env::HeapType::Exn => HeapType::Exn,
            _ => HeapType::Any,
        }
    }

    /// The bottom of this type's hierarchy: `nofunc`, `noextern`, `noexn`
    /// or `none`.
    pub fn bottom(&self) -> HeapType {
        match self.to_env().bottom() {
            env::HeapType::NoFunc => HeapType::NoFunc,
            env::HeapType::NoExtern => HeapType::NoExtern,
            env::HeapType::NoExn => HeapType::NoExn,
            _ => HeapType::None,
        }
    }

    /// The function type, if this is a concrete function type.
    pub fn as_concrete_func(&self) -> Option<&FuncType> {
        match self {
            HeapType::ConcreteFunc(f) => Some(f),
            _ => None,
        }
    }

    /// The struct type, if this is a concrete struct type.
    pub fn as_concrete_struct(&self) -> Option<&StructType> {
        match self {
            HeapType::ConcreteStruct(t) => Some(t),
            _ => None,
        }
    }

    /// The array type, if this is a concrete array type.
    pub fn as_concrete_array(&self) -> Option<&ArrayType> {
        match self {
            HeapType::ConcreteArray(t) => Some(t),
            _ => None,
        }
    }

    fn engine(&self) -> Option<&Engine> {
        match self {
            HeapType::ConcreteFunc(f) => Some(f.engine()),
            HeapType::ConcreteStruct(t) => Some(t.engine()),
            HeapType::ConcreteArray(t) => Some(t.engine()),
            _ => None,
        }
    }

    pub(crate) fn to_env(&self) -> env::HeapType {
        use env::TypeKind;
        match self {
            HeapType::Extern => env::HeapType::Extern,
            HeapType::NoExtern => env::HeapType::NoExtern,
            HeapType::Func => env::HeapType::Func,
            HeapType::ConcreteFunc(f) => env::HeapType::Concrete(TypeKind::Func, f.id()),
            HeapType::NoFunc => env::HeapType::NoFunc,
            HeapType::Exn => env::HeapType::Exn,
            HeapType::NoExn => env::HeapType::NoExn,
            HeapType::Any => env::HeapType::Any,
            HeapType::Eq => env::HeapType::Eq,
            HeapType::I31 => env::HeapType::I31,
            HeapType::Struct => env::HeapType::Struct,
            HeapType::ConcreteStruct(t) => env::HeapType::Concrete(TypeKind::Struct, t.id()),
            HeapType::Array => env::HeapType::Array,
            HeapType::ConcreteArray(t) => env::HeapType::Concrete(TypeKind::Array, t.id()),
            HeapType::None => env::HeapType::None,
        }
    }

    pub(crate) fn from_env(engine: &Engine, h: env::HeapType) -> HeapType {
        use env::TypeKind;
        match h {
            env::HeapType::Extern => HeapType::Extern,
            env::HeapType::NoExtern => HeapType::NoExtern,
            env::HeapType::Func => HeapType::Func,
            env::HeapType::NoFunc => HeapType::NoFunc,
            env::HeapType::Exn => HeapType::Exn,
            env::HeapType::NoExn => HeapType::NoExn,
            env::HeapType::Any => HeapType::Any,
            env::HeapType::Eq => HeapType::Eq,
            env::HeapType::I31 => HeapType::I31,
            env::HeapType::Struct => HeapType::Struct,
            env::HeapType::Array => HeapType::Array,
            env::HeapType::None => HeapType::None,
            env::HeapType::Concrete(TypeKind::Func, id) => {
                HeapType::ConcreteFunc(FuncType::registered(engine, id))
            }
            env::HeapType::Concrete(TypeKind::Struct, id) => {
                HeapType::ConcreteStruct(StructType::registered(engine, id))
            }
            env::HeapType::Concrete(TypeKind::Array, id) => {
                HeapType::ConcreteArray(ArrayType::registered(engine, id))
            }
        }
    }
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Func => f.write_str("func"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::ConcreteFunc(t) => t.fmt(f),
            HeapType::Any => f.write_str("any"),
            HeapType::Eq => f.write_str("eq"),
            HeapType::I31 => f.write_str("i31"),
            HeapType::Struct => f.write_str("struct"),
            HeapType::ConcreteStruct(t) => t.fmt(f),
            HeapType::Array => f.write_str("array"),
            HeapType::ConcreteArray(t) => t.fmt(f),
            HeapType::None => f.write_str("none"),
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == RefType::FUNCREF {
            return f.write_str("funcref");
        }
        if *self == RefType::EXTERNREF {
            return f.write_str("externref");
        }
        if *self == RefType::EXNREF {
            return f.write_str("exnref");
        }
        let null = if self.is_nullable { "null " } else { "" };
        write!(f, "(ref {null}{})", self.heap_type)
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

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        ValType::Ref(r)
    }
}
