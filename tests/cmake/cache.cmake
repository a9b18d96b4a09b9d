# Caching: hashFiles/glob, the cache store, actions/cache and setup-java built-ins, the cache
# server (libcurl, shaped like @actions/cache's requests) and `runnel cache`.
rn_unit_test(unit_hashfiles ${CMAKE_SOURCE_DIR}/tests/unit/test_hashfiles.c)
rn_unit_test(unit_cache_store ${CMAKE_SOURCE_DIR}/tests/unit/test_cache_store.c)
rn_unit_test(unit_cache_tree ${CMAKE_SOURCE_DIR}/tests/cache/test_store_tree.c)
rn_unit_test(unit_cache_action ${CMAKE_SOURCE_DIR}/tests/unit/test_cache_action.c)
rn_unit_test(unit_cache_server ${CMAKE_SOURCE_DIR}/tests/unit/test_cache_server.c)
rn_unit_test(unit_setup_java ${CMAKE_SOURCE_DIR}/tests/unit/test_setup_java.c)
set_tests_properties(unit_cache_action PROPERTIES ENVIRONMENT "RUNNEL_BIN=$<TARGET_FILE:runnel>")
add_test(NAME cache_cli COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cache/cli.sh $<TARGET_FILE:runnel>)
set_tests_properties(cache_cli PROPERTIES LABELS cache)
add_test(NAME cache_run_e2e COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cache/run_e2e.sh $<TARGET_FILE:runnel>)
set_tests_properties(cache_run_e2e PROPERTIES LABELS cache TIMEOUT 120)
add_executable(rn_cache_serve ${CMAKE_SOURCE_DIR}/tests/cache/serve.c)
target_link_libraries(rn_cache_serve PRIVATE runnel_actions)
add_test(NAME cache_toolkit COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cache/toolkit.sh
                                    $<TARGET_FILE:rn_cache_serve>)
set_tests_properties(cache_toolkit PROPERTIES LABELS cache SKIP_RETURN_CODE 77 TIMEOUT 120)
add_test(NAME cache_run_toolkit COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cache/run_toolkit.sh
                                        $<TARGET_FILE:runnel>)
set_tests_properties(cache_run_toolkit PROPERTIES LABELS cache SKIP_RETURN_CODE 77 TIMEOUT 180)
