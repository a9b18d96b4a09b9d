# The runnel binary's own options.
add_test(NAME cli_version COMMAND ${RUNNEL_BIN} --version)
set_tests_properties(cli_version PROPERTIES LABELS cli PASS_REGULAR_EXPRESSION
                     "^runnel ${PROJECT_VERSION}\n$")
add_test(NAME cli_front COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/front.sh $<TARGET_FILE:runnel>
                                $<TARGET_FILE:runnel-core> ${PROJECT_VERSION})
set_tests_properties(cli_front PROPERTIES LABELS cli)
add_test(NAME format_check COMMAND bash ${CMAKE_SOURCE_DIR}/tests/format_check.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(format_check PROPERTIES LABELS lint SKIP_RETURN_CODE 77)
