#!/usr/bin/env python3
"""Hostile and tricky images for kiln's extractor (tests/image).

usage: malicious.py KILN WORKDIR CASE

Builds the OCI layout for CASE under WORKDIR (created fresh), runs
`kiln unpack` on it and checks the outcome:
  - a hostile case must fail with exit status 1 and a message containing the
    expected text (layer digest, entry path and reason), leave no output
    directory and no temporary directory, and write nothing outside the
    output (a sentinel directory beside it stays empty, no 'pwned' file
    appears anywhere under WORKDIR);
  - a valid case must succeed and produce exactly the expected tree.
Layers are made with Python's tarfile module, so every byte is under the
test's control (duplicate names, `..`, device nodes, truncated gzip, ...).
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"))
        with open(os.path.join(root, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data):
        d = sha(data)
        with open(os.path.join(self.root, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return "sha256:" + d

    def image(self, layers, entrypoint=None, index_digest=None, diff_ids=None):
        """layers: list of (stored_bytes, media_type, uncompressed_bytes)."""
        cfg = {"architecture": "amd64", "os": "linux",
               "config": {"Entrypoint": entrypoint or ["/bin/true"], "Env": ["PATH=/bin"]},
               "rootfs": {"type": "layers",
                          "diff_ids": diff_ids or ["sha256:" + sha(u) for (_, _, u) in layers]}}
        cb = json.dumps(cfg).encode()
        man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                          "digest": self.blob(cb), "size": len(cb)},
               "layers": [{"mediaType": mt, "digest": self.blob(b), "size": len(b)}
                          for (b, mt, _) in layers]}
        mb = json.dumps(man).encode()
        md = self.blob(mb)
        idx = {"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": index_digest or md, "size": len(mb),
             "annotations": {"org.opencontainers.image.ref.name": "t"}}]}
        with open(os.path.join(self.root, "index.json"), "w") as f:
            json.dump(idx, f)
        return man


def tar_layer(entries):
    """entries: list of dicts: name, type (f,d,l,h,c,p), data, target, mode."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ty = e.get("type", "f")
            ti.mode = e.get("mode", 0o755 if ty == "d" else 0o644)
            data = e.get("data", b"")
            if ty == "f":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE, "h": tarfile.LNKTYPE,
                       "c": tarfile.CHRTYPE, "p": tarfile.FIFOTYPE}[ty]
            if ty in "lh":
                ti.linkname = e["target"]
            if ty == "c":
                ti.devmajor, ti.devminor = 1, 3
            t.addfile(ti)
    return bio.getvalue()


TAR = "application/vnd.oci.image.layer.v1.tar"
TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"


def plain(entries):
    u = tar_layer(entries)
    return (u, TAR, u)


def gz(entries):
    u = tar_layer(entries)
    return (gzip.compress(u, mtime=0), TGZ, u)


F = lambda name, data=b"x", mode=0o644: {"name": name, "data": data, "mode": mode}
D = lambda name, mode=0o755: {"name": name, "type": "d", "mode": mode}
L = lambda name, target: {"name": name, "type": "l", "target": target}
H = lambda name, target: {"name": name, "type": "h", "target": target}

# case -> (builder(layout) -> extra kiln args, expected message text or None for valid)
CASES = {}


def case(name, expect):
    def deco(fn):
        CASES[name] = (fn, expect)
        return fn
    return deco


@case("traversal", "`..` component")
def _(lay):
    lay.image([plain([F("ok"), F("../../pwned")])])


@case("absolute", "absolute path")
def _(lay):
    lay.image([plain([F("/tmp/pwned")])])


@case("symlink_write", "leads outside the root filesystem")
def _(lay):
    lay.image([plain([L("evil", "../outside"), F("evil/pwned")])])


@case("symlink_abs_write", "leads outside the root filesystem")
def _(lay):
    lay.image([plain([L("evil", "/"), F("evil/pwned")])])


@case("symlink_write_later_layer", "leads outside the root filesystem")
def _(lay):
    lay.image([plain([L("evil", "../../outside")]), plain([F("evil/pwned")])])


