//! The threaded dispatch must not grow the host stack: each handler ends in
//! a jump to the next, never a call (see `src/exec/dispatch.rs`). Nothing
//! in Rust guarantees that; LLVM decides per handler. So this runs a long
//! loop over a broad mix of ops on a thread with a small stack: a handler
//! that calls instead of jumping leaves a frame behind on every execution,
//! and 200,000 iterations of it overflow 512 KiB many times over, which
//! aborts the test binary. `ci/check-tail-dispatch.sh` covers every
//! handler, executed or not, by reading the x86_64 disassembly.
//!
//! In builds with the portable loop (debug, or other targets) the test
//! still runs and passes: the loop does not grow the stack either.

mod harness;

use harness::{Instance, TestHost};
use kiln_interp::{TranslateConfig, Trap};

const LOOP: &str = r#"(module
  (import "env" "double" (func $double (param i32) (result i32)))
  (memory 1)
  (table 4 funcref)
  (elem (i32.const 0) $inc $dec)
  (global $g (mut i64) (i64.const 0))
  (global $gv (mut v128) (v128.const i64x2 0 0))
  (tag $t (param i32))
  (type $ii (func (param i32) (result i32)))
  (func $inc (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func $dec (param i32) (result i32) (i32.sub (local.get 0) (i32.const 1)))
  (func $tail (param i32) (result i32) (return_call $inc (local.get 0)))
  (func $tail_host (param i32) (result i32) (return_call $double (local.get 0)))
  (func $thrower (param i32) (throw $t (local.get 0)))
  ;; More locals than the call handlers zero themselves: every call to it
  ;; takes the out-of-line entry path, which must also end in a jump.
  (func $many_locals (param i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 20 (i64.extend_i32_u (local.get 0)))
    (i32.wrap_i64 (i64.add (local.get 20) (local.get 1))))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i64) (local $f f64) (local $x f32) (local $v v128)
    (loop $top
      ;; integers, with immediates and without
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_u (i32.mul (local.get $i) (i32.const 7)))))
      (local.set $acc (i64.xor (local.get $acc) (i64.shl (local.get $acc) (i64.const 3))))
      (local.set $acc (i64.rotl (local.get $acc) (i64.const 5)))
      (local.set $acc (i64.add (local.get $acc) (i64.div_u (local.get $acc) (i64.const 3))))
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_u (i32.rem_u (local.get $i) (i32.const 13)))))
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_u (i32.popcnt (i32.xor (local.get $i) (i32.const 0x5555))))))
      ;; floats and conversions
      (local.set $f (f64.add (local.get $f) (f64.sqrt (f64.convert_i32_u (local.get $i)))))
      (local.set $x (f32.mul (f32.demote_f64 (local.get $f)) (f32.const 0.5)))
      (local.set $acc (i64.add (local.get $acc) (i64.trunc_sat_f32_u (local.get $x))))
      (local.set $f (f64.floor (f64.mul (local.get $f) (f64.const 0.999))))
      ;; memory
      (i32.store (i32.and (i32.mul (local.get $i) (i32.const 4)) (i32.const 0xfffc))
        (local.get $i))
      (local.set $acc (i64.add (local.get $acc)
        (i64.load8_u (i32.and (local.get $i) (i32.const 0xffff)))))
      (i64.store offset=8 (i32.const 0) (local.get $acc))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (memory.size))))
      ;; globals and select
      (global.set $g (i64.add (global.get $g) (i64.const 1)))
      (local.set $acc (i64.add (local.get $acc)
        (select (i64.const 3) (i64.const 5) (i32.and (local.get $i) (i32.const 1)))))
      ;; calls of every kind
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $inc (local.get $i)))))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $many_locals (local.get $i)))))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u
        (call_indirect (type $ii) (local.get $i) (i32.and (local.get $i) (i32.const 1))))))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $tail (local.get $i)))))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (call $double (local.get $i)))))
      (local.set $acc (i64.add (local.get $acc)
        (i64.extend_i32_u (call $tail_host (local.get $i)))))
      ;; tables
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (table.size))))
      (table.set (i32.const 2) (table.get (i32.and (local.get $i) (i32.const 1))))
      ;; br_table
      (block $a
        (block $b
          (br_table $a $b $a (i32.and (local.get $i) (i32.const 3))))
        (local.set $acc (i64.add (local.get $acc) (i64.const 2))))
      ;; an exception thrown in a callee and caught here
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u
        (block $h (result i32)
          (try_table (catch $t $h) (call $thrower (local.get $i)))
          (i32.const 0)))))
      ;; SIMD
      (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $i))))
      (v128.store (i32.const 64) (local.get $v))
      (local.set $v (v128.load32_zero (i32.const 64)))
      (global.set $gv (local.get $v))
      (local.set $acc (i64.add (local.get $acc) (i64x2.extract_lane 0 (global.get $gv))))
      (br_if $top (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
        (local.get $n))))
    (i64.add (local.get $acc) (global.get $g))))"#;

fn host_double(_h: &mut TestHost, slots: &mut [u64]) -> Result<(), Trap> {
    slots[0] = (slots[0] as u32).wrapping_mul(2) as u64;
    Ok(())
}

/// Runs the loop `n` times on a fresh thread with a `stack`-byte stack.
fn run_on_thread(n: u64, stack: usize) -> u64 {
    let wasm = wat::parse_str(LOOP).expect("valid wat");
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let mut i =
                Instance::from_binary(&wasm, TranslateConfig::default(), 1 << 20, &[host_double])
                    .unwrap();
            i.call1("run", &[n])
        })
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn dispatch_keeps_the_host_stack_flat() {
    // The reference: a few iterations with room to spare.
    let short = run_on_thread(1_000, 16 << 20);
    let short_small_stack = run_on_thread(1_000, 512 << 10);
    assert_eq!(short, short_small_stack);
    // The real test: it completes at all.
    let long = run_on_thread(200_000, 512 << 10);
    assert_ne!(long, short, "the loop ran all its iterations");
    assert_eq!(long, run_on_thread(200_000, 16 << 20));
}
