#!/bin/sh
# run_kilnd_test.sh TEST KILN KILND PROBE WASIBIN SRCDIR — kilnd end to end.
# Each test starts its own kilnd (private socket, config and state
# directories) and stops it at the end.
#   wasi         the WASI guest programs give identical stdout, stderr and exit
#                status embedded and through kilnd; t_policy too, with the
#                policy applied by kilnd and its denials in kilnd's audit log
#   isolation    two containers with different roots cannot see each other's
#                files (absolute paths, ".." from a preopen)
#   peercred     SO_PEERCRED: wrong uid or pid refused, the right uid served; with
#                --pidns-of only peers in that pid namespace attach
#   crash        a client killed mid-request and clients sending garbage or
#                oversized packets are dropped; kilnd serves the next one
#   failclosed   kilnd killed under a running unit: later authority calls fail
#                with EIO and the unit's lost() callback runs once
#   sock         t_sock serves TCP clients on a listener kilnd created and
#                audited (bind, accept); a listen the policy denies is refused
#   sqlite3      the real sqlite3 (built by the wasi.real.sqlite3 test; skipped,
#                exit 77, when absent): same output and same database file
#                embedded and through kilnd
#   attest       the run attestation verifies with the node key; a tampered
#                one, a re-signed-by-another-key one and a wrong key are refused
# Guest processes (t_proc.wasm, kiln_proc imports; docs/guest-proc.md):
#   spawn        spawn + wait with an exit code; pids per container; the
#                attestation records both processes and the child's exit code
#   pipe         producer | consumer through a pipe the guest made
#   kill         a guest kills a sibling (SIGTERM, SIGKILL); wait reports it
#   crosskill    a pid of another container (or a host pid) does not exist:
#                ESRCH, audited in the killer's log; the target lives on
#   refused      spawn refused by the exec list, of an unsigned module when
#                signed units are required, of a tampered unit; a signed unit
#                runs; no exec in the policy: no kiln_proc module
#   netns        units in their own network namespace: the worker joins it
#   policy       whose policy (docs/guest-proc.md): a spawned unit runs under
#                intersect(spawner's policy, its own signed policy) — a path its
#                own policy denies is refused although the container allows it,
#                and a unit whose own policy allows more than the container gets
#                only the container's grants (files, writes, its exec list);
#                the same for a unit attaching by itself (kiln-oci's exec);
#                audited (spawn event, rule names, run attestation)
#   stub         the same through the real loader stub (kilnd-stub-test, with a
#                kilnd directory and trust store of this build), started as
#                `kiln-oci exec` starts a unit: it attaches to kilnd with its
#                own signed policy and runs under the intersection; a unit whose
#                effective policy grants nothing at "/" (only /etc, or only /w
#                of a narrower container) gets exactly the granted directories
#                as preopens, and is denied (audited) everywhere else
#   dirs         kiln exec --kilnd --dir P asks with "beneath": P granted itself is its
#                preopen; P granted only beneath gets the highest granted directories
#                there (named on stderr) and nothing else (ENOTCAPABLE, `..` out of
#                them EPERM, audited); P with nothing granted at or beneath it is
#                refused (exit 126, naming P, the container and its policy's digest)
#   workers      per-container workers are confined (seccomp, no_new_privs,
#                capabilities); a killed worker fails its container's units
#                closed while another container works; kilnd killed: units
#                fail closed, workers go with it, a restarted kilnd serves
set -u
t=$1 kiln=$2 kilnd=$3 probe=$4 wbin=$5 src=$6 tproc=${7:-} stub=${8:-} kt=${9:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kilnd-XXXXXX")
chmod 755 "$tmp"
kpid=
cleanup() { [ -n "$kpid" ] && kill "$kpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/kilnd.log" ] && sed 's/^/  log: /' "$tmp/kilnd.log"; exit 1; }
mkdir -p "$tmp/cfg" "$tmp/state"
"$kiln" keygen -o "$tmp/node" >/dev/null || fail keygen
sock=$tmp/kilnd.sock

start_kilnd() {
    "$kilnd" serve --socket "$sock" --config "$tmp/cfg" --state "$tmp/state" \
        --key "$tmp/node.pem" ${TRUST:+--trust "$TRUST"} 2>>"$tmp/kilnd.log" &
    kpid=$!
    i=0
    until [ -S "$sock" ]; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "kilnd did not start"; sleep 0.02
    done
}
stop_kilnd() { kill "$kpid"; wait "$kpid"; kpid=; }
alive() { kill -0 "$kpid" 2>/dev/null || fail "kilnd died"; }

case $t in
wasi)
    start_kilnd
    for name in t_files t_stdio t_time t_wasi_raw; do
        rm -rf "$tmp/e" "$tmp/root"; mkdir -p "$tmp/e" "$tmp/root/w"
        "$kilnd" register --config "$tmp/cfg" --id "$name" --root "$tmp/root" --uid "$(id -u)" \
            || fail register
        input=/dev/null
        [ -f "$src/$name.stdin" ] && input="$src/$name.stdin"
        "$kiln" exec --dir "$tmp/e::/w" --env K1=v1 --env "K2=two words" \
            "$wbin/$name.wasm" /w a "b c" <"$input" >"$tmp/emb.out" 2>"$tmp/emb.err"
        echo "exit $?" >>"$tmp/emb.out"
        "$kiln" exec --kilnd "$sock" --container "$name" --dir /w --env K1=v1 \
            --env "K2=two words" "$wbin/$name.wasm" /w a "b c" <"$input" \
            >"$tmp/dmn.out" 2>"$tmp/dmn.err"
        echo "exit $?" >>"$tmp/dmn.out"
        diff -u "$tmp/emb.out" "$tmp/dmn.out" || fail "$name: stdout/exit differ (embedded -, kilnd +)"
        diff -u "$tmp/emb.err" "$tmp/dmn.err" || fail "$name: stderr differs"
        grep -q '"event":"open"' "$tmp/state/$name/audit.jsonl" \
            || fail "$name: no open audited by kilnd"
        echo "ok: $name ($(grep -c . "$tmp/dmn.out") lines, same both ways)"
    done
    # t_policy: the policy applied by kilnd (container config), same output
    for where in e root/w; do
        rm -rf "$tmp/$where"; mkdir -p "$tmp/$where/rw" "$tmp/$where/secret"
        echo readme >"$tmp/$where/readme"; echo key >"$tmp/$where/secret/key"
        ln -s ../secret/key "$tmp/$where/rw/link"
    done
    "$kilnd" register --config "$tmp/cfg" --id pol --root "$tmp/root" --uid "$(id -u)" \
        --policy "$src/../../guest/wasi-tests/t_policy.json" || fail register
    "$kiln" exec --dir "$tmp/e::/w" --policy "$src/../../guest/wasi-tests/t_policy.json" \
        "$wbin/t_policy.wasm" /w >"$tmp/emb.out" 2>"$tmp/emb.err"
    echo "exit $?" >>"$tmp/emb.out"
    "$kiln" exec --kilnd "$sock" --container pol --dir /w "$wbin/t_policy.wasm" /w \
        >"$tmp/dmn.out" 2>"$tmp/dmn.err"
    echo "exit $?" >>"$tmp/dmn.out"
    cmp -s "$tmp/emb.out" "$tmp/dmn.out" || { diff -u "$tmp/emb.out" "$tmp/dmn.out" | head -30; fail "t_policy differs"; }
    [ -f "$tmp/root/w/rw/new.txt" ] || fail "t_policy: rw create did not happen"
    [ ! -e "$tmp/root/w/new.txt" ] || fail "t_policy: ro create happened"
    a=$tmp/state/pol/audit.jsonl
    grep -q '"errno":"EROFS","rule":"$.filesystem\[0\]"' "$a" || fail "no EROFS denial in kilnd's log"
    grep -q '"path":"/w/secret/key","errno":"EACCES"' "$a" || fail "no EACCES denial in kilnd's log"
    grep -q '"rule":"builtin:beneath"' "$a" || fail "no escape denial in kilnd's log"
    echo "ok: t_policy (policy enforced by kilnd, same output)"
    # a policy that denies openat (a program that opens no files): its preopen is a mount, granted
    # by kilnd as the embedded vkernel mounts it; the guest's own opens are still denied
    cat >"$tmp/noopen.json" <<'P'
{ "kilnPolicy": 1,
  "seccomp": { "defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [ { "names": ["openat"], "action": "SCMP_ACT_ERRNO" } ] },
  "filesystem": [ { "path": "/w", "mode": "ro" } ] }
P
    "$kilnd" register --config "$tmp/cfg" --id noopen --root "$tmp/root" --uid "$(id -u)" \
        --policy "$tmp/noopen.json" || fail register
    "$kiln" exec --dir "$tmp/e::/w" --policy "$tmp/noopen.json" "$wbin/t_stdio.wasm" \
        </dev/null >"$tmp/emb.out" 2>"$tmp/emb.err"
    echo "exit $?" >>"$tmp/emb.out"
    "$kiln" exec --kilnd "$sock" --container noopen --dir /w "$wbin/t_stdio.wasm" \
        </dev/null >"$tmp/dmn.out" 2>"$tmp/dmn.err"
    echo "exit $?" >>"$tmp/dmn.out"
    grep -q "denied" "$tmp/dmn.err" && fail "noopen: $(cat "$tmp/dmn.err")"
    cmp -s "$tmp/emb.out" "$tmp/dmn.out" \
        || { diff -u "$tmp/emb.out" "$tmp/dmn.out" | head; cat "$tmp/dmn.err"; fail "noopen differs"; }
    "$kiln" exec --dir "$tmp/e::/w" --policy "$tmp/noopen.json" "$wbin/t_files.wasm" /w \
        >"$tmp/emb.out" 2>&1
    "$kiln" exec --kilnd "$sock" --container noopen --dir /w "$wbin/t_files.wasm" /w \
        >"$tmp/dmn.out" 2>&1
    grep -q "^open a.txt: EPERM" "$tmp/dmn.out" || fail "noopen: t_files opened a file: $(head -3 "$tmp/dmn.out")"
    cmp -s "$tmp/emb.out" "$tmp/dmn.out" \
        || { diff -u "$tmp/emb.out" "$tmp/dmn.out" | head; fail "noopen: t_files differs"; }
    grep -q '"sys":"openat"\|"syscall":"openat"\|openat' "$tmp/state/noopen/audit.jsonl" \
        || fail "noopen: the denied openat is not in kilnd's log"
    echo "ok: a policy denying openat gets its preopen through kilnd too; its opens are denied"
    alive
    ;;
isolation)
    mkdir -p "$tmp/a/data" "$tmp/b/data"
    echo A >"$tmp/a/data/a-only"; echo B >"$tmp/b/data/b-only"
    "$kilnd" register --config "$tmp/cfg" --id ca --root "$tmp/a" --uid "$(id -u)" || fail register
    "$kilnd" register --config "$tmp/cfg" --id cb --root "$tmp/b" --uid "$(id -u)" || fail register
    start_kilnd
    expect() { out=$("$probe" "$@"); echo "$out"; echo "$out" | grep -q "$EXP" || fail "expected $EXP: $*"; }
    EXP=": ok" expect "$sock" ca open /data/a-only
    EXP=": ok" expect "$sock" cb open /data/b-only
    EXP=": ENOENT" expect "$sock" ca open /data/b-only
    EXP=": ENOENT" expect "$sock" cb open /data/a-only
    EXP=": EPERM" expect "$sock" ca openrel /data ../../b/data/b-only
    EXP=": EPERM" expect "$sock" ca openrel /data "../$(basename "$tmp")/b/data/b-only"
    EXP=": ENOENT" expect "$sock" ca open "/../b/data/b-only"
    ln -s "$tmp/b/data/b-only" "$tmp/a/data/abs-link"
    EXP=": EPERM\|: ENOENT" expect "$sock" ca open /data/abs-link
    # the unit process itself holds no authority once confined
    out=$("$probe" "$sock" ca confined /data/a-only "$tmp/a/data/a-only"); echo "$out"
    echo "$out" | grep -q "host open .*: EACCES" || fail "confined unit opened a host file"
    echo "$out" | grep -q "host socket: EPERM" || fail "sealed unit created a socket itself"
    echo "$out" | grep -q "kilnd socket: ok" || fail "kilnd socket under the seal"
    echo "$out" | grep -q "open /data/a-only: ok" || fail "kilnd path broken under confinement"
    grep -q '"event":"deny"' "$tmp/state/ca/audit.jsonl" || fail "escape not audited in ca's log"
    ! grep -q 'b-only' "$tmp/state/cb/audit.jsonl" || true
    grep -q 'abs-link\|\.\./' "$tmp/state/cb/audit.jsonl" && fail "ca's events in cb's log"
    alive
    ;;
