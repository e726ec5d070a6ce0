//! Measures a mixed integer workload in the spirit of CoreMark (but not a
//! port of it): linked-list search, reversal and merge sort over an index
//! arena, small 16-bit matrix kernels, a character-driven state machine
//! that classifies numeric tokens, and CRC-16 over everything produced.
//! Each iteration is seeded from the previous iteration's CRC, so no
//! iteration can be skipped or hoisted.
//!
//! Self-check: sorting the list by data must leave it ordered and sorting
//! it back by index must restore the original order; double reversal must
//! be the identity; the state machine must agree with a separate
//! rule-based classifier; the bitwise and table-driven CRCs must agree; and
//! the final CRC chain must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use std::hint::black_box;

const NAME: &str = "coremark";
const ITERATIONS: u32 = 2_000;
const LIST_LEN: usize = 400;
const MATRIX_N: usize = 12;
const EXPECTED: u64 = 0xc5c2ba728326b043;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Node {
    next: u32,
    data: i16,
    idx: i16,
}

/// A singly linked list whose nodes live in a vector and link by index.
struct List {
    nodes: Vec<Node>,
    head: u32,
}

impl List {
    fn new(rng: &mut Rng, len: usize) -> Self {
        let nodes = (0..len)
            .map(|i| Node {
                next: if i + 1 < len { i as u32 + 1 } else { NIL },
                data: rng.next_u32() as i16,
                idx: i as i16,
            })
            .collect();
        List { nodes, head: 0 }
    }

    fn iter(&self) -> impl Iterator<Item = &Node> {
        let mut at = self.head;
        std::iter::from_fn(move || {
            let node = self.nodes.get(at as usize)?;
            at = node.next;
            Some(node)
        })
    }

    /// Position of the first node holding `data`, if any.
    fn find(&self, data: i16) -> Option<usize> {
        self.iter().position(|n| n.data == data)
    }

    fn reverse(&mut self) {
        let (mut prev, mut at) = (NIL, self.head);
        while at != NIL {
            let next = self.nodes[at as usize].next;
            self.nodes[at as usize].next = prev;
            prev = at;
            at = next;
        }
        self.head = prev;
    }

    /// Bottom-up merge sort by relinking, as on a real list: no node moves.
    fn sort_by_key(&mut self, key: impl Fn(&Node) -> i16) {
        let mut width = 1;
        loop {
            let mut merges = 0;
            let mut rest = self.head;
            let (mut new_head, mut tail) = (NIL, NIL);
            while rest != NIL {
                merges += 1;
                let a = rest;
                let mut b = a;
                let mut a_len = 0;
                while a_len < width && b != NIL {
                    b = self.nodes[b as usize].next;
                    a_len += 1;
                }
                let (mut a, mut b, mut b_len) = (a, b, width);
                while a_len > 0 || (b_len > 0 && b != NIL) {
                    let take_a = if a_len == 0 {
                        false
                    } else if b_len == 0 || b == NIL {
                        true
                    } else {
                        key(&self.nodes[a as usize]) <= key(&self.nodes[b as usize])
                    };
                    let node = if take_a {
                        let n = a;
                        a = self.nodes[a as usize].next;
                        a_len -= 1;
                        n
                    } else {
                        let n = b;
                        b = self.nodes[b as usize].next;
                        b_len -= 1;
                        n
                    };
                    if tail == NIL {
                        new_head = node;
                    } else {
                        self.nodes[tail as usize].next = node;
                    }
                    tail = node;
                }
                rest = b;
            }
            self.nodes[tail as usize].next = NIL;
            self.head = new_head;
            if merges <= 1 {
                return;
            }
            width *= 2;
        }
    }
}

fn crc16_update_bitwise(mut crc: u16, byte: u8) -> u16 {
    crc ^= u16::from(byte) << 8;
    for _ in 0..8 {
        crc = if crc & 0x8000 != 0 {
            (crc << 1) ^ 0x1021
        } else {
            crc << 1
        };
    }
    crc
}

struct Crc16 {
    table: [u16; 256],
}

impl Crc16 {
    fn new() -> Self {
        let mut table = [0; 256];
        for (i, t) in table.iter_mut().enumerate() {
            *t = crc16_update_bitwise(0, i as u8);
        }
        Crc16 { table }
    }

