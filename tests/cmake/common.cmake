rn_unit_test(unit_common ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_common.c)
