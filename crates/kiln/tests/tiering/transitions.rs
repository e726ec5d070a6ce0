//! The moment code changes tier: results compared with Cranelift's own
//! code across the switch, traps, exceptions and collections while frames
//! of both tiers (and of on-stack-replacement entries) are on the stack,
//! recursion through both tiers, many stores on many threads tiering the
//! same module at once, and modules dropped while their functions are
//! still being compiled.

use kiln::*;
use std::time::{Duration, Instant};

/// A tiered engine: `threshold`, background or synchronous compilation.
fn tiered(threshold: u32, sync: bool) -> Engine {
    let mut config = Config::new();
    config
        .strategy(Strategy::Tiered)
        .tier_threshold(threshold)
        .tier_synchronously(sync)
        .tier_threads(2);
    Engine::new(&config).unwrap()
}

fn cranelift() -> Engine {
    let mut config = Config::new();
    config.strategy(Strategy::Cranelift);
    Engine::new(&config).unwrap()
}

/// Waits (up to a minute) until `done` holds of `module`'s tiering.
fn wait_for(module: &Module, what: &str, done: impl Fn(&TierStats) -> bool) -> TierStats {
    let start = Instant::now();
    loop {
        let stats = module.tier_stats().expect("a tiered module");
        if done(&stats) {
            return stats;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}: {stats:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Functions of every kind of state a frame carries into optimized code:
/// integer and float locals, operands below a loop, loop parameters,
/// memory, several results, recursion.
const KERNELS: &str = r#"(module
  (memory 1)
  (func $hash (export "hash") (param $n i32) (result i32)
    (local $i i32) (local $h i32) (local $f f64)
    (local.set $h (i32.const 17))
    (i32.const 1000)
    (block (result i32)
      (loop $l
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (local.get $i)))
        (local.set $f (f64.add (local.get $f) (f64.const 0.25)))
        (i32.store8 (i32.and (local.get $i) (i32.const 0xffff)) (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (i32.add (local.get $h) (i32.trunc_f64_s (local.get $f))))
    (i32.add))
  (func $sum (export "sum") (param $n i64) (result i64 f32)
    (local $acc f32)
    ;; The running total is the loop's parameter.
    (i64.const 0)
    (loop $l (param i64) (result i64)
      (local.set $acc (f32.add (local.get $acc) (f32.const 1.5)))
      (i64.add (local.get $n))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.gt_s (local.get $n) (i64.const 0))))
    (local.get $acc))
  (func $checksum (export "checksum") (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 65536))))
    (local.get $s))
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $odd_fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func $odd_fib (param i32) (result i32)
    (local $i i32) (local $a i32) (local $b i32)
    ;; The same numbers by a loop, so recursion alternates between a
    ;; recursive function and a looping one.
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 12))
      (then (call $fib (local.get 0)))
      (else
        (local.set $b (i32.const 1))
        (loop $l
          (local.get $b)
          (local.set $b (i32.add (local.get $a) (local.get $b)))
          (local.set $a)
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get 0))))
        (local.get $a)))))"#;

/// What each kernel returns for a set of arguments, as text.
fn run_kernels(store: &mut Store<()>, instance: &Instance, round: u32) -> Vec<String> {
    let hash = instance
        .get_typed_func::<i32, i32>(&mut *store, "hash")
        .unwrap();
    let sum = instance
        .get_typed_func::<i64, (i64, f32)>(&mut *store, "sum")
        .unwrap();
    let checksum = instance
        .get_typed_func::<(), i32>(&mut *store, "checksum")
        .unwrap();
    let fib = instance
        .get_typed_func::<i32, i32>(&mut *store, "fib")
        .unwrap();
    let n = 1 + round % 7;
    vec![
        format!("{}", hash.call(&mut *store, (n * 997) as i32).unwrap()),
        format!("{:?}", sum.call(&mut *store, i64::from(n * 311)).unwrap()),
        format!("{}", checksum.call(&mut *store, ()).unwrap()),
        format!("{}", fib.call(&mut *store, (10 + n % 10) as i32).unwrap()),
    ]
}

