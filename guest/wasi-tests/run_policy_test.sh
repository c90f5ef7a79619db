#!/bin/sh
# run_policy_test.sh KILN SRCDIR BUILDDIR — end-to-end policy enforcement
# under `kiln exec`: filesystem rules (ro/rw/none, a symlink into a "none"
# area), the output limit, the audit trail of the denials, a malformed
# policy refused with its JSON path, and the wall-time limit.
set -u
kiln=$1 src=$2 bin=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-policy-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$tmp/w/rw" "$tmp/w/secret"
echo readme >"$tmp/w/readme"
echo key >"$tmp/w/secret/key"
ln -s ../secret/key "$tmp/w/rw/link"
"$kiln" exec --dir "$tmp/w::/w" --policy "$src/t_policy.json" --audit "$tmp/a.jsonl" \
    "$bin/t_policy.wasm" /w >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc: $(cat "$tmp/err")"
head -n 12 "$tmp/out" >"$tmp/head"
diff -u "$src/t_policy.expected" "$tmp/head" || fail "output differs"
[ "$(wc -c <"$tmp/out")" -eq 2000 ] || fail "output not cut at 2000 bytes: $(wc -c <"$tmp/out")"
[ -f "$tmp/w/rw/new.txt" ] || fail "rw create did not happen"
[ ! -e "$tmp/w/new.txt" ] || fail "ro create happened"
grep -q '"errno":"EROFS","rule":"$.filesystem\[0\]"' "$tmp/a.jsonl" || fail "no EROFS denial"
grep -q '"path":"/w/secret/key","errno":"EACCES","rule":"$.filesystem\[2\]"' "$tmp/a.jsonl" \
    || fail "no EACCES denial"
grep -q '"rule":"$.limits.outputBytes"' "$tmp/a.jsonl" || fail "no output-limit denial"
grep -q '"rule":"builtin:beneath"' "$tmp/a.jsonl" || fail "no escape denial"
tail -n 1 "$tmp/a.jsonl" | grep -q '"event":"exit","code":0' || fail "no exit summary"
# malformed policy
printf '{"filesystem":[{"path":"/w","mode":"rw"},{"path":"/x","mode":"write"}]}' >"$tmp/bad.json"
"$kiln" exec --policy "$tmp/bad.json" "$bin/t_policy.wasm" >/dev/null 2>"$tmp/err2"
[ $? -ne 0 ] || fail "malformed policy accepted"
grep -q 'bad.json: $.filesystem\[1\].mode: expected one of ro, rw, none' "$tmp/err2" \
    || fail "message: $(cat "$tmp/err2")"
# wall-time limit
"$kiln" exec --policy "$src/t_loop.json" --audit "$tmp/l.jsonl" "$bin/t_loop.wasm" \
    >"$tmp/lout" 2>"$tmp/lerr"
rc=$?
[ $rc -eq 134 ] || fail "loop exit $rc"
grep -q looping "$tmp/lout" || fail "loop output"
grep -q 'time limit' "$tmp/lerr" || fail "loop stderr: $(cat "$tmp/lerr")"
tail -n 1 "$tmp/l.jsonl" | grep -q '"event":"exit","code":134' || fail "loop exit event"
# cpu-time limit
"$kiln" exec --policy "$src/t_loop_cpu.json" "$bin/t_loop.wasm" >/dev/null 2>"$tmp/cerr"
rc=$?
[ $rc -eq 134 ] || fail "cpu loop exit $rc"
grep -q 'time limit' "$tmp/cerr" || fail "cpu loop stderr: $(cat "$tmp/cerr")"
# SIGTERM to kiln exec: the guest is stopped, the exit summary says so
"$kiln" exec --audit "$tmp/s.jsonl" "$bin/t_loop.wasm" >/dev/null 2>&1 &
spid=$!
i=0
until grep -q '"event":"confine"' "$tmp/s.jsonl" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && fail "loop did not start"; sleep 0.05
done
kill -TERM $spid
wait $spid
rc=$?
[ $rc -eq 143 ] || fail "SIGTERM exit $rc"
tail -n 1 "$tmp/s.jsonl" | grep -q '"code":143,"reason":"signal 15"' || fail "signal exit event"
echo ok
