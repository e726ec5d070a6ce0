//! Differential testing of Kiln's backends on `wasm-smith` modules with
//! the GC proposal (and typed function references, tail calls and
//! exceptions) enabled: each module runs on the interpreter, on Cranelift
//! on the baseline compiler (x86-64 hosts; with fallback, so its
//! functions and Cranelift's call each other) and tiered (threshold 1,
//! synchronous: baseline code on a function's first call, optimized from
//! its second, loops moving by on-stack replacement), and every exported
//! call must give the same results or the same trap.
//!
//! Both engines run with `Config::gc_stress`: every allocation that may
//! collect does, and the heap is verified after each collection, so a
//! reference the collector misses (a root left out of a stack map or a
//! slot table) fails at once, as a verifier panic or a mismatch.
//!
//! Not a libFuzzer target: a plain loop over seeded pseudo-random inputs,
//! so it needs no nightly toolchain or sanitizer and reports a rate.
//!
//! ```text
//! cd fuzz && cargo run --release --bin smith_diff -- SECONDS [FIRST_SEED] [core]
//! ```
//!
//! `core` leaves out GC, exceptions, tail calls and reference types, so
//! nearly every function is one the baseline compiler translates itself
//! rather than handing to Cranelift.
//!
//! A mismatch prints the seed and saves the module as
//! `$TMPDIR/smith_diff-SEED.wasm`, then exits non-zero.

use arbitrary::{Arbitrary, Unstructured};
use kiln::{
    Config, Engine, Extern, ExternType, Func, Global, Instance, Module, Store, Strategy, Table,
    Trap, Val,
};
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let core = args.next().as_deref() == Some("core");
    let mut engines = vec![engine(Strategy::Interpreter), engine(Strategy::Cranelift)];
    if cfg!(target_arch = "x86_64") {
        engines.push(engine(Strategy::Baseline));
        engines.push(engine(Strategy::Tiered));
    }
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut stats = Stats::default();
    while Instant::now() < end {
        run_seed(&engines, seed, core, &mut stats);
        seed += 1;
    }
    println!(
        "smith_diff: {} seeds, {} modules, {} calls compared ({} with a GC type), {} calls cut short by fuel or stack on one side",
        stats.seeds, stats.modules, stats.calls, stats.gc_modules, stats.cut
    );
}

#[derive(Default)]
struct Stats {
    seeds: u64,
    modules: u64,
    gc_modules: u64,
    calls: u64,
    cut: u64,
}

fn engine(strategy: Strategy) -> Engine {
    let mut config = Config::new();
    config.strategy(strategy);
    // Tiered code at its most eager: every function optimized from its
    // second call, every loop entered by on-stack replacement at once.
    config.tier_threshold(1).tier_synchronously(true);
    config.consume_fuel(true);
    config.max_gc_heap_size(16 << 20);
    config.gc_stress(true);
    Engine::new(&config).expect("a valid configuration")
}

/// A pseudo-random input of 1–32 KiB from `seed` (splitmix64).
fn input(seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = move || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let len = 1024 + (next() % (31 * 1024)) as usize;
    (0..len).map(|_| next() as u8).collect()
}

fn smith_config(u: &mut Unstructured<'_>) -> arbitrary::Result<wasm_smith::Config> {
    let mut c = wasm_smith::Config::arbitrary(u)?;
    c.reference_types_enabled = true;
    c.gc_enabled = true;
    c.tail_call_enabled = true;
    c.exceptions_enabled = true;
    c.bulk_memory_enabled = true;
    c.multi_value_enabled = true;
    c.sign_extension_ops_enabled = true;
    c.saturating_float_to_int_enabled = true;
    c.extended_const_enabled = true;
    // NaN payloads of SIMD and relaxed SIMD results may differ between
    // backends; the scalar ones are compared modulo NaN payload below.
    c.simd_enabled = false;
    c.relaxed_simd_enabled = false;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.custom_descriptors_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.memory64_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.compact_imports_enabled = false;
    c.multibyte_array_access_enabled = false;
    c.max_memory32_bytes = 16 << 20;
    c.max_table_elements = 100_000;
    // Every function is called, not only those the generator exported.
    c.export_everything = true;
    Ok(c)
}

/// The outcome of one call, in backend-neutral terms.
#[derive(Debug, PartialEq)]
enum Outcome {
    Values(Vec<Shape>),
    Trap(String),
    /// Out of fuel or stack: the backends count both differently.
    Resource,
}

/// A result value, compared as both backends must agree on it.
#[derive(Debug, PartialEq)]
enum Shape {
    Bits(u128),
    Nan32,
    Nan64,
    Null,
    Func,
    Extern,
    I31(u32),
    Struct,
    Array,
    Host,
    Exn,
}

fn shape(store: &Store<()>, v: &Val) -> Shape {
    match v {
        Val::I32(x) => Shape::Bits(*x as u32 as u128),
        Val::I64(x) => Shape::Bits(*x as u64 as u128),
        Val::F32(b) if f32::from_bits(*b).is_nan() => Shape::Nan32,
        Val::F64(b) if f64::from_bits(*b).is_nan() => Shape::Nan64,
        Val::F32(b) => Shape::Bits(u128::from(*b)),
        Val::F64(b) => Shape::Bits(u128::from(*b)),
        Val::V128(b) => Shape::Bits(*b),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
            Shape::Null
        }
        Val::FuncRef(Some(_)) => Shape::Func,
        Val::ExternRef(Some(_)) => Shape::Extern,
        Val::ExnRef(Some(_)) => Shape::Exn,
        Val::AnyRef(Some(r)) => match r.as_i31() {
            Some(i) => Shape::I31(i.get_u32()),
            None if r.is_struct(store) => Shape::Struct,
            None if r.is_array(store) => Shape::Array,
            None => Shape::Host,
        },
    }
}

