(module
  (tag $e)
  (func $fib (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2)) (then (local.get 0))
      (else
        (block $h
          (return (try_table (result i32) (catch $e $h)
            (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
        (i32.const -1))))
  (func (export "_start")
    (if (i32.ne (call $fib (i32.const 40)) (i32.const 102334155)) (then unreachable))))
