#!/bin/sh
# cri_kubernetes.sh KILN STUB OCI NATIVE PAUSE.wasm EXAMPLE-LAYOUT MKIMAGE STOREBASE [KILND]
#
# cri.kubernetes_path: the Kubernetes path of docs/kubernetes.md, for real.
# A private containerd (Debian's 1.6; root, state, sockets under a temporary
# directory) with the CRI plugin ON and a runtime handler "kiln":
#   runtime_type io.containerd.runc.v2, pod_annotations ["dev.kiln.*"],
#   options BinaryName = OCI (kiln-oci-cri: kiln-oci with its trust store
#   fixed at STOREBASE/trust), Root = a directory of this test;
# snapshotter native; CNI left unconfigured (an empty conf dir): every pod
# uses the host network (NamespaceOption network NODE), for which
# containerd's RunPodSandbox sets up no network.
# Images (built here, imported with ctr into the CRI's namespace k8s.io):
#   pause  PAUSE.wasm at /pause (+ the public key at /etc/kiln/trust: the
#          sandbox gets no volumes), converted by `kiln convert`: the sandbox
#          image (containerd's sandbox_image) is a kiln unit
#   kv     the example image (examples/image), converted by `kiln convert`
#   native NATIVE at /native (not converted; also the native pause)
# kubernetes_path.py (via cri.py, python3-grpcio) then plays the kubelet:
# phase "unit" with the unit sandbox; phase "kilnd" (when KILND is given):
# kiln-oci's config (STOREBASE/oci.json, compiled into kiln-oci-cri) names a
# kilnd started here, pods' unit containers run in the daemon placement;
# phase "keep" leaves a pod with a running unit, containerd is restarted
# (with the native image as sandbox_image) and phase "survived" finds it
# running, execs in it and removes it; then phase "native". At the end: no
# mounts left under the work directory, kiln-oci's root empty, the cgroups
# gone, containerd and its shims stopped -- also on failure (trap).
# Exit 0 pass, 1 fail, 77 skipped (not root, python3-grpcio missing, or a
# sanitizer build whose kiln-stub is not static).
set -eu
KILN=$1
STUB=$2
OCI=$3
NATIVE=$4
PAUSE=$5
EXAMPLE=$6
MKIMAGE=$7
T=$8
KILND=${9:-}
KPID=""
HERE=$(cd "$(dirname "$0")" && pwd)
# no __pycache__ in the source tree
export PYTHONDONTWRITEBYTECODE=1

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: containerd's CRI plugin and kiln-oci need root"
    exit 77
fi
PY=""
for p in /usr/bin/python3 python3; do
    if command -v $p >/dev/null && $p -c "import grpc" 2>/dev/null; then
        PY=$p
        break
    fi
done
if [ -z "$PY" ]; then
    echo "SKIP: python3-grpcio is not installed (apt-get install python3-grpcio): no CRI client"
    exit 77
fi
for t in containerd ctr containerd-shim-runc-v2; do
    command -v $t >/dev/null || { echo "FAIL: $t not installed (apt-get install containerd)"; exit 1; }
done
if [ "${KILN_STUB_STATIC:-ON}" = OFF ]; then
    echo "SKIP: kiln-stub is linked dynamically (sanitizer build): units cannot run in a container"
    exit 77
fi

