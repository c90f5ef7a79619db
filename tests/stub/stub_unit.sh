#!/bin/sh
# stub_unit.sh MODE KILN STUB PRODSTUB BINDIR STOREBASE STATIC
#
# Real units end to end: `kiln keygen`, `kiln sign --stub STUB` of WASI guests
# built by CMake into BINDIR, then the unit is run as an ordinary program.
# STUB is kiln-stub built with its system trust store, trust config and stub
# config fixed at build time under STOREBASE (like the production stub's
# /etc/kiln paths, with the same root-ownership rules); this script creates
# and removes that directory. PRODSTUB is the production kiln-stub; STATIC
# (ON/OFF) says whether the build links it statically.
#
# Modes: run tamper keys audit policy status production. Exit 0 pass, 1 fail,
# 77 skipped (not root: the store must be owned by root).
set -eu
MODE=$1
KILN=$2
STUB=$3
PROD=$4
B=$5
T=$6
STATIC=${7:-ON}

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: the stub's trust store must be owned by root; run as root"
    exit 77
fi
fail() {
    echo "FAIL ($MODE): $*"
    exit 1
}
W=$(mktemp -d)
trap 'rm -rf "$W" "$T"' EXIT
rm -rf "$T"
mkdir -p "$T/trust"
chmod 755 "$T" "$T/trust"
cd "$W"
"$KILN" keygen -o a >keygen.out
KEYID=$(sed -n 's/^key id //p' keygen.out)
"$KILN" keygen -o b >/dev/null
cp a.pub.pem "$T/trust/"

