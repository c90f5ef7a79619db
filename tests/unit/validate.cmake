# validate.cmake — fragment for the validator's unit test. The test itself is
# registered by the test_*.c glob in CMakeLists.txt (unit.test_validate, one
# cmocka executable over hand-built modules); this only tags it.
if(TEST unit.test_validate)
  set_tests_properties(unit.test_validate PROPERTIES LABELS "unit;wasm;validate")
endif()
