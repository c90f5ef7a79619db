#!/bin/sh
# run_coverage.sh KILN t_wasi_raw.wasm WASI_P1_DEF — every function of the
# WASI preview1 table must have been called by the guest tests: runs
# t_wasi_raw with an audit log and checks the exit summary's "abi" counters.
set -u
kiln=$1 wasm=$2 def=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-cov-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/w"
"$kiln" exec --dir "$tmp/w::/w" --env K1=v1 --env "K2=two words" --audit "$tmp/a.jsonl" \
    "$wasm" /w a "b c" >/dev/null 2>&1
summary=$(tail -n 1 "$tmp/a.jsonl")
missing=0 total=0
for fn in $(sed -n 's/^KILN_WASI_FN(\([a-z_0-9]*\),.*/\1/p' "$def"); do
    total=$((total + 1))
    case "$summary" in
    *"\"$fn\":"*) ;;
    *) echo "not called: $fn"; missing=$((missing + 1)) ;;
    esac
done
echo "$((total - missing))/$total WASI functions called"
[ $total -eq 46 ] && [ $missing -eq 0 ]
