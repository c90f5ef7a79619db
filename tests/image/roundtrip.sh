#!/bin/sh
# Real images, made by this test with umoci and skopeo from programs it
# builds (a wasm32-wasi module, a static native binary, a shell script):
#   - two layers (files, modes, symlinks, a hard link, a deleted file and a
#     replaced directory -> whiteouts), entrypoint/env/ports/volumes in the
#     config;
#   - kiln unpack of the OCI layout gives the same tree as `umoci unpack`
#     (types, modes, sizes, link targets, contents);
#   - the docker-archive (`skopeo copy ... docker-archive:`) and oci-archive
#     forms give the same tree again; setuid is stripped unless allowed;
#   - kiln analyze classifies everything and its draft policy runs the
#     entrypoint under `kiln exec`.
# usage: roundtrip.sh KILN WORKDIR
set -eu
# no-op wasm-opt (-B: clang looks for binaryen's in /usr/bin before PATH)
SHIM=$(cd "$(dirname "$0")/../../scripts/toolshim" && pwd)
KILN=$1
W=$2
rm -rf "$W"
mkdir -p "$W"
cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- programs ----
cat > hello.c <<'C'
#include <stdio.h>
int main(int argc, char **argv) { printf("hello from wasm (%d args)\n", argc); return 0; }
C
RES=$(clang -print-resource-dir)
clang --target=wasm32-wasi -B"$SHIM" -O2 -nostdinc -isystem /usr/include/wasm32-wasi \
  -isystem "$RES/include" \
  -o hello.wasm hello.c
cc -static -O2 -o native hello.c

# ---- image: layer 1 ----
umoci init --layout L
umoci new --image L:t
umoci unpack --rootless --image L:t B >/dev/null
R=B/rootfs
mkdir -p $R/app $R/usr/bin $R/etc $R/data/old $R/tmp
cp hello.wasm $R/app/hello.wasm
cp native $R/usr/bin/native
ln -s native $R/usr/bin/sh
ln -s usr/bin $R/bin
printf '#!/bin/sh\necho script\n' > $R/app/run.sh
chmod 755 $R/app/run.sh
echo keep > $R/etc/keep
ln $R/etc/keep $R/etc/keep.hard
echo gone > $R/etc/gone
echo old > $R/data/old/file
cp native $R/usr/bin/suid && chmod 4755 $R/usr/bin/suid
chmod 1777 $R/tmp
umoci repack --image L:t B
# ---- layer 2: delete a file, replace a directory, add one ----
rm -rf B
umoci unpack --rootless --image L:t B >/dev/null
rm $R/etc/gone
rm -rf $R/data/old
mkdir $R/data/old
echo new > $R/data/old/other
echo added > $R/etc/added
umoci repack --image L:t B
umoci config --image L:t --config.entrypoint /app/hello.wasm --config.env PATH=/usr/bin:/bin \
  --config.exposedports 8080/tcp --config.volume /data --config.workingdir /app
rm -rf B
umoci unpack --rootless --image L:t REF >/dev/null

listing() { (cd "$1" && find . -mindepth 1 -printf '%y %m %s %l %p\n' | grep -v '^d .* \./$' | \
  sed 's/^\(d [0-9]*\) [0-9]* /\1 - /' | sort); }
contents() { (cd "$1" && find . -type f -exec sha256sum {} + | sort -k2); }

"$KILN" unpack --allow-setuid L:t oci >/dev/null
listing REF/rootfs > want.txt
listing oci > got.txt
diff want.txt got.txt || fail "kiln unpack differs from umoci unpack"
contents REF/rootfs > want.sum
contents oci > got.sum
diff want.sum got.sum || fail "file contents differ"
grep -q ' ./etc/gone$' got.txt && fail "whiteout not applied"
grep -q ' ./data/old/file$' got.txt && fail "replaced directory kept old content"
[ "$(stat -c %i oci/etc/keep)" = "$(stat -c %i oci/etc/keep.hard)" ] || fail "hard link lost"
[ "$(readlink oci/bin)" = "usr/bin" ] || fail "symlink target"

