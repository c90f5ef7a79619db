;; Bulk memory: memory.copy (overlapping both ways, bounds first, zero
;; length at the end), memory.fill, memory.init from passive segments,
;; data.drop, out-of-bounds traps that write nothing, interplay with
;; memory.grow, and data segments at instantiation (order, persistence of
;; earlier writes into an imported memory when a later segment traps).

(module
  (memory (export "mem") 1 2)
  (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09")
  (data $p "abcdefgh")
  (data $q "XYZ")
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_q") (param i32 i32 i32) (memory.init $q (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $p))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)

;; copy forward into an overlapping higher range (memmove semantics)
(invoke "copy" (i32.const 2) (i32.const 0) (i32.const 5))
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 1)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 2)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 3)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 4)) (i32.const 2))
(assert_return (invoke "load8" (i32.const 5)) (i32.const 3))
(assert_return (invoke "load8" (i32.const 6)) (i32.const 4))
(assert_return (invoke "load8" (i32.const 7)) (i32.const 7))
;; memory now: 00 01 00 01 02 03 04 07 08 09
;; copy into an overlapping lower range
(invoke "copy" (i32.const 1) (i32.const 4) (i32.const 6))
;; memory now: 00 02 03 04 07 08 09 07 08 09
(assert_return (invoke "load32" (i32.const 0)) (i32.const 0x04030200))
(assert_return (invoke "load32" (i32.const 4)) (i32.const 0x07090807))
(assert_return (invoke "load8" (i32.const 8)) (i32.const 8))
;; zero length anywhere up to the end is fine; one past the end traps
(invoke "copy" (i32.const 65536) (i32.const 0) (i32.const 0))
(invoke "copy" (i32.const 0) (i32.const 65536) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65537) (i32.const 0)) "out of bounds memory access")
;; out of bounds: nothing is written, not even the in-bounds part
(assert_trap (invoke "copy" (i32.const 65530) (i32.const 0) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65530)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65530) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 1)) (i32.const 2))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 0) (i32.const -1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const -1) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(invoke "copy" (i32.const 65530) (i32.const 0) (i32.const 6))
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 8))

;; fill
(invoke "fill" (i32.const 100) (i32.const 0x1ff) (i32.const 3))
(assert_return (invoke "load32" (i32.const 100)) (i32.const 0x00ffffff))
(invoke "fill" (i32.const 65536) (i32.const 1) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 65537) (i32.const 1) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 65534) (i32.const 0x55) (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65534)) (i32.const 7))
(assert_trap (invoke "fill" (i32.const 1) (i32.const 0x55) (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 1)) (i32.const 2))

;; init from a passive segment
(invoke "init" (i32.const 200) (i32.const 2) (i32.const 3))
(assert_return (invoke "load32" (i32.const 200)) (i32.const 0x00656463))
(invoke "init" (i32.const 65536) (i32.const 8) (i32.const 0))
(assert_trap (invoke "init" (i32.const 65536) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 65535) (i32.const 0) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 8))
(assert_trap (invoke "init" (i32.const 0) (i32.const 7) (i32.const 2)) "out of bounds memory access")
(assert_trap (invoke "init" (i32.const 0) (i32.const 9) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
;; dropped: length 0 from then on, twice is fine, other segments unaffected
(invoke "drop")
(invoke "drop")
(invoke "init" (i32.const 0) (i32.const 0) (i32.const 0))
(assert_trap (invoke "init" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(invoke "init_q" (i32.const 300) (i32.const 0) (i32.const 3))
(assert_return (invoke "load32" (i32.const 300)) (i32.const 0x005a5958))

;; bounds follow memory.grow
(assert_trap (invoke "fill" (i32.const 65536) (i32.const 1) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke "size") (i32.const 2))
(assert_return (invoke "grow" (i32.const 1)) (i32.const -1))
(assert_return (invoke "load8" (i32.const 65536)) (i32.const 0))
(invoke "fill" (i32.const 65536) (i32.const 1) (i32.const 65536))
(assert_return (invoke "load8" (i32.const 131071)) (i32.const 1))
(invoke "copy" (i32.const 0) (i32.const 65534) (i32.const 4))
(assert_return (invoke "load32" (i32.const 0)) (i32.const 0x01010807))
(assert_trap (invoke "copy" (i32.const 131070) (i32.const 0) (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 131070)) (i32.const 1))

;; data segments at instantiation: in order; a trapping one leaves earlier
;; writes into an imported memory in place
(module $m
  (memory (export "mem") 1)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
)
(register "m" $m)
(assert_trap
  (module
    (import "m" "mem" (memory 1))
    (data (i32.const 10) "ab")
    (data (i32.const 65535) "cd")
    (data (i32.const 20) "ef"))
  "out of bounds memory access")
(assert_return (invoke $m "load8" (i32.const 10)) (i32.const 0x61))
(assert_return (invoke $m "load8" (i32.const 11)) (i32.const 0x62))
(assert_return (invoke $m "load8" (i32.const 65535)) (i32.const 0))
(assert_return (invoke $m "load8" (i32.const 20)) (i32.const 0))
;; zero-length segment at the very end is in bounds
(module (memory 1) (data (i32.const 65536) ""))
(assert_trap (module (memory 1) (data (i32.const 65537) "")) "out of bounds memory access")
(assert_trap (module (memory 0) (data (i32.const 0) "a")) "out of bounds memory access")
;; offset from an imported global
(module
  (import "spectest" "global_i32" (global i32))
  (memory 1)
  (data (global.get 0) "Q")
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))
(assert_return (invoke "load8" (i32.const 666)) (i32.const 0x51))

;; importing memories: limits must fit (spectest's memory is 1..2 pages)
(module (import "spectest" "memory" (memory 1)))
(module (import "spectest" "memory" (memory 0 2)))
(assert_unlinkable (module (import "spectest" "memory" (memory 2))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "memory" (memory 1 1))) "incompatible import type")
(assert_unlinkable (module (import "m" "mem" (memory 1 1))) "incompatible import type")

;; validation
(assert_invalid (module (func (memory.copy (i32.const 0) (i32.const 0) (i32.const 0)))) "unknown memory 0")
(assert_invalid (module (memory 1) (func (data.drop 0))) "unknown data segment 0")
(assert_invalid (module (memory 1) (func (memory.fill (i32.const 0) (i64.const 0) (i32.const 0)))) "type mismatch")
