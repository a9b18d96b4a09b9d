# bench/container_bench: container start-to-exit of /bin/true against bwrap --unshare-all, and
# 100 steps in one container against the host, in the same run. Built, never run by ctest.
add_executable(container_bench ${CMAKE_CURRENT_LIST_DIR}/container_bench.c)
target_link_libraries(container_bench PRIVATE runnel_sandbox)
