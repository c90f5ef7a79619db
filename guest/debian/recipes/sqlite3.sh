# recipes/sqlite3.sh — the sqlite3 shell and speedtest1 (test/speedtest1.c)
# from Debian's sqlite3 3.40 source package.
#
# The amalgamation (sqlite3.c, shell.c) is generated in bld/ with the
# package's own configure (needs tclsh). For wasm32-wasi we set what sqlite
# 3.41 sets for WASI upstream: no threads, no WAL, no mmap, no extension
# loading, the unix-dotfile VFS (no POSIX locks), plus no popen/system; the
# native build gets the same options so both run the same SQL engine.
# Outputs: sqlite3.{wasm,native}, speedtest1.{wasm,native}.

SQ_OPTS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0
 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_POPEN -DSQLITE_NOHAVE_SYSTEM
 -DSQLITE_DEFAULT_UNIX_VFS=\"unix-dotfile\""
SQ_WASI_EMU="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_PROCESS_CLOCKS
 -D_WASI_EMULATED_GETPID"
SQ_WASI_LIBS="-lwasi-emulated-signal -lwasi-emulated-mman -lwasi-emulated-process-clocks
 -lwasi-emulated-getpid"

recipe_build() {
    out=$1
    set -x
    mkdir -p bld
    if [ ! -f bld/sqlite3.c ] || [ ! -f bld/shell.c ]; then
        (cd bld && ../configure --disable-tcl && make sqlite3.c shell.c) || return 1
    fi
    cd bld
    # sqlite3.c is compiled once per target and linked into both programs.
    $WASI_CC $WASI_CFLAGS -include "$DEB_HERE/shim/wasi_shim.h" $SQ_OPTS $SQ_WASI_EMU \
        -I. -c sqlite3.c -o "$out/sqlite3-lib.wasm.o" || return 1
    $WASI_CC $WASI_CFLAGS $WASI_LDFLAGS -include "$DEB_HERE/shim/wasi_shim.h" $SQ_OPTS \
        $SQ_WASI_EMU -I. -isystem "$DEB_HERE/shim/include" shell.c "$out/sqlite3-lib.wasm.o" "$DEB_HERE/shim/shim.c" \
        -o "$out/sqlite3.wasm" $SQ_WASI_LIBS || return 1
    $WASI_CC $WASI_CFLAGS $WASI_LDFLAGS -include "$DEB_HERE/shim/wasi_shim.h" $SQ_OPTS \
        $SQ_WASI_EMU -I. ../test/speedtest1.c "$out/sqlite3-lib.wasm.o" "$DEB_HERE/shim/shim.c" \
        -o "$out/speedtest1.wasm" $SQ_WASI_LIBS || return 1
    $NATIVE_CC $NATIVE_CFLAGS $SQ_OPTS -I. -c sqlite3.c -o "$out/sqlite3-lib.native.o" || return 1
    $NATIVE_CC $NATIVE_CFLAGS $SQ_OPTS -I. shell.c "$out/sqlite3-lib.native.o" \
        -o "$out/sqlite3.native" -lm || return 1
    $NATIVE_CC $NATIVE_CFLAGS $SQ_OPTS -I. ../test/speedtest1.c "$out/sqlite3-lib.native.o" \
        -o "$out/speedtest1.native" -lm || return 1
    rm -f "$out"/*.o
}
