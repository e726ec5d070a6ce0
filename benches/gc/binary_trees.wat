;; Binary-trees: the allocation pattern of a functional program. A tree of
;; depth 16 stays alive for the whole run while millions of short-lived
;; trees of depth 4..16 are built, walked once and dropped, so almost all
;; of the roughly 2 GB allocated (117 million nodes) is garbage by the next
;; collection; the live set never exceeds 2^18 nodes, about 4 MB.
(module
  (type $tree (struct (field (ref null $tree)) (field (ref null $tree))))

  ;; A leaf is a node whose children are both null; the tree is perfect,
  ;; so checking the left child alone tells a leaf apart.
  (func $make (param $d i32) (result (ref $tree))
    (if (result (ref $tree)) (i32.eqz (local.get $d))
      (then (struct.new $tree (ref.null $tree) (ref.null $tree)))
      (else
        (local.set $d (i32.sub (local.get $d) (i32.const 1)))
        (struct.new $tree (call $make (local.get $d)) (call $make (local.get $d))))))

  (func $check (param $t (ref $tree)) (result i32)
    (block $leaf
      (return
        (i32.add
          (i32.add (i32.const 1)
            (call $check (br_on_null $leaf (struct.get $tree 0 (local.get $t)))))
          (call $check (ref.as_non_null (struct.get $tree 1 (local.get $t)))))))
    (i32.const 1))

  (func (export "_start")
    (local $long (ref $tree)) (local $d i32) (local $i i32) (local $n i32)
    (local $sum i64)
    ;; The stretch tree, as in the classic program: one tree deeper than
    ;; any other, so the heap has grown to its working size before timing
    ;; the steady state matters.
    (local.set $sum (i64.extend_i32_u (call $check (call $make (i32.const 17)))))
    (local.set $long (call $make (i32.const 16)))
    (local.set $d (i32.const 4))
    (loop $depths
      ;; 2^(23-d) trees of depth d: every depth allocates the same number
      ;; of nodes (about 2^24), so shallow and deep trees weigh the same.
      (local.set $n (i32.shl (i32.const 1) (i32.sub (i32.const 23) (local.get $d))))
      (local.set $i (i32.const 0))
      (loop $trees
        (local.set $sum (i64.add (local.get $sum)
          (i64.extend_i32_u (call $check (call $make (local.get $d))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $trees (i32.lt_u (local.get $i) (local.get $n))))
      (local.set $d (i32.add (local.get $d) (i32.const 2)))
      (br_if $depths (i32.le_u (local.get $d) (i32.const 16))))
    ;; Checking the long-lived tree last proves the collector kept all of
    ;; it through every collection the short-lived trees caused.
    (local.set $sum (i64.add (local.get $sum) (i64.extend_i32_u (call $check (local.get $long)))))
    (if (i64.ne (local.get $sum) (i64.const 117134718)) (then unreachable))))
