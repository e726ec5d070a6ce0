//! Measures DEFLATE from `miniz_oxide`: generated semi-compressible data
//! (text-like runs mixed with noise) compressed at several levels, raw and
//! zlib-wrapped, and decompressed again.
//!
//! Self-check: every decompression must reproduce the input exactly, higher
//! levels must not compress worse than level 1 on this data, and the
//! checksum over compressed sizes and bytes must match the recorded
//! constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
use miniz_oxide::inflate::{decompress_to_vec, decompress_to_vec_zlib};

const NAME: &str = "deflate";
const DATA_BYTES: usize = 5 << 17;
const LEVELS: &[u8] = &[1, 6, 9];
const ROUNDS: u32 = 1;
const EXPECTED: u64 = 0xff1b558f5043b0f7;

const VOCAB: &[&str] = &[
    "block",
    "loop",
    "br_if",
    "local.get",
    "i32.add",
    "call",
    "memory",
    "return",
    "(func",
    "(param",
    "i64",
    "f64.mul",
    "end",
    "select",
    "drop",
    ")",
    "\n  ",
];

/// Mostly tokens from a small vocabulary (so LZ77 finds matches), with
/// occasional copies of earlier stretches at long distances and bursts of
/// random bytes that the entropy coder cannot shrink.
fn generate(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len + 4096);
    while data.len() < len {
        match rng.below(16) {
            0 if data.len() > 8192 => {
                let start = rng.below(data.len() as u32 - 4096) as usize;
                let n = rng.range(16, 2048) as usize;
                data.extend_from_within(start..start + n);
            }
            1 => {
                let mut noise = vec![0u8; rng.range(8, 256) as usize];
                rng.fill(&mut noise);
                data.extend_from_slice(&noise);
            }
            2 => data.extend_from_slice(rng.next_u32().to_string().as_bytes()),
            _ => {
                data.extend_from_slice(rng.pick(VOCAB).as_bytes());
                data.push(b' ');
            }
        }
    }
    data.truncate(len);
    data
}

fn main() {
    let mut rng = Rng::new(0x5eed_0004);
    let data = generate(&mut rng, DATA_BYTES);

    let mut sum = Checksum::new();
    for _ in 0..ROUNDS {
        let mut sizes = Vec::new();
        for &level in LEVELS {
            let raw = compress_to_vec(&data, level);
            let back = decompress_to_vec(&raw).unwrap();
            check(NAME, back == data, || {
                format!("level {level}: raw round trip differs")
            });
            sizes.push(raw.len());
            sum.u64(raw.len() as u64);
            sum.bytes(&raw);

            let zlib = compress_to_vec_zlib(&data, level);
            let back = decompress_to_vec_zlib(&zlib).unwrap();
            check(NAME, back == data, || {
                format!("level {level}: zlib round trip differs")
            });
            // The zlib stream is the raw stream plus a 2-byte header and a
            // 4-byte Adler-32 trailer.
            check(NAME, zlib.len() == raw.len() + 6, || {
                format!("level {level}: zlib {} vs raw {}", zlib.len(), raw.len())
            });
        }
        check(NAME, sizes.iter().all(|&s| s < data.len() * 3 / 4), || {
            format!("data barely compressed: {sizes:?}")
        });
        check(NAME, sizes[1] <= sizes[0] && sizes[2] <= sizes[0], || {
            format!("level 1 beat higher levels: {sizes:?}")
        });
    }
    finish(NAME, sum.finish(), EXPECTED);
}
