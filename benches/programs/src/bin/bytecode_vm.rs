//! Measures branchy interpreter dispatch: a small register-machine bytecode
//! interpreter (a `match` over an instruction enum in a loop) running four
//! guest programs: trial-division prime counting, Collatz chain lengths, a
//! sieve in guest memory, and recursive Fibonacci through guest calls with
//! a stack kept in guest memory.
//!
//! Self-check: every guest result must equal the same computation done
//! directly in Rust, and the checksum over the results and executed
//! instruction counts must match the recorded constant.

use kiln_bench_programs::{Checksum, check, finish};
use std::hint::black_box;

const NAME: &str = "bytecode_vm";
const EXPECTED: u64 = 0xb33f4b232c5f0da6;

const PRIME_LIMIT: i64 = 26_000;
const COLLATZ_LIMIT: i64 = 34_000;
const SIEVE_LIMIT: i64 = 170_000;
const FIB_N: i64 = 24;

type Reg = u8;

#[derive(Clone, Copy, Debug)]
enum Op {
    Imm(Reg, i64),
    Mov(Reg, Reg),
    Add(Reg, Reg, Reg),
    AddImm(Reg, Reg, i64),
    Mul(Reg, Reg, Reg),
    Rem(Reg, Reg, Reg),
    Shr(Reg, Reg, u8),
    And(Reg, Reg, Reg),
    /// `mem[reg + offset] -> reg`
    Load(Reg, Reg, i64),
    /// `reg -> mem[reg + offset]`
    Store(Reg, Reg, i64),
    Jmp(usize),
    Jlt(Reg, Reg, usize),
    Jle(Reg, Reg, usize),
    Jeq(Reg, Reg, usize),
    Jz(Reg, usize),
    Jnz(Reg, usize),
    Call(usize),
    Ret,
    Halt,
}

struct Vm {
    regs: [i64; 16],
    mem: Vec<i64>,
    calls: Vec<usize>,
    executed: u64,
}

impl Vm {
    fn new(mem_words: usize) -> Self {
        Vm {
            regs: [0; 16],
            mem: vec![0; mem_words],
            calls: Vec::new(),
            executed: 0,
        }
    }

    fn run(&mut self, code: &[Op]) {
        let mut pc = 0;
        let r = &mut self.regs;
        let mut executed = 0u64;
        loop {
            let op = code[pc];
            pc += 1;
            executed += 1;
            match op {
                Op::Imm(d, v) => r[d as usize] = v,
                Op::Mov(d, s) => r[d as usize] = r[s as usize],
                Op::Add(d, a, b) => r[d as usize] = r[a as usize].wrapping_add(r[b as usize]),
                Op::AddImm(d, a, v) => r[d as usize] = r[a as usize].wrapping_add(v),
                Op::Mul(d, a, b) => r[d as usize] = r[a as usize].wrapping_mul(r[b as usize]),
                Op::Rem(d, a, b) => r[d as usize] = r[a as usize] % r[b as usize],
                Op::Shr(d, a, s) => r[d as usize] = r[a as usize] >> s,
                Op::And(d, a, b) => r[d as usize] = r[a as usize] & r[b as usize],
                Op::Load(d, base, off) => {
                    r[d as usize] = self.mem[(r[base as usize] + off) as usize]
                }
                Op::Store(s, base, off) => {
                    self.mem[(r[base as usize] + off) as usize] = r[s as usize]
                }
                Op::Jmp(t) => pc = t,
                Op::Jlt(a, b, t) => {
                    if r[a as usize] < r[b as usize] {
                        pc = t;
                    }
                }
                Op::Jle(a, b, t) => {
                    if r[a as usize] <= r[b as usize] {
                        pc = t;
                    }
                }
                Op::Jeq(a, b, t) => {
                    if r[a as usize] == r[b as usize] {
                        pc = t;
                    }
                }
                Op::Jz(a, t) => {
                    if r[a as usize] == 0 {
                        pc = t;
                    }
                }
                Op::Jnz(a, t) => {
                    if r[a as usize] != 0 {
                        pc = t;
                    }
                }
                Op::Call(t) => {
                    self.calls.push(pc);
                    pc = t;
                }
                Op::Ret => pc = self.calls.pop().expect("return with empty call stack"),
                Op::Halt => break,
            }
        }
        self.executed += executed;
    }
}

