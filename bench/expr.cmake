# bench/bench_expr: ${{ }} evaluations per second (parsed once / parse + evaluate), against a
# hand-written jansson lookup of the same data in the same run. Built, never run by ctest.
add_executable(bench_expr ${CMAKE_CURRENT_LIST_DIR}/bench_expr.c)
target_link_libraries(bench_expr PRIVATE runnel_workflow)
