//! Chooses the interpreter's dispatch (see `src/exec/dispatch.rs`):
//! threaded handlers where LLVM turns each handler's final call into a
//! jump and CI proves it (optimised builds for x86_64 and aarch64, outside
//! Windows, whose x64 convention passes the fifth argument on the stack),
//! the portable loop everywhere else. riscv64 would qualify too, but CI
//! runs no interpreter tests there, so it keeps the loop until it does.
//! `KILN_INTERP_DISPATCH=loop` forces the loop, so CI can run the spec
//! suite through both, and so does the `op-profile` feature, which counts
//! ops there.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(kiln_threaded)");
    println!("cargo::rerun-if-env-changed=KILN_INTERP_DISPATCH");
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let optimised = matches!(env("OPT_LEVEL").as_str(), "2" | "3");
    let arch = env("CARGO_CFG_TARGET_ARCH");
    let os = env("CARGO_CFG_TARGET_OS");
    let threaded_target = matches!(arch.as_str(), "x86_64" | "aarch64") && os != "windows";
    // The op profile counts in the portable loop.
    let forced_loop = env("KILN_INTERP_DISPATCH") == "loop"
        || std::env::var_os("CARGO_FEATURE_OP_PROFILE").is_some();
    if optimised && threaded_target && !forced_loop {
        println!("cargo::rustc-cfg=kiln_threaded");
    }
}
