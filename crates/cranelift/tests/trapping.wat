;; Every operator that can trap, one export each, for the tests of code
;; compiled without signals-based traps (docs/signal-free.md): compiled,
;; its trap table must be empty; run, each export must trap with its code
;; (crates/kiln/tests/signal_free.rs lists the arguments and codes).
(module
  (type $ret_i32 (func (result i32)))
  (table $tab 3 funcref)
  ;; Slot 0 has the expected type, slot 1 another one, slot 2 is null.
  (elem (table $tab) (i32.const 0) func $one $id)
  (memory 1)
  (global $g (mut i32) (i32.const 0))

  (func $one (result i32) (i32.const 1))
  (func $id (param i32) (result i32) (local.get 0))
  (func (export "ok") (result i32) (i32.const 42))

  (func (export "unreachable") unreachable)

  ;; Linear memory: a plain access, one with a static offset, a store, a
  ;; vector access, an inline (short) memory.copy and a builtin one.
  (func (export "i32.load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "i64.load offset") (param i32) (result i64)
    (i64.load offset=0x10000 (local.get 0)))
  (func (export "i32.store8") (param i32) (i32.store8 (local.get 0) (i32.const 1)))
  (func (export "v128.load") (param i32) (result i32)
    (i32x4.extract_lane 0 (v128.load (local.get 0))))
  (func (export "memory.copy short") (param i32)
    (memory.copy (local.get 0) (i32.const 0) (i32.const 8)))
  (func (export "memory.fill") (param i32)
    (memory.fill (local.get 0) (i32.const 0) (i32.const 100)))

  ;; Division and remainder.
  (func (export "i32.div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "i32.div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "i32.rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "i32.rem_u") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
  (func (export "i64.div_s") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "i64.div_u") (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
  (func (export "i64.rem_s") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "i64.rem_u") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))

  ;; Float-to-int truncation, every source and target type.
  (func (export "i32.trunc_f32_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "i32.trunc_f32_u") (param f32) (result i32) (i32.trunc_f32_u (local.get 0)))
  (func (export "i32.trunc_f64_s") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "i32.trunc_f64_u") (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
  (func (export "i64.trunc_f32_s") (param f32) (result i64) (i64.trunc_f32_s (local.get 0)))
  (func (export "i64.trunc_f32_u") (param f32) (result i64) (i64.trunc_f32_u (local.get 0)))
  (func (export "i64.trunc_f64_s") (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
  (func (export "i64.trunc_f64_u") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))

  ;; Tables and indirect calls.
  (func (export "call_indirect") (param i32) (result i32)
    (call_indirect $tab (type $ret_i32) (local.get 0)))
  (func (export "return_call_indirect") (param i32) (result i32)
    (return_call_indirect $tab (type $ret_i32) (local.get 0)))
  (func (export "table.get") (param i32) (result funcref) (table.get $tab (local.get 0)))
  (func (export "table.set") (param i32) (table.set $tab (local.get 0) (ref.null func)))
  (func (export "table.fill") (param i32)
    (table.fill $tab (local.get 0) (ref.null func) (i32.const 2)))

  ;; Unbounded recursion, with a loop (a back-edge) and a global store so
  ;; the frame is not trivial.
  (func $recurse (export "recurse") (param i32) (result i32)
    (global.set $g (local.get 0))
    (loop $l
      (br_if $l (i32.eqz (i32.const 1))))
    (i32.add (i32.const 1) (call $recurse (i32.add (local.get 0) (i32.const 1))))))