peercred)
    mkdir -p "$tmp/r/d"
    "$kilnd" register --config "$tmp/cfg" --id u4242 --root "$tmp/r" --uid 4242 || fail register
    "$kilnd" register --config "$tmp/cfg" --id fixedpid --root "$tmp/r" --uid "$(id -u)" --pid 1 \
        || fail register
    start_kilnd
    out=$("$probe" "$sock" u4242 open /d); echo "$out"
    echo "$out" | grep -q "attach refused: .*peer credentials (uid $(id -u)," || fail "uid mismatch accepted"
    out=$("$probe" "$sock" fixedpid open /d); echo "$out"
    echo "$out" | grep -q "attach refused: .*not allowed" || fail "pid mismatch accepted"
    if [ "$(id -u)" -eq 0 ]; then
        out=$("$probe" --as 4242 "$sock" u4242 open /d); echo "$out"
        echo "$out" | grep -q "open /d: ok" || fail "the right uid was refused"
    fi
    grep -q "refused pid .* uid $(id -u): container u4242: peer credentials" "$tmp/kilnd.log" \
        || fail "refusal not logged"
    # re-registration takes effect at the container's next run
    "$kilnd" register --config "$tmp/cfg" --id u4242 --root "$tmp/r" --uid "$(id -u)" || fail register
    out=$("$probe" "$sock" u4242 open /d); echo "$out"
    echo "$out" | grep -q "open /d: ok" || fail "re-registration not applied"
    # --pidns-of (kiln-oci registers the container's init): only processes in that pid
    # namespace may attach; same uid elsewhere (the host, another container) is refused
    if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v nsenter >/dev/null; then
        unshare -p -f sleep 60 &
        upid=$!
        i=0
        until nspid=$(pgrep -P "$upid" sleep); do
            i=$((i + 1)); [ $i -gt 200 ] && fail "no process in a new pid namespace"; sleep 0.02
        done
        "$kilnd" register --config "$tmp/cfg" --id inns --root "$tmp/r" --uid 0 \
            --pidns-of "$nspid" || fail register
        out=$("$probe" "$sock" inns open /d); echo "$out"
        echo "$out" | grep -q "attach refused: .*not in the container's pid namespace" \
            || fail "a peer outside the container's pid namespace attached"
        out=$(nsenter -t "$nspid" -p "$probe" "$sock" inns open /d); echo "$out"
        echo "$out" | grep -q "open /d: ok" || fail "a peer in the container's pid namespace was refused"
        # the namespace's init ignores SIGTERM from outside (no handler): SIGKILL, or its
        # sleep 60 keeps the test's output open for a minute
        kill -KILL "$nspid" 2>/dev/null; kill "$upid" 2>/dev/null; wait "$upid" 2>/dev/null
    fi
    alive
    ;;
crash)
    mkdir -p "$tmp/r/d"
    "$kilnd" register --config "$tmp/cfg" --id c --root "$tmp/r" --uid "$(id -u)" || fail register
    start_kilnd
    for k in 1 2 3; do "$probe" "$sock" c crash; done
    alive
    out=$("$probe" "$sock" c garbage); echo "$out"
    echo "$out" | grep -q "disconnected" || fail "garbage not disconnected"
    out=$("$probe" "$sock" c oversized); echo "$out"
    echo "$out" | grep -q "disconnected" || fail "oversized packet not disconnected"
    alive
    # the same after HELLO: the container's worker drops and logs them
    n0=$(grep -c "not a kilnd protocol 1 packet" "$tmp/kilnd.log")
    n1=$(grep -c "oversized packet" "$tmp/kilnd.log")
    for m in garbage-after oversized-after; do
        out=$("$probe" "$sock" c $m); echo "$out"
        echo "$out" | grep -q "disconnected" || fail "$m not disconnected"
    done
    [ "$(grep -c "not a kilnd protocol 1 packet" "$tmp/kilnd.log")" -gt "$n0" ] || fail "worker: garbage not logged"
    [ "$(grep -c "oversized packet" "$tmp/kilnd.log")" -gt "$n1" ] || fail "worker: oversized not logged"
    alive
    out=$("$probe" "$sock" c open /d); echo "$out"
    echo "$out" | grep -q "open /d: ok" || fail "kilnd did not serve the next client"
    # 1000 random well-framed packets (ops, arguments, paths, stray fds) under
    # a policy allowing nothing on the network: kilnd survives and nothing
    # appears outside the container root
    printf '{"kilnPolicy":1,"filesystem":[{"path":"/","mode":"rw"}]}' >"$tmp/p.json"
    "$kilnd" register --config "$tmp/cfg" --id rnd --root "$tmp/r" --uid "$(id -u)" \
        --policy "$tmp/p.json" || fail register
    before=$(ls -A "$tmp")
    out=$("$probe" "$sock" rnd random 1000 7); echo "$out"
    echo "$out" | grep -q "random: 1000 packets" || fail "random probe"
    alive
    [ "$before" = "$(ls -A "$tmp")" ] || fail "random packets changed things outside the root"
    mkfifo "$tmp/r/d/fifo"
    out=$("$probe" "$sock" c open /d/fifo); echo "$out"
    echo "$out" | grep -q "open /d/fifo: ok" || fail "FIFO open"
    alive
    grep -q "not a kilnd protocol 1 packet" "$tmp/kilnd.log" || fail "garbage not logged"
    grep -q "oversized packet" "$tmp/kilnd.log" || fail "oversized not logged"
    grep -q "lost its connection without exit" "$tmp/kilnd.log" || fail "crash not recorded"
    ;;
