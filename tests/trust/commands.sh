#!/bin/sh
# commands.sh KILN — end-to-end checks of kiln keygen/sign/verify/inspect:
# exit codes, one-line refusals naming the reason, trust dirs with revocation,
# file modes, and that a failed sign leaves no output behind.
set -eu
KILN=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
fail() { echo "FAIL: $*"; exit 1; }

"$KILN" keygen --help | grep -q 'usage: kiln keygen' || fail "keygen --help"
for c in sign verify inspect; do "$KILN" $c --help | grep -q "usage: kiln $c" || fail "$c --help"; done
"$KILN" keygen -o a > keygen.out && "$KILN" keygen -o b >/dev/null
KEYID_A=$(sed -n 's/^key id //p' keygen.out)
test "$(stat -c %a a.pem)" = 600 || fail "private key mode"
"$KILN" keygen -o a >/dev/null 2>&1 && fail "keygen overwrote a key"

printf '\000asm\001\000\000\000' > m.wasm
"$KILN" sign --key a.pem --stub /bin/true --abi wasi_snapshot_preview1 --source-path /usr/bin/app \
    m.wasm -o u >/dev/null || fail "sign"
test -x u || fail "unit not executable"
# reproducible: canonical JSON + deterministic Ed25519 give the same bytes again
"$KILN" sign --key a.pem --stub /bin/true --abi wasi_snapshot_preview1 --source-path /usr/bin/app \
    m.wasm -o u.again >/dev/null || fail "sign again"
cmp -s u u.again || fail "signing twice gave different units"

# usage errors exit 2
set +e
"$KILN" verify >/dev/null 2>&1; test $? = 2 || fail "verify without args"
"$KILN" sign --key a.pem m.wasm -o x >/dev/null 2>&1; test $? = 2 || fail "sign without --abi"
"$KILN" sign --key a.pem --stub m.wasm --abi wasi_snapshot_preview1 m.wasm -o x >/dev/null 2>&1
test $? = 1 || fail "sign with a non-ELF stub"
test -e x && fail "failed sign left output"
printf '\000asm\001\000\000\000\001\006\001\140\000\001\177' > bad.wasm # section longer than the file
"$KILN" sign --key a.pem --stub /bin/true --abi wasi_snapshot_preview1 bad.wasm -o x >/dev/null 2>err
test $? = 1 || fail "sign of an invalid module"
grep -q 'not a valid WebAssembly module' err || fail "invalid module message: $(cat err)"
test -e x && fail "failed sign left output"
set -e

"$KILN" verify --key a.pub.pem u > out || fail "verify good unit"
grep -q "signed by   $KEYID_A" out || fail "verify output lacks the signer"
grep -q '/usr/bin/app' out || fail "verify output lacks the source path"

expect_refusal() { # reason args...
    reason=$1; shift
    set +e
    "$KILN" verify "$@" 2>err >/dev/null
    rc=$?
    set -e
    test $rc = 1 || fail "verify $* exited $rc"
    test "$(wc -l < err)" = 1 || fail "refusal is not one line: $(cat err)"
    grep -q "refused: $reason" err || fail "expected '$reason': $(cat err)"
}
expect_refusal "unknown key" --key b.pub.pem u
mkdir trust
cp a.pub.pem b.pub.pem trust/
"$KILN" verify --trust trust u >/dev/null || fail "verify --trust"
printf '# revoked\n%s\n' "$KEYID_A" > trust/revoked
expect_refusal "revoked key" --trust trust u
cp u v
printf 'X' | dd of=v bs=1 seek=100 conv=notrunc 2>/dev/null
expect_refusal "digest mismatch" --key a.pub.pem v
head -c 1000 u > w
expect_refusal "bad footer" --key a.pub.pem w

"$KILN" inspect u | grep -q 'NOT verified' || fail "inspect"
"$KILN" inspect --json u | grep -q '"predicateType": "https://kiln.dev/unit/v1"' || fail "inspect --json"
echo "commands ok"
