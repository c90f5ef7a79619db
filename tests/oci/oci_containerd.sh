#!/bin/sh
# oci_containerd.sh MODE KILN STUB OCI REAPER NATIVE GUEST STOREBASE FILES KILND
#
# kiln-oci under Debian's containerd 1.6 and its io.containerd.runc.v2 shim.
# MODE basic:
#  - a private containerd (root, state, grpc and ttrpc sockets under a
#    temporary directory, CRI plugin disabled) started here and stopped at
#    the end, even on failure;
#  - an OCI image holding the signed unit at /usr/bin/hello, built with umoci
#    and imported with `ctr images import`;
#  - `ctr run --rm --runc-binary WRAPPER` (WRAPPER logs every call, then execs
#    OCI = kiln-oci-test): the guest's output and exit status; a native entry
#    refused; a memory limit enforced; `ctr task exec`, `ps`, `pause`,
#    `resume`, `kill`, `delete` on a detached container;
#  - the runtime entry of docs/containerd.md (runc shim + BinaryName) loaded
#    by a containerd with the CRI plugin on (config dump shows it; running
#    a pod needs a CRI client, which Debian does not ship).
# MODE kilnd: kiln-oci's config (STOREBASE/oci.json, compiled into
#  kiln-oci-test) names a kilnd started here (KILND serve, node key made
#  here): units attach to it (kiln-stub finds /run/kiln/kilnd.sock and
#  kilnd.id, which kiln-oci mounts); output and exit status pass through;
#  `--rm` unregisters and kilnd's run attestation verifies (kiln verify-run);
#  two containers on the one kilnd (FILES, a unit with a policy giving it
#  "/" rw) cannot see each other's files (by name or by the other's host
#  path), processes (/proc) or audit events; `ctr task exec` of a unit
#  attaches too; kilnd killed with -9 under a running unit makes it fail
#  closed (exit 125, "kilnd connection lost"); kilnd restarted, new
#  containers run.
# MODE aot: a unit with a signed AOT object (kiln compile + sign --aot) runs
#  in the bare rootfs; the stub's audit log (a stub.conf bind-mounted at
#  /etc/kiln/stub.conf) says the object was attached, not interpreted.
# MODE policy: the embedded placement's container policy (no kilnd): a
#  container whose entry unit's signed policy makes "/" read-only; a unit
#  exec'd into it (`ctr task exec`) whose own policy gives "/" rw is refused
#  the write (EROFS, the denial audited as "container:$.filesystem[0]") but
#  reads, with a "policy" audit event; the same exec into a container whose
#  entry has no policy writes.
#  kiln-stub run by hand in a private mount namespace whose /run/kiln holds
#  a malformed, a group-writable or a symlinked policy.json refuses to run
#  (exit 126, "refused: container policy").
# The trust store (STOREBASE/trust, compiled into kiln-oci-test) is
# bind-mounted read-only at /etc/kiln/trust in every container, as the docs
# say for /etc/kiln/trust.
# Exit 0 pass, 1 fail, 77 skipped (not root, or containerd/ctr/umoci missing).
set -eu
MODE=$1
shift
KILN=$1
STUB=$2
OCI=$3
NATIVE=$5
GUEST=$6
T=$7
FILES=$8
KILND=$9
KPID=""

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: containerd and kiln-oci need root"
    exit 77
fi
for t in containerd ctr containerd-shim-runc-v2 umoci jq; do
    if ! command -v $t >/dev/null; then
        echo "SKIP: $t not installed (apt-get install containerd umoci jq)"
        exit 77
    fi
done
if [ "${KILN_STUB_STATIC:-ON}" = OFF ]; then
    echo "SKIP: kiln-stub is linked dynamically (sanitizer build): units cannot run in a container"
    exit 77
