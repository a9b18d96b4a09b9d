# Matrix expansion, job graph, `runnel list` / `runnel graph` (owner: graph area).
rn_unit_test(unit_matrix ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_matrix.c)
rn_unit_test(unit_graph ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_graph.c)
