# Well-known libc functions of the AOT translator (src/wasm/aot/translate_known.c,
# src/wasm/aot/aot_known.h); included from tests/aot/CMakeLists.txt.
#   aot.known.helpers[_portable]  known_test.c: every fast path of aot_known.h against a
#                                 model of the musl code, natively (SSE2 and portable loops)
#   aot.known.wasm                known.sh: known_prog.wasm (wasi-libc) recognised, same
#                                 digests and same traps interpreted and AOT
#   aot.known.fuel                known_fuel_test.c on known_lib.wasm: same results without fuel
#                                 (interp, AOT, AOT --metered), same minimum fuel and outcomes
#                                 under fuel (interp vs --metered: the fast paths fall back)
#   aot.known.realprogs           known_realprogs.sh: recognised in the real programs
#   aot.known.interrupt           busy_copy.wat: long memory.copy/fill (the host's glibc) in an
#                                 endless loop stop on time limits and SIGINT (interrupt_exec.sh)
# and the tools aot-known-bench (known_bench.c: ns per call against glibc) and
# known_wbench.wasm / aot-known-wbench-native (known_wbench.c: ns per call as a program sees it).
set(known_dir ${CMAKE_CURRENT_SOURCE_DIR}/known)

foreach(v sse2 portable)
  add_executable(aot-known-test-${v} ${known_dir}/known_test.c)
  target_include_directories(aot-known-test-${v} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  if(v STREQUAL portable)
    target_compile_definitions(aot-known-test-${v} PRIVATE KX_K_PORTABLE)
  endif()
endforeach()
add_test(NAME aot.known.helpers COMMAND aot-known-test-sse2)
add_test(NAME aot.known.helpers_portable COMMAND aot-known-test-portable)
set_tests_properties(aot.known.helpers aot.known.helpers_portable PROPERTIES LABELS "aot;unit")

# known_prog.wasm: compiled -O2, linked without -O so that Debian's clang does not run
# binaryen's wasm-opt on it (it does whenever binaryen is installed, whatever PATH says):
# the libc bodies must stay as lld links them.
find_program(KILN_KNOWN_CLANG NAMES clang clang-14)
if(KILN_KNOWN_CLANG AND EXISTS /usr/lib/wasm32-wasi/libc.a AND TARGET kiln-aot-exec
   AND TARGET kiln)
  set(kp ${CMAKE_CURRENT_BINARY_DIR}/known_prog)
  add_custom_command(OUTPUT ${kp}.wasm
    COMMAND ${KILN_KNOWN_CLANG} --target=wasm32-wasi -O2 -fno-builtin -Wall -Wextra -Werror
            -c ${known_dir}/known_prog.c -o ${kp}.o
    COMMAND ${KILN_KNOWN_CLANG} --target=wasm32-wasi -Wl,--stack-first
            -Wl,-z,stack-size=1048576 ${kp}.o -o ${kp}.wasm
    DEPENDS ${known_dir}/known_prog.c
    COMMENT "wasm32-wasi known_prog.wasm")
  add_custom_target(aot_known_prog ALL DEPENDS ${kp}.wasm)
  # the per-call benchmark as a program sees it (a tool, not a test): known_wbench.wasm
  set(kw ${CMAKE_CURRENT_BINARY_DIR}/known_wbench)
  add_custom_command(OUTPUT ${kw}.wasm
    COMMAND ${KILN_KNOWN_CLANG} --target=wasm32-wasi -O2 -fno-builtin -Wall -Wextra -Werror
            -c ${known_dir}/known_wbench.c -o ${kw}.o
    COMMAND ${KILN_KNOWN_CLANG} --target=wasm32-wasi ${kw}.o -o ${kw}.wasm
    DEPENDS ${known_dir}/known_wbench.c
    COMMENT "wasm32-wasi known_wbench.wasm")
  add_custom_target(aot_known_wbench ALL DEPENDS ${kw}.wasm)
  # known_lib.wasm (no imports) and the fuel test: fast paths fall back when fuel is metered
  set(kl ${CMAKE_CURRENT_BINARY_DIR}/known_lib)
  add_custom_command(OUTPUT ${kl}.wasm
    COMMAND ${KILN_KNOWN_CLANG} --target=wasm32-wasi -O2 -fno-builtin -Wall -Wextra -Werror
            -c ${known_dir}/known_lib.c -o ${kl}.o
    COMMAND ${KILN_KNOWN_CLANG} --target=wasm32-wasi -nostartfiles -Wl,--no-entry ${kl}.o
            -o ${kl}.wasm
    DEPENDS ${known_dir}/known_lib.c
    COMMENT "wasm32-wasi known_lib.wasm")
  add_custom_target(aot_known_lib ALL DEPENDS ${kl}.wasm)
  add_executable(aot-known-fuel-test ${known_dir}/known_fuel_test.c)
  target_link_libraries(aot-known-fuel-test PRIVATE kiln_aot)
  add_test(NAME aot.known.fuel COMMAND aot-known-fuel-test ${kl}.wasm ${aot_cache})
  set_tests_properties(aot.known.fuel PROPERTIES LABELS "aot" TIMEOUT 600)
  add_test(NAME aot.known.wasm
           COMMAND sh ${known_dir}/known.sh $<TARGET_FILE:kiln-aot-exec> $<TARGET_FILE:kiln>
                   ${aot_cache} ${kp}.wasm ${CMAKE_CURRENT_BINARY_DIR}/known-wasm)
  set_tests_properties(aot.known.wasm PROPERTIES LABELS aot TIMEOUT 600)
endif()
if(TARGET kiln)
  add_test(NAME aot.known.realprogs
           COMMAND sh ${known_dir}/known_realprogs.sh $<TARGET_FILE:kiln>
                   ${CMAKE_CURRENT_BINARY_DIR}/known-realprogs)
  set_tests_properties(aot.known.realprogs PROPERTIES LABELS "aot;realprogs" TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endif()

# an endless loop of long memory.copy/memory.fill (the host's glibc, outside AOT text) stopped by
# kiln exec's time limits and SIGINT as interpreted (tests/aot/interrupt_exec.sh)
find_program(KILN_KNOWN_WAT2WASM wat2wasm)
if(KILN_KNOWN_WAT2WASM AND TARGET kiln)
  set(kb ${CMAKE_CURRENT_BINARY_DIR}/busy_copy.wasm)
  add_custom_command(OUTPUT ${kb}
    COMMAND ${KILN_KNOWN_WAT2WASM} ${known_dir}/busy_copy.wat -o ${kb}
    DEPENDS ${known_dir}/busy_copy.wat)
  add_custom_target(aot_known_busy_copy ALL DEPENDS ${kb})
  add_test(NAME aot.known.interrupt
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/interrupt_exec.sh $<TARGET_FILE:kiln> ${kb}
                   ${CMAKE_CURRENT_BINARY_DIR}/known-interrupt)
  set_tests_properties(aot.known.interrupt PROPERTIES LABELS aot TIMEOUT 300)
endif()

# the microbenchmarks (not tests): aot-known-bench [ROUNDS] (the fast paths and aot_libc
# natively), aot-known-wbench-native [ROUNDS] (glibc, next to known_wbench.wasm above)
add_executable(aot-known-wbench-native ${known_dir}/known_wbench.c)
target_compile_options(aot-known-wbench-native PRIVATE -fno-builtin)
add_executable(aot-known-bench ${known_dir}/known_bench.c)
target_include_directories(aot-known-bench PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_compile_options(aot-known-bench PRIVATE -fno-builtin -fno-math-errno)
target_link_libraries(aot-known-bench PRIVATE m)