fi
W=$(mktemp -d /tmp/kiln-oci-ctrd.XXXXXX)
NS=kiln-oci-test-$$
CPID=""
cleanup() {
    if [ -n "$CPID" ]; then
        for c in $(ctr -a "$W/c.sock" -n $NS containers ls -q 2>/dev/null); do
            ctr -a "$W/c.sock" -n $NS tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
            sleep 0.2
            ctr -a "$W/c.sock" -n $NS tasks delete -f "$c" >/dev/null 2>&1 || true
            ctr -a "$W/c.sock" -n $NS containers rm "$c" >/dev/null 2>&1 || true
        done
        kill "$CPID" 2>/dev/null || true
        wait "$CPID" 2>/dev/null || true
    fi
    if [ -n "$KPID" ]; then
        kill "$KPID" 2>/dev/null || true
        wait "$KPID" 2>/dev/null || true
    fi
    if [ -d /run/containerd/runc/$NS ]; then
        for id in $(ls /run/containerd/runc/$NS); do
            "$OCI" --root /run/containerd/runc/$NS delete --force "$id" >/dev/null 2>&1 || true
        done
        rm -rf /run/containerd/runc/$NS
    fi
    # the namespace's parent cgroup (cgroupsPath is /NAMESPACE/ID)
    for d in /sys/fs/cgroup/$NS /sys/fs/cgroup/*/$NS; do
        [ ! -d "$d" ] || rmdir "$d" 2>/dev/null || true
    done
    rm -rf "$W" "$T" 2>/dev/null || true
}
trap cleanup EXIT
fail() {
    echo "FAIL (containerd $MODE): $*"
    echo "--- kiln-oci calls"
    cat "$W/calls.log" 2>/dev/null || true
    echo "--- containerd log (tail)"
    tail -20 "$W/containerd.log" 2>/dev/null || true
    if [ -f "$W/kilnd.log" ]; then
        echo "--- kilnd log (tail)"
        tail -20 "$W/kilnd.log"
    fi
    exit 1
}

rm -rf "$T"
mkdir -p "$T/trust"
chmod 755 "$T" "$T/trust"
cd "$W"
"$KILN" keygen -o key >/dev/null
cp key.pub.pem "$T/trust/"
"$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 "$GUEST" -o hello.unit \
    >/dev/null || fail "kiln sign"
printf '{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"filesystem":[{"path":"/","mode":"rw"}]}\n' \
    >files-policy.json
"$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --policy files-policy.json \
    --source-path /usr/bin/files "$FILES" -o files.unit >/dev/null || fail "kiln sign files"
if [ "$MODE" = policy ]; then
    printf '{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},"filesystem":[{"path":"/","mode":"ro"}]}\n' \
        >ro-policy.json
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --policy ro-policy.json \
        --source-path /usr/bin/files-ro "$FILES" -o files-ro.unit >/dev/null || fail "kiln sign ro"
fi
if [ "$MODE" = aot ]; then
    "$KILN" compile -q "$GUEST" -o hello.so || fail "kiln compile"
    # a static kiln-stub maps the object with glibc's static dlopen, which can
    # resolve nothing against the stub: the object must need no library
    if command -v readelf >/dev/null && readelf -d hello.so | grep -q NEEDED; then
        fail "the AOT object needs shared libraries ($(readelf -d hello.so | grep NEEDED | tr -s ' ')): a static kiln-stub cannot load it in a bare rootfs"
    fi
    "$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 --aot hello.so \
        --aot-target "$(uname -m)-linux-gnu" --aot-compiler "cc -O2" "$GUEST" -o hello-aot.unit \
        >/dev/null || fail "kiln sign --aot"
fi

# the runtime binary: logs its arguments, then runs kiln-oci
cat >kiln-oci-wrap <<EOF
#!/bin/sh
echo "\$*" >>"$W/calls.log"
exec "$OCI" "\$@"
EOF
chmod 755 kiln-oci-wrap

# ---- the image: umoci, the unit at /usr/bin/hello (+ a native program)
umoci init --layout L >/dev/null
umoci new --image L:t >/dev/null
umoci unpack --image L:t B >/dev/null
mkdir -p B/rootfs/usr/bin B/rootfs/etc/kiln/trust
cp hello.unit B/rootfs/usr/bin/hello
cp files.unit B/rootfs/usr/bin/files
cp "$NATIVE" B/rootfs/usr/bin/native
[ ! -f hello-aot.unit ] || cp hello-aot.unit B/rootfs/usr/bin/hello-aot
[ ! -f files-ro.unit ] || cp files-ro.unit B/rootfs/usr/bin/files-ro
chmod 755 B/rootfs/usr/bin/*
umoci repack --image L:t B >/dev/null
umoci config --image L:t --config.entrypoint /usr/bin/hello --config.cmd from-image \
    --config.env KILN_OCI_TEST=containerd >/dev/null
umoci gc --layout L >/dev/null
tar -C L -cf image.tar .

# ---- a private containerd
cat >config.toml <<EOF
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$W/c.sock"
[ttrpc]
  address = "$W/t.sock"
EOF
containerd -c config.toml >containerd.log 2>&1 &
CPID=$!
i=0
while [ ! -S "$W/c.sock" ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "containerd did not start"
    sleep 0.1
done
ctr() {
    command ctr -a "$W/c.sock" -n $NS "$@"
}
ctr images import --snapshotter native --base-name kiln/oci-test image.tar >import.txt 2>&1 ||
    fail "ctr images import: $(cat import.txt)"
IMG=kiln/oci-test:t
ctr images ls -q | grep -qx "$IMG" || fail "image not imported: $(ctr images ls)"
TRUST="type=bind,src=$T/trust,dst=/etc/kiln/trust,options=rbind:ro"
RUN="run --snapshotter native --runc-binary $W/kiln-oci-wrap --mount $TRUST"
# A container's output is read from files that a logging binary started by
# the shim writes (--log-uri binary://: ID.out and ID.err), never from ctr's
# attached stdio: containerd 1.6's client (task.Delete, which `ctr run --rm`
# calls once the exit status arrives) closes its fifo readers BEFORE waiting
# for its copy goroutines, so output the shim already wrote into the fifo but
# ctr had not read yet is dropped -- under load, about 1 fast-exiting `ctr
# run` in 300 printed nothing with exit status 0 (the unit's audit log showed
# its writes succeeded; runc loses output the same way). Not --log-uri
# file:// either: there the shim's stdout copy closes the shared file, so
# stderr written after stdout's end is lost. The shim closes the pipes and
# waits for the logger to exit before it deletes the task. `ctr task exec`
# deletes in the right order and keeps its attached stdio.
cat >logger <<'EOF'
#!/bin/sh
# containerd's binary logger: fd 3 stdout, fd 4 stderr, fd 5 closed = ready;
# args "dir DIR"; SIGTERM from the shim is ignored: we end when the pipes do
trap '' TERM
/bin/cat <&3 >"$2/$CONTAINER_ID.out" 4<&- 5>&- &
/bin/cat <&4 >"$2/$CONTAINER_ID.err" 3<&- 5>&- &
exec 3<&- 4<&- 5>&-
wait
EOF
chmod 755 logger
OUT() {
    rm -f "$W/$1.out" "$W/$1.err"
    echo "--log-uri binary://$W/logger?dir=$W"
}

# ---- MODE aot: a unit with a signed AOT object, in the bare rootfs
aot_mode() {
    mkdir -p "$W/stublog"
    printf 'audit = /var/log/kiln/audit.jsonl\n' >"$W/stub.conf"
    chmod 644 "$W/stub.conf"
    set +e
    ctr $RUN --rm --mount "type=bind,src=$W/stub.conf,dst=/etc/kiln/stub.conf,options=rbind:ro" \
        --mount "type=bind,src=$W/stublog,dst=/var/log/kiln,options=rbind:rw" \
        $(OUT a1) $IMG a1 /usr/bin/hello-aot 6 >/dev/null 2>a1.ctr
    rc=$?
    set -e
    [ $rc = 6 ] || fail "AOT unit: exit $rc: $(cat a1.out) $(cat a1.err)"
    grep -qx "hello from kiln-oci" a1.out || fail "AOT unit output: $(cat a1.out)"
    grep -q '"event":"aot","status":"attached"' "$W/stublog/audit.jsonl" ||
        fail "AOT object not attached: $(cat "$W/stublog/audit.jsonl")"
    echo "PASS (containerd aot)"
}

# ---- MODE kilnd: the daemon placement
start_kilnd() {
    rm -f "$W/kilnd.sock"
    "$KILND" serve --socket "$W/kilnd.sock" --config "$W/kcfg" --state "$W/kstate" \
        --key "$W/node.pem" --trust "$T/trust" >>"$W/kilnd.log" 2>&1 &
    KPID=$!
    i=0
    while [ ! -S "$W/kilnd.sock" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "kilnd did not start"
        sleep 0.1
    done
}
# state ID WANT: waits until ctr reports task ID in state WANT
wait_state() {
    i=0
    while [ "$(ctr tasks ls | awk -v id="$1" '$1 == id {print $3}')" != "$2" ]; do
        i=$((i + 1))
        [ $i -lt 200 ] || fail "$1 not $2: $(ctr tasks ls)"
        sleep 0.1
    done
}
kilnd_mode() {
    "$KILN" keygen -o node >/dev/null
    mkdir -p kcfg kstate
    printf '{"kilnd": {"socket": "%s", "config": "%s", "state": "%s"}}\n' \
        "$W/kilnd.sock" "$W/kcfg" "$W/kstate" >"$T/oci.json"
    chmod 644 "$T/oci.json"
    start_kilnd

    # a unit without a policy: output and exit status through kilnd
    set +e
    ctr $RUN --rm $(OUT k0) $IMG k0 /usr/bin/hello 3 >/dev/null 2>k0.ctr
    rc=$?
    set -e
    [ $rc = 3 ] || fail "unit under kilnd: exit $rc: $(cat k0.out) $(cat k0.err)"
    grep -qx "hello from kiln-oci" k0.out || fail "output under kilnd: $(cat k0.out)"
    K0=$NS.k0
    grep -q "container $K0: pid [0-9]* attached" kilnd.log || fail "k0 did not attach to kilnd"
    [ ! -e "kcfg/$K0.json" ] || fail "k0 still registered after delete"
    att=$(ls kstate/$K0/run-*.json 2>/dev/null | head -1)
    [ -n "$att" ] || fail "no run attestation for $K0: $(ls -R kstate)"
    "$KILN" verify-run --key node.pub.pem "$att" >vr.txt 2>&1 || fail "verify-run: $(cat vr.txt)"
    grep -q "exit 3" vr.txt || fail "attestation: $(cat vr.txt)"

    # two containers on one kilnd: ka runs (and is joined by an exec'd unit), kb looks
    ctr $RUN --rm $(OUT ka) $IMG ka /usr/bin/files spin </dev/null >/dev/null 2>ka.ctr &
    KA=$!
    wait_state ka RUNNING
    i=0
    until grep -q spinning ka.out; do
        i=$((i + 1))
        [ $i -lt 200 ] || fail "ka does not spin: $(cat ka.out ka.err)"
        sleep 0.1
    done
    ctr tasks exec --exec-id w1 ka /usr/bin/files write /marker-a secret-a >w1.out 2>&1 ||
        fail "exec'd unit under kilnd: $(cat w1.out)"
    grep -qx "wrote /marker-a" w1.out || fail "exec write: $(cat w1.out)"
    ctr tasks exec --exec-id w2 ka /usr/bin/files cat /marker-a >w2.out 2>&1 ||
        fail "exec'd cat: $(cat w2.out)"
    grep -qx "secret-a" w2.out || fail "exec cat: $(cat w2.out)"
    AROOT=$W/state/io.containerd.runtime.v2.task/$NS/ka/rootfs
    [ -f "$AROOT/marker-a" ] || fail "marker-a not in ka's rootfs ($AROOT)"
    ctr $RUN --rm $(OUT kb) $IMG kb /usr/bin/files ls / >kb.ctr 2>&1 || fail "kb ls: $(cat kb.out)"
    grep -qx "ent usr" kb.out || fail "kb ls /: $(cat kb.out)"
    ! grep -q marker-a kb.out || fail "kb sees ka's file: $(cat kb.out)"
    for p in /marker-a "/../../../../../../$AROOT/marker-a" "$AROOT/marker-a" \
        "$W/kstate/$NS.ka/audit.jsonl"; do
        set +e
        ctr $RUN --rm $(OUT kb1) $IMG kb1 /usr/bin/files cat "$p" >kb1.ctr 2>&1
        rc=$?
        set -e
        [ $rc = 2 ] || fail "kb read $p: exit $rc: $(cat kb1.out)"
        grep -q "^error: cat" kb1.out || fail "kb read $p: $(cat kb1.out)"
    done
    ctr $RUN --rm $(OUT kb2) $IMG kb2 /usr/bin/files ls /proc >kb2.ctr 2>&1 || true
    ! grep -q "^ent [0-9]" kb2.out || fail "kb sees processes: $(cat kb2.out)"
    grep -q marker-a "kstate/$NS.ka/audit.jsonl" || fail "ka's audit log lacks its own calls"
    for c in kb kb1 kb2; do
        [ -s "kstate/$NS.$c/audit.jsonl" ] || fail "no audit log for $c"
        ! grep -q "marker-a\\|secret-a" "kstate/$NS.$c/audit.jsonl" 2>/dev/null ||
            [ $c = kb1 ] || fail "$c's audit log holds ka's events"
    done
    ! grep 'marker-a' "kstate/$NS.kb1/audit.jsonl" | grep -q '"fd":' ||
        fail "kb1 opened a marker-a: $(cat "kstate/$NS.kb1/audit.jsonl")"
    grep 'marker-a' "kstate/$NS.ka/audit.jsonl" | grep -q '"fd":' ||
        fail "ka's audit log lacks its open of marker-a: $(cat "kstate/$NS.ka/audit.jsonl")"

    # kilnd killed under a running unit: it fails closed
    kill -9 "$KPID"
    wait "$KPID" 2>/dev/null || true
    KPID=""
    set +e
    wait "$KA"
    rc=$?
    set -e
    [ $rc = 125 ] || fail "ka after kilnd died: exit $rc: $(cat ka.out ka.err)"
    grep -q "kilnd connection lost" ka.err || fail "ka's message: $(cat ka.out ka.err)"
    echo "fail closed: $(grep -m1 'kilnd connection lost' ka.err)"

    # a unit cannot start without kilnd: refused, not run embedded
    set +e
    ctr $RUN --rm $(OUT kd) $IMG kd /usr/bin/hello 5 >/dev/null 2>kd.ctr
    rc=$?
    set -e
    [ $rc = 126 ] || fail "unit without kilnd: exit $rc: $(cat kd.out kd.err)"
    grep -q "refused: kilnd" kd.err || fail "refusal without kilnd: $(cat kd.out kd.err kd.ctr)"

    # kilnd restarted: new containers run
    start_kilnd
    set +e
    ctr $RUN --rm $(OUT kc) $IMG kc /usr/bin/hello 4 >/dev/null 2>kc.ctr
    rc=$?
    set -e
    [ $rc = 4 ] || fail "after kilnd restart: exit $rc: $(cat kc.out kc.err)"
    grep -qx "hello from kiln-oci" kc.out || fail "after restart: $(cat kc.out)"
    # an opted-out container runs embedded
    set +e
    ctr $RUN --rm --annotation dev.kiln.kilnd=false $(OUT ke) $IMG ke /usr/bin/hello 2 >ke.ctr 2>&1
    rc=$?
    set -e
    [ $rc = 2 ] || fail "opted out of kilnd: exit $rc: $(cat ke.out)"
    ! grep -q "container $NS.ke" kilnd.log || fail "an opted-out container attached"
    rm -f "$T/oci.json"
    echo "PASS (containerd kilnd)"
}

# ---- MODE policy: the container's policy narrows exec'd units without kilnd
policy_mode() {
    mkdir -p "$W/stublog"
    printf 'audit = /var/log/kiln/audit.jsonl\n' >"$W/stub.conf"
    chmod 644 "$W/stub.conf"
    LOGM="--mount type=bind,src=$W/stub.conf,dst=/etc/kiln/stub.conf,options=rbind:ro --mount type=bind,src=$W/stublog,dst=/var/log/kiln,options=rbind:rw"
    # p1: the entry's policy makes "/" read-only
    ctr $RUN -d $LOGM $(OUT p1) $IMG p1 /usr/bin/files-ro spin </dev/null >p1.ctr 2>&1 ||
        fail "ctr run -d p1: $(cat p1.ctr)"
    wait_state p1 RUNNING
    i=0
    until grep -q spinning p1.out 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 200 ] || fail "p1 does not spin: $(cat p1.out p1.err)"
        sleep 0.1
    done
    PROOT=$W/state/io.containerd.runtime.v2.task/$NS/p1/rootfs
    set +e
    ctr tasks exec --exec-id e1 p1 /usr/bin/files write /marker-p1 narrowed >e1.out 2>&1
    rc=$?
    set -e
    [ $rc = 2 ] || fail "exec'd unit wrote where the container's policy says ro: exit $rc: $(cat e1.out)"
    grep -q "^error: write /marker-p1: Read-only file system" e1.out || fail "e1: $(cat e1.out)"
    [ ! -e "$PROOT/marker-p1" ] || fail "marker-p1 exists in p1's rootfs"
    grep '"event":"deny"' "$W/stublog/audit.jsonl" | grep 'marker-p1' |
        grep -q '"rule":"container:$.filesystem\[0\]"' ||
        fail "the denial does not name the container's rule: $(grep marker-p1 "$W/stublog/audit.jsonl")"
    grep -q '"event":"policy","container":"sha256:[0-9a-f]\{64\}","policy":"sha256:[0-9a-f]\{64\}"' \
        "$W/stublog/audit.jsonl" || fail "no policy event: $(cat "$W/stublog/audit.jsonl")"
    ctr tasks exec --exec-id e2 p1 /usr/bin/files ls /usr/bin >e2.out 2>&1 ||
        fail "exec'd read under the intersection: $(cat e2.out)"
    grep -qx "ent files-ro" e2.out || fail "exec'd ls: $(cat e2.out)"
    # the entry unit itself runs under its own policy, unchanged (its file is that policy)
    ctr tasks kill -s SIGKILL p1 >/dev/null 2>&1 || true
    wait_state p1 STOPPED
    ctr tasks delete p1 >/dev/null 2>&1 || true
    ctr containers rm p1 >/dev/null 2>&1 || true
    # p2: an entry without a policy (permissive): the exec'd unit's own policy decides
    ctr $RUN -d $IMG p2 /usr/bin/hello wait >p2.ctr 2>&1 || fail "ctr run -d p2: $(cat p2.ctr)"
    wait_state p2 RUNNING
    ctr tasks exec --exec-id e3 p2 /usr/bin/files write /marker-p2 own >e3.out 2>&1 ||
        fail "exec'd write without a container policy: $(cat e3.out)"
    grep -qx "wrote /marker-p2" e3.out || fail "e3: $(cat e3.out)"
    [ -f "$W/state/io.containerd.runtime.v2.task/$NS/p2/rootfs/marker-p2" ] ||
        fail "marker-p2 not in p2's rootfs"
    ctr tasks kill -s SIGKILL p2 >/dev/null 2>&1 || true
    wait_state p2 STOPPED
    ctr tasks delete p2 >/dev/null 2>&1 || true
    ctr containers rm p2 >/dev/null 2>&1 || true

    # kiln-stub by hand, in a private mount namespace: /run/kiln/policy.json present but
    # malformed, writable by others, or a symlink -> refused; a good one narrows
    # (/etc in that namespace: only kiln/trust, a copy of the store; the stub is static)
    cp files.unit "$W/files-host.unit"
    chmod 755 "$W/files-host.unit"
    mkdir -p "$W/etc/kiln"
    cp -a "$T/trust" "$W/etc/kiln/trust"
    chmod 755 "$W/etc" "$W/etc/kiln"
    for bad in malformed writable symlink good; do
        set +e
        unshare -m --propagation private sh -c '
            set -e
            mount -t tmpfs tmpfs /run
            mkdir -p /run/kiln
            case $1 in
            malformed) printf "{\"filesystem\":[" >/run/kiln/policy.json ;;
            writable) cp "$3" /run/kiln/policy.json; chmod 666 /run/kiln/policy.json ;;
            symlink) cp "$3" /run/kiln/real.json; ln -s real.json /run/kiln/policy.json ;;
            good) cp "$3" /run/kiln/policy.json; chmod 444 /run/kiln/policy.json ;;
            esac
            mount --bind "$2" /etc
            exec "$4" write /run/x y' sh $bad "$W/etc" "$W/ro-policy.json" \
            "$W/files-host.unit" >h-$bad.out 2>&1
        rc=$?
        set -e
        if [ $bad = good ]; then
            [ $rc = 2 ] || fail "host stub, good container policy: exit $rc: $(cat h-$bad.out)"
            grep -q "^error: write /run/x: Read-only file system" h-$bad.out ||
                fail "host stub, good container policy: $(cat h-$bad.out)"
        else
            [ $rc = 126 ] || fail "host stub, $bad container policy: exit $rc: $(cat h-$bad.out)"
            grep -q "^kiln-stub: refused: container policy: " h-$bad.out ||
                fail "host stub, $bad container policy: $(cat h-$bad.out)"
        fi
        echo "$bad: $(head -1 h-$bad.out)"
    done
    echo "PASS (containerd policy)"
}

case $MODE in
policy)
    policy_mode
    exit 0
    ;;
kilnd)
    kilnd_mode
    exit 0
    ;;
aot)
    aot_mode
    exit 0
    ;;
esac

# ---- MODE basic
# ---- ctr run --rm: output and exit status
set +e
ctr $RUN --rm $(OUT c1) $IMG c1 >/dev/null 2>c1.ctr
rc=$?
set -e
[ $rc = 0 ] || fail "ctr run: exit $rc: $(cat c1.err)"
grep -qx "hello from kiln-oci" c1.out || fail "output: $(cat c1.out) $(cat c1.err)"
grep -qx "arg 1: from-image" c1.out || fail "image cmd: $(cat c1.out)"
grep -qx "env: containerd" c1.out || fail "image env: $(cat c1.out)"
set +e
ctr $RUN --rm $(OUT c2) $IMG c2 /usr/bin/hello 7 >/dev/null 2>c2.ctr
rc=$?
set -e
[ $rc = 7 ] || fail "exit status through containerd: $rc: $(cat c2.err)"
grep -qx "arg 1: 7" c2.out || fail "args: $(cat c2.out)"
# the calls the shim made
grep -q -- "--root /run/containerd/runc/$NS --log .*/log.json --log-format json create --bundle .* --pid-file .*init.pid c1$" calls.log ||
    fail "create call"
grep -q -- "--log-format json start c1$" calls.log || fail "start call"
grep -q -- "--log-format json delete c1$" calls.log || fail "delete call"

# ---- a terminal (ctr run -t: --console-socket), under script(1) for a tty
# (--log-uri cannot be used with a tty: the unit prints, then reads its tty
# until ^D, which is typed only once the greeting came through ctr, so nothing
# it printed is still in flight when it exits -- see OUT above)
if command -v script >/dev/null; then
    mkfifo t1.in
    sleep 600 >t1.in &
    HOLDT=$!
    script -qfec "ctr -a $W/c.sock -n $NS $RUN -t --rm $IMG t1 /usr/bin/hello wait" \
        t1.typescript <t1.in >/dev/null 2>&1 &
    T1=$!
    i=0
    until grep -q "hello from kiln-oci" t1.typescript 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 300 ] || fail "tty output: $(cat t1.typescript)"
        sleep 0.1
    done
    printf '\004' >t1.in
    set +e
    wait $T1
    rc=$?
    set -e
    kill $HOLDT 2>/dev/null || true
    [ $rc = 0 ] || fail "ctr run -t: exit $rc: $(cat t1.typescript)"
    grep -q "arg 1: wait" t1.typescript || fail "tty args: $(cat t1.typescript)"
    grep -q -- "create --bundle .* --console-socket .* t1$" calls.log || fail "no console socket"
