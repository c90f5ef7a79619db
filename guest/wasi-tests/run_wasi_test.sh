#!/bin/sh
# run_wasi_test.sh — runs one WASI test program under `kiln exec` and checks it.
#   run_wasi_test.sh diff   KILN MODULE.wasm NATIVE_EXE SRCDIR
#       the same program built natively must give the same stdout, stderr and
#       exit status (differential test);
#   run_wasi_test.sh expect KILN MODULE.wasm EXPECTED_FILE SRCDIR
#       stdout + "exit N" must equal the expected file (WASI-only programs).
# Each run gets a fresh directory: at /w for the guest, its host path natively.
# Guest arguments: DIR a "b c"; environment: K1=v1 K2="two words" only.
set -u
mode=$1 kiln=$2 wasm=$3 ref=$4 src=$5
name=$(basename "$wasm" .wasm)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-wasi-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/k" "$tmp/n"
input=/dev/null
[ -f "$src/$name.stdin" ] && input="$src/$name.stdin"
"$kiln" exec --dir "$tmp/k::/w" --env K1=v1 --env "K2=two words" --audit "$tmp/audit.jsonl" \
    "$wasm" /w a "b c" <"$input" >"$tmp/kiln.out" 2>"$tmp/kiln.err"
krc=$?
echo "exit $krc" >>"$tmp/kiln.out"
if [ "$mode" = diff ]; then
    (cd "$tmp/n" && env -i K1=v1 "K2=two words" "$ref" "$tmp/n" a "b c") <"$input" \
        >"$tmp/native.out" 2>"$tmp/native.err"
    nrc=$?
    echo "exit $nrc" >>"$tmp/native.out"
    sed "s|$tmp/n|/w|g" "$tmp/native.out" >"$tmp/native.out2"
    if ! diff -u "$tmp/native.out2" "$tmp/kiln.out"; then
        echo "FAIL: stdout/exit differ (native -, kiln +)"; cat "$tmp/kiln.err"; exit 1
    fi
    if ! diff -u "$tmp/native.err" "$tmp/kiln.err"; then
        echo "FAIL: stderr differs (native -, kiln +)"; exit 1
    fi
else
    if ! diff -u "$ref" "$tmp/kiln.out"; then
        echo "FAIL: output differs (expected -, kiln +)"; cat "$tmp/kiln.err"; exit 1
    fi
fi
# the audit log must end with the exit summary
tail -n 1 "$tmp/audit.jsonl" | grep -q '"event":"exit"' || { echo "FAIL: no exit event"; exit 1; }
echo "ok: $name"
