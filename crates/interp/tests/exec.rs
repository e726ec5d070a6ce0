//! End-to-end tests of the translator and the loop through a fake host.

mod harness;

use harness::{Instance, TestHost};
use kiln_environ::TrapCode;
use kiln_interp::{TranslateConfig, Trap, TrapReason};

fn f32b(x: f32) -> u64 {
    x.to_bits() as u64
}
fn f64b(x: f64) -> u64 {
    x.to_bits()
}

#[test]
fn arithmetic() {
    let mut i = Instance::new(
        r#"(module
        (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
        (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
        (func (export "rem_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)
        (func (export "rotl") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rotl)
        (func (export "clz") (param i64) (result i64) local.get 0 i64.clz)
        (func (export "ext8") (param i32) (result i32) local.get 0 i32.extend8_s)
        (func (export "fmin") (param f32 f32) (result f32) local.get 0 local.get 1 f32.min)
        (func (export "fmax") (param f64 f64) (result f64) local.get 0 local.get 1 f64.max)
        (func (export "nearest") (param f64) (result f64) local.get 0 f64.nearest)
        (func (export "trunc") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
        (func (export "trunc_u64") (param f64) (result i64) local.get 0 i64.trunc_f64_u)
        (func (export "sat") (param f64) (result i32) local.get 0 i32.trunc_sat_f64_s)
        (func (export "copysign") (param f32 f32) (result f32) local.get 0 local.get 1 f32.copysign)
        (func (export "conv") (param i64) (result f32) local.get 0 f32.convert_i64_u)
        (func (export "wrap") (param i64) (result i32) local.get 0 i32.wrap_i64)
        (func (export "consts") (result i64) i64.const -5 i64.const 3 i64.mul)
    )"#,
    );
    assert_eq!(i.call1("add", &[7, u32::MAX as u64]), 6);
    assert_eq!(
        i.call1("div_s", &[(-7i32) as u32 as u64, 2]),
        (-3i32) as u32 as u64
    );
    assert_eq!(i.trap("div_s", &[1, 0]), TrapCode::IntegerDivisionByZero);
    assert_eq!(
        i.trap("div_s", &[i32::MIN as u32 as u64, u32::MAX as u64]),
        TrapCode::IntegerOverflow
    );
    assert_eq!(i.call1("rem_s", &[i64::MIN as u64, u64::MAX]), 0);
    assert_eq!(i.call1("rotl", &[0x8000_0001, 33]), 3);
    assert_eq!(i.call1("clz", &[1]), 63);
    assert_eq!(i.call1("ext8", &[0x80]), 0xffff_ff80);
    assert_eq!(i.call1("fmin", &[f32b(0.0), f32b(-0.0)]), f32b(-0.0));
    assert!(f32::from_bits(i.call1("fmin", &[f32b(f32::NAN), f32b(1.0)]) as u32).is_nan());
    assert_eq!(i.call1("fmax", &[f64b(-0.0), f64b(0.0)]), f64b(0.0));
    assert_eq!(i.call1("nearest", &[f64b(2.5)]), f64b(2.0));
    assert_eq!(i.call1("nearest", &[f64b(-3.5)]), f64b(-4.0));
    assert_eq!(i.call1("trunc", &[f32b(-2.9)]), (-2i32) as u32 as u64);
    assert_eq!(
        i.trap("trunc", &[f32b(f32::NAN)]),
        TrapCode::BadConversionToInteger
    );
    assert_eq!(
        i.trap("trunc", &[f32b(2147483648.0)]),
        TrapCode::IntegerOverflow
    );
    assert_eq!(
        i.call1("trunc", &[f32b(-2147483648.0)]),
        i32::MIN as u32 as u64
    );
    assert_eq!(i.call1("trunc_u64", &[f64b(-0.9)]), 0);
    assert_eq!(
        i.trap("trunc_u64", &[f64b(-1.0)]),
        TrapCode::IntegerOverflow
    );
    assert_eq!(i.call1("sat", &[f64b(1e20)]), i32::MAX as u32 as u64);
    assert_eq!(i.call1("copysign", &[f32b(1.5), f32b(-0.0)]), f32b(-1.5));
    assert_eq!(i.call1("conv", &[u64::MAX]), f32b(18446744073709551616.0));
    assert_eq!(i.call1("wrap", &[0x1_2345_6789]), 0x2345_6789);
    assert_eq!(i.call1("consts", &[]), (-15i64) as u64);
}

#[test]
fn control_flow() {
    let mut i = Instance::new(
        r#"(module
        (func (export "table") (param i32) (result i32)
          (block (block (block (block
            (br_table 0 1 2 3 (local.get 0)))
            (return (i32.const 10)))
            (return (i32.const 11)))
            (return (i32.const 12)))
          (i32.const 13))
        (func (export "table_vals") (param i32) (result i32)
          (block (result i32)
            (block (result i32)
              (i32.const 100) (local.get 0) (br_table 0 1 0))
            (i32.const 1) (i32.add)))
        (func (export "multi") (param i32 i32) (result i32 i32)
          (local.get 0) (local.get 1)
          (block (param i32 i32) (result i32 i32)
            (br_if 0 (i32.const 1))))
        (func (export "swap") (param i32 i32) (result i32 i32)
          (local.get 1) (local.get 0))
        (func (export "swap_locals") (param i32 i32) (result i32)
          (local.get 0) (local.get 1) (local.set 0) (local.set 1)
          (i32.sub (local.get 0) (local.get 1)))
        (func (export "sum") (param i32) (result i32) (local i32)
          (block (loop
            (br_if 1 (i32.eqz (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br 0)))
          (local.get 1))
        (func (export "ifelse") (param i32) (result i32)
          (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2))))
        (func (export "if_param") (param i32 i32) (result i32)
          (local.get 0)
          (if (param i32) (result i32) (local.get 1)
            (then (i32.const 10) (i32.add))
            (else (i32.const 20) (i32.sub))))
        (func (export "tee") (param i32) (result i32)
          (local.get 0) (local.tee 0 (i32.const 5)) (i32.add))
        (func (export "select") (param i32) (result i64)
          (select (i64.const 3) (i64.const 4) (local.get 0)))
        (func (export "unreachable_tail") (result i32)
          (block (result i32) (br 0 (i32.const 9)) (i32.const 1) (drop) (unreachable)))
        (func (export "br_if_vals") (param i32) (result i32)
          (block (result i32) (i32.const 5) (local.get 0) (br_if 0) (drop) (i32.const 6)))
    )"#,
    );
    for (x, r) in [(0, 10), (1, 11), (2, 12), (3, 13), (99, 13)] {
        assert_eq!(i.call1("table", &[x]), r);
    }
    assert_eq!(i.call1("table_vals", &[0]), 101);
    assert_eq!(i.call1("table_vals", &[1]), 100);
    assert_eq!(i.call1("table_vals", &[7]), 101);
    assert_eq!(i.call("multi", &[3, 4]).unwrap(), vec![3, 4]);
    assert_eq!(i.call("swap", &[3, 4]).unwrap(), vec![4, 3]);
    assert_eq!(i.call1("swap_locals", &[10, 3]), (-7i32) as u32 as u64);
    assert_eq!(i.call1("sum", &[100]), 5050);
    assert_eq!(i.call1("ifelse", &[0]), 2);
    assert_eq!(i.call1("ifelse", &[5]), 1);
    assert_eq!(i.call1("if_param", &[1, 1]), 11);
    assert_eq!(i.call1("if_param", &[1, 0]), (-19i32) as u32 as u64);
    assert_eq!(i.call1("tee", &[1]), 6);
    assert_eq!(i.call1("select", &[1]), 3);
    assert_eq!(i.call1("select", &[0]), 4);
    assert_eq!(i.call1("unreachable_tail", &[]), 9);
    assert_eq!(i.call1("br_if_vals", &[1]), 5);
    assert_eq!(i.call1("br_if_vals", &[0]), 6);
}

const FIB: &str = r#"(module
    (func $fib (export "fib") (param i64) (result i64)
      (if (result i64) (i64.lt_u (local.get 0) (i64.const 2))
        (then (local.get 0))
        (else (i64.add (call $fib (i64.sub (local.get 0) (i64.const 1)))
                       (call $fib (i64.sub (local.get 0) (i64.const 2)))))))
    (func $deep (export "deep") (param i32) (result i32)
      (if (result i32) (i32.eqz (local.get 0))
        (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))))
    (func $count (export "count") (param i64 i64) (result i64)
      (if (result i64) (i64.eqz (local.get 0))
        (then (local.get 1))
        (else (return_call $count (i64.sub (local.get 0) (i64.const 1))
                                  (i64.add (local.get 1) (i64.const 2))))))
    (func (export "spin") (loop (br 0)))
)"#;

#[test]
fn recursion_and_stack_overflow() {
    let mut i = Instance::new(FIB);
    assert_eq!(i.call1("fib", &[20]), 6765);
    assert_eq!(i.call1("deep", &[1000]), 1000);
    assert_eq!(i.trap("deep", &[1_000_000]), TrapCode::StackOverflow);
    // The stack is usable again after the trap.
    assert_eq!(i.call1("fib", &[10]), 55);
    assert_eq!(i.call1("deep", &[1000]), 1000);
    // Tail calls run in constant stack.
    assert_eq!(i.call1("count", &[1_000_000, 0]), 2_000_000);
}

#[test]
fn fuel_and_interrupt() {
    let mut i = Instance::with(FIB, TranslateConfig { consume_fuel: true }, 1 << 20, &[]);
    i.host.state.fuel = 1_000;
    assert_eq!(i.trap("spin", &[]), TrapCode::OutOfFuel);
    i.host.state.fuel = 1_000_000;
    assert_eq!(i.call1("fib", &[10]), 55);
    let used = 1_000_000 - i.host.state.fuel;
    assert!(used > 177 && used < 10_000, "fuel used: {used}");
    let mut j = Instance::new(FIB);
    j.host
        .state
        .interrupt
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(j.trap("spin", &[]), TrapCode::Interrupt);
}

/// A loop whose back-edge `br` was threaded into a copy of the header's
/// test (translate.rs, `back_edge_to_a_test_is_threaded`) counts as before,
/// and the copy still polls the interrupt flag when it jumps backwards.
#[test]
fn threaded_back_edge_counts_and_polls_the_interrupt_flag() {
    const COUNT: &str = r#"(module (func (export "count") (param i32) (result i32) (local i32)
        (block (loop
            (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
            (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br 0)))
        (local.get 1)))"#;
    let mut i = Instance::new(COUNT);
    assert_eq!(i.call1("count", &[0]), 0);
    assert_eq!(i.call1("count", &[1]), 1);
    assert_eq!(i.call1("count", &[100_000]), 100_000);
    i.host
        .state
        .interrupt
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(i.trap("count", &[u32::MAX as u64]), TrapCode::Interrupt);
}

