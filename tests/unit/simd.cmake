# simd.cmake — SIMD (v128) tests of the engine. unit.test_simd (the
# test_*.c glob registers it) checks simd.h's lane semantics directly; this
# fragment tags it and adds simd_engine.wast run by kiln-spec (unit.simd_engine)
# and by wabt's spectest-interp as the reference for its expectations
# (unit.simd_engine_ref).
if(TEST unit.test_simd)
  set_tests_properties(unit.test_simd PROPERTIES LABELS "unit;wasm;simd")
endif()
find_program(SIMD_WAST2JSON wast2json)
find_program(SIMD_SPECTEST_INTERP spectest-interp)
if(SIMD_WAST2JSON)
  set(simd_json ${CMAKE_CURRENT_BINARY_DIR}/simd/simd_engine.json)
  add_custom_command(
    OUTPUT ${simd_json}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/simd
    COMMAND ${SIMD_WAST2JSON} ${CMAKE_CURRENT_SOURCE_DIR}/simd_engine.wast -o ${simd_json}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/simd_engine.wast
    COMMENT "wast2json simd_engine.wast")
  add_custom_target(simd_engine_json ALL DEPENDS ${simd_json})
  if(TARGET kiln-spec)
    add_test(NAME unit.simd_engine COMMAND kiln-spec ${simd_json})
    set_tests_properties(unit.simd_engine PROPERTIES LABELS "unit;wasm;simd" TIMEOUT 120)
  endif()
  if(SIMD_SPECTEST_INTERP)
    add_test(NAME unit.simd_engine_ref COMMAND ${SIMD_SPECTEST_INTERP} ${simd_json})
    set_tests_properties(unit.simd_engine_ref PROPERTIES LABELS "unit;simd;ref" TIMEOUT 120)
  endif()
endif()
