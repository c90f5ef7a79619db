#!/bin/sh
# unit_run.sh MODE KILN STUB LAYOUT HELLO.wasm WORKDIR STOREBASE
#
# AOT in units, end to end through the real runners (kiln run, kiln-stub),
# which load units with kiln_unit_module_load (include/kiln/unit_load.h):
#
#   run      `kiln convert --aot` of the example image (LAYOUT): `kiln run`
#            prints the greeting, its audit log has "aot" status "attached"
#            and no fallback note, `kiln inspect` of the unit shows the
#            module.aot region and the manifest's aot target/compiler;
#            converted without --aot: same output, audit "interpreter" with
#            the reason; converted with --aot --metered (objects with fuel and
#            interrupt polls): the manifest's compiler ends in "--metered"
#            and the unit runs natively; --metered without --aot is a usage
#            error
#   require  a signed policy with "engine": {"requireAot": true}: the image
#            converted without --aot is refused with a message naming
#            $.engine.requireAot; converted with --aot it runs natively
#   tamper   a byte of module.aot changed in kiln run's cached rootfs: the
#            run is refused (digest mismatch)
#   stub     a unit signed with `kiln sign --aot` and STUB (kiln-stub built
#            with a trust store under STOREBASE, like the production one):
#            run as a program it prints its line with audit "attached";
#            a changed module.aot byte is refused (exit 126, digest
#            mismatch); without a payload it falls back ("interpreter");
#            with a signed requireAot policy and no payload it is refused;
#            a call-free endless loop (busy.wasm next to HELLO) signed with
#            its AOT object (no polls) and a wall-time limit stops with exit
#            134 "(time limit)" like its interpreted unit (the stub is static
#            and hardened: seccomp, Landlock)
#   exec     kiln exec --aot-cache DIR of HELLO prints its line; a requireAot
#            policy is refused without --aot-cache and runs with it
#
# Exit 0 pass, 1 fail, 77 skipped (stub mode needs root: the stub's store must
# be owned by root).
set -eu
MODE=$1
KILN=$2
STUB=$3
LAYOUT=$4
HELLO=$5
W=$6
T=$7

fail() {
    echo "FAIL ($MODE): $*"
    exit 1
}
rm -rf "$W"
mkdir -p "$W/trust"
cd "$W"
"$KILN" keygen -o key >/dev/null
cp key.pub.pem trust/
# "run" checks a cold and a cached convert in its own cache; the other modes
# share one (objects are written to a temporary file and renamed)
CACHE=$(dirname "$W")/unit-run-aot-cache
[ "$MODE" != run ] || CACHE=$W/aot-cache

