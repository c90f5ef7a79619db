;; Pointer-chasing loads (src/wasm/aot/translate_chase.c), for
;; tests/aot/aot_chase_test.c. An export named c<N>_... must have exactly N
;; loads found to chase; the test also runs every export interpreted and
;; AOT-compiled and compares the results and traps.
;;
;; A list node: next at +0, data at +8 (16 bytes, from 1024). A tree node:
;; left at +0, right at +4, key at +8 (16 bytes, from 8192).
(module
  (memory (export "mem") 1)

  ;; n list nodes (n not a multiple of 7) in a scrambled order: the node at walk position k is node (k * 7) mod n,
  ;; holding data (k * 11) mod 17; returns the head, node 0 (1024). No
  ;; chase: addresses come from k.
  (func (export "c0_init") (param $n i32) (result i32)
    (local $k i32) (local $a i32)
    (loop $l
      (local.set $a (i32.add (i32.const 1024)
        (i32.shl (i32.rem_u (i32.mul (local.get $k) (i32.const 7)) (local.get $n)) (i32.const 4))))
      (i32.store (local.get $a)
        (select (i32.add (i32.const 1024)
                  (i32.shl (i32.rem_u (i32.mul (i32.add (local.get $k) (i32.const 1)) (i32.const 7))
                                      (local.get $n))
                           (i32.const 4)))
                (i32.const 0)
                (i32.lt_u (i32.add (local.get $k) (i32.const 1)) (local.get $n))))
      (i32.store offset=8 (local.get $a)
        (i32.rem_u (i32.mul (local.get $k) (i32.const 11)) (i32.const 17)))
      (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $n))))
    (i32.const 1024))

  ;; the position of the first node holding key, or -1: p = p->next
  (func (export "c1_find") (param $p i32) (param $key i32) (result i32)
    (local $k i32)
    (block $out
      (loop $l
        (br_if $out (i32.eq (i32.load offset=8 (local.get $p)) (local.get $key)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $l (local.tee $p (i32.load (local.get $p)))))
      (return (i32.const -1)))
    (local.get $k))

  ;; in-place reversal; returns the new head (next = p->next through a
  ;; second local, then a store to the node just read)
  (func (export "c1_reverse") (param $p i32) (result i32)
    (local $prev i32) (local $next i32)
    (loop $l
      (local.set $next (i32.load (local.get $p)))
      (i32.store (local.get $p) (local.get $prev))
      (local.set $prev (local.get $p))
      (br_if $l (local.tee $p (local.get $next))))
    (local.get $prev))

  ;; unlinks every second node: p->next = p->next->next, then p = p->next,
  ;; which must read the value just stored; returns the nodes visited * 1000
  ;; plus the sum of their data
  (func (export "c1_skip") (param $p i32) (result i32)
    (local $q i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
                               (i32.add (i32.const 1000) (i32.load offset=8 (local.get $p)))))
      (if (local.tee $q (i32.load (local.get $p)))
        (then (i32.store (local.get $p) (i32.load (local.get $q)))))
      (br_if $l (local.tee $p (i32.load (local.get $p)))))
    (local.get $acc))

  ;; an accumulator fed by loads is not a chase (their addresses come from i)
  (func (export "c0_sum") (param $base i32) (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s)
                             (i32.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const 2))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))

  ;; a complete binary tree of n nodes in heap order (no chase)
  (func (export "c0_tree_init") (param $n i32) (result i32)
    (local $i i32) (local $a i32) (local $c i32)
    (loop $l
      (local.set $a (i32.add (i32.const 8192) (i32.shl (local.get $i) (i32.const 4))))
      (local.set $c (i32.add (i32.shl (local.get $i) (i32.const 1)) (i32.const 1)))
      (i32.store (local.get $a)
        (select (i32.add (i32.const 8192) (i32.shl (local.get $c) (i32.const 4))) (i32.const 0)
                (i32.lt_u (local.get $c) (local.get $n))))
      (i32.store offset=4 (local.get $a)
        (select (i32.add (i32.const 8208) (i32.shl (local.get $c) (i32.const 4))) (i32.const 0)
                (i32.lt_u (i32.add (local.get $c) (i32.const 1)) (local.get $n))))
      (i32.store offset=8 (local.get $a) (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 1)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i32.const 8192))

  ;; down the tree, right on a 1 bit, left on a 0: both child loads chase
  (func (export "c2_tree") (param $p i32) (param $bits i32) (result i32)
    (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31))
                               (i32.load offset=8 (local.get $p))))
      (local.set $p (select (i32.load offset=4 (local.get $p)) (i32.load (local.get $p))
                            (i32.and (local.get $bits) (i32.const 1))))
      (local.set $bits (i32.shr_u (local.get $bits) (i32.const 1)))
      (br_if $l (local.get $p)))
    (local.get $acc))

  ;; a chase in a loop whose body is longer than 256 bytes: left alone
  ;; (the latency is hidden behind the rest of the body)
  (func (export "c0_long") (param $p i32) (result i32)
    (local $x i32)
    (loop $l
      (local.set $x (i32.add (local.get $x) (i32.load offset=8 (local.get $p))))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (local.set $x (i32.xor (i32.mul (local.get $x) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
      (br_if $l (local.tee $p (i32.load (local.get $p)))))
    (local.get $x))

  ;; a chase into the guard region: node 0's next is set to 0xfffffff0, so
  ;; the second hop's load traps out of bounds (a store in the same loop)
  (func (export "c1_oob") (param $p i32) (result i32)
    (i32.store (local.get $p) (i32.const 0xfffffff0))
    (loop $l
      (local.set $p (i32.load (local.get $p)))
      (i32.store offset=12 (i32.const 1024) (local.get $p))
      (br_if $l (local.get $p)))
    (i32.const 0))

  ;; i = next[i] over a table of 64 i32 at 16384 through the loop's
  ;; parameter instead of a local: a chase the walk does not see (values
  ;; entering a block are forgotten), so 0

  (func (export "c0_param") (param $i i32) (param $n i32) (result i32)
    (local.get $i)
    (loop $l (param i32) (result i32)
      (i32.load (i32.add (i32.const 16384) (i32.shl (i32.and (i32.const 63)) (i32.const 2))))
      (local.tee $i)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (drop)
    (local.get $i))

  ;; i = next[i] in a local: a chase through an index
  (func (export "c1_index") (param $i i32) (param $n i32) (result i32)
    (loop $l
      (local.set $i (i32.load (i32.add (i32.const 16384)
                                       (i32.shl (i32.and (local.get $i) (i32.const 63)) (i32.const 2)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $i))

  ;; fills the index table: next[i] = (i * 5 + 1) mod 64
  (func (export "c0_index_init") (result i32)
    (local $i i32)
    (loop $l
      (i32.store (i32.add (i32.const 16384) (i32.shl (local.get $i) (i32.const 2)))
        (i32.and (i32.add (i32.mul (local.get $i) (i32.const 5)) (i32.const 1)) (i32.const 63)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 64))))
    (i32.const 0)))
