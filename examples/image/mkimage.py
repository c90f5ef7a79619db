#!/usr/bin/env python3
"""Writes a one-layer OCI image layout from files (deterministic: fixed
mtimes and owners, sorted entries, gzip without a timestamp).

usage: mkimage.py OUT-LAYOUT REF ENTRYPOINT [--cmd ARG]... [--dir DEST:MODE]... SRC:DEST:MODE...
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile


def main():
    out, ref, entry = sys.argv[1:4]
    cmd, files, extra_dirs = [], [], []
    args = sys.argv[4:]
    while args:
        a = args.pop(0)
        if a == "--cmd":
            cmd.append(args.pop(0))
        elif a == "--dir":
            d, mode = args.pop(0).rsplit(":", 1)
            extra_dirs.append((d.strip("/"), int(mode, 8)))
        else:
            src, dest, mode = a.rsplit(":", 2)
            files.append((src, dest.lstrip("/"), int(mode, 8)))
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        dirs = sorted({os.path.dirname(d) for _, d, _ in files} - {""})
        for d in sorted({p for d in dirs for p in [d[: i] for i in range(len(d) + 1) if i == len(d) or d[i] == "/"]}):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
            t.addfile(ti)
        for d, mode in extra_dirs:
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, 0
            t.addfile(ti)
        for src, dest, mode in sorted(files, key=lambda f: f[1]):
            data = open(src, "rb").read()
            ti = tarfile.TarInfo(dest)
            ti.size, ti.mode, ti.mtime = len(data), mode, 0
            t.addfile(ti, io.BytesIO(data))
    tar = bio.getvalue()
    layer = gzip.compress(tar, mtime=0)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "blobs", "sha256"))

    def blob(b):
        d = hashlib.sha256(b).hexdigest()
        open(os.path.join(out, "blobs", "sha256", d), "wb").write(b)
        return {"digest": "sha256:" + d, "size": len(b)}

    config = {"architecture": "amd64", "os": "linux",
              "config": {"Entrypoint": [entry], "Cmd": cmd, "Env": ["PATH=/app:/usr/bin:/bin"],
                         "WorkingDir": "/"},
              "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
              "history": [{"created_by": "examples/image/mkimage.py"}]}
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": dict(mediaType="application/vnd.oci.image.config.v1+json",
                          **blob(json.dumps(config, sort_keys=True).encode())),
           "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", **blob(layer))]}
    md = blob(json.dumps(man, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [dict(
        mediaType="application/vnd.oci.image.manifest.v1+json", **md,
        annotations={"org.opencontainers.image.ref.name": ref})]}
    json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=2)
    open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')


if __name__ == "__main__":
    main()
