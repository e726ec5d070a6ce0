//! Assembles the test module from text (the program itself has no `wat`:
//! that feature needs `std`).

fn main() {
    let wat = include_str!("src/check.wat");
    let wasm = wat::parse_str(wat).expect("src/check.wat is valid");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::write(out.join("check.wasm"), wasm).unwrap();
    // A SIMD module, which this build (no `simd` feature) must refuse.
    let simd = wat::parse_str("(module (func (result v128) v128.const i64x2 1 2))").unwrap();
    std::fs::write(out.join("simd.wasm"), simd).unwrap();
    println!("cargo::rerun-if-changed=src/check.wat");
}