#[test]
fn memory() {
    let mut i = Instance::new(
        r#"(module
        (memory 1 3)
        (data (i32.const 16) "\01\02\03\04\05\06\07\08")
        (data $p "hello")
        (func (export "load64") (param i32) (result i64) (i64.load offset=16 (local.get 0)))
        (func (export "load8s") (param i32) (result i32) (i32.load8_s (local.get 0)))
        (func (export "store") (param i32 i32) (i32.store16 offset=2 (local.get 0) (local.get 1)))
        (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "size") (result i32) (memory.size))
        (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
        (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
        (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
        (func (export "drop") (data.drop $p))
    )"#,
    );
    assert_eq!(i.call1("load64", &[0]), 0x0807_0605_0403_0201);
    assert_eq!(i.call1("load8s", &[0]), 0);
    i.call("store", &[100, 0xfffe]).unwrap();
    assert_eq!(i.call1("load32", &[100]), 0xfffe_0000);
    assert_eq!(i.call1("load8s", &[102]), 0xffff_fffe);
    assert_eq!(i.trap("load32", &[65533]), TrapCode::MemoryOutOfBounds);
    assert_eq!(
        i.trap("load64", &[u32::MAX as u64]),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(i.call1("load32", &[65532]), 0);
    assert_eq!(i.call1("grow", &[1]), 1);
    assert_eq!(i.call1("size", &[]), 2);
    assert_eq!(i.call1("load32", &[65533]), 0);
    assert_eq!(i.call1("grow", &[5]), u32::MAX as u64);
    i.call("fill", &[200, 0xab, 4]).unwrap();
    assert_eq!(i.call1("load32", &[200]), 0xabab_abab);
    assert_eq!(i.trap("fill", &[131070, 0, 3]), TrapCode::MemoryOutOfBounds);
    i.call("copy", &[201, 200, 4]).unwrap();
    assert_eq!(i.call1("load32", &[201]), 0xabab_abab);
    i.call("init", &[300, 1, 4]).unwrap();
    assert_eq!(&i.mem()[300..304], b"ello");
    assert_eq!(i.trap("init", &[300, 2, 4]), TrapCode::MemoryOutOfBounds);
    i.call("drop", &[]).unwrap();
    assert_eq!(i.trap("init", &[300, 0, 1]), TrapCode::MemoryOutOfBounds);
    i.call("init", &[300, 0, 0]).unwrap();
}

#[test]
fn call_indirect_and_tables() {
    let mut i = Instance::new(
        r#"(module
        (type $ii (func (param i32) (result i32)))
        (type $v (func))
        (table $t 4 funcref)
        (elem (table $t) (i32.const 0) func $inc $dbl $nop)
        (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
        (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
        (func $nop (type $v))
        (func (export "call") (param i32 i32) (result i32)
          (call_indirect (type $ii) (local.get 1) (local.get 0)))
        (func (export "tail") (param i32 i32) (result i32)
          (return_call_indirect (type $ii) (local.get 1) (local.get 0)))
        (func (export "size") (result i32) (table.size $t))
        (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
        (func (export "is_null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
        (func (export "set") (param i32) (table.set $t (local.get 0) (ref.func $dbl)))
    )"#,
    );
    assert_eq!(i.call1("call", &[0, 41]), 42);
    assert_eq!(i.call1("call", &[1, 41]), 82);
    assert_eq!(i.call1("tail", &[1, 5]), 10);
    assert_eq!(i.trap("call", &[2, 0]), TrapCode::BadSignature);
    assert_eq!(i.trap("call", &[3, 0]), TrapCode::IndirectCallToNull);
    assert_eq!(i.trap("call", &[4, 0]), TrapCode::UndefinedElement);
    assert_eq!(i.call1("size", &[]), 4);
    assert_eq!(i.call1("grow", &[2]), 4);
    assert_eq!(i.call1("size", &[]), 6);
    assert_eq!(i.call1("is_null", &[5]), 1);
    assert_eq!(i.trap("is_null", &[6]), TrapCode::TableOutOfBounds);
    i.call("set", &[5]).unwrap();
    assert_eq!(i.call1("is_null", &[5]), 0);
    assert_eq!(i.call1("call", &[5, 4]), 8);
}

#[test]
fn simd() {
    let mut i = Instance::new(
        r#"(module
        (memory 1)
        (func (export "add") (param i32 i32) (result i32)
          (i32x4.extract_lane 2
            (i32x4.add (i32x4.splat (local.get 0)) (i32x4.splat (local.get 1)))))
        (func (export "roundtrip") (param i32) (result i64)
          (v128.store (i32.const 32) (v128.const i64x2 0x1111 0x2222))
          (i64x2.extract_lane 1 (v128.load (i32.const 32))))
        (func (export "shuffle") (result i32)
          (i8x16.extract_lane_u 0
            (i8x16.shuffle 16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
              (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
              (v128.const i8x16 99 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0))))
        (func (export "local_v128") (param i32) (result i32) (local v128)
          (local.set 1 (i32x4.splat (local.get 0)))
          (i32x4.extract_lane 3 (i32x4.mul (local.get 1) (local.get 1))))
        (func (export "all_true") (result i32)
          (i32x4.all_true (v128.const i32x4 1 2 3 0)))
        (func (export "load_oob") (param i32) (result i32)
          (i32x4.extract_lane 0 (v128.load (local.get 0))))
    )"#,
    );
    assert_eq!(i.call1("add", &[3, 4]), 7);
    assert_eq!(i.call1("roundtrip", &[0]), 0x2222);
    assert_eq!(i.call1("shuffle", &[]), 99);
    assert_eq!(i.call1("local_v128", &[7]), 49);
    assert_eq!(i.call1("all_true", &[]), 0);
    assert_eq!(i.trap("load_oob", &[65530]), TrapCode::MemoryOutOfBounds);
}

fn host_double(_h: &mut TestHost, slots: &mut [u64]) -> Result<(), Trap> {
    slots[0] = (slots[0] as u32).wrapping_mul(2) as u64;
    Ok(())
}

fn host_fail(_h: &mut TestHost, _slots: &mut [u64]) -> Result<(), Trap> {
    Err(Trap {
        reason: TrapReason::Host(Box::new("boom")),
        backtrace: Vec::new(),
    })
}

fn host_reenter(h: &mut TestHost, slots: &mut [u64]) -> Result<(), Trap> {
    let f = h.reentry;
    let mut s = [slots[0]];
    unsafe { kiln_interp::invoke(h, f, &mut s) }?;
    slots[0] = s[0] + 1;
    Ok(())
}

#[test]
fn host_calls_and_reentry() {
    std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(host_calls_and_reentry_on_a_big_stack)
        .unwrap()
        .join()
        .unwrap();
}

fn host_calls_and_reentry_on_a_big_stack() {
    let mut i = Instance::with(
        r#"(module
        (import "env" "double" (func $double (param i32) (result i32)))
        (import "env" "fail" (func $fail))
        (import "env" "reenter" (func $reenter (param i32) (result i32)))
        (func (export "quad") (param i32) (result i32) (call $double (call $double (local.get 0))))
        (func (export "fail") (nop) (call $fail))
        (func $rec (export "rec") (param i32) (result i32)
          (if (result i32) (i32.eqz (local.get 0))
            (then (i32.const 0))
            (else (call $reenter (i32.sub (local.get 0) (i32.const 1))))))
        (func (export "tail_host") (param i32) (result i32) (return_call $double (local.get 0)))
    )"#,
        TranslateConfig::default(),
        1 << 20,
        &[host_double, host_fail, host_reenter],
    );
    i.host.reentry = i.func("rec");
    assert_eq!(i.call1("quad", &[5]), 20);
    assert_eq!(i.call1("tail_host", &[21]), 42);
    // host -> wasm -> host -> wasm ... 50 levels deep. Each level holds a
    // dispatch frame on the host stack, which in unoptimised builds is
    // tens of KB (the portable loop is one big function), hence the
    // thread with room for it.
    assert_eq!(i.call1("rec", &[50]), 50);
    let t = i.call("fail", &[]).unwrap_err();
    assert!(matches!(t.reason, TrapReason::Host(_)));
    assert_eq!(t.backtrace.len(), 1);
    assert_eq!(t.backtrace[0].func_index, 4);
    assert_eq!(t.backtrace[0].instance, 7);
    assert!(t.backtrace[0].wasm_offset.is_some());
}

#[test]
fn backtrace() {
    let mut i = Instance::new(
        r#"(module
        (func $inner (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
        (func $mid (param i32) (result i32) (call $inner (local.get 0)))
        (func (export "outer") (param i32) (result i32) (call $mid (local.get 0)))
    )"#,
    );
    let t = i.call("outer", &[0]).unwrap_err();
    let funcs: Vec<u32> = t.backtrace.iter().map(|f| f.func_index).collect();
    assert_eq!(funcs, vec![0, 1, 2]);
    let offs: Vec<u32> = t.backtrace.iter().map(|f| f.wasm_offset.unwrap()).collect();
    assert!(offs[0] < offs[1] && offs[1] < offs[2], "{offs:?}");
    assert_eq!(i.call1("outer", &[1]), 1);
}

/// Call records sit past the locals and the results. A function with more
/// result slots than parameters and locals keeps its record above its
/// results; a tail call into a function with another layout moves the
/// record; the chain still returns to the right callers, unwinds and
/// backtraces through every frame.
#[test]
fn call_records_follow_each_frame_layout() {
    let mut i = Instance::new(
        r#"(module
        (func $many (param i32) (result i32 i32 i32 i32 i32 i32)
          (if (result i32 i32 i32 i32 i32 i32) (local.get 0)
            (then (call $many (i32.sub (local.get 0) (i32.const 1)))
                  (return))
            (else (i32.const 1) (i32.const 2) (i32.const 3)
                  (i32.const 4) (i32.const 5) (i32.const 6))))
        (func (export "sum") (param i32) (result i32)
          (call $many (local.get 0))
          (i32.add) (i32.add) (i32.add) (i32.add) (i32.add))
        (func $wide (param i64 i64 i64) (result i64) (local i64 i64)
          (local.set 3 (i64.add (local.get 0) (local.get 1)))
          (i64.add (local.get 3) (local.get 2)))
        (func $narrow (param i32) (result i64)
          (if (result i64) (local.get 0)
            (then (return_call $wide (i64.const 1) (i64.const 2) (i64.extend_i32_u (local.get 0))))
            (else (i64.div_u (i64.const 1) (i64.const 0)))))
        (func (export "tail") (param i32) (result i64)
          (i64.add (call $narrow (local.get 0)) (i64.const 100)))
    )"#,
    );
    assert_eq!(i.call1("sum", &[0]), 21);
    assert_eq!(i.call1("sum", &[50]), 21);
    assert_eq!(i.call1("tail", &[7]), 110);
    let t = i.call("tail", &[0]).unwrap_err();
    let funcs: Vec<u32> = t.backtrace.iter().map(|f| f.func_index).collect();
    assert_eq!(funcs, vec![3, 4]);
    assert_eq!(i.call1("tail", &[1]), 104);
}

/// Constants read from the frame's constant pool: both widths, an `i32`
/// kept zero-extended, an `f32`'s bits, a pooled constant that must be
/// materialised (a call argument, a block result), each frame of a
/// recursion with its own pool, and with fuel metering (whose first
/// region starts after `InitConsts`).
#[test]
fn constant_pool_values() {
    const WAT: &str = r#"(module
        (func $id (param i64) (result i64) (local.get 0))
        (func $sum (export "sum") (param i32) (result i64) (local i64 f32)
          (loop $l
            (local.set 1 (i64.add (local.get 1)
              (i64.extend_i32_u (i32.div_u (i32.const -1) (i32.add (local.get 0) (i32.const 1))))))
            (local.set 1 (i64.add (local.get 1)
              (call $id (i64.sub (i64.const 0x1_0000_0000) (i64.extend_i32_u (local.get 0))))))
            (local.set 2 (f32.div (f32.const 3) (f32.convert_i32_u (i32.add (local.get 0) (i32.const 1)))))
            (local.set 1 (i64.add (local.get 1) (i64.trunc_f32_u (local.get 2))))
            (local.set 1 (i64.add (local.get 1)
              (block (result i64) (i64.const 7))))
            (if (i32.and (local.get 0) (i32.const 1))
              (then (local.set 1 (i64.add (local.get 1)
                (call $sum (i32.const 0))))))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br_if $l (i32.ne (local.get 0) (i32.const -1))))
          (local.get 1)))"#;
    // The same sum computed in Rust, with the same recursion.
    fn sum(n: u32) -> u64 {
        let mut acc = 0u64;
        let mut i = n;
        loop {
            acc = acc.wrapping_add(u64::from(u32::MAX / i.wrapping_add(1)));
            acc = acc.wrapping_add((1u64 << 32) - u64::from(i));
            acc = acc.wrapping_add((3.0f32 / (i.wrapping_add(1) as f32)) as u64);
            acc = acc.wrapping_add(7);
            if i & 1 != 0 {
                acc = acc.wrapping_add(sum(0));
            }
            i = i.wrapping_sub(1);
            if i == u32::MAX {
                return acc;
            }
        }
    }
    let mut i = Instance::new(WAT);
    assert_eq!(i.call1("sum", &[0]), sum(0));
    assert_eq!(i.call1("sum", &[9]), sum(9));
    let mut j = Instance::with(WAT, TranslateConfig { consume_fuel: true }, 1 << 20, &[]);
    j.host.state.fuel = 1_000_000;
    assert_eq!(j.call1("sum", &[9]), sum(9));
}

#[test]
fn globals() {
    let mut i = Instance::new(
        r#"(module
        (global $g (mut i64) (i64.const 40))
        (global $v (mut v128) (v128.const i32x4 1 2 3 4))
        (func (export "inc") (result i64)
          (global.set $g (i64.add (global.get $g) (i64.const 1))) (global.get $g))
        (func (export "vec") (result i32)
          (global.set $v (i32x4.add (global.get $v) (global.get $v)))
          (i32x4.extract_lane 3 (global.get $v)))
    )"#,
    );
    assert_eq!(i.call1("inc", &[]), 41);
    assert_eq!(i.call1("inc", &[]), 42);
    assert_eq!(i.call1("vec", &[]), 8);
}

/// `mul` feeding `add` runs as one `MulAdd` op, which must still round
/// after the multiply (wasm has no fused multiply-add), accept the product
/// on either side, and leave its operands (even one it overwrites) right.
#[test]
fn multiply_add_rounds_twice() {
    let mut i = Instance::new(
        r#"(module
        (func (export "madd64") (param f64 f64 f64) (result f64)
          (f64.add (local.get 2) (f64.mul (local.get 0) (local.get 1))))
        (func (export "madd64_lhs") (param f64 f64 f64) (result f64)
          (f64.add (f64.mul (local.get 0) (local.get 1)) (local.get 2)))
        (func (export "madd32") (param f32 f32 f32) (result f32)
          (f32.add (f32.mul (local.get 0) (local.get 1)) (local.get 2)))
        (func (export "acc") (param f64 i32) (result f64) (local f64)
          (loop
            (local.set 2 (f64.add (local.get 2) (f64.mul (local.get 0) (local.get 0))))
            (br_if 0 (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))))
          (local.get 2))
    )"#,
    );
    // (1 + 2^-30)^2 = 1 + 2^-29 + 2^-60: the 2^-60 is rounded away by the
    // multiply, so adding -(1 + 2^-29) gives exactly 0 (a fused
    // multiply-add would give 2^-60).
    let a = 1.0 + 2f64.powi(-30);
    let c = -(1.0 + 2f64.powi(-29));
    assert_eq!(i.call1("madd64", &[f64b(a), f64b(a), f64b(c)]), f64b(0.0));
    assert_eq!(
        i.call1("madd64_lhs", &[f64b(a), f64b(a), f64b(c)]),
        f64b(0.0)
    );
    let a32 = 1.0 + 2f32.powi(-13);
    let c32 = -(1.0 + 2f32.powi(-12));
    assert_eq!(
        i.call1("madd32", &[f32b(a32), f32b(a32), f32b(c32)]),
        f32b(0.0)
    );
    assert_eq!(
        i.call1("madd64", &[f64b(3.0), f64b(-2.5), f64b(0.25)]),
        f64b(-7.25)
    );
    let inf = i.call1("madd64", &[f64b(f64::INFINITY), f64b(0.0), f64b(1.0)]);
    assert!(f64::from_bits(inf).is_nan());
    assert_eq!(i.call1("acc", &[f64b(1.5), 4]), f64b(9.0));
}

