# Workflow loader, model and validation tests (owner: workflow/yaml, model, validate).
set(RN_READER_DIR ${RUNNEL_SHARED}/conformance/actions-languageservices/workflow-parser/testdata/reader)
set(RN_ACTIONLINT_OK_DIR ${RUNNEL_SHARED}/conformance/rhysd-actionlint/testdata/ok)

add_executable(reader_conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/reader_conformance.c)
target_link_libraries(reader_conformance PRIVATE runnel_workflow)
add_test(NAME reader_conformance
         COMMAND reader_conformance ${RN_READER_DIR}
                 ${CMAKE_CURRENT_SOURCE_DIR}/conformance/reader_known_failures.txt)
set_tests_properties(reader_conformance PROPERTIES SKIP_RETURN_CODE 77 LABELS conformance)
