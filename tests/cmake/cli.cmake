# The runnel binary's own options.
add_test(NAME cli_version COMMAND ${RUNNEL_BIN} --version)
set_tests_properties(cli_version PROPERTIES LABELS cli PASS_REGULAR_EXPRESSION
                     "^runnel ${PROJECT_VERSION}\n$")
