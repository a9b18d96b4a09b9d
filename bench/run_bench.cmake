# bench/run_bench: `runnel run` of 200 trivial run: steps (host mode, and the default container
# mode for information) against bash running the same 200 scripts one after another, in the
# same invocation. Built, never run by ctest.
add_executable(run_bench ${CMAKE_CURRENT_LIST_DIR}/run_bench.c)
target_link_libraries(run_bench PRIVATE runnel_sandbox)
