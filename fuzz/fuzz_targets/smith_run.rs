//! Builds a valid module with `wasm-smith` from the fuzz input, restricted to
//! the proposals Kiln supports (WebAssembly 2.0 with SIMD, tail calls and
//! extended constant expressions), compiles it — which must succeed: a
//! compile error here is a bug — then runs it like `instantiate_and_run`.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(config) = smith_config(&mut u) else {
        return;
    };
    let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
        return;
    };
    let bytes = module.to_bytes();
    let engine = kiln_fuzz::engine();
    let module = match kiln::Module::new(&engine, &bytes) {
        Ok(module) => module,
        Err(e) => {
            // Keep the module for `wasm-tools print`.
            let path = std::env::temp_dir().join("smith_run-rejected.wasm");
            let _ = std::fs::write(&path, &bytes);
            panic!(
                "Kiln rejected a valid wasm-smith module (saved as {}): {e:?}",
                path.display()
            );
        }
    };
    kiln_fuzz::instantiate_and_run(&module);
});

/// A wasm-smith configuration drawn from the input (sizes and counts), with
/// the features fixed to Kiln's and the memory and table sizes kept within
/// the fuzzing limits, so instantiation is rarely refused.
fn smith_config(u: &mut Unstructured<'_>) -> arbitrary::Result<wasm_smith::Config> {
    let mut config = wasm_smith::Config::arbitrary(u)?;
    // Supported: WebAssembly 2.0 (MVP, mutable globals, sign extension,
    // saturating float-to-int, multi-value, bulk memory, reference types,
    // SIMD), tail calls, extended constant expressions.
    config.saturating_float_to_int_enabled = true;
    config.sign_extension_ops_enabled = true;
    config.multi_value_enabled = true;
    config.bulk_memory_enabled = true;
    config.reference_types_enabled = true;
    config.simd_enabled = true;
    config.tail_call_enabled = true;
    config.extended_const_enabled = true;
    // Not supported (yet).
    config.relaxed_simd_enabled = false;
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    config.memory64_enabled = false;
    config.threads_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.acquire_release_atomics_enabled = false;
    config.wide_arithmetic_enabled = false;
    config.custom_page_sizes_enabled = false;
    config.custom_descriptors_enabled = false;
    config.compact_imports_enabled = false;
    config.multibyte_array_access_enabled = false;
    config.max_memories = config.max_memories.min(1); // no multi-memory
    config.max_memory32_bytes = kiln_fuzz::MAX_MEMORY_BYTES as u64;
    config.max_table_elements = kiln_fuzz::MAX_TABLE_ELEMENTS as u64;
    Ok(config)
}
