//! Executed-op counting, for measuring the bytecode (`--features
//! op-profile`; never in a default build). Every op the portable loop runs
//! is counted, and with it the pair it forms with the op before, which is
//! what a superinstruction would merge. When the outermost activation on a
//! thread returns, the counts go to the file named by `KILN_OP_PROFILE`.
//!
//! The counts are exact and the same on every run, unlike timings on a
//! shared machine; `benches/compare-revisions.sh --backend ops` compares
//! them across revisions.

extern crate std;

use crate::bytecode::OpCode;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt::Write;

const N: usize = OpCode::Count as usize;

/// Counts of one thread: `pairs[prev * N + op]`.
struct Counts {
    prev: usize,
    pairs: Vec<u64>,
}

std::thread_local! {
    static COUNTS: RefCell<Counts> = RefCell::new(Counts { prev: 0, pairs: vec![0; N * N] });
}

/// Counts one executed op.
#[inline]
pub(super) fn count(op: OpCode) {
    let op = op as usize;
    COUNTS.with(|c| {
        let mut c = c.borrow_mut();
        let i = c.prev * N + op;
        c.pairs[i] += 1;
        c.prev = op;
    });
}

/// Writes this thread's counts to `$KILN_OP_PROFILE`, if set (replacing
/// the file: the last activation to end has counted everything before it).
pub(super) fn write_report() {
    let Some(path) = std::env::var_os("KILN_OP_PROFILE") else {
        return;
    };
    let text = COUNTS.with(|c| report(&c.borrow().pairs));
    if let Err(e) = std::fs::write(&path, text) {
        std::eprintln!("kiln: cannot write the op profile to {path:?}: {e}");
    }
}

/// The report: the total, then ops and pairs by count, each as a share of
/// the total.
fn report(pairs: &[u64]) -> alloc::string::String {
    let total: u64 = pairs.iter().sum();
    let mut ops = vec![0u64; N];
    for (i, &n) in pairs.iter().enumerate() {
        ops[i % N] += n;
    }
    let share = |n: u64| n as f64 * 100.0 / total.max(1) as f64;
    let name = |i: usize| OpCode::ALL[i].name();
    let mut out = alloc::string::String::new();
    let _ = writeln!(out, "total {total}");
    let mut by_op: Vec<(u64, usize)> = ops.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    by_op.sort_by(|a, b| b.cmp(a));
    for &(n, i) in by_op.iter().take_while(|p| p.0 > 0).take(60) {
        let _ = writeln!(out, "{:6.2}% {}", share(n), name(i));
    }
    let _ = writeln!(out, "--- pairs");
    let mut by_pair: Vec<(u64, usize)> = pairs.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    by_pair.sort_by(|a, b| b.cmp(a));
    for &(n, i) in by_pair.iter().take_while(|p| p.0 > 0).take(80) {
        let _ = writeln!(out, "{:6.2}% {} -> {}", share(n), name(i / N), name(i % N));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ranks_ops_and_pairs() {
        let mut pairs = vec![0u64; N * N];
        let (a, b) = (OpCode::Copy as usize, OpCode::Br as usize);
        pairs[a * N + b] = 3;
        pairs[b * N + a] = 1;
        let r = report(&pairs);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[0], "total 4");
        assert_eq!(lines[1], " 75.00% Br");
        assert_eq!(lines[2], " 25.00% Copy");
        assert_eq!(lines[4], " 75.00% Copy -> Br");
    }
}
