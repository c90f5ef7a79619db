;; hello.wat — the smallest WASI command: prints "aot unit ok" and returns
;; (tests/aot/unit_load_test.c packs it into signed units, with and without
;; its AOT object).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "aot unit ok\n")
  (func $sum (param $n i32) (result i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $s))
  (func (export "_start")
    ;; 1+...+100 = 5050 must come out of the (native or interpreted) code
    (if (i32.ne (call $sum (i32.const 100)) (i32.const 5050)) (then unreachable))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
