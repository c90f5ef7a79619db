# recipes/libsodium.sh — libsodium and its test suite (test/default) from
# Debian's libsodium source package, without autotools: the library's C
# sources are compiled directly (portable C only: no x86 assembly or SIMD
# paths, on both targets, as configure would choose for wasm32-wasi; see
# dist-build/wasm32-wasi.sh) with the configuration defines configure would
# give, and sodium/version.h is generated from version.h.in into our output
# directory. Each test is linked against that library.
# sodium_utils2/3 are left out: they check that touching a guard page kills
# the process (mprotect + SIGSEGV), which WASI cannot express (emscripten
# builds leave them out too).
# Outputs: tests/NAME.{wasm,native} and tests/NAME.exp for every test.

SODIUM_DEFS="-DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 -DHAVE_STDINT_H=1 -DHAVE_UNISTD_H=1"
# utils.c includes <signal.h> (only for its guard-page helpers)
SODIUM_WASI="-D_WASI_EMULATED_SIGNAL"

recipe_build() {
    out=$1
    set -x
    ver=$(sed -n 's/^AC_INIT(\[libsodium\],\[\([0-9.]*\)\].*/\1/p' configure.ac)
    major=$(sed -n 's/^SODIUM_LIBRARY_VERSION_MAJOR=\([0-9]*\)/\1/p' configure.ac)
    minor=$(sed -n 's/^SODIUM_LIBRARY_VERSION_MINOR=\([0-9]*\)/\1/p' configure.ac)
    [ -n "$ver" ] && [ -n "$major" ] && [ -n "$minor" ] || return 1
    mkdir -p "$out/gen/sodium" "$out/obj-wasm" "$out/obj-native" "$out/tests"
    sed -e "s/@VERSION@/$ver/" -e "s/@SODIUM_LIBRARY_VERSION_MAJOR@/$major/" \
        -e "s/@SODIUM_LIBRARY_VERSION_MINOR@/$minor/" -e "s/@SODIUM_LIBRARY_MINIMAL_DEF@//" \
        src/libsodium/include/sodium/version.h.in >"$out/gen/sodium/version.h" || return 1
    inc="-I$out/gen -I$out/gen/sodium -Isrc/libsodium/include -Isrc/libsodium/include/sodium"
    i=0
    for c in $(find src/libsodium -name '*.c' | sort); do
        i=$((i + 1))
        $WASI_CC $WASI_CFLAGS $SODIUM_DEFS $SODIUM_WASI $inc -c "$c" -o "$out/obj-wasm/$i.o" || return 1
        $NATIVE_CC $NATIVE_CFLAGS $SODIUM_DEFS $inc -c "$c" -o "$out/obj-native/$i.o" || return 1
    done
    rm -f "$out/libsodium-wasm.a" "$out/libsodium-native.a"
    llvm-ar rcs "$out/libsodium-wasm.a" "$out"/obj-wasm/*.o || return 1
    ar rcs "$out/libsodium-native.a" "$out"/obj-native/*.o || return 1
    rm -rf "$out/obj-wasm" "$out/obj-native"
    tests=$(sed -n '/^TESTS_TARGETS = /,/^$/p' test/default/Makefile.am | grep -v '=' | tr -d '\\\t ')
    [ -n "$tests" ] || return 1
    for t in $tests; do
        $WASI_CC $WASI_CFLAGS $WASI_LDFLAGS $SODIUM_DEFS $SODIUM_WASI "-DTEST_NAME=\"$t\"" $inc -Itest/quirks \
            "test/default/$t.c" "$out/libsodium-wasm.a" -o "$out/tests/$t.wasm" \
            -lwasi-emulated-signal || return 1
        $NATIVE_CC $NATIVE_CFLAGS $SODIUM_DEFS "-DTEST_NAME=\"$t\"" $inc -Itest/quirks \
            "test/default/$t.c" "$out/libsodium-native.a" -o "$out/tests/$t.native" || return 1
        cp "test/default/$t.exp" "$out/tests/" || return 1
    done
}