fi

# ---- a native entry is refused with kiln-oci's message
set +e
ctr $RUN --rm $(OUT n1) $IMG n1 /usr/bin/native >/dev/null 2>n1.ctr
rc=$?
set -e
[ $rc != 0 ] || fail "native program ran: $(cat n1.out)"
grep -q "not a verified kiln unit" n1.ctr || fail "refusal message: $(cat n1.ctr)"
! grep -q "native hello" n1.out 2>/dev/null || fail "native program ran"
ctr containers rm n1 >/dev/null 2>&1 || true
# ... unless the annotation allows it
set +e
ctr $RUN --rm --annotation dev.kiln.allow-native=true $(OUT n2) $IMG n2 /usr/bin/native >/dev/null 2>n2.ctr
rc=$?
set -e
[ $rc = 5 ] || fail "native with the annotation: exit $rc: $(cat n2.err)"
grep -qx "native hello" n2.out || fail "native output: $(cat n2.out)"

# ---- memory limit: a guest past it is killed, its neighbour keeps running
set +e
ctr $RUN --rm --memory-limit 33554432 $(OUT m1) $IMG m1 /usr/bin/hello alloc 256 >/dev/null 2>m1.ctr
rc=$?
set -e
[ $rc = 137 ] || fail "over the memory limit: exit $rc: $(cat m1.out) $(cat m1.err)"

