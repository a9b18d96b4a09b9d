# Remote actions (actions/remote: --local-repository, libgit2 action cache) and actions/checkout.
rn_unit_test(unit_remote ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_remote.c)
target_link_libraries(unit_remote PRIVATE PkgConfig::LIBGIT2 PkgConfig::JANSSON)
rn_unit_test(unit_checkout ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_checkout.c)
target_link_libraries(unit_checkout PRIVATE PkgConfig::LIBGIT2 PkgConfig::JANSSON)
# End-to-end: tests/remote/CASE (server/ folders become bare repositories) through the run driver.
find_program(RN_BASH bash)
find_program(RN_GIT git)
if(RN_BASH AND RN_GIT)
  file(GLOB rn_remote_cases CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/remote/*/expect)
  foreach(expect ${rn_remote_cases})
    get_filename_component(case_dir ${expect} DIRECTORY)
    get_filename_component(case ${case_dir} NAME)
    add_test(NAME remote_${case} COMMAND ${RN_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/remote/driver.sh
                                         ${case_dir} ${RUNNEL_BIN})
    set_tests_properties(remote_${case} PROPERTIES LABELS run TIMEOUT 60)
  endforeach()
endif()
