//! Measures dense matrix multiplication: an f64 product in i-k-j order
//! (streaming rows, vectorizable inner loop) and an i32 product against a
//! transposed right-hand side (dot-product inner loop).
//!
//! The entries are small integers, so every f64 operation is exact. That
//! makes the self-check exact too: (A B) x must equal A (B x), the i32
//! product must equal the f64 one element for element, and the checksum
//! over the products must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use std::hint::black_box;

const NAME: &str = "matmul";
const N: usize = 512;
const ROUNDS: u32 = 1;
const EXPECTED: u64 = 0x42e15bc86e612eaa;

/// Row-major square matrix.
struct Matrix<T> {
    n: usize,
    data: Vec<T>,
}

fn random_ints(rng: &mut Rng, n: usize) -> Vec<i32> {
    (0..n * n).map(|_| rng.below(17) as i32 - 8).collect()
}

fn mul_f64(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let n = a.n;
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        let c_row = &mut c[i * n..(i + 1) * n];
        for k in 0..n {
            let aik = a.data[i * n + k];
            let b_row = &b.data[k * n..(k + 1) * n];
            for (cij, &bkj) in c_row.iter_mut().zip(b_row) {
                *cij += aik * bkj;
            }
        }
    }
    Matrix { n, data: c }
}

fn mul_i32_transposed(a: &Matrix<i32>, b: &Matrix<i32>) -> Matrix<i32> {
    let n = a.n;
    let mut bt = vec![0; n * n];
    for i in 0..n {
        for j in 0..n {
            bt[j * n + i] = b.data[i * n + j];
        }
    }
    let mut c = vec![0; n * n];
    for i in 0..n {
        let a_row = &a.data[i * n..(i + 1) * n];
        for j in 0..n {
            let bt_row = &bt[j * n..(j + 1) * n];
            c[i * n + j] = a_row
                .iter()
                .zip(bt_row)
                .map(|(&x, &y)| x.wrapping_mul(y))
                .fold(0i32, i32::wrapping_add);
        }
    }
    Matrix { n, data: c }
}

fn mul_vec(a: &Matrix<f64>, x: &[f64]) -> Vec<f64> {
    let n = a.n;
    (0..n)
        .map(|i| {
            a.data[i * n..(i + 1) * n]
                .iter()
                .zip(x)
                .map(|(p, q)| p * q)
                .sum()
        })
        .collect()
}

fn main() {
    let mut rng = Rng::new(0x5eed_0013);
    let n = black_box(N);
    let mut sum = Checksum::new();
    for round in 0..ROUNDS {
        let ai = Matrix {
            n,
            data: random_ints(&mut rng, n),
        };
        let bi = Matrix {
            n,
            data: random_ints(&mut rng, n),
        };
        let af = Matrix {
            n,
            data: ai.data.iter().map(|&v| f64::from(v)).collect(),
        };
        let bf = Matrix {
            n,
            data: bi.data.iter().map(|&v| f64::from(v)).collect(),
        };

        let cf = mul_f64(&af, &bf);
        let ci = mul_i32_transposed(&ai, &bi);
        let same = cf
            .data
            .iter()
            .zip(&ci.data)
            .all(|(&f, &i)| f == f64::from(i));
        check(NAME, same, || {
            format!("round {round}: f64 and i32 products differ")
        });

        let x: Vec<f64> = (0..n).map(|_| f64::from(rng.below(9)) - 4.0).collect();
        let left = mul_vec(&cf, &x);
        let right = mul_vec(&af, &mul_vec(&bf, &x));
        check(NAME, left == right, || {
            format!("round {round}: (AB)x != A(Bx)")
        });

        for v in &ci.data {
            sum.u64(*v as u32 as u64);
        }
    }
    finish(NAME, sum.finish(), EXPECTED);
}
