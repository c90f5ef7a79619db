;; Multi-value: functions with several results, blocks/loops/ifs with
;; parameters and results, branches carrying several values (br, br_if,
;; br_table, return), calls and call_indirect of multi-result functions,
;; host imports with several parameters, stack shuffling around them.

(module
  (type $ii->iii (func (param i32 i32) (result i32 i32 i32)))
  (type $v->fi (func (result f64 i32)))
  (table 2 funcref)
  (elem (i32.const 0) $swap3 $fd)
  (func $swap3 (type $ii->iii) (local.get 1) (local.get 0) (i32.add (local.get 0) (local.get 1)))
  (func $fd (type $v->fi) (f64.const 1.5) (i32.const -7))
  (func (export "swap3") (param i32 i32) (result i32 i32 i32) (call $swap3 (local.get 0) (local.get 1)))
  (func (export "all_types") (result i32 i64 f32 f64 externref)
    (i32.const 1) (i64.const -2) (f32.const 3.5) (f64.const -4.25) (ref.null extern))
  (func (export "many") (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
    (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10))
  (func (export "pass_through") (param i32 f64 i64) (result i64 f64 i32)
    (local.get 2) (local.get 1) (local.get 0))
  ;; block with params: consumes the operands pushed before it
  (func (export "block_params") (param i32 i32) (result i32)
    (local.get 0) (local.get 1)
    (block (param i32 i32) (result i32) (i32.sub)))
  ;; block result of two values, then combined
  (func (export "block_results") (result i32)
    (block (result i32 i32) (i32.const 10) (i32.const 3))
    (i32.mul))
  ;; br out of a block with two values, discarding extra operands
  (func (export "br_multi") (param i32) (result i32 i64)
    (block (result i32 i64)
      (i32.const 99) (i32.const 1) (i64.const 2)
      (br_if 0 (local.get 0))
      (drop) (drop) (drop)
      (i32.const 3) (i64.const 4)))
  ;; br_table with two values
  (func (export "br_table_multi") (param i32) (result i32 i32)
    (block (result i32 i32)
      (block (result i32 i32)
        (i32.const 5) (i32.const 6)
        (br_table 0 1 (local.get 0)))
      (i32.add) (i32.const 0)))
  ;; loop with a parameter: counts down, carrying an accumulator
  (func (export "loop_sum") (param i32) (result i32)
    (local $n i32)
    (local.set $n (local.get 0))
    (i32.const 0)
    (loop (param i32) (result i32)
      (i32.add (local.get $n))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if 0 (local.get $n) (i32.ne (i32.const 0)))))
  ;; if with params and results
  (func (export "if_params") (param i32 i32 i32) (result i32 i32)
    (local.get 1) (local.get 2)
    (if (param i32 i32) (result i32 i32) (local.get 0)
      (then (i32.add) (i32.const 1))
      (else (i32.sub) (i32.const 0))))
  ;; early return of several values from nested blocks
  (func (export "return_multi") (param i32) (result i32 f32)
    (block
      (block
        (br_if 1 (local.get 0))
        (return (i32.const 1) (f32.const 1.5))))
    (i32.const 2) (f32.const 2.5))
  (func (export "call_indirect_multi") (param i32 i32 i32) (result i32 i32 i32)
    (call_indirect (type $ii->iii) (local.get 0) (local.get 1) (local.get 2)))
  ;; (wast2json 1.0.32 writes broken JSON for assert_trap on a multi-result
  ;; function, so the trapping calls go through this single-result wrapper)
  (func (export "call_indirect_sum") (param i32 i32 i32) (result i32)
    (call_indirect (type $ii->iii) (local.get 0) (local.get 1) (local.get 2))
    (i32.add) (i32.add))
  (func (export "call_indirect_fd") (result f64 i32)
    (call_indirect (type $v->fi) (i32.const 1)))
  ;; results of one call feed the parameters of the next
  (func (export "chain") (result i32)
    (call $swap3 (i32.const 1) (i32.const 2))  ;; 2 1 3
    (drop)
    (call $swap3)                              ;; 1 2 3
    (i32.add) (i32.add))
  ;; a value below the block's operands stays put
  (func (export "stack_under") (result i32)
    (i32.const 100)
    (i32.const 1) (i32.const 2)
    (block (param i32 i32) (result i32 i32) (i32.const 3) (i32.add))
    (i32.add) (i32.add))
)

