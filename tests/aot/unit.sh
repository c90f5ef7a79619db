#!/bin/sh
# unit.sh KILN AOT_TEST WASM WORKDIR — the signed path end to end: `kiln
# compile` the module, `kiln sign --aot` it into a unit with a fresh key,
# `kiln verify` it, then aot-test loads the module.aot region against the
# signed digest and runs it; a unit whose AOT region was altered must be
# refused by the verifier.
set -eu
kiln=$1; test=$2; wasm=$3; work=$4
rm -rf "$work"; mkdir -p "$work/trust"; cd "$work"
"$kiln" keygen -o key >/dev/null
cp key.pub.pem trust/
"$kiln" compile -q "$wasm" -o m.so
"$kiln" sign --key key.pem --abi wasi_snapshot_preview1 --aot m.so --aot-target "$(uname -m)-linux-gnu" \
    --aot-compiler "cc -O2" "$wasm" -o m.unit
"$kiln" verify --trust trust m.unit >/dev/null
"$test" unit m.unit trust
# flip one byte inside the module.aot region (region 2 of the footer table)
size=$(stat -c %s m.unit); foot=$((size - 256))
off=$(od -An -tu8 -j $((foot + 48 + 48)) -N8 m.unit | tr -d ' ')
len=$(od -An -tu8 -j $((foot + 56 + 48)) -N8 m.unit | tr -d ' ')
cp m.unit bad.unit
pos=$((off + len / 2))
byte=$(od -An -tu1 -j $pos -N1 bad.unit | tr -d ' ')
printf "$(printf '\\%03o' $(( (byte + 1) % 256 )))" | dd of=bad.unit bs=1 seek=$pos conv=notrunc 2>/dev/null
if "$kiln" verify --trust trust bad.unit >out.txt 2>&1; then
    echo "FAIL: a unit with a modified module.aot region verified"; exit 1
fi
grep -q "digest mismatch" out.txt || { echo "FAIL: unexpected refusal: $(cat out.txt)"; exit 1; }
echo "unit.sh: tampered module.aot refused: $(cat out.txt)"
