//! Measures f64 multiply-add loops with data-dependent exits: the
//! Benchmarks Game mandelbrot kernel (escape test with 50 iterations, one
//! bit per pixel, eight pixels computed together per output byte).
//!
//! Self-check: the image must be mirror-symmetric about the real axis
//! (the imaginary coordinate is computed so that mirrored rows get exactly
//! negated values), sampled rows must equal a plain one-pixel-at-a-time
//! implementation, and the checksum over the bitmap must match the
//! recorded constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "mandelbrot";
const SIZE: usize = 1_600;
const ITERATIONS: u32 = 50;
const EXPECTED: u64 = 0xa24f297cd9440576;

fn coords(x: usize, y: usize, size: usize) -> (f64, f64) {
    let s = size as f64;
    // (2y - size) / size rather than 2y/size - 1: row size - y then gets
    // the exact negation, which the symmetry check relies on.
    (2.0 * x as f64 / s - 1.5, (2.0 * y as f64 - s) / s)
}

/// Computes eight horizontally adjacent pixels at once; the independent
/// lanes give the CPU (or JIT) instruction-level parallelism.
fn byte_at(x0: usize, y: usize, size: usize) -> u8 {
    let mut cr = [0.0f64; 8];
    let ci = coords(x0, y, size).1;
    for (k, c) in cr.iter_mut().enumerate() {
        *c = coords(x0 + k, y, size).0;
    }
    let mut zr = [0.0f64; 8];
    let mut zi = [0.0f64; 8];
    let mut escaped = [false; 8];
    for _ in 0..ITERATIONS {
        for k in 0..8 {
            let (r, i) = (zr[k], zi[k]);
            zr[k] = r * r - i * i + cr[k];
            zi[k] = 2.0 * r * i + ci;
            escaped[k] |= zr[k] * zr[k] + zi[k] * zi[k] > 4.0;
        }
        if escaped.iter().all(|&e| e) {
            break;
        }
    }
    escaped
        .iter()
        .fold(0u8, |byte, &e| (byte << 1) | u8::from(!e))
}

fn pixel_plain(x: usize, y: usize, size: usize) -> bool {
    let (cr, ci) = coords(x, y, size);
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    for _ in 0..ITERATIONS {
        let r = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = r;
        if zr * zr + zi * zi > 4.0 {
            return false;
        }
    }
    true
}

fn main() {
    let size = black_box(SIZE);
    let row_bytes = size.div_ceil(8);
    let mut bitmap = vec![0u8; row_bytes * size];
    for y in 0..size {
        for (bx, out) in bitmap[y * row_bytes..(y + 1) * row_bytes]
            .iter_mut()
            .enumerate()
        {
            *out = byte_at(bx * 8, y, size);
        }
    }

    for y in 1..size {
        let row = &bitmap[y * row_bytes..(y + 1) * row_bytes];
        let mirror = &bitmap[(size - y) * row_bytes..(size - y + 1) * row_bytes];
        check(NAME, row == mirror, || {
            format!("row {y} differs from its mirror")
        });
    }
    for y in (0..size).step_by(37) {
        for x in 0..size {
            let bit = bitmap[y * row_bytes + x / 8] >> (7 - x % 8) & 1 == 1;
            check(NAME, bit == pixel_plain(x, y, size), || {
                format!("pixel ({x}, {y}) differs")
            });
        }
    }

    let inside: u32 = bitmap.iter().map(|b| b.count_ones()).sum();
    let mut sum = Checksum::new();
    sum.u64(u64::from(inside));
    sum.bytes(&bitmap);
    finish(NAME, sum.finish(), EXPECTED);
}
