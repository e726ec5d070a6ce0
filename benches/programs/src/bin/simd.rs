//! Measures 128-bit SIMD: a separable [1 2 1] image blur on bytes (widening
//! to 16-bit lanes and narrowing back), byte counting with lane compares, a
//! 16-bit dot product with pairwise multiply-add, an f32 a*x+y, and a byte
//! maximum.
//!
//! This is the only program that uses SIMD instructions. On wasm32 the
//! kernels are `#[target_feature(enable = "simd128")]` functions built from
//! `core::arch::wasm32` intrinsics (the rest of the module stays SIMD-free);
//! on x86_64 the native floor uses the matching SSE2 intrinsics; other
//! hosts fall back to the scalar code.
//!
//! Self-check: each kernel's SIMD result must equal a plain scalar version
//! of it on the first round's inputs (all kernels are exact: integer
//! arithmetic, and element-wise f32 with no reassociation), and the
//! checksum over all results must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};

const NAME: &str = "simd";
const WIDTH: usize = 1024;
const HEIGHT: usize = 768;
const VECTOR_LEN: usize = 1 << 16;
const ROUNDS: u32 = 85;
const EXPECTED: u64 = 0x09ca22409e6122df;

/// The reference versions, also used on hosts without a SIMD path.
mod scalar {
    /// out[i] = (a[i] + 2 b[i] + c[i] + 2) / 4, rounded.
    pub fn smooth3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
        for i in 0..out.len() {
            let sum = u16::from(a[i]) + 2 * u16::from(b[i]) + u16::from(c[i]) + 2;
            out[i] = (sum >> 2) as u8;
        }
    }

    pub fn count_byte(hay: &[u8], needle: u8) -> usize {
        hay.iter().filter(|&&b| b == needle).count()
    }

    pub fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
        a.iter().zip(b).fold(0i32, |acc, (&x, &y)| {
            acc.wrapping_add(i32::from(x) * i32::from(y))
        })
    }

    pub fn axpy(k: f32, x: &[f32], y: &mut [f32]) {
        for (yi, &xi) in y.iter_mut().zip(x) {
            *yi += k * xi;
        }
    }

    pub fn max_u8(data: &[u8]) -> u8 {
        data.iter().copied().max().unwrap_or(0)
    }
}

#[cfg(target_arch = "wasm32")]
mod fast {
    use super::scalar;
    use core::arch::wasm32::*;

    #[target_feature(enable = "simd128")]
    fn load(bytes: &[u8]) -> v128 {
        assert!(bytes.len() >= 16);
        // SAFETY: the slice holds at least 16 readable bytes, and v128.load
        // has no alignment requirement.
        unsafe { v128_load(bytes.as_ptr().cast()) }
    }

    #[target_feature(enable = "simd128")]
    fn store(bytes: &mut [u8], v: v128) {
        assert!(bytes.len() >= 16);
        // SAFETY: the slice holds at least 16 writable bytes, and
        // v128.store has no alignment requirement.
        unsafe { v128_store(bytes.as_mut_ptr().cast(), v) }
    }

    // On wasm, calling a #[target_feature] function is safe: an engine
    // validates the whole module before running it, so missing simd128
    // support rejects the module instead of reaching these instructions.

