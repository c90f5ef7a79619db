;; The module main.wat imports "other" from (interpreted or AOT, either way).
;; It has its own memory: AOT code of each instance must see its own memory
;; (gs-relative code switches the segment base between instances), also
;; after a trap in this instance (x = 13).
(module
  (import "env" "host_add" (func $host_add (param i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "\07\00\00\00")
  (func (export "other") (param i32) (result i32)
    (if (i32.eq (local.get 0) (i32.const 13)) (then (unreachable)))
    (i32.store (i32.const 4) (local.get 0))
    (call $host_add (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.load (i32.const 0)))
                    (i32.load (i32.const 4)))))