# sign OUT WASM [kiln sign options]: a unit signed by key a with STUB
sign() {
    out=$1
    wasm=$2
    shift 2
    "$KILN" sign --key a.pem --stub "$STUB" --abi wasi_snapshot_preview1 "$@" "$wasm" -o "$out" \
        >/dev/null || fail "kiln sign $out"
}
# refused REASON UNIT [ARGS]: exit 126 and exactly one line naming REASON
refused() {
    reason=$1
    unit=$2
    shift 2
    set +e
    ./"$unit" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
    [ $rc = 126 ] || fail "$unit: exit $rc, expected 126 ($reason): $(cat err.txt)"
    [ "$(wc -l <err.txt)" = 1 ] || fail "$unit: stderr is not one line: $(cat err.txt)"
    grep -q "^kiln-stub: refused: $reason: " err.txt || fail "$unit: expected '$reason': $(cat err.txt)"
    [ ! -s out.txt ] || fail "$unit: refused unit wrote to stdout: $(cat out.txt)"
}
# runs UNIT EXPECTED_RC [ARGS]: the guest ran and exited with EXPECTED_RC
runs() {
    unit=$1
    want=$2
    shift 2
    set +e
    ./"$unit" "$@" >out.txt 2>err.txt
    rc=$?
    set -e
    [ $rc = "$want" ] || fail "$unit $*: exit $rc, expected $want: $(cat err.txt)"
}
# flip FILE OFFSET: xor the byte at OFFSET with 0x01
flip() {
    v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf %o $((v ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
u64() { od -An -tu8 -j "$2" -N8 "$1" | tr -d ' '; }

case $MODE in
run)
    sign hello.unit "$B/hello.wasm"
    runs hello.unit 0
    [ "$(cat out.txt)" = "hello from a signed unit" ] || fail "output: $(cat out.txt)"
    [ ! -s err.txt ] || fail "stderr: $(cat err.txt)"
    # exit status, arguments (even ones that look like options) and environment pass through
    KILN_STUB_TEST="a b" runs hello.unit 7 7 --help --trust /nonexistent
    printf 'hello from a signed unit\narg 1: 7\narg 2: --help\narg 3: --trust\narg 4: /nonexistent\nenv: a b\n' >want.txt
    cmp -s out.txt want.txt || fail "args/env: $(cat out.txt)"
    runs hello.unit 255 255
    # a trap: 134 and one line naming it
    runs hello.unit 134 trap
    grep -q "^kiln-stub: trap: unreachable" err.txt || fail "trap: $(cat err.txt)"
    # the stub's own config path cannot be chosen by the environment either
    printf 'audit = %s/evil.jsonl\n' "$W" >evil.conf
    export KILN_STUB_CONFIG="$W/evil.conf"
    runs hello.unit 0
    unset KILN_STUB_CONFIG
    [ ! -e evil.jsonl ] || fail "the environment chose the stub config"
    # a unit is an ordinary executable: found through PATH, run by another name
    mkdir bin && cp hello.unit bin/greet
    PATH="$W/bin:$PATH" greet 3 >out.txt 2>&1 || [ $? = 3 ] || fail "via PATH"
    grep -q "hello from a signed unit" out.txt || fail "via PATH: $(cat out.txt)"
    echo "run ok"
    ;;
tamper)
    sign hello.unit "$B/hello.wasm"
    runs hello.unit 0
    SIZE=$(stat -c %s hello.unit)
    STUBLEN=$(stat -c %s "$STUB")
    FOOT=$((SIZE - 256))
    EOFF=$(u64 hello.unit $((FOOT + 24)))
    # the stub's section header table is its last bytes and is not loaded:
    # changing it leaves the stub working, so the refusal is the verifier's
    SHOFF=$(od -An -tu8 -j 40 -N8 "$STUB" | tr -d ' ')
    [ "$SHOFF" -gt $((STUBLEN - 8192)) ] || fail "stub section headers are not at its end"
    n=0
    try() { # offset reason
        cp hello.unit t.unit
        flip t.unit "$1"
        refused "$2" t.unit
        n=$((n + 1))
    }
    o=$((STUBLEN - 64))
    while [ $o -lt "$STUBLEN" ]; do try $o "digest mismatch"; o=$((o + 3)); done
    o=$STUBLEN # module, policy: a dense sample
    while [ $o -lt "$EOFF" ]; do try $o "digest mismatch"; o=$((o + 211)); done
    try $((EOFF - 1)) "digest mismatch"
    o=$EOFF # envelope: reason depends on where the byte is
    while [ $o -lt $FOOT ]; do
        cp hello.unit t.unit
        flip t.unit $o
        refused "[a-z ]*" t.unit
        n=$((n + 1))
        o=$((o + 7))
    done
    o=$FOOT # every byte of the footer
    while [ $o -lt "$SIZE" ]; do
        cp hello.unit t.unit
        flip t.unit $o
        refused "[a-z ]*" t.unit
        grep -q "refused: \(bad footer\|unsupported version\|digest mismatch\): " err.txt ||
            fail "footer byte $o: $(cat err.txt)"
        n=$((n + 1))
        o=$((o + 1))
    done
    # truncated, extended
    head -c $((SIZE - 1)) hello.unit >t.unit && chmod +x t.unit
    refused "bad footer" t.unit
    head -c "$EOFF" hello.unit >t.unit
    refused "bad footer" t.unit
    cp hello.unit t.unit && printf 'x' >>t.unit
    refused "bad footer" t.unit
    # the bare stub is not a unit
    cp "$STUB" t.unit
    refused "bad footer" t.unit
    echo "tamper ok: $n single-byte changes refused"
    ;;
keys)
    sign hello.unit "$B/hello.wasm"
    "$KILN" sign --key b.pem --stub "$STUB" --abi wasi_snapshot_preview1 "$B/hello.wasm" \
        -o foreign.unit >/dev/null
    "$KILN" sign --key b.pem --key a.pem --stub "$STUB" --abi wasi_snapshot_preview1 \
        "$B/hello.wasm" -o both.unit >/dev/null
    runs hello.unit 0
    refused "unknown key" foreign.unit
    runs both.unit 0 # one trusted signature suffices
    # the environment cannot choose the store
    mkdir evil && cp b.pub.pem evil/
    export KILN_TRUST_DIR="$W/evil" KILN_TRUST_CONFIG="$W/evil/x"
    refused "unknown key" foreign.unit
    unset KILN_TRUST_DIR KILN_TRUST_CONFIG
    echo "$KEYID" >"$T/trust/revoked"
    refused "revoked key" hello.unit
    refused "revoked key" both.unit
    rm "$T/trust/revoked"
    chmod 775 "$T/trust"
    refused "trust store" hello.unit
    chmod 755 "$T/trust"
    # the root-owned trust config names another store
    mkdir alt && chmod 755 alt && cp b.pub.pem alt/
    echo "trust_dir = $W/alt" >"$T/trust.conf"
    chmod 644 "$T/trust.conf"
    runs foreign.unit 0
    refused "unknown key" hello.unit
    chmod 666 "$T/trust.conf"
    refused "trust store" foreign.unit
    rm "$T/trust.conf"
    runs hello.unit 0
    echo "keys ok"
    ;;
