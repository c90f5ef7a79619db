#!/bin/sh
# oci_containerd.sh KILN STUB OCI REAPER NATIVE GUEST STOREBASE
#
# kiln-oci under Debian's containerd 1.6 and its io.containerd.runc.v2 shim:
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
# The trust store (STOREBASE/trust, compiled into kiln-oci-test) is
# bind-mounted read-only at /etc/kiln/trust in every container, as the docs
# say for /etc/kiln/trust.
# Exit 0 pass, 1 fail, 77 skipped (not root, or containerd/ctr/umoci missing).
set -eu
KILN=$1
STUB=$2
OCI=$3
NATIVE=$5
GUEST=$6
T=$7

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
    echo "FAIL (containerd): $*"
    echo "--- kiln-oci calls"
    cat "$W/calls.log" 2>/dev/null || true
    echo "--- containerd log (tail)"
    tail -20 "$W/containerd.log" 2>/dev/null || true
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
cp "$NATIVE" B/rootfs/usr/bin/native
chmod 755 B/rootfs/usr/bin/hello B/rootfs/usr/bin/native
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

# ---- ctr run --rm: output and exit status
set +e
ctr $RUN --rm $IMG c1 >c1.out 2>c1.err
rc=$?
set -e
[ $rc = 0 ] || fail "ctr run: exit $rc: $(cat c1.err)"
grep -qx "hello from kiln-oci" c1.out || fail "output: $(cat c1.out) $(cat c1.err)"
grep -qx "arg 1: from-image" c1.out || fail "image cmd: $(cat c1.out)"
grep -qx "env: containerd" c1.out || fail "image env: $(cat c1.out)"
set +e
ctr $RUN --rm $IMG c2 /usr/bin/hello 7 >c2.out 2>c2.err
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
if command -v script >/dev/null; then
    set +e
    script -qec "ctr -a $W/c.sock -n $NS $RUN -t --rm $IMG t1 /usr/bin/hello 4" t1.typescript \
        </dev/null >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc = 4 ] || fail "ctr run -t: exit $rc: $(cat t1.typescript)"
    grep -q "hello from kiln-oci" t1.typescript || fail "tty output: $(cat t1.typescript)"
    grep -q -- "create --bundle .* --console-socket .* t1$" calls.log || fail "no console socket"
fi

# ---- a native entry is refused with kiln-oci's message
set +e
ctr $RUN --rm $IMG n1 /usr/bin/native >n1.out 2>n1.err
rc=$?
set -e
[ $rc != 0 ] || fail "native program ran: $(cat n1.out)"
grep -q "not a verified kiln unit" n1.err || fail "refusal message: $(cat n1.err)"
! grep -q "native hello" n1.out || fail "native program ran"
ctr containers rm n1 >/dev/null 2>&1 || true
# ... unless the annotation allows it
set +e
ctr $RUN --rm --annotation dev.kiln.allow-native=true $IMG n2 /usr/bin/native >n2.out 2>n2.err
rc=$?
set -e
[ $rc = 5 ] || fail "native with the annotation: exit $rc: $(cat n2.err)"
grep -qx "native hello" n2.out || fail "native output: $(cat n2.out)"

# ---- memory limit: a guest past it is killed, its neighbour keeps running
set +e
ctr $RUN --rm --memory-limit 33554432 $IMG m1 /usr/bin/hello alloc 256 >m1.out 2>m1.err
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
echo "PASS (containerd)"
