;; The module host.c runs three ways.
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory 1)
  (data (i32.const 8) "abcd")
  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
  (func (export "call_host") (param i32) (result i32)
    (call $host (i32.add (local.get 0) (i32.const 1))))
  ;; Traps with an out-of-bounds access for addresses past 65532.
  (func (export "load") (param i32) (result i32)
    (i32.load (local.get 0)))
  (func (export "div") (param i32) (result i32)
    (i32.div_s (i32.const 100) (local.get 0)))
  ;; Never returns: ends in a stack-overflow trap.
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1))))