failclosed)
    mkdir -p "$tmp/r/d"
    "$kilnd" register --config "$tmp/cfg" --id c --root "$tmp/r" --uid "$(id -u)" || fail register
    start_kilnd
    mkfifo "$tmp/fifo"
    "$probe" "$sock" c failclosed /d <"$tmp/fifo" >"$tmp/p.out" 2>&1 &
    ppid=$!
    exec 3>"$tmp/fifo"
    i=0
    until grep -q attached "$tmp/p.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "probe did not attach"; sleep 0.02
    done
    kill -9 "$kpid"; wait "$kpid" 2>/dev/null; kpid=
    echo go >&3; exec 3>&-
    wait $ppid
    cat "$tmp/p.out"
    grep -q "open /d: EIO" "$tmp/p.out" || fail "open after kilnd died did not fail with EIO"
    grep -q "mkdir /d: EIO (lost callbacks: 1)" "$tmp/p.out" || fail "not failing closed"
    grep -q "lost: kilnd connection lost" "$tmp/p.out" || fail "no clear message"
    [ ! -e "$tmp/r/d/d" ] || fail "mkdir happened"
    # the guest runner: kiln exec exits with a message (a guest that opens files)
    rm -f "$sock"; start_kilnd
    mkdir -p "$tmp/r/w"
    "$kilnd" register --config "$tmp/cfg" --id g --root "$tmp/r" --uid "$(id -u)" || fail register
    "$kiln" exec --kilnd "$sock" --container g --dir /w "$wbin/t_files.wasm" /w a "b c" \
        >/dev/null 2>&1 || fail "t_files through kilnd"
    # a guest that makes no call to kilnd (it sleeps): kiln exec watches the connection and
    # exits 125 when kilnd goes away, instead of running on unsupervised
    if [ -f "$tproc" ]; then
        "$kiln" exec --kilnd "$sock" --container g --dir /w "$tproc" sleep >"$tmp/sl.out" \
            2>"$tmp/sl.err" &
        slp=$!
        i=0; until grep -q "sleeper pid" "$tmp/sl.out"; do
            i=$((i + 1)); [ $i -gt 300 ] && fail "sleeper did not start"; sleep 0.02; done
        kill -9 "$kpid"; wait "$kpid" 2>/dev/null; kpid=
        wait "$slp"; rc=$?
        cat "$tmp/sl.err"
        [ $rc -eq 125 ] || fail "sleeping guest: kiln exec exit $rc after kilnd died"
        grep -q "kiln exec: kilnd connection lost (hangup): failing closed" "$tmp/sl.err" \
            || fail "sleeping guest: no clear message"
    fi
    ;;
sock)
    mkdir -p "$tmp/r"
    "$kilnd" register --config "$tmp/cfg" --id net --root "$tmp/r" --uid "$(id -u)" || fail register
    printf '{"kilnPolicy":1,"network":[{"direction":"listen","proto":"tcp","port":1}]}' >"$tmp/p.json"
    "$kilnd" register --config "$tmp/cfg" --id nonet --root "$tmp/r" --uid "$(id -u)" \
        --policy "$tmp/p.json" || fail register
    start_kilnd
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$kiln" exec --kilnd "$sock" --container nonet --listen "tcp:127.0.0.1:$port" \
        "$wbin/t_sock.wasm" 2 >/dev/null 2>"$tmp/err"
    [ $? -ne 0 ] || fail "denied listen accepted"
    grep -q "denied" "$tmp/err" || fail "denied listen: $(cat "$tmp/err")"
    "$kiln" exec --kilnd "$sock" --container net --listen "tcp:127.0.0.1:$port" \
        "$wbin/t_sock.wasm" 2 >"$tmp/out" 2>"$tmp/err" &
    spid=$!
    answer=$(python3 - "$port" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
out = []
for msg in (b"hello kiln\n", b"again\n"):
    for _ in range(200):
        try:
            s = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.05)
    s.sendall(msg)
    data = b""
    while True:
        d = s.recv(100)
        if not d:
            break
        data += d
    out.append(data.decode())
    s.close()
print("".join(out), end="")
PY
)
    wait "$spid"; rc=$?
    [ "$answer" = "$(printf 'HELLO KILN\nAGAIN')" ] || fail "answer '$answer' $(cat "$tmp/err")"
    [ $rc -eq 0 ] || fail "t_sock exit $rc: $(cat "$tmp/err")"
    grep -q "served 11 bytes" "$tmp/out" || fail "t_sock output"
    a=$tmp/state/net/audit.jsonl
    [ "$(grep -c '"event":"accept"' "$a")" = 2 ] || fail "accept events in kilnd's log"
    grep -q '"event":"bind"' "$a" || fail "bind event in kilnd's log"
    echo "ok: t_sock through kilnd (2 connections accepted by kilnd)"
    alive
    # kiln exec fails closed: kilnd dies while the guest waits in accept; the
    # next connection makes the guest's accept fail, kiln exec says why and exits 125
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$kiln" exec --kilnd "$sock" --container net --listen "tcp:127.0.0.1:$port" \
        "$wbin/t_sock.wasm" 2 >"$tmp/out" 2>"$tmp/err" &
    spid=$!
    i=0
    until grep -q "pid $spid attached" "$tmp/kilnd.log"; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "t_sock did not attach"; sleep 0.02
    done
    kill -9 "$kpid"; wait "$kpid" 2>/dev/null; kpid=
    python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.close()' "$port"
    wait "$spid"; rc=$?
    cat "$tmp/err"
    [ $rc -eq 125 ] || fail "kiln exec exit $rc after kilnd died"
    grep -q "kiln exec: kilnd connection lost (.*): failing closed" "$tmp/err" || fail "no clear message"
    ;;
sqlite3)
    # Debian's sqlite3 built for wasm32-wasi by guest/debian (realprogs.sqlite3)
    r=${KILN_CACHE:-${HOME:-/root}/.cache/kiln/debsrc}/out/sqlite3
    [ -f "$r/sqlite3.wasm" ] || { echo "skip: no $r/sqlite3.wasm (run realprogs.sqlite3)"; exit 77; }
    cat >"$tmp/q.sql" <<'SQL'
create table t(a integer primary key, b text, c real);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 500)
  insert into t(b, c) select printf('row %d', x), x * 0.5 from n;
create index tb on t(b);
begin; update t set c = c * 2 where a % 7 = 0; rollback;
delete from t where a % 10 = 0;
select count(*), sum(a), total(c) from t;
select b from t where b like 'row 4__' order by a desc limit 3;
pragma integrity_check;
SQL
    r2=$tmp/q.sql
    mkdir -p "$tmp/e" "$tmp/root/w"
    "$kilnd" register --config "$tmp/cfg" --id sq --root "$tmp/root" --uid "$(id -u)" || fail register
    start_kilnd
    "$kiln" exec --dir "$tmp/e::/w" "$r/sqlite3.wasm" /w/test.db <"$r2" >"$tmp/emb.out" 2>&1
    echo "exit $?" >>"$tmp/emb.out"
    "$kiln" exec --kilnd "$sock" --container sq --dir /w "$r/sqlite3.wasm" /w/test.db \
        <"$r2" >"$tmp/dmn.out" 2>&1
    echo "exit $?" >>"$tmp/dmn.out"
    diff -u "$tmp/emb.out" "$tmp/dmn.out" || fail "sqlite3 output differs (embedded -, kilnd +)"
    cmp "$tmp/e/test.db" "$tmp/root/w/test.db" || fail "database files differ"
    echo "ok: sqlite3 ($(grep -c . "$tmp/dmn.out") lines, same database)"
    alive
    ;;
attest)
    mkdir -p "$tmp/r/w"
    "$kilnd" register --config "$tmp/cfg" --id app --root "$tmp/r" --uid "$(id -u)" \
        --policy "$src/../../guest/wasi-tests/t_policy.json" || fail register
    start_kilnd
    # two processes of one run: the first keeps the run open while the second runs
    mkfifo "$tmp/fifo"
    "$probe" "$sock" app failclosed /w <"$tmp/fifo" >"$tmp/p.out" 2>&1 &
    ppid=$!
    exec 3>"$tmp/fifo"
    i=0
    until grep -q attached "$tmp/p.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "probe did not attach"; sleep 0.02
    done
    mkdir -p "$tmp/r/w/rw" "$tmp/r/w/secret"
    "$kiln" exec --kilnd "$sock" --container app --dir /w "$wbin/t_stdio.wasm" /w \
        </dev/null >/dev/null 2>&1
    code=$?
    ls "$tmp/state/app/"run-*.json >/dev/null 2>&1 && fail "attestation before the last exit"
    echo go >&3; exec 3>&-
    wait $ppid
    i=0
    until ls "$tmp/state/app/"run-*.json >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "no run attestation"; sleep 0.02
    done
    run=$(ls "$tmp/state/app/"run-*.json)
    "$kiln" verify-run --key "$tmp/node.pub.pem" "$run" >"$tmp/v.out" || fail "valid attestation refused"
    cat "$tmp/v.out"
    digest=$(sha256sum "$wbin/t_stdio.wasm" | cut -d' ' -f1)
    grep -q "container app, 2 process(es)" "$tmp/v.out" || fail "summary"
    grep -q "sha256:$digest signer (unsigned) exit $code (exit)" "$tmp/v.out" || fail "unit digest/exit"
    pdig=$(sha256sum "$src/../../guest/wasi-tests/t_policy.json" | cut -d' ' -f1)
    grep -q "policy .*t_policy.json sha256:$pdig" "$tmp/v.out" || fail "policy digest"
    python3 - "$run" "$tmp" <<'PY' || fail "tampering script"