/// Instantiates `bytes` on `engine` and calls every export; `None` when
/// the module does not compile or instantiate there.
fn run(engine: &Engine, bytes: &[u8]) -> Option<Vec<Outcome>> {
    let module = Module::new(engine, bytes).ok()?;
    let mut store = Store::new(engine, ());
    store.set_fuel(100_000).ok()?;
    let mut imports = Vec::new();
    for import in module.imports() {
        imports.push(dummy(&mut store, import.ty())?);
    }
    let instance = Instance::new(&mut store, &module, &imports).ok()?;
    let mut out = Vec::new();
    let exports: Vec<Extern> = instance
        .exports(&mut store)
        .into_iter()
        .map(|(_, e)| e)
        .collect();
    for export in exports {
        let Extern::Func(func) = export else { continue };
        let ty = func.ty(&store);
        let Some(params) = ty
            .params()
            .map(|t| Val::default_for(&t))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
        store.set_fuel(100_000).ok()?;
        let outcome = match func.call(&mut store, &params, &mut results) {
            Ok(()) => Outcome::Values(results.iter().map(|v| shape(&store, v)).collect()),
            Err(e) => match e.downcast_ref::<Trap>().and_then(|t| t.code()) {
                Some(kiln::TrapCode::OutOfFuel | kiln::TrapCode::StackOverflow) => {
                    Outcome::Resource
                }
                Some(code) => Outcome::Trap(format!("{code:?}")),
                None => Outcome::Trap("error".into()),
            },
        };
        let stop = outcome == Outcome::Resource;
        out.push(outcome);
        if stop {
            // The store's state may differ from here on.
            break;
        }
    }
    Some(out)
}

fn dummy(store: &mut Store<()>, ty: ExternType) -> Option<Extern> {
    Some(match ty {
        ExternType::Func(ft) => Extern::Func(Func::new(&mut *store, ft, |_, _, _| Ok(()))),
        ExternType::Memory(mt) => Extern::Memory(kiln::Memory::new(&mut *store, mt).ok()?),
        ExternType::Table(tt) => {
            let init = Val::default_for(&kiln::ValType::Ref(tt.element().clone()))?;
            Extern::Table(Table::new(&mut *store, tt, init).ok()?)
        }
        ExternType::Global(gt) => {
            let init = Val::default_for(gt.content())?;
            Extern::Global(Global::new(&mut *store, gt, init).ok()?)
        }
        _ => return None,
    })
}

/// The backends' names, in `engines` order.
const NAMES: [&str; 4] = ["interpreter", "Cranelift", "baseline", "tiered"];

fn run_seed(engines: &[Engine], seed: u64, core: bool, stats: &mut Stats) {
    stats.seeds += 1;
    let data = input(seed);
    let mut u = Unstructured::new(&data);
    let Ok(mut config) = smith_config(&mut u) else {
        return;
    };
    if core {
        config.gc_enabled = false;
        config.exceptions_enabled = false;
        config.tail_call_enabled = false;
        config.reference_types_enabled = false;
    }
    let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
        return;
    };
    let bytes = module.to_bytes();
    let outcomes: Vec<Option<Vec<Outcome>>> = engines.iter().map(|e| run(e, &bytes)).collect();
    if outcomes.iter().any(Option::is_none) {
        // Every backend must accept a valid module; one refusing is a bug
        // too.
        let ok: Vec<bool> = engines
            .iter()
            .map(|e| Module::new(e, &bytes).is_ok())
            .collect();
        if ok.iter().any(|&k| k != ok[0]) {
            let what: Vec<String> = ok
                .iter()
                .zip(NAMES)
                .map(|(k, n)| format!("{n}: {k}"))
                .collect();
            fail(seed, &bytes, &format!("compiles on {}", what.join(", ")));
        }
        return;
    }
    let outcomes: Vec<Vec<Outcome>> = outcomes.into_iter().map(Option::unwrap).collect();
    stats.modules += 1;
    if wasmparser_has_gc_types(&bytes) {
        stats.gc_modules += 1;
    }
    let a = &outcomes[0];
    for (k, other) in outcomes.iter().enumerate().skip(1) {
        for (i, (x, y)) in a.iter().zip(other).enumerate() {
            if *x == Outcome::Resource || *y == Outcome::Resource {
                stats.cut += 1;
                break;
            }
            stats.calls += 1;
            if x != y {
                let name = NAMES[k];
                fail(
                    seed,
                    &bytes,
                    &format!("export call {i}: interpreter {x:?}, {name} {y:?}"),
                );
            }
        }
    }
}

/// Whether the module declares a struct or array type.
fn wasmparser_has_gc_types(bytes: &[u8]) -> bool {
    // The type section's composite types start with 0x5f (struct) or 0x5e
    // (array); a cheap scan of the section is enough for a statistic.
    let Ok(payloads) = wasmparser::Parser::new(0)
        .parse_all(bytes)
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    payloads.iter().any(|p| match p {
        wasmparser::Payload::TypeSection(r) => r.clone().into_iter().any(|g| {
            g.is_ok_and(|g| {
                g.types().any(|t| {
                    !matches!(
                        t.composite_type.inner,
                        wasmparser::CompositeInnerType::Func(_)
                    )
                })
            })
        }),
        _ => false,
    })
}

fn fail(seed: u64, bytes: &[u8], what: &str) -> ! {
    let path = std::env::temp_dir().join(format!("smith_diff-{seed}.wasm"));
    let _ = std::fs::write(&path, bytes);
    eprintln!("seed {seed}: {what} (module saved as {})", path.display());
    std::process::exit(1);
}