#[test]
fn results_are_identical_across_the_switch() {
    let reference = cranelift();
    let module = Module::new(&reference, KERNELS).unwrap();
    let mut store = Store::new(&reference, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let expected: Vec<Vec<String>> = (0..40)
        .map(|round| run_kernels(&mut store, &instance, round))
        .collect();

    for sync in [true, false] {
        let engine = tiered(50, sync);
        let module = Module::new(&engine, KERNELS).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        // Rounds run while functions are queued, compiled and swapped in
        // (in the background, or before the baseline code goes on).
        for (round, want) in expected.iter().enumerate() {
            let got = run_kernels(&mut store, &instance, round as u32);
            assert_eq!(&got, want, "round {round}, synchronous {sync}");
        }
        let stats = wait_for(&module, "every kernel promoted", |s| s.promoted >= 5);
        assert_eq!(stats.failed, 0, "{stats:?}");
        // And on optimized code only, from a fresh store.
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        for (round, want) in expected.iter().enumerate() {
            let got = run_kernels(&mut store, &instance, round as u32);
            assert_eq!(&got, want, "promoted, round {round}, synchronous {sync}");
        }
    }
}

/// seqhash's shape: one call, one long loop. The loop asks the host
/// every 1000 iterations whether to finish; once told yes it runs 20000
/// more iterations and returns how many it ran (the hash goes to `h`).
const ONE_LONG_LOOP: &str = r#"(module
  (import "host" "ready" (func $ready (result i32)))
  (global $h (export "h") (mut i32) (i32.const 0))
  (func (export "run") (result i32)
    (local $i i32) (local $h i32) (local $left i32)
    (local.set $left (i32.const -1))
    (loop $l
      (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 31)) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.and (i32.lt_s (local.get $left) (i32.const 0))
                   (i32.eqz (i32.rem_u (local.get $i) (i32.const 1000))))
        (then (if (call $ready) (then (local.set $left (i32.const 20000))))))
      (if (i32.gt_s (local.get $left) (i32.const 0))
        (then (local.set $left (i32.sub (local.get $left) (i32.const 1)))))
      (br_if $l (i32.ne (local.get $left) (i32.const 0))))
    (global.set $h (local.get $h))
    (local.get $i)))"#;

/// Runs [`ONE_LONG_LOOP`] in `module` with a host that says yes when
/// `ready` does (given how often it has been asked): the iterations run
/// and the hash.
fn run_until_ready(
    module: &Module,
    ready: impl Fn(u32) -> bool + Send + Sync + 'static,
) -> (i32, i32) {
    let engine = module.engine();
    let mut linker = Linker::new(engine);
    let asked = std::sync::atomic::AtomicU32::new(0);
    linker
        .func_wrap("host", "ready", move || -> i32 {
            let n = asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            ready(n) as i32
        })
        .unwrap();
    let mut store = Store::new(engine, ());
    let instance = linker.instantiate(&mut store, module).unwrap();
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    let iterations = run.call(&mut store, ()).unwrap();
    let hash = instance
        .get_global(&mut store, "h")
        .unwrap()
        .get(&mut store);
    (iterations, hash.i32().unwrap())
}

#[test]
fn a_loop_entered_once_moves_into_optimized_code() {
    // Only on-stack replacement gets this loop out of baseline code. The
    // host says yes once the entry is compiled (so the test does not
    // depend on how soon the background thread runs); the 20000 more
    // iterations reach a check of the counter, which moves the frame.
    let engine = tiered(1000, false);
    let module = Module::new(&engine, ONE_LONG_LOOP).unwrap();
    let watched = module.clone();
    let start = Instant::now();
    let (iterations, hash) = run_until_ready(&module, move |_| {
        start.elapsed() > Duration::from_secs(60) || watched.tier_stats().unwrap().osr_entries >= 1
    });
    let stats = module.tier_stats().unwrap();
    assert!(stats.osr_transfers >= 1, "{stats:?}");
    // Cranelift's code, told yes after as many asks, computes the same.
    // Told yes at iteration 1000k, the loop ends at 1000k + 19999.
    let asks = (iterations + 1 - 20000) as u32 / 1000;
    let reference = Module::new(&cranelift(), ONE_LONG_LOOP).unwrap();
    let want = run_until_ready(&reference, move |n| n >= asks);
    assert_eq!((iterations, hash), want);
}

#[test]
fn recursion_crosses_tiers_in_both_directions() {
    // Synchronous, threshold 1: the outermost frames are baseline code,
    // everything called from the second call on is optimized, and the
    // looping half enters optimized code by on-stack replacement, so the
    // stack mixes all three kinds of frame.
    for (threshold, sync) in [(1, true), (3, true), (20, false)] {
        let engine = tiered(threshold, sync);
        let module = Module::new(&engine, KERNELS).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let fib = instance
            .get_typed_func::<i32, i32>(&mut store, "fib")
            .unwrap();
        for (n, want) in [(1, 1), (12, 144), (20, 6765), (30, 832_040)] {
            assert_eq!(fib.call(&mut store, n).unwrap(), want, "fib({n})");
        }
        if sync {
            let stats = module.tier_stats().unwrap();
            assert!(stats.promoted >= 2, "{stats:?}");
        }
    }
}

