# Coverage reports and gate (actions/coverage.c, `runnel coverage`) and the webshop example.
set(RN_COV_DIR ${CMAKE_CURRENT_SOURCE_DIR}/coverage)

rn_unit_test(unit_coverage ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_coverage.c)
target_compile_definitions(unit_coverage PRIVATE RN_COV_FIXTURES="${RN_COV_DIR}")

# rn_cov_cli(NAME EXIT STDOUT_FILE|- STDERR_FILE|- ARGS...): exact CLI behaviour, see
# tests/coverage/cli_test.sh. Expected numbers are worked out in tests/unit/test_coverage.c.
function(rn_cov_cli name rc out err)
  add_test(NAME coverage_cli_${name}
           COMMAND ${RN_COV_DIR}/cli_test.sh ${RUNNEL_BIN} ${rc} ${out} ${err} -- ${ARGN})
  set_tests_properties(coverage_cli_${name} PROPERTIES LABELS "cli;coverage")
endfunction()
rn_cov_cli(lcov_pass 0 lcov-pass.out - lcov-small.info)
rn_cov_cli(merged_branch_fail 1 merged-branch-fail.out - jacoco-small.xml lcov-small.info
           --counter branch --min=75)
rn_cov_cli(cobertura_package_fail 1 cobertura-package-fail.out - cobertura-small.xml
           --element PACKAGE --min 60)
rn_cov_cli(bad_reports 2 - bad-reports.err nothere.xml bad-counter.xml truncated.xml)
rn_cov_cli(lcov_instruction 2 - lcov-instruction.err lcov-small.info --counter INSTRUCTION)
rn_cov_cli(empty_report 2 - empty.err empty-jacoco.xml)
rn_cov_cli(bad_min 2 - bad-min.err --min 101 jacoco-small.xml)
rn_cov_cli(bad_option 2 - bad-option.err jacoco-small.xml --bogus)
rn_cov_cli(missing_value 2 - missing-value.err jacoco-small.xml --element)
rn_cov_cli(no_files 2 - no-files.err)
rn_cov_cli(help 0 help.out - --help)

# The example pipeline's test job for real: ./mvnw -B -q test in a copy of examples/webshop
# (under the build dir, so the source tree stays clean), then the gate on its jacoco.xml.
foreach(mode pass no-main-test)
  add_test(NAME coverage_webshop_${mode}
           COMMAND ${RN_COV_DIR}/webshop_test.sh ${RUNNEL_BIN} ${CMAKE_SOURCE_DIR}/examples/webshop
                   ${CMAKE_BINARY_DIR}/webshop-${mode} ${mode})
  set_tests_properties(coverage_webshop_${mode} PROPERTIES LABELS "slow;coverage" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endforeach()
