# Workflow commands, environment files, github context from git (actions/commands, envfile, gitctx).
rn_unit_test(unit_commands ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_commands.c)
rn_unit_test(unit_envfile ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_envfile.c)
rn_unit_test(unit_gitctx ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_gitctx.c)
target_link_libraries(unit_gitctx PRIVATE PkgConfig::LIBGIT2)