# setuid stripped by default
"$KILN" unpack L:t plain >/dev/null
[ "$(stat -c %a plain/usr/bin/suid)" = 755 ] || fail "setuid not stripped"
[ "$(stat -c %a plain/tmp)" = 1777 ] || fail "sticky bit lost"

# docker-archive (legacy) and oci-archive forms
skopeo copy -q oci:L:t docker-archive:d.tar:example/img:t
skopeo copy -q oci:L:t oci-archive:o.tar:t
"$KILN" unpack --allow-setuid d.tar docker >/dev/null
"$KILN" unpack --allow-setuid o.tar:t ociar >/dev/null
listing docker > got-docker.txt
listing ociar > got-ociar.txt
diff want.txt got-docker.txt || fail "docker-archive tree differs"
diff want.txt got-ociar.txt || fail "oci-archive tree differs"
"$KILN" unpack --json d.tar dj | grep -q '"format": "docker-archive"' || fail "format not docker-archive"
# Docker 25+ `docker save`: an OCI layout plus manifest.json in one tar; and the same
# tar read through manifest.json alone (index.json removed)
python3 - o.tar <<'PY'
import io, json, tarfile
src = tarfile.open("o.tar")
idx = json.load(src.extractfile("index.json"))
man = json.load(src.extractfile("blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
legacy = [{"Config": "blobs/sha256/" + man["config"]["digest"][7:], "RepoTags": ["example/img:t"],
           "Layers": ["blobs/sha256/" + l["digest"][7:] for l in man["layers"]]}]
for out, keep_index in (("d25.tar", True), ("d25-legacy.tar", False)):
    dst = tarfile.open(out, "w")
    for m in src.getmembers():
        if m.name == "index.json" and not keep_index:
            continue
        dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    b = json.dumps(legacy).encode()
    ti = tarfile.TarInfo("manifest.json"); ti.size = len(b)
    dst.addfile(ti, io.BytesIO(b))
    dst.close()
PY
"$KILN" unpack --allow-setuid --json d25.tar d25 | grep -q '"format": "oci-archive"' || fail "docker 25 form"
"$KILN" unpack --allow-setuid --json d25-legacy.tar d25l | grep -q '"format": "docker-archive"' || fail "docker 25 via manifest.json"
listing d25 > got-d25.txt
listing d25l > got-d25l.txt
diff want.txt got-d25.txt || fail "docker 25 tree differs"
diff want.txt got-d25l.txt || fail "docker 25 (manifest.json) tree differs"

# analysis of the image
"$KILN" analyze --json --policy policy.json L:t > report.json
python3 - report.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
files = {f["path"]: f for f in r["files"]}
def check(c, msg):
    if not c:
        sys.exit("FAIL: analyze: " + msg)
check(r["summary"]["entrypoint"] == {"path": "/app/hello.wasm", "kind": "wasm"}, "entrypoint")
w = files["/app/hello.wasm"]["wasm"]
check(w["abi"] == "wasi_snapshot_preview1", "wasm abi")
check("_start" in w["exports"], "wasm exports")
check(any(i.startswith("wasi_snapshot_preview1.fd_write") for i in w["imports"]), "wasm imports")
e = files["/usr/bin/native"]["elf"]
check(e["linkage"] == "static" and e["machine"] == "x86_64" and e["class"] == 64, "static ELF")
check(e["syscallSites"] > 0, "syscall sites")
check(files["/app/run.sh"]["kind"] == "script", "script kind")
edges = [(g["from"], g.get("to"), g["kind"]) for g in r["graph"]]
check(("/app/run.sh", "/usr/bin/native", "script") in edges, "script -> interpreter edge (via symlink)")
p = r["policy"]
check({"path": "/data", "mode": "rw", "comment": "a volume of the image config"} in p["filesystem"], "volume rule")
check(any(n.get("port") == 8080 and n["direction"] == "listen" for n in p["network"]), "port rule")
check("writev" in p["seccomp"]["syscalls"][0]["names"], "writev allowed")
print("analyze ok")
PY
# the draft policy is accepted by the vkernel and lets the entrypoint run
out=$("$KILN" exec --policy policy.json --dir oci::/ oci/app/hello.wasm)
[ "$out" = "hello from wasm (1 args)" ] || fail "kiln exec with the draft policy: $out"
echo "roundtrip ok"
