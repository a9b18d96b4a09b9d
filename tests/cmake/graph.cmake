# Matrix expansion, job graph, `runnel list` / `runnel graph` (owner: graph area).
rn_unit_test(unit_matrix ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_matrix.c)
rn_unit_test(unit_graph ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_graph.c)

# CLI tests: exact stdout/stderr/exit status of the binary, run from the source tree so the
# printed paths are the relative ones in the expected files.
set(RN_LIST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/workflows/list)
function(rn_list_cli_test name args rc out err)
  set(expect_out "")
  set(expect_err "")
  if(out)
    set(expect_out ${RN_LIST_DIR}/${out})
  endif()
  if(err)
    set(expect_err ${RN_LIST_DIR}/${err})
  endif()
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DBIN=${RUNNEL_BIN} "-DARGS=${args}"
                   -DWORKDIR=${CMAKE_SOURCE_DIR} -DEXPECT_RC=${rc} -DEXPECT_OUT=${expect_out}
                   -DEXPECT_ERR=${expect_err} -P ${RN_LIST_DIR}/check.cmake)
  set_tests_properties(${name} PROPERTIES LABELS cli)
endfunction()

set(W tests/workflows/list)
# The seed pipeline runs test -> build -> deploy.
rn_list_cli_test(cli_list_seed "list|${W}/seed-deploy.yml" 0 seed-deploy.list.expected "")
rn_list_cli_test(cli_graph_seed "graph|${W}/seed-deploy.yml|push" 0 seed-deploy.graph.expected "")
rn_list_cli_test(cli_graph_seed_dot "graph|--dot|${W}/seed-deploy.yml" 0 seed-deploy.dot.expected "")
rn_list_cli_test(cli_list_matrix "list|${W}/matrix.yml|pull_request" 0 matrix.list.expected "")
rn_list_cli_test(cli_graph_matrix "graph|${W}/matrix.yml" 0 matrix.graph.expected "")
rn_list_cli_test(cli_graph_matrix_dot "graph|${W}/matrix.yml|--dot" 0 matrix.dot.expected "")
rn_list_cli_test(cli_list_dir_push "list|${W}/dir" 0 dir.push.expected "")
rn_list_cli_test(cli_list_dir_pull_request "list|${W}/dir|pull_request" 0 dir.pull_request.expected "")
rn_list_cli_test(cli_list_cycle "list|${W}/errors/cycle.yml" 2 "" errors/cycle.stderr.expected)
rn_list_cli_test(cli_list_empty_vector "list|${W}/errors/empty-vector.yml" 2 ""
                 errors/empty-vector.stderr.expected)
rn_list_cli_test(cli_list_excluded_all "list|${W}/errors/excluded-all.yml" 2 ""
                 errors/excluded-all.stderr.expected)
rn_list_cli_test(cli_list_no_such_file "list|${W}/missing.yml" 2 "" errors/missing.stderr.expected)
rn_list_cli_test(cli_list_not_triggered "list|${W}/dir/manual.yml|push" 0 ""
                 errors/not-triggered.stderr.expected)
# Names: evaluated when they read only matrix/strategy, GitHub's suffix for literal names.
rn_list_cli_test(cli_list_named_matrix "list|${W}/named-matrix.yml" 0 named-matrix.list.expected "")
