# Workflow loader, model and validation tests (owner: workflow/yaml, model, validate).
set(RN_READER_DIR ${RUNNEL_SHARED}/conformance/actions-languageservices/workflow-parser/testdata/reader)
set(RN_ACTIONLINT_OK_DIR ${RUNNEL_SHARED}/conformance/rhysd-actionlint/testdata/ok)

add_executable(reader_conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/reader_conformance.c)
target_link_libraries(reader_conformance PRIVATE runnel_workflow)
add_test(NAME reader_conformance
         COMMAND reader_conformance ${RN_READER_DIR}
                 ${CMAKE_CURRENT_SOURCE_DIR}/conformance/reader_known_failures.txt)
set_tests_properties(reader_conformance PROPERTIES SKIP_RETURN_CODE 77 LABELS conformance)

add_executable(actionlint_ok ${CMAKE_CURRENT_SOURCE_DIR}/conformance/actionlint_ok.c)
target_link_libraries(actionlint_ok PRIVATE runnel_workflow)
add_test(NAME actionlint_ok
         COMMAND actionlint_ok ${RN_ACTIONLINT_OK_DIR}
                 ${CMAKE_CURRENT_SOURCE_DIR}/conformance/actionlint_known_failures.txt)
set_tests_properties(actionlint_ok PROPERTIES SKIP_RETURN_CODE 77 LABELS conformance)

# Unit tests link only the workflow layer (it is pure) and cmocka.
function(rn_workflow_test name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE runnel_workflow ${CMOCKA_LIB})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit)
endfunction()
rn_workflow_test(unit_yaml ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_yaml.c)
rn_workflow_test(unit_model ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_model.c)

# runnel validate: exit codes and exact stderr on small fixtures.
add_test(NAME cli_validate
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/workflows/validate/cli_test.sh ${RUNNEL_BIN})
set_tests_properties(cli_validate PROPERTIES LABELS cli)
