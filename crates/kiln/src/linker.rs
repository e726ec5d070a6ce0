//! [`Linker`]: resolves a module's imports by name.

use crate::Engine;
use crate::externals::Extern;
use crate::func::{Caller, Func, IntoFunc, untyped_host_func};
use crate::instance::Instance;
use crate::module::Module;
use crate::prelude::*;
use crate::runtime::HostFunc;
use crate::store::{AsContext, AsContextMut};
use crate::types::FuncType;
use crate::values::Val;
use anyhow::{Result, bail};
use hashbrown::HashMap;

/// Names host functions and store items (`module::name`) so modules can be
/// instantiated by resolving their imports against them.
///
/// Host functions defined with [`func_wrap`](Linker::func_wrap) and
/// [`func_new`](Linker::func_new) belong to no store; each is created in a
/// store the first time an instance (or [`get`](Linker::get)) needs it
/// there, and that same function is used for every later instance in the
/// store (also through clones of the linker). Other items belong to the
/// store they were defined with.
pub struct Linker<T> {
    engine: Engine,
    allow_shadowing: bool,
    items: HashMap<(String, String), Definition<T>>,
}

enum Definition<T> {
    Extern(Extern),
    HostFunc(FuncType, HostFunc<T>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(ty, f) => Definition::HostFunc(ty.clone(), f.clone()),
        }
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            engine: self.engine.clone(),
            allow_shadowing: self.allow_shadowing,
            items: self.items.clone(),
        }
    }
}

impl<T> core::fmt::Debug for Linker<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Linker")
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker for `engine`.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            allow_shadowing: false,
            items: HashMap::new(),
        }
    }

    /// The linker's engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a definition may replace an earlier one of the same name
    /// (default: no, which makes that an error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    fn insert(&mut self, module: &str, name: &str, def: Definition<T>) -> Result<&mut Self> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.items.contains_key(&key) {
            bail!("import of `{module}::{name}` defined twice");
        }
        self.items.insert(key, def);
        Ok(self)
    }

    /// Defines `module::name` as a host function from a typed closure (see
    /// [`Func::wrap`]).
    pub fn func_wrap<Params, Results>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_func(&self.engine);
        self.insert(module, name, Definition::HostFunc(ty, host))
    }

    /// Defines `module::name` as a host function of type `ty` over
    /// [`Val`]s (see [`Func::new`]).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        if !Engine::same(ty.engine(), &self.engine) {
            bail!("cannot define `{module}::{name}`: its type belongs to another engine");
        }
        let host = untyped_host_func(ty.clone(), func);
        self.insert(module, name, Definition::HostFunc(ty, host))
    }

    /// Defines `module::name` as `item`, which belongs to `store`; errors if
    /// it belongs to another store.
    pub fn define(
        &mut self,
        store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        let item = item.into();
        if item.store_id() != store.as_context().0.opaque.id {
            bail!("cannot define `{module}::{name}`: the item belongs to a different store");
        }
        self.insert(module, name, Definition::Extern(item))
    }

    /// Defines every export of `instance` under module name `module_name`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        for (name, item) in instance.exports(&mut store) {
            self.insert(module_name, &name, Definition::Extern(item))?;
        }
        Ok(self)
    }

    /// Instantiates `module`, resolving each import by name. An import the
    /// linker lacks is an error naming it ("unknown import: `env::f` has not
    /// been defined").
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        let mut imports = Vec::with_capacity(module.imports().len());
        for import in module.imports() {
            match self.get(&mut store, import.module(), import.name()) {
                Some(item) => imports.push(item),
                None => bail!(
                    "unknown import: `{}::{}` has not been defined",
                    import.module(),
                    import.name()
                ),
            }
        }
        Instance::new(store, module, &imports)
    }

    /// The item defined as `module::name`, if any. For a host function
    /// defined with `func_wrap` or `func_new`, that is a function in
    /// `store`, created the first time the definition is used with the
    /// store and the same one afterwards (so instantiating repeatedly does
    /// not grow the store with copies of the host functions).
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Option<Extern> {
        let def = self.items.get(&(module.to_string(), name.to_string()))?;
        Some(match def {
            Definition::Extern(e) => *e,
            Definition::HostFunc(ty, host) => {
                let inner = store.as_context_mut().0;
                Extern::Func(Func {
                    store: inner.opaque.id,
                    index: inner.linker_host_func(ty, host),
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    /// Instantiating over and over in one store reuses the linker's host
    /// functions: the store's function count grows by the instance's own
    /// functions only (here: none), not by a copy of every import.
    #[test]
    fn repeated_instantiation_reuses_host_funcs() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (import "env" "a" (func (param i32)))
                (import "env" "b" (func (result i32)))
                (import "env" "c" (func))
                (export "a" (func 0)))"#,
        )
        .unwrap();
        let mut linker = Linker::new(&engine);
        linker.func_wrap("env", "a", |_: i32| {}).unwrap();
        linker.func_wrap("env", "b", || 7i32).unwrap();
        linker
            .func_new("env", "c", FuncType::new(&engine, [], []), |_, _, _| Ok(()))
            .unwrap();
        let mut store = Store::new(&engine, ());
        let first = linker.instantiate(&mut store, &module).unwrap();
        let count = store.inner.opaque.func_count();
        assert_eq!(count, 3);
        for _ in 0..10_000 {
            let i = linker.instantiate(&mut store, &module).unwrap();
            assert_eq!(i.get_func(&mut store, "a"), first.get_func(&mut store, "a"));
        }
        assert_eq!(store.inner.opaque.func_count(), count);
        assert_eq!(store.inner.host_funcs.len(), 3);
        // `get` hands out the same function too, and a clone of the linker
        // shares the definitions.
        let b = linker.get(&mut store, "env", "b").unwrap();
        assert_eq!(
            linker
                .clone()
                .get(&mut store, "env", "b")
                .unwrap()
                .into_func(),
            b.into_func()
        );
        // A redefinition is a different function.
        linker.allow_shadowing(true);
        linker.func_wrap("env", "b", || 8i32).unwrap();
        let b2 = linker
            .get(&mut store, "env", "b")
            .unwrap()
            .into_func()
            .unwrap();
        assert_ne!(Some(b2), b.into_func());
        assert_eq!(
            b2.typed::<(), i32>(&store)
                .unwrap()
                .call(&mut store, ())
                .unwrap(),
            8
        );
        // Another store gets its own copies.
        let mut other = Store::new(&engine, ());
        linker.instantiate(&mut other, &module).unwrap();
        assert_eq!(other.inner.opaque.func_count(), 3);
    }
}
