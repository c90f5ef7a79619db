#!/bin/sh
# known.sh AOT_EXEC KILN CACHE KNOWN_PROG.wasm WORKDIR — the well-known libc
# functions of the AOT translator (src/wasm/aot/translate_known.c):
#   1. all fifteen are recognised in known_prog.wasm (kiln compile --keep-c:
#      the generated C holds a fast path for each);
#   2. known_prog prints the same digests interpreted and AOT-compiled;
#   3. each of its out-of-bounds calls traps the same way under both
#      (stdout, stderr and exit status identical, and not 0);
#   4. recursions that call a known function at every level reach the
#      same depth and trap the same way under both, with the object compiled
#      --metered (only metered code counts frames like the interpreter;
#      code without polls is bounded by the native stack alone).
set -u
exe=$1; kiln=$2; cache=$3; wasm=$4; work=$5
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
fail=0

"$kiln" compile -q "$wasm" -o known_prog.so --keep-c c >compile.log 2>&1 ||
    { echo "FAIL kiln compile:"; cat compile.log; exit 1; }
for f in memcpy memmove memset memcmp strlen memchr strchrnul strchr strcspn strspn strcmp \
    strncmp strnlen memrchr strrchr; do
    if grep -q "/\* $f (wasi-libc): native" c/*.c; then :; else
        echo "FAIL $f: not recognised in known_prog.wasm"; fail=1
    fi
done
[ $fail -eq 0 ] && echo "recognised: all 15 functions"

# run NAME ARGS...: interpreted and AOT ($metered: empty or --metered), compared
metered=
run() {
    name=$1; shift
    "$exe" "$wasm" "$@" >"$name.i.out" 2>"$name.i.err"; echo "rc=$?" >"$name.i.rc"
    "$exe" --aot "$cache" $metered "$wasm" "$@" >"$name.a.out" 2>"$name.a.err"; echo "rc=$?" >"$name.a.rc"
    if cmp -s "$name.i.out" "$name.a.out" && cmp -s "$name.i.err" "$name.a.err" &&
        cmp -s "$name.i.rc" "$name.a.rc"; then
        echo "same $name: $(cat "$name.a.rc"), $(wc -l <"$name.a.out") lines"
    else
        echo "DIFF $name: interpreted $(cat "$name.i.rc"), AOT $(cat "$name.a.rc")"
        diff "$name.i.out" "$name.a.out" | head -5; diff "$name.i.err" "$name.a.err" | head -5
        fail=1
    fi
}
run patterns
grep -q '^done$' patterns.a.out || { echo "FAIL patterns: no 'done'"; fail=1; }
for t in $("$exe" "$wasm" list | tail -n +2); do
    run "trap-$t" trap "$t"
    if [ "$(cat "trap-$t.a.rc")" = rc=0 ] || ! grep -q "calling $t" "trap-$t.a.out"; then
        echo "FAIL trap-$t: expected a trap after 'calling $t'"; fail=1
    fi
done
metered=--metered
for t in strlen strchr0 strcspn0 strcspn1 strchrnul memmove strnlen strrchr; do
    # the deepest recursion that does not trap, interpreted (binary search), then both
    # engines one below, at, and one and two above it
    lo=0; hi=40000
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        if "$exe" "$wasm" depth "$t" $mid >/dev/null 2>&1; then lo=$mid; else hi=$mid; fi
    done
    [ $lo -gt 1000 ] || { echo "FAIL depth-$t: no depth limit found ($lo)"; fail=1; }
    for n in $((lo - 1)) $lo $((lo + 1)) $((lo + 2)); do run "depth-$t-$n" depth "$t" $n; done
done
[ $fail -eq 0 ] && echo "known.sh: every known function matches the interpreter"
exit $fail