/// Regression: a function holding 65,535 or more values on its operand
/// stack at once used to get its top slots clamped onto the slot below
/// and return a wrong sum; it must either compute the right result or be
/// refused as too big for the bytecode.
#[test]
fn operand_stacks_at_the_slot_limit_are_exact_or_refused() {
    for depth in [65_530u32, 65_533, 65_534, 65_535, 65_536, 65_540] {
        let mut body = "i32.const 1 ".repeat(depth as usize);
        body.push_str(&"i32.add ".repeat(depth as usize - 1));
        let wat = format!("(module (func (export \"sum\") (result i32) {body}))");
        let wasm = wat::parse_str(&wat).unwrap();
        match Instance::from_binary(&wasm, TranslateConfig::default(), 1 << 22, &[]) {
            Ok(mut i) => assert_eq!(i.call1("sum", &[]), depth as u64, "depth {depth}"),
            Err(e) => assert!(e.contains("65535 value slots"), "depth {depth}: {e}"),
        }
    }
}

/// The ops the translator fuses from constants and shifts compute what the
/// separate ops would: shift counts wrap, immediates keep all 64 bits,
/// stored constants are truncated to the store's width and out-of-bounds
/// stores still trap.
#[test]
fn fused_shifts_immediates_and_constant_stores() {
    let mut i = Instance::new(
        r#"(module (memory 1)
        (func (export "index") (param i32 i32) (result i32)
          (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 34))))
        (func (export "index_lhs") (param i32 i32) (result i32)
          (i32.add (i32.shl (local.get 1) (i32.const 3)) (local.get 0)))
        (func (export "into_base") (param i32) (result i32)
          (local.set 0 (i32.add (local.get 0) (i32.shl (local.get 0) (i32.const 1))))
          (local.get 0))
        (func (export "fnv") (param i64) (result i64)
          (i64.mul (i64.xor (local.get 0) (i64.const 0xcbf29ce484222325))
                   (i64.const 0x100000001b3)))
        (func (export "bits") (param i64) (result i64)
          (i64.or (i64.shr_u (i64.and (local.get 0) (i64.const 0xffff0000ffff0000))
                             (i64.const 72))
                  (i64.shl (i64.shr_s (local.get 0) (i64.const 60)) (i64.const 32))))
        (func (export "store") (param i32) (result i64)
          (i64.store (local.get 0) (i64.const -1))
          (i32.store8 offset=1 (local.get 0) (i32.const 0x1234))
          (i32.store16 offset=2 (local.get 0) (i32.const 0xabcd))
          (i64.store32 offset=4 (local.get 0) (i64.const 0x1_2345_6789))
          (i64.load (local.get 0)))
        (func (export "store_oob") (param i32)
          (i32.store offset=2 (local.get 0) (i32.const 7)))
    )"#,
    );
    assert_eq!(i.call1("index", &[100, 5]), 120);
    assert_eq!(i.call1("index", &[1, u32::MAX as u64]), u32::MAX as u64 - 2);
    assert_eq!(i.call1("index_lhs", &[7, 0x2000_0001]), 15);
    assert_eq!(i.call1("into_base", &[5]), 15);
    let fnv = (0x1234u64 ^ 0xcbf2_9ce4_8422_2325).wrapping_mul(0x100_0000_01b3);
    assert_eq!(i.call1("fnv", &[0x1234]), fnv);
    let x = 0x8765_4321_fedc_ba98u64;
    let want = ((x & 0xffff_0000_ffff_0000) >> 8) | (((x as i64 >> 60) as u64) << 32);
    assert_eq!(i.call1("bits", &[x]), want);
    assert_eq!(i.call1("store", &[16]), 0x2345_6789_abcd_34ff);
    assert_eq!(
        i.trap("store_oob", &[65536 - 5]),
        TrapCode::MemoryOutOfBounds
    );
    // The trap left the bytes below the end alone, and the store is usable.
    assert_eq!(i.call1("store", &[65536 - 8]), 0x2345_6789_abcd_34ff);
}