    pub fn smooth3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
        smooth3_simd(a, b, c, out)
    }

    #[target_feature(enable = "simd128")]
    fn smooth3_simd(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
        let n = out.len();
        let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
        let two = u16x8_splat(2);
        let mut i = 0;
        while i + 16 <= n {
            let (va, vb, vc) = (load(&a[i..]), load(&b[i..]), load(&c[i..]));
            let half = |a, b, c| {
                let sum = u16x8_add(u16x8_add(a, c), u16x8_add(u16x8_shl(b, 1), two));
                u16x8_shr(sum, 2)
            };
            let lo = half(
                u16x8_extend_low_u8x16(va),
                u16x8_extend_low_u8x16(vb),
                u16x8_extend_low_u8x16(vc),
            );
            let hi = half(
                u16x8_extend_high_u8x16(va),
                u16x8_extend_high_u8x16(vb),
                u16x8_extend_high_u8x16(vc),
            );
            store(&mut out[i..], u8x16_narrow_i16x8(lo, hi));
            i += 16;
        }
        scalar::smooth3(&a[i..], &b[i..], &c[i..], &mut out[i..]);
    }

    pub fn count_byte(hay: &[u8], needle: u8) -> usize {
        count_byte_simd(hay, needle)
    }

    #[target_feature(enable = "simd128")]
    fn count_byte_simd(hay: &[u8], needle: u8) -> usize {
        let splat = u8x16_splat(needle);
        let mut total = 0usize;
        let mut chunks = hay.chunks_exact(16);
        // Byte lanes count matches (each match subtracts -1) for at most
        // 255 vectors before they are widened, so they never overflow.
        loop {
            let mut acc = u8x16_splat(0);
            let mut taken = 0;
            for chunk in chunks.by_ref().take(255) {
                acc = u8x16_sub(acc, u8x16_eq(load(chunk), splat));
                taken += 1;
            }
            let wide = u32x4_extadd_pairwise_u16x8(u16x8_extadd_pairwise_u8x16(acc));
            total += u32x4_extract_lane::<0>(wide) as usize
                + u32x4_extract_lane::<1>(wide) as usize
                + u32x4_extract_lane::<2>(wide) as usize
                + u32x4_extract_lane::<3>(wide) as usize;
            if taken < 255 {
                break;
            }
        }
        total + scalar::count_byte(chunks.remainder(), needle)
    }

    pub fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
        dot_i16_simd(a, b)
    }

    #[target_feature(enable = "simd128")]
    fn dot_i16_simd(a: &[i16], b: &[i16]) -> i32 {
        let n = a.len().min(b.len());
        let mut acc = i32x4_splat(0);
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: a[i..i + 8] and b[i..i + 8] are in bounds (checked by
            // the loop condition); v128.load has no alignment requirement.
            let (va, vb) = unsafe {
                (
                    v128_load(a[i..i + 8].as_ptr().cast()),
                    v128_load(b[i..i + 8].as_ptr().cast()),
                )
            };
            acc = i32x4_add(acc, i32x4_dot_i16x8(va, vb));
            i += 8;
        }
        let lanes = [
            i32x4_extract_lane::<0>(acc),
            i32x4_extract_lane::<1>(acc),
            i32x4_extract_lane::<2>(acc),
            i32x4_extract_lane::<3>(acc),
        ];
        lanes
            .iter()
            .fold(scalar::dot_i16(&a[i..n], &b[i..n]), |s, &l| {
                s.wrapping_add(l)
            })
    }

    pub fn axpy(k: f32, x: &[f32], y: &mut [f32]) {
        axpy_simd(k, x, y)
    }

    #[target_feature(enable = "simd128")]
    fn axpy_simd(k: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let vk = f32x4_splat(k);
        let mut i = 0;
        while i + 4 <= n {
            let ys = &mut y[i..i + 4];
            // SAFETY: x[i..i + 4] and ys are four in-bounds f32s each;
            // v128 loads and stores have no alignment requirement.
            unsafe {
                let vx = v128_load(x[i..i + 4].as_ptr().cast());
                let vy = v128_load(ys.as_ptr().cast());
                v128_store(ys.as_mut_ptr().cast(), f32x4_add(vy, f32x4_mul(vk, vx)));
            }
            i += 4;
        }
        scalar::axpy(k, &x[i..n], &mut y[i..n]);
    }

    pub fn max_u8(data: &[u8]) -> u8 {
        max_u8_simd(data)
    }

    #[target_feature(enable = "simd128")]
    fn max_u8_simd(data: &[u8]) -> u8 {
        let mut chunks = data.chunks_exact(16);
        let mut acc = u8x16_splat(0);
        for chunk in &mut chunks {
            acc = u8x16_max(acc, load(chunk));
        }
        let mut lanes = [0u8; 16];
        store(&mut lanes, acc);
        scalar::max_u8(&lanes).max(scalar::max_u8(chunks.remainder()))
    }
}

#[cfg(target_arch = "x86_64")]
mod fast {
    use super::scalar;
    use core::arch::x86_64::*;

    // Each entry point calls its #[target_feature] kernel in an unsafe
    // block. SAFETY (for all of them): SSE2 is part of the x86_64 baseline,
    // so every x86_64 CPU has it.

