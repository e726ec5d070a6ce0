//! Kiln measured inside the harness: compile (`Module::new`) and
//! instantiate (`Linker` + WASI + `instantiate`) without the process
//! around them, and the size of the code section they work through.
//!
//! Wasmtime's same two figures come from `wasmtime-embed`
//! (`benches/peers/wasmtime-embed`, built by `install.sh`), a small program
//! embedding Wasmtime that repeats the same steps with Wasmtime's default
//! configuration and prints its samples as JSON: [`measure_wasmtime`].

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use kiln::{Config, Engine, Linker, Module, Store};
use kiln_wasi::{WasiCtx, WasiCtxBuilder};
use wasmparser::{Parser, Payload};

use crate::results::InProcess;
use crate::runtimes::KilnBackend;
use crate::stats::Measure;

/// The size in bytes of the module's code section (0 when it has none).
pub fn code_section_bytes(wasm: &[u8]) -> Result<u64> {
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionStart {
            unchecked_range, ..
        } = payload.context("malformed module")?
        {
            // The whole section's contents, the function count included.
            return Ok(unchecked_range.end - unchecked_range.start);
        }
    }
    Ok(0)
}

/// Code-section megabytes of `wasm` compiled per second at the median of
/// `compile`.
fn mb_per_s(wasm: &[u8], compile: Option<&Measure>) -> Result<Option<f64>> {
    let code = code_section_bytes(wasm)?;
    Ok(compile
        .filter(|m| m.median > 0.0)
        .map(|m| code as f64 / 1e6 / m.median))
}

/// Times `runs` compiles and `runs` instantiations of `wasm` (each after
/// one unmeasured warm-up) on `backend`. Failures are recorded, not
/// returned, so one bad module does not stop the suite.
pub fn measure(backend: &KilnBackend, name: &str, wasm: &[u8], runs: usize) -> InProcess {
    let mut result = InProcess {
        runtime: backend.runtime.to_string(),
        compile: None,
        instantiate: None,
        compile_mb_per_s: None,
        error: None,
    };
    if let Err(e) = measure_into(&mut result, backend, name, wasm, runs) {
        result.error = Some(format!("{e:#}"));
    }
    result
}

fn measure_into(
    result: &mut InProcess,
    backend: &KilnBackend,
    name: &str,
    wasm: &[u8],
    runs: usize,
) -> Result<()> {
    let Some(strategy) = backend.strategy else {
        bail!("this build of the `kiln` crate cannot select this backend");
    };
    let mut config = Config::new();
    config.strategy(strategy).lazy_translation(backend.lazy);
    let engine = Engine::new(&config)?;

    let mut compile_samples = Vec::with_capacity(runs);
    let mut module = None;
    for i in 0..=runs {
        let start = Instant::now();
        let compiled = Module::new(&engine, wasm).context("compile failed")?;
        let elapsed = start.elapsed().as_secs_f64();
        // Drop the previous module outside the timed region.
        module = Some(compiled);
        if i > 0 {
            compile_samples.push(elapsed);
        }
    }
    let module = module.context("no module compiled")?;
    result.compile = Measure::new("s", compile_samples);
    result.compile_mb_per_s = mb_per_s(wasm, result.compile.as_ref())?;

    let mut instantiate_samples = Vec::with_capacity(runs);
    for i in 0..=runs {
        let start = Instant::now();
        let ctx = WasiCtxBuilder::new().arg(name).build();
        let mut store = Store::new(&engine, ctx);
        let mut linker: Linker<WasiCtx> = Linker::new(&engine);
        kiln_wasi::add_to_linker(&mut linker, |ctx| ctx)?;
        let instance = linker
            .instantiate(&mut store, &module)
            .context("instantiate failed")?;
        let elapsed = start.elapsed().as_secs_f64();
        // Teardown is not part of instantiation.
        drop((instance, linker, store));
        if i > 0 {
            instantiate_samples.push(elapsed);
        }
    }
    result.instantiate = Measure::new("s", instantiate_samples);
    Ok(())
}

/// The runtime name Wasmtime's in-process figures are reported under.
pub const WASMTIME_IN_PROCESS: &str = "wasmtime-cranelift";

/// Times `runs` compiles and instantiations of the module at `wasm_path`
/// in Wasmtime, through the `wasmtime-embed` program at `driver`.
pub fn measure_wasmtime(driver: &Path, wasm_path: &Path, wasm: &[u8], runs: usize) -> InProcess {
    let mut result = InProcess {
        runtime: WASMTIME_IN_PROCESS.to_string(),
        compile: None,
        instantiate: None,
        compile_mb_per_s: None,
        error: None,
    };
    let outcome = (|| -> Result<()> {
        let output = Command::new(driver)
            .arg(wasm_path)
            .arg(runs.to_string())
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run `{}`", driver.display()))?;
        if !output.status.success() {
            bail!(
                "`{}` failed: {}",
                driver.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let samples: EmbedSamples = serde_json::from_slice(&output.stdout)
            .context("unreadable output from wasmtime-embed")?;
        result.compile = Measure::new("s", samples.compile);
        result.instantiate = Measure::new("s", samples.instantiate);
        result.compile_mb_per_s = mb_per_s(wasm, result.compile.as_ref())?;
        Ok(())
    })();
    if let Err(e) = outcome {
        result.error = Some(format!("{e:#}"));
    }
    result
}

/// What `wasmtime-embed` prints.
#[derive(serde::Deserialize)]
struct EmbedSamples {
    compile: Vec<f64>,
    instantiate: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtimes::KILN_BACKENDS;

    /// `(module (memory (export "memory") 1) (func (export "_start")))` as
    /// bytes, written out so the test needs no text parser: a WASI
    /// command whose code section holds one empty body.
    fn tiny_module() -> Vec<u8> {
        vec![
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
            0x03, 0x02, 0x01, 0x00, // func 0 has type 0
            0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1
            0x07, 0x13, 0x02, // exports: 2
            0x06, b'm', b'e', b'm', b'o', b'r', b'y', 0x02, 0x00, // memory 0
            0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // func 0
            0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code: one body, no locals, end
        ]
    }

    #[test]
    fn code_section_size_is_the_section_payload() {
        assert_eq!(code_section_bytes(&tiny_module()).unwrap(), 4);
        assert!(code_section_bytes(b"\0asm\x01\0\0\0\x0a\xff").is_err());
    }

    #[test]
    fn measures_compile_and_instantiate() {
        let m = measure(&KILN_BACKENDS[0], "tiny", &tiny_module(), 3);
        assert_eq!(m.error, None);
        assert_eq!(m.compile.unwrap().samples.len(), 3);
        assert_eq!(m.instantiate.unwrap().samples.len(), 3);
        assert!(m.compile_mb_per_s.unwrap() > 0.0);
    }

    #[test]
    fn a_bad_module_is_recorded_not_fatal() {
        let m = measure(&KILN_BACKENDS[0], "bad", b"\0asm\x01\0\0\0\x01", 3);
        assert!(m.error.unwrap().contains("compile failed"));
        assert!(m.compile.is_none());
    }
}
