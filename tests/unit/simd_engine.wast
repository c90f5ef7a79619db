;; simd_engine.wast — SIMD through kiln's compiler and interpreter: the
;; paths the official simd_*.wast files touch only lightly. Destinations
;; retargeted to a local that is also an operand (local.set after a SIMD op),
;; constant operands materialized in place, scalar results of lane ops stored
;; to locals, v128 values across blocks/br_if/select/loops, lane loads and
;; stores at the end of memory (traps, no partial writes), shuffle of one
;; operand with itself. Checked against wabt's spectest-interp too.

(module
  (memory 1)
  (data (i32.const 0) "\00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f")

  ;; dst aliases both operands
  (func (export "double-in-place") (param $v v128) (result v128)
    (local.set $v (i8x16.add (local.get $v) (local.get $v)))
    (local.get $v))

  ;; dst aliases the first operand, the second is a constant
  (func (export "acc") (param $v v128) (param $n i32) (result v128)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $v (i32x4.add (local.get $v) (v128.const i32x4 1 2 3 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $v))

  ;; bitselect whose destination is its mask
  (func (export "bitselect-in-place") (param $a v128) (param $b v128) (param $m v128) (result v128)
    (local.set $m (v128.bitselect (local.get $a) (local.get $b) (local.get $m)))
    (local.get $m))

  ;; replace_lane into the same local, extract_lane into a scalar local
  (func (export "replace-extract") (param $v v128) (param $x i32) (result i32)
    (local $r i32)
    (local.set $v (i32x4.replace_lane 2 (local.get $v) (local.get $x)))
    (local.set $r (i32x4.extract_lane 2 (local.get $v)))
    (i32.add (local.get $r) (i32x4.extract_lane 0 (local.get $v))))

  ;; shuffle of a value with itself, result into the same local
  (func (export "reverse") (param $v v128) (result v128)
    (local.set $v (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0
                    (local.get $v) (local.get $v)))
    (local.get $v))

  ;; constants on both sides, folded nowhere: materialized per use
  (func (export "const-ops") (result v128)
    (i16x8.add_sat_s (v128.const i16x8 32767 -32768 1 2 3 4 5 6)
                     (v128.const i16x8 1 -1 1 1 1 1 1 1)))

  ;; shifts by a count from a local, counts beyond the lane width
  (func (export "shl-count") (param $v v128) (param $c i32) (result v128)
    (i16x8.shl (local.get $v) (local.get $c)))

  ;; shifts by constant counts (the _I forms), into the operand's own local
  (func (export "shifts-const") (param $v v128) (result v128)
    (local.set $v (i8x16.shr_s (local.get $v) (i32.const 9)))
    (local.set $v (i64x2.shl (local.get $v) (i32.const 65)))
    (i32x4.shr_u (local.get $v) (i32.const -31)))

  ;; v128 through block results, br_if and select
  (func (export "block-br_if") (param $c i32) (result v128)
    (block (result v128)
      (br_if 0 (v128.const i32x4 1 1 1 1) (local.get $c))
      (drop)
      (v128.const i32x4 2 2 2 2)))
  (func (export "select") (param $c i32) (result v128)
    (select (v128.const i64x2 1 2) (v128.const i64x2 3 4) (local.get $c)))

  ;; any_true / all_true / bitmask feeding a branch
  (func (export "test-branch") (param $v v128) (result i32)
    (if (result i32) (i8x16.all_true (local.get $v))
      (then (i32.const 100))
      (else (i8x16.bitmask (local.get $v)))))

  ;; memory: lane loads and stores with offsets, at the end of memory
  (func (export "load-lane") (param $a i32) (param $v v128) (result v128)
    (v128.load32_lane offset=4 1 (local.get $a) (local.get $v)))
  (func (export "store-lane") (param $a i32) (param $v v128)
    (v128.store16_lane offset=2 7 (local.get $a) (local.get $v)))
  (func (export "load-u16") (param $a i32) (result i32)
    (i32.load16_u (local.get $a)))
  (func (export "load8x8") (param $a i32) (result v128)
    (v128.load8x8_s offset=1 (local.get $a)))
  (func (export "store") (param $a i32) (param $v v128)
    (v128.store (local.get $a) (local.get $v)))
  (func (export "load-byte") (param $a i32) (result i32)
    (i32.load8_u (local.get $a)))
  (func (export "load-splat") (param $a i32) (result v128)
    (v128.load64_splat (local.get $a)))
)

(assert_return (invoke "double-in-place" (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 128))
  (v128.const i8x16 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 0))
(assert_return (invoke "acc" (v128.const i32x4 0 0 0 -1) (i32.const 10))
  (v128.const i32x4 10 20 30 39))
(assert_return (invoke "bitselect-in-place"
    (v128.const i64x2 -1 0) (v128.const i64x2 0 -1) (v128.const i64x2 0x00ff00ff00ff00ff 0xf0f0f0f0f0f0f0f0))
  (v128.const i64x2 0x00ff00ff00ff00ff 0x0f0f0f0f0f0f0f0f))
(assert_return (invoke "replace-extract" (v128.const i32x4 7 0 0 0) (i32.const 35)) (i32.const 42))
(assert_return (invoke "reverse" (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15))
  (v128.const i8x16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0))
(assert_return (invoke "const-ops") (v128.const i16x8 32767 -32768 2 3 4 5 6 7))
(assert_return (invoke "shl-count" (v128.const i16x8 1 1 1 1 1 1 1 -1) (i32.const 17))
  (v128.const i16x8 2 2 2 2 2 2 2 -2))
(assert_return (invoke "shl-count" (v128.const i16x8 1 1 1 1 1 1 1 -1) (i32.const -1))
  (v128.const i16x8 0x8000 0x8000 0x8000 0x8000 0x8000 0x8000 0x8000 0x8000))
(assert_return (invoke "shifts-const" (v128.const i8x16 -128 64 2 3 4 5 6 7 8 9 10 11 12 13 14 -1))
  (v128.const i8x16 0xc0 0x20 0x01 0x01 0x02 0x02 0x03 0x03 0x04 0x04 0x05 0x05 0x06 0x06 0x07 0x7f))
(assert_return (invoke "block-br_if" (i32.const 1)) (v128.const i32x4 1 1 1 1))
(assert_return (invoke "block-br_if" (i32.const 0)) (v128.const i32x4 2 2 2 2))
(assert_return (invoke "select" (i32.const 1)) (v128.const i64x2 1 2))
(assert_return (invoke "select" (i32.const 0)) (v128.const i64x2 3 4))
(assert_return (invoke "test-branch" (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1)) (i32.const 100))
(assert_return (invoke "test-branch" (v128.const i8x16 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 -1)) (i32.const 0x8000))

(assert_return (invoke "load-lane" (i32.const 0) (v128.const i32x4 -1 -1 -1 -1))
  (v128.const i32x4 -1 0x07060504 -1 -1))
(assert_trap (invoke "load-lane" (i32.const 65529) (v128.const i32x4 0 0 0 0)) "out of bounds memory access")
(assert_return (invoke "load-lane" (i32.const 65528) (v128.const i32x4 0 0 0 0)) (v128.const i32x4 0 0 0 0))
(assert_return (invoke "store-lane" (i32.const 65532) (v128.const i16x8 0 0 0 0 0 0 0 0x1234)))
(assert_return (invoke "load-u16" (i32.const 65534)) (i32.const 0x1234))
(assert_trap (invoke "store-lane" (i32.const 65533) (v128.const i16x8 0 0 0 0 0 0 0 0x5678)) "out of bounds memory access")
(assert_return (invoke "load-u16" (i32.const 65534)) (i32.const 0x1234))
(assert_trap (invoke "store-lane" (i32.const -1) (v128.const i16x8 0 0 0 0 0 0 0 0)) "out of bounds memory access")
(assert_return (invoke "load8x8" (i32.const 65527)) (v128.const i16x8 0 0 0 0 0 0 0x34 0x12))
(assert_trap (invoke "load8x8" (i32.const 65528)) "out of bounds memory access")
(assert_return (invoke "load8x8" (i32.const 7)) (v128.const i16x8 8 9 10 11 12 13 14 15))
;; a 16-byte store straddling the end traps and writes nothing
(assert_trap (invoke "store" (i32.const 65528) (v128.const i8x16 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1)) "out of bounds memory access")
(assert_return (invoke "load-byte" (i32.const 65528)) (i32.const 0))
(assert_return (invoke "load-splat" (i32.const 8)) (v128.const i64x2 0x0f0e0d0c0b0a0908 0x0f0e0d0c0b0a0908))
(assert_trap (invoke "load-splat" (i32.const 65529)) "out of bounds memory access")
