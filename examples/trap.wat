;; A module that traps, to show a wasm backtrace:
;;
;;   cargo run --release -- run examples/trap.wat --invoke divide 1 0
;;   # error: failed to invoke `divide`: wasm trap: integer divide by zero
;;   # wasm backtrace: ...   (exit status 134)
(module
  (func $quotient (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "divide") (param i32 i32) (result i32)
    (call $quotient (local.get 0) (local.get 1)))
  (func (export "crash")
    unreachable))