#[test]
fn traps_in_optimized_frames_leave_the_store_usable() {
    let engine = tiered(1, true);
    let module = Module::new(
        &engine,
        r#"(module
          (memory 1)
          (func $walk (export "walk") (param $to i32) (result i32)
            (local $i i32) (local $s i32)
            (loop $l
              ;; Faults once $i passes the end of memory.
              (local.set $s (i32.add (local.get $s) (i32.load (local.get $i))))
              (local.set $i (i32.add (local.get $i) (i32.const 4096)))
              (br_if $l (i32.lt_u (local.get $i) (local.get $to))))
            (local.get $s))
          (func $div (export "div") (param i32 i32) (result i32)
            (local $k i32)
            (loop $l
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $k) (i32.const 100))))
            (i32.div_s (local.get 0) (local.get 1))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let walk = instance
        .get_typed_func::<i32, i32>(&mut store, "walk")
        .unwrap();
    let div = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "div")
        .unwrap();
    for round in 0..4 {
        // Round 0 faults in the on-stack-replacement entry, later rounds
        // in the promoted function.
        let err = walk.call(&mut store, 1 << 20).unwrap_err();
        let trap = err.downcast_ref::<Trap>().expect("a trap");
        assert_eq!(
            trap.code(),
            Some(TrapCode::MemoryOutOfBounds),
            "round {round}"
        );
        assert_eq!(trap.trace()[0].func_name(), Some("walk"), "{trap}");
        assert_eq!(walk.call(&mut store, 65536).unwrap(), 0, "round {round}");
        let err = div.call(&mut store, (1, 0)).unwrap_err();
        let trap = err.downcast_ref::<Trap>().expect("a trap");
        assert_eq!(trap.code(), Some(TrapCode::IntegerDivisionByZero));
        assert_eq!(trap.trace()[0].func_name(), Some("div"), "{trap}");
        assert_eq!(
            div.call(&mut store, (i32::MIN, -1))
                .unwrap_err()
                .downcast_ref::<Trap>()
                .and_then(Trap::code),
            Some(TrapCode::IntegerOverflow)
        );
        assert_eq!(div.call(&mut store, (-9, 2)).unwrap(), -4);
    }
    let stats = module.tier_stats().unwrap();
    assert!(stats.promoted == 2 && stats.osr_transfers >= 2, "{stats:?}");
}

#[test]
fn exceptions_unwind_through_frames_of_every_tier() {
    // $loop is baseline code that moves into optimized code while looping
    // and then calls $throw (Cranelift from the start: the baseline
    // compiler hands exceptions to it); $catch catches what comes out.
    let wat = r#"(module
      (tag $e (param i32))
      (func $throw (param i32) (throw $e (local.get 0)))
      (func $loop (param $n i32) (result i32)
        (local $i i32)
        (loop $l
          (if (i32.eq (local.get $i) (local.get $n))
            (then (call $throw (i32.mul (local.get $i) (i32.const 3)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 1000000))))
        (local.get $i))
      (func (export "catch") (param i32) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (drop (call $loop (local.get 0))))
          (return (i32.const -1)))))"#;
    for (threshold, sync) in [(1, true), (100, true), (1000, false)] {
        let engine = tiered(threshold, sync);
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let catch = instance
            .get_typed_func::<i32, i32>(&mut store, "catch")
            .unwrap();
        for n in [0, 5, 500, 200_000, 999_999] {
            assert_eq!(catch.call(&mut store, n).unwrap(), n * 3, "n = {n}");
        }
        assert_eq!(catch.call(&mut store, 1_000_000).unwrap(), -1);
    }
}

