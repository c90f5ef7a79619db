#!/bin/sh
# kiln convert + kiln run end to end, on an image made here with umoci from
# programs built here (a wasm32-wasi entrypoint that reads a data file, a
# static native binary, a shell script):
#   - convert: the wasm entrypoint becomes a signed unit in place; native
#     files are reported with reasons; the output passes `skopeo inspect`
#     and `umoci unpack`, and the unit verifies with `kiln verify`;
#   - run: output, arguments and exit status pass through; warm run from the
#     cache; oci-archive output runs too;
#   - refusals: native entrypoint (unless --allow-native; run then refuses),
#     tampered layer blob, tampered attestation referrer, attestation signed
#     by an untrusted key, tampered unit or attestation copy in the cache;
#   - containerd (Debian's, started here with a private config and state
#     directory, stopped by its pid) imports and unpacks the oci-archive.
# usage: convert.sh KILN WORKDIR
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
# clang -B"$HERE/../../scripts/toolshim": a no-op wasm-opt (clang searches /usr/bin before PATH)
KILN=$1
W=$2
rm -rf "$W"
mkdir -p "$W"
cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
refuses() { # WHAT EXPECTED-TEXT CMD...
  what=$1; want=$2; shift 2
  if "$@" > out.txt 2> err.txt; then fail "$what: accepted"; fi
  grep -q -- "$want" err.txt || { cat err.txt >&2; fail "$what: message lacks '$want'"; }
  echo "ok: $what refused: $(head -c 300 err.txt)"
}

cat > greet.c <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    char buf[128] = "";
    if (argc > 1 && strcmp(argv[1], "wait") == 0 && !fgets(buf, sizeof buf, stdin)) return 98;
    FILE *f = fopen("/etc/greeting", "r");
    if (!f || !fgets(buf, sizeof buf, f)) { perror("/etc/greeting"); return 99; }
    printf("%s", buf);
    for (int i = 1; i < argc; i++) printf("arg %s\n", argv[i]);
    return argc - 1;
}
C
RES=$(clang -print-resource-dir)
clang --target=wasm32-wasi -B"$HERE/../../scripts/toolshim" -O2 -nostdinc \
  -isystem /usr/include/wasm32-wasi -isystem "$RES/include" \
  -o greet.wasm greet.c
printf 'int main(void){return 0;}\n' > native.c
cc -static -O2 -o native native.c

umoci init --layout L >/dev/null
umoci new --image L:t
umoci unpack --rootless --image L:t B >/dev/null
mkdir -p B/rootfs/app B/rootfs/etc B/rootfs/usr/bin
cp greet.wasm B/rootfs/app/greet.wasm
cp native B/rootfs/usr/bin/native
printf '#!/bin/sh\necho hi\n' > B/rootfs/app/run.sh && chmod 755 B/rootfs/app/run.sh
echo "hello from the image" > B/rootfs/etc/greeting
umoci repack --image L:t B
umoci config --image L:t --config.entrypoint /app/greet.wasm
umoci config --image L:t --tag native --config.entrypoint /usr/bin/native
rm -rf B

"$KILN" keygen -o k >/dev/null
"$KILN" keygen -o other >/dev/null
mkdir trust && cp k.pub.pem trust/

# ---- convert ----
"$KILN" convert --json L:t -o C --key k.pem > report.json
# progress: per layer on a terminal (script(1) gives one), nothing otherwise
"$KILN" convert L:t -o P1 --key k.pem > /dev/null 2> notty.txt
! grep -q "layer sha256\|copy sha256" notty.txt || fail "progress written to a non-terminal"
if command -v script >/dev/null; then
  script -q -c "'$KILN' convert L:t -o P2 --key k.pem" tty.txt > /dev/null 2>&1 || fail "convert on a tty"
  grep -q "layer sha256" tty.txt && grep -q "copy sha256" tty.txt || fail "no progress on a terminal"
  echo "ok: progress on a terminal only"
