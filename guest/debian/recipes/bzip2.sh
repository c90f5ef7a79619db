# recipes/bzip2.sh — the bzip2 program from Debian's bzip2 source package.
# bzip2.c installs signal handlers and copies file modes: wasi-libc's signal
# emulation and our shim (fchmod/fchown succeed without effect) cover that.
# Outputs: bzip2.{wasm,native}.

BZ_SRCS="bzip2.c blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c"

recipe_build() {
    out=$1
    set -x
    $WASI_CC $WASI_CFLAGS $WASI_LDFLAGS -include "$DEB_HERE/shim/wasi_shim.h" \
        -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS $BZ_SRCS "$DEB_HERE/shim/shim.c" \
        -o "$out/bzip2.wasm" -lwasi-emulated-signal -lwasi-emulated-process-clocks || return 1
    $NATIVE_CC $NATIVE_CFLAGS -D_FILE_OFFSET_BITS=64 $BZ_SRCS -o "$out/bzip2.native" || return 1
}
