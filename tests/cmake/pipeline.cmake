# The example pipeline (examples/webshop) run end to end by `runnel run`: the happy path and the
# two failure demonstrations (coverage gate, broken /health with rollback). Label `slow`: each
# builds and tests the Java service (about 1 minute). Distinct ports so they can run in parallel.
set(RN_PIPELINE_PORT 18281)
foreach(mode happy low-coverage broken-health)
  add_test(NAME pipeline_${mode}
           COMMAND bash ${CMAKE_SOURCE_DIR}/tests/pipeline/pipeline_test.sh ${RUNNEL_BIN}
                   ${CMAKE_SOURCE_DIR}/examples/webshop ${CMAKE_BINARY_DIR}/pipeline-${mode} ${mode}
                   ${RN_PIPELINE_PORT})
  set_tests_properties(pipeline_${mode} PROPERTIES LABELS "slow;pipeline" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
  math(EXPR RN_PIPELINE_PORT "${RN_PIPELINE_PORT} + 1")
endforeach()