    fn load(bytes: &[u8]) -> __m128i {
        assert!(bytes.len() >= 16);
        // SAFETY: SSE2 is always present on x86_64, the slice holds at
        // least 16 readable bytes, and loadu has no alignment requirement.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }

    fn store(bytes: &mut [u8], v: __m128i) {
        assert!(bytes.len() >= 16);
        // SAFETY: SSE2 is always present on x86_64, the slice holds at
        // least 16 writable bytes, and storeu has no alignment requirement.
        unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), v) }
    }

    pub fn smooth3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
        // SAFETY: see above.
        unsafe { smooth3_sse2(a, b, c, out) }
    }

    #[target_feature(enable = "sse2")]
    fn smooth3_sse2(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
        let n = out.len();
        let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
        let zero = _mm_setzero_si128();
        let two = _mm_set1_epi16(2);
        let half = |a, b, c| {
            let sum = _mm_add_epi16(
                _mm_add_epi16(a, c),
                _mm_add_epi16(_mm_slli_epi16::<1>(b), two),
            );
            _mm_srli_epi16::<2>(sum)
        };
        let mut i = 0;
        while i + 16 <= n {
            let (va, vb, vc) = (load(&a[i..]), load(&b[i..]), load(&c[i..]));
            let lo = half(
                _mm_unpacklo_epi8(va, zero),
                _mm_unpacklo_epi8(vb, zero),
                _mm_unpacklo_epi8(vc, zero),
            );
            let hi = half(
                _mm_unpackhi_epi8(va, zero),
                _mm_unpackhi_epi8(vb, zero),
                _mm_unpackhi_epi8(vc, zero),
            );
            store(&mut out[i..], _mm_packus_epi16(lo, hi));
            i += 16;
        }
        scalar::smooth3(&a[i..], &b[i..], &c[i..], &mut out[i..]);
    }

    pub fn count_byte(hay: &[u8], needle: u8) -> usize {
        // SAFETY: see above.
        unsafe { count_byte_sse2(hay, needle) }
    }

    #[target_feature(enable = "sse2")]
    fn count_byte_sse2(hay: &[u8], needle: u8) -> usize {
        let splat = _mm_set1_epi8(needle as i8);
        let zero = _mm_setzero_si128();
        let mut total = 0usize;
        let mut chunks = hay.chunks_exact(16);
        loop {
            let mut acc = zero;
            let mut taken = 0;
            for chunk in chunks.by_ref().take(255) {
                acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(load(chunk), splat));
                taken += 1;
            }
            // Sum of absolute differences against zero adds up the bytes of
            // each half into a 64-bit lane.
            let sums = _mm_sad_epu8(acc, zero);
            total += _mm_cvtsi128_si32(sums) as usize
                + _mm_cvtsi128_si32(_mm_srli_si128::<8>(sums)) as usize;
            if taken < 255 {
                break;
            }
        }
        total + scalar::count_byte(chunks.remainder(), needle)
    }

    pub fn dot_i16(a: &[i16], b: &[i16]) -> i32 {
        // SAFETY: see above.
        unsafe { dot_i16_sse2(a, b) }
    }

    #[target_feature(enable = "sse2")]
    fn dot_i16_sse2(a: &[i16], b: &[i16]) -> i32 {
        let n = a.len().min(b.len());
        let mut acc = _mm_setzero_si128();
        let mut i = 0;
        while i + 8 <= n {
            // SAFETY: a[i..i + 8] and b[i..i + 8] are in bounds (checked by
            // the loop condition); loadu has no alignment requirement.
            let (va, vb) = unsafe {
                (
                    _mm_loadu_si128(a[i..i + 8].as_ptr().cast()),
                    _mm_loadu_si128(b[i..i + 8].as_ptr().cast()),
                )
            };
            acc = _mm_add_epi32(acc, _mm_madd_epi16(va, vb));
            i += 8;
        }
        let mut lanes = [0u8; 16];
        store(&mut lanes, acc);
        lanes
            .chunks_exact(4)
            .map(|l| i32::from_le_bytes([l[0], l[1], l[2], l[3]]))
            .fold(scalar::dot_i16(&a[i..n], &b[i..n]), i32::wrapping_add)
    }

    pub fn axpy(k: f32, x: &[f32], y: &mut [f32]) {
        // SAFETY: see above.
        unsafe { axpy_sse2(k, x, y) }
    }

    #[target_feature(enable = "sse2")]
    fn axpy_sse2(k: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let vk = _mm_set1_ps(k);
        let mut i = 0;
        while i + 4 <= n {
            let ys = &mut y[i..i + 4];
            // SAFETY: x[i..i + 4] and ys are four in-bounds f32s each;
            // loadu and storeu have no alignment requirement.
            unsafe {
                let vx = _mm_loadu_ps(x[i..i + 4].as_ptr());
                let vy = _mm_loadu_ps(ys.as_ptr());
                _mm_storeu_ps(ys.as_mut_ptr(), _mm_add_ps(vy, _mm_mul_ps(vk, vx)));
            }
            i += 4;
        }
        scalar::axpy(k, &x[i..n], &mut y[i..n]);
    }

    pub fn max_u8(data: &[u8]) -> u8 {
        // SAFETY: see above.
        unsafe { max_u8_sse2(data) }
    }

    #[target_feature(enable = "sse2")]
    fn max_u8_sse2(data: &[u8]) -> u8 {
        let mut chunks = data.chunks_exact(16);
        let mut acc = _mm_setzero_si128();
        for chunk in &mut chunks {
            acc = _mm_max_epu8(acc, load(chunk));
        }
        let mut lanes = [0u8; 16];
        store(&mut lanes, acc);
        scalar::max_u8(&lanes).max(scalar::max_u8(chunks.remainder()))
    }
}

#[cfg(not(any(target_arch = "wasm32", target_arch = "x86_64")))]
mod fast {
    pub use super::scalar::*;
}

