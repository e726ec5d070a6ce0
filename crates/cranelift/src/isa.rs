//! Target selection: which ISA code is generated for, and with which
//! Cranelift flags.
//!
//! The host ISA comes from `cranelift-native`, which also detects the CPU's
//! optional extensions. A named target triple (`aarch64-unknown-linux-gnu`,
//! `s390x-unknown-linux-gnu`, …) selects a cross compiler with a baseline
//! feature set. Flags every Kiln build needs are fixed here: frame pointers
//! are kept (the runtime walks them for backtraces and traps), and stack
//! probes are off because each prologue compares the stack pointer with the
//! store's stack limit instead.

use crate::CompileError;
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use target_lexicon::{Architecture, Triple};

/// How hard Cranelift optimizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OptLevel {
    /// No optimization: fastest compilation.
    None,
    /// Optimize for speed (the default).
    #[default]
    Speed,
    /// Optimize for speed and code size.
    SpeedAndSize,
}

/// Builds a Cranelift `TargetIsa` for Kiln.
#[derive(Clone, Debug, Default)]
pub struct IsaBuilder {
    target: Option<String>,
    opt_level: OptLevel,
    verifier: bool,
}

impl IsaBuilder {
    /// The host ISA, optimizing for speed, verifier off.
    pub fn host() -> Self {
        Self::default()
    }

    /// A named target triple, e.g. `aarch64-unknown-linux-gnu`.
    pub fn target(triple: &str) -> Self {
        Self {
            target: Some(triple.to_string()),
            ..Self::default()
        }
    }

    /// Sets the optimization level.
    pub fn opt_level(mut self, level: OptLevel) -> Self {
        self.opt_level = level;
        self
    }

    /// Turns Cranelift's IR verifier on or off (on costs compile time; the
    /// tests turn it on).
    pub fn verifier(mut self, on: bool) -> Self {
        self.verifier = on;
        self
    }

    /// Builds the ISA.
    pub fn build(&self) -> Result<OwnedTargetIsa, CompileError> {
        let mut isa_builder = match &self.target {
            None => cranelift_native::builder()
                .map_err(|e| CompileError::UnsupportedTarget(format!("host: {e}")))?,
            Some(name) => {
                let triple = Triple::from_str(name)
                    .map_err(|e| CompileError::UnsupportedTarget(format!("{name}: {e}")))?;
                let arch = triple.architecture;
                let supported = matches!(
                    arch,
                    Architecture::X86_64
                        | Architecture::Aarch64(_)
                        | Architecture::S390x
                        | Architecture::Riscv64(_)
                );
                if !supported {
                    return Err(CompileError::UnsupportedTarget(name.clone()));
                }
                let mut b = isa::lookup(triple).map_err(|e| match e {
                    isa::LookupError::SupportDisabled => CompileError::UnsupportedTarget(format!(
                        "{name}: this build of Kiln has only the host's Cranelift backend \
                         (build it with the `all-arch` feature to compile for other architectures)"
                    )),
                    e => CompileError::UnsupportedTarget(format!("{name}: {e}")),
                })?;
                if arch == Architecture::X86_64 {
                    // x86-64-v2 as the cross-compilation baseline: every
                    // x86-64 CPU of the last fifteen years has it, and
                    // SSE4.1 gives native float rounding.
                    for f in [
                        "has_sse3",
                        "has_ssse3",
                        "has_sse41",
                        "has_sse42",
                        "has_popcnt",
                    ] {
                        b.enable(f)
                            .map_err(|e| CompileError::Setting(format!("{f}: {e}")))?;
                    }
                }
                if let Architecture::Riscv64(_) = arch {
                    // RV64GC plus the vector extension: Cranelift lowers
                    // wasm SIMD only with V. V itself guarantees VLEN >=
                    // 128 (Zvl128b), and host detection reports only
                    // `has_v`, so naming Zvl128b too would make a V host
                    // refuse these artifacts.
                    b.enable("has_v")
                        .map_err(|e| CompileError::Setting(format!("has_v: {e}")))?;
                }
                b
            }
        };
        let _ = &mut isa_builder;
        let mut flags = settings::builder();
        let opt = match self.opt_level {
            OptLevel::None => "none",
            OptLevel::Speed => "speed",
            OptLevel::SpeedAndSize => "speed_and_size",
        };
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| CompileError::Setting(format!("{k}={v}: {e}")))
        };
        set(&mut flags, "opt_level", opt)?;
        set(
            &mut flags,
            "enable_verifier",
            if self.verifier { "true" } else { "false" },
        )?;
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(&mut flags, "enable_probestack", "false")?;
        // The runtime walks frame pointers; it needs no DWARF/SEH unwind
        // tables from us.
        set(&mut flags, "unwind_info", "false")?;
        // Multi-value functions may return more values than the ABI has
        // return registers (riscv64 runs out first); Cranelift then passes
        // a hidden return area.
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| CompileError::Setting(e.to_string()))
    }
}

