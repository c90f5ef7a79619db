# test_interrupt.cmake — unit.test_interrupt also runs its interrupt cases on
# AOT code (compiled without polls and --metered, tests/unit/test_interrupt.c),
# with objects cached in BUILD/aot-cache like the other AOT tests.
if(TARGET kiln_aot AND TARGET test_interrupt)
  target_link_libraries(test_interrupt PRIVATE kiln_aot)
  target_compile_definitions(test_interrupt PRIVATE
                             KILN_TEST_AOT_CACHE="${CMAKE_BINARY_DIR}/aot-cache")
  set_tests_properties(unit.test_interrupt PROPERTIES LABELS "unit;aot")
endif()

# The same cases with the AOT side's full fence instead of the asymmetric
# barrier (rt.c "Interruption"): forced by KILN_AOT_FENCE=full, and chosen
# because membarrier fails with ENOSYS from the start (a seccomp filter the
# test installs, as a kernel without membarrier or a container profile that
# denies it would).
if(TARGET test_interrupt)
  add_test(NAME unit.test_interrupt.fence_full COMMAND test_interrupt)
  set_tests_properties(unit.test_interrupt.fence_full PROPERTIES
                       LABELS "unit;aot" TIMEOUT 120
                       ENVIRONMENT "KILN_AOT_FENCE=full;KILN_TEST_BARRIER=full")
  add_test(NAME unit.test_interrupt.no_membarrier COMMAND test_interrupt)
  set_tests_properties(unit.test_interrupt.no_membarrier PROPERTIES
                       LABELS "unit;aot" TIMEOUT 120
                       ENVIRONMENT "KILN_TEST_DENY_MEMBARRIER=1;KILN_TEST_BARRIER=full")
endif()
