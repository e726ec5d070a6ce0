//! Measures the standard library's sorts: `sort_unstable` on integers,
//! stable `sort` on strings, and `sort_by_key` on records with many equal
//! keys.
//!
//! Self-check: the integer result must equal a hand-written LSD radix sort
//! of the same input, the strings must be in order and be a permutation of
//! the input (an order-independent hash of the multiset is compared), the
//! records must be sorted with equal keys left in input order (stability),
//! and the checksum must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};

const NAME: &str = "sort";
const INTS: usize = 500_000;
const STRINGS: usize = 50_000;
const RECORDS: usize = 100_000;
const ROUNDS: u32 = 2;
const EXPECTED: u64 = 0xbd339cca5e2fb6c1;

fn radix_sort(input: &[u32]) -> Vec<u32> {
    let mut src = input.to_vec();
    let mut dst = vec![0u32; src.len()];
    for shift in [0, 8, 16, 24] {
        let mut counts = [0usize; 257];
        for &v in &src {
            counts[((v >> shift) & 0xff) as usize + 1] += 1;
        }
        for i in 1..257 {
            counts[i] += counts[i - 1];
        }
        for &v in &src {
            let bucket = &mut counts[((v >> shift) & 0xff) as usize];
            dst[*bucket] = v;
            *bucket += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    src
}

/// A commutative hash of a multiset of strings: the sum of per-string
/// hashes does not depend on order, so it detects lost or duplicated
/// elements without sorting.
fn multiset_hash(strings: &[String]) -> u64 {
    strings
        .iter()
        .map(|s| {
            let mut c = Checksum::new();
            c.bytes(s.as_bytes());
            c.finish()
        })
        .fold(0u64, u64::wrapping_add)
}

fn main() {
    let mut rng = Rng::new(0x5eed_0006);
    let mut sum = Checksum::new();
    for round in 0..ROUNDS {
        // Integers: uniform, plus a sorted run and a reversed run that
        // pattern-detecting sorts treat specially.
        let mut ints: Vec<u32> = (0..INTS).map(|_| rng.next_u32()).collect();
        ints[..INTS / 8].sort_unstable();
        ints[INTS / 8..INTS / 4].sort_unstable_by(|a, b| b.cmp(a));
        let want = radix_sort(&ints);
        ints.sort_unstable();
        check(NAME, ints == want, || {
            format!("round {round}: sort_unstable differs from radix sort")
        });
        for i in (0..INTS).step_by(INTS / 64) {
            sum.u64(u64::from(ints[i]));
        }

        // Strings with shared prefixes, so comparisons look past the first
        // bytes.
        let prefixes = ["kiln/", "kiln/src/", "wasm/", "", "wasm/tests/spec/"];
        let mut strings: Vec<String> = (0..STRINGS)
            .map(|_| {
                format!(
                    "{}{:x}",
                    rng.pick(&prefixes),
                    rng.next_u64() >> rng.below(60)
                )
            })
            .collect();
        let before = multiset_hash(&strings);
        strings.sort();
        check(NAME, strings.windows(2).all(|w| w[0] <= w[1]), || {
            format!("round {round}: strings out of order")
        });
        check(NAME, multiset_hash(&strings) == before, || {
            format!("round {round}: strings are not a permutation of the input")
        });
        sum.bytes(strings[STRINGS / 2].as_bytes());

        // Records: (key, original index); few distinct keys, so stability
        // is visible.
        let mut records: Vec<(u16, u32)> = (0..RECORDS as u32)
            .map(|i| (rng.below(1000) as u16, i))
            .collect();
        records.sort_by_key(|r| r.0);
        check(
            NAME,
            records
                .windows(2)
                .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)),
            || format!("round {round}: sort_by_key is unsorted or unstable"),
        );
        for r in records.iter().step_by(RECORDS / 64) {
            sum.u64(u64::from(r.1));
        }
    }
    finish(NAME, sum.finish(), EXPECTED);
}
