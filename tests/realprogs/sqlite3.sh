#!/bin/sh
# sqlite3.sh KILN WORKDIR — the sqlite3 shell (Debian's sqlite3 3.40 built
# for wasm32-wasi with the unix-dotfile VFS) creates, fills and queries a
# database in a preopened directory (--dir), in three sessions: a schema and
# 2,000 rows with an index, a CSV import and a backup to a second file,
# then queries, updates, a transaction rolled back, and integrity checks.
# Every session's output must equal the native build's and node's WASI run's,
# and the database files kiln wrote must be readable by the native shell and
# hold the same content (.dump) as the native ones.
. "$(dirname "$0")/common.sh"
rp_build sqlite3
cd "$WORK" || exit 1
rm -rf k n d && mkdir k n d

cat >s1.sql <<'SQL'
create table t(a integer primary key, b text, c real);
insert into t(b, c) values ('hello', 1.5);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 2000)
  insert into t(b, c) select printf('row %d', x), x * 0.25 from n;
create index tb on t(b);
select count(*), sum(a), total(c) from t;
select b from t where b like 'row 19__' order by a desc limit 3;
create table kv(k text primary key, v blob) without rowid;
insert into kv values ('x', zeroblob(10000)), ('y', x'49'), ('z', x'00ff');
select k, length(v), hex(substr(v, 1, 2)) from kv order by k;
.tables
SQL
cat >s2.sql <<'SQL'
.mode csv
.import /data/people.csv people
.mode list
select count(*), min(age), max(age), sum(age) from people;
select name from people where age between 30 and 32 order by name limit 5;
.backup /data/backup.db
SQL
cat >s3.sql <<'SQL'
update t set c = c * 2 where a % 2 = 0;
delete from t where a > 1500;
select count(*), printf('%.2f', total(c)) from t;
begin;
delete from t;
select count(*) from t;
rollback;
select count(*) from t;
attach '/data/backup.db' as bk;
select count(*) from bk.t;
select count(*) from bk.people;
select group_concat(name, ',') from (select name from bk.people order by age desc, name limit 4);
.schema t
pragma integrity_check;
pragma bk.integrity_check;
SQL
awk 'BEGIN { print "name,age"; for (i = 0; i < 500; i++) printf "person%03d,%d\n", i, 18 + (i * 37) % 60 }' \
    >people.csv
cp people.csv k/ && cp people.csv n/ && cp people.csv d/

for s in 1 2 3; do
    # The native shell sees the same paths through /data -> n (run from n with a symlink).
    sed "s|/data/|$WORK/n/|g" "s$s.sql" >"s$s.native.sql"
    HOME=/nonexistent "$OUT/sqlite3.native" "$WORK/n/test.db" <"s$s.native.sql" >"native$s.out" 2>&1 ||
        rp_fail "native session $s exit $?: $(cat "native$s.out")"
    rp_kiln --env HOME=/nonexistent --dir "$WORK/k::/data" "$OUT/sqlite3.wasm" /data/test.db <"s$s.sql" >"kiln$s.out" 2>&1 ||
        rp_fail "kiln session $s exit $?: $(tail -n 5 "kiln$s.out")"
    rp_node --env HOME=/nonexistent --dir "$WORK/d::/data" "$OUT/sqlite3.wasm" /data/test.db <"s$s.sql" >"node$s.out" 2>&1 ||
        rp_fail "node session $s exit $?: $(tail -n 5 "node$s.out")"
    rp_same "native$s.out" "kiln$s.out" "session $s: kiln output differs from native"
    rp_same "node$s.out" "kiln$s.out" "session $s: kiln output differs from node's WASI"
done
grep -qx 'ok' kiln3.out || rp_fail "integrity_check did not say ok"
grep -qx '1500' kiln3.out || rp_fail "rollback lost rows"
[ ! -e k/test.db-journal ] && [ ! -e k/test.db.lock ] || rp_fail "journal or lock left behind: $(ls k)"

# An error with -bail: same message on stderr and exit status 1 everywhere.
printf 'create table e(x);\nselect * from nosuch;\nselect 1;\n' >err.sql
HOME=/nonexistent "$OUT/sqlite3.native" -bail "$WORK/n/e.db" <err.sql >native-err.out 2>&1
[ $? = 1 ] || rp_fail "native -bail: exit status is not 1"
rp_kiln --env HOME=/nonexistent --dir "$WORK/k::/data" "$OUT/sqlite3.wasm" -bail /data/e.db \
    <err.sql >kiln-err.out 2>&1
[ $? = 1 ] || rp_fail "kiln -bail: exit status is not 1: $(cat kiln-err.out)"
rp_same native-err.out kiln-err.out "-bail: kiln's messages differ from native"

# The files kiln wrote, read by the native shell, hold what the native ones hold.
for db in test.db backup.db; do
    echo 'pragma integrity_check;' | "$OUT/sqlite3.native" "k/$db" >check.out 2>&1
    grep -qx ok check.out || rp_fail "native sqlite3 finds k/$db corrupt: $(cat check.out)"
    echo .dump | "$OUT/sqlite3.native" "k/$db" >"k-$db.dump"
    echo .dump | "$OUT/sqlite3.native" "n/$db" >"n-$db.dump"
    rp_same "n-$db.dump" "k-$db.dump" "$db written by kiln differs from native (.dump)"
done
echo "ok: sqlite3 shell, 3 sessions in a preopened directory (kiln = node = native)"
