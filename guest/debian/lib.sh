# lib.sh — shared by guest/debian/build and its recipes (sourced, POSIX sh).
#
# Fetches Debian source packages and builds real programs from them twice:
# for wasm32-wasi with Debian's clang and wasi-libc, and natively with gcc,
# so tests can compare the two (and node's WASI) byte for byte.
#
# Invariants:
# - No registry host name is ever written here: a deb-src entry, when none
#   exists, is derived from the machine's own apt sources (Types: deb ->
#   deb-src, beside the original file).
# - Everything lands under $KILN_CACHE (default ~/.cache/kiln/debsrc):
#     $cache/dl/PKG/      what `apt-get source --download-only` fetched
#     $cache/src/PKG/     the unpacked source (dpkg-source -x: Debian patches applied)
#     $cache/out/PKG/     the built programs (*.wasm and *.native) and a stamp
#   The stamp records a hash of the recipe, lib.sh, the shim files and the
#   compiler versions; a build is redone only when it changes.
# - Concurrent callers (ctest -j) are serialised per package with flock.
# - Failures print one "debian: ..." line on stderr and return non-zero;
#   nothing is ever silently skipped.

DEB_HERE=$(cd "$(dirname "$0")" && pwd)
DEB_CACHE=${KILN_CACHE:-${HOME:-/root}/.cache/kiln/debsrc}
DEB_RES=$(clang -print-resource-dir 2>/dev/null)

# The wasm32-wasi compiler: Debian's clang without the host's /usr/include.
WASI_CC="clang --target=wasm32-wasi"
WASI_CFLAGS="-O2 -nostdinc -isystem /usr/include/wasm32-wasi -isystem $DEB_RES/include"
WASI_LDFLAGS="-Wl,-z,stack-size=1048576 -Wl,--stack-first"
NATIVE_CC="gcc"
NATIVE_CFLAGS="-O2"

deb_die() {
    echo "debian: $*" >&2
    exit 1
}

deb_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# True when some apt source already provides deb-src entries.
deb_have_src_entry() {
    grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

# Derives deb-src entries from the existing apt sources (deb822 stanzas with
# their Types line changed; one-line "deb" lines turned into "deb-src"),
# written as kiln-deb-src-<name> beside the originals, then apt-get update.
deb_add_src_entry() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in *kiln-deb-src*) continue ;; esac
        grep -q '^Types:.*\bdeb\b' "$f" || continue
        sed 's/^Types:.*/Types: deb-src/' "$f" |
            deb_as_root tee "/etc/apt/sources.list.d/kiln-deb-src-$(basename "$f")" >/dev/null
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        case "$f" in *kiln-deb-src*) continue ;; esac
        grep -q '^deb[[:space:]]' "$f" || continue
        sed -n 's/^deb[[:space:]]/deb-src /p' "$f" |
            deb_as_root tee "/etc/apt/sources.list.d/kiln-deb-src-$(basename "$f")" >/dev/null
    done
    deb_as_root apt-get update -qq
}

# deb_fetch PKG: downloads (once) and unpacks (once) source package PKG;
# sets DEB_SRC to the unpacked tree. Exits with a message when impossible.
deb_fetch() {
    pkg=$1
    dl="$DEB_CACHE/dl/$pkg"
    DEB_SRC="$DEB_CACHE/src/$pkg"
    if ! ls "$dl"/*.dsc >/dev/null 2>&1; then
        mkdir -p "$dl" || deb_die "cannot create $dl"
        deb_have_src_entry || deb_add_src_entry ||
            deb_die "no deb-src entry and none could be derived from the apt sources"
        if ! (cd "$dl" && apt-get source --download-only "$pkg") >"$dl/fetch.log" 2>&1; then
            # An index older than the archive: refresh once and retry.
            deb_as_root apt-get update -qq >/dev/null 2>&1 || true
            (cd "$dl" && apt-get source --download-only "$pkg") >"$dl/fetch.log" 2>&1 ||
                deb_die "apt-get source --download-only $pkg failed (offline?): $(tail -n 1 "$dl/fetch.log")"
        fi
    fi
    if [ ! -f "$DEB_SRC/.unpacked" ]; then
        rm -rf "$DEB_SRC"
        mkdir -p "$DEB_CACHE/src"
        dsc=$(ls "$dl"/*.dsc | tail -n 1)
        if command -v dpkg-source >/dev/null; then
            (cd "$dl" && dpkg-source --no-check -x "$dsc" "$DEB_SRC") >/dev/null 2>&1 ||
                deb_die "dpkg-source -x $dsc failed"
        else
            mkdir -p "$DEB_SRC"
            tar -xf "$(ls "$dl"/*.orig.tar.* | head -n 1)" -C "$DEB_SRC" --strip-components=1 ||
                deb_die "cannot unpack $pkg"
        fi
        touch "$DEB_SRC/.unpacked"
    fi
}

# deb_version PKG: the Debian version of the fetched package (from the .dsc).
deb_version() {
    sed -n 's/^Version: //p' "$(ls "$DEB_CACHE/dl/$1"/*.dsc | tail -n 1)"
}

# deb_noop_wasm_opt: makes Debian's clang use a do-nothing wasm-opt, so it
# never rewrites the linked module when binaryen is installed: the directory
# goes into WASI_CC as -B (clang looks for wasm-opt in its own install dir,
# /usr/bin, before PATH; -B dirs come first) and, harmlessly, first in PATH.
deb_noop_wasm_opt() {
    d="$DEB_CACHE/tools"
    if [ ! -x "$d/wasm-opt" ]; then
        mkdir -p "$d"
        printf '#!/bin/sh\n# no-op: keep wasm modules exactly as lld linked them\nexit 0\n' >"$d/wasm-opt"
        chmod +x "$d/wasm-opt"
    fi
    case " $WASI_CC " in *" -B$d "*) ;; *) WASI_CC="$WASI_CC -B$d" ;; esac
    PATH="$d:$PATH"
    export PATH
}

# deb_stamp FILES...: a hash of the given files and the compilers' versions.
deb_stamp() {
    { cat "$@"; clang --version; gcc --version; } 2>/dev/null | sha256sum | cut -c1-16
}
