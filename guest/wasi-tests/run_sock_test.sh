#!/bin/sh
# run_sock_test.sh KILN t_sock.wasm — serves one connection from a real TCP
# client through `kiln exec --listen`, checks the answer and the audit trail.
set -u
kiln=$1 wasm=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-sock-XXXXXX")
trap 'rm -rf "$tmp"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$kiln" exec --listen "tcp:127.0.0.1:$port" --audit "$tmp/audit.jsonl" "$wasm" 2 \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
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
wait "$pid"; rc=$?; pid=
expected=$(printf 'HELLO KILN\nAGAIN')
[ "$answer" = "$expected" ] || { echo "FAIL: answer '$answer'"; cat "$tmp/err"; exit 1; }
[ $rc -eq 0 ] || { echo "FAIL: exit $rc"; cat "$tmp/err"; exit 1; }
grep -q "served 11 bytes" "$tmp/out" || { echo "FAIL: output"; cat "$tmp/out"; exit 1; }
[ "$(grep -c '"event":"accept"' "$tmp/audit.jsonl")" = 2 ] || { echo "FAIL: accept events"; exit 1; }
grep -q '"event":"bind"' "$tmp/audit.jsonl" || { echo "FAIL: bind event"; exit 1; }
echo ok
