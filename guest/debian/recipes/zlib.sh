# recipes/zlib.sh — zlib's example programs (test/example.c, test/minigzip.c)
# from Debian's zlib source package, library sources compiled in.
# Outputs: zexample.{wasm,native}, minigzip.{wasm,native}.

ZLIB_SRCS="adler32.c crc32.c deflate.c infback.c inffast.c inflate.c inftrees.c trees.c
 zutil.c compress.c uncompr.c gzclose.c gzlib.c gzread.c gzwrite.c"

recipe_build() {
    out=$1
    set -x
    for p in example:zexample minigzip:minigzip; do
        src=${p%%:*} dst=${p#*:}
        $WASI_CC $WASI_CFLAGS $WASI_LDFLAGS -DZ_HAVE_UNISTD_H -I. "test/$src.c" $ZLIB_SRCS \
            -o "$out/$dst.wasm" || return 1
        $NATIVE_CC $NATIVE_CFLAGS -DZ_HAVE_UNISTD_H -I. "test/$src.c" $ZLIB_SRCS \
            -o "$out/$dst.native" || return 1
    done
}
