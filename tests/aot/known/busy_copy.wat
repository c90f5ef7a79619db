;; A WASI command that never ends, spending its time in long memory.copy and
;; memory.fill (60000 bytes: AOT code runs them in the host's glibc, outside
;; AOT text, where the interrupt signal is deferred; the check after each
;; call, rt.c, must still stop it). Run by tests/aot/interrupt_exec.sh
;; (aot.known.interrupt).
(module
  (memory (export "memory") 2)
  (func (export "_start")
    (loop $l
      (memory.copy (i32.const 16) (i32.const 0) (i32.const 60000))
      (memory.copy (i32.const 0) (i32.const 16) (i32.const 60000))
      (memory.fill (i32.const 70000) (i32.const 7) (i32.const 60000))
      (br $l))))
