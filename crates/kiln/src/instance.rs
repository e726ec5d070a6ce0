//! [`Instance`]: an instantiated module in a store.

use crate::externals::{Extern, Global, Memory, Table};
use crate::func::Func;
use crate::func::typed::{TypedFunc, WasmParams, WasmResults};
use crate::module::Module;
use crate::prelude::*;
use crate::runtime::{StoreId, StoreOpaque};
use crate::store::AsContextMut;
use anyhow::{Result, anyhow};
use kiln_environ::ExternKind;

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Instance {
    /// Instantiates `module` with `imports`, given in the order of
    /// [`Module::imports`].
    ///
    /// Follows the spec: imports are type-checked ("incompatible import
    /// type"), active element then data segments are applied in order (an
    /// out-of-bounds segment traps, keeping the writes of earlier ones to
    /// imported tables and memories), then the start function runs. Any
    /// failure is returned as the error.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let inner = store.as_context_mut().0;
        let index = crate::runtime::instantiate::instantiate(inner, module, imports)?;
        Ok(Instance {
            store: inner.opaque.id,
            index,
        })
    }

    /// The export `name`, if any.
    pub fn get_export(&self, store: impl AsContextMut, name: &str) -> Option<Extern> {
        let mut store = store;
        let store = &store.as_context_mut().0.opaque;
        store.check(self.store);
        export_by_name(store, self.index, name)
    }

    /// The exported function `name`, if there is one.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name` as a [`TypedFunc`]; errors if it is
    /// missing or its type does not match.
    pub fn get_typed_func<P: WasmParams, R: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let func = self
            .get_func(&mut store, name)
            .ok_or_else(|| anyhow!("failed to find function export `{name}`"))?;
        func.typed::<P, R>(&store).map_err(|e| {
            e.context(format!(
                "failed to convert function `{name}` to the given type"
            ))
        })
    }

    /// The exported memory `name`, if there is one.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported table `name`, if there is one.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`, if there is one.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported tag `name`, if there is one.
    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<crate::Tag> {
        self.get_export(store, name)?.into_tag()
    }

    /// All exports, in order, with their names.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<(String, Extern)> {
        let store = &store.as_context_mut().0.opaque;
        store.check(self.store);
        let data = store.instance(self.index);
        data.module
            .translation()
            .exports
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    export_extern(store, self.index, e.kind, e.index),
                )
            })
            .collect()
    }

    /// The module this is an instance of.
    pub fn module<'a, T: 'a>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a Module {
        let store = &store.into().0.opaque;
        store.check(self.store);
        &store.instance(self.index).module
    }
}

/// Export `name` of the store's instance `instance`, if any.
pub(crate) fn export_by_name(store: &StoreOpaque, instance: u32, name: &str) -> Option<Extern> {
    let data = store.instance(instance);
    let export = data
        .module
        .translation()
        .exports
        .iter()
        .find(|e| e.name == name)?;
    Some(export_extern(store, instance, export.kind, export.index))
}

fn export_extern(store: &StoreOpaque, instance: u32, kind: ExternKind, index: u32) -> Extern {
    let data = store.instance(instance);
    let id = store.id;
    let i = index as usize;
    match kind {
        ExternKind::Func => Extern::Func(Func {
            store: id,
            index: data.funcs[i],
        }),
        ExternKind::Table => Extern::Table(Table {
            store: id,
            index: data.tables[i],
        }),
        ExternKind::Memory => Extern::Memory(Memory {
            store: id,
            index: data.memories[i],
        }),
        ExternKind::Global => Extern::Global(Global {
            store: id,
            index: data.globals[i],
        }),
        ExternKind::Tag => Extern::Tag(crate::Tag {
            store: id,
            index: data.tags[i],
        }),
    }
}