import base64, json, sys
run, tmp = sys.argv[1], sys.argv[2]
env = json.load(open(run))
st = json.loads(base64.b64decode(env["payload"]))
# 1: change an exit code, keep the signature
st["predicate"]["processes"][0]["exitCode"] = 99
t = dict(env); t["payload"] = base64.b64encode(json.dumps(st, separators=(",", ":"), sort_keys=True).encode()).decode()
json.dump(t, open(tmp + "/tampered.json", "w"), separators=(",", ":"), sort_keys=True)
# 2: flip one signature byte
sig = bytearray(base64.b64decode(env["signatures"][0]["sig"])); sig[5] ^= 1
t = json.loads(json.dumps(env)); t["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
json.dump(t, open(tmp + "/badsig.json", "w"), separators=(",", ":"), sort_keys=True)
PY
    for f in tampered badsig; do
        "$kiln" verify-run --key "$tmp/node.pub.pem" "$tmp/$f.json" 2>"$tmp/v.err"
        rc=$?; cat "$tmp/v.err"
        [ $rc -eq 1 ] || fail "$f attestation: exit $rc"
        grep -q "refused: no valid signature" "$tmp/v.err" || fail "$f: reason"
    done
    "$kiln" keygen -o "$tmp/other" >/dev/null
    "$kiln" verify-run --key "$tmp/other.pub.pem" "$run" 2>"$tmp/v.err"
    [ $? -eq 1 ] || fail "wrong key accepted"
    cat "$tmp/v.err"
    alive
    # a signed unit: kilnd verifies it against --trust and names the signer;
    # a tampered unit is refused at HELLO
    stop_kilnd
    mkdir -p "$tmp/trust"
    "$kiln" keygen -o "$tmp/signer" >/dev/null
    cp "$tmp/signer.pub.pem" "$tmp/trust/"
    "$kiln" sign --key "$tmp/signer.pem" --abi wasi_snapshot_preview1 "$wbin/t_stdio.wasm" \
        -o "$tmp/app.unit" >/dev/null || fail "kiln sign"
    cp "$tmp/app.unit" "$tmp/bad.unit"
    printf 'X' | dd of="$tmp/bad.unit" bs=1 seek=100 conv=notrunc 2>/dev/null
    "$kilnd" register --config "$tmp/cfg" --id signed --root "$tmp/r" --uid "$(id -u)" \
        --require-signed || fail register
    TRUST=$tmp/trust start_kilnd
    out=$("$probe" "$sock" signed unit "$tmp/bad.unit"); echo "$out"
    echo "$out" | grep -q "attach refused: .*unit does not verify" || fail "tampered unit accepted"
    out=$("$probe" "$sock" signed unit "$wbin/t_stdio.wasm"); echo "$out"
    echo "$out" | grep -q "attach refused: .*requires a signed unit" || fail "unsigned module accepted"
    out=$("$probe" "$sock" signed unit "$tmp/app.unit"); echo "$out"
    echo "$out" | grep -q "unit accepted" || fail "signed unit refused"
    i=0
    until ls "$tmp/state/signed/"run-*.json >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "no run attestation for the signed unit"; sleep 0.02
    done
    keyid=$(python3 -c 'import hashlib,base64,sys; d=base64.b64decode("".join(l for l in open(sys.argv[1]) if not l.startswith("-----"))); print(hashlib.sha256(d).hexdigest())' "$tmp/signer.pub.pem")
    "$kiln" verify-run --key "$tmp/node.pub.pem" "$tmp/state/signed/"run-*.json >"$tmp/v.out" \
        || fail "signed run refused"
    cat "$tmp/v.out"
    grep -q "sha256:$(sha256sum "$tmp/app.unit" | cut -d' ' -f1) signer $keyid exit 0" "$tmp/v.out" \
        || fail "signer not named"
    # kilnd stopped (SIGTERM) under a running unit: the run is closed and
    # attested with the process recorded as lost
    rm -f "$tmp/fifo"; mkfifo "$tmp/fifo"
    "$probe" "$sock" app failclosed /w <"$tmp/fifo" >"$tmp/p2.out" 2>&1 &
    ppid=$!
    exec 3>"$tmp/fifo"
    i=0
    until grep -q attached "$tmp/p2.out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "probe did not attach"; sleep 0.02
    done
    n0=$(ls "$tmp/state/app/"run-*.json | wc -l)
    stop_kilnd
    echo go >&3; exec 3>&-
    wait $ppid
    grep -q "open /w: EIO" "$tmp/p2.out" || fail "unit did not fail closed after kilnd stopped"
    [ "$(ls "$tmp/state/app/"run-*.json | wc -l)" -eq $((n0 + 1)) ] || fail "no attestation at stop"
    last=$(ls -t "$tmp/state/app/"run-*.json | head -1)
    "$kiln" verify-run --key "$tmp/node.pub.pem" "$last" >"$tmp/v.out" || fail "stop attestation refused"
    cat "$tmp/v.out"
    grep -q "exit none.*(connection lost)" "$tmp/v.out" || fail "lost process not recorded"
    ls "$tmp/state/app/" | grep -q '\.tmp$' && fail "half-written attestation left"
    ;;
spawn | pipe | kill | crosskill)
    [ -f "$tproc" ] || { echo "skip: no t_proc.wasm"; exit 77; }
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"ro"},{"path":"/w","mode":"rw"}],
      "exec":["/bin/t_proc.wasm"]}' >"$tmp/p.json"
    for c in p q; do
        mkdir -p "$tmp/$c/bin" "$tmp/$c/w"
        cp "$tproc" "$tmp/$c/bin/t_proc.wasm"
        "$kilnd" register --config "$tmp/cfg" --id "$c" --root "$tmp/$c" --uid "$(id -u)" \
            --policy "$tmp/p.json" || fail register
    done
    start_kilnd
    run() { c=$1; shift; "$kiln" exec --kilnd "$sock" --container "$c" --dir /w "$tproc" "$@"; }
    expect() { echo "$out" | grep -q "$1" || fail "expected '$1' in: $out"; }
    case $t in
    spawn)
        out=$(run p spawnwait /bin/t_proc.wasm 7 2>&1); rc=$?; echo "$out"
        [ $rc -eq 0 ] || fail "t_proc exit $rc"
        expect "spawn: ok (parent pid 1, child pid 2)"
        expect "wait: ok"
        expect "child pid 2 exited with code 7"
        expect "argv0 /bin/t_proc.wasm"
        expect "wait again: ECHILD"
        out=$(run p wait 2>&1); echo "$out"
        expect "wait: ECHILD"
        grep -q '"event":"spawn","path":"/bin/t_proc.wasm"' "$tmp/state/p/audit.jsonl" \
            || fail "spawn not audited"
        i=0
        until [ "$(ls "$tmp/state/p/"run-*.json 2>/dev/null | wc -l)" -ge 2 ]; do
            i=$((i + 1)); [ $i -gt 200 ] && fail "no run attestations"; sleep 0.02
        done
        run1=$(ls "$tmp/state/p/"run-*.json | sort | head -1)
        "$kiln" verify-run --key "$tmp/node.pub.pem" "$run1" >"$tmp/v.out" || fail "attestation refused"
        cat "$tmp/v.out"
        grep -q "container p, 2 process(es)" "$tmp/v.out" || fail "not 2 processes"
        grep -q "exit 7 (exit)" "$tmp/v.out" || fail "child's exit code not attested"
        python3 - "$run1" <<'PY' || fail "process table in the attestation"
import base64, json, sys
st = json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))
ps = sorted((p["vpid"], p["ppid"], p["exitCode"]) for p in st["predicate"]["processes"])
assert all(p["pid"] > 1 for p in st["predicate"]["processes"]), "host pids"
assert ps == [(1, 0, 0), (2, 1, 7)], ps
PY
        ;;
    pipe)
        out=$(run p pipeline /bin/t_proc.wasm 5 2>&1); rc=$?; echo "$out"
        [ $rc -eq 0 ] || fail "t_proc exit $rc"
        expect "spawn producer: ok"
        expect "^LINE 4 FROM PID 2$"
        expect "consumer pid 3: 5 lines, 90 bytes"
        expect "producer pid 2 exited with code 0"
        expect "consumer pid 3 exited with code 0"
        [ "$(echo "$out" | grep -c '^LINE ')" -eq 5 ] || fail "lines lost in the pipe"
        ;;
    kill)
        out=$(run p killsibling /bin/t_proc.wasm 15 2>&1); rc=$?; echo "$out"
        [ $rc -eq 0 ] || fail "t_proc exit $rc"
        expect "from the sleeper: sleeper pid 2"
        expect "wait WNOHANG: ok, 0"
        expect "kill: ok"
        expect "sleeper pid 2 killed by signal 15"
        expect "kill again: ESRCH"
        out=$(run p killsibling /bin/t_proc.wasm 9 2>&1); echo "$out"
        expect "sleeper pid 2 killed by signal 9"
        # the run's attestation records the signals (SIGTERM: the unit's own
        # clean stop; SIGKILL: reaped by kilnd)
        i=0
        until [ "$(ls "$tmp/state/p/"run-*.json 2>/dev/null | wc -l)" -ge 2 ]; do
            i=$((i + 1)); [ $i -gt 200 ] && fail "no run attestations"; sleep 0.02
        done
        for f in "$tmp/state/p/"run-*.json; do
            "$kiln" verify-run --key "$tmp/node.pub.pem" "$f" >/dev/null || fail "$f refused"
        done
        python3 - "$tmp/state/p" <<'PY' || fail "signals in the attestations"
import base64, glob, json, sys
seen = set()
for f in glob.glob(sys.argv[1] + "/run-*.json"):
    st = json.loads(base64.b64decode(json.load(open(f))["payload"]))
    for p in st["predicate"]["processes"]:
        if p["vpid"] == 2:
            seen.add((p["signal"], p["exitCode"], p["reason"]))
