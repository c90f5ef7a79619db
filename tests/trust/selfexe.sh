#!/bin/sh
# selfexe.sh KILN SELFEXE — a unit whose stub is the stub-like harness
# verifies itself through /proc/self/exe; tampered or foreign-signed copies
# exit 126 with one line naming the reason.
set -eu
KILN=$1
SELF=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; exit 1; }
"$KILN" keygen -o a > keygen.out
KEYID_A=$(sed -n 's/^key id //p' keygen.out)
"$KILN" keygen -o b >/dev/null
mkdir trust && cp a.pub.pem trust/
printf '\000asm\001\000\000\000\000\004\003abc' > m.wasm
"$KILN" sign --key a.pem --stub "$SELF" --abi wasi_snapshot_preview1 m.wasm -o unit >/dev/null
./unit trust > out || fail "unit did not verify itself: $(cat out)"
grep -q 'verified: module 14 bytes' out || fail "unexpected output: $(cat out)"

run_refused() { # reason file
    set +e
    ./"$2" trust >/dev/null 2>err
    rc=$?
    set -e
    test $rc = 126 || fail "$2 exited $rc"
    test "$(wc -l < err)" = 1 || fail "$2: not one line: $(cat err)"
    grep -q "kiln-stub: refused: $1" err || fail "$2: expected '$1': $(cat err)"
}
# a module byte changed (module starts right after the stub)
STUBLEN=$(stat -c %s "$SELF")
cp unit t1 && printf 'X' | dd of=t1 bs=1 seek=$((STUBLEN + 9)) conv=notrunc 2>/dev/null
run_refused "digest mismatch" t1
# signed by a key the store does not hold
"$KILN" sign --key b.pem --stub "$SELF" --abi wasi_snapshot_preview1 m.wasm -o t2 >/dev/null
run_refused "unknown key" t2
# revoked
cp unit t3
echo "$KEYID_A" > trust/revoked
run_refused "revoked key" t3
rm trust/revoked
# the bare harness is not a unit
cp "$SELF" t4
run_refused "bad footer" t4
echo "selfexe ok"
