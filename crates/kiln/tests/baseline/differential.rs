//! Baseline code (fallback off, so every function here is the baseline
//! compiler's) against Cranelift code: the same module, the same inputs,
//! the same results or the same trap.

use kiln::{Config, Engine, Instance, Module, Store, Strategy, Trap, Val};

fn engine(strategy: Strategy) -> Engine {
    let mut config = Config::new();
    config.strategy(strategy).baseline_fallback(false);
    Engine::new(&config).unwrap()
}

/// One module instantiated on both backends.
struct Pair {
    stores: Vec<(Store<()>, Instance)>,
}

impl Pair {
    fn new(wat: &str) -> Pair {
        Pair::with_config(wat, |_| {})
    }

    /// The module on both backends, their configurations adjusted alike.
    fn with_config(wat: &str, adjust: impl Fn(&mut Config)) -> Pair {
        let stores = [Strategy::Baseline, Strategy::Cranelift]
            .into_iter()
            .map(|s| {
                let mut config = Config::new();
                config.strategy(s).baseline_fallback(false);
                adjust(&mut config);
                let engine = Engine::new(&config).unwrap();
                let module = Module::new(&engine, wat)
                    .unwrap_or_else(|e| panic!("{s:?} failed to compile: {e:#}\n{wat}"));
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                (store, instance)
            })
            .collect();
        Pair { stores }
    }

    /// Calls `name` on both and asserts equal outcomes; returns how many
    /// calls trapped.
    fn check(&mut self, name: &str, args: &[Val]) -> bool {
        let mut outcomes = Vec::new();
        for (store, instance) in &mut self.stores {
            let f = instance
                .get_func(&mut *store, name)
                .unwrap_or_else(|| panic!("no export {name}"));
            let n = f.ty(&*store).results().len();
            let mut results = vec![Val::I32(0); n];
            let r = f.call(&mut *store, args, &mut results);
            outcomes.push(match r {
                Ok(()) => Ok(results.iter().map(bits).collect::<Vec<_>>()),
                Err(e) => Err(e
                    .downcast_ref::<Trap>()
                    .map(|t| format!("{:?}", t.code()))
                    .unwrap_or_else(|| format!("{e:#}"))),
            });
        }
        assert_eq!(
            outcomes[0], outcomes[1],
            "{name}{args:?}: baseline (left) and Cranelift (right) differ"
        );
        outcomes[0].is_err()
    }
}

/// A value's bits, with every NaN the same (payloads may differ).
fn bits(v: &Val) -> u64 {
    match *v {
        Val::I32(x) => x as u32 as u64,
        Val::I64(x) => x as u64,
        Val::F32(x) if f32::from_bits(x).is_nan() => 0x7fc0_0000,
        Val::F32(x) => u64::from(x),
        Val::F64(x) if f64::from_bits(x).is_nan() => 0x7ff8_0000_0000_0000,
        Val::F64(x) => x,
        _ => u64::MAX,
    }
}

const I32S: &[i32] = &[
    0,
    1,
    -1,
    2,
    7,
    31,
    32,
    33,
    -32,
    i32::MIN,
    i32::MAX,
    0x1234_5678,
    -0x0f0f_0f10,
];
const I64S: &[i64] = &[
    0,
    1,
    -1,
    2,
    63,
    64,
    65,
    i64::MIN,
    i64::MAX,
    0x1234_5678_9abc_def0,
    u32::MAX as i64,
    i32::MIN as i64,
];
const F64S: &[f64] = &[
    0.0,
    -0.0,
    1.5,
    -1.5,
    2.5,
    -2.5,
    0.49999999999999994,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    2147483647.0,
    2147483648.0,
    -2147483648.0,
    -2147483649.0,
    4294967295.0,
    4294967296.0,
    -1.0,
    -0.9,
    9223372036854775807.0,
    9223372036854775808.0,
    18446744073709551615.0,
    18446744073709551616.0,
    -9223372036854775808.0,
    -9223372036854777856.0,
    1e300,
    f64::MIN_POSITIVE,
];

fn f32s() -> Vec<f32> {
    let mut v: Vec<f32> = F64S.iter().map(|&x| x as f32).collect();
    v.extend([2147483520.0f32, -2147483904.0, 4294967040.0, 16777217.0]);
    v
}

fn vals(ty: &str) -> Vec<Val> {
    match ty {
        "i32" => I32S.iter().map(|&x| Val::I32(x)).collect(),
        "i64" => I64S.iter().map(|&x| Val::I64(x)).collect(),
        "f32" => f32s().into_iter().map(|x| Val::F32(x.to_bits())).collect(),
        _ => F64S.iter().map(|&x| Val::F64(x.to_bits())).collect(),
    }
}

const INT_BINARY: &[&str] = &[
    "add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor", "shl", "shr_s",
    "shr_u", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s",
    "ge_u",
];
const FLOAT_BINARY: &[&str] = &[
    "add", "sub", "mul", "div", "min", "max", "copysign", "eq", "ne", "lt", "gt", "le", "ge",
];
const FLOAT_COMPARE: &[&str] = &["eq", "ne", "lt", "gt", "le", "ge"];