assert (15, 143, "signal 15") in seen and (9, 137, "killed") in seen, seen
PY
        grep -q '"event":"signal","target":2,"signal":9' "$tmp/state/p/audit.jsonl" \
            || fail "signal not audited"
        # a parent blocked in wait still stops on SIGTERM (exit 143); its
        # orphaned child lives on and can be killed by another process
        # (as root with a v1 pids hierarchy, in a cgroup of its own: the
        # child kilnd starts joins the spawner's cgroups)
        cg=
        if [ "$(id -u)" -eq 0 ] && [ -w /sys/fs/cgroup/pids/cgroup.procs ] &&
            mkdir "/sys/fs/cgroup/pids/kilnd-test-$$" 2>/dev/null; then
            cg=/sys/fs/cgroup/pids/kilnd-test-$$
        fi
        (if [ -n "$cg" ]; then echo 0 >"$cg/cgroup.procs"; fi
         exec "$kiln" exec --kilnd "$sock" --container p --dir /w "$tproc" waitsleeper \
            /bin/t_proc.wasm) >"$tmp/ws.out" 2>&1 &
        ws=$!
        i=0; until grep -q "sleeper pid 2" "$tmp/ws.out"; do
            i=$((i + 1)); [ $i -gt 300 ] && fail "waitsleeper: $(cat "$tmp/ws.out")"; sleep 0.02; done
        if [ -n "$cg" ]; then
            hp=$(sed -n 's/.*container p: pid 2 started as host pid \([0-9]*\).*/\1/p' "$tmp/kilnd.log" | tail -1)
            grep -q "pids:/kilnd-test-$$\$" "/proc/$hp/cgroup" \
                || fail "spawned unit $hp not in the spawner's cgroup: $(grep pids /proc/$hp/cgroup)"
            echo "ok: spawned unit joined the spawner's pids cgroup"
        fi
        kill -TERM "$ws"; wait "$ws"; rc=$?
        cat "$tmp/ws.out"
        [ $rc -eq 143 ] || fail "waiting parent exit $rc after SIGTERM"
        out=$(run p kill 2 9 2>&1); echo "$out"
        expect "kill 2: ok"
        if [ -n "$cg" ]; then
            i=0; while [ -s "$cg/cgroup.procs" ]; do
                i=$((i + 1)); [ $i -gt 300 ] && fail "cgroup not emptied"; sleep 0.02; done
            rmdir "$cg"
        fi
        ;;
    crosskill)
        # q: two sleepers (pids 1 and 2 in q); p: only itself (pid 1 in p)
        run q sleep >"$tmp/q1.out" 2>&1 &
        q1=$!
        i=0; until grep -q "sleeper pid 1" "$tmp/q1.out"; do
            i=$((i + 1)); [ $i -gt 300 ] && fail "q sleeper 1"; sleep 0.02; done
        run q sleep >"$tmp/q2.out" 2>&1 &
        q2=$!
        i=0; until grep -q "sleeper pid 2" "$tmp/q2.out"; do
            i=$((i + 1)); [ $i -gt 300 ] && fail "q sleeper 2"; sleep 0.02; done
        out=$(run p kill 2 9 2>&1); echo "$out"
        expect "kill 2: ESRCH"
        out=$(run p kill "$q2" 9 2>&1); echo "$out"
        expect "kill $q2: ESRCH"
        out=$(run p kill 1 0 2>&1); echo "$out"
        expect "kill 1: ok"
        kill -0 "$q1" 2>/dev/null && kill -0 "$q2" 2>/dev/null || fail "q's processes were hit"
        grep -q '"event":"deny","call":"kill","path":"pid 2","errno":"ESRCH"' \
            "$tmp/state/p/audit.jsonl" || fail "cross-container kill not audited in p's log"
        grep -q '"call":"kill"' "$tmp/state/q/audit.jsonl" && fail "p's kill in q's log"
        # within q the same pid is a real process
        out=$(run q kill 2 15 2>&1); echo "$out"
        expect "kill 2: ok"
        wait "$q2"; rc=$?
        [ $rc -eq 143 ] || fail "q's sleeper 2 exit $rc"
        # q1 is the subshell of `run q sleep &`: signal the unit itself, as for q2 (a
        # SIGTERM to the subshell left the unit running after the test)
        out=$(run q kill 1 15 2>&1); echo "$out"
        expect "kill 1: ok"
        wait "$q1"; rc=$?
        [ $rc -eq 143 ] || fail "q's sleeper 1 exit $rc"
        ;;
    esac
    alive
    ;;
refused)
    [ -f "$tproc" ] || { echo "skip: no t_proc.wasm"; exit 77; }
    mkdir -p "$tmp/r/bin" "$tmp/r/w" "$tmp/trust"
    cp "$tproc" "$tmp/r/bin/t_proc.wasm"; cp "$tproc" "$tmp/r/bin/other.wasm"
    cp "$tproc" "$tmp/r/bin/bydigest.wasm"
    printf 'x' >>"$tmp/r/bin/other.wasm" # another digest
    echo "not wasm" >"$tmp/r/bin/text.wasm"
    "$kiln" keygen -o "$tmp/signer" >/dev/null
    cp "$tmp/signer.pub.pem" "$tmp/trust/"
    "$kiln" sign --key "$tmp/signer.pem" --abi wasi_snapshot_preview1 "$tproc" \
        -o "$tmp/r/bin/app.unit" >/dev/null || fail "kiln sign"
    cp "$tmp/r/bin/app.unit" "$tmp/r/bin/bad.unit"
    printf 'X' | dd of="$tmp/r/bin/bad.unit" bs=1 seek=100 conv=notrunc 2>/dev/null
    d=$(sha256sum "$tproc" | cut -d' ' -f1)
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"ro"},{"path":"/w","mode":"rw"}],
      "exec":["/bin/t_proc.wasm","/bin/text.wasm","/bin/app.unit","/bin/bad.unit","sha256:%s"]}' \
        "$d" >"$tmp/p.json"
    printf '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"ro"}]}' >"$tmp/noexec.json"
    "$kilnd" register --config "$tmp/cfg" --id open --root "$tmp/r" --uid "$(id -u)" \
        --policy "$tmp/p.json" || fail register
    "$kilnd" register --config "$tmp/cfg" --id signed --root "$tmp/r" --uid "$(id -u)" \
        --policy "$tmp/p.json" --require-signed || fail register
    "$kilnd" register --config "$tmp/cfg" --id noexec --root "$tmp/r" --uid "$(id -u)" \
        --policy "$tmp/noexec.json" || fail register
    "$kilnd" register --config "$tmp/cfg" --id one --root "$tmp/r" --uid "$(id -u)" \
        --policy "$tmp/p.json" --max-processes 1 || fail register
    TRUST=$tmp/trust start_kilnd
    run() { c=$1; shift; "$kiln" exec --kilnd "$sock" --container "$c" --dir /w "$tproc" "$@"; }
    expect() { echo "$out" | grep -q "$1" || fail "expected '$1' in: $out"; }
    out=$(run open spawn /bin/other.wasm 2>&1); echo "$out"
    expect "spawn /bin/other.wasm: EACCES"
    grep -q '"event":"deny","call":"execve","path":"/bin/other.wasm","errno":"EACCES","rule":"\$.exec"' \
        "$tmp/state/open/audit.jsonl" || fail "exec-list refusal not audited"
    out=$(run open spawn /bin/bydigest.wasm 2>&1); echo "$out"
    expect "spawn /bin/bydigest.wasm: ok"
    expect "child pid 2 exited with code 0"
    out=$(run open spawn /bin/text.wasm 2>&1); echo "$out"
    expect "spawn /bin/text.wasm: ENOEXEC"
    out=$(run open spawn /bin/missing.wasm 2>&1); echo "$out"
    expect "spawn /bin/missing.wasm: EACCES\|spawn /bin/missing.wasm: ENOENT"
    out=$(run open spawn /bin/bad.unit 2>&1); echo "$out"
    expect "spawn /bin/bad.unit: EACCES"
    grep -q "spawn of /bin/bad.unit refused: unit does not verify" "$tmp/kilnd.log" \
        || fail "tampered unit refusal not logged"
    # a signed unit runs (its verified wasm payload), in a container that requires signing
    out=$("$probe" "$sock" signed spawn "$tmp/r/bin/app.unit" /bin/app.unit exit 5 2>&1); echo "$out"
    expect "spawn /bin/app.unit: ok"
    expect "wait: pid 2 status 1280"
    out=$("$probe" "$sock" signed spawn "$tmp/r/bin/app.unit" /bin/t_proc.wasm exit 0 2>&1); echo "$out"
    expect "spawn /bin/t_proc.wasm: EACCES"
    grep -q "spawn of /bin/t_proc.wasm refused: container requires a signed unit" "$tmp/kilnd.log" \
        || fail "unsigned spawn refusal not logged"
    out=$("$probe" "$sock" signed spawn "$tmp/r/bin/app.unit" /bin/bad.unit exit 0 2>&1); echo "$out"
    expect "spawn /bin/bad.unit: EACCES"
    # maxProcesses 1: the caller is the one process, a spawn is EAGAIN
    out=$(run one spawn /bin/t_proc.wasm 2>&1); echo "$out"
    expect "spawn /bin/t_proc.wasm: EAGAIN"
    # no exec in the policy: the kiln_proc module is absent
    out=$(run noexec getpid 2>&1); rc=$?; echo "$out"
    [ $rc -ne 0 ] || fail "kiln_proc linked without exec"
    expect "kiln_proc module is not available"
    alive
    ;;