# ---- a detached container: exec, ps, pause/resume, kill, delete
ctr $RUN -d $IMG d1 /usr/bin/hello wait >d1.out 2>&1 || fail "ctr run -d: $(cat d1.out)"
i=0
while [ "$(ctr tasks ls | awk '$1 == "d1" {print $3}')" != RUNNING ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "d1 not running: $(ctr tasks ls)"
    sleep 0.1
done
set +e
ctr tasks exec --exec-id x1 d1 /usr/bin/hello 42 >x1.out 2>x1.err
rc=$?
set -e
[ $rc = 42 ] || fail "ctr task exec: exit $rc: $(cat x1.err)"
grep -qx "arg 1: 42" x1.out || fail "exec output: $(cat x1.out)"
grep -q -- "exec --process .* --detach --pid-file .* d1$" calls.log || fail "exec call"
set +e
ctr tasks exec --exec-id x2 d1 /usr/bin/native >x2.out 2>x2.err
rc=$?
set -e
[ $rc != 0 ] || fail "exec of a native program ran"
grep -q "not a verified kiln unit" x2.err || fail "exec refusal: $(cat x2.err)"
if command -v script >/dev/null; then
    set +e
    script -qec "ctr -a $W/c.sock -n $NS tasks exec -t --exec-id x3 d1 /usr/bin/hello 6" \
        x3.typescript </dev/null >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc = 6 ] || fail "ctr task exec -t: exit $rc: $(cat x3.typescript)"
    grep -q "arg 1: 6" x3.typescript || fail "exec -t output: $(cat x3.typescript)"
    grep -q -- "exec --process .* --console-socket .* d1$" calls.log ||
        grep -q -- "exec .*--console-socket" calls.log || fail "exec -t without a console socket"