/// Every binary operator, with both operands as parameters, with the
/// right one a constant, and for comparisons feeding `if`, `br_if` and
/// `select` (where the flags are used directly).
#[test]
fn binary_operators_match_cranelift() {
    let mut wat = String::from("(module\n");
    let mut cases = Vec::new();
    for (ty, ops) in [
        ("i32", INT_BINARY),
        ("i64", INT_BINARY),
        ("f32", FLOAT_BINARY),
        ("f64", FLOAT_BINARY),
    ] {
        for op in ops {
            let is_cmp = !ty.starts_with('f') && INT_BINARY[15..].contains(op)
                || ty.starts_with('f') && FLOAT_COMPARE.contains(op);
            let res = if is_cmp { "i32" } else { ty };
            wat += &format!(
                "(func (export \"{ty}.{op}\") (param {ty} {ty}) (result {res}) \
                 ({ty}.{op} (local.get 0) (local.get 1)))\n"
            );
            cases.push((format!("{ty}.{op}"), ty, 2));
            // The right operand a constant: immediates and memory
            // operands take other instruction forms.
            for (k, c) in vals(ty).into_iter().enumerate().step_by(3) {
                let lit = literal(&c);
                wat += &format!(
                    "(func (export \"{ty}.{op}.c{k}\") (param {ty}) (result {res}) \
                     ({ty}.{op} (local.get 0) ({ty}.const {lit})))\n"
                );
                cases.push((format!("{ty}.{op}.c{k}"), ty, 1));
            }
            if is_cmp {
                wat += &format!(
                    "(func (export \"{ty}.{op}.if\") (param {ty} {ty}) (result i32) \
                     (if (result i32) ({ty}.{op} (local.get 0) (local.get 1)) \
                     (then (i32.const 7)) (else (i32.const 9))))\n\
                     (func (export \"{ty}.{op}.br_if\") (param {ty} {ty}) (result i32) \
                     (block $b (br_if $b ({ty}.{op} (local.get 0) (local.get 1))) \
                     (return (i32.const 3))) (i32.const 4))\n\
                     (func (export \"{ty}.{op}.select\") (param {ty} {ty}) (result i64) \
                     (select (i64.const 11) (i64.const -12) ({ty}.{op} (local.get 0) (local.get 1))))\n"
                );
                for form in ["if", "br_if", "select"] {
                    cases.push((format!("{ty}.{op}.{form}"), ty, 2));
                }
            }
        }
    }
    wat += ")";
    let mut pair = Pair::new(&wat);
    let mut traps = 0;
    for (name, ty, arity) in cases {
        for a in vals(ty) {
            if arity == 1 {
                traps += pair.check(&name, &[a]) as u32;
                continue;
            }
            for b in vals(ty) {
                traps += pair.check(&name, &[a, b]) as u32;
            }
        }
    }
    // Division by zero and overflow were among the inputs.
    assert!(traps > 50, "{traps} traps");
}

fn literal(v: &Val) -> String {
    let float = |f: f64| {
        if f.is_nan() {
            "nan".to_string()
        } else if f.is_infinite() {
            if f > 0.0 { "inf" } else { "-inf" }.to_string()
        } else {
            format!("{f:e}")
        }
    };
    match *v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        // Exact: every f32 is an f64, printed in full.
        Val::F32(x) => float(f64::from(f32::from_bits(x))),
        Val::F64(x) => float(f64::from_bits(x)),
        _ => unreachable!(),
    }
}

const UNARY: &[(&str, &str, &str)] = &[
    ("i32.clz", "i32", "i32"),
    ("i32.ctz", "i32", "i32"),
    ("i32.popcnt", "i32", "i32"),
    ("i32.eqz", "i32", "i32"),
    ("i64.clz", "i64", "i64"),
    ("i64.ctz", "i64", "i64"),
    ("i64.popcnt", "i64", "i64"),
    ("i64.eqz", "i64", "i32"),
    ("i32.extend8_s", "i32", "i32"),
    ("i32.extend16_s", "i32", "i32"),
    ("i64.extend8_s", "i64", "i64"),
    ("i64.extend16_s", "i64", "i64"),
    ("i64.extend32_s", "i64", "i64"),
    ("i32.wrap_i64", "i64", "i32"),
    ("i64.extend_i32_s", "i32", "i64"),
    ("i64.extend_i32_u", "i32", "i64"),
    ("f32.abs", "f32", "f32"),
    ("f32.neg", "f32", "f32"),
    ("f32.sqrt", "f32", "f32"),
    ("f32.ceil", "f32", "f32"),
    ("f32.floor", "f32", "f32"),
    ("f32.trunc", "f32", "f32"),
    ("f32.nearest", "f32", "f32"),
    ("f64.abs", "f64", "f64"),
    ("f64.neg", "f64", "f64"),
    ("f64.sqrt", "f64", "f64"),
    ("f64.ceil", "f64", "f64"),
    ("f64.floor", "f64", "f64"),
    ("f64.trunc", "f64", "f64"),
    ("f64.nearest", "f64", "f64"),
    ("f32.demote_f64", "f64", "f32"),
    ("f64.promote_f32", "f32", "f64"),
    ("i32.reinterpret_f32", "f32", "i32"),
    ("i64.reinterpret_f64", "f64", "i64"),
    ("f32.reinterpret_i32", "i32", "f32"),
    ("f64.reinterpret_i64", "i64", "f64"),
    ("f32.convert_i32_s", "i32", "f32"),
    ("f32.convert_i32_u", "i32", "f32"),
    ("f32.convert_i64_s", "i64", "f32"),
    ("f32.convert_i64_u", "i64", "f32"),
    ("f64.convert_i32_s", "i32", "f64"),
    ("f64.convert_i32_u", "i32", "f64"),
    ("f64.convert_i64_s", "i64", "f64"),
    ("f64.convert_i64_u", "i64", "f64"),
    ("i32.trunc_f32_s", "f32", "i32"),
    ("i32.trunc_f32_u", "f32", "i32"),
    ("i32.trunc_f64_s", "f64", "i32"),
    ("i32.trunc_f64_u", "f64", "i32"),
    ("i64.trunc_f32_s", "f32", "i64"),
    ("i64.trunc_f32_u", "f32", "i64"),
    ("i64.trunc_f64_s", "f64", "i64"),
    ("i64.trunc_f64_u", "f64", "i64"),
    ("i32.trunc_sat_f32_s", "f32", "i32"),
    ("i32.trunc_sat_f32_u", "f32", "i32"),
    ("i32.trunc_sat_f64_s", "f64", "i32"),
    ("i32.trunc_sat_f64_u", "f64", "i32"),
    ("i64.trunc_sat_f32_s", "f32", "i64"),
    ("i64.trunc_sat_f32_u", "f32", "i64"),
    ("i64.trunc_sat_f64_s", "f64", "i64"),
    ("i64.trunc_sat_f64_u", "f64", "i64"),
];

