;; What the no_std program runs: calls, a host import, linear memory,
;; a table, and traps that leave the store usable.
(module
  (import "host" "print" (func $print (param i32 i64)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $fib $sum)
  (type $unary (func (param i32) (result i64)))

  (func $fib (param $n i32) (result i64)
    (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
      (then (i64.extend_i32_u (local.get $n)))
      (else
        (i64.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; Writes i*i for i < n into memory as i64s, then sums them back.
  (func $sum (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i64.store (i32.shl (local.get $i) (i32.const 3))
          (i64.mul (i64.extend_i32_u (local.get $i)) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $add
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.load (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $add)))
    (local.get $acc))

  ;; Calls table entry $which with $n and reports the result to the host.
  (func (export "run") (param $which i32) (param $n i32)
    (call $print (local.get $which)
      (call_indirect (type $unary) (local.get $n) (local.get $which))))

  (func (export "out_of_bounds") (result i32)
    (i32.load (i32.const 65536))))
