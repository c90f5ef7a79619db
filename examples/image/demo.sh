#!/bin/sh
# The example end to end: convert the example image built by the build
# (build/examples/image/kv-image) with a fresh key, then run it.
# usage: demo.sh KILN LAYOUT WORKDIR
set -eu
KILN=$1
LAYOUT=$2
W=$3
rm -rf "$W"
mkdir -p "$W/trust"
"$KILN" keygen -o "$W/key" >/dev/null
cp "$W/key.pub.pem" "$W/trust/"
"$KILN" analyze "$LAYOUT"
"$KILN" convert "$LAYOUT" -o "$W/kv-kiln" --key "$W/key.pem"
echo "--- kiln run (Cmd: list the keys)"
"$KILN" run --trust "$W/trust" --cache "$W/cache" "$W/kv-kiln"
echo "--- kiln run -- greeting"
"$KILN" run --trust "$W/trust" --cache "$W/cache" "$W/kv-kiln" -- greeting