(assert_return (invoke "swap3" (i32.const 1) (i32.const 2)) (i32.const 2) (i32.const 1) (i32.const 3))
(assert_return (invoke "all_types")
  (i32.const 1) (i64.const -2) (f32.const 3.5) (f64.const -4.25) (ref.null extern))
(assert_return (invoke "many")
  (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5)
  (i64.const 6) (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10))
(assert_return (invoke "pass_through" (i32.const -1) (f64.const nan:0x1) (i64.const 0x123456789))
  (i64.const 0x123456789) (f64.const nan:0x1) (i32.const -1))
(assert_return (invoke "block_params" (i32.const 10) (i32.const 3)) (i32.const 7))
(assert_return (invoke "block_results") (i32.const 30))
(assert_return (invoke "br_multi" (i32.const 1)) (i32.const 1) (i64.const 2))
(assert_return (invoke "br_multi" (i32.const 0)) (i32.const 3) (i64.const 4))
(assert_return (invoke "br_table_multi" (i32.const 0)) (i32.const 11) (i32.const 0))
(assert_return (invoke "br_table_multi" (i32.const 1)) (i32.const 5) (i32.const 6))
(assert_return (invoke "br_table_multi" (i32.const 7)) (i32.const 5) (i32.const 6))
(assert_return (invoke "loop_sum" (i32.const 10)) (i32.const 55))
(assert_return (invoke "loop_sum" (i32.const 1)) (i32.const 1))
(assert_return (invoke "if_params" (i32.const 1) (i32.const 5) (i32.const 3)) (i32.const 8) (i32.const 1))
(assert_return (invoke "if_params" (i32.const 0) (i32.const 5) (i32.const 3)) (i32.const 2) (i32.const 0))
(assert_return (invoke "return_multi" (i32.const 0)) (i32.const 1) (f32.const 1.5))
(assert_return (invoke "return_multi" (i32.const 1)) (i32.const 2) (f32.const 2.5))
(assert_return (invoke "call_indirect_multi" (i32.const 4) (i32.const 5) (i32.const 0))
  (i32.const 5) (i32.const 4) (i32.const 9))
(assert_return (invoke "call_indirect_sum" (i32.const 4) (i32.const 5) (i32.const 0)) (i32.const 18))
(assert_trap (invoke "call_indirect_sum" (i32.const 4) (i32.const 5) (i32.const 1)) "indirect call type mismatch")
(assert_trap (invoke "call_indirect_sum" (i32.const 4) (i32.const 5) (i32.const 2)) "undefined element")
(assert_return (invoke "call_indirect_fd") (f64.const 1.5) (i32.const -7))
(assert_return (invoke "chain") (i32.const 6))
(assert_return (invoke "stack_under") (i32.const 106))

;; host functions with several parameters
(module
  (import "spectest" "print_i32_f32" (func $p2 (param i32 f32)))
  (import "spectest" "print_f64_f64" (func $p3 (param f64 f64)))
  (func (export "print") (result i32)
    (call $p2 (i32.const 1) (f32.const 2))
    (call $p3 (f64.const 3) (f64.const 4))
    (i32.const 5))
)
(assert_return (invoke "print") (i32.const 5))

;; validation of multi-value blocks
(assert_invalid
  (module (func (result i32 i32) (block (result i32 i32) (i32.const 1)))) "type mismatch")
(assert_invalid
  (module (func (result i32) (i32.const 1) (block (param i32 i32) (result i32) (i32.add)))) "type mismatch")
(assert_invalid
  (module (func (param i32) (result i32 i32)
    (block (result i32 i32) (i32.const 1) (br_if 0 (local.get 0))))) "type mismatch")