fi
ctr tasks ps d1 >ps.txt || fail "ctr task ps"
pid=$(ctr tasks ls | awk '$1 == "d1" {print $2}')
grep -q "^$pid " ps.txt || fail "ps: $(cat ps.txt)"
grep -q -- "ps --format json d1$" calls.log || fail "ps call"
ctr tasks pause d1 || fail "pause"
[ "$(ctr tasks ls | awk '$1 == "d1" {print $3}')" = PAUSED ] || fail "not paused"
ctr tasks resume d1 || fail "resume"
[ "$(ctr tasks ls | awk '$1 == "d1" {print $3}')" = RUNNING ] || fail "not resumed"
ctr tasks kill -s SIGKILL d1 || fail "kill"
i=0
while [ "$(ctr tasks ls | awk '$1 == "d1" {print $3}')" != STOPPED ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "d1 not stopped"
    sleep 0.1
done
grep -q -- "kill d1 9$" calls.log || fail "kill call"
ctr tasks delete d1 >/dev/null || fail "task delete"
ctr containers rm d1 || fail "container rm"
[ ! -e /run/containerd/runc/$NS/d1 ] || fail "kiln-oci state left for d1"

echo "--- calls containerd's runc v2 shim made:"
sed -e 's|/run/containerd/runc/[^ ]*|ROOT|; s|--log [^ ]*|--log LOG|; s|--bundle [^ ]*|--bundle B|; s|--pid-file [^ ]*|--pid-file F|; s|--process [^ ]*|--process P|' \
    calls.log | awk '{ $1 = $1; print }' | sort | uniq -c

# ---- the runtime entry of docs/containerd.md, loaded with CRI on
cat >cri.toml <<EOF
version = 2
root = "$W/root2"
state = "$W/state2"
[grpc]
  address = "$W/c2.sock"
[ttrpc]
  address = "$W/t2.sock"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kiln]
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["dev.kiln.*"]
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kiln.options]
  BinaryName = "$OCI"
EOF
command containerd -c cri.toml config dump >dump.txt 2>&1 || fail "config dump: $(cat dump.txt)"
grep -q "BinaryName = \"$OCI\"" dump.txt || fail "BinaryName not in the merged config"
grep -q 'runtime_type = "io.containerd.runc.v2"' dump.txt || fail "runtime_type"
echo "PASS (containerd basic)"
