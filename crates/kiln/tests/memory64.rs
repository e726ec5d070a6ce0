//! memory64 memories far past 4 GiB, on both backends: contents survive
//! every growth, and growth costs what the module touches, not what it
//! maps. (A sparse memory once committed its whole length on each growth
//! past the reservation: gigabytes of copying for a few written pages.)

#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use kiln::{Config, Engine, Instance, Module, Store, Strategy};

const WAT: &str = r#"(module
  (memory i64 1)
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "store") (param i64 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i64) (result i32) (i32.load (local.get 0))))"#;

const PAGE: i64 = 65536;
const GIB: i64 = 1 << 30;

/// The process's resident memory in bytes (second field of statm, pages).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn sparse_growth(strategy: Strategy) {
    let mut config = Config::new();
    config.strategy(strategy);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<i64, i64>(&mut store, "grow")
        .unwrap();
    let store_i32 = instance
        .get_typed_func::<(i64, i32), ()>(&mut store, "store")
        .unwrap();
    let load = instance
        .get_typed_func::<i64, i32>(&mut store, "load")
        .unwrap();

    let before = resident_bytes();
    store_i32.call(&mut store, (100, 7)).unwrap();
    // To 5 GiB in one step, past any reservation.
    assert_eq!(grow.call(&mut store, (5 * GIB) / PAGE - 1).unwrap(), 1);
    let top = 5 * GIB - 4;
    store_i32.call(&mut store, (top, 9)).unwrap();
    // Then in small steps, several of which move the memory again.
    for step in 0..8 {
        let pages = 5 * GIB / PAGE + step * 64;
        assert_eq!(grow.call(&mut store, 64).unwrap(), pages);
        assert_eq!(load.call(&mut store, 100).unwrap(), 7, "step {step}");
        assert_eq!(load.call(&mut store, top).unwrap(), 9, "step {step}");
        let fresh = (pages + 64) * PAGE - 4;
        assert_eq!(load.call(&mut store, fresh).unwrap(), 0, "step {step}");
        store_i32.call(&mut store, (fresh, step as i32)).unwrap();
    }
    let grown = resident_bytes().saturating_sub(before) as i64;
    assert!(
        grown < GIB,
        "{strategy:?}: growing a sparse 5 GiB memory made {grown} bytes resident"
    );
}

#[test]
fn sparse_memory64_on_the_interpreter() {
    sparse_growth(Strategy::Interpreter);
}

#[test]
fn sparse_memory64_on_cranelift() {
    sparse_growth(Strategy::Cranelift);
}