audit)
    sign hello.unit "$B/hello.wasm"
    cp hello.unit t.unit && flip t.unit $(($(stat -c %s "$STUB") + 20))
    printf '# kiln-stub config\n\naudit = %s/audit.jsonl\n' "$W" >"$T/stub.conf"
    chmod 644 "$T/stub.conf"
    runs hello.unit 5 5
    refused "digest mismatch" t.unit
    [ -s audit.jsonl ] || fail "no audit log"
    MOD=$(sha256sum <"$B/hello.wasm" | cut -c1-64)
    grep '"event":"unit"' audit.jsonl >unit.ev || fail "no unit event: $(cat audit.jsonl)"
    grep -q "\"module\":\"$MOD\"" unit.ev || fail "unit event: module digest: $(cat unit.ev)"
    grep -q "\"signer\":\"$KEYID\"" unit.ev || fail "unit event: signer: $(cat unit.ev)"
    grep -q '"hardening":{"no_new_privs":true,"mdwe":true,"seccomp":true}' unit.ev ||
        fail "unit event: hardening: $(cat unit.ev)"
    grep -q '"event":"exit","code":5' audit.jsonl || fail "no exit event: $(cat audit.jsonl)"
    grep '"event":"refused"' audit.jsonl >ref.ev || fail "no refused event"
    grep -q '"reason":"digest mismatch"' ref.ev || fail "refused event: $(cat ref.ev)"
    grep -q "\"path\":\"$W/t.unit\"" ref.ev || fail "refused event: path: $(cat ref.ev)"
    [ "$(wc -l <audit.jsonl)" -ge 3 ] || fail "audit: $(cat audit.jsonl)"
    if command -v jq >/dev/null; then
        jq -e . audit.jsonl >/dev/null || fail "audit log is not JSON Lines"
    fi
    # an unsafe or wrong config refuses everything (it must not silently drop auditing)
    chmod 666 "$T/stub.conf"
    refused "config" hello.unit
    chmod 644 "$T/stub.conf"
    echo "adit = /tmp/x" >"$T/stub.conf"
    refused "config" hello.unit
    echo "audit = relative.jsonl" >"$T/stub.conf"
    refused "config" hello.unit
    echo "audit = $W/no/such/dir/a.jsonl" >"$T/stub.conf"
    refused "config" hello.unit
    rm "$T/stub.conf"
    runs hello.unit 0
    echo "audit ok"
    ;;
policy)
    mkdir data && echo "secret-free data" >data/msg.txt
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"filesystem":[{"path":"%s/data","mode":"ro"}]}\n' "$W" >policy.json
    sign cat.unit "$B/cat.wasm" --policy policy.json
    runs cat.unit 0 "$W/data/msg.txt"
    [ "$(cat out.txt)" = "secret-free data" ] || fail "cat: $(cat out.txt)"
    # /etc is no preopen (the policy grants only $W/data): nothing to open it through
    runs cat.unit 1 /etc/hostname
    grep -q "^/etc/hostname: Capabilities insufficient" out.txt ||
        fail "policy did not deny: $(cat out.txt)"
    # a path that climbs out of the granted directory is refused by the vkernel
    runs cat.unit 1 "$W/data/../policy.json"
    grep -q "^$W/data/../policy.json: " out.txt && ! grep -q kilnPolicy out.txt ||
        fail "escaped the preopen: $(cat out.txt)"
    # without a policy region the guest has no filesystem at all
    sign nopol.unit "$B/cat.wasm"
    runs nopol.unit 1 "$W/data/msg.txt"
    ! grep -q "secret-free" out.txt || fail "no-policy unit read a file"
    # the policy's limits apply: a wall-time limit stops a spinning guest
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"limits":{"wallTimeMs":300}}\n' >limit.json
    sign spin.unit "$B/hello.wasm" --policy limit.json
    runs spin.unit 134 spin
    grep -q "^kiln-stub: trap: .*(time limit)" err.txt || fail "wall limit: $(cat err.txt)"
    # a signed policy that does not parse is refused before the guest runs
    echo '{"kilnPolicy":1,"nosuchmember":true}' >bad.json
    if "$KILN" sign --key a.pem --stub "$STUB" --abi wasi_snapshot_preview1 --policy bad.json \
        "$B/cat.wasm" -o badpol.unit >/dev/null 2>&1; then
        refused "bad policy" badpol.unit "$W/data/msg.txt"
    fi
    echo "policy ok"
    ;;
