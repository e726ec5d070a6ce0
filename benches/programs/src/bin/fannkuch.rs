//! Measures short integer loops over a tiny array: the Benchmarks Game
//! fannkuch-redux kernel (count pancake flips over every permutation of
//! 1..=n, enumerated in the benchmark's order).
//!
//! Self-check: the checksum and maximum flip count for n = 7 must equal
//! the Benchmarks Game's published result (228/16), those for n = 9 the
//! known 8629/30 (this kernel also gives the published 73196/38 for
//! n = 10), and the folded checksum must match the recorded constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "fannkuch";
const N: usize = 9;
const ROUNDS: u32 = 3;
const EXPECTED: u64 = 0x249a2cfbf605e0a5;

/// Returns (checksum, max flips) over all permutations of `n` elements.
fn fannkuch(n: usize) -> (i64, u32) {
    let mut perm1: Vec<usize> = (0..n).collect();
    let mut perm = vec![0usize; n];
    let mut count = vec![0usize; n];
    let (mut checksum, mut max_flips) = (0i64, 0u32);
    let mut permutations = 0u64;
    let mut r = n;
    loop {
        // Reset the rotation counters that the last step exhausted.
        while r != 1 {
            count[r - 1] = r;
            r -= 1;
        }

        perm.copy_from_slice(&perm1);
        let mut flips = 0u32;
        let mut first = perm[0];
        while first != 0 {
            perm[..=first].reverse();
            flips += 1;
            first = perm[0];
        }
        max_flips = max_flips.max(flips);
        checksum += if permutations.is_multiple_of(2) {
            i64::from(flips)
        } else {
            -i64::from(flips)
        };
        permutations += 1;

        // Next permutation: rotate the first r+1 elements left by one until
        // a counter has turns left.
        loop {
            if r == n {
                return (checksum, max_flips);
            }
            let head = perm1[0];
            perm1.copy_within(1..=r, 0);
            perm1[r] = head;
            count[r] -= 1;
            if count[r] > 0 {
                break;
            }
            r += 1;
        }
    }
}

fn main() {
    let small = fannkuch(black_box(7));
    check(NAME, small == (228, 16), || {
        format!("fannkuch(7) = {small:?}")
    });

    let mut sum = Checksum::new();
    for _ in 0..ROUNDS {
        let got = fannkuch(black_box(N));
        check(NAME, got == (8629, 30), || {
            format!("fannkuch({N}) = {got:?}")
        });
        sum.u64(got.0 as u64);
        sum.u64(u64::from(got.1));
    }
    finish(NAME, sum.finish(), EXPECTED);
}
