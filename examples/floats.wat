;; Float parameters and several results:
;;
;;   cargo run --release -- run examples/floats.wat --invoke hypot 3 4
;;   cargo run --release -- run examples/floats.wat --invoke divmod -- -7 2
(module
  (func (export "hypot") (param f64 f64) (result f64)
    (f64.sqrt
      (f64.add
        (f64.mul (local.get 0) (local.get 0))
        (f64.mul (local.get 1) (local.get 1)))))
  (func (export "divmod") (param i32 i32) (result i32 i32)
    (i32.div_s (local.get 0) (local.get 1))
    (i32.rem_s (local.get 0) (local.get 1))))