# flip_aot UNIT: changes one byte in the middle of the unit's module.aot region
flip_aot() {
    python3 - "$1" <<'EOF'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
foot = len(b) - 256
count = struct.unpack_from('<I', b, foot + 20)[0]
for i in range(count):
    kind, = struct.unpack_from('<I', b, foot + 40 + 24 * i)
    off, length = struct.unpack_from('<QQ', b, foot + 48 + 24 * i)
    if kind == 3:
        b[off + length // 2] ^= 1
        open(p, 'wb').write(b)
        sys.exit(0)
sys.exit('no module.aot region in ' + p)
EOF
}

# the draft policy of the example image plus "engine": {"requireAot": true}
require_policy() {
    "$KILN" convert "$LAYOUT" -o draft-img --key key.pem >/dev/null || fail "convert (draft)"
    "$KILN" run --trust trust --cache rc-draft draft-img -- greeting >/dev/null ||
        fail "kiln run (draft)"
    python3 - rc-draft/rootfs-*/.kiln/policy.json >require.json <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
p["engine"] = {"requireAot": True}
print(json.dumps(p))
EOF
}

case $MODE in
run)
    "$KILN" convert "$LAYOUT" -o img-aot --key key.pem --aot --aot-cache "$CACHE" >convert.out ||
        fail "convert --aot: $(cat convert.out)"
    grep -q "aot x86_64\|aot aarch64\|, aot " convert.out || fail "convert does not report AOT: $(cat convert.out)"
    "$KILN" convert "$LAYOUT" -o img-aot2 --key key.pem --aot --aot-cache "$CACHE" --json \
        >convert.json || fail "second convert --aot"
    grep -q '"aot": true' convert.json || fail "--json lacks \"aot\": true: $(cat convert.json)"
    grep -q "1 compiled" convert.out || fail "first convert did not compile: $(cat convert.out)"
    "$KILN" run --trust trust --cache rc --audit audit.jsonl img-aot -- greeting >out.txt 2>err.txt ||
        fail "kiln run (aot): $(cat err.txt)"
    grep -q "hello from a signed, JIT-free image" out.txt || fail "output: $(cat out.txt)"
    grep -q '"event":"aot","status":"attached"' audit.jsonl ||
        fail "no aot attached event (does src/cmd/run.c call kiln_unit_module_load?): $(cat audit.jsonl)"
    if grep -q '"status":"interpreter"' audit.jsonl; then fail "fallback note: $(cat audit.jsonl)"; fi
    unit=$(ls rc/rootfs-*/app/kv)
    "$KILN" inspect "$unit" >inspect.txt || fail "inspect"
    grep -q "module.aot" inspect.txt || fail "inspect shows no module.aot: $(cat inspect.txt)"
    "$KILN" inspect --json "$unit" | grep -q '"compiler"' || fail "inspect: no aot compiler"
    # without --aot: the same output, interpreted, with an audit note
    "$KILN" convert "$LAYOUT" -o img-int --key key.pem >/dev/null || fail "convert"
    "$KILN" run --trust trust --cache rc --audit audit2.jsonl img-int -- greeting >out2.txt ||
        fail "kiln run (interpreted)"
    cmp -s out.txt out2.txt || fail "outputs differ: $(cat out.txt) / $(cat out2.txt)"
    grep -q '"event":"aot","status":"interpreter","reason":"the unit has no AOT payload' \
        audit2.jsonl || fail "no fallback note: $(cat audit2.jsonl)"
    # --metered: another object (polls), recorded in the signed manifest
    "$KILN" convert "$LAYOUT" -o img-met --key key.pem --aot --metered --aot-cache "$CACHE" \
        >convert-met.out || fail "convert --aot --metered: $(cat convert-met.out)"
    grep -q "1 compiled" convert-met.out || fail "--metered reused the unmetered object: $(cat convert-met.out)"
    "$KILN" run --trust trust --cache rc-met --audit audit3.jsonl img-met -- greeting >out3.txt ||
        fail "kiln run (metered)"
    cmp -s out.txt out3.txt || fail "outputs differ (metered): $(cat out3.txt)"
    grep -q '"event":"aot","status":"attached","object":"[0-9a-f]*","target":"[^"]*","compiler":"[^"]* --metered"' \
        audit3.jsonl || fail "metered compiler not in the audit event: $(cat audit3.jsonl)"
    "$KILN" inspect --json "$(ls rc-met/rootfs-*/app/kv)" | grep -q '"compiler": *"[^"]* --metered"' ||
        fail "inspect: compiler without --metered"
    rc=0; "$KILN" convert "$LAYOUT" -o img-bad --key key.pem --metered >/dev/null 2>&1 || rc=$?
    [ $rc = 2 ] || fail "--metered without --aot: exit $rc"
    echo "run: native code attached; interpreted run has the fallback note; --metered recorded"
    ;;
require)
    require_policy
    "$KILN" convert "$LAYOUT" -o img-req --key key.pem --policy require.json >/dev/null ||
        fail "convert --policy"
    if "$KILN" run --trust trust --cache rc img-req -- greeting >out.txt 2>err.txt; then
        fail "a unit without AOT ran under requireAot"
    fi
    grep -q 'requireAot' err.txt || fail "message does not name requireAot: $(cat err.txt)"
    echo "require: refused: $(cat err.txt)"
    "$KILN" convert "$LAYOUT" -o img-req-aot --key key.pem --policy require.json --aot \
        --aot-cache "$CACHE" >/dev/null || fail "convert --aot --policy"
    "$KILN" run --trust trust --cache rc --audit audit.jsonl img-req-aot -- greeting >out.txt 2>err.txt ||
        fail "AOT unit under requireAot: $(cat err.txt)"
    grep -q "hello from a signed, JIT-free image" out.txt || fail "output: $(cat out.txt)"
    grep -q '"event":"aot","status":"attached"' audit.jsonl || fail "no attached event"
    echo "require: AOT unit runs"
    ;;
tamper)
    "$KILN" convert "$LAYOUT" -o img-aot --key key.pem --aot --aot-cache "$CACHE" >/dev/null ||
        fail "convert --aot"
    "$KILN" run --trust trust --cache rc img-aot -- greeting >/dev/null || fail "first run"
    unit=$(ls rc/rootfs-*/app/kv)
    chmod u+w "$unit"
    flip_aot "$unit"
    if "$KILN" run --trust trust --cache rc img-aot -- greeting >out.txt 2>err.txt; then
        fail "a unit with a changed module.aot byte ran: $(cat out.txt)"
    fi
    grep -qi "digest\|mismatch" err.txt || fail "unexpected refusal: $(cat err.txt)"
    echo "tamper: kiln run refused: $(cat err.txt)"
    ;;
