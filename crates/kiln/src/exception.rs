//! Exceptions at the API: [`Tag`] and [`TagType`], [`ExnRef`] (an exception
//! object), and [`ThrownException`], the error of a call an exception left.
//!
//! As in Wasmtime, a store has one *pending exception* slot. A wasm
//! exception nothing caught ends the call into wasm with a
//! [`ThrownException`] error and leaves the exception in that slot, where
//! [`Store::take_pending_exception`](crate::Store::take_pending_exception)
//! finds it. A host function throws into wasm by putting an exception there
//! and returning the error ([`Caller::throw`](crate::Caller::throw)).

use crate::prelude::*;
use crate::runtime::{StoreId, StoreOpaque};
use crate::store::{AsContext, AsContextMut};
use crate::types::FuncType;
use crate::values::Val;
use anyhow::{Result, bail};
use core::fmt;

/// The type of a tag: the function type whose parameters are the payload
/// of its exceptions (it has no results).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// A tag type with `ty`'s parameters as the payload.
    pub fn new(ty: FuncType) -> TagType {
        TagType { ty }
    }

    /// The function type.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(tag")?;
        for p in self.ty.params() {
            write!(f, " (param {p})")?;
        }
        f.write_str(")")
    }
}

/// An exception tag in a store. Tags are compared by identity: two tags of
/// the same type are different tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Tag {
    /// A new tag of type `ty`; errors if the type has results or belongs
    /// to another engine.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let store = &mut store.as_context_mut().0.opaque;
        if !crate::Engine::same(ty.ty.engine(), &store.engine) {
            bail!("the tag's type belongs to another engine than the store");
        }
        if ty.ty.results().len() != 0 {
            bail!("a tag's function type cannot have results: {}", ty.ty);
        }
        Ok(Tag {
            store: store.id,
            index: store.push_tag(ty.ty.clone()),
        })
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        TagType::new(store.tag_type(self.index).clone())
    }
}

/// A reference to an exception object: a tag and the values it carries.
/// Passed to and from wasm as an `exnref`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExnRef {
    pub(crate) store: StoreId,
    pub(crate) bits: u64,
}

impl ExnRef {
    /// A new exception of `tag` carrying `fields`, which must match the
    /// tag's parameters.
    pub fn new(mut store: impl AsContextMut, tag: &Tag, fields: &[Val]) -> Result<ExnRef> {
        let store = &mut store.as_context_mut().0.opaque;
        store.check(tag.store);
        let ty = store.tag_type(tag.index).clone();
        if fields.len() != ty.param_slice().len() {
            bail!(
                "tag of type {ty} carries {} values, but {} were given",
                ty.param_slice().len(),
                fields.len()
            );
        }
        let mut slots =
            vec![0u64; crate::runtime::store_data::slot_count(ty.param_slice()) as usize];
        let mut pos = 0;
        for (i, (v, &t)) in fields.iter().zip(ty.param_slice()).enumerate() {
            v.check_type(store, t)
                .map_err(|e| e.context(format!("field {i} of an exception of type {ty}")))?;
            pos += v.write_slots(store, &mut slots[pos..]);
        }
        let bits = store.exns.alloc(tag.index, &slots);
        store.exns.expose(bits);
        Ok(ExnRef {
            store: store.id,
            bits,
        })
    }

    /// The exception's tag.
    pub fn tag(&self, store: impl AsContext) -> Tag {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        Tag {
            store: store.id,
            index: store.exns.get(self.bits).tag,
        }
    }

    /// The values the exception carries.
    pub fn fields(&self, store: impl AsContext) -> Vec<Val> {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        let object = store.exns.get(self.bits);
        let ty = store.tag_type(object.tag);
        let mut out = Vec::with_capacity(ty.param_slice().len());
        let mut pos = 0;
        for &t in ty.param_slice() {
            let (v, n) = Val::read_slots(store, t, &object.payload[pos..]);
            out.push(v);
            pos += n;
        }
        out
    }

    /// Field `index` of the exception, if it has one.
    pub fn field(&self, store: impl AsContext, index: usize) -> Option<Val> {
        self.fields(store).get(index).copied()
    }

    /// The exception of `bits` (0: null) in `store`. Every exception wasm
    /// code holds as a value is exposed already, so it stays valid.
    pub(crate) fn from_bits(store: &StoreOpaque, bits: u64) -> Option<ExnRef> {
        (bits != 0).then_some(ExnRef {
            store: store.id,
            bits,
        })
    }
}

/// The error of a call that an exception ended: wasm threw it and nothing
/// caught it (the exception is then the store's pending exception), or a
/// host function is throwing one into wasm.
#[derive(Clone, Debug)]
pub struct ThrownException {
    pub(crate) description: String,
}

impl fmt::Display for ThrownException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl core::error::Error for ThrownException {}

impl StoreOpaque {
    /// The error for exception `bits` leaving wasm, naming its tag: the
    /// name an instance exports it under, if any, and its type.
    pub(crate) fn thrown(&mut self, bits: u64) -> ThrownException {
        let tag = self.exns.get(bits).tag;
        self.exns.expose(bits);
        self.pending_exception = Some(bits);
        let name = self.instances.iter().find_map(|inst| {
            let t = inst.module.translation();
            t.exports.iter().find_map(|e| {
                (e.kind == kiln_environ::ExternKind::Tag && inst.tags[e.index as usize] == tag)
                    .then(|| format!("`{}`", e.name))
            })
        });
        let ty = TagType::new(self.tag_type(tag).clone());
        let name = name.unwrap_or_else(|| format!("#{tag}"));
        ThrownException {
            description: format!("uncaught wasm exception of tag {name} {ty}"),
        }
    }

    /// Makes `exn` the pending exception and returns the error a host
    /// function returns to throw it.
    pub(crate) fn throw_exn(&mut self, exn: ExnRef) -> ThrownException {
        self.check(exn.store);
        self.thrown(exn.bits)
    }
}