workers)
    mkdir -p "$tmp/a/d" "$tmp/b/d"
    for c in a b; do
        "$kilnd" register --config "$tmp/cfg" --id "$c" --root "$tmp/$c" --uid "$(id -u)" \
            || fail register
    done
    start_kilnd
    attach() { # container fifo out: a probe waiting for a line before its open
        rm -f "$2"; mkfifo "$2"
        "$probe" "$sock" "$1" failclosed /d <"$2" >"$3" 2>&1 &
    }
    waitfor() { i=0; until grep -q "$1" "$2" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 300 ] && fail "waiting for $1 in $2"; sleep 0.02; done; }
    attach a "$tmp/fa" "$tmp/pa.out"; pa=$!; exec 3>"$tmp/fa"
    attach b "$tmp/fb" "$tmp/pb.out"; pb=$!; exec 4>"$tmp/fb"
    waitfor attached "$tmp/pa.out"; waitfor attached "$tmp/pb.out"
    wa=$(sed -n 's/.*container a: worker \([0-9]*\) started.*/\1/p' "$tmp/kilnd.log")
    wb=$(sed -n 's/.*container b: worker \([0-9]*\) started.*/\1/p' "$tmp/kilnd.log")
    [ -n "$wa" ] && [ -n "$wb" ] && [ "$wa" != "$wb" ] || fail "one worker per container"
    for w in $wa $wb; do
        [ "$(awk '/^PPid:/{print $2}' /proc/$w/status)" = "$kpid" ] || fail "worker $w not kilnd's child"
        [ -n "${KILN_NO_SEAL:-}" ] && continue # sanitizer builds: workers unsealed
        grep -q "^Seccomp:[[:space:]]*2" /proc/$w/status || fail "worker $w: no seccomp filter"
        grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$w/status || fail "worker $w: no no_new_privs"
        if [ "$(id -u)" -eq 0 ]; then
            # bounding set: CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL NET_BIND_SERVICE
            grep -q "^CapBnd:[[:space:]]*000000000000043f" /proc/$w/status \
                || fail "worker $w capabilities: $(grep CapBnd /proc/$w/status)"
        fi
    done
    # a worker holds its own container's audit log and nothing of the other's
    for pair in "$wa a b" "$wb b a"; do
        set -- $pair
        fdl=$(ls -l /proc/$1/fd 2>/dev/null)
        echo "$fdl" | grep -q "state/$2/audit.jsonl" || fail "worker $1 without its audit log"
        echo "$fdl" | grep -q "state/$3/\|node.pem\|kilnd.sock" && fail "worker $1 holds: $fdl"
    done
    echo "ok: workers $wa (a) and $wb (b) confined"
    # a worker dies (say a bug in a's handling): a's unit fails closed, b works
    kill -9 "$wa"
    echo go >&3; exec 3>&-; wait $pa
    cat "$tmp/pa.out"
    grep -q "open /d: EIO" "$tmp/pa.out" || fail "a's unit did not fail closed"
    out=$("$probe" "$sock" b open /d); echo "$out"
    echo "$out" | grep -q "open /d: ok" || fail "b broken by a's worker"
    out=$("$probe" "$sock" a open /d); echo "$out"
    echo "$out" | grep -q "open /d: ok" || fail "a not served again by a new worker"
    alive
    # kilnd itself killed while b's worker serves: units fail closed, workers die
    kill -9 "$kpid"; wait "$kpid" 2>/dev/null; kpid=
    echo go >&4; exec 4>&-; wait $pb
    cat "$tmp/pb.out"
    grep -q "open /d: EIO" "$tmp/pb.out" || fail "b's unit did not fail closed"
    i=0; while kill -0 "$wb" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "worker $wb outlived kilnd"; sleep 0.02; done
    rm -f "$sock"; start_kilnd
    out=$("$probe" "$sock" b open /d); echo "$out"
    echo "$out" | grep -q "open /d: ok" || fail "restarted kilnd does not serve"
    grep -q "not a kilnd protocol 1 packet\|oversized" "$tmp/kilnd.log" && true
    alive
    ;;
policy)
    [ -f "$tproc" ] || { echo "skip: no t_proc.wasm"; exit 77; }
    r=$tmp/r
    mkdir -p "$r/bin" "$r/w/secret" "$r/w/private" "$r/w/pub" "$tmp/trust"
    cp "$tproc" "$r/bin/plain.wasm"
    echo readme >"$r/w/readme"; echo key >"$r/w/secret/key"; echo priv >"$r/w/private/x"
    echo hello >"$r/w/pub/hello"
    # the container: / ro, /w rw, /w/private none; may spawn the units below
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"ro"},{"path":"/w","mode":"rw"},
                    {"path":"/w/private","mode":"none"}],
      "exec":["/bin/narrow.unit","/bin/wide.unit","/bin/plain.wasm","/bin/pub.unit"]}' \
        >"$tmp/ct.json"
    # narrow: its author grants itself /w read-only, without /w/secret (and an exec list, so
    # that the kiln_proc module t_proc imports is offered)
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/w","mode":"ro"},{"path":"/w/secret","mode":"none"}],
      "exec":["/bin/narrow.unit"]}' \
        >"$tmp/narrow.json"
    # wide: asks for everything, but may spawn only narrow.unit
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"rw"}],"exec":["/bin/narrow.unit"]}' >"$tmp/wide.json"
    # pub: grants itself only /w/pub (and /nonexistent), beneath its spawner's preopen /w
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/w/pub","mode":"ro"},{"path":"/w/nonexistent","mode":"ro"}],
      "exec":["/bin/narrow.unit"]}' >"$tmp/pub.json"
    "$kiln" keygen -o "$tmp/signer" >/dev/null
    cp "$tmp/signer.pub.pem" "$tmp/trust/"
    for u in narrow wide pub; do
        "$kiln" sign --key "$tmp/signer.pem" --abi wasi_snapshot_preview1 \
            --policy "$tmp/$u.json" "$tproc" -o "$r/bin/$u.unit" >/dev/null || fail "kiln sign $u"
    done
    "$kiln" sign --key "$tmp/signer.pem" --abi wasi_snapshot_preview1 --policy "$tmp/ct.json" \
        "$tproc" -o "$r/bin/same.unit" >/dev/null || fail "kiln sign same"
    "$kilnd" register --config "$tmp/cfg" --id pc --root "$r" --uid "$(id -u)" \
        --policy "$tmp/ct.json" || fail register
    TRUST=$tmp/trust start_kilnd
    a=$tmp/state/pc/audit.jsonl
    run() { "$kiln" exec --kilnd "$sock" --container pc --dir /w "$tproc" "$@"; }
    expect() { echo "$out" | grep -q "$1" || fail "expected '$1' in: $out"; }
    # the container's own process reads and writes what the container grants
    out=$(run cat /w/secret/key 2>&1); echo "$out"
    expect "cat /w/secret/key: ok key"
    # narrow, spawned: its own policy denies what the container allows
    out=$(run spawnrun /bin/narrow.unit cat /w/secret/key 2>&1); echo "$out"
    expect "spawnrun /bin/narrow.unit: ok"
    expect "cat /w/secret/key: EACCES"
    expect "child pid [0-9]* exited with code 0"
    grep -q '"event":"deny","call":"openat","path":"/w/secret/key","errno":"EACCES","rule":"unit:$.filesystem\[1\]"' \
        "$a" || fail "narrow's denial not audited with the unit's rule"
    out=$(run spawnrun /bin/narrow.unit cat /w/readme 2>&1); echo "$out"
    expect "cat /w/readme: ok readme"
    out=$(run spawnrun /bin/narrow.unit write /w/new 2>&1); echo "$out"
    expect "write /w/new: EROFS"
    [ ! -e "$r/w/new" ] || fail "narrow wrote beneath its own read-only rule"
    # wide, spawned: gets no more than the container grants
    out=$(run spawnrun /bin/wide.unit cat /w/private/x 2>&1); echo "$out"
    expect "cat /w/private/x: EACCES"
    grep -q '"path":"/w/private/x","errno":"EACCES","rule":"container:$.filesystem\[2\]"' "$a" \
        || fail "wide's denial not audited with the container's rule"
    out=$(run spawnrun /bin/wide.unit write /w/wide-ok 2>&1); echo "$out"
    expect "write /w/wide-ok: ok"
    [ -f "$r/w/wide-ok" ] || fail "wide could not write what both grant"
    # ... and its exec list is the intersection: plain.wasm is the container's, not its own
    out=$(run spawnrun /bin/wide.unit spawn /bin/plain.wasm 2>&1); echo "$out"
    expect "spawn /bin/plain.wasm: EACCES"
    out=$(run spawnrun /bin/wide.unit spawnrun /bin/narrow.unit cat /w/secret/key 2>&1); echo "$out"
    expect "spawnrun /bin/narrow.unit: ok"
    expect "cat /w/secret/key: EACCES"
    # pub: its policy denies the spawner's preopen /w itself; it gets /w/pub instead
    out=$(run spawnrun /bin/pub.unit cat /w/pub/hello 2>&1); echo "$out"
    expect "cat /w/pub/hello: ok hello"
    out=$(run spawnrun /bin/pub.unit cat /w/readme 2>&1); echo "$out"
    expect "cat /w/readme: E"
    # a plain module has no policy of its own: the spawner's applies
    out=$(run spawnrun /bin/plain.wasm cat /w/secret/key 2>&1); echo "$out"
    expect "cat /w/secret/key: ok key"
    # the spawn events name the child's effective policy and the unit's own
    nd=$(sha256sum "$tmp/narrow.json" | cut -d' ' -f1)
    cd_=$(sha256sum "$tmp/ct.json" | cut -d' ' -f1)
    grep '"event":"spawn","path":"/bin/narrow.unit"' "$a" | head -1 >"$tmp/ev"
    grep -q "\"unitPolicy\":\"sha256:$nd\"" "$tmp/ev" || fail "spawn event: $(cat "$tmp/ev")"
    grep -q '"policy":"sha256:[0-9a-f]\{64\}"' "$tmp/ev" || fail "spawn event: $(cat "$tmp/ev")"
    grep -q "\"policy\":\"sha256:$cd_\"" "$tmp/ev" && fail "narrow ran under the container's policy"
    grep '"event":"spawn","path":"/bin/plain.wasm"' "$a" | head -1 >"$tmp/ev"
    grep -q "\"policy\":\"sha256:$cd_\",\"unitPolicy\":null" "$tmp/ev" \
        || fail "plain spawn event: $(cat "$tmp/ev")"
    # the run attestation records each process's policy (runs may merge when a new one starts
    # before kilnd saw the last one end: wait for the records, not for a number of files)
    att_ok() {
        python3 - "$cd_" "$tmp/state/pc/"run-*.json <<'PY' 2>/dev/null
import base64, json, sys
ct = "sha256:" + sys.argv[1]
seen = set()
for f in sys.argv[2:]:
    st = json.loads(base64.b64decode(json.load(open(f))["payload"]))
    for p in st["predicate"]["processes"]:
        seen.add((p["vpid"] == 1, p["policy"] == ct))
sys.exit(0 if (True, True) in seen and (False, False) in seen else 1)
PY
    }
    i=0
    until att_ok; do
        i=$((i + 1)); [ $i -gt 500 ] && fail "policies in the attestation"; sleep 0.02
    done
    # a unit attaching by itself (kiln-oci's `exec`, as kiln-stub does): HELLO with the unit
    out=$("$probe" "$sock" pc unitopen "$r/bin/narrow.unit" /w/secret/key 2>&1); echo "$out"
    expect "open /w/secret/key: EACCES"
    out=$("$probe" "$sock" pc unitopen "$r/bin/narrow.unit" /w/readme 2>&1); echo "$out"
    expect "open /w/readme: ok"
    out=$("$probe" "$sock" pc unitopen "$r/bin/narrow.unit" /w/probe-new w 2>&1); echo "$out"
    expect "open /w/probe-new: EROFS"
    out=$("$probe" "$sock" pc unitopen "$r/bin/wide.unit" /w/private/x 2>&1); echo "$out"
    expect "open /w/private/x: EACCES"
    out=$("$probe" "$sock" pc unitopen "$r/bin/wide.unit" /etc-new w 2>&1); echo "$out"
    expect "open /etc-new: EROFS"
    grep -q '"event":"policy","unit":"'"$r"'/bin/narrow.unit"' "$a" \
        || fail "narrowed attach not audited"
    # the entry unit carrying the container's own policy runs under it unchanged
    out=$("$probe" "$sock" pc unitopen "$r/bin/same.unit" /w/secret/key 2>&1); echo "$out"
    expect "open /w/secret/key: ok"
    grep "unit $r/bin/same.unit" "$tmp/kilnd.log" | grep -q "policy sha256:$cd_, " \
        || fail "same.unit: $(grep same.unit "$tmp/kilnd.log")"
    alive
    ;;