#[test]
fn unary_operators_and_conversions_match_cranelift() {
    let mut wat = String::from("(module\n");
    for (op, from, to) in UNARY {
        wat += &format!(
            "(func (export \"{op}\") (param {from}) (result {to}) ({op} (local.get 0)))\n"
        );
    }
    wat += ")";
    let mut pair = Pair::new(&wat);
    let mut traps = 0;
    for (op, from, _) in UNARY {
        for a in vals(from) {
            traps += pair.check(op, &[a]) as u32;
        }
    }
    assert!(traps > 20, "{traps} traps");
}

/// Loads and stores of every width at every alignment near the end of
/// memory (in and out of bounds), under guard pages and explicit checks.
#[test]
fn memory_accesses_match_cranelift() {
    let loads = [
        ("i32.load", "i32"),
        ("i32.load8_s", "i32"),
        ("i32.load8_u", "i32"),
        ("i32.load16_s", "i32"),
        ("i32.load16_u", "i32"),
        ("i64.load", "i64"),
        ("i64.load8_s", "i64"),
        ("i64.load8_u", "i64"),
        ("i64.load16_s", "i64"),
        ("i64.load16_u", "i64"),
        ("i64.load32_s", "i64"),
        ("i64.load32_u", "i64"),
        ("f32.load", "f32"),
        ("f64.load", "f64"),
    ];
    let stores = [
        ("i32.store", "i32"),
        ("i32.store8", "i32"),
        ("i32.store16", "i32"),
        ("i64.store", "i64"),
        ("i64.store8", "i64"),
        ("i64.store16", "i64"),
        ("i64.store32", "i64"),
        ("f32.store", "f32"),
        ("f64.store", "f64"),
    ];
    let mut wat = String::from(
        "(module (memory 1 3) (data (i32.const 65500) \"\\80\\81\\82\\83\\84\\85\\86\\87\\88\\89\\8a\\8b\\8c\\8d\\8e\\8f\\f0\\f1\\f2\\f3\\f4\\f5\\f6\\f7\")\n\
         (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n\
         (func (export \"size\") (result i32) (memory.size))\n",
    );
    for (op, ty) in loads {
        for offset in [0, 1, 7, 65530] {
            wat += &format!(
                "(func (export \"{op}@{offset}\") (param i32) (result {ty}) ({op} offset={offset} (local.get 0)))\n"
            );
        }
    }
    for (op, ty) in stores {
        for offset in [0, 3] {
            wat += &format!(
                "(func (export \"{op}@{offset}\") (param i32 {ty}) ({op} offset={offset} (local.get 0) (local.get 1)))\n\
                 (func (export \"{op}@{offset}.const\") (param i32) ({op} offset={offset} (local.get 0) ({ty}.const -2)))\n"
            );
        }
    }
    wat += ")";
    for explicit in [false, true] {
        // Explicit checks: a reservation too small for guard pages.
        let mut pair = Pair::with_config(&wat, |c| {
            if explicit {
                c.memory_reservation(1 << 20)
                    .memory_guard_size(0)
                    .memory_reservation_for_growth(64 << 10);
            }
        });
        let addrs = [
            0,
            65490,
            65520,
            65528,
            65532,
            65535,
            65536,
            131070,
            -1,
            i32::MIN,
        ];
        for round in 0..2 {
            for (op, ty) in stores {
                for offset in [0, 3] {
                    for &a in &addrs {
                        for v in vals(ty).into_iter().step_by(4) {
                            pair.check(&format!("{op}@{offset}"), &[Val::I32(a), v]);
                        }
                        pair.check(&format!("{op}@{offset}.const"), &[Val::I32(a + 5)]);
                    }
                }
            }
            for (op, _) in loads {
                for offset in [0, 1, 7, 65530] {
                    for &a in &addrs {
                        pair.check(&format!("{op}@{offset}"), &[Val::I32(a)]);
                    }
                }
            }
            pair.check("size", &[]);
            // The second round runs after growth: the old end is in
            // bounds now.
            if round == 0 {
                pair.check("grow", &[Val::I32(1)]);
            }
        }
        pair.check("grow", &[Val::I32(5)]);
        pair.check("size", &[]);
    }
}

