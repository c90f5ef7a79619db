;; Regression: br_table to an enclosing loop with a non-zero index crashed the
;; interpreter (an unsigned index plus a negative branch offset wrapped); found
;; running sqlite3 under kiln exec, fixed in commit acac416.
(module (func (export "count") (param $n i32) (result i32) (local $i i32)
  (block $done (loop $top (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br_table $done $top $top (select (i32.const 2) (i32.const 0)
      (i32.lt_u (local.get $i) (local.get $n)))))) (local.get $i)))
(assert_return (invoke "count" (i32.const 5)) (i32.const 5))
(assert_return (invoke "count" (i32.const 1000)) (i32.const 1000))