stub)
    [ -n "$stub" ] && [ -f "$stub" ] && [ -f "$tproc" ] || { echo "skip: no kilnd-stub-test"; exit 77; }
    [ "$(id -u)" = 0 ] || { echo "skip: the stub's trust store and kilnd.id must be root's"; exit 77; }
    trap 'cleanup; rm -rf "$kt"' EXIT
    rm -rf "$kt"; mkdir -p "$kt/trust" "$kt/run"; chmod 755 "$kt" "$kt/trust" "$kt/run"
    r=$tmp/r
    mkdir -p "$r/w/secret" "$r/w/private"
    echo key >"$r/w/secret/key"; echo priv >"$r/w/private/x"
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"ro"},{"path":"/w","mode":"rw"},
                    {"path":"/w/private","mode":"none"}],"exec":["/bin/x"]}' >"$tmp/ct.json"
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"ro"},{"path":"/w/secret","mode":"none"}],
      "exec":["/bin/x"]}' >"$tmp/narrow.json"
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/","mode":"rw"}],"exec":["/bin/x"]}' >"$tmp/wide.json"
    cp "$tmp/ct.json" "$tmp/same.json"
    # etc: its own policy grants nothing at "/", only /etc (read-only, /etc/shadow hidden)
    mkdir -p "$r/etc"; echo etcname >"$r/etc/hostname"; echo pw >"$r/etc/shadow"
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/etc","mode":"ro"},{"path":"/etc/shadow","mode":"none"}],
      "exec":["/bin/x"]}' >"$tmp/etc.json"
    # a second container granting only /w (the container narrower than a unit's "/")
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/w","mode":"rw"},{"path":"/w/private","mode":"none"}],
      "exec":["/bin/x"]}' >"$tmp/wonly.json"
    "$kiln" keygen -o "$tmp/signer" >/dev/null
    cp "$tmp/signer.pub.pem" "$kt/trust/"
    cp "$tmp/wonly.json" "$tmp/wo.json"
    for u in narrow wide same etc wo; do
        "$kiln" sign --stub "$stub" --key "$tmp/signer.pem" --abi wasi_snapshot_preview1 \
            --policy "$tmp/$u.json" "$tproc" -o "$tmp/$u.unit" >/dev/null || fail "kiln sign $u"
        chmod 755 "$tmp/$u.unit"
    done
    "$kilnd" register --config "$tmp/cfg" --id pc --root "$r" --uid "$(id -u)" \
        --policy "$tmp/ct.json" || fail register
    sock=$kt/run/kilnd.sock
    TRUST=$kt/trust start_kilnd
    echo pc >"$kt/run/kilnd.id"; chmod 644 "$kt/run/kilnd.id"
    a=$tmp/state/pc/audit.jsonl
    expect() { echo "$out" | grep -q "$1" || fail "expected '$1' in: $out"; }
    # the entry unit (its signed policy is the container's): the container's grants
    out=$("$tmp/same.unit" cat /w/secret/key 2>&1); echo "$out"
    expect "cat /w/secret/key: ok key"
    cd_=$(sha256sum "$tmp/ct.json" | cut -d' ' -f1)
    sd=$(sha256sum "$tmp/same.unit" | cut -d' ' -f1)
    grep "sha256:$sd signer" "$tmp/kilnd.log" | grep -q "policy sha256:$cd_, " \
        || fail "same.unit did not run under the container's policy"
    # UNIT's `cat PATH` gets EACCES, audited in kilnd's log with rule RULE (a grep pattern)
    denied() {
        out=$("$tmp/$1" cat "$2" 2>&1); echo "$out"
        expect "cat $2: EACCES"
        grep -q "\"path\":\"$2\",\"errno\":\"EACCES\",\"rule\":\"$3\"" "$a" \
            || fail "$1: the denial of $2 not audited with rule $3"
    }
    # narrow: its own policy denies /w/secret and writes, which the container allows
    denied narrow.unit /w/secret/key 'unit:$.filesystem\[1\]'
    out=$("$tmp/narrow.unit" write /w/n 2>&1); echo "$out"
    expect "write /w/n: EROFS"
    [ ! -e "$r/w/n" ] || fail "narrow wrote beneath its own read-only rule"
    grep '"event":"policy"' "$a" | grep -q "\"sha256\":\"$(sha256sum "$tmp/narrow.unit" | cut -d' ' -f1)\"" \
        || fail "narrowed attach not audited"
    # wide: asks for / rw, gets only what the container grants
    denied wide.unit /w/private/x 'container:$.filesystem\[2\]'
    out=$("$tmp/wide.unit" write /top 2>&1); echo "$out"
    expect "write /top: EROFS"
    out=$("$tmp/wide.unit" write /w/ok 2>&1); echo "$out"
    expect "write /w/ok: ok"
    [ -f "$r/w/ok" ] || fail "wide could not write what both grant"
    # etc: attaches with /etc as its only preopen (its effective policy grants nothing at "/")
    out=$("$tmp/etc.unit" cat /etc/hostname 2>&1); echo "$out"
    expect "cat /etc/hostname: ok etcname"
    ed=$(sha256sum "$tmp/etc.unit" | cut -d' ' -f1)
    grep "sha256:$ed signer" "$tmp/kilnd.log" | grep -q "(intersection), 1 preopens)" \
        || fail "etc.unit: $(grep "sha256:$ed" "$tmp/kilnd.log")"
    # ... and nothing beyond: a rule of its own inside /etc, writes, other directories
    denied etc.unit /etc/shadow 'unit:$.filesystem\[1\]'
    out=$("$tmp/etc.unit" write /etc/new 2>&1); echo "$out"
    expect "write /etc/new: EROFS"
    [ ! -e "$r/etc/new" ] || fail "etc wrote beneath its read-only /etc"
    # (no preopen covers /w: wasi-libc answers ENOTCAPABLE without asking anyone)
    out=$("$tmp/etc.unit" cat /w/secret/key 2>&1); echo "$out"
    expect "cat /w/secret/key: ENOTCAPABLE"
    # ".." out of its preopen reaches kilnd, which refuses the escape and audits it
    out=$("$tmp/etc.unit" cat /etc/../w/secret/key 2>&1); echo "$out"
    expect "cat /etc/../w/secret/key: EPERM"
    grep -q '"event":"deny","call":"openat","path":"../w/secret/key","errno":"EPERM","rule":"builtin:beneath"}' \
        "$a" || fail "etc's escape from /etc not audited: $(grep 'w/secret/key' "$a" | tail -1)"
    # a container granting only /w: wide (its own policy grants "/" rw) gets /w, nothing else
    "$kilnd" register --config "$tmp/cfg" --id wo --root "$r" --uid "$(id -u)" \
        --policy "$tmp/wonly.json" || fail "register wo"
    echo wo >"$kt/run/kilnd.id"
    out=$("$tmp/wide.unit" cat /w/secret/key 2>&1); echo "$out"
    expect "cat /w/secret/key: ok key"
    out=$("$tmp/wide.unit" write /w/wo-ok 2>&1); echo "$out"
    expect "write /w/wo-ok: ok"
    out=$("$tmp/wide.unit" cat /etc/hostname 2>&1); echo "$out"
    expect "cat /etc/hostname: ENOTCAPABLE"
    out=$("$tmp/wide.unit" cat /w/private/x 2>&1); echo "$out"
    expect "cat /w/private/x: EACCES"
    grep -q '"path":"/w/private/x","errno":"EACCES","rule":"container:$.filesystem\[1\]"' \
        "$tmp/state/wo/audit.jsonl" || fail "wide's denial in wo not audited"
    # wo's entry unit (its signed policy is wo's, which grants nothing at "/"): /w, unchanged
    out=$("$tmp/wo.unit" cat /w/secret/key 2>&1); echo "$out"
    expect "cat /w/secret/key: ok key"
    wd=$(sha256sum "$tmp/wo.unit" | cut -d' ' -f1)
    grep "sha256:$wd signer" "$tmp/kilnd.log" \
        | grep -q "policy sha256:$(sha256sum "$tmp/wonly.json" | cut -d' ' -f1), 1 preopens)" \
        || fail "wo.unit: $(grep "sha256:$wd" "$tmp/kilnd.log")"
    # etc there: both policies share nothing, it runs with no filesystem at all
    out=$("$tmp/etc.unit" cat /etc/hostname 2>&1); echo "$out"
    expect "cat /etc/hostname: ENOTCAPABLE"
    echo pc >"$kt/run/kilnd.id"
    alive
    ;;
