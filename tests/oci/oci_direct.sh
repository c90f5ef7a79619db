#!/bin/sh
# oci_direct.sh MODE KILN STUB OCI REAPER NATIVE GUEST STOREBASE REAPED
#
# kiln-oci driven directly, as containerd's runc shim drives runc. Runs under
# REAPER (a child subreaper, like the shim), which appends "PID exit N" /
# "PID signal N" to REAPED for every container process it reaps.
# OCI is kiln-oci-test: its host trust store is STOREBASE/trust (fixed at
# build time, root-owned like /etc/kiln/trust); this script creates it and
# bind-mounts it at /etc/kiln/trust inside each container for the unit's
# own stub. Bundles: rootfs with the signed unit at /usr/bin/hello and a
# runc-spec-like config.json written here.
#
# Modes: run refuse exit kill exec pause limits errors seccomp probe hooks
# cgroupv2. cgroupv2 re-runs this script in a private mount namespace whose
# /sys/fs/cgroup is a cgroup2 mount (this host is hybrid: the same unified
# hierarchy as /sys/fs/cgroup/unified), so kiln-oci takes its v2 path for
# real: cgroup placement, cgroup.procs, cgroup.freeze, exec, kill --all,
# removal, and each limit whose controller cgroup2 has here (controllers bound
# to v1 cannot be enabled in v2; a limit needing one fails create, never
# silently).
# Exit 0 pass, 1 fail, 77 skipped (not root).
set -eu
MODE=$1
KILN=$2
STUB=$3
OCI=$4
NATIVE=$6
GUEST=$7
T=$8
REAPED=$9

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: kiln-oci needs root (namespaces, cgroups, a root-owned trust store)"
    exit 77
fi
if [ "$MODE" = cgroupv2 ] && [ -z "${KILN_OCI_V2NS:-}" ]; then
    if ! command -v unshare >/dev/null || [ ! -d /sys/fs/cgroup ]; then
        echo "SKIP: unshare(1) or /sys/fs/cgroup missing"
        exit 77
    fi
    # same pid (unshare without --fork), so the reaper still reaps for us
    KILN_OCI_V2NS=1 exec unshare -m --propagation private sh -c \
        'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec sh "$@"' sh "$0" "$@"
fi
# units carry kiln-stub, which must be static to run in a bare rootfs
case $MODE in
run|refuse|exit|kill|exec|pause|limits|seccomp|hooks|cgroupv2)
    if [ "${KILN_STUB_STATIC:-ON}" = OFF ]; then
        echo "SKIP: kiln-stub is linked dynamically (sanitizer build): units cannot run in a container"
        exit 77
    fi
    ;;
