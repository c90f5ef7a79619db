;; The module main.wat imports "other" from (interpreted or AOT, either way).
(module
  (import "env" "host_add" (func $host_add (param i32 i32) (result i32)))
  (func (export "other") (param i32) (result i32)
    (call $host_add (i32.mul (local.get 0) (i32.const 3)) (i32.const 1))))