stub)
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the stub's trust store must be owned by root"
        exit 77
    fi
    trap 'rm -rf "$T"' EXIT
    rm -rf "$T"
    mkdir -p "$T/trust"
    chmod 755 "$T" "$T/trust"
    cp key.pub.pem "$T/trust/"
    printf 'audit = %s/stub-audit.jsonl\n' "$W" >"$T/stub.conf"
    chmod 644 "$T/stub.conf"
    target="$(uname -m)-linux-gnu"
    "$KILN" compile -q "$HELLO" -o hello.so || fail "kiln compile"
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --aot hello.so \
        --aot-target "$target" --aot-compiler "cc -O2" "$HELLO" -o hello-aot >/dev/null ||
        fail "sign --aot"
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 "$HELLO" \
        -o hello-int >/dev/null || fail "sign"
    printf '{"engine":{"requireAot":true},"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}\n' >req.json
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --policy req.json \
        "$HELLO" -o hello-req >/dev/null || fail "sign --policy"
    cp hello-aot hello-bad
    flip_aot hello-bad
    chmod 755 hello-aot hello-int hello-req hello-bad
    ./hello-aot >out.txt 2>err.txt || fail "AOT unit: $(cat err.txt)"
    [ "$(cat out.txt)" = "aot unit ok" ] || fail "output: $(cat out.txt)"
    grep -q '"event":"aot","status":"attached"' stub-audit.jsonl ||
        fail "no aot attached event (does src/stub/main.c call kiln_unit_module_load?): $(cat stub-audit.jsonl)"
    : >stub-audit.jsonl
    ./hello-int >out.txt 2>err.txt || fail "unit without AOT: $(cat err.txt)"
    [ "$(cat out.txt)" = "aot unit ok" ] || fail "output: $(cat out.txt)"
    grep -q '"event":"aot","status":"interpreter"' stub-audit.jsonl ||
        fail "no fallback note: $(cat stub-audit.jsonl)"
    set +e
    ./hello-bad >out.txt 2>err.txt
    rc=$?
    set -e
    [ $rc = 126 ] || fail "tampered module.aot: exit $rc: $(cat err.txt)"
    grep -q "digest mismatch" err.txt || fail "tampered: $(cat err.txt)"
    echo "stub: tampered refused: $(cat err.txt)"
    set +e
    ./hello-req >out.txt 2>err.txt
    rc=$?
    set -e
    [ $rc != 0 ] || fail "a unit without AOT ran under a signed requireAot policy"
    grep -q "requireAot" err.txt || fail "requireAot refusal: $(cat err.txt)"
    echo "stub: requireAot without payload refused: $(cat err.txt)"
    # the policy's wall-time limit stops AOT code without polls (signal)
    busy=$(dirname "$HELLO")/busy.wasm
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"engine":{"requireAot":true},"limits":{"wallTimeMs":300}}\n' >limit-aot.json
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"limits":{"wallTimeMs":300}}\n' >limit.json
    "$KILN" compile -q "$busy" -o busy.so || fail "kiln compile busy"
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --aot busy.so \
        --aot-target "$target" --aot-compiler "cc -O2" --policy limit-aot.json "$busy" \
        -o busy-aot >/dev/null || fail "sign busy --aot"
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --policy limit.json \
        "$busy" -o busy-int >/dev/null || fail "sign busy"
    chmod 755 busy-aot busy-int
    for u in busy-int busy-aot; do
        : >stub-audit.jsonl
        set +e
        timeout 30 ./$u >out.txt 2>err-$u.txt
        rc=$?
        set -e
        [ $rc = 134 ] || fail "$u under a wall-time limit: exit $rc: $(cat err-$u.txt)"
        grep -q "^kiln-stub: trap: .*(time limit)" err-$u.txt || fail "$u: $(cat err-$u.txt)"
    done
    grep -q '"event":"aot","status":"attached"' stub-audit.jsonl || fail "busy-aot did not run AOT code"
    cmp -s err-busy-int.txt err-busy-aot.txt || fail "messages differ: $(cat err-busy-int.txt) / $(cat err-busy-aot.txt)"
    echo "stub: wall-time limit stops AOT code without polls: $(cat err-busy-aot.txt)"
    ;;
exec)
    # kiln exec (raw modules): --aot-cache runs native code; requireAot needs it
    printf '{"engine":{"requireAot":true},"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}}\n' >req.json
    "$KILN" exec --aot-cache "$CACHE" "$HELLO" >out.txt 2>err.txt || fail "exec --aot-cache: $(cat err.txt)"
    [ "$(cat out.txt)" = "aot unit ok" ] || fail "output: $(cat out.txt)"
    ls "$CACHE"/*.so >/dev/null 2>&1 || fail "nothing cached in $CACHE"
    if "$KILN" exec --policy req.json "$HELLO" >out.txt 2>err.txt; then
        fail "kiln exec interpreted under requireAot"
    fi
    grep -q "requireAot" err.txt || fail "exec refusal: $(cat err.txt)"
    "$KILN" exec --policy req.json --aot-cache "$CACHE" "$HELLO" >out.txt 2>err.txt ||
        fail "exec --aot-cache under requireAot: $(cat err.txt)"
    [ "$(cat out.txt)" = "aot unit ok" ] || fail "output: $(cat out.txt)"
    echo "exec: --aot-cache runs; requireAot without it refused"
    ;;
*)
    fail "unknown mode"
    ;;
esac
