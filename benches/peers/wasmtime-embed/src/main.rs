//! `wasmtime-embed WASM RUNS`: times RUNS in-process compiles
//! (`Module::new`) and RUNS instantiations (WASI context + `Linker` +
//! `instantiate`) of WASM with Wasmtime's default `Config`, each series
//! after one unmeasured warm-up, and prints one JSON object of samples in
//! seconds: `{"compile":[...],"instantiate":[...]}`.
//!
//! It mirrors `crates/bench/src/inproc.rs`, which does the same for Kiln,
//! so the two sets of figures can be divided.

use std::time::Instant;

use anyhow::{Context as _, Result, anyhow, bail};
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, runs] = args.as_slice() else {
        bail!("usage: wasmtime-embed WASM RUNS");
    };
    let runs: usize = runs.parse().context("RUNS must be a number")?;
    let wasm = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let engine = Engine::default();
    let name = std::path::Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("module");

    let mut compile = Vec::with_capacity(runs);
    let mut module = None;
    for i in 0..=runs {
        let start = Instant::now();
        let compiled =
            Module::new(&engine, &wasm).map_err(|e| anyhow!("compile failed: {e:?}"))?;
        let elapsed = start.elapsed().as_secs_f64();
        module = Some(compiled);
        if i > 0 {
            compile.push(elapsed);
        }
    }
    let module = module.context("no module compiled")?;

    let mut instantiate = Vec::with_capacity(runs);
    for i in 0..=runs {
        let start = Instant::now();
        let ctx = WasiCtxBuilder::new().arg(name).build_p1();
        let mut store = Store::new(&engine, ctx);
        let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
        p1::add_to_linker_sync(&mut linker, |ctx| ctx)
            .map_err(|e| anyhow!("linking WASI failed: {e:?}"))?;
        let instance = linker
            .instantiate(&mut store, &module)
            .map_err(|e| anyhow!("instantiate failed: {e:?}"))?;
        let elapsed = start.elapsed().as_secs_f64();
        drop((instance, linker, store));
        if i > 0 {
            instantiate.push(elapsed);
        }
    }
    let list = |v: &[f64]| {
        v.iter()
            .map(|s| format!("{s:e}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    println!(
        "{{\"compile\":[{}],\"instantiate\":[{}]}}",
        list(&compile),
        list(&instantiate)
    );
    Ok(())
}
