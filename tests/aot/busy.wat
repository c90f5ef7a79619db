;; A WASI command that never ends and makes no call: the AOT code of its
;; _start is a bare jump (no poll), so only the interrupt signal stops it
;; (tests/aot/interrupt_exec.sh).
(module
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func (export "_start")
    (loop $l
      (global.set $n (i32.add (global.get $n) (i32.const 1)))
      (br $l))))
