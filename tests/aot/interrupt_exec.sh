#!/bin/sh
# interrupt_exec.sh KILN BUSY.wasm WORKDIR — policy time limits and SIGINT
# stop a call-free endless loop the same way interpreted and AOT-compiled
# without polls (`kiln exec --aot-cache`): the limits' POSIX timer signals
# land on the thread running the guest, whose handler calls
# kiln_store_interrupt() (src/vkernel/abi/wasi_run.c; the interrupt signal
# is then delivered when that handler returns, docs/aot.md "Interruption").
#   wallTimeMs 300, cpuTimeMs 200 -> exit 134, "trap: interrupted (time limit)"
#   SIGINT after 0.3 s            -> exit 130
# The outputs of both engines must be identical. The AOT runs' policies say
# "engine": {"requireAot": true}, so they cannot fall back to the interpreter.
set -eu
kiln=$1; wasm=$2; work=$3
rm -rf "$work"; mkdir -p "$work"; cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"limits":{"wallTimeMs":300}}\n' >wall.json
printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"limits":{"cpuTimeMs":200}}\n' >cpu.json
# the AOT runs require AOT, so they cannot silently be interpreted
for lim in wall cpu; do
    sed 's/"limits"/"engine":{"requireAot":true},"limits"/' $lim.json >$lim-aot.json
done
printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"engine":{"requireAot":true}}\n' >aot.json
mkdir cache  # the first run compiles the object into it
"$kiln" exec --aot-cache cache --policy cpu.json "$wasm" 2>/dev/null || true
ls cache/*.so >/dev/null 2>&1 || fail "kiln exec --aot-cache made no object"

for lim in wall cpu; do
    for mode in interp aot; do
        set -- exec --policy $lim.json
        [ $mode = aot ] && set -- exec --policy $lim-aot.json --aot-cache cache
        rc=0; timeout 20 "$kiln" "$@" "$wasm" >$lim-$mode.out 2>$lim-$mode.err || rc=$?
        echo "$lim $mode: exit $rc: $(cat $lim-$mode.err)"
        [ $rc = 134 ] || fail "$lim limit, $mode: exit $rc, expected 134"
        grep -q "trap: interrupted (time limit)" $lim-$mode.err || fail "$lim limit, $mode: no trap message"
    done
    cmp -s $lim-interp.err $lim-aot.err || fail "$lim limit: messages differ"
done

for mode in interp aot; do
    set -- exec
    [ $mode = aot ] && set -- exec --policy aot.json --aot-cache cache
    "$kiln" "$@" "$wasm" >int-$mode.out 2>int-$mode.err &
    pid=$!
    sleep 0.3
    kill -INT $pid
    rc=0; wait $pid || rc=$?
    echo "SIGINT $mode: exit $rc"
    [ $rc = 130 ] || fail "SIGINT, $mode: exit $rc, expected 130"
done
cmp -s int-interp.err int-aot.err || fail "SIGINT: messages differ"
echo "interrupt_exec.sh: ok"