#[test]
fn collections_see_through_frames_of_every_tier() {
    // $outer (Cranelift: traced locals) keeps a struct across a call of
    // $loop (baseline, then optimized by on-stack replacement), which
    // calls the host, which collects: the struct must survive, and the
    // frame walk must pass the optimized frames.
    let wat = r#"(module
      (type $s (struct (field (mut i32))))
      (import "host" "collect" (func $collect))
      (func $loop (param $n i32) (result i32)
        (local $i i32)
        (loop $l
          (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 1000)))
            (then (call $collect)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
        (local.get $i))
      (func (export "outer") (param $n i32) (result i32)
        (local $a (ref null $s)) (local $junk (ref null $s)) (local $k i32)
        (local.set $a (struct.new $s (i32.const 41)))
        ;; Garbage, so the collection has something to move and free.
        (loop $g
          (local.set $junk (struct.new $s (local.get $k)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $g (i32.lt_u (local.get $k) (i32.const 1000))))
        (drop (call $loop (local.get $n)))
        (i32.add (struct.get $s 0 (local.get $a)) (i32.const 1))))"#;
    for (threshold, sync) in [(1, true), (500, false)] {
        let engine = tiered(threshold, sync);
        let module = Module::new(&engine, wat).unwrap();
        let mut linker = Linker::new(&engine);
        linker
            .func_wrap("host", "collect", |mut caller: Caller<'_, ()>| {
                caller.gc();
            })
            .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let outer = instance
            .get_typed_func::<i32, i32>(&mut store, "outer")
            .unwrap();
        for n in [1, 10, 5000, 100_000] {
            assert_eq!(outer.call(&mut store, n).unwrap(), 42, "n = {n}");
        }
    }
}

#[test]
fn many_stores_on_many_threads_tier_the_same_module() {
    let reference = cranelift();
    let m = Module::new(&reference, KERNELS).unwrap();
    let mut s = Store::new(&reference, ());
    let i = Instance::new(&mut s, &m, &[]).unwrap();
    let expected: Vec<Vec<String>> = (0..30).map(|r| run_kernels(&mut s, &i, r)).collect();

    for sync in [false, true] {
        let engine = tiered(40, sync);
        let module = Module::new(&engine, KERNELS).unwrap();
        std::thread::scope(|scope| {
            for t in 0..6 {
                let (engine, module, expected) = (&engine, &module, &expected);
                scope.spawn(move || {
                    let mut store = Store::new(engine, ());
                    let instance = Instance::new(&mut store, module, &[]).unwrap();
                    for (round, want) in expected.iter().enumerate() {
                        let got = run_kernels(&mut store, &instance, round as u32);
                        assert_eq!(&got, want, "thread {t}, round {round}, synchronous {sync}");
                    }
                });
            }
        });
        let stats = module.tier_stats().unwrap();
        // Each function and loop is compiled once, however many threads
        // found it hot.
        assert!(stats.queued <= 5 && stats.failed == 0, "{stats:?}");
    }
}

#[test]
fn modules_dropped_while_their_functions_compile() {
    // A function big enough that Cranelift takes a while, made hot, then
    // the module and store dropped at once: the background thread must
    // finish without installing anything and the engine keep working.
    let mut body = String::new();
    for k in 0..3000 {
        body.push_str(&format!(
            "(local.set $x (i32.add (i32.mul (local.get $x) (i32.const {k})) (i32.const 7)))\n"
        ));
    }
    let wat = format!(
        r#"(module (func (export "big") (param $x i32) (result i32) {body} (local.get $x)))"#
    );
    let engine = tiered(2, false);
    for _ in 0..8 {
        let module = Module::new(&engine, &wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let big = instance
            .get_typed_func::<i32, i32>(&mut store, "big")
            .unwrap();
        for x in 0..4 {
            big.call(&mut store, x).unwrap();
        }
        assert!(module.tier_stats().unwrap().queued == 1);
        drop((big, instance, store, module));
    }
    // The engine still tiers a new module.
    let module = Module::new(&engine, KERNELS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    for _ in 0..10 {
        assert_eq!(fib.call(&mut store, 15).unwrap(), 610);
    }
    wait_for(&module, "fib promoted", |s| s.promoted >= 1);
    // And the engine can go while a compilation is still queued.
    let module = Module::new(&engine, &wat).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let big = instance
        .get_typed_func::<i32, i32>(&mut store, "big")
        .unwrap();
    for x in 0..4 {
        big.call(&mut store, x).unwrap();
    }
    drop((big, instance, store, module, engine));
}

#[test]
fn tiered_code_is_not_precompiled() {
    let engine = tiered(10, false);
    let err = engine.precompile_module(b"(module)").unwrap_err();
    assert!(err.to_string().contains("tiered code"), "{err}");
    let module = Module::new(&engine, "(module (func (export \"f\")))").unwrap();
    let err = module.serialize().unwrap_err();
    assert!(err.to_string().contains("tiered code"), "{err}");
    assert_eq!(engine.strategy(), Strategy::Tiered);
    // Other strategies have no tiering to report.
    let m = Module::new(&cranelift(), "(module)").unwrap();
    assert_eq!(m.tier_stats(), None);
}
