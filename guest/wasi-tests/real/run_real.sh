#!/bin/sh
# run_real.sh PROGRAM KILN WORKDIR — real programs nobody here wrote, built
# from Debian source packages with clang for wasm32-wasi, run under
# `kiln exec` and compared with the same sources built natively (and with
# node's WASI when node is installed).
#   PROGRAM: zlib   example.c self test; minigzip round trip of 3 MB
#            bzip2  compressed bytes identical to native; round trips through
#                   files and stdin/stdout; -t integrity test
#            sqlite3 the shell creates, fills and queries a database in a
#                   preopened directory (same output as native); speedtest1
#                   --size 2 completes
#            libsodium every test of test/default (77) passes, each checking its
#                   own expected output (.exp) through the preopened directory
# Sources come from `apt-get source --download-only` (a deb-src entry must be
# configured); without them the test is skipped (exit 77).
set -u
prog=$1 kiln=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$work/src" && cd "$work/src" || exit 1
res=$(clang -print-resource-dir)
WASI_CC="clang --target=wasm32-wasi -O2 -nostdinc -isystem $res/include -isystem /usr/include/wasm32-wasi -Wl,--stack-first -Wl,-z,stack-size=1048576"
# Debian's clang runs wasm-opt when binaryen is installed: keep modules as linked
mkdir -p "$work/noop" && printf '#!/bin/sh\nexit 0\n' >"$work/noop/wasm-opt" && chmod +x "$work/noop/wasm-opt"
PATH="$work/noop:$PATH"
fetch() { # fetch PKG DIRGLOB
    d=$(ls -d $2 2>/dev/null | head -n 1)
    if [ -z "$d" ]; then
        apt-get source --download-only "$1" >/dev/null 2>&1 || { echo "skip: no source for $1"; exit 77; }
        for t in "$1"_*.orig.tar.*; do tar xf "$t"; done
        d=$(ls -d $2 2>/dev/null | head -n 1)
    fi
    [ -n "$d" ] || { echo "skip: cannot unpack $1"; exit 77; }
    echo "$work/src/$d"
}
data() { head -c "$1" "$kiln" >"$2"; }
node_run() { # node_run DIR ARGS... (stdout only)
    command -v node >/dev/null || return 0
    node --no-warnings "$here/../node_wasi.mjs" "$@" 2>/dev/null
}

case $prog in
zlib)
    src=$(fetch zlib 'zlib-*/') || exit $?
    cd "$src"
    S="adler32.c crc32.c deflate.c infback.c inffast.c inflate.c inftrees.c trees.c zutil.c compress.c uncompr.c gzclose.c gzlib.c gzread.c gzwrite.c"
    $WASI_CC -DZ_HAVE_UNISTD_H -I. test/example.c $S -o "$work/zexample.wasm" || fail build
    $WASI_CC -DZ_HAVE_UNISTD_H -I. test/minigzip.c $S -o "$work/minigzip.wasm" || fail build
    cc -O2 -DZ_HAVE_UNISTD_H -I. test/example.c $S -o "$work/zexample.native" || fail build
    rm -rf "$work/k" "$work/n" && mkdir "$work/k" "$work/n"
    (cd "$work/n" && "$work/zexample.native") | grep -v '^zlib version' >"$work/n.out"
    "$kiln" exec --dir "$work/k::/" "$work/zexample.wasm" | grep -v '^zlib version' >"$work/k.out" \
        || fail "example exit"
    diff -u "$work/n.out" "$work/k.out" || fail "example output differs from native"
    grep -q 'inflate with dictionary: hello, hello!' "$work/k.out" || fail "example output"
    data 3000000 "$work/k/data.bin"
    cp "$work/k/data.bin" "$work/orig.bin"
    "$kiln" exec --dir "$work/k::/" "$work/minigzip.wasm" data.bin || fail "minigzip"
    [ -f "$work/k/data.bin.gz" ] && [ ! -e "$work/k/data.bin" ] || fail "minigzip files"
    "$kiln" exec --dir "$work/k::/" "$work/minigzip.wasm" -d data.bin.gz || fail "minigzip -d"
    cmp "$work/k/data.bin" "$work/orig.bin" || fail "round trip"
    rm -rf "$work/nd" && mkdir "$work/nd"
    if command -v node >/dev/null; then
        node_run "$work/zexample.wasm" "$work/nd" / | grep -v '^zlib version' >"$work/node.out"
        diff -u "$work/node.out" "$work/k.out" || fail "example output differs from node"
    fi
    ;;
