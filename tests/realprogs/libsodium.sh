#!/bin/sh
# libsodium.sh KILN WORKDIR [TEST...] — libsodium's own test suite
# (test/default from Debian's libsodium source, built by guest/debian) under
# kiln, natively and under node's WASI. Each test program writes NAME.res
# into its working directory (a preopen under WASI) and compares it with
# NAME.exp itself: exit 0 means the output matched libsodium's expected
# output. Every test must pass on all three runners, and kiln's .res must
# equal native's. Prints the suite's wall time per runner. Without TEST
# arguments, every test the recipe built runs (about a minute under kiln).
. "$(dirname "$0")/common.sh"
shift 2
rp_build libsodium
cd "$WORK" || exit 1
rm -rf k n d && mkdir k n d
cp "$OUT"/tests/*.exp k/ && cp "$OUT"/tests/*.exp n/ && cp "$OUT"/tests/*.exp d/
if [ $# -gt 0 ]; then tests=$*; else tests=$(cd "$OUT/tests" && ls *.wasm | sed 's/\.wasm$//'); fi
[ -n "$tests" ] || rp_fail "no libsodium tests were built"
now() { date +%s.%N; }
tn=0 tk=0 td=0 count=0 failed=
for t in $tests; do
    count=$((count + 1))
    a=$(now)
    (cd n && "$OUT/tests/$t.native") >"n-$t.log" 2>&1 || failed="$failed native:$t"
    b=$(now)
    rp_kiln --dir "$WORK/k::/" "$OUT/tests/$t.wasm" >"k-$t.log" 2>&1 || failed="$failed kiln:$t"
    c=$(now)
    rp_node --dir "$WORK/d::/" "$OUT/tests/$t.wasm" >"d-$t.log" 2>&1 || failed="$failed node:$t"
    e=$(now)
    cmp -s "n/$t.res" "k/$t.res" || failed="$failed kiln-vs-native:$t"
    tn=$(echo "$tn $a $b" | awk '{ print $1 + $3 - $2 }')
    tk=$(echo "$tk $b $c" | awk '{ print $1 + $3 - $2 }')
    td=$(echo "$td $c $e" | awk '{ print $1 + $3 - $2 }')
done
[ -z "$failed" ] || rp_fail "libsodium tests failed:$failed (logs in $WORK)"
printf 'suite wall time for %d tests: native %.1f s, kiln %.1f s, node %.1f s\n' "$count" "$tn" "$tk" "$td"
echo "ok: libsodium test/default, $count tests (kiln = node = native = .exp)"
