//! [`TypedFunc`] and the traits mapping Rust types to wasm values.

use super::Func;
use crate::FuncType;
use crate::prelude::*;
use crate::runtime::StoreOpaque;
use crate::store::AsContextMut;
use crate::types::ValType;
use crate::values::ExternRef;
use anyhow::{Result, bail};
use core::marker::PhantomData;

/// Room for the value slots of any typed call: at most 12 parameters or
/// results, two slots each for `v128`.
const MAX_TYPED_SLOTS: usize = 24;

/// A function whose type was checked once against Rust parameter and result
/// types, so calls skip dynamic checks and [`Val`](crate::Val) boxing.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P, R> core::fmt::Debug for TypedFunc<P, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TypedFunc")
            .field("func", &self.func)
            .finish()
    }
}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    pub(crate) fn new_unchecked(func: Func) -> Self {
        TypedFunc {
            func,
            _marker: PhantomData,
        }
    }

    /// The underlying function.
    pub fn func(&self) -> &Func {
        &self.func
    }

    /// Calls the function. Returns the trap or host error if the call fails.
    pub fn call(&self, mut store: impl AsContextMut, params: P) -> Result<R> {
        let inner = store.as_context_mut().0;
        inner.opaque.check(self.func.store);
        let mut slots = [0u64; MAX_TYPED_SLOTS];
        params.store_slots(&inner.opaque, &mut slots);
        inner.call_func(self.func.index, &mut slots)?;
        Ok(R::load_slots(&inner.opaque, &slots))
    }
}

/// Errors unless `ty` can be called with parameters `P` and results `R`:
/// each `P` type a subtype of the parameter's (so any value the host
/// passes is valid), each result a subtype of its `R` type (so any value
/// wasm returns converts).
pub(crate) fn check_signature<P: WasmParams, R: WasmResults>(ty: &FuncType) -> Result<()> {
    let engine = ty.engine();
    let params = P::valtypes();
    let params_ok = params.len() == ty.param_slice().len()
        && params
            .iter()
            .zip(ty.param_slice())
            .all(|(host, &wasm)| host.to_env().matches(wasm, engine));
    let results = R::valtypes();
    let results_ok = results.len() == ty.result_slice().len()
        && results
            .iter()
            .zip(ty.result_slice())
            .all(|(host, &wasm)| wasm.matches(host.to_env(), engine));
    let show = |tys: &[ValType]| {
        let names: Vec<String> = tys.iter().map(|t| t.to_string()).collect();
        format!("({})", names.join(" "))
    };
    if !params_ok {
        bail!(
            "type mismatch with parameters: expected {}, found {ty}",
            show(&params)
        );
    }
    if !results_ok {
        bail!(
            "type mismatch with results: expected {}, found {ty}",
            show(&results)
        );
    }
    Ok(())
}

/// A Rust type that is one wasm value: `i32`, `u32` (as `i32`), `i64`,
/// `u64` (as `i64`), `f32`, `f64`, `u128` (as `v128`), `Option<Func>`
/// (`funcref`) and `Option<ExternRef>` (`externref`).
pub trait WasmTy: Send + Sync + Sized + 'static {
    /// The wasm type.
    #[doc(hidden)]
    fn valtype() -> ValType;
    /// Value slots taken (two for `v128`).
    #[doc(hidden)]
    fn slots() -> usize {
        1
    }
    /// Reads the value from the start of `slots`.
    #[doc(hidden)]
    fn load(store: &StoreOpaque, slots: &[u64]) -> Self;
    /// Writes the value to the start of `slots`. Panics if it is a reference
    /// into another store.
    #[doc(hidden)]
    fn store(self, store: &StoreOpaque, slots: &mut [u64]);
}

macro_rules! int_wasm_ty {
    ($($ty:ty => $vt:ident, $via:ty;)*) => {$(
        impl WasmTy for $ty {
            fn valtype() -> ValType {
                ValType::$vt
            }
            fn load(_: &StoreOpaque, slots: &[u64]) -> Self {
                slots[0] as $via as $ty
            }
            fn store(self, _: &StoreOpaque, slots: &mut [u64]) {
                slots[0] = self as $via as u64;
            }
        }
    )*};
}

int_wasm_ty! {
    i32 => I32, u32;
    u32 => I32, u32;
    i64 => I64, u64;
    u64 => I64, u64;
}

impl WasmTy for f32 {
    fn valtype() -> ValType {
        ValType::F32
    }
    fn load(_: &StoreOpaque, slots: &[u64]) -> Self {
        f32::from_bits(slots[0] as u32)
    }
    fn store(self, _: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = u64::from(self.to_bits());
    }
}

impl WasmTy for f64 {
    fn valtype() -> ValType {
        ValType::F64
    }
    fn load(_: &StoreOpaque, slots: &[u64]) -> Self {
        f64::from_bits(slots[0])
    }
    fn store(self, _: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = self.to_bits();
    }
}

impl WasmTy for u128 {
    fn valtype() -> ValType {
        ValType::V128
    }
    fn slots() -> usize {
        2
    }
    fn load(_: &StoreOpaque, slots: &[u64]) -> Self {
        u128::from(slots[0]) | (u128::from(slots[1]) << 64)
    }
    fn store(self, _: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = self as u64;
        slots[1] = (self >> 64) as u64;
    }
}

