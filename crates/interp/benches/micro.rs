//! Rough timings for the translator's optimisations, on the interpreter
//! alone (no runtime); run with `cargo bench -p kiln-interp --bench micro`.
//! Timings are for comparing two builds on one machine, never asserted.

#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::Instance;
use std::time::Instant;

const PROGRAMS: &str = r#"(module
    (memory 1)
    (func $fib (export "fib") (param i32) (result i32)
      (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
        (then (local.get 0))
        (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                       (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
    (func (export "loop") (param i32) (result i64) (local i64)
      (block (loop
        (br_if 1 (i32.eqz (local.get 0)))
        (local.set 1 (i64.add (local.get 1) (i64.extend_i32_u (local.get 0))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br 0)))
      (local.get 1))
    (func (export "sieve") (param i32) (result i32) (local i32 i32 i32)
      ;; marks composites in bytes [0, n), counts primes
      (memory.fill (i32.const 0) (i32.const 0) (local.get 0))
      (local.set 1 (i32.const 2))
      (block (loop
        (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
        (if (i32.eqz (i32.load8_u (local.get 1)))
          (then
            (local.set 3 (i32.add (local.get 3) (i32.const 1)))
            (local.set 2 (i32.mul (local.get 1) (local.get 1)))
            (block (loop
              (br_if 1 (i32.ge_u (local.get 2) (local.get 0)))
              (i32.store8 (local.get 2) (i32.const 1))
              (local.set 2 (i32.add (local.get 2) (local.get 1)))
              (br 0)))))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br 0)))
      (local.get 3))
)"#;

fn time(i: &mut Instance, name: &str, args: &[u64]) {
    let t = Instant::now();
    let mut r = 0;
    for _ in 0..5 {
        r = i.call1(name, args);
    }
    eprintln!("{name}{args:?} = {r}: {:?} per run", t.elapsed() / 5);
}

fn main() {
    let mut i = Instance::new(PROGRAMS);
    for f in 0..3 {
        eprintln!("func {f}: {} ops", i.module.code_len(f).unwrap());
    }
    let small = std::env::var_os("BENCH_SMALL").is_some();
    let which = std::env::var("BENCH_ONLY").unwrap_or_default();
    let runs: [(&str, u64, u64); 3] = [
        ("fib", 30, 22),
        ("loop", 50_000_000, 1_000_000),
        ("sieve", 60_000, 60_000),
    ];
    for (name, big, little) in runs {
        if which.is_empty() || which == name {
            time(&mut i, name, &[if small { little } else { big }]);
        }
    }
    let show: u32 = std::env::var("BENCH_SHOW")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for (pc, op) in i.module.code(show).unwrap().iter().enumerate() {
        eprintln!("  {pc:3} {op:?}");
    }
}
