#!/bin/sh
# known_realprogs.sh KILN WORKDIR — the well-known libc functions of the AOT
# translator (src/wasm/aot/translate_known.c) are recognised in the real
# programs of tests/realprogs (sqlite3's speedtest1 and shell, bzip2, zlib;
# built from Debian sources against Debian's wasi-libc by `ctest -L
# realprogs`): every one of them that the program's name section lists
# must have its native fast path in the generated C (`kiln compile
# --keep-c`; the C compiler is replaced by a stub, only the translation is
# checked). Exits 77 (skipped) when the programs were never built or
# wasm-objdump (wabt) is missing.
set -u
kiln=$1; work=$2
out=${KILN_CACHE:-${HOME:-/root}/.cache/kiln}/debsrc/out
command -v wasm-objdump >/dev/null || { echo "wasm-objdump missing"; exit 77; }
[ -f "$out/sqlite3/speedtest1.wasm" ] ||
    { echo "$out/sqlite3/speedtest1.wasm missing: run ctest -L realprogs first"; exit 77; }
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
printf '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && : >"$2"; shift; done\n' >stubcc
chmod +x stubcc
fail=0
for p in sqlite3/speedtest1 sqlite3/sqlite3 bzip2/bzip2 zlib/minigzip zlib/zexample; do
    w=$out/$p.wasm
    [ -f "$w" ] || continue
    n=$(basename "$p")
    "$kiln" compile -q "$w" -o "$n.so" --keep-c "c-$n" --cc "$PWD/stubcc" >"$n.log" 2>&1 ||
        { echo "FAIL $n: kiln compile"; cat "$n.log"; fail=1; continue; }
    names=$(wasm-objdump -x -j name "$w" | sed -n 's/.*func\[[0-9]*\] <\(.*\)>$/\1/p' |
        sed 's/^__strchrnul$/strchrnul/; s/^__memrchr$/memrchr/' |
        grep -xE 'memcpy|memmove|memset|memcmp|strlen|memchr|strchrnul|strchr|strcspn|strspn|strcmp|strncmp|strnlen|memrchr|strrchr' |
        sort -u)
    got=""
    # every program calls memcpy: no names means no name section, or bodies rewritten (wasm-opt)
    case " $(echo $names) " in *" memcpy "*) ;; *)
        echo "FAIL $n: memcpy not in the name section (stripped, or not linked as lld does)"
        fail=1 ;;
    esac
    for f in $names; do
        if grep -q "/\* $f (wasi-libc): native" "c-$n"/*.c; then got="$got $f"; else
            echo "FAIL $n: $f is not recognised"; fail=1
        fi
    done
    echo "$n: recognised$got"
done
exit $fail
