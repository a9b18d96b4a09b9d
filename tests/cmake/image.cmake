# sandbox/image* (image store, registry client, unpack): unit tests and registry tests.
# tests/image/image_test.sh CASE starts Debian's docker-registry on loopback per case (skips
# with 77 when it is not installed) and pushes images built from busybox-static with imgtool.
rn_unit_test(unit_image ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_image.c)
set_tests_properties(unit_image PROPERTIES TIMEOUT 60)

add_executable(rn_imgtool ${CMAKE_CURRENT_SOURCE_DIR}/image/imgtool.c)
target_link_libraries(rn_imgtool PRIVATE PkgConfig::LIBARCHIVE PkgConfig::LIBCURL
                      PkgConfig::JANSSON PkgConfig::OPENSSL)
# A short-lived test helper (like sysprobe): fixed-size paths, and built without the sanitizers
# since it is the harness, not code under test.
target_compile_options(rn_imgtool PRIVATE -Wno-format-truncation -fno-sanitize=all)
target_link_options(rn_imgtool PRIVATE -fno-sanitize=all)

foreach(case pull-tag pull-digest manifest-list corrupt resume basic-auth token-auth whiteouts
             traversal import-oci import-docker prune concurrent config-auth unprivileged)
  add_test(NAME image_${case} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/image/image_test.sh ${case})
  set_tests_properties(image_${case} PROPERTIES
    TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS image
    ENVIRONMENT "RUNNEL=$<TARGET_FILE:runnel>;IMGTOOL=$<TARGET_FILE:rn_imgtool>")
endforeach()
