//! Measures SHA-256 from the `sha2` crate (portable backend on every
//! target): a chain of digests over a generated buffer, fed both in one call
//! and in uneven pieces.
//!
//! Self-check: the implementation must reproduce the FIPS 180-2 test
//! vectors, incremental and one-shot hashing must agree, and the final chain
//! digest must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use sha2::{Digest, Sha256};

const NAME: &str = "sha256";
const DATA_BYTES: usize = 1 << 20;
const ROUNDS: u32 = 7;
const EXPECTED: u64 = 0xffc1e86e63859df6;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn known_vectors() {
    let cases: [(&[u8], &str); 3] = [
        (
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ];
    for (input, want) in cases {
        let got = hex(&Sha256::digest(input));
        check(NAME, got == want, || format!("sha256({input:?}) = {got}"));
    }
    // One million 'a's, fed in 1000-byte pieces.
    let mut hasher = Sha256::new();
    let piece = [b'a'; 1000];
    for _ in 0..1000 {
        hasher.update(piece);
    }
    let got = hex(&hasher.finalize());
    let want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    check(NAME, got == want, || format!("sha256(a * 10^6) = {got}"));
}

fn main() {
    known_vectors();

    let mut rng = Rng::new(0x5eed_0003);
    let mut data = vec![0u8; DATA_BYTES];
    rng.fill(&mut data);

    let mut sum = Checksum::new();
    let mut chain = [0u8; 32];
    for round in 0..ROUNDS {
        // Each link hashes the previous digest and the buffer, so no round
        // can be skipped or reordered.
        let mut whole = Sha256::new();
        whole.update(chain);
        whole.update(&data);
        let one_shot: [u8; 32] = whole.finalize().into();

        // Odd piece sizes cross the 64-byte block boundary in every way.
        let mut pieces = Sha256::new();
        pieces.update(chain);
        let mut rest = &data[..];
        let mut step = 1 + round as usize;
        while !rest.is_empty() {
            let take = step.min(rest.len());
            pieces.update(&rest[..take]);
            rest = &rest[take..];
            step = step * 7 % 4093 + 1;
        }
        let incremental: [u8; 32] = pieces.finalize().into();
        check(NAME, one_shot == incremental, || {
            format!(
                "round {round}: one-shot {} vs incremental {}",
                hex(&one_shot),
                hex(&incremental)
            )
        });
        chain = one_shot;
        sum.bytes(&chain);
    }
    finish(NAME, sum.finish(), EXPECTED);
}
