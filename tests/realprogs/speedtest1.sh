#!/bin/sh
# speedtest1.sh KILN WORKDIR [SIZE] — sqlite's speedtest1 (test/speedtest1.c from
# Debian's sqlite3 3.40 source) runs its 30-odd test cases on a database in
# a preopened directory under kiln, at a small size (--size SIZE, default 5) with
# --verify, for the test sets main, cte, orm and fp: the verification hash
# over every query result must equal the native build's and node's WASI
# run's, and the same test cases must run.
# TMPDIR points sqlite's temp files (VACUUM) into the preopen. The database
# lives on a tmpfs when one is writable (/dev/shm): the unix-dotfile VFS
# makes and removes a lock directory per transaction, which costs ~4 ms on
# an ext4 mounted with discard. Timing is bench/realprogs/run's business.
size=${3:-5}
. "$(dirname "$0")/common.sh"
rp_build sqlite3
cd "$WORK" || exit 1
tmp=$(mktemp -d /dev/shm/kiln-speedtest1.XXXXXX 2>/dev/null) || tmp=$(mktemp -d "$WORK/db.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/k" "$tmp/n" "$tmp/d"

total=0
for set in main cte orm fp; do
    rm -rf "$tmp/k"/* "$tmp/n"/* "$tmp/d"/*
    TMPDIR="$tmp/n" "$OUT/speedtest1.native" --testset $set --verify --size $size "$tmp/n/st.db" \
        >native.out 2>&1 || rp_fail "native speedtest1 $set exit $?: $(tail -n 3 native.out)"
    rp_kiln --env TMPDIR=/data --dir "$tmp/k::/data" "$OUT/speedtest1.wasm" --testset $set --verify \
        --size $size /data/st.db >kiln.out 2>&1 || rp_fail "kiln speedtest1 $set exit $?: $(tail -n 3 kiln.out)"
    rp_node --env TMPDIR=/data --dir "$tmp/d::/data" "$OUT/speedtest1.wasm" --testset $set --verify \
        --size $size /data/st.db >node.out 2>&1 || rp_fail "node speedtest1 $set exit $?: $(tail -n 3 node.out)"
    # test case names (the timings differ) and the verification hash
    for r in native kiln node; do
        sed -n 's/^ *\([0-9][0-9]* - [^.]*\)\.\.\..*/\1/p' "$r.out" >"$r.cases"
        grep '^Verification Hash:' "$r.out" >"$r.hash" || rp_fail "$set: $r printed no verification hash"
    done
    [ "$(wc -l <kiln.cases)" -ge 1 ] || rp_fail "$set: no test case ran"
    rp_same native.cases kiln.cases "$set: kiln ran other test cases than native"
    rp_same native.hash kiln.hash "$set: verification hash differs from native"
    rp_same node.hash kiln.hash "$set: verification hash differs from node's WASI"
    grep -q 'TOTAL' kiln.out || rp_fail "$set: no TOTAL line"
    total=$((total + $(wc -l <kiln.cases)))
    cp kiln.out "kiln-$set.out"
done
[ "$total" -ge 40 ] || rp_fail "only $total test cases ran"
echo "ok: speedtest1 --size $size, test sets main cte orm fp, $total cases, same verification hashes (kiln = node = native)"
