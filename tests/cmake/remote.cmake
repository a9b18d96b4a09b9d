# Remote actions (actions/remote: --local-repository, libgit2 action cache) and actions/checkout.
rn_unit_test(unit_remote ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_remote.c)
target_link_libraries(unit_remote PRIVATE PkgConfig::LIBGIT2 PkgConfig::JANSSON)
rn_unit_test(unit_checkout ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_checkout.c)
target_link_libraries(unit_checkout PRIVATE PkgConfig::LIBGIT2 PkgConfig::JANSSON)