/// Division and shifts need fixed registers (rax and rdx, rcx) while
/// other operands are live in registers: the operands moved out of the
/// way must not land in the other fixed register (a value live in rax
/// was once moved to rdx, then back to rax, and the division overwrote
/// it).
#[test]
fn fixed_register_operators_keep_live_operands() {
    let mut wat = String::from("(module\n");
    let ops = [
        "i32.div_u",
        "i32.div_s",
        "i32.rem_u",
        "i32.rem_s",
        "i32.shl",
        "i32.rotr",
    ];
    for op in ops {
        // Live operands computed into the first registers (rax, rcx,
        // rdx, ...) before the fixed-register operator runs.
        wat += &format!(
            "(func (export \"{op}\") (param i32 i32 i32) (result i32)
               (i32.add (local.get 0) (local.get 1))
               (i32.xor (local.get 1) (local.get 2))
               (i32.sub (local.get 2) (local.get 0))
               ({op} (i32.and (local.get 0) (i32.const 0xffff)) (i32.or (local.get 2) (i32.const 3)))
               (i32.add) (i32.mul) (i32.sub))\n\
             (func (export \"{op}.c\") (param i32 i32) (result i32)
               (i32.add (local.get 0) (local.get 1))
               ({op} (local.get 1) (i32.const 7))
               (i32.sub))\n"
        );
    }
    wat += ")";
    let mut pair = Pair::new(&wat);
    for op in ops {
        for (a, b, c) in [
            (1000, 7, 9),
            (-5, 3, 100),
            (123456, -77, 31),
            (i32::MIN, -1, 5),
        ] {
            pair.check(op, &[Val::I32(a), Val::I32(b), Val::I32(c)]);
            pair.check(&format!("{op}.c"), &[Val::I32(a), Val::I32(b)]);
        }
    }
}

/// Hot locals live in registers (rbx, r12, r13 for integers; xmm8-13 for
/// floats, saved around calls since no XMM register survives one): loops
/// that call functions clobbering every XMM register, call builtins
/// (`memory.grow`), reinterpret, tee and select their locals.
#[test]
fn locals_in_registers_survive_calls_and_branches() {
    let wat = r#"(module
      (memory 1)
      (func $clobber (param f64) (result f64)
        (local f64 f64 f64 f64 f64 f64 f64 f64)
        (local.set 1 (f64.mul (local.get 0) (f64.const 3)))
        (local.set 2 (f64.add (local.get 1) (f64.const 1)))
        (local.set 3 (f64.sub (local.get 2) (local.get 0)))
        (local.set 4 (f64.mul (local.get 3) (local.get 3)))
        (local.set 5 (f64.add (local.get 4) (local.get 2)))
        (local.set 6 (f64.sqrt (local.get 5)))
        (local.set 7 (f64.add (local.get 6) (local.get 1)))
        (local.set 8 (f64.div (local.get 7) (f64.const 7)))
        (f64.add (local.get 8) (local.get 6)))
      (func (export "hot") (param $n i32) (result f64)
        (local $i i32) (local $acc i64) (local $x f64) (local $y f32) (local $k i64)
        (local.set $x (f64.const 0.5))
        (local.set $y (f32.const 1.25))
        (loop $l
          (local.set $x (f64.add (local.get $x) (call $clobber (f64.convert_i32_s (local.get $i)))))
          (local.set $y (f32.mul (local.get $y) (f32.const 1.0009765625)))
          (local.set $k (i64.reinterpret_f64 (local.get $x)))
          (local.set $acc (i64.add (local.get $acc)
            (i64.xor (local.get $k) (i64.extend_i32_u (i32.reinterpret_f32 (local.get $y))))))
          (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
            (then (drop (memory.grow (i32.const 0)))))
          (local.set $acc (select (local.get $acc) (i64.rotl (local.get $acc) (i64.const 5))
            (i32.and (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1))))
          (br_if $l (i32.lt_s (local.get $i) (local.get $n))))
        (f64.add (local.get $x)
          (f64.add (f64.promote_f32 (local.get $y)) (f64.convert_i64_s (local.get $acc)))))
      (func (export "swap") (param $a i64) (param $b i64) (param $n i32) (result i64)
        (local $t i64)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $n)))
            (local.set $t (local.get $a))
            (local.set $a (i64.add (local.get $b) (local.get $t)))
            (local.set $b (local.get $t))
            (local.set $n (i32.sub (local.get $n) (i32.const 1)))
            (br_table $l $done $l (i32.and (local.get $n) (i32.const 3)))))
        (i64.sub (local.get $a) (local.get $b))))"#;
    let mut pair = Pair::new(wat);
    for n in [0, 1, 2, 9, 100, 1000] {
        pair.check("hot", &[Val::I32(n)]);
        pair.check("swap", &[Val::I64(3), Val::I64(-7), Val::I32(n)]);
    }
}

