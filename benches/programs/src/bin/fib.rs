//! Measures call overhead: doubly recursive Fibonacci, which is almost
//! nothing but function calls, returns, a compare and an add.
//!
//! Self-check: the recursive results must equal an iterative computation,
//! and the checksum over all of them must match the recorded constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "fib";
const N: u32 = 36;
const ROUNDS: u32 = 2;
const EXPECTED: u64 = 0x4cdda83be94b84df;

fn fib(n: u32) -> u64 {
    if n < 2 {
        u64::from(n)
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

fn fib_iter(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

fn main() {
    let mut sum = Checksum::new();
    for round in 0..ROUNDS {
        // black_box keeps the argument opaque so the call tree cannot be
        // folded at compile time.
        let n = black_box(N - round % 2);
        let got = fib(n);
        let want = fib_iter(n);
        check(NAME, got == want, || {
            format!("fib({n}) = {got}, expected {want}")
        });
        sum.u64(got);
    }
    finish(NAME, sum.finish(), EXPECTED);
}
