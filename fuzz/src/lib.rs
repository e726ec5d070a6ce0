//! What the fuzz targets share: an engine with fuel metering, and "run a
//! module": instantiate it with dummy imports, then call every exported
//! function with zero arguments.
//!
//! Errors and traps (including running out of fuel) are expected outcomes;
//! any panic, abort or sanitizer report is a bug.

use kiln::{
    Config, Engine, Extern, ExternType, Func, Global, Instance, Memory, Module, ResourceLimiter,
    Store, Table, Val, ValType,
};

/// Fuel for instantiation (the start function) and for each exported call.
/// About one unit per wasm instruction, so loops and recursion end quickly.
pub const FUEL: u64 = 100_000;

/// The largest memory a fuzzed module may create or grow to: 16 MiB.
///
/// Fuel is charged per instruction, not per byte, so one `memory.fill` or
/// `memory.copy` (or a `memory.grow`, which copies the old contents) costs
/// time in proportion to the memory's size. Without a cap, a loop of them
/// over a 4 GiB memory turns a tiny input into minutes of work (and gigabytes
/// of resident memory): a timeout that is not a bug.
pub const MAX_MEMORY_BYTES: usize = 16 << 20;

/// The largest table a fuzzed module may create or grow to, in elements.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// The engine every target uses: default features (Wasm 2.0, SIMD, tail
/// calls, extended-const) and fuel metering.
pub fn engine() -> Engine {
    let mut config = Config::new();
    config.consume_fuel(true);
    Engine::new(&config).expect("a valid configuration")
}

/// Store data: the resource limiter of [`MAX_MEMORY_BYTES`] and
/// [`MAX_TABLE_ELEMENTS`].
pub struct Limits;

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> kiln::Result<bool> {
        Ok(desired <= MAX_MEMORY_BYTES)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> kiln::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Instantiates `module` in a fresh store with a dummy for each import, then
/// calls each exported function in export order with zero (or null)
/// arguments, refilling the fuel before each call. Returns early when an
/// import cannot be made (too large for the limits) or instantiation fails.
pub fn instantiate_and_run(module: &Module) {
    let mut store = Store::new(module.engine(), Limits);
    store.limiter(|limits| limits);
    store.set_fuel(FUEL).unwrap();

    let mut imports = Vec::with_capacity(module.imports().len());
    for import in module.imports() {
        let Some(item) = dummy_extern(&mut store, import.ty()) else {
            return;
        };
        imports.push(item);
    }
    let Ok(instance) = Instance::new(&mut store, module, &imports) else {
        return;
    };

    for (_, export) in instance.exports(&mut store) {
        let Extern::Func(func) = export else { continue };
        let ty = func.ty(&store);
        // A parameter of a non-nullable reference type has no default:
        // such an export is not called.
        let Some(params) = ty
            .params()
            .map(|t| Val::default_for(&t))
            .collect::<Option<Vec<Val>>>()
        else {
            continue;
        };
        let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
        store.set_fuel(FUEL).unwrap();
        // A trap leaves the store usable: go on with the next export.
        let _ = func.call(&mut store, &params, &mut results);
    }
}

/// A dummy import of type `ty`: a function returning zeros, or a fresh
/// memory, table or global of that type holding zeros (or nulls). `None`
/// when the limiter refuses its size.
fn dummy_extern(store: &mut Store<Limits>, ty: ExternType) -> Option<Extern> {
    Some(match ty {
        // `Func::new` hands the closure results pre-filled with zeros.
        ExternType::Func(ft) => Extern::Func(Func::new(&mut *store, ft, |_, _, _| Ok(()))),
        ExternType::Memory(mt) => Extern::Memory(Memory::new(&mut *store, mt).ok()?),
        ExternType::Table(tt) => {
            let init = Val::default_for(&ValType::Ref(tt.element().clone()))?;
            Extern::Table(Table::new(&mut *store, tt, init).ok()?)
        }
        ExternType::Global(gt) => {
            let init = Val::default_for(gt.content())?;
            Extern::Global(Global::new(&mut *store, gt, init).ok()?)
        }
        // Tags and what later proposals add: not made up here.
        _ => return None,
    })
}
