//! Sets `kiln_native` when this build can run native code: the `cranelift`
//! feature is on and the target is one whose platform layer the runtime
//! has (Unix on x86_64, aarch64, s390x or riscv64). The same condition
//! guards the `kiln-cranelift` dependency in `Cargo.toml`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kiln_native)");
    let cranelift = std::env::var_os("CARGO_FEATURE_CRANELIFT").is_some();
    let unix = std::env::var_os("CARGO_CFG_UNIX").is_some();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let native_arch = matches!(arch.as_str(), "x86_64" | "aarch64" | "s390x" | "riscv64");
    if cranelift && unix && native_arch {
        println!("cargo::rustc-cfg=kiln_native");
    }
}
