//! Feeds arbitrary bytes to `Module::new` (binary, or text when they do not
//! start with `\0asm`). When they form a valid module, it is instantiated
//! with dummy imports and every exported function is called with zero
//! arguments under fuel, so loops end. See `kiln_fuzz::instantiate_and_run`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A fresh engine per input (cheap): an engine's signature registry only
    // ever grows, so one shared engine would accumulate every signature of
    // millions of inputs.
    let engine = kiln_fuzz::engine();
    // Most inputs are invalid: rejecting them without a panic is the test.
    let Ok(module) = kiln::Module::new(&engine, data) else {
        return;
    };
    kiln_fuzz::instantiate_and_run(&module);
});
