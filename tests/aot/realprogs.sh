#!/bin/sh
# realprogs.sh AOT_EXEC CACHE WORKDIR — differential test: the real programs
# of tests/realprogs (zlib, bzip2, sqlite3, speedtest1; built from Debian
# sources into $KILN_CACHE/debsrc/out by `ctest -L realprogs`) run on the
# same vkernel interpreted and AOT-compiled; stdout, stderr and the exit
# status must be identical. Exits 77 (skipped) when the programs were never
# built.
set -u
exe=$1; cache=$2; work=$3
out=${KILN_CACHE:-${HOME:-/root}/.cache/kiln}/debsrc/out
for f in zlib/zexample.wasm zlib/minigzip.wasm bzip2/bzip2.wasm sqlite3/sqlite3.wasm \
    sqlite3/speedtest1.wasm; do
    [ -f "$out/$f" ] || { echo "realprogs.sh: $out/$f missing: run ctest -L realprogs first"; exit 77; }
done
rm -rf "$work"; mkdir -p "$work/i" "$work/a"; cd "$work" || exit 1
fail=0
# run NAME STDIN ARGS...: runs interpreted in i/, AOT in a/, compares
run() {
    name=$1; in=$2; shift 2
    (cd i && "$exe" --dir "$PWD::/data" "$@" <"$in" >"../$name.i.out" 2>&1; echo "rc=$?" >"../$name.i.rc")
    (cd a && "$exe" --aot "$cache" --dir "$PWD::/data" "$@" <"$in" >"../$name.a.out" 2>&1; echo "rc=$?" >"../$name.a.rc")
    if cmp -s "$name.i.out" "$name.a.out" && cmp -s "$name.i.rc" "$name.a.rc"; then
        echo "same $name: $(cat "$name.a.rc"), $(wc -c <"$name.a.out") bytes of output"
    else
        echo "DIFF $name: $(cat "$name.i.rc") vs $(cat "$name.a.rc")"; cmp "$name.i.out" "$name.a.out"; fail=1
    fi
}
seq 1 20000 >input.txt
run zexample /dev/null "$out/zlib/zexample.wasm"
run minigzip "$work/input.txt" "$out/zlib/minigzip.wasm" -c
run bzip2 "$work/input.txt" "$out/bzip2/bzip2.wasm" -c
cat >sql.txt <<'SQL'
create table t(a integer primary key, b text, c real);
with recursive n(x) as (select 1 union all select x+1 from n where x < 5000)
insert into t select x, printf('row %d', x*7 % 1000), x / 3.0 from n;
select count(*), sum(a), group_concat(distinct substr(b, 1, 5)) from t where a % 97 = 1;
select b, count(*), avg(c) from t group by b order by 2 desc, 1 limit 5;
select printf('%.17g', sum(c * c)) from t;
SQL
run sqlite3 "$work/sql.txt" "$out/sqlite3/sqlite3.wasm"
for set in main cte; do
    rm -f i/st.db a/st.db
    "$exe" --dir "$PWD/i::/data" "$out/sqlite3/speedtest1.wasm" --testset $set --verify --size 5 \
        /data/st.db 2>&1 | sed -n 's/^ *\([0-9][0-9]* - [^.]*\)\.\.\..*/\1/p; /^Verification Hash/p' >st-$set.i
    "$exe" --aot "$cache" --dir "$PWD/a::/data" "$out/sqlite3/speedtest1.wasm" --testset $set --verify \
        --size 5 /data/st.db 2>&1 | sed -n 's/^ *\([0-9][0-9]* - [^.]*\)\.\.\..*/\1/p; /^Verification Hash/p' >st-$set.a
    if cmp -s st-$set.i st-$set.a && grep -q Verification st-$set.a; then
        echo "same speedtest1 $set: $(grep Verification st-$set.a), $(wc -l <st-$set.a) lines"
    else
        echo "DIFF speedtest1 $set"; diff st-$set.i st-$set.a | head; fail=1
    fi
done
exit $fail
