# bench/proc_mask_bench: secret masking throughput (common/output) with many secrets on long
# output, against a naive per-secret memmem scan in the same run. Built, never run by ctest.
add_executable(proc_mask_bench ${CMAKE_CURRENT_LIST_DIR}/proc_mask_bench.c)
target_link_libraries(proc_mask_bench PRIVATE runnel_common)
