# ${{ }} expression engine and `runnel eval` (owner: expr area).
rn_unit_test(unit_expr ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_expr.c)

# GitHub's cross-language vectors, all through one `runnel eval --jsonl` process.
add_executable(expr_conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/expr_conformance.c)
target_link_libraries(expr_conformance PRIVATE PkgConfig::JANSSON)
add_test(NAME expr_conformance
         COMMAND expr_conformance ${RUNNEL_BIN}
                 ${RUNNEL_SHARED}/conformance/actions-languageservices/expressions/testdata
                 ${CMAKE_CURRENT_SOURCE_DIR}/conformance/expr_known_failures.txt)
set_tests_properties(expr_conformance PROPERTIES LABELS conformance SKIP_RETURN_CODE 77)
