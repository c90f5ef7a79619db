;; Module for the `kiln wasm invoke` / `kiln wasm validate` tests
;; (tests/spec/CMakeLists.txt, tests cmd.*).
(module
  (memory 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "mix") (param f32 f64 i64) (result f64 f32 i64)
    (local.get 1) (local.get 0) (local.get 2))
  (func (export "oob") (result i32) (i32.load (i32.const 65536)))
  (func (export "spin") (loop (br 0)))
  (func (export "ext") (param externref) (result externref) (local.get 0))
)
