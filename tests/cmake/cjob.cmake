# runnel run jobs in runnel's containers (runner/run_container.c, actions/step_docker.c):
# tests/cjob/cjob_test.sh CASE builds a busybox-static image with rn_imgtool (tests/image),
# imports it into a temp RUNNEL_HOME and runs workflows; exits 77 when containers cannot be made.
foreach(case image-job host-root container-job services docker-action seed outlive pull pids net
             cache-svc cache-image setup-java-image
             coverage-image)
  add_test(NAME cjob_${case} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cjob/cjob_test.sh ${case})
  set_tests_properties(cjob_${case} PROPERTIES
    TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS "cjob;run"
    ENVIRONMENT "RUNNEL=$<TARGET_FILE:runnel>;IMGTOOL=$<TARGET_FILE:rn_imgtool>")
endforeach()