W=$(mktemp -d /tmp/kiln-cri.XXXXXX)
KROOT=$W/kiln-oci
CGP=/kiln-cri-test-$$
CPID=""
ctr() {
    command ctr -a "$W/c.sock" -n k8s.io "$@"
}
stop_containerd() {
    [ -n "$CPID" ] || return 0
    kill "$CPID" 2>/dev/null || true
    wait "$CPID" 2>/dev/null || true
    CPID=""
}
# shims serving our containerd (their command line names its socket)
our_shims() {
    for p in /proc/[0-9]*; do
        if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "^containerd-shim-runc-v2 .*-address $W/c.sock"; then
            echo "${p#/proc/}"
        fi
    done
}
our_mounts() {
    awk -v w="$W/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo
}
cleanup() {
    rc=$?
    set +e
    if [ -n "$CPID" ]; then
        # what the test left: kill and delete every task, then stop containerd
        for c in $(ctr containers ls -q 2>/dev/null); do
            ctr tasks kill -s SIGKILL "$c" >/dev/null 2>&1
            sleep 0.2
            ctr tasks delete -f "$c" >/dev/null 2>&1
        done
        stop_containerd
    fi
    if [ -n "$KPID" ]; then
        kill "$KPID" 2>/dev/null
        wait "$KPID" 2>/dev/null
    fi
    for id in "$KROOT"/k8s.io/*; do
        [ ! -d "$id" ] || "$OCI" --root "$KROOT/k8s.io" delete --force "${id##*/}" >/dev/null 2>&1
    done
    for p in $(our_shims); do
        kill "$p" 2>/dev/null
    done
    for m in $(our_mounts | sort -r); do
        umount -l "$m" 2>/dev/null
    done
    for d in /sys/fs/cgroup/*"$CGP" /sys/fs/cgroup/*/*"$CGP"; do
        [ -d "$d" ] || continue
        for s in "$d"/*/; do
            [ ! -d "$s" ] || rmdir "$s" 2>/dev/null
        done
        rmdir "$d" 2>/dev/null
    done
    rm -rf "$W" "$T"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "FAIL (cri): $*"
    echo "--- containerd log (tail)"
    tail -30 "$W/containerd.log" 2>/dev/null || true
    exit 1
}

# ---- keys, the node's trust store (root's, 0755, as kiln-oci requires)
rm -rf "$T"
mkdir -p "$T/trust" "$KROOT"
chmod 755 "$T" "$T/trust"
cd "$W"
"$KILN" keygen -o key >/dev/null
cp key.pub.pem "$T/trust/"
chmod 644 "$T/trust/key.pub.pem"

# ---- images
"$PY" "$MKIMAGE" pause-src 1 /pause "$PAUSE:/pause:755" "key.pub.pem:/etc/kiln/trust/key.pub.pem:644"
"$KILN" convert pause-src:1 -o pause.tar --format oci-archive --key key.pem --stub "$STUB" \
    >convert-pause.txt 2>&1 || fail "kiln convert (pause): $(cat convert-pause.txt)"
"$KILN" convert "$EXAMPLE" -o kv.tar --format oci-archive --key key.pem --stub "$STUB" \
    >convert-kv.txt 2>&1 || fail "kiln convert (example image): $(cat convert-kv.txt)"
"$PY" "$MKIMAGE" native-src 1 /native --cmd pause "$NATIVE:/native:755"
tar -C native-src -cf native.tar .
PAUSE_IMG=localhost/kiln-cri/pause:1
KV_IMG=localhost/kiln-cri/kv:latest
NATIVE_IMG=localhost/kiln-cri/native:1

# ---- a private containerd with the CRI plugin and the kiln runtime handler
write_config() { # SANDBOX-IMAGE
    mkdir -p "$W/cni-conf" "$W/cni-bin" "$W/logs"
    cat >config.toml <<EOF
version = 2
root = "$W/root"
state = "$W/state"
[grpc]
  address = "$W/c.sock"
[ttrpc]
  address = "$W/t.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$W/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$1"
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "$W/cni-bin"
  conf_dir = "$W/cni-conf"
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "native"
# the default runtime (default_runtime_name "runc") must be declared too:
# with only runtimes.kiln in the file, containerd 1.6 does not load the CRI
# plugin ("no corresponding runtime configured in containerd.runtimes")
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kiln]
  runtime_type = "io.containerd.runc.v2"
  pod_annotations = ["dev.kiln.*"]
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kiln.options]
  BinaryName = "$OCI"
  Root = "$KROOT"
  SystemdCgroup = false
EOF
}
start_containerd() {
    rm -f "$W/c.sock"
    containerd -c config.toml >>containerd.log 2>&1 &
    CPID=$!
    i=0
    until [ -S "$W/c.sock" ] && "$PY" "$HERE/cri.py" "$W/c.sock" version >version.txt 2>&1; do
        i=$((i + 1))
        [ $i -lt 300 ] || fail "containerd's CRI did not answer: $(cat version.txt)"
        kill -0 "$CPID" 2>/dev/null || fail "containerd exited"
        sleep 0.1
    done
}
write_config $PAUSE_IMG
start_containerd
echo "containerd up: $(cat version.txt)"
ctr images import --snapshotter native --base-name localhost/kiln-cri/pause pause.tar >imp.txt 2>&1 ||
    fail "import pause: $(cat imp.txt)"
ctr images import --snapshotter native --base-name localhost/kiln-cri/kv kv.tar >imp.txt 2>&1 ||
    fail "import kv: $(cat imp.txt)"
ctr images import --snapshotter native --base-name localhost/kiln-cri/native native.tar >imp.txt 2>&1 ||
    fail "import native: $(cat imp.txt)"
for i in $PAUSE_IMG $KV_IMG $NATIVE_IMG; do
    ctr images ls -q | grep -qx "$i" || fail "image $i not imported: $(ctr images ls -q)"
done

# ---- the kubelet's part
"$PY" "$HERE/kubernetes_path.py" unit "$W/c.sock" "$OCI" "$KROOT" "$W" "$T/trust" "$CGP" \
    $PAUSE_IMG $KV_IMG $NATIVE_IMG || fail "phase unit"

# ---- pods whose units run in kilnd's daemon placement
if [ -n "$KILND" ]; then
    "$KILN" keygen -o node >/dev/null
    mkdir -p kcfg kstate
    "$KILND" serve --socket "$W/kilnd.sock" --config "$W/kcfg" --state "$W/kstate" \
        --key "$W/node.pem" --trust "$T/trust" >kilnd.log 2>&1 &
    KPID=$!
    i=0
    while [ ! -S "$W/kilnd.sock" ]; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "kilnd did not start: $(cat kilnd.log)"
        sleep 0.1
    done
    printf '{"kilnd": {"socket": "%s", "config": "%s", "state": "%s"}}\n' \
        "$W/kilnd.sock" "$W/kcfg" "$W/kstate" >"$T/oci.json"
    chmod 644 "$T/oci.json"
    KILN=$KILN KILND_STATE=$W/kstate KILND_CONFIG=$W/kcfg KILND_LOG=$W/kilnd.log \
        NODE_PUB=$W/node.pub.pem "$PY" "$HERE/kubernetes_path.py" kilnd "$W/c.sock" "$OCI" \
        "$KROOT" "$W" "$T/trust" "$CGP" $PAUSE_IMG $KV_IMG $NATIVE_IMG ||
        fail "phase kilnd: kilnd log: $(tail -20 kilnd.log)"
    rm -f "$T/oci.json"
    kill "$KPID"
    wait "$KPID" 2>/dev/null || true
    KPID=""
fi

# ---- a pod that lives through a containerd restart; then the native pause
"$PY" "$HERE/kubernetes_path.py" keep "$W/c.sock" "$OCI" "$KROOT" "$W" "$T/trust" "$CGP" \
    $PAUSE_IMG $KV_IMG $NATIVE_IMG || fail "phase keep"
stop_containerd
write_config $NATIVE_IMG
start_containerd
"$PY" "$HERE/kubernetes_path.py" survived "$W/c.sock" "$OCI" "$KROOT" "$W" "$T/trust" "$CGP" \
    $PAUSE_IMG $KV_IMG $NATIVE_IMG || fail "phase survived"
"$PY" "$HERE/kubernetes_path.py" native "$W/c.sock" "$OCI" "$KROOT" "$W" "$T/trust" "$CGP" \
    $PAUSE_IMG $KV_IMG $NATIVE_IMG || fail "phase native"

# ---- nothing left behind
[ -z "$(ls "$KROOT/k8s.io")" ] || fail "kiln-oci state left: $(ls "$KROOT/k8s.io")"
m=$(our_mounts)
[ -z "$m" ] || fail "mounts left: $m"
left=$(find /sys/fs/cgroup -mindepth 3 -maxdepth 3 -type d -path "*$CGP/*" 2>/dev/null)
[ -z "$left" ] || fail "container cgroups left: $left"
stop_containerd
s=$(our_shims)
[ -z "$s" ] || fail "shims still running: $s"
echo "PASS (cri.kubernetes_path)"
