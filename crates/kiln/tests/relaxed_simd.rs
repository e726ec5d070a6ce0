//! Relaxed SIMD's two modes: the interpreter and
//! `Config::relaxed_simd_deterministic` give one answer everywhere; by
//! default native code may take the host's faster, different one.

use kiln::{Config, Engine, Module, Store, Strategy};

/// `f32x4.relaxed_madd` on splatted scalars, lane 0.
const WAT: &str = r#"(module
  (func (export "madd") (param f32 f32 f32) (result f32)
    (f32x4.extract_lane 0
      (f32x4.relaxed_madd (f32x4.splat (local.get 0))
                          (f32x4.splat (local.get 1))
                          (f32x4.splat (local.get 2))))))"#;

/// Operands whose product needs more precision than `f32` has: rounded
/// once (fused), `x * y + z` is 2^-24; rounded after the multiply too, 0.
fn operands() -> (f32, f32, f32) {
    let x = 1.0 + f32::powi(2.0, -12);
    (x, x, -(1.0 + f32::powi(2.0, -11)))
}
const FUSED: f32 = 5.9604645e-8; // 2^-24
const UNFUSED: f32 = 0.0;

fn madd(engine: &Engine, module: &Module) -> f32 {
    let mut store = Store::new(engine, ());
    let instance = kiln::Instance::new(&mut store, module, &[]).unwrap();
    let f = instance
        .get_typed_func::<(f32, f32, f32), f32>(&mut store, "madd")
        .unwrap();
    f.call(&mut store, operands()).unwrap()
}

fn run(config: &Config) -> f32 {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    madd(&engine, &module)
}

#[test]
fn the_interpreter_is_deterministic() {
    let (x, y, z) = operands();
    assert_eq!(x.mul_add(y, z), FUSED, "the operands show fusion");
    assert_eq!(x * y + z, UNFUSED, "the operands show fusion");
    let mut config = Config::new();
    config.strategy(Strategy::Interpreter);
    assert_eq!(run(&config), FUSED);
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[test]
fn native_code_fuses_when_deterministic_and_may_when_not() {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    let fast = run(&config);
    assert!(fast == FUSED || fast == UNFUSED, "{fast}");
    config.relaxed_simd_deterministic(true);
    assert_eq!(run(&config), FUSED);
}

/// Compiled for the x86-64 baseline (no FMA instruction), the default
/// multiplies and adds separately, and the deterministic mode fuses
/// through the runtime's `fma_f32` builtin.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn without_fma_instructions_the_deterministic_mode_still_fuses() {
    for (deterministic, expected) in [(false, UNFUSED), (true, FUSED)] {
        let mut config = Config::new();
        config
            .strategy(Strategy::Cranelift)
            .relaxed_simd_deterministic(deterministic);
        let mut cross = config.clone();
        cross.target("x86_64-unknown-linux-gnu");
        let artifact = Engine::new(&cross)
            .unwrap()
            .precompile_module(WAT.as_bytes())
            .unwrap();
        let engine = Engine::new(&config).unwrap();
        // SAFETY: written just above by this Kiln, for this architecture.
        let module = unsafe { Module::deserialize(&engine, &artifact) }.unwrap();
        assert_eq!(
            madd(&engine, &module),
            expected,
            "deterministic: {deterministic}"
        );
    }
}
