#!/bin/sh
# cc_retry.sh KILN WASM WORKDIR — `kiln compile` when the C compiler crashes
# (src/wasm/aot/aot.c): a part on which cc reports an internal compiler
# error is compiled again at -O1, then at -O0 (gcc 12 crashes on about 1 in
# 100 of aot.exprgen's generated modules, some at -O1 too); a compiler that
# crashes at every level is an error naming the crash. The compilers are
# wrappers around the real cc.
set -eu
kiln=$1 wasm=$2 w=$3
rm -rf "$w"
mkdir -p "$w"
cat >"$w/crashy-cc" <<'EOF'
#!/bin/sh
# crashes at -O2 and -O1 on the generated parts, like gcc 12 on a few functions
case " $* " in *" -O2 "*part*.c* | *" -O1 "*part*.c*)
    echo "part0.c:1:1: internal compiler error: Segmentation fault" >&2; exit 4 ;; esac
exec cc "$@"
EOF
cat >"$w/broken-cc" <<'EOF'
#!/bin/sh
# crashes on every generated part
case " $* " in *part*.c*)
    echo "part0.c:1:1: internal compiler error: Segmentation fault" >&2; exit 4 ;; esac
exec cc "$@"
EOF
chmod +x "$w/crashy-cc" "$w/broken-cc"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$kiln" compile --cc "$w/crashy-cc" "$wasm" -o "$w/retried.so" 2>"$w/retried.log" ||
    { cat "$w/retried.log" >&2; fail "kiln compile did not retry a crashed part"; }
grep -q "compiling it again at -O1" "$w/retried.log" || fail "no retry at -O1 reported"
grep -q "compiling it again at -O0" "$w/retried.log" || fail "no retry at -O0 reported"
[ -s "$w/retried.so" ] || fail "no object written"
echo "ok: a part the compiler crashed on at -O2 and -O1 was compiled at -O0"

if "$kiln" compile --cc "$w/broken-cc" "$wasm" -o "$w/broken.so" 2>"$w/broken.log"; then
    fail "kiln compile succeeded with a compiler that always crashes"
fi
grep -q "internal compiler error" "$w/broken.log" || { cat "$w/broken.log" >&2; fail "the error does not name the crash"; }
[ ! -e "$w/broken.so" ] || fail "an object was written after a failed compile"
echo "ok: a compiler that crashes at every level is an error: $(tail -n 1 "$w/broken.log")"
