//! [`Func`]: a wasm or host function in a store; [`Caller`]; [`IntoFunc`].

use crate::prelude::*;
pub(crate) mod typed;

use crate::externals::Extern;
use crate::runtime::{HostFunc, StoreId, StoreInner, StoreOpaque};
use crate::store::{AsContext, AsContextMut};
use crate::values::Val;
use crate::{Engine, FuncType};
use alloc::sync::Arc;
use anyhow::{Context as _, Result, bail};
use typed::{TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};

/// A function in a store: defined by a wasm instance, or by the host.
///
/// A `Copy` handle; every operation takes the store it belongs to (using it
/// with another store panics).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Func {
    pub(crate) store: StoreId,
    pub(crate) index: u32,
}

impl Func {
    /// A host function from a Rust closure with typed parameters and
    /// results, optionally taking a [`Caller`] first.
    ///
    /// Arguments are decoded straight from the interpreter's value slots;
    /// the closure's result is a [`WasmResults`] value (a [`WasmTy`], `()`,
    /// or a tuple), or a `Result` of one, whose error becomes the error of
    /// the wasm call.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let inner = store.as_context_mut().0;
        let (ty, host) = func.into_func(&inner.opaque.engine);
        Func {
            store: inner.opaque.id,
            index: inner.push_host_func(ty, host),
        }
    }

    /// A host function of type `ty` taking and returning [`Val`]s.
    ///
    /// `func` receives the arguments and a results slice of the right
    /// length (pre-filled with zeros, nulls for references); it must store
    /// values of the result types there.
    ///
    /// # Panics
    ///
    /// If `ty` belongs to another engine than the store's.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = untyped_host_func(ty.clone(), func);
        let inner = store.as_context_mut().0;
        assert!(
            Engine::same(ty.engine(), &inner.opaque.engine),
            "the function type belongs to another engine than the store"
        );
        Func {
            store: inner.opaque.id,
            index: inner.push_host_func(ty, host),
        }
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = &store.as_context().0.opaque;
        store.check(self.store);
        store.func_type(self.index).clone()
    }

    /// Calls the function with `params`, writing its results into
    /// `results`. Errors if the number or types of `params`, or the length
    /// of `results`, do not match the function's type; returns the trap or
    /// host error if the call fails.
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let inner = store.as_context_mut().0;
        inner.opaque.check(self.store);
        let ty = inner.opaque.func_type(self.index).clone();
        if params.len() != ty.params().len() {
            bail!(
                "function of type {ty} expects {} arguments, but {} were given",
                ty.params().len(),
                params.len()
            );
        }
        if results.len() != ty.results().len() {
            bail!(
                "function of type {ty} returns {} results, but space for {} was given",
                ty.results().len(),
                results.len()
            );
        }
        let param_slots = crate::runtime::store_data::slot_count(ty.param_slice());
        let result_slots = crate::runtime::store_data::slot_count(ty.result_slice());
        let mut slots = vec![0u64; param_slots.max(result_slots).max(1) as usize];
        let mut pos = 0;
        for (i, (param, &pty)) in params.iter().zip(ty.param_slice()).enumerate() {
            param
                .check_type(&inner.opaque, pty)
                .with_context(|| format!("argument {i} of a call to a function of type {ty}"))?;
            pos += param.write_slots(&inner.opaque, &mut slots[pos..]);
        }
        inner.call_func(self.index, &mut slots)?;
        let mut pos = 0;
        for (result, &rty) in results.iter_mut().zip(ty.result_slice()) {
            let (val, n) = Val::read_slots(&inner.opaque, rty, &slots[pos..]);
            *result = val;
            pos += n;
        }
        Ok(())
    }

    /// This function as a [`TypedFunc`] with parameters `P` and results
    /// `R`; errors if they do not match its type.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<P, R>> {
        let ty = self.ty(store);
        typed::check_signature::<P, R>(&ty)?;
        Ok(TypedFunc::new_unchecked(*self))
    }

    /// The function whose `funcref` bits are `bits`, or `None` for null.
    pub(crate) fn from_bits(store: &StoreOpaque, bits: u64) -> Option<Func> {
        (bits != 0).then(|| Func {
            store: store.id,
            index: store.func_index_from_bits(bits),
        })
    }
}

/// The context a host function is called with: the store (its data and
/// its items) and the instance whose code made the call.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    pub(crate) instance: Option<u32>,
}

