//! Precompiled modules: `Engine::precompile_module` / `Module::serialize`
//! write an artifact, `Module::deserialize` loads it into a matching
//! engine, and everything else is a clear error.

#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]

use kiln::*;

fn native_config() -> Config {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    config
}

fn native_engine() -> Engine {
    Engine::new(&native_config()).unwrap()
}

/// A module with a host import, memory with data, a table and a trap, so
/// a loaded artifact exercises imports, trampolines, images and the trap
/// table.
const WAT: &str = r#"(module $demo
    (import "host" "double" (func $double (param i32) (result i32)))
    (memory (export "mem") 1)
    (data (i32.const 16) "kiln")
    (table funcref (elem $add $boom))
    (type $bin (func (param i32 i32) (result i32)))
    (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func $boom (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
    (func (export "run") (param i32 i32 i32) (result i32)
      (call $double
        (call_indirect (type $bin) (local.get 0) (local.get 1) (local.get 2))))
    (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;

/// Instantiates `module` and checks what `WAT` computes, including a trap
/// with a named frame.
fn check_behaviour(engine: &Engine, module: &Module) {
    let mut store = Store::new(engine, ());
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "double", |x: i32| x * 2).unwrap();
    let instance = linker.instantiate(&mut store, module).unwrap();
    let run = instance
        .get_typed_func::<(i32, i32, i32), i32>(&mut store, "run")
        .unwrap();
    let peek = instance
        .get_typed_func::<i32, i32>(&mut store, "peek")
        .unwrap();
    assert_eq!(run.call(&mut store, (20, 1, 0)).unwrap(), 42);
    assert_eq!(run.call(&mut store, (20, 5, 1)).unwrap(), 8);
    let err = run.call(&mut store, (1, 0, 1)).unwrap_err();
    let trap = err.downcast_ref::<Trap>().expect("a trap");
    assert_eq!(trap.code(), Some(TrapCode::IntegerDivisionByZero));
    let text = format!("{err:?}");
    assert!(
        text.contains("boom"),
        "backtrace names the function: {text}"
    );
    // The store is still usable, and the data segment is in memory.
    assert_eq!(peek.call(&mut store, 16).unwrap(), i32::from(b'k'));
    assert_eq!(run.call(&mut store, (2, 3, 0)).unwrap(), 10);
}

#[test]
fn precompiled_modules_behave_like_compiled_ones() {
    let engine = native_engine();
    let artifact = engine.precompile_module(WAT.as_bytes()).unwrap();
    assert!(Module::is_precompiled(&artifact));

    // A fresh engine with the same configuration, as in another process.
    let other = native_engine();
    // SAFETY: the artifact was just written by this Kiln.
    let module = unsafe { Module::deserialize(&other, &artifact) }.unwrap();
    assert_eq!(module.name(), Some("demo"));
    assert_eq!(module.exports().len(), 3);
    check_behaviour(&other, &module);

    // `serialize` of a compiled module writes the same kind of artifact.
    let compiled = Module::new(&engine, WAT).unwrap();
    let again = compiled.serialize().unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&other, &again) }.unwrap();
    check_behaviour(&other, &module);
    check_behaviour(&engine, &compiled);
}

