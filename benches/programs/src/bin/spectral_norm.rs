//! Measures f64 division-heavy nested loops: the Benchmarks Game
//! spectral-norm kernel (power iteration on the infinite matrix
//! A[i][j] = 1 / ((i+j)(i+j+1)/2 + i + 1), truncated to n x n).
//!
//! Self-check: n = 100 must give the published 1.274219991, the large run
//! must be within 1e-8 of the limit 1.2742241528 the series converges to,
//! and the checksum over the result's bits must match the recorded
//! constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "spectral_norm";
const N: usize = 1_100;
const EXPECTED: u64 = 0x02ed0f378775552d;

fn a(i: usize, j: usize) -> f64 {
    let ij = i + j;
    1.0 / ((ij * (ij + 1) / 2 + i + 1) as f64)
}

fn mul_a(v: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = v.iter().enumerate().map(|(j, &x)| a(i, j) * x).sum();
    }
}

fn mul_at(v: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = v.iter().enumerate().map(|(j, &x)| a(j, i) * x).sum();
    }
}

fn mul_ata(v: &[f64], out: &mut [f64], tmp: &mut [f64]) {
    mul_a(v, tmp);
    mul_at(tmp, out);
}

fn spectral_norm(n: usize) -> f64 {
    let mut u = vec![1.0; n];
    let mut v = vec![0.0; n];
    let mut tmp = vec![0.0; n];
    for _ in 0..10 {
        mul_ata(&u, &mut v, &mut tmp);
        mul_ata(&v, &mut u, &mut tmp);
    }
    let vbv: f64 = u.iter().zip(&v).map(|(x, y)| x * y).sum();
    let vv: f64 = v.iter().map(|y| y * y).sum();
    (vbv / vv).sqrt()
}

fn main() {
    let small = format!("{:.9}", spectral_norm(black_box(100)));
    check(NAME, small == "1.274219991", || {
        format!("n = 100 gave {small}")
    });

    let norm = spectral_norm(black_box(N));
    check(NAME, (norm - 1.274_224_152_8).abs() < 1e-8, || {
        format!("n = {N} gave {norm:.12}")
    });
    let mut sum = Checksum::new();
    sum.f64(norm);
    finish(NAME, sum.finish(), EXPECTED);
}
