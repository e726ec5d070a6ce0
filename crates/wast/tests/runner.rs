//! The runner's own logic, on small inline scripts: every assertion kind
//! can pass, and a wrong assertion is reported as a failure at its line.

use kiln_wast::{Report, WastRunner};

fn run(text: &str) -> Report {
    let runner = WastRunner::new(&kiln::Config::new()).expect("engine");
    runner.run_str("inline.wast", text).expect("script parses")
}

#[track_caller]
fn assert_all_pass(text: &str) -> Report {
    let report = run(text);
    assert!(report.is_success(), "unexpected failures:\n{report}");
    assert!(report.passed > 0);
    report
}

const ADD: &str = r#"
(module $m
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "nan64") (result f64) (f64.const nan:0xc000000000000))
  (func (export "two") (result i64 f64) (i64.const -1) (f64.const -0.0))
  (func (export "rec") (param i32) (result i32) (call 5 (local.get 0)))
  (func (param i32) (result i32) (call 5 (local.get 0)))
  (global (export "g") i32 (i32.const 42)))
"#;

#[test]
fn passing_assertions() {
    let report = assert_all_pass(&format!(
        r#"{ADD}
        (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
        (assert_return (invoke $m "add" (i32.const -1) (i32.const 0)) (i32.const -1))
        (assert_return (invoke "nan") (f32.const nan:canonical))
        (assert_return (invoke "nan") (f32.const nan:arithmetic))
        (assert_return (invoke "nan64") (f64.const nan:arithmetic))
        (assert_return (invoke "two") (i64.const -1) (f64.const -0.0))
        (assert_return (get "g") (i32.const 42))
        (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
        (assert_exhaustion (invoke "rec" (i32.const 0)) "call stack exhausted")
        (invoke "add" (i32.const 1) (i32.const 2))
        "#
    ));
    assert_eq!(report.passed, 11);
}

#[test]
fn failing_assert_return_is_reported() {
    let text = format!(
        "{ADD}\n(assert_return (invoke \"add\" (i32.const 1) (i32.const 2)) (i32.const 4))\n"
    );
    let report = run(&text);
    assert_eq!((report.passed, report.failed()), (1, 1), "{report}");
    let failure = &report.failures[0];
    assert_eq!(failure.directive, "assert_return");
    let line = text
        .lines()
        .position(|l| l.starts_with("(assert_return"))
        .unwrap()
        + 1;
    assert_eq!(failure.line, line);
    // Spans point at the directive keyword, just after the paren.
    assert_eq!(failure.column, 2);
    assert!(
        failure.reason.contains("expected i32 4, got i32 3"),
        "{failure}"
    );
}

#[test]
fn failing_assertions_of_every_kind() {
    let report = run(&format!(
        r#"{ADD}
        (assert_return (invoke "add" (i32.const 1) (i32.const 2)) (f32.const 3))
        (assert_return (invoke "add" (i32.const 1) (i32.const 2)))
        (assert_return (invoke "nope"))
        (assert_return (invoke "nan64") (f64.const nan:canonical))
        (assert_trap (invoke "add" (i32.const 1) (i32.const 0)) "integer divide by zero")
        (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "unreachable")
        (assert_invalid (module (func)) "type mismatch")
        (assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end")
        (assert_unlinkable (module (func)) "unknown import")
        (assert_exhaustion (invoke "add" (i32.const 1) (i32.const 0)) "call stack exhausted")
        "#
    ));
    assert_eq!((report.passed, report.failed()), (1, 10), "{report}");
}

#[test]
fn rejection_assertions() {
    assert_all_pass(
        r#"
        (assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
        (assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
        (assert_malformed (module quote "(func (i32.bogus))") "unknown operator")
        (assert_unlinkable
          (module (import "spectest" "nothing" (func)))
          "unknown import")
        (assert_unlinkable
          (module (import "spectest" "print_i32" (func (param i64))))
          "incompatible import type")
        "#,
    );
}

#[test]
fn spectest_and_register() {
    assert_all_pass(
        r#"
        (module $a
          (import "spectest" "print_i32" (func $print (param i32)))
          (import "spectest" "global_i32" (global $g i32))
          (import "spectest" "global_f64" (global $h f64))
          (import "spectest" "table" (table 10 funcref))
          (import "spectest" "memory" (memory 1))
          (func (export "g") (result i32) (call $print (global.get $g)) (global.get $g))
          (func (export "h") (result f64) (global.get $h))
          (func (export "size") (result i32) (memory.size)))
        (assert_return (invoke "g") (i32.const 666))
        (assert_return (invoke "h") (f64.const 666.6))
        (assert_return (invoke "size") (i32.const 1))
        (register "a" $a)
        (module $b
          (import "a" "g" (func $g (result i32)))
          (func (export "twice") (result i32) (i32.add (call $g) (call $g))))
        (assert_return (invoke $b "twice") (i32.const 1332))
        (assert_return (invoke $a "g") (i32.const 666))
        "#,
    );
}

#[test]
fn instantiation_traps() {
    assert_all_pass(
        r#"
        (assert_trap (module (func $f unreachable) (start $f)) "unreachable")
        (assert_trap
          (module (memory 1) (data (i32.const 65536) "x"))
          "out of bounds memory access")
        "#,
    );
}

#[test]
fn references_and_v128() {
    assert_all_pass(
        r#"
        (module
          (func (export "id") (param externref) (result externref) (local.get 0))
          (func (export "null") (result funcref) (ref.null func))
          (func (export "self") (result funcref) (ref.func 0))
          (func (export "v") (param v128) (result v128) (local.get 0))
          (func (export "fnan") (result v128)
            (f32x4.div (v128.const f32x4 0 1 0 1) (v128.const f32x4 0 1 0 1))))
        (assert_return (invoke "id" (ref.extern 7)) (ref.extern 7))
        (assert_return (invoke "id" (ref.null extern)) (ref.null extern))
        (assert_return (invoke "null") (ref.null func))
        (assert_return (invoke "self") (ref.func))
        (assert_return (invoke "v" (v128.const i32x4 1 -2 3 -4)) (v128.const i16x8 1 0 -2 -1 3 0 -4 -1))
        (assert_return (invoke "fnan") (v128.const f32x4 nan:canonical 1 nan:arithmetic 1))
        "#,
    );
    let report = run(r#"
        (module (func (export "id") (param externref) (result externref) (local.get 0)))
        (assert_return (invoke "id" (ref.extern 7)) (ref.extern 8))
        (assert_return (invoke "id" (ref.extern 7)) (ref.null extern))
        "#);
    assert_eq!((report.passed, report.failed()), (1, 2), "{report}");
}

#[test]
fn definitions_and_instances() {
    assert_all_pass(
        r#"
        (module definition $d (global (export "g") (mut i32) (i32.const 5))
          (func (export "inc") (global.set 0 (i32.add (global.get 0) (i32.const 1)))))
        (module instance $i1 $d)
        (module instance $i2 $d)
        (invoke $i1 "inc")
        (assert_return (get $i1 "g") (i32.const 6))
        (assert_return (get $i2 "g") (i32.const 5))
        "#,
    );
}

#[test]
fn unsupported_directives_fail() {
    let report = run(r#"
        (module $m (memory 1 1 shared))
        (thread $t (shared (module $m)) (module (memory 1 1 shared)))
        (wait $t)
        "#);
    assert_eq!(report.passed, 0, "{report}");
    assert_eq!(report.failed(), 3, "{report}");
}

#[test]
fn parse_error_is_an_error() {
    let runner = WastRunner::new(&kiln::Config::new()).unwrap();
    let err = runner
        .run_str("bad.wast", "(module (func)\n(assert_return")
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("bad.wast:2:"), "{text}");
}