bzip2)
    src=$(fetch bzip2 'bzip2-*/') || exit $?
    cd "$src"
    S="bzip2.c blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c"
    $WASI_CC -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS $S "$here/compat.c" \
        -o "$work/bzip2.wasm" -lwasi-emulated-signal -lwasi-emulated-process-clocks || fail build
    cc -O2 $S -o "$work/bzip2.native" 2>/dev/null || fail build
    rm -rf "$work/k" && mkdir "$work/k"
    data 2000000 "$work/orig.bin"
    cp "$work/orig.bin" "$work/k/d.bin"
    "$work/bzip2.native" -c <"$work/orig.bin" >"$work/native.bz2"
    "$kiln" exec --dir "$work/k::/" "$work/bzip2.wasm" -k d.bin || fail "compress"
    cmp "$work/k/d.bin.bz2" "$work/native.bz2" || fail "compressed bytes differ from native"
    rm "$work/k/d.bin"
    "$kiln" exec --dir "$work/k::/" "$work/bzip2.wasm" -d d.bin.bz2 || fail "decompress"
    cmp "$work/k/d.bin" "$work/orig.bin" || fail "round trip"
    "$kiln" exec "$work/bzip2.wasm" -c <"$work/orig.bin" >"$work/stdin.bz2" || fail "stdin"
    cmp "$work/stdin.bz2" "$work/native.bz2" || fail "stdin compression differs"
    "$kiln" exec "$work/bzip2.wasm" -t <"$work/stdin.bz2" || fail "-t"
    printf 'not bzip2' | "$kiln" exec "$work/bzip2.wasm" -t 2>/dev/null && fail "-t on garbage"
    if command -v node >/dev/null; then
        node_run "$work/bzip2.wasm" "$work/k" / -c d.bin >"$work/node.bz2"
        cmp "$work/node.bz2" "$work/native.bz2" || fail "node differs"
    fi
    ;;
sqlite3)
    src=$(fetch sqlite3 'sqlite3-*/') || exit $?
    mkdir -p "$src/bld" && cd "$src/bld"
    if [ ! -f sqlite3.c ]; then
        ../configure --disable-tcl >/dev/null 2>&1 && make sqlite3.c shell.c >/dev/null 2>&1 \
            || { echo "skip: cannot generate the amalgamation (tclsh?)"; exit 77; }
    fi
    SQ="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_POPEN -DSQLITE_NOHAVE_SYSTEM -DSQLITE_OMIT_DEPRECATED"
    [ -f "$work/sqlite3.wasm" ] && [ -f "$work/sqlite3.native" ] ||
    $WASI_CC -isystem "$here/compat" -include "$here/compat/wasi_compat.h" $SQ \
        -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_PROCESS_CLOCKS \
        -D_WASI_EMULATED_GETPID '-DSQLITE_DEFAULT_UNIX_VFS="unix-dotfile"' \
        shell.c sqlite3.c "$here/compat.c" -o "$work/sqlite3.wasm" -lwasi-emulated-signal \
        -lwasi-emulated-mman -lwasi-emulated-process-clocks -lwasi-emulated-getpid || fail build
    [ -f "$work/sqlite3.native" ] ||
        cc -O2 $SQ shell.c sqlite3.c -o "$work/sqlite3.native" -lm 2>/dev/null || fail build
    cat >"$work/q.sql" <<'SQL'
create table t(a integer primary key, b text, c real);
insert into t(b, c) values ('hello', 1.5);
with recursive n(x) as (select 1 union all select x + 1 from n where x < 2000)
  insert into t(b, c) select printf('row %d', x), x * 0.25 from n;
