#!/bin/sh
# kiln analyze on a root filesystem made here from programs built here:
# static, static-pie and dynamic ELF (with the host's loader and libc copied
# in), JIT indicators (RWX segment, executable stack, a "libv8" dependency
# found through the graph), a wasm module that does not validate, scripts
# (direct, via /usr/bin/env, with a missing interpreter), symlinked paths.
# usage: analyze.sh KILN WORKDIR
set -eu
KILN=$1
W=$2
rm -rf "$W"
mkdir -p "$W"
cd "$W"
R=rootfs
mkdir -p $R/bin $R/usr/bin $R/usr/lib $R/lib64 $R/lib/x86_64-linux-gnu $R/app
printf 'int main(void){return 0;}\n' > m.c
printf 'int v8fn(void){return 1;}\n' > v.c
printf 'int v8fn(void);\nint main(void){return v8fn();}\n' > u.c
printf 'void _start(void){__asm__ volatile("mov $60,%%eax; xor %%edi,%%edi; syscall");}\n' > wx.c
cc -static -o $R/usr/bin/static m.c
cc -static-pie -o $R/usr/bin/spie m.c
cc -o $R/usr/bin/dyn m.c
cc -Wl,-z,execstack -o $R/usr/bin/execstack m.c 2>/dev/null
cc -nostdlib -static -Wl,-N -o $R/usr/bin/wx wx.c 2>/dev/null
cc -shared -fPIC -o $R/usr/lib/libv8.so v.c
cc -o $R/usr/bin/usesv8 u.c -L$R/usr/lib -lv8
cp -L /lib64/ld-linux-x86-64.so.2 $R/lib64/
cp -L /lib/x86_64-linux-gnu/libc.so.6 $R/lib/x86_64-linux-gnu/
ln -s /usr/bin/static $R/bin/sh  # absolute: resolved inside the rootfs
printf '\0asmgarbage' > $R/app/bad.wasm
printf '#!/bin/sh\necho\n' > $R/app/direct.sh
printf '#!/usr/bin/env static --flag\n' > $R/app/viaenv
printf '#!/opt/nothere/python\n' > $R/app/missing.py
chmod 755 $R/app/direct.sh $R/app/viaenv $R/app/missing.py

# hostile ELF headers: offsets and counts pointing outside the file
python3 - $R/app <<'PY'
import struct, sys, os
d = sys.argv[1]
def elf(phoff, phnum, shoff=0, shnum=0, phdrs=b"", extra=b""):
    h = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    h += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, phoff, shoff, 0, 64, 56, phnum, 64, shnum, 0)
    return h + phdrs + extra
def ph(t, flags, off, filesz):
    return struct.pack("<IIQQQQQQ", t, flags, off, 0x400000, 0x400000, filesz, filesz, 0x1000)
cases = {
    "phoff_outside": elf(1 << 60, 3),
    "phnum_huge": elf(64, 65535),
    "interp_outside": elf(64, 1, phdrs=ph(3, 4, 1 << 40, 20)),
    "dynamic_outside": elf(64, 1, phdrs=ph(2, 6, 0xffffffffffffff00, 0x1000)),
    "load_outside": elf(64, 1, phdrs=ph(1, 5, 1 << 50, 1 << 50)),
    "shoff_outside": elf(64, 0, shoff=(1 << 63), shnum=100),
    "truncated": b"\x7fELF\x02\x01\x01" + bytes(20),
}
for name, data in cases.items():
    p = os.path.join(d, "elf_" + name)
    open(p, "wb").write(data)
    os.chmod(p, 0o755)
PY
"$KILN" analyze --json --rootfs $R > report.json
"$KILN" analyze --rootfs $R > summary.txt
python3 - report.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = {x["path"]: x for x in r["files"]}
def check(c, msg):
    if not c:
        sys.exit("FAIL: " + msg)
check(f["/usr/bin/static"]["elf"]["linkage"] == "static", "static")
check(f["/usr/bin/static"]["elf"]["syscallSites"] > 0, "syscall sites")
check(f["/usr/bin/spie"]["elf"]["linkage"] == "static-pie", "static-pie")
d = f["/usr/bin/dyn"]["elf"]
check(d["linkage"] == "dynamic" and d["interp"] == "/lib64/ld-linux-x86-64.so.2", "dynamic")
check(d["needed"] == ["libc.so.6"], "needed")
check(any(s.startswith("__libc_start_main") for s in d["importedSymbols"]), "imported symbols")
check(f["/lib/x86_64-linux-gnu/libc.so.6"]["library"], "libc found as a library")
check("executable stack" in f["/usr/bin/execstack"]["jit"], "exec stack")
check("writable+executable segment" in f["/usr/bin/wx"]["jit"], "W+X segment")
check("JIT library" in f["/usr/lib/libv8.so"]["jit"], "libv8 itself")
j = f["/usr/bin/usesv8"]["jit"]
check("JIT library" in j and "a dependency has a JIT indicator" in j, "usesv8: %r" % j)
check(f["/usr/bin/static"]["jit"] == [], "no false JIT positive")
check(f["/app/bad.wasm"]["kind"] == "wasm" and "error" in f["/app/bad.wasm"], "invalid wasm")
g = {(e["from"], e.get("to"), e["kind"], bool(e.get("missing"))) for e in r["graph"]}
check(("/usr/bin/dyn", "/lib64/ld-linux-x86-64.so.2", "interpreter", False) in g, "interp edge")
check(("/usr/bin/dyn", "/lib/x86_64-linux-gnu/libc.so.6", "library", False) in g, "libc edge")
check(("/usr/bin/usesv8", "/usr/lib/libv8.so", "library", False) in g, "libv8 edge")
check(("/app/direct.sh", "/usr/bin/static", "script", False) in g, "script via /bin/sh symlink")
check(("/app/viaenv", "/usr/bin/static", "script", False) in g, "script via env")
check(("/app/missing.py", None, "script", True) in g, "missing interpreter")
check(r["summary"]["missingDependencies"] >= 1, "missing count")
names = r["policy"]["seccomp"]["syscalls"][0]["names"]
check("exit_group" in names, "policy names")
check(any("static ELF" in n for n in r["notes"]), "static note")
for n in ("phoff_outside", "phnum_huge", "truncated"):
    e = f["/app/elf_" + n]
    check(e["kind"] == "elf" and "error" in e, "hostile ELF %s: %r" % (n, e))
for n in ("interp_outside", "dynamic_outside", "shoff_outside"):
    e = f["/app/elf_" + n]
    check("warning" in e.get("elf", {}), "hostile ELF %s warning: %r" % (n, e))
check(f["/app/elf_load_outside"]["elf"]["syscallSites"] == 0, "load outside the file")
print("analyze ok")
PY
grep -q 'JIT indicators:' summary.txt || { cat summary.txt; echo "FAIL: summary"; exit 1; }
grep -q 'missing script: /app/missing.py needs /opt/nothere/python' summary.txt || { cat summary.txt; echo "FAIL: summary missing"; exit 1; }
echo "analyze.sh ok"