/// One of the `smooth3` implementations.
type Smooth3 = fn(&[u8], &[u8], &[u8], &mut [u8]);

/// Blurs `src` into `dst` with the separable [1 2 1] / 4 kernel; the
/// one-pixel border is copied unchanged. `tmp` holds the horizontal pass.
fn blur(src: &[u8], dst: &mut [u8], tmp: &mut [u8], smooth3: Smooth3) {
    let w = WIDTH;
    for (row, out) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        out[0] = row[0];
        out[w - 1] = row[w - 1];
        smooth3(&row[..w - 2], &row[1..w - 1], &row[2..], &mut out[1..w - 1]);
    }
    dst[..w].copy_from_slice(&tmp[..w]);
    dst[(HEIGHT - 1) * w..].copy_from_slice(&tmp[(HEIGHT - 1) * w..]);
    for y in 1..HEIGHT - 1 {
        let (above, here, below) = (
            &tmp[(y - 1) * w..y * w],
            &tmp[y * w..(y + 1) * w],
            &tmp[(y + 1) * w..(y + 2) * w],
        );
        smooth3(above, here, below, &mut dst[y * w..(y + 1) * w]);
    }
}

fn main() {
    let mut rng = Rng::new(0x5eed_0016);
    let mut image = vec![0u8; WIDTH * HEIGHT];
    rng.fill(&mut image);
    let mut blurred = vec![0u8; image.len()];
    let mut tmp = vec![0u8; image.len()];
    let a: Vec<i16> = (0..VECTOR_LEN).map(|_| rng.next_u32() as i16).collect();
    let b: Vec<i16> = (0..VECTOR_LEN).map(|_| rng.next_u32() as i16).collect();
    let x: Vec<f32> = (0..VECTOR_LEN)
        .map(|_| rng.next_f64() as f32 - 0.5)
        .collect();
    let mut y: Vec<f32> = (0..VECTOR_LEN).map(|_| rng.next_f64() as f32).collect();

    let mut sum = Checksum::new();
    for round in 0..ROUNDS {
        if round == 0 {
            let (mut want, mut want_tmp) = (vec![0u8; image.len()], vec![0u8; image.len()]);
            blur(&image, &mut want, &mut want_tmp, scalar::smooth3);
            blur(&image, &mut blurred, &mut tmp, fast::smooth3);
            check(NAME, blurred == want, || {
                "SIMD blur differs from scalar".into()
            });
            for needle in [0u8, 17, 128, 255] {
                let (got, want) = (
                    fast::count_byte(&blurred, needle),
                    scalar::count_byte(&blurred, needle),
                );
                check(NAME, got == want, || {
                    format!("count of {needle}: SIMD {got}, scalar {want}")
                });
            }
            let (got, want) = (fast::dot_i16(&a, &b), scalar::dot_i16(&a, &b));
            check(NAME, got == want, || {
                format!("dot product: SIMD {got}, scalar {want}")
            });
            let mut want_y = y.clone();
            scalar::axpy(0.75, &x, &mut want_y);
            let mut got_y = y.clone();
            fast::axpy(0.75, &x, &mut got_y);
            let same = got_y
                .iter()
                .zip(&want_y)
                .all(|(g, w)| g.to_bits() == w.to_bits());
            check(NAME, same, || "SIMD axpy differs from scalar".into());
            let (got, want) = (fast::max_u8(&image[1..]), scalar::max_u8(&image[1..]));
            check(NAME, got == want, || {
                format!("max: SIMD {got}, scalar {want}")
            });
        }

        // Blur repeatedly: the image converges towards its mean, so fresh
        // noise goes into one band per round to keep the data varied.
        let band = (round as usize * 16) % (HEIGHT - 16) * WIDTH;
        rng.fill(&mut image[band..band + 16 * WIDTH]);
        blur(&image, &mut blurred, &mut tmp, fast::smooth3);
        blur(&blurred, &mut image, &mut tmp, fast::smooth3);
        for needle in (0..=255).step_by(32) {
            sum.u64(fast::count_byte(&image, needle) as u64);
        }
        sum.u64(u64::from(fast::max_u8(&image)));

        for shift in 0..16 {
            let (lo, hi) = a.split_at(shift * 7);
            sum.u64(fast::dot_i16(hi, &b[..hi.len()]) as u32 as u64);
            sum.u64(fast::dot_i16(lo, &b[..lo.len()]) as u32 as u64);
        }
        fast::axpy(if round % 2 == 0 { 0.5 } else { -0.5 }, &x, &mut y);
    }
    sum.bytes(&image);
    y.iter()
        .step_by(61)
        .for_each(|v| sum.u64(u64::from(v.to_bits())));
    finish(NAME, sum.finish(), EXPECTED);
}