/// Rotations by a constant, and consecutive copies merged into one op,
/// which must still run in order (a swap through a third local).
#[test]
fn fused_rotations_and_copy_pairs() {
    let mut i = Instance::new(
        r#"(module
        (func (export "rotl32") (param i32) (result i32) (i32.rotl (local.get 0) (i32.const 39)))
        (func (export "rotr32") (param i32) (result i32) (i32.rotr (local.get 0) (i32.const 4)))
        (func (export "rotl64") (param i64) (result i64) (i64.rotl (local.get 0) (i64.const 67)))
        (func (export "rotr64") (param i64) (result i64) (i64.rotr (local.get 0) (i64.const 8)))
        (func (export "swap") (param i32 i32) (result i32) (local i32)
          (local.set 2 (local.get 0))
          (local.set 0 (local.get 1))
          (local.set 1 (local.get 2))
          (i32.sub (local.get 0) (local.get 1)))
        (func (export "pick") (param i32 i32 i32) (result i32)
          (block (result i32)
            (br_if 0 (local.get 1) (local.get 0))
            (drop)
            (local.get 2)))
    )"#,
    );
    assert_eq!(i.call1("rotl32", &[0x8000_0001]), 0x0000_00c0);
    assert_eq!(i.call1("rotr32", &[0x1234_5678]), 0x8123_4567);
    assert_eq!(i.call1("rotl64", &[0x8000_0000_0000_0001]), 0xc);
    assert_eq!(
        i.call1("rotr64", &[0x0102_0304_0506_0708]),
        0x0801_0203_0405_0607
    );
    assert_eq!(i.call1("swap", &[10, 3]), (-7i32) as u32 as u64);
    assert_eq!(i.call1("pick", &[1, 42, 7]), 42);
    assert_eq!(i.call1("pick", &[0, 42, 7]), 7);
}

