;; Large live heap: a table of 2^20 slots, each holding a chain of four
;; nodes, is built first and stays alive to the end: 4 Mi nodes, 132 MiB
;; with Wasmtime 48's copying collector (32 bytes a node). Then each of 8
;; million steps allocates and walks an 8-node chain of garbage, and every
;; 16th step replaces a random slot's chain with a new one, so old objects
;; keep dying and the old table keeps receiving pointers to young
;; objects. About 2 GB of short-lived chains go through the heap. A
;; collector that traces everything pays for the whole live heap on every
;; collection; a generational one mostly should not.
(module
  (type $node (struct (field i64) (field (ref null $node))))
  (type $table (array (mut (ref null $node))))

  ;; Built from the tail, so the chain for v holds v, v+1, ..., v+len-1
  ;; from the head on and the code can check it without storing it.
  (func $chain (param $v i64) (param $len i32) (result (ref null $node))
    (local $c (ref null $node))
    (loop $add
      (local.set $len (i32.sub (local.get $len) (i32.const 1)))
      (local.set $c (struct.new $node
        (i64.add (local.get $v) (i64.extend_i32_u (local.get $len))) (local.get $c)))
      (br_if $add (local.get $len)))
    (local.get $c))

  (func $walk (param $c (ref null $node)) (result i64)
    (local $sum i64)
    (block $end
      (loop $next
        (local.set $sum (i64.add (local.get $sum)
          (struct.get $node 0 (br_on_null $end (local.get $c)))))
        (local.set $c (struct.get $node 1 (local.get $c)))
        (br $next)))
    (local.get $sum))

  (func (export "_start")
    (local $table (ref $table)) (local $s i32) (local $t i32)
    (local $x i64) (local $sum i64)
    (local.set $table (array.new_default $table (i32.const 0x100000)))
    (loop $build
      (array.set $table (local.get $table) (local.get $s)
        (call $chain (i64.extend_i32_u (i32.shl (local.get $s) (i32.const 4))) (i32.const 4)))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (br_if $build (i32.lt_u (local.get $s) (i32.const 0x100000))))
    (loop $step
      ;; Knuth's MMIX LCG; its high bits pick the slot, as its low bits
      ;; repeat with short periods.
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 6364136223846793005))
                             (i64.const 1442695040888963407)))
      (local.set $sum (i64.add (local.get $sum)
        (call $walk (call $chain (local.get $x) (i32.const 8)))))
      (if (i32.eqz (i32.and (local.get $t) (i32.const 15)))
        (then
          ;; Walking the chain about to be dropped checks that an old
          ;; object survived every collection so far untouched. Doing it
          ;; every step instead would make this a cache-miss benchmark:
          ;; two dependent misses per read cost more than the allocation.
          (local.set $s (i32.wrap_i64 (i64.shr_u (local.get $x) (i64.const 44))))
          (local.set $sum (i64.add (local.get $sum)
            (call $walk (array.get $table (local.get $table) (local.get $s)))))
          (array.set $table (local.get $table) (local.get $s)
            (call $chain (i64.mul (i64.extend_i32_u (local.get $t)) (i64.const 7)) (i32.const 4)))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br_if $step (i32.lt_u (local.get $t) (i32.const 8000000))))
    ;; Walking every slot at the end checks the whole live structure, old
    ;; chains and replaced ones, after the last collection.
    (local.set $s (i32.const 0))
    (loop $check
      (local.set $sum (i64.add (local.get $sum)
        (call $walk (array.get $table (local.get $table) (local.get $s)))))
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (br_if $check (i32.lt_u (local.get $s) (i32.const 0x100000))))
    (if (i64.ne (local.get $sum) (i64.const 1558508783656164032)) (then unreachable))))