#[test]
fn deserialize_file_names_the_file() {
    let engine = native_engine();
    let dir = std::env::temp_dir().join(format!("kiln-precompiled-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("demo.kwasm");
    std::fs::write(&path, engine.precompile_module(WAT.as_bytes()).unwrap()).unwrap();
    // SAFETY: written just above by this Kiln.
    let module = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    check_behaviour(&engine, &module);
    let missing = dir.join("missing.kwasm");
    // SAFETY: the file does not exist; nothing is loaded.
    let err = unsafe { Module::deserialize_file(&engine, &missing) }.unwrap_err();
    assert!(format!("{err:#}").contains("missing.kwasm"), "{err:#}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn mismatched_engines_and_bad_files_are_errors() {
    let artifact = native_engine().precompile_module(WAT.as_bytes()).unwrap();
    let load = |engine: &Engine, bytes: &[u8]| {
        // SAFETY: every case either is this Kiln's own artifact or is
        // refused before any code is loaded.
        unsafe { Module::deserialize(engine, bytes) }
            .map(drop)
            .map_err(|e| format!("{e:#}"))
    };

    let mut fuel = native_config();
    fuel.consume_fuel(true);
    let err = load(&Engine::new(&fuel).unwrap(), &artifact).unwrap_err();
    assert!(err.contains("memory or fuel settings"), "{err}");

    let mut small = native_config();
    small.memory_reservation(1 << 20);
    let err = load(&Engine::new(&small).unwrap(), &artifact).unwrap_err();
    assert!(err.contains("memory or fuel settings"), "{err}");

    let mut no_simd = native_config();
    no_simd.wasm_simd(false);
    let err = load(&Engine::new(&no_simd).unwrap(), &artifact).unwrap_err();
    assert!(err.contains("WebAssembly features"), "{err}");

    let mut interp = Config::new();
    interp.strategy(Strategy::Interpreter);
    let err = load(&Engine::new(&interp).unwrap(), &artifact).unwrap_err();
    assert!(err.contains("Cranelift"), "{err}");
    let err = Engine::new(&interp)
        .unwrap()
        .precompile_module(WAT.as_bytes())
        .unwrap_err();
    assert!(format!("{err}").contains("Cranelift"), "{err}");

    let engine = native_engine();
    let wasm = wat::parse_str(WAT).unwrap();
    let err = load(&engine, &wasm).unwrap_err();
    assert!(err.contains("not a Kiln precompiled module"), "{err}");
    for len in [0, 8, 20, artifact.len() / 2, artifact.len() - 1] {
        let err = load(&engine, &artifact[..len]).unwrap_err();
        assert!(
            err.contains("corrupt") || err.contains("not a Kiln"),
            "{len}: {err}"
        );
    }
    // An interpreter module has no code to save.
    let module = Module::new(&Engine::new(&interp).unwrap(), WAT).unwrap();
    assert!(module.serialize().is_err());
    // Invalid wasm is refused when precompiling, as when compiling.
    assert!(engine.precompile_module(b"\0asm\x01\0\0\0\x01").is_err());
}

/// A native architecture Kiln compiles for other than this host's.
fn foreign_triple() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "aarch64-unknown-linux-gnu"
    } else {
        "x86_64-unknown-linux-gnu"
    }
}

/// Without `all-arch` only the host's Cranelift backend is built: naming
/// another architecture is an error that says how to get its backend.
#[cfg(not(feature = "all-arch"))]
#[test]
fn other_targets_need_the_all_arch_feature() {
    let foreign = foreign_triple();
    let mut config = Config::new();
    config.target(foreign);
    let err = match Engine::new(&config) {
        Err(e) => format!("{e:#}"),
        Ok(engine) => format!(
            "{:#}",
            engine.precompile_module(WAT.as_bytes()).unwrap_err()
        ),
    };
    assert!(err.contains("all-arch") && err.contains(foreign), "{err}");
}

#[cfg(feature = "all-arch")]
#[test]
fn other_targets_are_precompiled_but_not_run_here() {
    let foreign = foreign_triple();
    for triple in [
        foreign,
        "s390x-unknown-linux-gnu",
        "riscv64gc-unknown-linux-gnu",
    ] {
        let mut config = Config::new();
        config.target(triple);
        let cross = Engine::new(&config).unwrap();
        let artifact = cross.precompile_module(WAT.as_bytes()).unwrap();
        let err = Module::new(&cross, WAT).unwrap_err();
        assert!(format!("{err:#}").contains(triple), "{triple}: {err:#}");
        // SAFETY: refused on the target check before any code is loaded.
        let err = unsafe { Module::deserialize(&native_engine(), &artifact) }.unwrap_err();
        assert!(format!("{err:#}").contains("target"), "{triple}: {err:#}");
        // The cross engine's own loader refuses to run it here too.
        // SAFETY: as above; the engine never maps the code.
        let err = unsafe { Module::deserialize(&cross, &artifact) }.unwrap_err();
        assert!(format!("{err:#}").contains(triple), "{triple}: {err:#}");
    }
    // This host's own architecture, cross-compiled: the baseline feature
    // set is a subset of what the host has, so the artifact loads and runs.
    let own = if cfg!(target_arch = "x86_64") {
        "x86_64-unknown-linux-gnu"
    } else {
        "aarch64-unknown-linux-gnu"
    };
    let mut config = native_config();
    config.target(own);
    let artifact = Engine::new(&config)
        .unwrap()
        .precompile_module(WAT.as_bytes())
        .unwrap();
    let engine = native_engine();
    // SAFETY: written just above by this Kiln, for this architecture.
    let module = unsafe { Module::deserialize(&engine, &artifact) }.unwrap();
    check_behaviour(&engine, &module);

    let mut config = Config::new();
    config.target("mips-unknown-linux-gnu");
    assert!(Engine::new(&config).is_err());
    config
        .target("x86_64-unknown-linux-gnu")
        .strategy(Strategy::Interpreter);
    assert!(Engine::new(&config).is_err());
}