preopens)
    # embedded, the guest's preopens are what its policy grants: a unit granted only /etc (ro)
    # gets /etc, not "/" — it cannot list the names in "/", even with fd_readdir straight on
    # a preopen (a readdir checks no path), while /etc stays readable and listable
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"filesystem":[{"path":"/etc","mode":"ro"}]}\n' >etc.json
    sign ls.unit "$B/ls.wasm" --policy etc.json
    sign etccat.unit "$B/cat.wasm" --policy etc.json
    runs ls.unit 0 -p
    [ "$(grep -c '^preopen ' out.txt)" = 1 ] || fail "preopens: $(cat out.txt)"
    grep -q '^preopen /etc:.* hostname\( \|$\)' out.txt || fail "/etc preopen: $(cat out.txt)"
    runs ls.unit 1 /
    grep -q '^/: ' out.txt && ! grep -q '^/:.* etc\( \|$\)' out.txt || fail "listed /: $(cat out.txt)"
    runs ls.unit 0 /etc
    grep -q '^/etc:.* hostname\( \|$\)' out.txt || fail "ls /etc: $(cat out.txt)"
    runs etccat.unit 0 /etc/hostname
    cmp -s out.txt /etc/hostname || fail "cat /etc/hostname: $(cat out.txt)"
    runs etccat.unit 1 "$W/etc.json"
    grep -q "^$W/etc.json: " out.txt || fail "read outside /etc: $(cat out.txt)"
    # a policy granting "/" (ro) still gets "/" itself, and several granted subtrees one each
    # (the highest: /etc/ssl under /etc is covered; a granted path that is absent is none)
    mkdir -p sub/a/deep sub/b && touch sub/a/deep/x sub/b/y
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"filesystem":[{"path":"/","mode":"ro"}]}\n' >root.json
    sign lsroot.unit "$B/ls.wasm" --policy root.json
    runs lsroot.unit 0 -p
    [ "$(grep -c '^preopen ' out.txt)" = 1 ] && grep -q '^preopen /:.* etc\( \|$\)' out.txt ||
        fail "root preopen: $(cat out.txt)"
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"filesystem":[{"path":"%s/sub/a","mode":"ro"},{"path":"%s/sub/a/deep","mode":"rw"},{"path":"%s/sub/b","mode":"ro"},{"path":"%s/nonexistent","mode":"ro"}]}\n' "$W" "$W" "$W" "$W" >multi.json
    sign lsmulti.unit "$B/ls.wasm" --policy multi.json
    runs lsmulti.unit 0 -p
    printf 'preopen %s/sub/a: deep\npreopen %s/sub/b: y\n' "$W" "$W" >want.txt
    cmp -s out.txt want.txt || fail "multi preopens: $(cat out.txt)"
    runs lsmulti.unit 0 "$W/sub/a/deep"
    [ "$(cat out.txt)" = "$W/sub/a/deep: x" ] || fail "ls deep: $(cat out.txt)"
    # a policy granting no directory: no preopen at all
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}\n' >none.json
    sign lsnone.unit "$B/ls.wasm" --policy none.json
    runs lsnone.unit 0 -p
    [ ! -s out.txt ] || fail "no-fs preopens: $(cat out.txt)"
    echo "preopens ok"
    ;;
status)
    sign wait.unit "$B/wait.wasm"
    mkfifo in.fifo
    ./wait.unit <in.fifo >out.txt 2>err.txt &
    pid=$!
    exec 3>in.fifo
    i=0
    while ! grep -q "^Seccomp:	2$" /proc/$pid/status 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 400 ] || fail "no seccomp filter on pid $pid: $(cat /proc/$pid/status 2>&1)"
        sleep 0.05
    done
    cp /proc/$pid/status status.txt
    cp /proc/$pid/maps maps.txt
    printf 'four' >&3
    exec 3>&-
    wait $pid || fail "wait.unit: exit $?: $(cat err.txt)"
    grep -q "^NoNewPrivs:	1$" status.txt || fail "NoNewPrivs: $(cat status.txt)"
    grep -q "^Seccomp_filters:	[1-9]" status.txt || fail "Seccomp_filters: $(cat status.txt)"
    # nothing writable and executable in the running unit
    ! awk '{print $2}' maps.txt | grep -q 'wx' || fail "W+X mapping: $(cat maps.txt)"
    [ "$(cat out.txt)" = "read 4 bytes" ] || fail "wait.unit: $(cat out.txt)"
    echo "status ok: $(grep -E '^(Seccomp|NoNewPrivs):' status.txt | tr '\t\n' '  ')"
    ;;
production)
    # the production stub: static, and bound to the system store
    if [ "$STATIC" = ON ] && readelf -lW "$PROD" | grep -q INTERP; then
        fail "kiln-stub is not static"
    fi
    echo "kiln-stub: $(stat -c %s "$PROD") bytes"
    "$KILN" sign --key a.pem --stub "$PROD" --abi wasi_snapshot_preview1 "$B/hello.wasm" \
        -o prod.unit >/dev/null
    if [ -e /etc/kiln/trust ] || [ -e /etc/kiln/trust.conf ] || [ -e /etc/kiln/stub.conf ]; then
        echo "SKIP: this machine has a system kiln configuration"
        exit 77
    fi
    export KILN_TRUST_DIR="$T/trust"
    refused "trust store" prod.unit
    unset KILN_TRUST_DIR
    echo "production ok"
    ;;
*)
    fail "unknown mode"
    ;;
esac
