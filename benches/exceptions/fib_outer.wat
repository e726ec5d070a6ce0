(module
  (tag $e)
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "_start")
    (block $h
      (try_table (catch $e $h)
        (if (i32.ne (call $fib (i32.const 40)) (i32.const 102334155)) (then unreachable)))
      (return))
    unreachable))
