# common.sh — sourced by the realprogs test scripts (POSIX sh).
#
#   usage of a test script: sh tests/realprogs/X.sh KILN WORKDIR
#
# Builds (or reuses, see guest/debian/build) the Debian programs a test needs,
# and offers: rp_kiln / rp_node / rp_native runners, rp_fail. A test fails
# (never skips) when the sources cannot be fetched or built, when node is
# missing, or when any output differs; it prints "ok: ..." and exits 0 only
# after every comparison passed.
set -u
RP_HERE=$(cd "$(dirname "$0")" && pwd)
RP_ROOT=$(cd "$RP_HERE/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 KILN WORKDIR" >&2; exit 2; }
KILN=$1
WORK=$2
mkdir -p "$WORK" && WORK=$(cd "$WORK" && pwd)

rp_fail() {
    echo "FAIL: $*"
    exit 1
}

# rp_build PKG: builds PKG (cached) and sets OUT to its output directory.
rp_build() {
    OUT=$("$RP_ROOT/guest/debian/build" --print-out "$1" 2>"$WORK/build-$1.err") ||
        rp_fail "cannot fetch or build Debian package $1: $(cat "$WORK/build-$1.err")"
}

command -v node >/dev/null ||
    rp_fail "node (20+) is the reference WASI runner and is not installed"
[ -x "$KILN" ] || rp_fail "no kiln binary at $KILN"

rp_kiln() { "$KILN" exec "$@"; }
rp_node() { node "$RP_HERE/node-wasi.mjs" "$@"; }

# rp_data FILE BYTES: deterministic test data, half text half binary-ish.
rp_data() {
    { seq 1 400000 | awk '{ printf "line %d %x %s\n", $1, $1 * 2654435761 % 4294967296, ($1 % 7 ? "abc" : "the quick brown fox") }'
      od -An -tx1 -v "$KILN"; } | head -c "$2" >"$1"
}

# rp_same A B WHAT: fails unless files A and B are identical.
rp_same() {
    cmp -s "$1" "$2" || { diff -u "$1" "$2" | head -n 40; rp_fail "$3"; }
}
