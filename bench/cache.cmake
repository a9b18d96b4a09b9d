# bench/cache_bench: runnel's cache store save/restore of a Maven-like tree against
# `tar -I 'zstd -T0'` create/extract of the same tree in the same run. Built, never run by ctest.
add_executable(cache_bench ${CMAKE_CURRENT_LIST_DIR}/cache_bench.c)
target_link_libraries(cache_bench PRIVATE runnel_actions)