    fn update(&self, crc: u16, bytes: &[u8]) -> u16 {
        bytes.iter().fold(crc, |c, &b| {
            (c << 8) ^ self.table[usize::from((c >> 8) as u8 ^ b)]
        })
    }
}

fn crc16_bitwise(crc: u16, bytes: &[u8]) -> u16 {
    bytes.iter().fold(crc, |c, &b| crc16_update_bitwise(c, b))
}

/// C = A * B over i16 inputs with i32 results, then folds every entry
/// through a bit-field extraction the way DSP-style code does.
fn matrix_work(a: &[i16], b: &[i16], c: &mut [i32], n: usize, k: i16) -> u32 {
    for i in 0..n {
        for j in 0..n {
            let mut acc = 0i32;
            for t in 0..n {
                acc = acc.wrapping_add(i32::from(a[i * n + t]) * i32::from(b[t * n + j]));
            }
            c[i * n + j] = acc;
        }
    }
    let mut fold = 0u32;
    for (i, &v) in c.iter().enumerate() {
        let scaled = v.wrapping_mul(i32::from(k)).wrapping_add(i32::from(a[i]));
        let field = (scaled >> 2) & 0xf;
        fold = fold.wrapping_add(if field > 7 {
            (field & 7) as u32
        } else {
            field as u32 * 3
        });
    }
    fold
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Int,
    Float,
    Exp,
    Invalid,
}

/// The state machine: one transition per character.
fn classify_fsm(token: &[u8], transitions: &mut [u32; 8]) -> Kind {
    #[derive(Clone, Copy)]
    enum S {
        Start,
        Sign,
        Int,
        Dot,
        Frac,
        E,
        ESign,
        ExpDigits,
    }
    let mut s = S::Start;
    for &c in token {
        transitions[s as usize] += 1;
        s = match (s, c) {
            (S::Start, b'+' | b'-') => S::Sign,
            (S::Start | S::Sign | S::Int, b'0'..=b'9') => S::Int,
            (S::Start | S::Sign | S::Int, b'.') => S::Dot,
            (S::Dot | S::Frac, b'0'..=b'9') => S::Frac,
            (S::Int | S::Frac, b'e' | b'E') => S::E,
            (S::E, b'+' | b'-') => S::ESign,
            (S::E | S::ESign | S::ExpDigits, b'0'..=b'9') => S::ExpDigits,
            _ => return Kind::Invalid,
        };
    }
    match s {
        S::Int => Kind::Int,
        S::Frac => Kind::Float,
        S::ExpDigits => Kind::Exp,
        _ => Kind::Invalid,
    }
}

/// The same language described as rules over the token's parts.
fn classify_rules(token: &[u8]) -> Kind {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let body = token
        .strip_prefix(b"+")
        .or_else(|| token.strip_prefix(b"-"))
        .unwrap_or(token);
    let (mantissa, exponent) = match body.iter().position(|&c| c == b'e' || c == b'E') {
        Some(p) => (&body[..p], Some(&body[p + 1..])),
        None => (body, None),
    };
    let mantissa_kind = match mantissa.iter().position(|&c| c == b'.') {
        None if digits(mantissa) => Kind::Int,
        Some(p) if digits(&mantissa[p + 1..]) && (p == 0 || digits(&mantissa[..p])) => Kind::Float,
        _ => return Kind::Invalid,
    };
    match exponent {
        None => mantissa_kind,
        Some(e) => {
            let e = e
                .strip_prefix(b"+")
                .or_else(|| e.strip_prefix(b"-"))
                .unwrap_or(e);
            if digits(e) { Kind::Exp } else { Kind::Invalid }
        }
    }
}

