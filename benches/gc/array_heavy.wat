;; Array-heavy: each round allocates six arrays of 200 to 3,200 elements
;; (i32, f64 and arrays of struct refs), fills them element by element and
;; with array.fill, moves data with array.copy (including an overlapping
;; copy within one array) and sums them. Everything dies within its round
;; except each round's array of boxes, which an 8-slot ring keeps for
;; eight more rounds: the ring is the oldest object in the heap and is
;; written a young pointer every round, the store a generational
;; collector's barrier has to record. 50,000 rounds allocate about 2.2 GB;
;; the live set stays around 100 KB.
(module
  (type $i32s (array (mut i32)))
  (type $f64s (array (mut f64)))
  (type $box (struct (field i64)))
  (type $boxes (array (mut (ref null $box))))
  (type $ring (array (mut (ref null $boxes))))

  (func $ints (param $r i32) (param $len i32) (result i64)
    (local $a (ref $i32s)) (local $b (ref $i32s)) (local $j i32) (local $sum i64)
    (local.set $a (array.new $i32s (local.get $r) (local.get $len)))
    (array.fill $i32s (local.get $a) (i32.const 0)
      (i32.xor (local.get $r) (i32.const 0x5555))
      (i32.shr_u (local.get $len) (i32.const 1)))
    (loop $set
      (array.set $i32s (local.get $a) (local.get $j)
        (i32.add (i32.mul (array.get $i32s (local.get $a) (local.get $j)) (i32.const 3))
                 (local.get $j)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $set (i32.lt_u (local.get $j) (local.get $len))))
    (local.set $b (array.new_default $i32s (i32.add (local.get $len) (i32.const 16))))
    (array.copy $i32s $i32s (local.get $b) (i32.const 8)
      (local.get $a) (i32.const 0) (local.get $len))
    ;; Source and destination overlap here, the destination higher: a
    ;; front-to-back copy would smear the first 8 elements over the whole
    ;; array, so the checksum proves array.copy moves like memmove.
    (array.copy $i32s $i32s (local.get $b) (i32.const 16)
      (local.get $b) (i32.const 8) (local.get $len))
    (local.set $j (i32.const 0))
    (loop $add
      (local.set $sum (i64.add (local.get $sum)
        (i64.extend_i32_s (array.get $i32s (local.get $b) (local.get $j)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $add (i32.lt_u (local.get $j) (array.len (local.get $b)))))
    (local.get $sum))

  ;; Every value is a multiple of 0.25 well under 2^53, so the f64 sum is
  ;; exact and the checksum does not depend on summation order.
  (func $floats (param $r i32) (param $len i32) (result i64)
    (local $x (ref $f64s)) (local $y (ref $f64s)) (local $j i32) (local $half i32)
    (local $sum f64)
    (local.set $x (array.new_default $f64s (local.get $len)))
    (loop $set
      (array.set $f64s (local.get $x) (local.get $j)
        (f64.add (f64.mul (f64.convert_i32_u (local.get $j)) (f64.const 0.25))
                 (f64.convert_i32_u (local.get $r))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $set (i32.lt_u (local.get $j) (local.get $len))))
    (local.set $y (array.new $f64s (f64.const 1) (local.get $len)))
    (local.set $half (i32.shr_u (local.get $len) (i32.const 1)))
    (array.copy $f64s $f64s (local.get $y) (i32.const 0) (local.get $x) (local.get $half)
      (i32.sub (local.get $len) (local.get $half)))
    (local.set $j (i32.const 0))
    (loop $add
      (local.set $sum (f64.add (local.get $sum) (array.get $f64s (local.get $y) (local.get $j))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $add (i32.lt_u (local.get $j) (local.get $len))))
    (i64.trunc_f64_s (local.get $sum)))

  ;; Copying an array of refs is the case where a collector's write
  ;; barrier (or reference counts) must see every element moved.
  (func $refs (param $r i32) (param $n i32) (result (ref $boxes))
    (local $p (ref $boxes)) (local $q (ref $boxes)) (local $j i32)
    (local.set $p (array.new_default $boxes (local.get $n)))
    (loop $set
      (array.set $boxes (local.get $p) (local.get $j)
        (struct.new $box (i64.extend_i32_u
          (i32.add (i32.mul (local.get $r) (i32.const 1000)) (local.get $j)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $set (i32.lt_u (local.get $j) (local.get $n))))
    (local.set $q (array.new_default $boxes (local.get $n)))
    (array.copy $boxes $boxes (local.get $q) (i32.const 0)
      (local.get $p) (i32.const 0) (local.get $n))
    (array.fill $boxes (local.get $q) (i32.const 0) (struct.new $box (i64.const -1))
      (i32.shr_u (local.get $n) (i32.const 1)))
    (local.get $q))

  (func $sum_boxes (param $q (ref $boxes)) (result i64)
    (local $j i32) (local $sum i64)
    (loop $add
      (local.set $sum (i64.add (local.get $sum)
        (struct.get $box 0 (array.get $boxes (local.get $q) (local.get $j)))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $add (i32.lt_u (local.get $j) (array.len (local.get $q)))))
    (local.get $sum))

  (func (export "_start")
    (local $ring (ref $ring)) (local $q (ref $boxes))
    (local $r i32) (local $len i32) (local $sum i64)
    (local.set $ring (array.new_default $ring (i32.const 8)))
    (loop $round
      ;; Lengths step through 200..3199 in a scattered order, so the
      ;; allocator sees a mix of sizes instead of one size class.
      (local.set $len (i32.add (i32.const 200)
        (i32.rem_u (i32.mul (local.get $r) (i32.const 7919)) (i32.const 3000))))
      (local.set $sum (i64.add (local.get $sum) (call $ints (local.get $r) (local.get $len))))
      (local.set $sum (i64.add (local.get $sum) (call $floats (local.get $r) (local.get $len))))
      (local.set $q (call $refs (local.get $r) (i32.shr_u (local.get $len) (i32.const 3))))
      (local.set $sum (i64.add (local.get $sum) (call $sum_boxes (local.get $q))))
      (array.set $ring (local.get $ring) (i32.and (local.get $r) (i32.const 7)) (local.get $q))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $r) (i32.const 50000))))
    ;; Summing the ring again after the last collection proves the kept
    ;; arrays and the boxes they point to survived intact.
    (local.set $r (i32.const 0))
    (loop $kept
      (local.set $sum (i64.add (local.get $sum)
        (i64.mul (call $sum_boxes (ref.as_non_null
                   (array.get $ring (local.get $ring) (local.get $r))))
                 (i64.extend_i32_u (i32.add (local.get $r) (i32.const 1))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $kept (i32.lt_u (local.get $r) (i32.const 8))))
    (if (i64.ne (local.get $sum) (i64.const 141227431560940)) (then unreachable))))
