//! Measures `serde` + `serde_json` with derived impls: a generated document
//! of nested records is serialized (compact and pretty), parsed back into
//! typed records and into an untyped `Value`, repeatedly.
//!
//! Self-check: every parse must give back records equal to the originals,
//! the untyped tree must convert back to the same records, and the checksum
//! over the serialized bytes must match the recorded constant.

use kiln_bench_programs::{Checksum, Rng, check, finish};
use serde::{Deserialize, Serialize};

const NAME: &str = "json";
const RECORDS: usize = 2_500;
const ROUNDS: u32 = 2;
const EXPECTED: u64 = 0x7c2b030ca4a52876;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Address {
    street: String,
    city: String,
    zip: String,
    geo: (f64, f64),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
enum Role {
    Admin,
    Editor { sections: Vec<String> },
    Viewer(u32),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Record {
    id: u64,
    user_name: String,
    email: String,
    active: bool,
    score: f64,
    balance: i64,
    tags: Vec<String>,
    address: Address,
    role: Role,
    history: Vec<i32>,
    note: Option<String>,
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tos", "vu", "zel", "qua", "ix", "on",
];
const CITIES: &[&str] = &[
    "Lyon", "Osaka", "Quito", "Tromsø", "Zürich", "Accra", "Perth",
];
const TAGS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "new", "vip", "legacy", "trial",
];

fn word(rng: &mut Rng, parts: u32) -> String {
    (0..parts).map(|_| rng.pick(SYLLABLES)).collect()
}

fn record(rng: &mut Rng, id: u64) -> Record {
    let parts = rng.range(2, 5);
    let user_name = word(rng, parts);
    let role = match rng.below(3) {
        0 => Role::Admin,
        1 => Role::Editor {
            sections: (0..rng.below(4)).map(|_| word(rng, 2)).collect(),
        },
        _ => Role::Viewer(rng.next_u32()),
    };
    Record {
        id,
        email: format!("{user_name}@{}.example", word(rng, 2)),
        user_name,
        active: rng.chance(2, 3),
        // Values with few decimal digits, plus the odd large or tiny one,
        // exercise both float printing paths; all round-trip exactly.
        score: match rng.below(4) {
            0 => rng.next_f64() * 1e-5,
            1 => (rng.next_u64() >> 8) as f64,
            _ => f64::from(rng.below(1_000_000)) / 100.0,
        },
        balance: rng.next_u64() as i64 >> rng.below(40),
        tags: (0..rng.below(5))
            .map(|_| rng.pick(TAGS).to_string())
            .collect(),
        address: Address {
            street: format!("{} {} \"Str.\"", rng.range(1, 500), word(rng, 3)),
            city: rng.pick(CITIES).to_string(),
            zip: format!("{:05}", rng.below(100_000)),
            geo: (
                rng.next_f64() * 180.0 - 90.0,
                rng.next_f64() * 360.0 - 180.0,
            ),
        },
        role,
        history: (0..rng.below(12))
            .map(|_| rng.next_u32() as i32 >> 8)
            .collect(),
        note: rng
            .chance(1, 4)
            .then(|| format!("line one\nline\t\"two\" \\ {}", word(rng, 4))),
    }
}

fn main() {
    let mut rng = Rng::new(0x5eed_0002);
    let records: Vec<Record> = (0..RECORDS as u64).map(|id| record(&mut rng, id)).collect();

    let mut sum = Checksum::new();
    for round in 0..ROUNDS {
        let compact = serde_json::to_string(&records).unwrap();
        let pretty = serde_json::to_string_pretty(&records).unwrap();
        sum.bytes(compact.as_bytes());
        sum.u64(pretty.len() as u64);

        let back: Vec<Record> = serde_json::from_str(&compact).unwrap();
        check(NAME, back == records, || {
            format!("round {round}: compact round trip differs")
        });
        let back: Vec<Record> = serde_json::from_str(&pretty).unwrap();
        check(NAME, back == records, || {
            format!("round {round}: pretty round trip differs")
        });

        let tree: serde_json::Value = serde_json::from_str(&compact).unwrap();
        let items = tree.as_array().map_or(0, Vec::len);
        check(NAME, items == RECORDS, || {
            format!("untyped parse found {items} records")
        });
        let back: Vec<Record> = serde_json::from_value(tree).unwrap();
        check(NAME, back == records, || {
            format!("round {round}: Value round trip differs")
        });
    }
    finish(NAME, sum.finish(), EXPECTED);
}
