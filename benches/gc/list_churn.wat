;; Linked-list churn: a FIFO queue of 1,500 cons cells. Every step
;; allocates a cell at the tail and drops the one at the head, so each
;; cell lives for exactly 1,500 allocations: the live set is a constant
;; ~48 KB while 60 million cells (1.9 GB at Wasmtime's 32 bytes a cell)
;; go through the heap. Cells die in the order they were born: the best
;; case for a copying nursery, and a steady stream of decrements to zero
;; for reference counting.
;;
;; Why 1,500 and not 1,000: Wasmtime 48's copying collector grows its heap
;; only when a collection frees too little for the next object, so its
;; semispace settles at the first power of two above the live set. 1,000
;; cells fill 98% of a 32 KB semispace and it collects every ~23
;; allocations, 30 times slower than at 1,024 cells; 1,500 cells sit in
;; the middle of a 64 KB semispace, neither its best case nor its worst.
(module
  (type $cell (struct (field i64) (field (mut (ref null $cell)))))

  (func (export "_start")
    (local $head (ref null $cell)) (local $tail (ref null $cell))
    (local $new (ref $cell)) (local $i i64) (local $sum i64) (local $left i32)
    ;; A multiplier with high bits set makes every payload use the whole
    ;; i64, so a collector that truncated or mixed up payloads would change
    ;; the checksum.
    (local.set $head (struct.new $cell (i64.const 0) (ref.null $cell)))
    (local.set $tail (local.get $head))
    (local.set $i (i64.const 1))
    (loop $fill
      (local.set $new (struct.new $cell
        (i64.mul (local.get $i) (i64.const 0x9E3779B97F4A7C15)) (ref.null $cell)))
      (struct.set $cell 1 (local.get $tail) (local.get $new))
      (local.set $tail (local.get $new))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $fill (i64.lt_u (local.get $i) (i64.const 1500))))
    (loop $churn
      (local.set $new (struct.new $cell
        (i64.mul (local.get $i) (i64.const 0x9E3779B97F4A7C15)) (ref.null $cell)))
      (struct.set $cell 1 (local.get $tail) (local.get $new))
      (local.set $tail (local.get $new))
      ;; Mixing in the step number makes the checksum depend on the order
      ;; cells leave the queue, not just on which payloads exist.
      (local.set $sum (i64.add (local.get $sum)
        (i64.xor (struct.get $cell 0 (local.get $head)) (local.get $i))))
      (local.set $head (struct.get $cell 1 (local.get $head)))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $churn (i64.lt_u (local.get $i) (i64.const 60000000))))
    ;; The survivors are the last 1,500 cells; walking them proves the
    ;; chain is intact after the final collection.
    (block $done
      (loop $drain
        (local.set $sum (i64.add (local.get $sum) (struct.get $cell 0 (local.get $head))))
        (local.set $left (i32.add (local.get $left) (i32.const 1)))
        (local.set $head (br_on_null $done (struct.get $cell 1 (local.get $head))))
        (br $drain)))
    (if (i32.ne (local.get $left) (i32.const 1500)) (then unreachable))
    (if (i64.ne (local.get $sum) (i64.const 1183885369051723146)) (then unreachable))))
