#!/bin/sh
# run_http_test.sh KILN t_http.wasm — a wasm HTTP service behind
# `kiln exec --listen`, exercised by a real HTTP client (curl) and then
# load-tested with 200 sequential requests from python; prints requests/s.
set -u
kiln=$1 wasm=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-http-XXXXXX")
trap 'rm -rf "$tmp"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/err" 2>/dev/null; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$kiln" exec --listen "tcp:127.0.0.1:$port" --audit "$tmp/audit.jsonl" "$wasm" 203 \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/warmup" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "server did not come up"; sleep 0.1
done
body=$(curl -s "http://127.0.0.1:$port/some/path") || fail curl
[ "$body" = "hello from kiln: /some/path (request 2)" ] || fail "body '$body'"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/x") || fail curl
[ "$code" = 200 ] || fail "status $code"
python3 - "$port" <<'PY' || fail "load test"
import socket, sys, time
port = int(sys.argv[1]); n = 200; t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /load HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        d = s.recv(4096)
        if not d: break
        data += d
    s.close()
    assert data.startswith(b"HTTP/1.1 200 OK"), data
dt = time.time() - t0
print("load: %d requests in %.2f s (%.0f req/s)" % (n, dt, n / dt))
PY
wait "$pid"; rc=$?; pid=
[ $rc -eq 0 ] || fail "server exit $rc"
grep -q "served 203 requests" "$tmp/out" || fail "server output"
[ "$(grep -c '"event":"accept"' "$tmp/audit.jsonl")" = 203 ] || fail "accept events"
echo ok
