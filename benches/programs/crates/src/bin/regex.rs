//! Measures the `regex` crate: several patterns (literal-prefixed,
//! character-class heavy, case-insensitive, capturing) searched over a
//! generated text of a few megabytes, plus a `replace_all` pass.
//!
//! Self-check: the date pattern's match count and positions are compared
//! with a hand-written scan, the `key=value` captures are summed and compared
//! with a hand-written parser, and the checksum over all counts must match
//! the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use regex::Regex;

const NAME: &str = "regex";
const TEXT_BYTES: usize = 2_000_000;
const ROUNDS: u32 = 2;
const EXPECTED: u64 = 0x1becd7e19ccced9a;

const WORDS: &[&str] = &[
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dog",
    "kiln",
    "wasm",
    "runtime",
    "module",
    "function",
    "memory",
    "table",
    "global",
    "value",
    "stack",
    "frame",
    "branch",
    "loop",
    "block",
    "The",
    "Compiler",
    "interpreter",
    "benchmark",
    "result",
    "error",
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "river",
    "mountain",
    "valley",
    "forest",
    "city",
    "Paris",
    "Berlin",
];
const DOMAINS: &[&str] = &["example", "mail", "kiln", "corp", "uni"];
const TLDS: &[&str] = &["com", "org", "net", "io", "dev"];

/// Builds a text that mixes prose with the things the patterns look for:
/// e-mail addresses, ISO dates, `key=value` pairs and capitalised names.
/// Some near-misses (bad dates, unknown TLDs) keep the matchers honest.
fn generate(rng: &mut Rng, len: usize) -> String {
    let mut text = String::with_capacity(len + 64);
    while text.len() < len {
        match rng.below(20) {
            0 => {
                let user = rng.pick(WORDS).to_lowercase();
                let n = rng.below(100);
                text.push_str(&format!(
                    "{user}{n}@{}.{}",
                    rng.pick(DOMAINS),
                    rng.pick(TLDS)
                ));
            }
            1 => {
                let (y, m, d) = (rng.range(1970, 2040), rng.range(1, 13), rng.range(1, 29));
                text.push_str(&format!("{y:04}-{m:02}-{d:02}"));
            }
            2 => {
                // Near-miss: a date with a one-digit day.
                text.push_str(&format!(
                    "{}-{:02}-{}",
                    rng.range(1000, 9999),
                    rng.below(13),
                    rng.below(10)
                ));
            }
            3 => {
                let key = rng.pick(WORDS).to_lowercase();
                text.push_str(&format!("{key}={}", rng.below(100_000)));
            }
            4 => text.push_str(".\n"),
            5 => text.push_str(&format!("{}", rng.next_u32() % 1_000_000)),
            _ => text.push_str(rng.pick(WORDS)),
        }
        text.push(if rng.chance(1, 12) { ',' } else { ' ' });
        if rng.chance(1, 30) {
            text.push_str("  ");
        }
    }
    text
}

/// Finds non-overlapping `dddd-dd-dd` runs left to right, as the regex
/// `\d{4}-\d{2}-\d{2}` does on ASCII text.
fn naive_dates(text: &[u8]) -> Vec<usize> {
    let shape = b"dddd-dd-dd";
    let mut found = Vec::new();
    let mut i = 0;
    while i + shape.len() <= text.len() {
        let fits = shape.iter().zip(&text[i..]).all(|(&s, &c)| {
            if s == b'd' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        });
        if fits {
            found.push(i);
            i += shape.len();
        } else {
            i += 1;
        }
    }
    found
}

/// Sums the values of `word=digits` pairs, where the key is the maximal run
/// of word characters before the `=`, mirroring `(\w+)=(\d+)`.
fn naive_pairs(text: &[u8]) -> (u64, u64) {
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let (mut count, mut sum) = (0u64, 0u64);
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'=' && i > 0 && is_word(text[i - 1]) {
            let mut j = i + 1;
            let mut value = 0u64;
            while j < text.len() && text[j].is_ascii_digit() {
                value = value * 10 + u64::from(text[j] - b'0');
                j += 1;
            }
            if j > i + 1 {
                count += 1;
                sum += value;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    (count, sum)
}

fn main() {
    let mut rng = Rng::new(0x5eed_0001);
    let text = generate(&mut rng, TEXT_BYTES);

    let email = Regex::new(r"\b[a-z]+[0-9]*@[a-z]+\.(?:com|org|net)\b").unwrap();
    let date = Regex::new(r"\d{4}-\d{2}-\d{2}").unwrap();
    let pair = Regex::new(r"(\w+)=(\d+)").unwrap();
    let names = Regex::new(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b").unwrap();
    let the = Regex::new(r"(?i)\bthe\s+(\w+)").unwrap();
    let spaces = Regex::new(r" {2,}").unwrap();
    let sentence_end = Regex::new(r"[a-z]+\.\n").unwrap();

    let mut sum = Checksum::new();
    for _ in 0..ROUNDS {
        let emails = email.find_iter(&text).count();
        sum.u64(emails as u64);

        let dates: Vec<usize> = date.find_iter(&text).map(|m| m.start()).collect();
        sum.u64(dates.len() as u64);
        let naive = naive_dates(text.as_bytes());
        check(NAME, dates == naive, || {
            format!(
                "date matches: regex {} vs naive {}",
                dates.len(),
                naive.len()
            )
        });

        let (mut pairs, mut total) = (0u64, 0u64);
        for caps in pair.captures_iter(&text) {
            pairs += 1;
            total += caps[2].parse::<u64>().unwrap();
        }
        let (naive_count, naive_total) = naive_pairs(text.as_bytes());
        check(NAME, (pairs, total) == (naive_count, naive_total), || {
            format!("pairs: regex {pairs}/{total} vs naive {naive_count}/{naive_total}")
        });
        sum.u64(pairs);
        sum.u64(total);

        sum.u64(names.find_iter(&text).count() as u64);

        let mut followers = 0u64;
        for caps in the.captures_iter(&text) {
            followers += caps[1].len() as u64;
        }
        sum.u64(followers);

        let squeezed = spaces.replace_all(&text, " ");
        check(NAME, !squeezed.contains("  "), || {
            "replace_all left a double space".into()
        });
        sum.u64(squeezed.len() as u64);

        sum.u64(sentence_end.find_iter(&text).count() as u64);
    }
    finish(NAME, sum.finish(), EXPECTED);
}
