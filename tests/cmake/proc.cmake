# sandbox/proc (processes) and common/output (masked output).
rn_unit_test(unit_proc ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_proc.c)
rn_unit_test(unit_output ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_output.c)
set_tests_properties(unit_proc unit_output PROPERTIES TIMEOUT 120)