/// Loads that compute their own address (from an `i32.add` of a constant,
/// an `i32.add`, or an add of a shifted index) wrap that sum in 32 bits
/// and only then add the static offset, in 64 bits: a sum that wraps
/// past 4 GiB reads low memory, an offset that carries past 4 GiB traps.
#[test]
fn loads_that_compute_their_address_wrap_like_wasm() {
    let mut i = Instance::new(
        r#"(module (memory 1)
        (data (i32.const 0) "\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f\10")
        (func (export "imm") (param i32) (result i32)
          (i32.load offset=4 (i32.add (local.get 0) (i32.const -8))))
        (func (export "imm64") (param i32) (result i64)
          (i64.load (i32.add (local.get 0) (i32.const 2))))
        (func (export "sum") (param i32 i32) (result i32)
          (i32.load8_u offset=1 (i32.add (local.get 0) (local.get 1))))
        (func (export "index") (param i32 i32) (result i32)
          (i32.load offset=2 (i32.add (local.get 0) (i32.shl (local.get 1) (i32.const 2)))))
        (func (export "chain") (param i32) (result i32)
          (i32.load8_u (i32.add (i32.add (local.get 0) (i32.const 3)) (i32.const -1))))
    )"#,
    );
    // 8 - 8 + 4 = 4: bytes 5..8.
    assert_eq!(i.call1("imm", &[8]), 0x0807_0605);
    // 4 - 8 wraps to 0xffff_fffc; + 4 carries to 2^32 in 64 bits: out of
    // bounds, not address 0.
    assert_eq!(i.trap("imm", &[4]), TrapCode::MemoryOutOfBounds);
    assert_eq!(i.call1("imm64", &[6]), 0x100f_0e0d_0c0b_0a09);
    assert_eq!(i.trap("imm64", &[65530]), TrapCode::MemoryOutOfBounds);
    // 0xffff_ffff + 3 wraps to 2; + 1 = byte 3.
    assert_eq!(i.call1("sum", &[u32::MAX as u64, 3]), 4);
    assert_eq!(i.trap("sum", &[65535, 0]), TrapCode::MemoryOutOfBounds);
    // 0x4000_0001 << 2 wraps to 4; + 0 + 2 = bytes 7..10.
    assert_eq!(i.call1("index", &[0, 0x4000_0001]), 0x0a09_0807);
    assert_eq!(i.call1("index", &[8, 1]), 0x0000_100f);
    assert_eq!(i.call1("chain", &[u32::MAX as u64]), 2);
}

/// Two constant additions in a row run as one op, in order: the second
/// sees the first's result when it reads the local the first wrote; a load
/// of the second's result still folds the addition in.
#[test]
fn paired_constant_additions_run_in_order() {
    let mut i = Instance::new(
        r#"(module (memory 1)
        (data (i32.const 8) "\2a\00\00\00")
        (func (export "seq") (param i32 i32) (result i32)
          (local.set 0 (i32.add (local.get 0) (i32.const 1)))
          (local.set 1 (i32.add (local.get 0) (i32.const 100)))
          (i32.add (i32.mul (local.get 0) (i32.const 1000)) (local.get 1)))
        (func (export "load") (param i32) (result i32)
          (local.set 0 (i32.add (local.get 0) (i32.const 2)))
          (i32.load (i32.add (local.get 0) (i32.const 4))))
    )"#,
    );
    assert_eq!(i.call1("seq", &[5, 0]), 6106);
    assert_eq!(i.call1("load", &[2]), 42);
}
