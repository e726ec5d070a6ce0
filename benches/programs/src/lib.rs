//! Shared helpers for the Kiln benchmark programs.
//!
//! Every program is a binary that takes no arguments, runs a fixed workload,
//! checks its own result and prints one line, `<name> ok <checksum>`, on
//! success. Everything here is dependency-free so that the lightest programs
//! (`fib`, `sieve`) pull in nothing else.

use std::process;

/// A small permuted congruential generator (PCG-XSH-RR, 64-bit state,
/// 32-bit output).
///
/// Programs need inputs that are the same on every run and every runtime,
/// so the seed is always a constant chosen by the program.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    const MUL: u64 = 6364136223846793005;
    const INC: u64 = 1442695040888963407;

    /// Creates a generator whose stream is fully determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng { state: 0 };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    /// Returns the next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MUL).wrapping_add(Self::INC);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        (u64::from(self.next_u32()) << 32) | u64::from(self.next_u32())
    }

    /// Returns a value in `0..bound` (`bound` must be non-zero).
    ///
    /// Uses the multiply-shift reduction; its slight bias is irrelevant for
    /// generating workloads and it keeps the stream length fixed.
    pub fn below(&mut self, bound: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(bound)) >> 32) as u32
    }

    /// Returns a value in `lo..hi` (`lo < hi`).
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo)
    }

    /// Returns a float uniformly distributed in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        // 53 random bits fill the mantissa exactly.
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Returns `true` with probability `num / den`.
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        self.below(den) < num
    }

    /// Picks one element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(4);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u32().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u32().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

/// An order-sensitive 64-bit checksum (FNV-1a over little-endian words,
/// followed by a final avalanche).
///
/// Programs fold every result they compute into one of these so that the
/// printed checksum changes if any part of the work changes.
#[derive(Clone, Debug)]
pub struct Checksum {
    hash: u64,
}

impl Default for Checksum {
    fn default() -> Self {
        Self::new()
    }
}

impl Checksum {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// Starts an empty checksum.
    pub fn new() -> Self {
        Checksum { hash: Self::OFFSET }
    }

    /// Mixes in a byte string, eight bytes per step so that checksumming
    /// megabytes of output stays a small part of a program's run time.
    pub fn bytes(&mut self, data: &[u8]) {
        let mut words = data.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            self.u64(u64::from_le_bytes(le));
        }
        for &b in words.remainder() {
            self.u64(u64::from(b));
        }
        // The length keeps "ab" + "c" distinct from "a" + "bc".
        self.u64(data.len() as u64);
    }

    /// Mixes in a 64-bit value (whole word at a time, which is much cheaper
    /// than byte-wise FNV and still order-sensitive).
    pub fn u64(&mut self, value: u64) {
        self.hash = (self.hash ^ value).wrapping_mul(Self::PRIME);
        self.hash ^= self.hash >> 29;
    }

    /// Mixes in a float by its exact bit pattern.
    ///
    /// The programs only feed in floats whose computation is fully
    /// specified by IEEE 754 (no fused operations, no transcendental
    /// library calls), so the bits agree between wasm and native.
    pub fn f64(&mut self, value: f64) {
        self.u64(value.to_bits());
    }

    /// Returns the final value.
    pub fn finish(&self) -> u64 {
        // A 64-bit finalizer so that nearby inputs give unrelated outputs.
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^= h >> 33;
        h
    }
}

/// Reports a failed self-check on stderr and exits with status 1.
pub fn fail(name: &str, reason: &str) -> ! {
    eprintln!("{name}: FAILED: {reason}");
    process::exit(1);
}

/// Fails the program with `reason` unless `cond` holds.
pub fn check(name: &str, cond: bool, reason: impl FnOnce() -> String) {
    if !cond {
        fail(name, &reason());
    }
}

/// Compares the checksum with the one recorded for the default workload and
/// prints the single success line, or fails.
///
/// The expected value was computed once on a native build; a wasm build
/// that disagrees has miscomputed something.
pub fn finish(name: &str, checksum: u64, expected: u64) -> ! {
    if checksum != expected {
        fail(
            name,
            &format!("checksum {checksum:016x}, expected {expected:016x}"),
        );
    }
    println!("{name} ok {checksum:016x}");
    process::exit(0);
}