esac
W=$(mktemp -d /tmp/kiln-oci-test.XXXXXX)
ROOT=$W/state
LOG=$W/log.json
IDS=""
: >"$REAPED"
cleanup() {
    for id in $IDS; do
        "$OCI" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
    done
    [ -z "${HOLD:-}" ] || kill "$HOLD" 2>/dev/null || true
    [ -z "${LISTENER:-}" ] || kill "$LISTENER" 2>/dev/null || true
    # the parent cgroup kiln-oci created (the leaves went with delete)
    for d in /sys/fs/cgroup/kiln-oci-test /sys/fs/cgroup/*/kiln-oci-test; do
        [ ! -d "$d" ] || rmdir "$d" 2>/dev/null || true
    done
    rm -rf "$W" "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL ($MODE): $*"
    [ ! -f "$LOG" ] || { echo "--- log.json"; tail -5 "$LOG"; }
    exit 1
}
oci() {
    "$OCI" --root "$ROOT" --log "$LOG" --log-format json "$@"
}

rm -rf "$T"
mkdir -p "$T/trust"
chmod 755 "$T" "$T/trust"
cd "$W"
"$KILN" keygen -o key >/dev/null
cp key.pub.pem "$T/trust/"
"$KILN" sign --key key.pem --stub "$STUB" --abi wasi_snapshot_preview1 "$GUEST" -o hello.unit \
    >/dev/null || fail "kiln sign"

# bundle NAME ENTRYFILE ARGS_JSON [ANNOTATIONS_JSON] [RESOURCES_JSON]
bundle() {
    b=$W/$1
    mkdir -p "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp" \
        "$b/rootfs/etc/kiln/trust" "$b/rootfs/usr/bin"
    cp "$2" "$b/rootfs/usr/bin/hello"
    chmod 755 "$b/rootfs/usr/bin/hello"
    cat >"$b/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": $3,
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "KILN_OCI_TEST=direct-$1"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "kiln-$1",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
    {"destination": "/etc/kiln/trust", "type": "bind", "source": "$T/trust",
     "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}
  ],
  "annotations": ${4:-{\}},
  "linux": {
    "cgroupsPath": "/kiln-oci-test/$1",
    "resources": ${5:-{\}},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
}

# create ID [stdin]: kiln-oci create; the container's stdio are W/ID.out/.err
create() {
    IDS="$IDS $1"
    oci create --bundle "$W/$1" --pid-file "$W/$1.pid" "$1" \
        <"${2:-/dev/null}" >"$W/$1.out" 2>"$W/$1.err"
}
status() {
    oci state "$1" | jq -r .status
}
# reaped PID: waits until the reaper has reaped PID; prints "exit N"/"signal N"
reaped() {
    i=0
    while ! grep -q "^$1 " "$REAPED"; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "container process $1 was never reaped"
        sleep 0.1
    done
    sed -n "s/^$1 //p" "$REAPED"
}
# run ID: create + start, waits for the end; prints "exit N"/"signal N"
run() {
    create "$1" || fail "create $1: $(tail -1 "$LOG")"
    [ "$(status "$1")" = created ] || fail "$1: not created: $(oci state "$1")"
    oci start "$1" || fail "start $1"
    reaped "$(cat "$W/$1.pid")"
}
# a container that reads stdin until the test closes it
HOLDFIFO=$W/stdin.fifo
mkfifo "$HOLDFIFO"
hold_stdin() {
    sleep 600 >"$HOLDFIFO" &
    HOLD=$!
}

case $MODE in
cgroupv2)
    mode=$("$OCI" features | jq -r '.annotations["dev.kiln.oci.cgroup-mode"]')
    [ "$mode" = v2 ] || fail "kiln-oci sees cgroup mode $mode in the private namespace"
    CG=/sys/fs/cgroup/kiln-oci-test
    echo "cgroup2 controllers here: $(cat /sys/fs/cgroup/cgroup.controllers)"
    hold_stdin
    bundle g1 hello.unit '["hello", "wait"]'
    create g1 "$HOLDFIFO" || fail "create: $(tail -1 "$LOG")"
    pid=$(cat g1.pid)
    grep -qx "0::/kiln-oci-test/g1" /proc/"$pid"/cgroup || fail "cgroup: $(cat /proc/"$pid"/cgroup)"
    grep -qx "$pid" $CG/g1/cgroup.procs || fail "cgroup.procs: $(cat $CG/g1/cgroup.procs)"
    oci start g1 || fail "start"
    [ "$(oci ps --format json g1 | jq -c .)" = "[$pid]" ] || fail "ps: $(oci ps --format json g1)"
    oci pause g1 || fail "pause: $(tail -1 "$LOG")"
    [ "$(status g1)" = paused ] || fail "not paused: $(status g1)"
    grep -qx "1" $CG/g1/cgroup.freeze || fail "cgroup.freeze: $(cat $CG/g1/cgroup.freeze)"
    grep -qx "frozen 1" $CG/g1/cgroup.events || fail "cgroup.events: $(cat $CG/g1/cgroup.events)"
    oci resume g1 || fail "resume"
    [ "$(status g1)" = running ] || fail "not running after resume"
    grep -qx "frozen 0" $CG/g1/cgroup.events || fail "still frozen: $(cat $CG/g1/cgroup.events)"
    # an exec'd process joins the same v2 cgroup
    printf '{"args": ["hello", "9"], "env": ["KILN_OCI_TEST=exec"], "cwd": "/", "user": {"uid": 0, "gid": 0}}\n' >proc.json
    set +e
    oci exec --process proc.json g1 >x.out 2>&1
    rc=$?
    set -e
    [ $rc = 9 ] || fail "exec in v2: exit $rc: $(cat x.out) $(tail -1 "$LOG")"
    oci kill --all g1 9 || fail "kill --all"
    r=$(reaped "$pid")
    [ "$r" = "signal 9" ] || fail "kill --all: $r"
    oci delete g1 || fail "delete: $(tail -1 "$LOG")"
    [ ! -d $CG/g1 ] || fail "v2 cgroup left: $CG/g1"
    # limits: real where cgroup2 has the controller, a create error where not
    for c in pids memory cpu; do
        case $c in
        pids) res='{"pids": {"limit": 7}}' file=pids.max want=7 ;;
        memory) res='{"memory": {"limit": 33554432}}' file=memory.max want=33554432 ;;
        cpu) res='{"cpu": {"quota": 50000, "period": 100000}}' file=cpu.max want="50000 100000" ;;
        esac
        bundle "l$c" hello.unit '["hello", "wait"]' '{}' "$res"
        if grep -qw $c /sys/fs/cgroup/cgroup.controllers; then
            create "l$c" "$HOLDFIFO" || fail "create with a $c limit: $(tail -1 "$LOG")"
            [ "$(cat $CG/l$c/$file)" = "$want" ] || fail "$file: $(cat $CG/l$c/$file)"
            echo "v2 $c: $file = $want (tested for real)"
            oci delete --force "l$c" || fail "delete l$c"
        else
            ! create "l$c" "$HOLDFIFO" || fail "a $c limit was dropped silently"
            tail -1 "$LOG" | grep -q "$file" || fail "the error does not name $file: $(tail -1 "$LOG")"
            echo "v2 $c: not available to cgroup2 on this host (bound to v1): create refused, naming $file"
        fi
    done
    ;;
run)
    bundle c1 hello.unit '["hello", "a b"]'
    jq '.process.oomScoreAdj = 345' c1/config.json >c.tmp && mv c.tmp c1/config.json
    create c1 || fail "create: $(tail -1 "$LOG")"
    pid=$(cat c1.pid)
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "pid file"
    oci state c1 >state.json || fail "state"
    [ "$(jq -r .status state.json)" = created ] || fail "status: $(cat state.json)"
    [ "$(jq -r .pid state.json)" = "$pid" ] || fail "state pid"
    [ "$(jq -r .id state.json)" = c1 ] || fail "state id"
    [ "$(jq -r .bundle state.json)" = "$W/c1" ] || fail "state bundle"
    [ "$(jq -r .rootfs state.json)" = "$W/c1/rootfs" ] || fail "state rootfs"
    [ "$(jq -r .ociVersion state.json)" != null ] || fail "state ociVersion"
    jq -e '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' state.json >/dev/null || fail "created"
    [ "$(jq -r .owner state.json)" = "" ] || fail "state owner"
    [ -f "$ROOT/c1/state.json" ] || fail "no state.json under --root"
    # the init waits: nothing ran yet
    [ ! -s c1.out ] || fail "the guest ran before start"
    # the container's namespaces are new ones
    for ns in pid net ipc uts mnt; do
        [ "$(readlink /proc/"$pid"/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] ||
            fail "$ns namespace not new"
    done
    grep -q "^NoNewPrivs:[[:space:]]*1" /proc/"$pid"/status || fail "no_new_privs not set"
    [ "$(cat /proc/"$pid"/oom_score_adj)" = 345 ] ||
        fail "process.oomScoreAdj: $(cat /proc/"$pid"/oom_score_adj)"
    grep -q "^CapBnd:[[:space:]]*0000000020000420" /proc/"$pid"/status ||
        fail "capability bounding set: $(grep CapBnd /proc/"$pid"/status)"
    oci start c1 || fail "start"
    r=$(reaped "$pid")
    [ "$r" = "exit 0" ] || fail "guest: $r: $(cat c1.err)"
    grep -qx "hello from kiln-oci" c1.out || fail "output: $(cat c1.out) $(cat c1.err)"
    grep -qx "arg 1: a b" c1.out || fail "args: $(cat c1.out)"
    grep -qx "env: direct-c1" c1.out || fail "env: $(cat c1.out)"
    [ "$(status c1)" = stopped ] || fail "not stopped after exit"
    ! oci start c1 2>/dev/null || fail "start of a stopped container succeeded"
    oci delete c1 || fail "delete"
    [ ! -e "$ROOT/c1" ] || fail "state dir left"
    ! oci state c1 >/dev/null 2>&1 || fail "state after delete"
    tail -1 "$LOG" | jq -e '.level == "error" and (.msg | test("does not exist")) and .time' \
        >/dev/null || fail "log line: $(tail -1 "$LOG")"
    oci delete --force c1 || fail "delete --force of a deleted container"
    for c in pids memory freezer; do
        [ ! -e /sys/fs/cgroup/$c/kiln-oci-test/c1 ] || fail "cgroup $c left"
    done
    ;;
refuse)
    # a native program is refused at create, with a clear error
    bundle n1 "$NATIVE" '["hello"]'
    ! create n1 || fail "native program accepted"
    tail -1 "$LOG" | jq -e '.level == "error"' >/dev/null || fail "no JSON error line"
    tail -1 "$LOG" | jq -r .msg | grep -q "refusing to run /usr/bin/hello: not a verified kiln unit" ||
        fail "message: $(tail -1 "$LOG")"
    [ ! -e "$ROOT/n1" ] || fail "state left by a refused create"
    [ ! -s n1.out ] || fail "native program ran: $(cat n1.out)"
    # a tampered unit is refused too
    cp hello.unit bad.unit
    size=$(stat -c %s bad.unit)
    printf 'X' | dd of=bad.unit bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
    bundle t1 bad.unit '["hello"]'
    ! create t1 || fail "tampered unit accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q "not a verified kiln unit" || fail "$(tail -1 "$LOG")"
    # a unit signed by an unknown key
    "$KILN" keygen -o other >/dev/null
    "$KILN" sign --key other.pem --stub "$STUB" --abi wasi_snapshot_preview1 "$GUEST" -o other.unit \
        >/dev/null
    bundle k1 other.unit '["hello"]'
    ! create k1 || fail "unit by an unknown key accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q "unknown key" || fail "$(tail -1 "$LOG")"
    # the annotation lets native programs run
    bundle n2 "$NATIVE" '["hello"]' '{"dev.kiln.allow-native": "true"}'
    r=$(run n2)
    [ "$r" = "exit 5" ] || fail "native with annotation: $r $(cat n2.err)"
    grep -qx "native hello" n2.out || fail "native output: $(cat n2.out)"
    oci delete n2
    # ... but a kiln unit that does not verify never runs, not even as a native program
    bundle t2 bad.unit '["hello"]' '{"dev.kiln.allow-native": "true"}'
    ! create t2 || fail "tampered unit ran where native programs are allowed"
    tail -1 "$LOG" | jq -r .msg | grep -q "a kiln unit that does not verify" || fail "$(tail -1 "$LOG")"
    [ ! -s t2.out ] || fail "tampered unit ran: $(cat t2.out)"
    bundle t3 bad.unit '["hello"]' '{"io.kubernetes.cri.container-type": "sandbox"}'
    ! create t3 || fail "tampered unit ran as a pod sandbox"
    # without the host's store mounted at /etc/kiln/trust the unit's own stub
    # refuses (kiln-oci verified it; the stub's check inside fails closed)
    bundle s1 hello.unit '["hello"]'
    jq '.mounts |= map(select(.destination != "/etc/kiln/trust"))' s1/config.json >c.tmp
    mv c.tmp s1/config.json
    rmdir s1/rootfs/etc/kiln/trust
    r=$(run s1)
    [ "$r" = "exit 126" ] || fail "unit without the trust store mounted: $r"
    grep -q "^kiln-stub: refused: trust store: " s1.err || fail "stub message: $(cat s1.err)"
    [ ! -s s1.out ] || fail "the guest ran: $(cat s1.out)"
    oci delete s1
    # an image's own (empty) /etc/kiln/trust trusts nothing
    bundle s2 hello.unit '["hello"]'
    jq '.mounts |= map(select(.destination != "/etc/kiln/trust"))' s2/config.json >c.tmp
    mv c.tmp s2/config.json
    r=$(run s2)
    [ "$r" = "exit 126" ] || fail "unit with the image's own empty store: $r"
    grep -q "^kiln-stub: refused: unknown key: " s2.err || fail "stub message: $(cat s2.err)"
    oci delete s2
    # a CRI pod sandbox (the pause container) is native and allowed
    bundle n4 "$NATIVE" '["hello"]' '{"io.kubernetes.cri.container-type": "sandbox"}'
    r=$(run n4)
    [ "$r" = "exit 5" ] || fail "sandbox container: $r $(cat n4.err)"
    oci delete n4
    bundle n5 "$NATIVE" '["hello"]' '{"io.kubernetes.cri.container-type": "container"}'
    ! create n5 || fail "a CRI workload container ran native"
    # any other value does not
    bundle n3 "$NATIVE" '["hello"]' '{"dev.kiln.allow-native": "yes"}'
    ! create n3 || fail "annotation value 'yes' allowed native"
    ;;
exit)
    bundle e7 hello.unit '["/usr/bin/hello", "7"]'
    r=$(run e7)
    [ "$r" = "exit 7" ] || fail "exit status: $r $(cat e7.err)"
    oci delete e7
    bundle e0 hello.unit '["hello"]'
    r=$(run e0)
    [ "$r" = "exit 0" ] || fail "exit status: $r"
    oci delete e0
    # a missing entry is a create error naming it
    bundle m1 hello.unit '["nothere"]'
    ! create m1 || fail "missing entry accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q '"nothere": executable file not found' ||
        fail "$(tail -1 "$LOG")"
    ;;
kill)
    hold_stdin
    bundle k1 hello.unit '["hello", "wait"]'
    create k1 "$HOLDFIFO" || fail "create: $(tail -1 "$LOG")"
    oci start k1
    pid=$(cat k1.pid)
    [ "$(status k1)" = running ] || fail "not running"
    ! oci delete k1 2>/dev/null || fail "delete of a running container succeeded"
    tail -1 "$LOG" | jq -r .msg | grep -q "not stopped" || fail "$(tail -1 "$LOG")"
    oci kill k1 KILL || fail "kill"
    r=$(reaped "$pid")
    [ "$r" = "signal 9" ] || fail "killed: $r"
    [ "$(status k1)" = stopped ] || fail "not stopped"
    oci delete k1
    # kill --all with a number, on a created (never started) container
    bundle k2 hello.unit '["hello", "wait"]'
    create k2 "$HOLDFIFO" || fail "create k2"
    pid=$(cat k2.pid)
    oci kill --all k2 9 || fail "kill --all"
    r=$(reaped "$pid")
    [ "$r" = "signal 9" ] || fail "kill --all: $r"
    oci delete k2
    # delete --force of a created container
    bundle k3 hello.unit '["hello", "wait"]'
    create k3 "$HOLDFIFO" || fail "create k3"
    pid=$(cat k3.pid)
    oci delete --force k3 || fail "delete --force"
    r=$(reaped "$pid")
    [ "$r" = "signal 9" ] || fail "delete --force: $r"
    [ ! -e "$ROOT/k3" ] || fail "state left"
    ! oci kill k1 9 2>/dev/null || fail "kill of a deleted container"
    ;;
exec)
    hold_stdin
    bundle x1 hello.unit '["hello", "wait"]'
    create x1 "$HOLDFIFO" || fail "create: $(tail -1 "$LOG")"
    oci start x1
    pid=$(cat x1.pid)
    cat >proc.json <<EOF
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["hello", "42"],
 "env": ["PATH=/usr/bin", "KILN_OCI_TEST=exec"], "cwd": "/", "noNewPrivileges": true}
EOF
    set +e
    oci exec --process proc.json x1 >exec.out 2>exec.err
    rc=$?
    set -e
    [ $rc = 42 ] || fail "exec exit status $rc: $(cat exec.err) $(tail -1 "$LOG")"
    grep -qx "arg 1: 42" exec.out || fail "exec output: $(cat exec.out)"
    grep -qx "env: exec" exec.out || fail "exec env: $(cat exec.out)"
    # detached, as the shim runs it
    sed 's/"42"/"9"/' proc.json >proc9.json
    oci exec --process proc9.json --detach --pid-file "$W/x.pid" x1 >det.out 2>&1 ||
        fail "exec --detach: $(tail -1 "$LOG")"
    r=$(reaped "$(cat x.pid)")
    [ "$r" = "exit 9" ] || fail "detached exec: $r"
    # the exec'd process ran in the container's pid namespace
    [ "$(readlink /proc/"$pid"/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "pidns"
    # a native program is refused by exec as well
    cp "$NATIVE" "$W/x1/rootfs/usr/bin/native" 2>/dev/null ||
        fail "copy native (the rootfs is the bundle's directory)"
    sed 's/"hello", "42"/"native"/' proc.json >procn.json
    ! oci exec --process procn.json x1 >/dev/null 2>&1 || fail "exec of a native program"
    tail -1 "$LOG" | jq -r .msg | grep -q "not a verified kiln unit" || fail "$(tail -1 "$LOG")"
    oci ps --format json x1 >ps.json || fail "ps"
    jq -e "index($pid) != null" ps.json >/dev/null || fail "ps: $(cat ps.json)"
    oci kill x1 9
    reaped "$pid" >/dev/null
    oci delete x1
    ;;
pause)
    hold_stdin
    bundle p1 hello.unit '["hello", "wait"]'
    create p1 "$HOLDFIFO" || fail "create: $(tail -1 "$LOG")"
    oci start p1
    pid=$(cat p1.pid)
    oci pause p1 || fail "pause: $(tail -1 "$LOG")"
    [ "$(status p1)" = paused ] || fail "not paused: $(status p1)"
    grep -q "^State:[[:space:]]*D\|^State:[[:space:]]*S" /proc/"$pid"/status || true
    ! oci pause p1 2>/dev/null || fail "pause twice"
    oci resume p1 || fail "resume"
    [ "$(status p1)" = running ] || fail "not running after resume"
    oci pause p1
    # delete --force of a paused container kills it
    oci delete --force p1 || fail "delete --force paused"
    r=$(reaped "$pid")
    [ "$r" = "signal 9" ] || fail "paused container: $r"
    ;;
limits)
    res='{"memory": {"limit": 67108864}, "pids": {"limit": 32}, "cpu": {"shares": 512, "quota": 50000, "period": 100000}}'
    hold_stdin
    bundle l1 hello.unit '["hello", "wait"]' '{}' "$res"
    create l1 "$HOLDFIFO" || fail "create: $(tail -1 "$LOG")"
    pid=$(cat l1.pid)
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
        cg=/sys/fs/cgroup/kiln-oci-test/l1
        [ "$(cat $cg/memory.max)" = 67108864 ] || fail "memory.max"
        [ "$(cat $cg/pids.max)" = 32 ] || fail "pids.max"
        [ "$(cat $cg/cpu.max)" = "50000 100000" ] || fail "cpu.max"
        grep -qx "$pid" $cg/cgroup.procs || fail "not in the cgroup"
    else
        [ "$(cat /sys/fs/cgroup/memory/kiln-oci-test/l1/memory.limit_in_bytes)" = 67108864 ] ||
            fail "memory.limit_in_bytes"
        [ "$(cat /sys/fs/cgroup/pids/kiln-oci-test/l1/pids.max)" = 32 ] || fail "pids.max"
        [ "$(cat /sys/fs/cgroup/cpu/kiln-oci-test/l1/cpu.shares)" = 512 ] || fail "cpu.shares"
        [ "$(cat /sys/fs/cgroup/cpu/kiln-oci-test/l1/cpu.cfs_quota_us)" = 50000 ] || fail "quota"
        grep -qx "$pid" /sys/fs/cgroup/memory/kiln-oci-test/l1/cgroup.procs || fail "not in memcg"
        grep -qx "$pid" /sys/fs/cgroup/pids/kiln-oci-test/l1/cgroup.procs || fail "not in pids"
        if [ -d /sys/fs/cgroup/unified ]; then
            grep -qx "$pid" /sys/fs/cgroup/unified/kiln-oci-test/l1/cgroup.procs ||
                fail "hybrid: not in the unified hierarchy"
        fi
    fi
    grep -q "^Max open files *1024 *1024" /proc/"$pid"/limits || fail "RLIMIT_NOFILE"
    # a guest allocating past its memory limit is stopped; its neighbour runs on
    res='{"memory": {"limit": 33554432, "swap": 33554432}}'
    bundle m1 hello.unit '["hello", "alloc", "256"]' '{}' "$res"
    bundle m2 hello.unit '["hello", "alloc", "8"]' '{}' "$res"
    r=$(run m1)
    [ "$r" = "signal 9" ] || fail "over the limit: $r: $(cat m1.out) $(cat m1.err)"
    r=$(run m2)
    [ "$r" = "exit 0" ] || fail "under the limit: $r: $(cat m2.err)"
    grep -q "^allocated 8 MiB" m2.out || fail "m2: $(cat m2.out)"
    [ "$(status l1)" = created ] || fail "the waiting neighbour is gone"
    # the pids limit: a (native) program cannot start more processes
    bundle f1 "$NATIVE" '["hello", "fork", "20"]' '{"dev.kiln.allow-native": "true"}' \
        '{"pids": {"limit": 8}}'
    r=$(run f1)
    [ "$r" = "exit 4" ] || fail "fork past pids.max: $r $(cat f1.out)"
    grep -qx "forked 7 of 20: Resource temporarily unavailable" f1.out || fail "$(cat f1.out)"
    # its children die with it (pid namespace), the cgroup goes with delete
    oci delete f1 || fail "delete f1: $(tail -1 "$LOG")"
    oci delete m1
    oci delete m2
    oci delete --force l1
    ;;
errors)
    bundle d1 hello.unit '["hello", "wait"]'
    hold_stdin
    create d1 "$HOLDFIFO" || fail "create"
    ! create d1 2>/dev/null || fail "duplicate id accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q "container with id exists" || fail "$(tail -1 "$LOG")"
    [ "$(status d1)" = created ] || fail "the first d1 was harmed by the duplicate"
    ! oci create --bundle "$W/d1" "../x" 2>/dev/null || fail "bad id accepted"
    ! oci state nosuch 2>/dev/null || fail "state of a missing container"
    ! oci frobnicate 2>/dev/null || fail "unknown command"
    "$OCI" --version | grep -q "^kiln-oci version" || fail "--version"
    "$OCI" -v | grep -q "^spec: " || fail "-v"
    "$OCI" features | jq -e '.linux.cgroup.v1 and .linux.cgroup.v2 and (.linux.namespaces | index("pid"))' \
        >/dev/null || fail "features"
    # without --log errors go to stderr
    "$OCI" --root "$ROOT" state nosuch 2>err.txt && fail "state nosuch"
    grep -q "kiln-oci: container does not exist" err.txt || fail "stderr: $(cat err.txt)"
    # a broken config.json is a create error naming the file
    mkdir -p "$W/bad/rootfs"
    echo '{"process": ' >"$W/bad/config.json"
    ! oci create --bundle "$W/bad" bad 2>/dev/null || fail "broken config accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q "config.json" || fail "$(tail -1 "$LOG")"
    # a trust store others can write is no trust store: units are refused
    chmod 777 "$T/trust"
    bundle d2 hello.unit '["hello"]'
    ! create d2 || fail "create with a world-writable trust store"
    tail -1 "$LOG" | jq -r .msg | grep -q "cannot verify units: trust store: .*not writable by group or others" ||
        fail "$(tail -1 "$LOG")"
    chmod 755 "$T/trust"
    oci delete --force d1
    ;;
probe)
    # the container as a native program inside sees it (allowed by annotation)
    bundle pr1 "$NATIVE" '["hello", "probe"]' '{"dev.kiln.allow-native": "true"}'
    jq '.linux.namespaces += [{"type": "cgroup"}]' pr1/config.json >c.tmp
    mv c.tmp pr1/config.json
    # an fd kiln-oci inherits must not reach the program
    create pr1 7<"$W/pr1/config.json" || fail "create: $(tail -1 "$LOG")"
    oci start pr1
    r=$(reaped "$(cat pr1.pid)")
    [ "$r" = "exit 0" ] || fail "probe: $r $(cat pr1.err)"
    expect() {
        grep -qx "$2" "$1" || fail "$1: expected '$2': $(cat "$1")"
    }
    expect pr1.out "hostname: kiln-pr1"
    expect pr1.out "pid: 1"
    expect pr1.out "uid: 0"
    expect pr1.out "cwd: /"
    expect pr1.out "nnp: 1"
    expect pr1.out "extra fds: 0"
    expect pr1.out "timer_list bytes: 0"
    expect pr1.out "sys/firmware entries: 0"
    expect pr1.out "write /proc/sys: Read-only file system"
    expect pr1.out "write /: Read-only file system"
    expect pr1.out "write /tmp: ok"
    expect pr1.out "dev/null: ok"
    expect pr1.out "trust store: ok"
    expect pr1.out "write trust store: Read-only file system"
    # a new cgroup namespace rooted at the container's own cgroup
    expect pr1.out "cgroup memory: /"
    expect pr1.out "cgroup pids: /"
    oci delete pr1
    # namespaces joined by path, as a pod's containers join its sandbox's
    hold_stdin
    bundle pa hello.unit '["hello", "wait"]'
    create pa "$HOLDFIFO" || fail "create pa: $(tail -1 "$LOG")"
    oci start pa
    apid=$(cat pa.pid)
    bundle pb "$NATIVE" '["hello", "probe"]' '{"dev.kiln.allow-native": "true"}'
    jq --arg p "/proc/$apid/ns" '.linux.namespaces = [{"type": "mount"},
        {"type": "pid", "path": ($p + "/pid")}, {"type": "network", "path": ($p + "/net")},
        {"type": "ipc", "path": ($p + "/ipc")}, {"type": "uts", "path": ($p + "/uts")}]' \
        pb/config.json >c.tmp
    mv c.tmp pb/config.json
    create pb || fail "create pb: $(tail -1 "$LOG")"
    bpid=$(cat pb.pid)
    for ns in pid_for_children net ipc uts; do
        [ "$(readlink /proc/"$bpid"/ns/$ns)" = "$(readlink /proc/"$apid"/ns/${ns%_for_children})" ] ||
            fail "pb did not join pa's $ns namespace"
    done
    oci start pb
    r=$(reaped "$bpid")
    [ "$r" = "exit 0" ] || fail "pb: $r $(cat pb.err)"
    expect pb.out "hostname: kiln-pa"
    grep -qx "pid: 1" pb.out && fail "pb is pid 1 in pa's pid namespace"
    oci delete pb
    oci delete --force pa
    # the host's network namespace (sysfs then comes from the host, read-only):
    # Landlock scoping keeps the host's abstract unix sockets out of reach
    abi=$("$OCI" features | jq -r '.annotations["dev.kiln.oci.landlock-abi"]')
    name=kiln-oci-probe-$$
    python3 -c "import socket,time; s=socket.socket(socket.AF_UNIX); s.bind('\0$name'); s.listen(); time.sleep(60)" \
        >/dev/null 2>&1 &
    LISTENER=$!
    i=0
    until "$NATIVE" connect "$name" | grep -qx "abstract connect: ok"; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "the host's abstract socket listener does not answer"
        sleep 0.1
    done
    bundle pr2 "$NATIVE" "[\"hello\", \"connect\", \"$name\"]" '{"dev.kiln.allow-native": "true"}'
    jq '.linux.namespaces |= map(select(.type != "network"))' pr2/config.json >c.tmp
    mv c.tmp pr2/config.json
    r=$(run pr2)
    kill $LISTENER 2>/dev/null || true
    [ "$r" = "exit 0" ] || fail "probe without a netns: $r $(cat pr2.err) $(tail -1 "$LOG")"
    if [ "$abi" -ge 6 ]; then
        expect pr2.out "abstract connect: Operation not permitted"
    else
        echo "note: Landlock ABI $abi < 6: no scoping to check"
    fi
    oci delete pr2
    ;;
hooks)
    {
        echo '#!/bin/sh'
        echo 's=$(cat)'
        echo "echo \"\$1 \$(echo \"\$s\" | jq -r '.status + \" \" + (.pid | tostring) + \" \" + .id')\" >>$W/hooks.txt"
        echo '[ "$1" != fail ] || exit 3'
    } >hook.sh
    chmod 755 hook.sh
    h() { printf '{"path": "%s/hook.sh", "args": ["hook.sh", "%s"]}' "$W" "$1"; }
    bundle h1 hello.unit '["hello"]'
    jq ".hooks = {\"prestart\": [$(h prestart)], \"createRuntime\": [$(h createRuntime)],
                  \"poststart\": [$(h poststart)], \"poststop\": [$(h poststop)]}" \
        h1/config.json >c.tmp
    mv c.tmp h1/config.json
    create h1 || fail "create: $(tail -1 "$LOG")"
    pid=$(cat h1.pid)
    oci start h1
    reaped "$pid" >/dev/null
    oci delete h1
    printf 'prestart created %s h1\ncreateRuntime creating %s h1\npoststart running %s h1\npoststop stopped %s h1\n' \
        "$pid" "$pid" "$pid" "$pid" >want.txt
    cmp -s want.txt hooks.txt || fail "hooks: $(cat hooks.txt)"
    # a failing createRuntime hook fails create
    bundle h2 hello.unit '["hello"]'
    jq ".hooks = {\"createRuntime\": [$(h fail)]}" h2/config.json >c.tmp
    mv c.tmp h2/config.json
    ! create h2 || fail "create with a failing hook succeeded"
    tail -1 "$LOG" | jq -r .msg | grep -q "createRuntime hook: $W/hook.sh: exit status 3" ||
        fail "$(tail -1 "$LOG")"
    [ ! -e "$ROOT/h2" ] || fail "state left"
    # hooks inside the container's namespaces are refused, not skipped
    bundle h3 hello.unit '["hello"]'
    jq ".hooks = {\"createContainer\": [$(h cc)]}" h3/config.json >c.tmp
    mv c.tmp h3/config.json
    ! create h3 || fail "createContainer accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q "hooks.createContainer: not supported" || fail "$(tail -1 "$LOG")"
    ;;
seccomp)
    # the config's filter is installed (stacked under the stub's own)
    allow='{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["reboot", "kexec_load", "no_such_call"], "action": "SCMP_ACT_ERRNO"}]}'
    bundle s1 hello.unit '["hello", "3"]'
    jq ".linux.seccomp = $allow | .process.noNewPrivileges = false" s1/config.json >c.tmp
    mv c.tmp s1/config.json
    create s1 || fail "create: $(tail -1 "$LOG")"
    pid=$(cat s1.pid)
    # without no_new_privs it is loaded before privileges drop, so already now
    grep -q "^Seccomp:[[:space:]]*2" /proc/"$pid"/status || fail "no filter: $(grep Seccomp /proc/"$pid"/status)"
    oci start s1
    r=$(reaped "$pid")
    [ "$r" = "exit 3" ] || fail "guest under the config's filter: $r $(cat s1.err)"
    grep -qx "hello from kiln-oci" s1.out || fail "output: $(cat s1.out)"
    oci delete s1
    # a filter that denies exec stops the container before the program runs
    deny='{"defaultAction": "SCMP_ACT_ALLOW",
           "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
    bundle s2 hello.unit '["hello"]'
    jq ".linux.seccomp = $deny" s2/config.json >c.tmp
    mv c.tmp s2/config.json
    r=$(run s2)
    [ "$r" = "exit 127" ] || fail "exec under a denying filter: $r"
    grep -q "Operation not permitted" s2.err || fail "message: $(cat s2.err)"
    [ ! -s s2.out ] || fail "the program ran: $(cat s2.out)"
    oci delete s2
    # an unknown action is a create error naming the field
    bundle s3 hello.unit '["hello"]'
    jq '.linux.seccomp = {"defaultAction": "SCMP_ACT_FROB"}' s3/config.json >c.tmp
    mv c.tmp s3/config.json
    ! create s3 || fail "bad seccomp accepted"
    tail -1 "$LOG" | jq -r .msg | grep -q "linux.seccomp.defaultAction" || fail "$(tail -1 "$LOG")"
    ;;
*)
    fail "unknown mode"
    ;;
esac
echo "PASS ($MODE)"
