#!/bin/sh
# spec-compare.sh — runs wast2json files through kiln-spec twice, interpreted
# and AOT-compiled (--aot CACHE), and requires the same outcome for every
# command (the -v transcripts must be identical, which also makes every AOT
# result equal to the interpreter's, traps and their messages included).
#
#   spec-compare.sh KILN_SPEC CACHE_DIR FILE.json...
#
# Prints one line per file and a summary; exit 0 iff every file matched.
set -u
spec=$1; cache=$2; shift 2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0; bad=0
for json in "$@"; do
    name=$(basename "$json" .json)
    "$spec" -v "$json" > "$tmp/interp" 2>&1; ri=$?
    "$spec" -v --aot "$cache" "$json" > "$tmp/aot" 2>&1; ra=$?
    n=$((n + 1))
    if [ $ri -ne $ra ] || ! cmp -s "$tmp/interp" "$tmp/aot"; then
        bad=$((bad + 1))
        echo "DIFF $name: interp rc=$ri [$(tail -n1 "$tmp/interp")], aot rc=$ra [$(tail -n1 "$tmp/aot")]"
        diff "$tmp/interp" "$tmp/aot" | head -n 6 | sed 's/^/    /'
    else
        echo "same $name: $(tail -n1 "$tmp/aot")"
    fi
done
echo "spec-compare: $n files, $((n - bad)) identical, $bad differ"
[ $bad -eq 0 ]
