//! Feeds arbitrary bytes to `Module::new`. When they form a valid module, it
//! is instantiated with dummy imports and every exported function is called
//! with zero arguments under a fuel budget, so loops terminate. Any panic,
//! crash or sanitizer report is a bug; errors and traps are expected.

#![no_main]

use kiln::{Config, Engine, Extern, ExternType, Func, Global, Memory, Module, Store, Table, Val, ValType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut config = Config::new();
    config.consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let Ok(module) = Module::from_binary(&engine, data) else {
        return;
    };
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000).unwrap();
    let mut imports = Vec::new();
    for import in module.imports() {
        let Some(item) = dummy_extern(&mut store, import.ty()) else {
            return;
        };
        imports.push(item);
    }
    let Ok(instance) = kiln::Instance::new(&mut store, &module, &imports) else {
        return;
    };
    for (_, export) in instance.exports(&mut store) {
        let Extern::Func(func) = export else { continue };
        let ty = func.ty(&store);
        let params: Vec<Val> = ty.params().map(zero).collect();
        let mut results: Vec<Val> = ty.results().map(zero).collect();
        // Traps and fuel exhaustion are expected outcomes; the store must
        // stay usable, so refill and go on.
        let _ = func.call(&mut store, &params, &mut results);
        store.set_fuel(100_000).unwrap();
    }
});

fn zero(ty: ValType) -> Val {
    match ty {
        ValType::I32 => Val::I32(0),
        ValType::I64 => Val::I64(0),
        ValType::F32 => Val::F32(0),
        ValType::F64 => Val::F64(0),
        ValType::V128 => Val::V128(0),
        ValType::FuncRef => Val::FuncRef(None),
        ValType::ExternRef => Val::ExternRef(None),
    }
}

fn dummy_extern(store: &mut Store<()>, ty: ExternType) -> Option<Extern> {
    Some(match ty {
        ExternType::Func(ft) => {
            let results: Vec<ValType> = ft.results().collect();
            Extern::Func(Func::new(&mut *store, ft, move |_, _, out| {
                for (slot, ty) in out.iter_mut().zip(&results) {
                    *slot = zero(*ty);
                }
                Ok(())
            }))
        }
        ExternType::Memory(mt) => Extern::Memory(Memory::new(&mut *store, mt).ok()?),
        ExternType::Table(tt) => {
            let init = zero(tt.element());
            Extern::Table(Table::new(&mut *store, tt, init).ok()?)
        }
        ExternType::Global(gt) => {
            let init = zero(gt.content());
            Extern::Global(Global::new(&mut *store, gt, init).ok()?)
        }
    })
}
