//! Links the object named by `KILN_STATIC_OBJECT` (written by
//! `kiln compile --emit-object --symbol kiln_static_module`) and enables
//! the code that uses it. Without the variable the program builds (so
//! `cargo build --workspace` works) and explains how to make a real one.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kiln_static_object)");
    println!("cargo::rerun-if-env-changed=KILN_STATIC_OBJECT");
    if let Some(object) = std::env::var_os("KILN_STATIC_OBJECT") {
        let object = std::path::PathBuf::from(object);
        println!("cargo::rerun-if-changed={}", object.display());
        println!("cargo::rustc-link-arg-bins={}", object.display());
        println!("cargo::rustc-cfg=kiln_static_object");
    }
}
