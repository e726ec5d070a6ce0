//! Measures tight loops over a byte array: the sieve of Eratosthenes,
//! repeated, with strided stores and a sequential scan.
//!
//! Self-check: the prime count must equal the known value of pi(LIMIT), a
//! sample of sieve entries is re-checked by trial division, and a checksum
//! over the primes found must match the recorded constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "sieve";
const LIMIT: usize = 2_000_000;
/// pi(2_000_000).
const PRIME_COUNT: usize = 148_933;
const ROUNDS: u32 = 20;
const EXPECTED: u64 = 0x78c189dc6abea64d;

fn sieve(limit: usize, composite: &mut Vec<bool>) -> usize {
    composite.clear();
    composite.resize(limit + 1, false);
    composite[0] = true;
    composite[1] = true;
    let mut i = 2;
    while i * i <= limit {
        if !composite[i] {
            let mut j = i * i;
            while j <= limit {
                composite[j] = true;
                j += i;
            }
        }
        i += 1;
    }
    composite.iter().filter(|&&c| !c).count()
}

fn is_prime_slow(n: usize) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

fn main() {
    let mut composite = Vec::new();
    let mut sum = Checksum::new();
    for _ in 0..ROUNDS {
        let count = sieve(black_box(LIMIT), &mut composite);
        check(NAME, count == PRIME_COUNT, || {
            format!("found {count} primes below {LIMIT}, expected {PRIME_COUNT}")
        });
        sum.u64(count as u64);
    }
    // Spot-check entries spread over the whole range, primes and composites.
    let mut n = 1;
    while n <= LIMIT {
        let sieved = !composite[n];
        check(NAME, sieved == is_prime_slow(n), || {
            format!("sieve says {n} prime = {sieved}")
        });
        n += 9973;
    }
    for (p, &c) in composite.iter().enumerate() {
        if !c {
            sum.u64(p as u64);
        }
    }
    finish(NAME, sum.finish(), EXPECTED);
}