/// Whether `isa` has native float rounding (`ceil`, `floor`, `trunc`,
/// `nearest`); only x86-64 without SSE4.1 lacks it.
pub(crate) fn has_native_rounding(isa: &dyn isa::TargetIsa) -> bool {
    if isa.triple().architecture != Architecture::X86_64 {
        return true;
    }
    isa.isa_flags()
        .iter()
        .any(|v| v.name == "has_sse41" && v.as_bool() == Some(true))
}

/// What `isa` offers relaxed SIMD: a vector fused multiply-add (x86-64
/// needs the FMA extension; aarch64 and s390x always have one; riscv64 with
/// V does), and the x86 byte-shuffle, Q15 and dot-product instructions.
pub(crate) fn relaxed_caps(isa: &dyn isa::TargetIsa) -> crate::translate::relaxed::RelaxedCaps {
    crate::translate::relaxed::RelaxedCaps {
        native_fma: isa.has_native_fma(),
        x86: isa.has_x86_pshufb_lowering()
            && isa.has_x86_pmulhrsw_lowering()
            && isa.has_x86_pmaddubsw_lowering(),
    }
}

/// Whether Cranelift can lower vector (wasm `v128`) code for `isa`: riscv64
/// needs the V extension (a RISC-V without it, or qemu-user before 8.1,
/// which does not report V to the process, gets none); every other ISA
/// Kiln targets always can.
pub(crate) fn has_vectors(isa: &dyn isa::TargetIsa) -> bool {
    if !matches!(isa.triple().architecture, Architecture::Riscv64(_)) {
        return true;
    }
    isa.isa_flags()
        .iter()
        .any(|v| v.name == "has_v" && v.as_bool() == Some(true))
}

/// Everything about `isa` that generated code depends on, as stable text:
/// the target triple, then Cranelift's shared flags and the ISA's own
/// flags (CPU features), each `name=value`, sorted, one line per group.
/// Precompiled artifacts record it so that code is only loaded where it
/// was compiled to run.
pub fn isa_fingerprint(isa: &dyn isa::TargetIsa) -> String {
    // Booleans as `true`/`false` (Cranelift's `Display` prints 0/1), so a
    // reader can tell a feature that is off from a numeric setting of 0.
    let word = |v: &settings::Value| match v.as_bool() {
        Some(b) => format!("{}={b}", v.name),
        None => v.to_string(),
    };
    let mut shared: Vec<String> = isa.flags().iter().map(|v| word(&v)).collect();
    shared.sort();
    let mut own: Vec<String> = isa.isa_flags().iter().map(word).collect();
    own.sort();
    format!(
        "triple={}\nflags={}\nisa={}",
        isa.triple(),
        shared.join(" "),
        own.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_spell_features_as_booleans() {
        let x86 = IsaBuilder::target("x86_64-unknown-linux-gnu")
            .build()
            .unwrap();
        let fp = isa_fingerprint(&*x86);
        assert!(fp.starts_with("triple=x86_64-unknown-linux-gnu\n"), "{fp}");
        assert!(fp.contains("has_sse41=true"), "{fp}");
        assert!(fp.contains("has_avx512f=false"), "{fp}");
        let arm = IsaBuilder::target("aarch64-unknown-linux-gnu")
            .build()
            .unwrap();
        assert!(isa_fingerprint(&*arm).contains("has_lse=false"));
    }

    #[test]
    fn builds_host_and_cross_isas() {
        IsaBuilder::host().verifier(true).build().unwrap();
        for t in [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "s390x-unknown-linux-gnu",
            "riscv64gc-unknown-linux-gnu",
        ] {
            let isa = IsaBuilder::target(t).build().unwrap();
            assert!(has_native_rounding(&*isa) || t.starts_with("x86_64"));
        }
    }

    #[test]
    fn rejects_unknown_targets() {
        assert!(matches!(
            IsaBuilder::target("not-a-triple").build(),
            Err(CompileError::UnsupportedTarget(_))
        ));
        assert!(matches!(
            IsaBuilder::target("i686-unknown-linux-gnu").build(),
            Err(CompileError::UnsupportedTarget(_))
        ));
    }
}