/// Control flow with values: multi-value blocks, loop parameters,
/// `br_table` with results, `if` without `else`, early returns, and
/// operands live across blocks and calls.
#[test]
fn control_flow_with_values_matches_cranelift() {
    let wat = r#"(module
      (type $two (func (param i32 i64) (result i64 i32)))
      (func $swap (type $two) (local.get 1) (local.get 0))
      (func (export "blocks") (param i32) (result i64)
        (local i64)
        (i64.const 100)
        (block (param i64) (result i64)
          (i64.const 5) (i64.add)
          (br_if 0 (local.get 0) (i32.const 3) (i32.lt_u))
          (i64.const 1000) (i64.mul))
        (loop $l (param i64) (result i64)
          (local.set 1)
          (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
          (local.get 1)
          (i64.const 3) (i64.add)
          (br_if $l (i32.gt_s (local.get 0) (i32.const 0))))
        (i64.const 7)
        (if (param i64 i64) (result i64) (i32.and (local.get 0) (i32.const 1))
          (then (i64.sub))
          (else (i64.xor)))
        (call $swap (i32.const 9) (i64.const 10))
        (drop) (i64.add))
      (func (export "table") (param i32) (result i32)
        (i32.const 1000)
        (block $a (result i32)
          (block $b (result i32)
            (block $c (result i32)
              (i32.const 1) (i32.const 2) (i32.add)
              (br_table $a $b $c $b (local.get 0)))
            (i32.const 10) (i32.add))
          (i32.const 100) (i32.add))
        (i32.add))
      (func (export "early") (param i32) (result f64)
        (f64.const 1.5)
        (br_if 0 (f64.const 2.5) (local.get 0))
        (f64.add))
      (func (export "no_else") (param i32) (result i32)
        (i32.const 4)
        (if (param i32) (result i32) (local.get 0) (then (i32.const 3) (i32.mul)))))"#;
    let mut pair = Pair::new(wat);
    for x in [-3, 0, 1, 2, 3, 4, 5, 17, 1000] {
        pair.check("blocks", &[Val::I32(x % 40)]);
        pair.check("table", &[Val::I32(x)]);
        pair.check("early", &[Val::I32(x)]);
        pair.check("no_else", &[Val::I32(x)]);
    }
}