/// A label-resolving assembler: jumps name labels while code is emitted and
/// are patched with addresses at the end.
#[derive(Default)]
struct Asm {
    code: Vec<Op>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.code.len());
    }

    fn emit(&mut self, op: Op) {
        self.code.push(op);
    }

    fn finish(self) -> Vec<Op> {
        let at = |l: usize| self.labels[l].expect("unbound label");
        self.code
            .iter()
            .map(|&op| match op {
                Op::Jmp(l) => Op::Jmp(at(l)),
                Op::Jlt(a, b, l) => Op::Jlt(a, b, at(l)),
                Op::Jle(a, b, l) => Op::Jle(a, b, at(l)),
                Op::Jeq(a, b, l) => Op::Jeq(a, b, at(l)),
                Op::Jz(a, l) => Op::Jz(a, at(l)),
                Op::Jnz(a, l) => Op::Jnz(a, at(l)),
                Op::Call(l) => Op::Call(at(l)),
                other => other,
            })
            .collect()
    }
}

/// r0 = number of primes below r1, by trial division with odd divisors.
fn prime_count_program(limit: i64) -> Vec<Op> {
    let mut a = Asm::default();
    let (outer, inner, composite, next, done, prime) = (
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
    );
    a.emit(Op::Imm(1, limit));
    a.emit(Op::Imm(0, 1)); // counts 2
    a.emit(Op::Imm(2, 3)); // candidate
    a.emit(Op::Imm(9, 0));
    a.bind(outer);
    a.emit(Op::Jle(1, 2, done));
    a.emit(Op::Imm(3, 3)); // divisor
    a.bind(inner);
    a.emit(Op::Mul(4, 3, 3));
    a.emit(Op::Jlt(2, 4, prime));
    a.emit(Op::Rem(5, 2, 3));
    a.emit(Op::Jz(5, composite));
    a.emit(Op::AddImm(3, 3, 2));
    a.emit(Op::Jmp(inner));
    a.bind(prime);
    a.emit(Op::AddImm(0, 0, 1));
    a.bind(composite);
    a.bind(next);
    a.emit(Op::AddImm(2, 2, 2));
    a.emit(Op::Jmp(outer));
    a.bind(done);
    a.emit(Op::Halt);
    a.finish()
}

/// r0 = total Collatz steps to reach 1 for every start in 1..r1.
fn collatz_program(limit: i64) -> Vec<Op> {
    let mut a = Asm::default();
    let (outer, step, odd, reached, done) = (a.label(), a.label(), a.label(), a.label(), a.label());
    a.emit(Op::Imm(1, limit));
    a.emit(Op::Imm(0, 0));
    a.emit(Op::Imm(2, 1)); // start
    a.emit(Op::Imm(6, 1)); // constant one
    a.emit(Op::Imm(7, 3)); // constant three
    a.bind(outer);
    a.emit(Op::Jle(1, 2, done));
    a.emit(Op::Mov(3, 2));
    a.bind(step);
    a.emit(Op::Jeq(3, 6, reached));
    a.emit(Op::AddImm(0, 0, 1));
    a.emit(Op::And(4, 3, 6));
    a.emit(Op::Jnz(4, odd));
    a.emit(Op::Shr(3, 3, 1));
    a.emit(Op::Jmp(step));
    a.bind(odd);
    a.emit(Op::Mul(3, 3, 7));
    a.emit(Op::AddImm(3, 3, 1));
    a.emit(Op::Jmp(step));
    a.bind(reached);
    a.emit(Op::AddImm(2, 2, 1));
    a.emit(Op::Jmp(outer));
    a.bind(done);
    a.emit(Op::Halt);
    a.finish()
}

/// Sieves mem[0..limit] (1 = composite), then r0 = number of primes and
/// r8 = sum of primes.
fn sieve_program(limit: i64) -> Vec<Op> {
    let mut a = Asm::default();
    let (outer, mark, skip, count, count_next, is_prime, done) = (
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
        a.label(),
    );
    a.emit(Op::Imm(1, limit));
    a.emit(Op::Imm(6, 1));
    a.emit(Op::Imm(2, 2)); // i
    a.bind(outer);
    a.emit(Op::Mul(4, 2, 2));
    a.emit(Op::Jle(1, 4, count));
    a.emit(Op::Load(5, 2, 0));
    a.emit(Op::Jnz(5, skip));
    a.bind(mark); // j = r4 starts at i*i
    a.emit(Op::Store(6, 4, 0));
    a.emit(Op::Add(4, 4, 2));
    a.emit(Op::Jlt(4, 1, mark));
    a.bind(skip);
    a.emit(Op::AddImm(2, 2, 1));
    a.emit(Op::Jmp(outer));
    a.bind(count);
    a.emit(Op::Imm(0, 0));
    a.emit(Op::Imm(8, 0));
    a.emit(Op::Imm(2, 2));
    a.bind(count_next);
    a.emit(Op::Jle(1, 2, done));
    a.emit(Op::Load(5, 2, 0));
    a.emit(Op::Jz(5, is_prime));
    a.emit(Op::AddImm(2, 2, 1));
    a.emit(Op::Jmp(count_next));
    a.bind(is_prime);
    a.emit(Op::AddImm(0, 0, 1));
    a.emit(Op::Add(8, 8, 2));
    a.emit(Op::AddImm(2, 2, 1));
    a.emit(Op::Jmp(count_next));
    a.bind(done);
    a.emit(Op::Halt);
    a.finish()
}

