#!/bin/sh
# bzip2.sh KILN WORKDIR — Debian's bzip2 built for wasm32-wasi round-trips
# files under kiln: compressed bytes identical to the native bzip2 and to
# node's WASI run, decompression restores the original, -t tests integrity
# and refuses garbage, stdin/stdout pipes work, and -1 (small blocks) too;
# the output file gets the input's modification time, as natively.
. "$(dirname "$0")/common.sh"
rp_build bzip2
cd "$WORK" || exit 1
rm -rf k d && mkdir k d
rp_data orig.bin 2000000
cp orig.bin k/d.bin && cp orig.bin d/d.bin
# bzip2 copies the input's timestamps to its output (utime -> path_filestat_set_times)
touch -d '2020-01-02 03:04:05' k/d.bin
"$OUT/bzip2.native" -c <orig.bin >native.bz2 || rp_fail "native bzip2"

rp_kiln --dir "$WORK/k::/" "$OUT/bzip2.wasm" -k d.bin || rp_fail "kiln compress exit $?"
rp_same native.bz2 k/d.bin.bz2 "compressed bytes differ from native"
[ "$(stat -c %Y k/d.bin.bz2)" = "$(stat -c %Y k/d.bin)" ] ||
    rp_fail "output mtime $(stat -c %y k/d.bin.bz2) is not the input's $(stat -c %y k/d.bin)"
rp_node --dir "$WORK/d::/" "$OUT/bzip2.wasm" -k d.bin || rp_fail "node compress exit $?"
rp_same d/d.bin.bz2 k/d.bin.bz2 "compressed bytes differ from node"
rm k/d.bin
rp_kiln --dir "$WORK/k::/" "$OUT/bzip2.wasm" -d d.bin.bz2 || rp_fail "kiln decompress exit $?"
rp_same orig.bin k/d.bin "round trip through files"
[ ! -e k/d.bin.bz2 ] || rp_fail "bzip2 -d kept its input"

rp_kiln "$OUT/bzip2.wasm" -1 -c <orig.bin >stdin1.bz2 || rp_fail "kiln -1 -c exit $?"
"$OUT/bzip2.native" -1 -c <orig.bin >native1.bz2
rp_same native1.bz2 stdin1.bz2 "-1 through stdin differs from native"
rp_kiln "$OUT/bzip2.wasm" -t <stdin1.bz2 || rp_fail "-t on valid data"
rp_kiln "$OUT/bzip2.wasm" -dc <native.bz2 >dc.bin || rp_fail "kiln -dc exit $?"
rp_same orig.bin dc.bin "decompressing the native output under kiln"
printf 'this is not bzip2 data' >garbage
if rp_kiln "$OUT/bzip2.wasm" -t <garbage 2>garbage.err; then rp_fail "-t accepted garbage"; fi
grep -q 'bad magic number' garbage.err || rp_fail "-t on garbage: $(cat garbage.err)"
echo "ok: bzip2 round trips (kiln = node = native)"