impl<T> Caller<'_, T> {
    /// Runs a garbage collection now (see [`Store::gc`](crate::Store::gc)):
    /// the wasm frames waiting below this host function are roots.
    pub fn gc(&mut self) {
        let store = &mut self.store.opaque;
        if store.can_collect() {
            store.collect_garbage();
        }
    }

    /// The store's embedder data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The store's embedder data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.store.opaque.engine
    }

    /// Throws `exn` into the wasm that called this host function: return
    /// the error this gives (`return caller.throw(exn)`), and the call site
    /// raises the exception, which the caller's handlers may catch.
    pub fn throw<R>(&mut self, exn: crate::ExnRef) -> Result<R, crate::ThrownException> {
        Err(self.store.opaque.throw_exn(exn))
    }

    /// The calling instance's export `name`, if the function was called from
    /// wasm and the instance has such an export.
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.instance?;
        crate::instance::export_by_name(&self.store.opaque, instance, name)
    }
}

/// Closures that can become host functions: `Fn(A1, …, An) -> R` and
/// `Fn(Caller<'_, T>, A1, …, An) -> R` for up to 12 [`WasmTy`] arguments,
/// where `R` is a [`WasmRet`]. `Params` and `Results` are only markers that
/// tell the two shapes apart.
pub trait IntoFunc<T, Params, Results>: Send + Sync + 'static {
    /// The function's type (registered in `engine`) and its slot-level
    /// trampoline.
    #[doc(hidden)]
    fn into_func(self, engine: &Engine) -> (FuncType, HostFunc<T>);
}

macro_rules! impl_into_func {
    ($($arg:ident)*) => {
        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
        impl<T: 'static, F, $($arg,)* R> IntoFunc<T, ($($arg,)*), R> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            $($arg: WasmTy,)*
            R: WasmRet,
        {
            fn into_func(self, engine: &Engine) -> (FuncType, HostFunc<T>) {
                let ty = FuncType::new(engine, [$($arg::valtype()),*], R::Results::valtypes());
                let host: HostFunc<T> = Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| {
                    let store = &caller.store.opaque;
                    let mut pos = 0;
                    $(
                        let $arg = $arg::load(store, &slots[pos..]);
                        pos += $arg::slots();
                    )*
                    let results = self($($arg),*).into_result()?;
                    results.store_slots(store, slots);
                    Ok(())
                });
                (ty, host)
            }
        }

        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments)]
        impl<T: 'static, F, $($arg,)* R> IntoFunc<T, (Caller<'_, T>, $($arg,)*), R> for F
        where
            F: Fn(Caller<'_, T>, $($arg),*) -> R + Send + Sync + 'static,
            $($arg: WasmTy,)*
            R: WasmRet,
        {
            fn into_func(self, engine: &Engine) -> (FuncType, HostFunc<T>) {
                let ty = FuncType::new(engine, [$($arg::valtype()),*], R::Results::valtypes());
                let host: HostFunc<T> = Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| {
                    let Caller { store, instance } = caller;
                    let mut pos = 0;
                    $(
                        let $arg = $arg::load(&store.opaque, &slots[pos..]);
                        pos += $arg::slots();
                    )*
                    let results = self(Caller { store: &mut *store, instance }, $($arg),*).into_result()?;
                    results.store_slots(&store.opaque, slots);
                    Ok(())
                });
                (ty, host)
            }
        }
    };
}

impl_into_func!();
impl_into_func!(A1);
impl_into_func!(A1 A2);
impl_into_func!(A1 A2 A3);
impl_into_func!(A1 A2 A3 A4);
impl_into_func!(A1 A2 A3 A4 A5);
impl_into_func!(A1 A2 A3 A4 A5 A6);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
impl_into_func!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);

/// Wraps a [`Val`]-based closure as a slot-level host function of type
/// `ty`.
pub(crate) fn untyped_host_func<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> HostFunc<T> {
    Arc::new(move |caller: Caller<'_, T>, slots: &mut [u64]| {
        let Caller { store, instance } = caller;
        let mut params = Vec::with_capacity(ty.params().len());
        let mut pos = 0;
        for &pty in ty.param_slice() {
            let (val, n) = Val::read_slots(&store.opaque, pty, &slots[pos..]);
            params.push(val);
            pos += n;
        }
        // Non-nullable reference results start as null too: the check
        // below fails unless the host function replaced them.
        let mut results: Vec<Val> = ty
            .result_slice()
            .iter()
            .map(|&t| {
                Val::default_for_env(t).unwrap_or(match t.as_ref_type() {
                    Some(r) if !r.is_func() => Val::ExternRef(None),
                    _ => Val::FuncRef(None),
                })
            })
            .collect();
        func(
            Caller {
                store: &mut *store,
                instance,
            },
            &params,
            &mut results,
        )?;
        let mut pos = 0;
        for (i, (val, &rty)) in results.iter().zip(ty.result_slice()).enumerate() {
            val.check_type(&store.opaque, rty)
                .with_context(|| format!("result {i} of a host function of type {ty}"))?;
            pos += val.write_slots(&store.opaque, &mut slots[pos..]);
        }
        Ok(())
    })
}
