//! The engine-wide registry of canonical types.
//!
//! Every defined type an engine sees (a module's type section, a host
//! function's signature, a struct or array type made by the embedder) is
//! interned here by its recursion group, so that structurally equal groups
//! of two modules get the same ids. An id is what the runtime and the
//! backends compare: `call_indirect` compares a function's id with the
//! expected one, and a cast checks one entry of the object's type's
//! supertype chain.
//!
//! A group is keyed by its types with every type index rewritten: an index
//! of an earlier group becomes that group's registry id, an index of the
//! group itself becomes [`REC_BASE`] plus its position in the group (the
//! group's own ids are not known before it is interned). Registered types
//! are never removed: an id stays valid for the engine's life.

use crate::prelude::*;
use alloc::sync::Arc;
use anyhow::{Result, bail};
use hashbrown::HashMap;
use kiln_environ::{FuncType, SubType, SubtypeOracle};

/// How a registry key writes a reference to the `k`-th type of its own
/// recursion group: `REC_BASE + k`. Registry ids stay below it.
pub(crate) const REC_BASE: u32 = 0x8000_0000;

/// A canonical type and what casts and calls need to know about it.
#[derive(Debug)]
pub(crate) struct RegisteredType {
    /// The type, with every type index a registry id.
    pub(crate) sub: SubType,
    /// The supertype chain, from the root of the hierarchy down to this
    /// type itself: `self` is a subtype of `t` exactly when `t` is at
    /// index `depth(t)` of this chain.
    pub(crate) supers: Box<[u32]>,
    /// The signature, for a function type (shared with the public
    /// `FuncType` handles).
    pub(crate) func: Option<Arc<FuncType>>,
}

impl RegisteredType {
    /// How many supertypes this type has above it.
    pub(crate) fn depth(&self) -> usize {
        self.supers.len() - 1
    }
}

/// The registry itself; the engine holds it behind a lock.
#[derive(Default)]
pub(crate) struct TypeRegistry {
    /// Each interned group's key, and the id of its first type.
    groups: HashMap<Box<[SubType]>, u32>,
    /// Each id's type.
    types: Vec<Arc<RegisteredType>>,
}

impl TypeRegistry {
    /// The ids of the types of the recursion group `key` (written as the
    /// module docs say), interning it on first sight. Errors if the
    /// engine has run out of ids.
    pub(crate) fn register_group(&mut self, key: &[SubType]) -> Result<core::ops::Range<u32>> {
        let n = key.len() as u32;
        if let Some(&first) = self.groups.get(key) {
            return Ok(first..first + n);
        }
        let first = self.types.len() as u32;
        if first.checked_add(n).is_none_or(|end| end > REC_BASE) {
            bail!("too many distinct types in one engine");
        }
        for (k, ty) in key.iter().enumerate() {
            let id = first + k as u32;
            let sub = ty.map_concrete(|i| {
                if i >= REC_BASE {
                    first + (i - REC_BASE)
                } else {
                    i
                }
            });
            let supers = match sub.supertype {
                Some(sup) => {
                    let mut chain = self.types[sup as usize].supers.to_vec();
                    chain.push(id);
                    chain.into_boxed_slice()
                }
                None => Box::new([id]),
            };
            let func = sub.as_func().map(|f| Arc::new(f.clone()));
            self.types
                .push(Arc::new(RegisteredType { sub, supers, func }));
        }
        self.groups.insert(key.into(), first);
        Ok(first..first + n)
    }

    /// The type registered as `id`.
    pub(crate) fn get(&self, id: u32) -> &Arc<RegisteredType> {
        &self.types[id as usize]
    }
}

impl SubtypeOracle for TypeRegistry {
    fn is_subtype(&self, sub: u32, sup: u32) -> bool {
        let depth = self.types[sup as usize].depth();
        self.types[sub as usize].supers.get(depth) == Some(&sup)
    }
}

/// Rewrites the recursion group `group` of a module (its type indices in
/// `types`) into a registry key, given the ids of the module's earlier
/// types.
pub(crate) fn group_key(
    types: &[SubType],
    group: core::ops::Range<u32>,
    earlier_ids: &[u32],
) -> Box<[SubType]> {
    types[group.start as usize..group.end as usize]
        .iter()
        .map(|t| {
            t.map_concrete(|i| {
                if i >= group.start {
                    REC_BASE + (i - group.start)
                } else {
                    earlier_ids[i as usize]
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_environ::{CompositeType, HeapType, RefType, StructType, TypeKind, ValType};

    fn struct_of(fields: &[ValType], supertype: Option<u32>) -> SubType {
        SubType {
            is_final: false,
            supertype,
            composite: CompositeType::Struct(StructType {
                fields: fields
                    .iter()
                    .map(|&v| kiln_environ::FieldType {
                        storage: kiln_environ::StorageType::Val(v),
                        mutable: false,
                    })
                    .collect(),
            }),
        }
    }

    fn ref_to(i: u32) -> ValType {
        ValType::Ref(RefType {
            nullable: true,
            heap: HeapType::Concrete(TypeKind::Struct, i),
        })
    }

    #[test]
    fn equal_groups_share_ids_and_chains_answer_subtyping() {
        let mut reg = TypeRegistry::default();
        // (rec (type $a (sub (struct (field (ref null $a))))))
        let a = reg
            .register_group(&[struct_of(&[ref_to(REC_BASE)], None)])
            .unwrap();
        let again = reg
            .register_group(&[struct_of(&[ref_to(REC_BASE)], None)])
            .unwrap();
        assert_eq!(a, again);
        // (type $b (sub $a (struct (field (ref null $a)) (field i32))))
        let b = reg
            .register_group(&[struct_of(&[ref_to(a.start), ValType::I32], Some(a.start))])
            .unwrap();
        assert_ne!(a.start, b.start);
        assert!(reg.is_subtype(b.start, a.start));
        assert!(!reg.is_subtype(a.start, b.start));
        assert!(reg.is_subtype(a.start, a.start));
        // A group of two differs from its first type alone.
        let pair = reg
            .register_group(&[struct_of(&[ref_to(REC_BASE)], None), struct_of(&[], None)])
            .unwrap();
        assert_eq!(pair.len(), 2);
        assert_ne!(pair.start, a.start);
        // The canonical type names ids, not group positions.
        let field = reg.get(a.start).sub.as_struct().unwrap().fields[0];
        assert_eq!(field.storage.unpacked(), ref_to(a.start));
    }
}
