//! The public struct and array types of the GC proposal: [`StructType`],
//! [`ArrayType`], and the [`FieldType`]s they are made of.
//!
//! Like [`FuncType`](crate::FuncType), each is a handle on a canonical type
//! in its engine's registry, so two equal types compare equal in O(1),
//! whichever module or host call made them.

use super::{Mutability, ValType};
use crate::Engine;
use crate::type_registry::RegisteredType;
use alloc::sync::Arc;
use core::fmt;
use kiln_environ as env;

/// What a struct field or array element stores.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StorageType {
    /// An 8-bit integer (read as an `i32`, sign- or zero-extended).
    I8,
    /// A 16-bit integer (read as an `i32`, sign- or zero-extended).
    I16,
    /// A value of a value type.
    ValType(ValType),
}

/// A struct field's or an array's element type: what it stores, and
/// whether it can change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldType {
    mutability: Mutability,
    element: StorageType,
}

impl FieldType {
    /// A field storing `element`.
    pub fn new(mutability: Mutability, element: StorageType) -> FieldType {
        FieldType {
            mutability,
            element,
        }
    }

    /// Whether the field can be set after allocation.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }

    /// What the field stores.
    pub fn element_type(&self) -> &StorageType {
        &self.element
    }

    fn to_env(&self, engine: &Engine) -> crate::Result<env::FieldType> {
        let storage = match &self.element {
            StorageType::I8 => env::StorageType::I8,
            StorageType::I16 => env::StorageType::I16,
            StorageType::ValType(v) => {
                if let Some(e) = v.engine() {
                    anyhow::ensure!(
                        Engine::same(e, engine),
                        "a field type cannot name a type of another engine"
                    );
                }
                env::StorageType::Val(v.to_env())
            }
        };
        Ok(env::FieldType {
            storage,
            mutable: self.mutability == Mutability::Var,
        })
    }

    fn from_env(engine: &Engine, f: env::FieldType) -> FieldType {
        FieldType {
            mutability: if f.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
            element: match f.storage {
                env::StorageType::I8 => StorageType::I8,
                env::StorageType::I16 => StorageType::I16,
                env::StorageType::Val(v) => StorageType::ValType(ValType::from_env(engine, v)),
            },
        }
    }
}

/// A struct type, registered in an engine.
#[derive(Clone)]
pub struct StructType {
    engine: Engine,
    id: u32,
    ty: Arc<RegisteredType>,
}

impl StructType {
    /// The final struct type with `fields` (in order) and no supertype,
    /// registered in `engine`. Errors if a field names a type of another
    /// engine.
    pub fn new(
        engine: &Engine,
        fields: impl IntoIterator<Item = FieldType>,
    ) -> crate::Result<Self> {
        let fields = fields
            .into_iter()
            .map(|f| f.to_env(engine))
            .collect::<crate::Result<_>>()?;
        let sub = env::SubType {
            is_final: true,
            supertype: None,
            composite: env::CompositeType::Struct(env::StructType { fields }),
        };
        Ok(Self::registered(engine, engine.register_type(sub)?))
    }

    /// The struct type registered as `id` in `engine`.
    pub(crate) fn registered(engine: &Engine, id: u32) -> StructType {
        StructType {
            engine: engine.clone(),
            id,
            ty: engine.registered_type(id),
        }
    }

    /// The fields, in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = FieldType> + '_ {
        let s = self.ty.sub.as_struct().expect("a struct type");
        s.fields
            .iter()
            .map(|&f| FieldType::from_env(&self.engine, f))
    }

    /// Field `i`, if there is one.
    pub fn field(&self, i: usize) -> Option<FieldType> {
        let s = self.ty.sub.as_struct().expect("a struct type");
        s.fields
            .get(i)
            .map(|&f| FieldType::from_env(&self.engine, f))
    }

    /// The engine this type belongs to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether `self` is `other` or declares it among its supertypes.
    pub fn matches(&self, other: &StructType) -> bool {
        Engine::same(&self.engine, &other.engine)
            && env::SubtypeOracle::is_subtype(&self.engine, self.id, other.id)
    }

    /// Its id in the engine's registry.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

/// An array type, registered in an engine.
#[derive(Clone)]
pub struct ArrayType {
    engine: Engine,
    id: u32,
    ty: Arc<RegisteredType>,
}

impl ArrayType {
    /// The final array type of `element`s with no supertype, registered in
    /// `engine`. Errors if the element names a type of another engine.
    pub fn new(engine: &Engine, element: FieldType) -> crate::Result<Self> {
        let sub = env::SubType {
            is_final: true,
            supertype: None,
            composite: env::CompositeType::Array(env::ArrayType {
                element: element.to_env(engine)?,
            }),
        };
        Ok(Self::registered(engine, engine.register_type(sub)?))
    }

    /// The array type registered as `id` in `engine`.
    pub(crate) fn registered(engine: &Engine, id: u32) -> ArrayType {
        ArrayType {
            engine: engine.clone(),
            id,
            ty: engine.registered_type(id),
        }
    }

    /// The element type.
    pub fn element_type(&self) -> FieldType {
        let a = self.ty.sub.as_array().expect("an array type");
        FieldType::from_env(&self.engine, a.element)
    }

    /// The engine this type belongs to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether `self` is `other` or declares it among its supertypes.
    pub fn matches(&self, other: &ArrayType) -> bool {
        Engine::same(&self.engine, &other.engine)
            && env::SubtypeOracle::is_subtype(&self.engine, self.id, other.id)
    }

    /// Its id in the engine's registry.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }
}

macro_rules! registered_type_traits {
    ($t:ident, $what:literal) => {
        impl PartialEq for $t {
            fn eq(&self, other: &$t) -> bool {
                self.id == other.id && Engine::same(&self.engine, &other.engine)
            }
        }

        impl Eq for $t {}

        impl core::hash::Hash for $t {
            fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
                self.id.hash(state);
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", $what, self.id)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", $what, self.id)
            }
        }
    };
}

registered_type_traits!(StructType, "struct");
registered_type_traits!(ArrayType, "array");
