//! Sets the configuration flags the crate's `cfg`s read:
//!
//! * `kiln_os`: the `std` feature is on and the target is Unix, so the
//!   platform layer talks to the OS itself (`src/runtime/sys/unix`).
//!   Without `std` the runtime reaches the host only through
//!   `include/kiln-platform.h`, even on Unix.
//! * `kiln_os_linux`: `kiln_os` on Linux, where trap handling reads the
//!   signal context (`src/runtime/sys/arch`).
//! * `kiln_native`: this build can compile native code in process: the
//!   `cranelift` feature is on and the target is one whose platform layer
//!   the runtime has (Unix on x86_64, aarch64, s390x or riscv64). The same
//!   condition guards the `kiln-cranelift` dependency in `Cargo.toml`.
//! * `kiln_arch_traps`: the entry and resume trampolines of trap handling
//!   exist for this target (x86_64, aarch64, s390x or riscv64 with their
//!   Unix C ABI), so native code can run: on Linux with `std`, and in any
//!   `no_std` build for those architectures (bare metal, or an OS the
//!   embedder wraps through the platform header).
//! * `kiln_custom_vm`, `kiln_custom_signals`: the `custom-virtual-memory`
//!   and `custom-native-signals` features in a build without `std`, where
//!   the runtime asks the embedder's header functions for virtual memory
//!   and fault handling. With `std` the OS layer provides both, and the
//!   features change nothing.

fn main() {
    // The triple a loader (a build without a compiler) compares artifacts
    // with: code runs only on the target it was compiled for.
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo::rustc-env=KILN_HOST_TRIPLE={target}");
    println!("cargo::rustc-check-cfg=cfg(kiln_native)");
    println!("cargo::rustc-check-cfg=cfg(kiln_os)");
    println!("cargo::rustc-check-cfg=cfg(kiln_os_linux)");
    println!("cargo::rustc-check-cfg=cfg(kiln_arch_traps)");
    println!("cargo::rustc-check-cfg=cfg(kiln_custom_vm)");
    println!("cargo::rustc-check-cfg=cfg(kiln_custom_signals)");
    let feature = |name: &str| std::env::var_os(format!("CARGO_FEATURE_{name}")).is_some();
    let unix = std::env::var_os("CARGO_CFG_UNIX").is_some();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let native_arch = matches!(arch.as_str(), "x86_64" | "aarch64" | "s390x" | "riscv64");
    let std = feature("STD");
    if std && unix {
        println!("cargo::rustc-cfg=kiln_os");
        if os == "linux" {
            println!("cargo::rustc-cfg=kiln_os_linux");
        }
    }
    if feature("CRANELIFT") && std && unix && native_arch {
        println!("cargo::rustc-cfg=kiln_native");
    }
    // Windows and UEFI pass arguments differently; the trampolines are
    // written for the System V / AAPCS64 / ELF psABI conventions.
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let unix_abi = !family.contains("windows") && os != "uefi";
    if native_arch && ((std && unix && os == "linux") || (!std && unix_abi)) {
        println!("cargo::rustc-cfg=kiln_arch_traps");
    }
    if !std && feature("CUSTOM_VIRTUAL_MEMORY") {
        println!("cargo::rustc-cfg=kiln_custom_vm");
    }
    if !std && feature("CUSTOM_NATIVE_SIGNALS") {
        println!("cargo::rustc-cfg=kiln_custom_signals");
    }
}
