# actions/step (the step executor): environment files per step process, and sandbox/proc's
# host spawn (signal dispositions, standard streams, exec failures, per-thread stacks).
rn_unit_test(unit_step_files ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_step_files.c)
rn_unit_test(unit_proc_spawn ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_proc_spawn.c)
set_tests_properties(unit_step_files unit_proc_spawn PROPERTIES TIMEOUT 60)