@case("hardlink_out", "hard link target: `..` component")
def _(lay):
    lay.image([plain([H("pwned", "../outside/secret")])])


@case("hardlink_through_symlink", "leads outside the root filesystem")
def _(lay):
    lay.image([plain([L("up", "/"), H("pwned", "up/etc/hostname")])])


@case("whiteout_dotdot", "whiteout of `.`, `..`")
def _(lay):
    lay.image([plain([D("a"), F("a/x")]), plain([F("a/.wh..")])])


@case("whiteout_empty", "whiteout of `.`, `..`")
def _(lay):
    lay.image([plain([D("a"), F("a/x")]), plain([F("a/.wh.")])])


@case("whiteout_same_layer", "whiteout of an entry of the same layer")
def _(lay):
    lay.image([plain([F("x"), F(".wh.x")])])


@case("stream_bound", "uncompressed size over the bound")
def _(lay):
    lay.image([gz([F("f%d" % i, b"\0" * 300000) for i in range(5)])])
    return ["--max-layer-bytes", "1000000"]


@case("total_bound", "for the image")
def _(lay):
    lay.image([gz([F("a", b"\0" * 300000)]), gz([F("b", b"\0" * 300000)])])
    return ["--max-total-bytes", "400000"]


@case("duplicate", "duplicate entry")
def _(lay):
    lay.image([plain([F("f", b"one"), F("f", b"two")])])


@case("device", "device node")
def _(lay):
    lay.image([plain([{"name": "dev/null", "type": "c"}])])


@case("fifo", "FIFO")
def _(lay):
    lay.image([plain([{"name": "p", "type": "p"}])])


@case("digest_mismatch", "digest mismatch")
def _(lay):
    man = lay.image([plain([F("f", b"original")])])
    d = man["layers"][0]["digest"][7:]
    p = os.path.join(lay.root, "blobs", "sha256", d)
    data = bytearray(open(p, "rb").read())
    i = data.find(b"original")
    data[i] = ord("O")
    open(p, "wb").write(bytes(data))


@case("size_mismatch", "size mismatch")
def _(lay):
    man = lay.image([plain([F("f", b"data")])])
    p = os.path.join(lay.root, "blobs", "sha256", man["layers"][0]["digest"][7:])
    open(p, "ab").write(b"\0" * 512)


@case("diff_id_mismatch", "diff_id mismatch")
def _(lay):
    lay.image([gz([F("f")])], diff_ids=["sha256:" + "0" * 64])