/// Calls with more arguments and results than registers (stack arguments
/// and a return area), between baseline functions and from the host,
/// `call_indirect` with its three traps, globals, and recursion.
#[test]
fn calls_match_cranelift() {
    let tys = ["i32", "i64", "f32", "f64"];
    let params = tys.repeat(5).join(" ");
    let results = ["i64", "f64", "i32", "f32"].repeat(5).join(" ");
    // $wide returns its parameters reordered: result i is the parameter
    // of its type from the same group of four.
    let body: String = (0..20)
        .map(|i| {
            let src = 4 * (i / 4) + [1, 3, 0, 2][i % 4];
            format!("(local.get {src}) ")
        })
        .collect();
    let all_args: String = (0..20).map(|i| format!("(local.get {i}) ")).collect();
    let consts: String = (0..20)
        .map(|i| format!("({}.const {}) ", tys[i % 4], i + 1))
        .collect();
    // $sum folds $wide's 20 results (and an f64 after them) into one f64.
    let mut sum = format!("(func $sum (param {results} f64) (result f64) (local.get 20)");
    for i in 0..20 {
        sum += &match i % 4 {
            0 => format!(" (f64.add (f64.convert_i64_s (local.get {i})))"),
            1 => format!(" (f64.add (local.get {i}))"),
            2 => format!(" (f64.add (f64.convert_i32_s (local.get {i})))"),
            _ => format!(" (f64.add (f64.promote_f32 (local.get {i})))"),
        };
    }
    sum += ")";
    let wat = format!(
        r#"(module
      (type $wide (func (param {params}) (result {results})))
      (type $unary (func (param i32) (result i32)))
      (table 4 funcref)
      (elem (i32.const 0) $wide $fib $double)
      (global $g (mut i64) (i64.const 5))
      (func $wide (type $wide) {body})
      {sum}
      (func $double (type $unary) (i32.shl (local.get 0) (i32.const 1)))
      (func $fib (export "fib") (type $unary)
        (if (result i32) (i32.lt_s (local.get 0) (i32.const 2))
          (then (local.get 0))
          (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                         (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
      (func (export "wide") (type $wide) {all_args} (call $wide))
      (func (export "wide_sum") (param i32) (result f64)
        (local i32)
        (call $wide {consts})
        (loop $l
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br_if $l (i32.lt_s (local.get 1) (local.get 0))))
        (f64.const 0.5)
        (call $sum))
      (func (export "indirect") (param i32 i32) (result i32)
        (global.set $g (i64.add (global.get $g) (i64.const 1)))
        (call_indirect (type $unary) (local.get 0) (local.get 1)))
      (func (export "g") (result i64) (global.get $g)))"#
    );
    let mut pair = Pair::new(&wat);
    for n in [0, 1, 2, 10, 20] {
        pair.check("fib", &[Val::I32(n)]);
    }
    let args: Vec<Val> = (0..20)
        .map(|i| match i % 4 {
            0 => Val::I32(i * 3 - 7),
            1 => Val::I64(-(i as i64) << 40),
            2 => Val::F32((i as f32 * 0.25).to_bits()),
            _ => Val::F64((i as f64 * -1.75).to_bits()),
        })
        .collect();
    pair.check("wide", &args);
    pair.check("wide_sum", &[Val::I32(3)]);
    // A function of the type, another type (3 is empty too), out of
    // bounds.
    for (idx, x) in [(1, 10), (2, 21), (0, 1), (3, 1), (4, 1), (-1, 1)] {
        assert_eq!(
            pair.check("indirect", &[Val::I32(x), Val::I32(idx)]),
            idx == 0 || !(0..3).contains(&idx)
        );
    }
    pair.check("g", &[]);
}

/// What the baseline compiler does not translate yet goes to Cranelift
/// when fallback is on, and the two compilers' functions call each other;
/// with fallback off the module is refused, naming the operator.
#[test]
fn fallback_mixes_the_compilers_in_one_module() {
    let wat = r#"(module
      (func $simd (param i32) (result i32)
        (i32x4.extract_lane 2 (i32x4.add (i32x4.splat (local.get 0)) (v128.const i32x4 1 2 3 4))))
      (func $plain (export "plain") (param i32) (result i32)
        (i32.mul (call $simd (local.get 0)) (i32.const 10)))
      (func (export "back") (param i32) (result i32)
        (i32x4.extract_lane 0 (i32x4.splat (call $plain (local.get 0))))))"#;
    let strict = engine(Strategy::Baseline);
    let err = Module::new(&strict, wat).unwrap_err();
    assert!(format!("{err:#}").contains("baseline compiler"), "{err:#}");
    let mut config = Config::new();
    config.strategy(Strategy::Baseline);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let back = instance
        .get_typed_func::<i32, i32>(&mut store, "back")
        .unwrap();
    assert_eq!(back.call(&mut store, 5).unwrap(), 80);
}

/// A trap in baseline code has a backtrace through baseline frames (frame
/// pointers), naming each function and pointing at the trapping operator.
#[test]
fn traps_in_baseline_code_have_backtraces() {
    let wat = r#"(module
      (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
      (func $middle (param i32) (result i32) (i32.add (call $inner (local.get 0)) (i32.const 1)))
      (func (export "outer") (param i32) (result i32) (call $middle (local.get 0))))"#;
    let engine = engine(Strategy::Baseline);
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    let err = outer.call(&mut store, 0).unwrap_err();
    let text = format!("{err:?}");
    let inner = text.find("inner").expect("inner frame");
    let middle = text.find("middle").expect("middle frame");
    assert!(inner < middle, "{text}");
    assert_eq!(
        err.downcast_ref::<Trap>().and_then(|t| t.code()),
        Some(kiln::TrapCode::IntegerDivisionByZero)
    );
    // The store still works.
    assert_eq!(outer.call(&mut store, 1).unwrap(), 2);
}

/// A module precompiled by the baseline compiler loads into an engine of
/// the same configuration, and only there: its fingerprint names the
/// backend.
#[test]
fn precompiled_baseline_code_names_its_backend() {
    let wat = r#"(module (func (export "f") (param i32) (result i32)
      (i32.mul (local.get 0) (i32.const 3))))"#;
    let baseline = engine(Strategy::Baseline);
    let bytes = baseline.precompile_module(wat.as_bytes()).unwrap();
    // SAFETY: the bytes were just written by this engine's configuration.
    let module = unsafe { Module::deserialize(&baseline, &bytes) }.unwrap();
    let mut store = Store::new(&baseline, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance
        .get_typed_func::<i32, i32>(&mut store, "f")
        .unwrap();
    assert_eq!(f.call(&mut store, 14).unwrap(), 42);
    let cranelift = engine(Strategy::Cranelift);
    // SAFETY: as above; the engine must refuse the foreign backend's code.
    let err = match unsafe { Module::deserialize(&cranelift, &bytes) } {
        Ok(_) => panic!("Cranelift's engine loaded baseline code"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("backend"), "{err}");
}

/// Typed function references (`call_ref`, `ref.as_non_null`,
/// `br_on_null`, `br_on_non_null`), `call_indirect` through a 64-bit
/// table, memory64 offsets no address can reach, and a memory of one-byte
/// pages, whose every access is checked.
#[test]
fn function_references_and_64_bit_tables_match_cranelift() {
    let wat = r#"(module
      (type $un (func (param i32) (result i32)))
      (table $t i64 3 funcref)
      (elem (table $t) (i64.const 0) func $inc $dbl)
      (memory $m i64 1)
      (memory $small 1 (pagesize 1))
      (func $inc (type $un) (i32.add (local.get 0) (i32.const 1)))
      (func $dbl (type $un) (i32.shl (local.get 0) (i32.const 1)))
      (elem declare func $inc $dbl)
      (func $pick (param i32) (result (ref null $un))
        (if (result (ref null $un)) (i32.eqz (local.get 0))
          (then (ref.null $un))
          (else (if (result (ref null $un)) (i32.eq (local.get 0) (i32.const 1))
            (then (ref.func $inc)) (else (ref.func $dbl))))))
      (func (export "call_ref") (param i32 i32) (result i32)
        (call_ref $un (local.get 1) (call $pick (local.get 0))))
      (func (export "as_non_null") (param i32) (result i32)
        (call_ref $un (i32.const 20) (ref.as_non_null (call $pick (local.get 0)))))
      (func (export "on_null") (param i32) (result i32)
        (block $null
          (return (call_ref $un (i32.const 5) (br_on_null $null (call $pick (local.get 0))))))
        (i32.const -1))
      (func (export "on_non_null") (param i32) (result i32)
        (call_ref $un (i32.const 7)
          (block $some (result (ref $un))
            (br_on_non_null $some (call $pick (local.get 0)))
            (return (i32.const -2)))))
      (func (export "indirect64") (param i64 i32) (result i32)
        (call_indirect $t (type $un) (local.get 1) (local.get 0)))
      (func (export "far") (param i64) (result i32)
        (i32.load offset=0xfffffffffffffffe (local.get 0)))
      (func (export "small_store") (param i32 i32)
        (i32.store8 $small (local.get 0) (local.get 1)))
      (func (export "small_load") (param i32) (result i32)
        (i32.load16_u $small (local.get 0)))
      (func (export "small_size") (result i32) (memory.size $small)))"#;
    let mut pair = Pair::with_config(wat, |c| {
        c.wasm_custom_page_sizes(true);
    });
    for k in [0, 1, 2] {
        pair.check("call_ref", &[Val::I32(k), Val::I32(10)]);
        pair.check("as_non_null", &[Val::I32(k)]);
        pair.check("on_null", &[Val::I32(k)]);
        pair.check("on_non_null", &[Val::I32(k)]);
    }
    for idx in [0i64, 1, 2, 3, -1, 1 << 40] {
        pair.check("indirect64", &[Val::I64(idx), Val::I32(9)]);
    }
    pair.check("far", &[Val::I64(0)]);
    pair.check("small_size", &[]);
    for addr in [0, 1, 65534, 65535, 65536, -1] {
        pair.check("small_store", &[Val::I32(addr), Val::I32(0x1234)]);
        pair.check("small_load", &[Val::I32(addr)]);
    }
}