impl WasmTy for Option<Func> {
    fn valtype() -> ValType {
        ValType::FUNCREF
    }
    fn load(store: &StoreOpaque, slots: &[u64]) -> Self {
        Func::from_bits(store, slots[0])
    }
    fn store(self, store: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = match self {
            None => 0,
            Some(f) => {
                store.check(f.store);
                // Like a handle of another store: a programming error the
                // typed interface cannot return.
                if let Err(e) = store.check_callable(f.index) {
                    panic!("{e}");
                }
                store.func_bits(f.index)
            }
        };
    }
}

impl WasmTy for Option<ExternRef> {
    fn valtype() -> ValType {
        ValType::EXTERNREF
    }
    fn load(store: &StoreOpaque, slots: &[u64]) -> Self {
        ExternRef::from_bits(store, slots[0])
    }
    fn store(self, store: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = match self {
            None => 0,
            Some(r) => u64::from(r.bits(store)),
        };
    }
}

impl WasmTy for Option<crate::AnyRef> {
    fn valtype() -> ValType {
        ValType::ANYREF
    }
    fn load(store: &StoreOpaque, slots: &[u64]) -> Self {
        crate::AnyRef::from_bits(store, slots[0])
    }
    fn store(self, store: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = match self {
            None => 0,
            Some(r) => u64::from(r.bits(store)),
        };
    }
}

impl WasmTy for Option<crate::ExnRef> {
    fn valtype() -> ValType {
        ValType::EXNREF
    }
    fn load(store: &StoreOpaque, slots: &[u64]) -> Self {
        crate::ExnRef::from_bits(store, slots[0])
    }
    fn store(self, store: &StoreOpaque, slots: &mut [u64]) {
        slots[0] = match self {
            None => 0,
            Some(e) => {
                store.check(e.store);
                // Like a handle of another store: a programming error the
                // typed interface cannot return.
                assert!(store.exns.contains(e.bits), "exnref of another store");
                e.bits
            }
        };
    }
}

/// Parameters of a typed call: a [`WasmTy`], `()`, or a tuple of up to 12
/// of them.
pub trait WasmParams: Send + Sync + Sized + 'static {
    /// The wasm types, in order.
    #[doc(hidden)]
    fn valtypes() -> Vec<ValType>;
    /// Reads the values from the start of `slots`.
    #[doc(hidden)]
    fn load_slots(store: &StoreOpaque, slots: &[u64]) -> Self;
    /// Writes the values to the start of `slots`.
    #[doc(hidden)]
    fn store_slots(self, store: &StoreOpaque, slots: &mut [u64]);
}

/// Results of a typed call: the same shapes as [`WasmParams`].
pub trait WasmResults: WasmParams {}

impl<A: WasmTy> WasmParams for A {
    fn valtypes() -> Vec<ValType> {
        vec![A::valtype()]
    }
    fn load_slots(store: &StoreOpaque, slots: &[u64]) -> Self {
        A::load(store, slots)
    }
    fn store_slots(self, store: &StoreOpaque, slots: &mut [u64]) {
        self.store(store, slots)
    }
}

impl<A: WasmTy> WasmResults for A {}

macro_rules! tuple_params {
    ($($t:ident)*) => {
        #[allow(non_snake_case, unused_mut, unused_variables, unused_assignments, clippy::unused_unit)]
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn valtypes() -> Vec<ValType> {
                vec![$($t::valtype()),*]
            }
            fn load_slots(store: &StoreOpaque, slots: &[u64]) -> Self {
                let mut pos = 0;
                $(
                    let $t = $t::load(store, &slots[pos..]);
                    pos += $t::slots();
                )*
                ($($t,)*)
            }
            fn store_slots(self, store: &StoreOpaque, slots: &mut [u64]) {
                let ($($t,)*) = self;
                let mut pos = 0;
                $(
                    $t.store(store, &mut slots[pos..]);
                    pos += $t::slots();
                )*
            }
        }

        impl<$($t: WasmTy),*> WasmResults for ($($t,)*) {}
    };
}

tuple_params!();
tuple_params!(A1);
tuple_params!(A1 A2);
tuple_params!(A1 A2 A3);
tuple_params!(A1 A2 A3 A4);
tuple_params!(A1 A2 A3 A4 A5);
tuple_params!(A1 A2 A3 A4 A5 A6);
tuple_params!(A1 A2 A3 A4 A5 A6 A7);
tuple_params!(A1 A2 A3 A4 A5 A6 A7 A8);
tuple_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
tuple_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
tuple_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
tuple_params!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);

/// What a host closure may return: a [`WasmResults`] value, or a
/// `Result` of one (whose error becomes the error of the wasm call).
pub trait WasmRet {
    /// The results carried.
    #[doc(hidden)]
    type Results: WasmResults;
    /// The results, or the closure's error.
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Results>;
}

impl<R: WasmResults> WasmRet for R {
    type Results = R;
    fn into_result(self) -> Result<R> {
        Ok(self)
    }
}

impl<R: WasmResults> WasmRet for Result<R> {
    type Results = R;
    fn into_result(self) -> Result<R> {
        self
    }
}
