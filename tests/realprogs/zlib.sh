#!/bin/sh
# zlib.sh KILN WORKDIR — zlib's own example programs from Debian's zlib
# source: test/example.c (its self test) prints the same under kiln, node's
# WASI and natively; minigzip round-trips a 3 MB file in a preopened
# directory under kiln, its .gz is byte-identical to the native minigzip's
# and to node's, and each side decompresses the other's output.
. "$(dirname "$0")/common.sh"
rp_build zlib
cd "$WORK" || exit 1
rm -rf k n d && mkdir k n d

# example.c writes foo.gz into its working directory (the preopen "/").
(cd n && "$OUT/zexample.native") >native.out 2>&1 || rp_fail "native example exit $?"
rp_kiln --dir "$WORK/k::/" "$OUT/zexample.wasm" >kiln.out 2>&1 || rp_fail "kiln example exit $?"
rp_node --dir "$WORK/d::/" "$OUT/zexample.wasm" >node.out 2>&1 || rp_fail "node example exit $?"
grep -q '^inflate with dictionary: hello, hello!$' kiln.out || rp_fail "example output: $(cat kiln.out)"
rp_same node.out kiln.out "example: kiln output differs from node's WASI"
# compile flags differ between wasm32 and x86-64 (sizeof(long), off_t): drop that line
grep -v '^zlib version' native.out >native.cmp
grep -v '^zlib version' kiln.out >kiln.cmp
rp_same native.cmp kiln.cmp "example: kiln output differs from native"
rp_same n/foo.gz k/foo.gz "example: foo.gz differs from native"

# minigzip round trip
rp_data orig.bin 3000000
cp orig.bin k/data.bin && cp orig.bin n/data.bin && cp orig.bin d/data.bin
rp_kiln --dir "$WORK/k::/" "$OUT/minigzip.wasm" data.bin || rp_fail "kiln minigzip exit $?"
(cd n && "$OUT/minigzip.native" data.bin) || rp_fail "native minigzip exit $?"
rp_node --dir "$WORK/d::/" "$OUT/minigzip.wasm" data.bin || rp_fail "node minigzip exit $?"
[ -f k/data.bin.gz ] && [ ! -e k/data.bin ] || rp_fail "minigzip under kiln left $(ls k)"
rp_same n/data.bin.gz k/data.bin.gz "minigzip: compressed bytes differ from native"
rp_same d/data.bin.gz k/data.bin.gz "minigzip: compressed bytes differ from node"
# kiln decompresses; native decompresses kiln's file through stdin
"$OUT/minigzip.native" -d <k/data.bin.gz >native-of-kiln.bin || rp_fail "native -d"
rp_same orig.bin native-of-kiln.bin "native minigzip cannot read kiln's output"
rp_kiln --dir "$WORK/k::/" "$OUT/minigzip.wasm" -d data.bin.gz || rp_fail "kiln minigzip -d exit $?"
rp_same orig.bin k/data.bin "minigzip round trip under kiln"
# stdin -> stdout with a compression level, through pipes
rp_kiln "$OUT/minigzip.wasm" -9 <orig.bin >stdin.gz || rp_fail "kiln minigzip -9 exit $?"
"$OUT/minigzip.native" -9 <orig.bin >native9.gz
rp_same native9.gz stdin.gz "minigzip -9 through stdin differs from native"
echo "ok: zlib example and minigzip (kiln = node = native)"