/// Tail calls (`return_call`, `return_call_indirect`, `return_call_ref`):
/// with stack arguments (the callee's fewer than or as many as the
/// caller's), a return area, floats, into imports' and tables' code, and
/// a million deep, which only works if each call replaces its frame.
#[test]
fn tail_calls_match_cranelift() {
    // Nine integer and nine float parameters: three of each on the stack.
    let many = "i64 i64 i64 i64 i64 i64 i64 i64 i64 f64 f64 f64 f64 f64 f64 f64 f64 f64";
    let ret9 = "i32 i32 i32 i32 i32 i32 i32 i32 i32";
    let wat = format!(
        r#"(module
      (type $many (func (param i32 {many}) (result i64)))
      (type $count (func (param i32 i64) (result i64)))
      (table 2 funcref)
      (elem (i32.const 0) $count_down $odd)
      (func $sum (param i32 {many}) (result i64)
        (local $acc i64) (local $k i32)
        (local.set $acc (i64.add (i64.add (local.get 1) (local.get 5)) (local.get 9)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.trunc_f64_s (f64.add (local.get 10) (local.get 18)))))
        (i64.add (local.get $acc) (i64.extend_i32_s (local.get 0))))
      ;; Shifts its arguments round and tail-calls itself n times, then
      ;; $sum: the stack arguments move every time.
      (func $rotate (type $many)
        (if (result i64) (i32.eqz (local.get 0))
          (then (return_call $sum (i32.const 7)
            (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)
            (local.get 6) (local.get 7) (local.get 8) (local.get 9)
            (local.get 10) (local.get 11) (local.get 12) (local.get 13) (local.get 14)
            (local.get 15) (local.get 16) (local.get 17) (local.get 18)))
          (else (return_call $rotate (i32.sub (local.get 0) (i32.const 1))
            (local.get 9) (local.get 1) (local.get 2) (local.get 3) (local.get 4)
            (local.get 5) (local.get 6) (local.get 7) (local.get 8)
            (local.get 18) (local.get 10) (local.get 11) (local.get 12) (local.get 13)
            (local.get 14) (local.get 15) (local.get 16) (local.get 17)))))
      ;; Fewer stack arguments than the caller's.
      (func $shrink (type $many)
        (return_call $count_down (local.get 0) (i64.add (local.get 1) (local.get 9))))
      (func $count_down (type $count)
        (if (result i64) (i32.eqz (local.get 0))
          (then (local.get 1))
          (else (return_call_indirect (type $count)
            (i32.sub (local.get 0) (i32.const 1))
            (i64.add (local.get 1) (i64.const 3))
            (i32.and (local.get 0) (i32.const 1))))))
      (func $odd (type $count)
        (return_call_ref $count
          (local.get 0)
          (i64.mul (local.get 1) (i64.const 3))
          (ref.func $count_down)))
      (func $nine (param i32) (result {ret9})
        (local.get 0) (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4)
        (i32.const 5) (i32.const 6) (i32.const 7) (local.get 0))
      (func $nine_tail (param i32) (result {ret9})
        (return_call $nine (i32.mul (local.get 0) (i32.const 3))))
      (func (export "rotate") (param i32 {many}) (result i64)
        (return_call $rotate (local.get 0)
          (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)
          (local.get 6) (local.get 7) (local.get 8) (local.get 9)
          (local.get 10) (local.get 11) (local.get 12) (local.get 13) (local.get 14)
          (local.get 15) (local.get 16) (local.get 17) (local.get 18)))
      (func (export "shrink") (param i32 {many}) (result i64)
        (call $shrink (local.get 0)
          (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)
          (local.get 6) (local.get 7) (local.get 8) (local.get 9)
          (local.get 10) (local.get 11) (local.get 12) (local.get 13) (local.get 14)
          (local.get 15) (local.get 16) (local.get 17) (local.get 18)))
      (func (export "count") (param i32 i64) (result i64)
        (return_call $count_down (local.get 0) (local.get 1)))
      (func (export "nine") (param i32) (result {ret9})
        (call $nine_tail (local.get 0))))"#
    );
    let mut pair = Pair::new(&wat);
    let many = |n: i32| -> Vec<Val> {
        let mut args = vec![Val::I32(n)];
        args.extend((0..9).map(|i| Val::I64(i * 1000 + 1)));
        args.extend((0..9).map(|i| Val::F64((i as f64 * 2.5).to_bits())));
        args
    };
    for n in [0, 1, 2, 9, 10, 1_000_000] {
        pair.check("rotate", &many(n));
        pair.check("shrink", &many(n));
        pair.check("count", &[Val::I32(n), Val::I64(5)]);
    }
    for n in [0, 7, -3] {
        pair.check("nine", &[Val::I32(n)]);
    }
}