fi
rm -rf P1 P2
python3 - report.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert [u["path"] for u in r["units"]] == ["/app/greet.wasm"], r["units"]
nc = {n["path"]: n["reason"] for n in r["notConverted"]}
assert "translation to wasm is not available" in nc["/usr/bin/native"], nc
assert "interpreter polyfills" in nc["/app/run.sh"], nc
assert r["entrypoint"] == "/app/greet.wasm"
assert r["output"]["attestation"].startswith("sha256:")
print("report ok")
PY
skopeo inspect oci:C:t > inspect.json || fail "skopeo inspect"
grep -q '"Architecture"' inspect.json || fail "skopeo inspect output"
umoci unpack --rootless --image C:t U >/dev/null || fail "umoci unpack"
"$KILN" verify --trust trust U/rootfs/app/greet.wasm >/dev/null || fail "unit does not verify"
# --json on the reporting commands: verify (both outcomes), verify-run (refusal), compile
"$KILN" verify --trust trust --json U/rootfs/app/greet.wasm > v.json || fail "verify --json"
cp U/rootfs/app/greet.wasm flipped.unit
python3 -c "import sys;p=sys.argv[1];b=bytearray(open(p,'rb').read());b[len(b)//2]^=1;open(p,'wb').write(b)" flipped.unit
if "$KILN" verify --trust trust --json flipped.unit > vbad.json 2>/dev/null; then fail "flipped unit verified"; fi
echo '{"payload":""}' > run.json
if "$KILN" verify-run --key k.pub.pem --json run.json > vr.json 2>/dev/null; then fail "verify-run accepted garbage"; fi
"$KILN" compile --json greet.wasm -o greet.so > c.json || fail "compile --json"
python3 - <<'PY' || fail "--json output"
import json
v, b, r, c = (json.load(open(p)) for p in ("v.json", "vbad.json", "vr.json", "c.json"))
assert v["verified"] is True and v["manifest"]["source"]["path"] == "/app/greet.wasm", v
assert [x["name"] for x in v["regions"]][:2] == ["stub", "module.wasm"], v
assert b["verified"] is False and b["refusal"] == "digest mismatch", b
assert r["verified"] is False and "envelope" in r["error"], r
assert c["ok"] is True and c["outputBytes"] > 0 and c["output"] == "greet.so", c
PY
echo "ok: --json of verify, verify-run, compile"
[ -f U/rootfs/.kiln/attestation.json ] && [ -f U/rootfs/.kiln/policy.json ] || fail "kiln files missing"
grep -q 'dev.kiln.converted' C/blobs/sha256/* || fail "annotation missing"

# ---- run ----
out=$("$KILN" run --trust trust --cache cache C:t) || fail "kiln run"
[ "$out" = "hello from the image" ] || fail "kiln run output: $out"
# while the guest runs, kiln run is hardened: no_new_privs and the seccomp no-JIT filter
rm -f wait.fifo && mkfifo wait.fifo
"$KILN" run --trust trust --cache cache C:t -- wait <wait.fifo >wait.out 2>&1 &
rpid=$!
exec 9>wait.fifo
i=0
until grep -q "^Seccomp:[[:space:]]*2" /proc/$rpid/status 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 500 ] || { kill $rpid; fail "kiln run not under seccomp while the guest runs"; }
  sleep 0.01
done
grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$rpid/status || { kill $rpid; fail "kiln run: no_new_privs"; }
echo go >&9
exec 9>&-
wait $rpid || [ $? = 1 ] || fail "kiln run wait: $(cat wait.out)"
grep -q "arg wait" wait.out || fail "kiln run wait output: $(cat wait.out)"
echo "ok: kiln run hardened (no_new_privs, seccomp) while the guest runs"
set +e
out=$("$KILN" run --trust trust --cache cache C:t -- one two)
rc=$?
set -e
[ $rc = 2 ] || fail "exit status not passed through ($rc)"
[ "$out" = "$(printf 'hello from the image\narg one\narg two')" ] || fail "args: $out"
[ "$(ls -d cache/rootfs-* | wc -l)" = 1 ] || fail "cache"
# the verified-cache index: once the files are older than the racy window, a
# warm run stats the signed files instead of hashing them (--json says which)
sleep 0.2
"$KILN" run --trust trust --cache cache --json=run1.json C:t >/dev/null
[ -f cache/verified-* ] || fail "no verified-cache index"
"$KILN" run --trust trust --cache cache --json=run2.json C:t >/dev/null
python3 - run1.json run2.json <<'PY' || fail "run --json summary"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["command"] == "run" and a["exitCode"] == 0 and a["outcome"] == "exited", a
assert a["unit"]["path"] == "/app/greet.wasm" and a["unit"]["sha256"].startswith("sha256:"), a
assert a["cache"]["state"] == "hit" and a["cache"]["subjects"] == 2, a
assert b["cache"]["hashed"] == 0 and b["cache"]["unchanged"] == 2, b
assert b["audit"]["byEvent"]["exit"] == 1 and b["audit"]["exitReason"] == "exit", b
assert b["timesMs"]["totalMs"] > 0, b
PY
out=$("$KILN" run --trust trust --cache cache --rehash --json C:t 2>&1 >/dev/null)
echo "$out" | grep -q '"hashed":2,"unchanged":0' || fail "--rehash: $out"
echo "ok: verified-cache index used on warm runs, --rehash hashes again, --json summary"

# oci-archive output
"$KILN" convert L:t -o C.tar --format oci-archive --key k.pem >/dev/null
skopeo inspect oci-archive:C.tar:t >/dev/null || fail "skopeo inspect oci-archive"
out=$("$KILN" run --trust trust --cache cache2 C.tar) || fail "kiln run oci-archive"
[ "$out" = "hello from the image" ] || fail "oci-archive run output: $out"

# a docker-archive input (legacy: uncompressed layers under their diff_ids)
skopeo copy -q oci:L:t docker-archive:D.tar:example/greet:t
"$KILN" convert D.tar -o DC --key k.pem >/dev/null
skopeo inspect oci:DC:latest >/dev/null || fail "skopeo inspect of a converted docker-archive"
out=$("$KILN" run --trust trust --cache cache10 DC) || fail "kiln run of a converted docker-archive"
[ "$out" = "hello from the image" ] || fail "docker-archive run output: $out"

# a private, writable /tmp per run (the draft policy grants /tmp rw); the rootfs stays read-only
cat > wt.c <<'C'
#include <stdio.h>
int main(void)
{
    char b[32] = "";
    FILE *f = fopen("/tmp/x", "w");
    if (!f) { perror("/tmp/x"); return 1; }
    fputs("written\n", f);
    fclose(f);
    f = fopen("/tmp/x", "r");
    if (!f || !fgets(b, sizeof b, f)) return 2;
    printf("%s", b);
    printf("etc write: %s\n", fopen("/etc/y", "w") ? "allowed" : "denied");
    return 0;
}
C
clang --target=wasm32-wasi -B"$HERE/../../scripts/toolshim" -O2 -nostdinc \
  -isystem /usr/include/wasm32-wasi -isystem "$RES/include" \
  -o wt.wasm wt.c
python3 "$HERE/../../examples/image/mkimage.py" WT latest /app/wt --dir /tmp:1777 \
  --dir /etc:755 wt.wasm:/app/wt:755
"$KILN" convert WT -o WTC --key k.pem >/dev/null
mkdir tmpd
out=$(TMPDIR="$W/tmpd" "$KILN" run --trust trust --cache cache9 WTC) || fail "run with /tmp"
[ "$out" = "$(printf 'written\netc write: denied')" ] || fail "private /tmp: $out"
[ -z "$(ls tmpd)" ] || fail "private /tmp left behind: $(ls tmpd)"
echo "ok: private /tmp writable, rootfs read-only, nothing left behind"

# ---- refusals ----
refuses "native entrypoint" "is not converted" "$KILN" convert L:native -o N --key k.pem
[ ! -e N ] || fail "output written despite refusal"
"$KILN" convert L:native -o N --key k.pem --allow-native >/dev/null
refuses "run of a native entrypoint" "not a signed unit" "$KILN" run --trust trust --cache cache3 N:native
refuses "untrusted signer" "unknown key" "$KILN" run --trust trust --cache cache4 \
  "$(set -e; "$KILN" convert L:t -o O --key other.pem >/dev/null; echo O):t"
mkdir shared && chmod 777 shared
refuses "shared cache" "must be a directory owned by this user" "$KILN" run --trust trust --cache shared C:t
refuses "unconverted image" "not converted by kiln" "$KILN" run --trust trust --cache cache5 L:t

# tampered kiln layer blob (byte flipped in the middle)
cp -r C T1
layer=$(python3 -c "import json;m=json.load(open('T1/index.json'))['manifests'][0]['digest'][7:];print(json.load(open('T1/blobs/sha256/'+m))['layers'][-1]['digest'][7:])")
python3 -c "import sys;p=sys.argv[1];b=bytearray(open(p,'rb').read());b[len(b)//2]^=1;open(p,'wb').write(b)" T1/blobs/sha256/$layer
refuses "tampered layer" "digest mismatch" "$KILN" run --trust trust --cache cache6 T1:t
# tampered attestation referrer
cp -r C T2
att=$(python3 -c "
import json
for d in json.load(open('T2/index.json'))['manifests']:
    if d.get('artifactType'): print(json.load(open('T2/blobs/sha256/'+d['digest'][7:]))['layers'][0]['digest'][7:])")
python3 -c "import sys;p=sys.argv[1];b=bytearray(open(p,'rb').read());b[40]^=1;open(p,'wb').write(b)" T2/blobs/sha256/$att
refuses "tampered attestation" "digest mismatch" "$KILN" run --trust trust --cache cache7 T2:t
# forged attestation: payload changed, every digest up to index.json recomputed
cp -r C T3
python3 - T3 <<'PY'
import base64, hashlib, json, os, sys
root = sys.argv[1]
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(root, "blobs/sha256", d), "wb").write(b)
    return "sha256:" + d
idx = json.load(open(os.path.join(root, "index.json")))
for d in idx["manifests"]:
    if not d.get("artifactType"):
        continue
    art = json.load(open(os.path.join(root, "blobs/sha256", d["digest"][7:])))
    env = json.load(open(os.path.join(root, "blobs/sha256", art["layers"][0]["digest"][7:])))
    st = json.loads(base64.b64decode(env["payload"]))
    st["predicate"]["entrypoint"] = "/usr/bin/native"
    env["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    eb = json.dumps(env, sort_keys=True, separators=(",", ":")).encode()
    art["layers"][0].update(digest=blob(eb), size=len(eb))
    ab = json.dumps(art).encode()
    d.update(digest=blob(ab), size=len(ab))
json.dump(idx, open(os.path.join(root, "index.json"), "w"))
PY
refuses "forged attestation" "attestation" "$KILN" run --trust trust --cache cache8 T3:t
grep -q "bad signature\|bad envelope" err.txt || fail "forged attestation: not a signature refusal"
# tampered cache: the unit, then the attestation copy
# (the index lists the unit as verified: a change must still be seen)
root=$(ls -d cache/rootfs-*)
cp "$root/app/greet.wasm" saved.unit
python3 -c "import sys;p=sys.argv[1];b=bytearray(open(p,'rb').read());b[len(b)-300]^=1;open(p,'wb').write(b)" "$root/app/greet.wasm"
refuses "tampered unit in the cache" "digest mismatch with the attestation" "$KILN" run --trust trust --cache cache C:t
# same size, same mtime (set back), one byte of the stub flipped in place
cp saved.unit "$root/app/greet.wasm"
sleep 0.2
"$KILN" run --trust trust --cache cache C:t >/dev/null || fail "run after restoring the unit"
python3 -c "
import os, sys
p = sys.argv[1]; st = os.stat(p)
with open(p, 'r+b') as f:
    f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 1]))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))" "$root/app/greet.wasm"
refuses "stub byte flipped in the cache, mtime kept" "digest mismatch with the attestation" \
  "$KILN" run --trust trust --cache cache C:t
cp saved.unit "$root/app/greet.wasm"
python3 -c "import sys;p=sys.argv[1];b=bytearray(open(p,'rb').read());b[100]^=1;open(p,'wb').write(b)" "$root/app/greet.wasm"
sed -i 's/^\([0-9a-f]\{64\}\) [0-9 ]* \/app\/greet.wasm$/\1 0 0 0 0 0 0 0 \/app\/greet.wasm/' cache/verified-*
refuses "tampered unit with a stale index" "digest mismatch with the attestation" \
  "$KILN" run --trust trust --cache cache C:t
cp saved.unit "$root/app/greet.wasm"
echo ' ' >> "$root/.kiln/attestation.json"
refuses "tampered attestation copy" "differs from the signed referrer" "$KILN" run --trust trust --cache cache C:t

# ---- containerd: ctr images import of the converted oci-archive ----
if command -v containerd >/dev/null && command -v ctr >/dev/null && [ "$(id -u)" = 0 ]; then
  D=$(mktemp -d /tmp/kiln-ctrd-XXXXXX)
  cat > "$D/config.toml" <<TOML
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$D/c.sock"
[ttrpc]
  address = "$D/t.sock"
TOML
  containerd -c "$D/config.toml" > "$D/log" 2>&1 &
  CPID=$!
  trap 'kill $CPID 2>/dev/null; wait $CPID 2>/dev/null; rm -rf "$D"' EXIT
  for i in $(seq 100); do [ -S "$D/c.sock" ] && break; sleep 0.1; done
  ctr -a "$D/c.sock" images import --base-name kiln/test C.tar > ctr.txt 2>&1 || { cat ctr.txt; fail "ctr import"; }
  ctr -a "$D/c.sock" images check > check.txt
  grep -q 'kiln/test:t .*complete' check.txt || { cat check.txt; fail "ctr images check"; }
  echo "ok: containerd imported and unpacked the converted image"
else
  echo "skip: containerd/ctr not available or not root"
fi
echo "convert ok"
