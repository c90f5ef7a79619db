;; An invalid module (type mismatch) for `kiln wasm validate`.
(module (func (result i32) (i64.const 0)))
