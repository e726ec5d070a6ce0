;; seqhash's shape (the V8 benchmark where its tiering is 10x slower than
;; TurboFan alone): one call, one long loop. Only on-stack replacement
;; moves it out of baseline code.
(module
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $h i32)
    (local.set $h (i32.const 0x811c9dc5))
    (loop $l
      (local.set $h (i32.mul (i32.xor (local.get $h) (i32.and (local.get $i) (i32.const 0xff)))
                             (i32.const 0x01000193)))
      (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 13))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $h)))
