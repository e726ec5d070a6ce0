//! The `spectest` host module the spec scripts import from.
//!
//! | name | item |
//! |---|---|
//! | `print`, `print_i32`, `print_i64`, `print_f32`, `print_f64`, `print_i32_f32`, `print_f64_f64` | functions taking those parameters, returning nothing; they print nothing |
//! | `global_i32`, `global_i64` | immutable globals holding 666 |
//! | `global_f32`, `global_f64` | immutable globals holding 666.6 |
//! | `table` | a `funcref` table, 10 elements, at most 20 |
//! | `table64` | the same, indexed by `i64` |
//! | `memory` | a memory of 1 page, at most 2 |

use kiln::{
    Extern, FuncType, Global, GlobalType, Linker, Memory, MemoryType, Mutability, RefType, Store,
    Table, TableType, Val, ValType,
};

/// Defines the `spectest` module's items in `linker`, allocating its
/// globals, table and memory in `store`.
pub fn define<T: 'static>(linker: &mut Linker<T>, store: &mut Store<T>) -> kiln::Result<()> {
    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(store.engine(), params.iter().cloned(), []);
        linker.func_new("spectest", name, ty, |_caller, _params, _results| Ok(()))?;
    }

    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&*store, "spectest", name, Extern::Global(global))?;
    }

    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define(&*store, "spectest", "table", Extern::Table(table))?;
    let table64 = Table::new(
        &mut *store,
        TableType::new64(RefType::FUNCREF, 10, Some(20)),
        Val::FuncRef(None),
    )?;
    linker.define(&*store, "spectest", "table64", Extern::Table(table64))?;

    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&*store, "spectest", "memory", Extern::Memory(memory))?;
    Ok(())
}
