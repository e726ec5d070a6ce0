//! Defined types: the entries of a module's type section (function, struct
//! and array types, each with its place in the subtype hierarchy) and the
//! recursion groups they are declared in.
//!
//! Concrete heap types inside them follow [`crate::types`]' convention: a
//! module's type index in a [`crate::ModuleTranslation`], a registry id
//! once the runtime has canonicalised them.

use crate::{FuncType, TranslationError, TypeKind, ValType};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// What a struct field or an array element stores: a value type, or one
/// of the packed integer types that only fields have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StorageType {
    /// An 8-bit integer, read with `_s`/`_u` extension to `i32`.
    I8,
    /// A 16-bit integer, read with `_s`/`_u` extension to `i32`.
    I16,
    /// A full value.
    Val(ValType),
}

impl StorageType {
    /// The value type a `get` pushes and a `set` pops: `i32` for the
    /// packed types.
    pub fn unpacked(self) -> ValType {
        match self {
            StorageType::I8 | StorageType::I16 => ValType::I32,
            StorageType::Val(v) => v,
        }
    }

    /// Whether it holds a reference the collector traces.
    pub fn is_traced(self) -> bool {
        matches!(self, StorageType::Val(v) if v.is_traced())
    }

    fn map_concrete(self, f: &mut impl FnMut(u32) -> u32) -> StorageType {
        match self {
            StorageType::Val(v) => StorageType::Val(v.map_concrete(f)),
            packed => packed,
        }
    }
}

/// A struct field's or an array's element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldType {
    /// What it stores.
    pub storage: StorageType,
    /// Whether `struct.set`/`array.set` may change it.
    pub mutable: bool,
}

/// A struct type: its fields, in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StructType {
    /// The fields.
    pub fields: Box<[FieldType]>,
}

/// An array type: its element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArrayType {
    /// The element type.
    pub element: FieldType,
}

/// The shape of a defined type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompositeType {
    /// A function signature.
    Func(FuncType),
    /// A struct.
    Struct(StructType),
    /// An array.
    Array(ArrayType),
}

/// A defined type: its shape and its place in the subtype hierarchy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubType {
    /// Whether no type may declare it as a supertype (`sub final`, and
    /// the shorthand without `sub`).
    pub is_final: bool,
    /// The declared supertype, if any.
    pub supertype: Option<u32>,
    /// The shape.
    pub composite: CompositeType,
}

impl SubType {
    /// A final function type with no supertype: what `(type (func ...))`
    /// declares, and what a host function's signature is.
    pub fn func(ty: FuncType) -> SubType {
        SubType {
            is_final: true,
            supertype: None,
            composite: CompositeType::Func(ty),
        }
    }

    /// What kind of type this is.
    pub fn kind(&self) -> TypeKind {
        match self.composite {
            CompositeType::Func(_) => TypeKind::Func,
            CompositeType::Struct(_) => TypeKind::Struct,
            CompositeType::Array(_) => TypeKind::Array,
        }
    }

    /// The signature, if this is a function type.
    pub fn as_func(&self) -> Option<&FuncType> {
        match &self.composite {
            CompositeType::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The struct type, if this is one.
    pub fn as_struct(&self) -> Option<&StructType> {
        match &self.composite {
            CompositeType::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// The array type, if this is one.
    pub fn as_array(&self) -> Option<&ArrayType> {
        match &self.composite {
            CompositeType::Array(a) => Some(a),
            _ => None,
        }
    }

    /// This type with every type index in it (the supertype and the
    /// concrete heap types) mapped through `f`.
    pub fn map_concrete(&self, mut f: impl FnMut(u32) -> u32) -> SubType {
        let composite = match &self.composite {
            CompositeType::Func(ft) => {
                let params: Vec<ValType> =
                    ft.params.iter().map(|&v| v.map_concrete(&mut f)).collect();
                let results: Vec<ValType> =
                    ft.results.iter().map(|&v| v.map_concrete(&mut f)).collect();
                CompositeType::Func(FuncType::new(params, results))
            }
            CompositeType::Struct(s) => CompositeType::Struct(StructType {
                fields: s
                    .fields
                    .iter()
                    .map(|fl| FieldType {
                        storage: fl.storage.map_concrete(&mut f),
                        mutable: fl.mutable,
                    })
                    .collect(),
            }),
            CompositeType::Array(a) => CompositeType::Array(ArrayType {
                element: FieldType {
                    storage: a.element.storage.map_concrete(&mut f),
                    mutable: a.element.mutable,
                },
            }),
        };
        SubType {
            is_final: self.is_final,
            supertype: self.supertype.map(&mut f),
            composite,
        }
    }

    /// Converts a wasmparser sub type; `kind_of` says what each type
    /// index names (the group's own later types included).
    pub(crate) fn from_wasmparser(
        sub: &wasmparser::SubType,
        kind_of: &dyn Fn(u32) -> TypeKind,
        offset: u64,
    ) -> Result<SubType, TranslationError> {
        let inner = &sub.composite_type;
        if inner.shared || inner.descriptor_idx.is_some() || inner.describes_idx.is_some() {
            return Err(TranslationError::unsupported(
                "shared types and custom descriptors are not supported",
                offset,
            ));
        }
        let val = |v: wasmparser::ValType| ValType::from_wasmparser(v, kind_of, offset);
        let field = |f: &wasmparser::FieldType| -> Result<FieldType, TranslationError> {
            Ok(FieldType {
                storage: match f.element_type {
                    wasmparser::StorageType::I8 => StorageType::I8,
                    wasmparser::StorageType::I16 => StorageType::I16,
                    wasmparser::StorageType::Val(v) => StorageType::Val(val(v)?),
                },
                mutable: f.mutable,
            })
        };
        let composite = match &inner.inner {
            wasmparser::CompositeInnerType::Func(f) => {
                let params = f
                    .params()
                    .iter()
                    .map(|&v| val(v))
                    .collect::<Result<Vec<_>, _>>()?;
                let results = f
                    .results()
                    .iter()
                    .map(|&v| val(v))
                    .collect::<Result<Vec<_>, _>>()?;
                CompositeType::Func(FuncType::new(params, results))
            }
            wasmparser::CompositeInnerType::Struct(s) => CompositeType::Struct(StructType {
                fields: s.fields.iter().map(field).collect::<Result<_, _>>()?,
            }),
            wasmparser::CompositeInnerType::Array(a) => CompositeType::Array(ArrayType {
                element: field(&a.0)?,
            }),
            wasmparser::CompositeInnerType::Cont(_) => {
                return Err(TranslationError::unsupported(
                    "continuation types (stack switching) are not supported",
                    offset,
                ));
            }
        };
        let supertype = match sub.supertype_idxs.first() {
            None => None,
            Some(idx) => match idx.unpack() {
                wasmparser::UnpackedIndex::Module(i) => Some(i),
                _ => {
                    return Err(TranslationError::unsupported(
                        "a supertype outside the module's index space",
                        offset,
                    ));
                }
            },
        };
        Ok(SubType {
            is_final: sub.is_final,
            supertype,
            composite,
        })
    }
}

/// The kind wasmparser's composite type declares, before it is converted
/// (a recursion group's types may name its later types).
pub(crate) fn wasmparser_kind(sub: &wasmparser::SubType) -> TypeKind {
    match sub.composite_type.inner {
        wasmparser::CompositeInnerType::Func(_) | wasmparser::CompositeInnerType::Cont(_) => {
            TypeKind::Func
        }
        wasmparser::CompositeInnerType::Struct(_) => TypeKind::Struct,
        wasmparser::CompositeInnerType::Array(_) => TypeKind::Array,
    }
}