/// Wide arithmetic (`i64.add128`, `i64.sub128`, `i64.mul_wide_s/u`) on
/// parameters, constants and locals, with carries and borrows across the
/// halves and products of the extremes.
#[test]
fn wide_arithmetic_matches_cranelift() {
    let wat = r#"(module
      (func (export "add") (param i64 i64 i64 i64) (result i64 i64)
        (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
      (func (export "sub") (param i64 i64 i64 i64) (result i64 i64)
        (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
      (func (export "add_const") (param i64 i64) (result i64 i64)
        (i64.add128 (local.get 0) (local.get 1) (i64.const -1) (i64.const 7)))
      (func (export "mul_s") (param i64 i64) (result i64 i64)
        (i64.mul_wide_s (local.get 0) (local.get 1)))
      (func (export "mul_u") (param i64 i64) (result i64 i64)
        (i64.mul_wide_u (local.get 0) (local.get 1)))
      (func (export "mixed") (param i64 i64) (result i64)
        (local $lo i64) (local $hi i64)
        ;; A product fed into a sum, with a live operand under both.
        (i64.const 5)
        (i64.mul_wide_u (local.get 0) (i64.const 0x1234_5678_9abc_def1))
        (local.set $hi) (local.set $lo)
        (i64.sub128 (local.get $lo) (local.get $hi) (local.get 1) (local.get 0))
        (i64.xor)
        (i64.add)))"#;
    let mut pair = Pair::new(wat);
    let edges: [i64; 8] = [
        0,
        1,
        -1,
        i64::MAX,
        i64::MIN,
        0x7fff_ffff,
        -0x8000_0000,
        0x1234_5678_9abc_def0,
    ];
    for &a in &edges {
        for &b in &edges {
            pair.check("mul_s", &[Val::I64(a), Val::I64(b)]);
            pair.check("mul_u", &[Val::I64(a), Val::I64(b)]);
            pair.check("add_const", &[Val::I64(a), Val::I64(b)]);
            pair.check("mixed", &[Val::I64(a), Val::I64(b)]);
            let quad = [Val::I64(a), Val::I64(b), Val::I64(b), Val::I64(a)];
            pair.check("add", &quad);
            pair.check("sub", &quad);
        }
    }
}

/// `call_indirect` of a non-final type: a function of the type itself, of
/// a structurally equal type, of a subtype (the runtime's check, out of
/// line), of a final type and of a supertype (both traps).
#[test]
fn call_indirect_accepts_subtypes_like_cranelift() {
    let wat = r#"(module
      (type $base (sub (func (param i32) (result i32))))
      (type $derived (sub $base (func (param i32) (result i32))))
      (type $other (sub (func (param i32) (result i32))))
      (type $final (func (param i32) (result i32)))
      (table 5 funcref)
      (elem (i32.const 0) $b $d $o $f)
      (func $b (type $base) (i32.add (local.get 0) (i32.const 1)))
      (func $d (type $derived) (i32.mul (local.get 0) (i32.const 3)))
      (func $o (type $other) (i32.sub (local.get 0) (i32.const 5)))
      (func $f (type $final) (i32.xor (local.get 0) (i32.const 9)))
      (func (export "as_base") (param i32 i32) (result i32)
        (local $keep f64)
        (local.set $keep (f64.const 2.5))
        (i32.add
          (call_indirect (type $base) (local.get 0) (local.get 1))
          (i32.trunc_f64_s (local.get $keep))))
      (func (export "as_derived") (param i32 i32) (result i32)
        (call_indirect (type $derived) (local.get 0) (local.get 1))))"#;
    let mut pair = Pair::new(wat);
    for idx in 0..6 {
        // Base accepts base, derived and other (the same type as base,
        // structurally); derived only derived.
        assert_eq!(
            pair.check("as_base", &[Val::I32(10), Val::I32(idx)]),
            !(0..3).contains(&idx)
        );
        assert_eq!(
            pair.check("as_derived", &[Val::I32(10), Val::I32(idx)]),
            idx != 1
        );
    }
}
