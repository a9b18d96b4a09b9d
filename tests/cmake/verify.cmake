# Smoke-test verification (actions/verify.c, runnel/verify@v1, `runnel verify`) and the runner
# policy file (actions/policy.c). The tests start their own HTTP server on 127.0.0.1.
set(RN_VERIFY_DIR ${CMAKE_CURRENT_SOURCE_DIR}/verify)

if(NOT TARGET PkgConfig::LIBMICROHTTPD) # the test server (CMakeLists.txt may link it already)
  pkg_check_modules(LIBMICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
endif()

rn_unit_test(unit_verify ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_verify.c)
target_link_libraries(unit_verify PRIVATE PkgConfig::LIBMICROHTTPD)
target_compile_definitions(unit_verify PRIVATE RUNNEL_BIN="$<TARGET_FILE:runnel>"
                                               RN_VERIFY_FIXTURES="${RN_VERIFY_DIR}")
add_dependencies(unit_verify runnel)
set_tests_properties(unit_verify PROPERTIES LABELS "unit;verify" TIMEOUT 120)

rn_unit_test(unit_policy ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_policy.c)
target_compile_definitions(unit_policy PRIVATE RN_VERIFY_FIXTURES="${RN_VERIFY_DIR}"
                                               RN_COV_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/coverage")
set_tests_properties(unit_policy PROPERTIES LABELS "unit;verify")