/// r0 = fib(n) by naive recursion. The guest keeps its own stack in memory
/// (r15 is the stack pointer) to save the argument and partial result
/// across the recursive calls.
fn fib_program(n: i64) -> Vec<Op> {
    let mut a = Asm::default();
    let (fib, base, end) = (a.label(), a.label(), a.label());
    a.emit(Op::Imm(15, 0));
    a.emit(Op::Imm(1, n));
    a.emit(Op::Imm(14, 2));
    a.emit(Op::Call(fib));
    a.emit(Op::Jmp(end));
    // fib(r1) -> r0, clobbers r1..r2
    a.bind(fib);
    a.emit(Op::Jlt(1, 14, base));
    a.emit(Op::Store(1, 15, 0));
    a.emit(Op::AddImm(15, 15, 2));
    a.emit(Op::AddImm(1, 1, -1));
    a.emit(Op::Call(fib));
    a.emit(Op::Store(0, 15, -1));
    a.emit(Op::Load(1, 15, -2));
    a.emit(Op::AddImm(1, 1, -2));
    a.emit(Op::Call(fib));
    a.emit(Op::Load(2, 15, -1));
    a.emit(Op::Add(0, 0, 2));
    a.emit(Op::AddImm(15, 15, -2));
    a.emit(Op::Ret);
    a.bind(base);
    a.emit(Op::Mov(0, 1));
    a.emit(Op::Ret);
    a.bind(end);
    a.emit(Op::Halt);
    a.finish()
}

fn primes_native(limit: i64) -> i64 {
    (2..limit)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as i64
}

fn collatz_native(limit: i64) -> i64 {
    let mut total = 0;
    for start in 1..limit {
        let mut x = start;
        while x != 1 {
            x = if x % 2 == 0 { x / 2 } else { 3 * x + 1 };
            total += 1;
        }
    }
    total
}

fn sieve_native(limit: i64) -> (i64, i64) {
    let primes: Vec<i64> = (2..limit)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .collect();
    (primes.len() as i64, primes.iter().sum())
}

fn fib_native(n: i64) -> i64 {
    let (mut a, mut b) = (0, 1);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

fn main() {
    let mut sum = Checksum::new();

    let limit = black_box(PRIME_LIMIT);
    let mut vm = Vm::new(0);
    vm.run(&prime_count_program(limit));
    let want = primes_native(limit);
    check(NAME, vm.regs[0] == want, || {
        format!("guest prime count {} vs {want}", vm.regs[0])
    });
    sum.u64(vm.regs[0] as u64);
    sum.u64(vm.executed);

    let limit = black_box(COLLATZ_LIMIT);
    let mut vm = Vm::new(0);
    vm.run(&collatz_program(limit));
    let want = collatz_native(limit);
    check(NAME, vm.regs[0] == want, || {
        format!("guest collatz total {} vs {want}", vm.regs[0])
    });
    sum.u64(vm.regs[0] as u64);
    sum.u64(vm.executed);

    let limit = black_box(SIEVE_LIMIT);
    let mut vm = Vm::new(limit as usize);
    vm.run(&sieve_program(limit));
    let want = sieve_native(limit);
    check(NAME, (vm.regs[0], vm.regs[8]) == want, || {
        format!("guest sieve {:?} vs {want:?}", (vm.regs[0], vm.regs[8]))
    });
    sum.u64(vm.regs[0] as u64);
    sum.u64(vm.executed);

    let n = black_box(FIB_N);
    let mut vm = Vm::new(1024);
    vm.run(&fib_program(n));
    let want = fib_native(n);
    check(NAME, vm.regs[0] == want, || {
        format!("guest fib({n}) {} vs {want}", vm.regs[0])
    });
    sum.u64(vm.regs[0] as u64);
    sum.u64(vm.executed);

    finish(NAME, sum.finish(), EXPECTED);
}