@case("truncated_gzip", "layer sha256:")
def _(lay):
    u = tar_layer([F("big", os.urandom(200000))])
    z = gzip.compress(u, mtime=0)
    lay.image([(z[: len(z) // 2], TGZ, u)])


@case("size_bound", "over the")
def _(lay):
    lay.image([gz([F("big", b"\0" * 3000000)])])
    return ["--max-layer-bytes", "1000000"]


@case("entry_bound", "more than 10 entries")
def _(lay):
    lay.image([plain([F("f%d" % i) for i in range(20)])])
    return ["--max-entries", "10"]


@case("missing_blob", "missing from the layout")
def _(lay):
    lay.image([plain([F("f")])], index_digest="sha256:" + "ab" * 32)


@case("bad_digest_syntax", "expected 64 lowercase hex digits")
def _(lay):
    lay.image([plain([F("f")])], index_digest="sha256:../../../../etc/passwd")


@case("not_a_dir_parent", "not a directory")
def _(lay):
    lay.image([plain([F("a"), F("a/b")])])


# ---- valid images: what must come out ----

@case("valid_zstd", None)
def _(lay):
    u = tar_layer([D("z"), F("z/file", b"zstd layer")])
    z = subprocess.run(["zstd", "-q", "-c"], input=u, capture_output=True, check=True).stdout
    lay.image([(z, "application/vnd.oci.image.layer.v1.tar+zstd", u)])


@case("valid_opaque_same_layer", None)
def _(lay):
    # the opaque marker comes after a new entry of the same directory: that entry stays
    lay.image([plain([D("d"), F("d/old")]), plain([D("d"), F("d/new"), F("d/.wh..wh..opq")])])


@case("valid_layers", None)
def _(lay):
    lay.image([
        gz([D("etc"), F("etc/keep", b"keep"), F("etc/gone", b"gone"), D("opq"), F("opq/old", b"old"),
            D("usr"), D("usr/bin"), F("usr/bin/tool", b"#!/bin/sh\necho hi\n", 0o4755),
            L("bin", "usr/bin"), H("etc/keep2", "etc/keep"), D("ro", 0o555), F("ro/f", b"r")]),
        plain([F("etc/.wh.gone"), F("opq/.wh..wh..opq"), F("opq/new", b"new"),
               F("bin/added", b"through a relative symlink")]),
    ])


VALID_TREE = {
    "valid_zstd": {"z": ("d", 0o755), "z/file": ("f", b"zstd layer", 0o644)},
    "valid_opaque_same_layer": {"d": ("d", 0o755), "d/new": ("f", b"x", 0o644)},
    "valid_layers": {
        "bin": ("l", "usr/bin"),
        "etc": ("d", 0o755), "etc/keep": ("f", b"keep", 0o644), "etc/keep2": ("f", b"keep", 0o644),
        "opq": ("d", 0o755), "opq/new": ("f", b"new", 0o644),
        "ro": ("d", 0o555), "ro/f": ("f", b"r", 0o644),
        "usr": ("d", 0o755), "usr/bin": ("d", 0o755),
        "usr/bin/tool": ("f", b"#!/bin/sh\necho hi\n", 0o755),  # setuid stripped
        "usr/bin/added": ("f", b"through a relative symlink", 0o644),
    }
}


def tree(root):
    out = {}
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("l", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("d", st.st_mode & 0o7777)
            else:
                out[rel] = ("f", open(p, "rb").read(), st.st_mode & 0o7777)
    return out


def main():
    kiln, work, name = sys.argv[1], sys.argv[2], sys.argv[3]
    fn, expect = CASES[name]
    subprocess.run(["rm", "-rf", work], check=True)
    os.makedirs(os.path.join(work, "outside"))
    os.makedirs(os.path.join(work, "x"))
    with open(os.path.join(work, "outside", "secret"), "w") as f:
        f.write("secret")
    lay = Layout(os.path.join(work, "x", "img"))
    extra = fn(lay) or []
    out = os.path.join(work, "x", "out", )
    r = subprocess.run([kiln, "unpack"] + extra + [lay.root, out], capture_output=True, text=True)
    msg = r.stderr.strip()
    print("kiln:", r.returncode, msg or r.stdout.strip())
    pwned = [os.path.join(dp, f) for dp, _, fs in os.walk(work) for f in fs if "pwned" in f]
    if os.listdir(os.path.join(work, "outside")) != ["secret"] or pwned:
        sys.exit("FAIL: something was written outside: %r %r" % (os.listdir(os.path.join(work, "outside")), pwned))
    if expect is not None:
        if r.returncode != 1:
            sys.exit("FAIL: expected a refusal, got exit %d" % r.returncode)
        if expect not in msg:
            sys.exit("FAIL: message lacks %r" % expect)
        left = sorted(os.listdir(os.path.join(work, "x")))
        if left != ["img"]:
            sys.exit("FAIL: partial output left behind: %r" % left)
    else:
        if r.returncode != 0:
            sys.exit("FAIL: valid image refused")
        got = tree(out)
        want = VALID_TREE[name]
        if got != want:
            for k in sorted(set(got) | set(want)):
                if got.get(k) != want.get(k):
                    print("  %s: got %r want %r" % (k, got.get(k), want.get(k)))
            sys.exit("FAIL: tree differs")
        if name == "valid_layers":
            a = os.stat(os.path.join(out, "etc/keep"))
            b = os.stat(os.path.join(out, "etc/keep2"))
            if a.st_ino != b.st_ino:
                sys.exit("FAIL: hard link not preserved")
    print("ok:", name)


if __name__ == "__main__":
    main()