create index tb on t(b);
select count(*), sum(a), total(c) from t;
select b from t where b like 'row 19__' order by a desc limit 3;
update t set c = c * 2 where a % 2 = 0;
delete from t where a > 1500;
select count(*), printf('%.2f', total(c)) from t;
.tables
.schema t
pragma integrity_check;
SQL
    rm -rf "$work/k" "$work/n" && mkdir "$work/k" "$work/n"
    (cd "$work/n" && HOME=/nonexistent "$work/sqlite3.native" "$work/n/test.db" <"$work/q.sql") \
        >"$work/n.out" 2>&1
    "$kiln" exec --dir "$work/k::/data" "$work/sqlite3.wasm" /data/test.db <"$work/q.sql" \
        >"$work/k.out" 2>"$work/k.err" || fail "sqlite3 exit: $(cat "$work/k.err")"
    diff -u "$work/n.out" "$work/k.out" || fail "sqlite3 output differs from native"
    echo "select count(*) from t;" | "$kiln" exec --dir "$work/k::/data" "$work/sqlite3.wasm" \
        /data/test.db 2>/dev/null | grep -qx 1500 || fail "database not persisted"
    # speedtest1 (sqlite's own benchmark program) must complete
    [ -f "$work/speedtest1.wasm" ] ||
        $WASI_CC -isystem "$here/compat" -include "$here/compat/wasi_compat.h" $SQ -I. \
            -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_PROCESS_CLOCKS \
            -D_WASI_EMULATED_GETPID '-DSQLITE_DEFAULT_UNIX_VFS="unix-dotfile"' \
            ../test/speedtest1.c sqlite3.c "$here/compat.c" -o "$work/speedtest1.wasm" \
            -lwasi-emulated-signal -lwasi-emulated-mman -lwasi-emulated-process-clocks \
            -lwasi-emulated-getpid || fail "speedtest1 build"
    "$kiln" exec --dir "$work/k::/data" "$work/speedtest1.wasm" --size 2 /data/speed.db \
        >"$work/speed.out" 2>&1 || fail "speedtest1: $(tail -n 3 "$work/speed.out")"
    grep -q 'TOTAL' "$work/speed.out" || fail "speedtest1 output"
    ;;
libsodium)
    src=$(fetch libsodium 'libsodium-*/') || exit $?
    cd "$src"
    v=$(sed -n 's/^AC_INIT(\[libsodium\],\[\([0-9.]*\)\].*/\1/p' configure.ac)
    sed -e "s/@VERSION@/$v/; s/@SODIUM_LIBRARY_VERSION_MAJOR@/10/" \
        -e 's/@SODIUM_LIBRARY_VERSION_MINOR@/3/; s/@SODIUM_LIBRARY_MINIMAL_DEF@//' \
        src/libsodium/include/sodium/version.h.in >src/libsodium/include/sodium/version.h
    SF="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -DCONFIGURED=1 -DHAVE_INTTYPES_H -DHAVE_STDINT_H -Isrc/libsodium/include/sodium -Isrc/libsodium/include"
    mkdir -p "$work/obj" "$work/tests"
    if [ ! -f "$work/libsodium.a" ]; then
        for f in $(find src/libsodium -name '*.c'); do
            echo "$WASI_CC $SF -c $f -o $work/obj/$(echo "$f" | tr / _).o"
        done | xargs -P2 -I{} sh -c '{}' || fail "library build"
        llvm-ar-14 rcs "$work/libsodium.a" "$work"/obj/*.o 2>/dev/null ||
            ar rcs "$work/libsodium.a" "$work"/obj/*.o || fail "ar"
    fi
    cd test/default
    for f in *.c; do
        t=${f%.c}
        [ -f "$work/tests/$t.wasm" ] ||
            echo "$WASI_CC -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -I. -I../quirks -I../../src/libsodium/include -I../../src/libsodium/include/sodium $f $work/libsodium.a -lwasi-emulated-signal -lwasi-emulated-process-clocks -o $work/tests/$t.wasm 2>/dev/null"
    done | xargs -P2 -I{} sh -c '{}' || fail "test build"
    rm -rf "$work/run" && mkdir "$work/run" && cp ./*.exp "$work/run/"
    pass=0 failed=""
    for w in "$work"/tests/*.wasm; do
        t=$(basename "$w" .wasm)
        if "$kiln" exec --dir "$work/run::/" "$w" >/dev/null 2>"$work/run/$t.stderr"; then
            pass=$((pass + 1))
        else
            failed="$failed $t"
        fi
    done
    echo "libsodium: $pass passed;${failed:- none failed}"
    [ -z "$failed" ] || fail "libsodium tests failed:$failed"
    ;;
*)
    echo "unknown program $prog"; exit 2 ;;
esac
echo "ok: $prog"
