;; Self test of kiln-spec's v128 handling (lanes, per-lane NaN patterns).
;; Assertions marked FAIL are deliberately wrong.
;; expect: 5 passed, 3 failed

(module                                                        ;; pass (module)
  (func (export "v") (result v128) (v128.const i32x4 1 2 3 0x80000000))
  (func (export "f") (result v128) (v128.const f32x4 nan nan:0x600001 -0 1.5))
  (func (export "id") (param v128) (result v128) (local.get 0))
)
(assert_return (invoke "v") (v128.const i32x4 1 2 3 0x80000000))             ;; pass
(assert_return (invoke "v") (v128.const i16x8 1 0 2 0 3 0 0 0x8000))          ;; pass
(assert_return (invoke "v") (v128.const i16x8 1 0 2 0 3 0 4 1))               ;; FAIL lanes
(assert_return (invoke "f") (v128.const f32x4 nan:canonical nan:arithmetic -0 1.5)) ;; pass
(assert_return (invoke "f") (v128.const f32x4 nan:canonical nan:canonical -0 1.5))  ;; FAIL lane 1
(assert_return (invoke "f") (v128.const f32x4 nan:canonical nan:arithmetic 0 1.5))  ;; FAIL lane 2
(assert_return (invoke "id" (v128.const i64x2 -1 0x0123456789abcdef))
               (v128.const i8x16 0xff 0xff 0xff 0xff 0xff 0xff 0xff 0xff
                                 0xef 0xcd 0xab 0x89 0x67 0x45 0x23 0x01))    ;; pass
