# bench/workflow_bench: parse + validate + expand a generated 500-job workflow with a 256-leg
# matrix, against libyaml alone in the same run. Built with the project, never run by ctest.
add_executable(workflow_bench ${CMAKE_CURRENT_LIST_DIR}/workflow_bench.c)
target_link_libraries(workflow_bench PRIVATE runnel_workflow PkgConfig::YAML)
