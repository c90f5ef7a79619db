;; Self test of kiln-spec: every assertion marked FAIL is deliberately wrong,
;; so the runner must count it as failed; the others must pass. CTest checks
;; the summary line below (see tests/spec/CMakeLists.txt).
;; expect: 12 passed, 12 failed

(module $m                                                  ;; pass (module)
  (global (export "g") i32 (i32.const 7))
  (func (export "one") (result i32) (i32.const 1))
  (func (export "two") (result i32 i64) (i32.const 2) (i64.const -2))
  (func (export "trap") (unreachable))
  (func (export "f") (result f32) (f32.const 1.0))
  (func (export "nan") (result f32) (f32.const nan:0x600000))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func $rec (export "rec") (call $rec))
)
(assert_return (invoke "one") (i32.const 1))                  ;; pass
(assert_return (invoke "one") (i32.const 2))                  ;; FAIL value
(assert_return (invoke "two") (i32.const 2) (i64.const -2))   ;; pass
(assert_return (invoke "two") (i32.const 2) (i64.const 2))    ;; FAIL second value
(assert_trap (invoke "trap") "unreachable")                   ;; pass
(assert_trap (invoke "one") "unreachable")                    ;; FAIL returns
(assert_trap (invoke "trap") "integer overflow")              ;; FAIL wrong trap
(assert_return (invoke "f") (f32.const nan:canonical))        ;; FAIL not a NaN
(assert_return (invoke "nan") (f32.const nan:arithmetic))     ;; pass
(assert_return (invoke "nan") (f32.const nan:canonical))      ;; FAIL payload
(assert_return (invoke "id" (ref.extern 0)) (ref.extern 0))   ;; pass
(assert_return (invoke "id" (ref.extern 0)) (ref.null extern)) ;; FAIL 0 is not null
(assert_return (invoke "id" (ref.null extern)) (ref.null extern)) ;; pass
(assert_return (get "g") (i32.const 7))                       ;; pass
(invoke "trap")                                               ;; FAIL action traps
(assert_exhaustion (invoke "rec") "call stack exhausted")     ;; pass
(assert_exhaustion (invoke "one") "call stack exhausted")     ;; FAIL returns
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch") ;; pass
(assert_malformed (module binary "\00asm\01\00\00\00") "valid") ;; FAIL valid
(assert_malformed (module quote "(func") "unexpected end")     ;; skipped
(assert_unlinkable
  (module (import "spectest" "print_i32" (func (param i64)))) "incompatible import type") ;; pass
(assert_unlinkable
  (module (import "spectest" "print_i32" (func (param i32)))) "unknown import")         ;; FAIL links
(assert_trap
  (module (memory 1) (data (i32.const 65536) "x")) "out of bounds memory access")    ;; pass
(assert_trap (module (memory 1)) "unreachable")                ;; FAIL instantiates
