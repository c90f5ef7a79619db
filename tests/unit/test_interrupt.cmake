# test_interrupt.cmake — unit.test_interrupt also runs its interrupt cases on
# AOT code (compiled without polls and --metered, tests/unit/test_interrupt.c),
# with objects cached in BUILD/aot-cache like the other AOT tests.
if(TARGET kiln_aot AND TARGET test_interrupt)
  target_link_libraries(test_interrupt PRIVATE kiln_aot)
  target_compile_definitions(test_interrupt PRIVATE
                             KILN_TEST_AOT_CACHE="${CMAKE_BINARY_DIR}/aot-cache")
  set_tests_properties(unit.test_interrupt PROPERTIES LABELS "unit;aot")
endif()
