//! Assembles the test module from text (the program itself has no `wat`:
//! that feature needs `std`).

fn main() {
    let wat = include_str!("src/check.wat");
    let wasm = wat::parse_str(wat).expect("src/check.wat is valid");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::write(out.join("check.wasm"), wasm).unwrap();
    println!("cargo::rerun-if-changed=src/check.wat");
}
