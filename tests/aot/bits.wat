;; Demanded bits of integer constants (src/wasm/aot/translate_bits.c), for
;; tests/aot/aot_chase_test.c (mode "bits"). An export named b<N>_... must
;; have exactly N constants changed; the test also calls every export with
;; edge-value arguments interpreted and AOT-compiled and compares.
(module
  (memory (export "mem") 1)

  ;; only the low 16 bits of the xor are used: 0xffffa001 -> 0xa001
  (func (export "b1_xor_masked") (param i32) (result i32)
    (i32.and (i32.xor (local.get 0) (i32.const 0xffffa001)) (i32.const 0xffff)))

  ;; the whole xor is returned: nothing changes
  (func (export "b0_xor_whole") (param i32) (result i32)
    (i32.xor (local.get 0) (i32.const 0xffffa001)))

  ;; a byte store uses 8 bits: the mask 0xffff becomes all ones (a no-op)
  (func (export "b1_and_noop") (param i32) (result i32)
    (i32.store8 (i32.const 64) (i32.and (local.get 0) (i32.const 0xffff)))
    (i32.load8_u (i32.const 64)))

  ;; a mask that would stay partial is left alone: 0xff00 under a 0xffff use
  (func (export "b0_and_partial") (param i32) (result i32)
    (i32.and (i32.and (local.get 0) (i32.const 0xff00)) (i32.const 0xffff)))

  ;; shl by 16 uses the low 16 bits: 0xffff0001 -> 0x1
  (func (export "b1_shl") (param i32) (result i32)
    (i32.shl (i32.or (local.get 0) (i32.const 0xffff0001)) (i32.const 16)))

  ;; a local reused within straight-line code: the first value's uses
  ;; (bits 0..15) are its own; the second is returned whole
  (func (export "b1_reuse") (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.xor (local.get 0) (i32.const 0xffffa001)))
    (i32.store16 (i32.const 128) (local.get 1))
    (local.set 1 (i32.xor (local.get 0) (i32.const 0xffff0001)))
    (i32.add (local.get 1) (i32.load16_u (i32.const 128))))

  ;; across a block end the local's reads are merged: returned whole, so
  ;; nothing changes
  (func (export "b0_join") (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.xor (local.get 0) (i32.const 0xffffa001)))
    (block (br_if 0 (i32.eqz (local.get 0)))
      (i32.store16 (i32.const 130) (local.get 1)))
    (local.get 1))

  ;; CoreMark's CRC step: r = c ? t ^ K : t; (r >> 1) & 0x7fff uses bits
  ;; 1..15 of r: K -> 0xa000
  (func (export "b1_crc_step") (param i32 i32) (result i32)
    (local i32)
    (local.set 2 (i32.shr_u (local.get 0) (i32.const 1)))
    (i32.and
      (i32.shr_u
        (select (i32.xor (local.get 2) (i32.const 0xffffa001)) (local.get 2)
                (i32.and (i32.xor (local.get 0) (local.get 1)) (i32.const 1)))
        (i32.const 1))
      (i32.const 0x7fff)))

  ;; the low 16 bits of a sum depend on the operands' low 16 bits only:
  ;; 0xffff8000 -> 0x8000
  (func (export "b1_add") (param i32) (result i32)
    (i32.and (i32.add (local.get 0) (i32.const 0xffff8000)) (i32.const 0xffff)))

  ;; the top bits of an arithmetic shift copy the sign bit: kept
  (func (export "b0_sign") (param i32) (result i32)
    (i32.and (i32.shr_s (i32.or (local.get 0) (i32.const 0x80000000)) (i32.const 4))
             (i32.const 0xf0000000)))

  ;; 64-bit: the wrapped low half: 0xffffffff00000001 -> 0x1
  (func (export "b1_i64") (param i32) (result i32)
    (i32.wrap_i64 (i64.xor (i64.extend_i32_u (local.get 0)) (i64.const 0xffffffff00000001))))

  ;; extend8_s reads bits 0..7: 0xffffff00 -> 0
  (func (export "b1_ext8") (param i32) (result i32)
    (i32.extend8_s (i32.or (local.get 0) (i32.const 0xffffff00))))

  ;; an operand that flows into a loop (through its parameter) is
  ;; demanded whole: kept
  (func (export "b0_loop") (param i32) (result i32)
    (local i32)
    (i32.xor (local.get 0) (i32.const 0xffffa001))
    (loop (param i32) (result i32)
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get 1) (i32.const 3))))
    (i32.and (i32.const 0xffff)))

  ;; 40 nested blocks with one result each: the translator's control stack
  ;; grows (moves) while the outer blocks' result types are still in use
  ;; (a use after free once; the sanitize stage runs this test under ASan)
  (func (export "b0_nested") (param i32) (result i32)
    (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (block (result i32) (i32.xor (local.get 0) (i32.const 0))) (i32.const 1))) (i32.const 2))) (i32.const 3))) (i32.const 4))) (i32.const 5))) (i32.const 6))) (i32.const 7))) (i32.const 8))) (i32.const 9))) (i32.const 10))) (i32.const 11))) (i32.const 12))) (i32.const 13))) (i32.const 14))) (i32.const 15))) (i32.const 16))) (i32.const 17))) (i32.const 18))) (i32.const 19))) (i32.const 20))) (i32.const 21))) (i32.const 22))) (i32.const 23))) (i32.const 24))) (i32.const 25))) (i32.const 26))) (i32.const 27))) (i32.const 28))) (i32.const 29))) (i32.const 30))) (i32.const 31))) (i32.const 32))) (i32.const 33))) (i32.const 34))) (i32.const 35))) (i32.const 36))) (i32.const 37))) (i32.const 38))) (i32.const 39))))
)