fn make_tokens(rng: &mut Rng) -> Vec<u8> {
    let mut text = Vec::new();
    for _ in 0..48 {
        let sign = rng.pick(&[&b""[..], b"+", b"-"]);
        text.extend_from_slice(sign);
        text.extend_from_slice(rng.below(100_000).to_string().as_bytes());
        match rng.below(6) {
            0 | 1 => {}
            2 => text.extend_from_slice(format!(".{}", rng.below(1000)).as_bytes()),
            3 => text.extend_from_slice(format!("e{}", rng.below(40)).as_bytes()),
            4 => text.extend_from_slice(format!(".{}E-{}", rng.below(99), rng.below(9)).as_bytes()),
            _ => text.extend_from_slice(rng.pick(&[&b"x"[..], b".", b"e", b"1.2.3", b"--4"])),
        }
        text.push(b',');
    }
    text
}

fn main() {
    let mut rng = Rng::new(0x5eed_0015);
    let mut list = List::new(&mut rng, LIST_LEN);
    let original: Vec<i16> = list.iter().map(|n| n.data).collect();
    let crc = Crc16::new();
    let n = MATRIX_N;
    let mut c = vec![0i32; n * n];
    let mut transitions = [0u32; 8];
    let mut chain: u16 = 0xffff;

    for iteration in 0..black_box(ITERATIONS) {
        let mut rng = Rng::new(u64::from(chain) << 16 | u64::from(iteration));

        // List: look values up, reverse twice, sort both ways.
        let mut found = 0u32;
        for _ in 0..8 {
            let probe = if rng.chance(1, 2) {
                original[rng.below(LIST_LEN as u32) as usize]
            } else {
                rng.next_u32() as i16
            };
            found = found.wrapping_add(list.find(probe).map_or(0xdead, |p| p as u32));
        }
        list.reverse();
        let reversed_first = list.iter().next().map_or(0, |n| n.idx);
        list.reverse();
        list.sort_by_key(|n| n.data);
        let sorted_ok = list
            .iter()
            .zip(list.iter().skip(1))
            .all(|(a, b)| a.data <= b.data);
        let median = list.iter().nth(LIST_LEN / 2).map_or(0, |n| n.data);
        list.sort_by_key(|n| n.idx);
        if iteration % 64 == 0 {
            check(NAME, sorted_ok, || {
                format!("iteration {iteration}: list not sorted by data")
            });
            check(NAME, reversed_first == LIST_LEN as i16 - 1, || {
                "reverse lost the tail".into()
            });
            let restored = list.iter().map(|n| n.data).eq(original.iter().copied());
            check(NAME, restored, || {
                format!("iteration {iteration}: sorting by index did not restore the list")
            });
        }

        // Matrices whose contents depend on this iteration's seed.
        let a: Vec<i16> = (0..n * n).map(|_| rng.next_u32() as i16 >> 4).collect();
        let b: Vec<i16> = (0..n * n).map(|_| rng.next_u32() as i16 >> 4).collect();
        let fold = matrix_work(&a, &b, &mut c, n, rng.next_u32() as i16);

        // State machine over freshly generated tokens.
        let text = make_tokens(&mut rng);
        let mut kinds = [0u32; 4];
        for token in text.split(|&ch| ch == b',').filter(|t| !t.is_empty()) {
            let kind = classify_fsm(token, &mut transitions);
            if iteration % 16 == 0 {
                let rules = classify_rules(token);
                check(NAME, kind == rules, || {
                    format!(
                        "{:?}: state machine says {kind:?}, rules say {rules:?}",
                        String::from_utf8_lossy(token)
                    )
                });
            }
            kinds[kind as usize] += 1;
        }

        // CRC over everything this iteration produced.
        let mut bytes = Vec::with_capacity(64 + c.len() * 4);
        bytes.extend_from_slice(&found.to_le_bytes());
        bytes.extend_from_slice(&median.to_le_bytes());
        bytes.extend_from_slice(&fold.to_le_bytes());
        for k in kinds {
            bytes.extend_from_slice(&k.to_le_bytes());
        }
        for v in &c {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&text);
        let fast = crc.update(chain, &bytes);
        if iteration % 32 == 0 {
            let slow = crc16_bitwise(chain, &bytes);
            check(NAME, fast == slow, || {
                format!("CRC table {fast:04x} vs bitwise {slow:04x}")
            });
        }
        chain = fast;
    }

    let mut sum = Checksum::new();
    sum.u64(u64::from(chain));
    for t in transitions {
        sum.u64(u64::from(t));
    }
    finish(NAME, sum.finish(), EXPECTED);
}
