;; w_nested_host.wat — host calls from nested wasm frames: fd_write called two
;; levels deep, twice, then proc_exit. Catches engine/adapter bugs in the
;; return path after a host call (expected: two lines, exit 9).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "hi there\n")
  (func $w (param $p i32) (result i32)
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 9))
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (local.get $p)))
  (func $mid (param i32) (result i32) (local i32 i32 i32)
    (local.set 1 (call $w (local.get 0)))
    (i32.add (local.get 1) (i32.const 0)))
  (func (export "_start")
    (drop (call $mid (i32.const 100000)))
    (drop (call $mid (i32.const 8)))
    (call $exit (i32.add (i32.load (i32.const 8)) (i32.const 0)))))