dirs)
    [ -f "$tproc" ] || { echo "skip: no t_proc.wasm"; exit 77; }
    r=$tmp/r
    mkdir -p "$r/etc" "$r/w/sub" "$r/w/secret" "$r/srv/x"
    echo etcname >"$r/etc/hostname"; echo pw >"$r/etc/shadow"
    echo subf >"$r/w/sub/f"; echo key >"$r/w/secret/key"
    # /etc read-only (/etc/shadow hidden), /w/sub writable, /opt/gone granted but absent;
    # nothing at /, /w, /srv or /opt itself
    printf '%s' '{"kilnPolicy":1,"seccomp":{"defaultAction":"SCMP_ACT_ALLOW"},
      "filesystem":[{"path":"/etc","mode":"ro"},{"path":"/etc/shadow","mode":"none"},
                    {"path":"/w/sub","mode":"rw"},{"path":"/opt/gone","mode":"ro"}],
      "exec":["/bin/x"]}' >"$tmp/dirs.json"
    "$kilnd" register --config "$tmp/cfg" --id dd --root "$r" --uid "$(id -u)" \
        --policy "$tmp/dirs.json" || fail register
    start_kilnd
    a=$tmp/state/dd/audit.jsonl
    pd=sha256:$(sha256sum "$tmp/dirs.json" | cut -d' ' -f1)
    # run DIR ARGS...: t_proc under kiln exec --kilnd --dir DIR; $out = stdout+stderr, $rc
    nattach() { grep -c "container dd: pid .* attached" "$tmp/kilnd.log"; }
    run() {
        d=$1; shift
        n0=$(nattach)
        out=$("$kiln" exec --kilnd "$sock" --container dd --dir "$d" "$tproc" "$@" 2>&1); rc=$?
        echo "$out"
    }
    expect() { echo "$out" | grep -qF -- "$1" || fail "expected '$1' in: $out"; }
    attached() { # the last run's attach had N preopens (kilnd logs it after sending the grant)
        i=0; until [ "$(nattach)" -gt "$n0" ]; do
            i=$((i + 1)); [ $i -gt 250 ] && fail "the attach is not in kilnd's log"; sleep 0.02; done
        grep "container dd: pid .* attached" "$tmp/kilnd.log" | tail -1 | grep -q ", $1 preopens)" \
            || fail "expected $1 preopens: $(grep attached "$tmp/kilnd.log" | tail -1)"
    }
    # granted exactly: /etc is the preopen, nothing said
    run /etc cat /etc/hostname
    [ $rc -eq 0 ] || fail "--dir /etc: exit $rc"
    expect "cat /etc/hostname: ok etcname"
    echo "$out" | grep -q "does not grant" && fail "--dir /etc: a grant message for a granted dir"
    attached 1
    run /etc cat /etc/shadow
    expect "cat /etc/shadow: EACCES"
    grep -q '"path":"/etc/shadow","errno":"EACCES","rule":"$.filesystem\[1\]"' "$a" \
        || fail "the denial of /etc/shadow not audited"
    # granted only beneath: --dir / gets /etc and /w/sub (the absent /opt/gone is skipped)
    run / cat /etc/hostname
    [ $rc -eq 0 ] || fail "--dir /: exit $rc"
    expect "kiln exec: --dir /: container dd's policy ($pd) does not grant / itself; preopened what it grants beneath: /etc (ro), /w/sub"
    expect "cat /etc/hostname: ok etcname"
    attached 2
    run / cat /w/sub/f
    expect "cat /w/sub/f: ok subf"
    run / write /w/sub/new
    expect "write /w/sub/new: ok"
    [ -f "$r/w/sub/new" ] || fail "--dir /: no write beneath the granted /w/sub"
    run / write /etc/new
    expect "write /etc/new: EROFS"
    # ... and nothing else: no preopen covers /w/secret or /srv (wasi-libc refuses, kilnd is
    # not asked)
    run / cat /w/secret/key
    expect "cat /w/secret/key: ENOTCAPABLE"
    run / cat /srv/x
    expect "cat /srv/x: ENOTCAPABLE"
    # ".." out of a granted subdirectory reaches kilnd, which refuses the escape and audits it
    run / cat /etc/../w/secret/key
    expect "cat /etc/../w/secret/key: EPERM"
    grep -q '"event":"deny","call":"openat","path":"../w/secret/key","errno":"EPERM","rule":"builtin:beneath"}' \
        "$a" || fail "the escape from /etc not audited: $(grep 'w/secret/key' "$a" | tail -1)"
    run /w/sub cat /w/sub/../secret/key
    expect "cat /w/sub/../secret/key: EPERM"
    [ "$(grep -c '"path":"../secret/key","errno":"EPERM","rule":"builtin:beneath"' "$a")" -ge 1 ] \
        || fail "the escape from /w/sub not audited"
    # a --dir spelled with "..": the directory it names (/), never more
    run /etc/.. cat /w/secret/key
    expect "kiln exec: --dir /etc/.. (/): container dd's policy ($pd) does not grant / itself"
    expect "cat /w/secret/key: ENOTCAPABLE"
    # /w: only /w/sub beneath it
    run /w cat /w/sub/f
    expect "does not grant /w itself; preopened what it grants beneath: /w/sub"
    expect "cat /w/sub/f: ok subf"
    attached 1
    # granted nothing at or beneath: refused before the guest runs, exit 126
    for d in /srv /opt /w/secret; do
        run $d cat /etc/hostname
        [ $rc -eq 126 ] || fail "--dir $d: exit $rc, expected 126"
        expect "kiln exec: refused: --dir $d: container dd's policy ($pd) grants no existing directory at or beneath $d"
        echo "$out" | grep -q "cat " && fail "--dir $d: the guest ran"
        attached 0
    done
    # the same for a second --dir when the first is granted
    out=$("$kiln" exec --kilnd "$sock" --container dd --dir /etc --dir /srv "$tproc" cat /etc/hostname 2>&1)
    rc=$?; echo "$out"
    [ $rc -eq 126 ] || fail "--dir /etc --dir /srv: exit $rc"
    expect "refused: --dir /srv:"
    # a relative --dir is a usage error (exit 2)
    run etc cat /etc/hostname
    [ $rc -eq 2 ] || fail "--dir etc: exit $rc"
    expect "--dir etc: with --kilnd, an absolute path in the container"
    # without a policy (permissive) --dir / is / itself
    "$kilnd" register --config "$tmp/cfg" --id open --root "$r" --uid "$(id -u)" || fail register
    out=$("$kiln" exec --kilnd "$sock" --container open --dir / "$tproc" cat /w/secret/key 2>&1)
    echo "$out"
    expect "cat /w/secret/key: ok key"
    echo "$out" | grep -q "does not grant" && fail "permissive: a grant message"
    alive
    ;;
netns)
    # a container whose units live in their own network namespace (as under
    # kiln-oci): its worker joins it, so the listener kilnd creates is there,
    # not in kilnd's (the host's) network
    [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null \
        || { echo "skip: needs root, unshare and ip"; exit 77; }
    unshare -n true 2>/dev/null || { echo "skip: no network namespaces"; exit 77; }
    mkdir -p "$tmp/r"
    "$kilnd" register --config "$tmp/cfg" --id ns --root "$tmp/r" --uid 0 || fail register
    start_kilnd
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$tmp/inside.sh" <<EOS
ip link set lo up
"$kiln" exec --kilnd "$sock" --container ns --listen tcp:127.0.0.1:$port "$wbin/t_sock.wasm" 1 \
    >"$tmp/sock.out" 2>&1 &
i=0
until python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", $port)); s.sendall(b"inside\n"); print(s.recv(100).decode(), end="")' >"$tmp/answer" 2>/dev/null; do
    i=\$((i + 1)); [ \$i -gt 200 ] && exit 1; sleep 0.05
done
wait
EOS
    unshare -n sh "$tmp/inside.sh" &
    ns=$!
    i=0; until grep -q "attached" "$tmp/kilnd.log"; do
        i=$((i + 1)); [ $i -gt 300 ] && fail "no unit attached"; sleep 0.02; done
    # from kilnd's network the port is closed while the unit listens inside
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' \
        "$port" 2>/dev/null && fail "the listener is in kilnd's network namespace"
    wait $ns || fail "inside: $(cat "$tmp/sock.out")"
    [ "$(cat "$tmp/answer")" = "INSIDE" ] || fail "answer '$(cat "$tmp/answer")': $(cat "$tmp/sock.out")"
    echo "ok: the listener lives in the container's network namespace"
    alive
    ;;
*) fail "unknown test $t" ;;
esac
# a clean stop; sanitizer builds report leaks and errors in kilnd's log
[ -n "$kpid" ] && stop_kilnd
grep -q "Sanitizer\|runtime error" "$tmp/kilnd.log" && fail "sanitizer report from kilnd"
echo "ok: kilnd.$t"
