;; Instantiated after main.wat (tests/aot/aot_test.c) with main's memory and
;; table: its active segment puts into main's table a function of this
;; instance, which runs on main's memory 0 (AOT main calls its native entry
;; directly: KX_SAME_MEM), and the host function host_add itself (a
;; call_indirect of a host function goes through rt->call).
(module
  (type $ii (func (param i32) (result i32)))
  (import "main" "mem" (memory 1))
  (import "main" "tab" (table 6 funcref))
  (import "env" "host_add" (func $host_add (param i32 i32) (result i32)))
  (elem (i32.const 4) $peek $host_add)
  ;; main's memory holds 1000 at 0 (this module has no memory of its own);
  ;; x is stored at 32, where main's "mem32" reads it
  (func $peek (type $ii)
    (i32.store (i32.const 32) (local.get 0))
    (i32.add (i32.load (i32.const 0)) (local.get 0))))
