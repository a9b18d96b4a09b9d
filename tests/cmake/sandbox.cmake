# sandbox/container* (containers, seccomp, cgroups, mounts): unit tests and security tests.
# The probe helper is linked -static (glibc's static libs from libc6-dev) so it runs on the
# busybox test rootfs; it is built without the project's sanitizer flags on purpose.
set(RN_SYSPROBE ${CMAKE_CURRENT_BINARY_DIR}/sysprobe)
add_custom_command(OUTPUT ${RN_SYSPROBE}
  COMMAND ${CMAKE_C_COMPILER} -static -O2 -o ${RN_SYSPROBE}
          ${CMAKE_CURRENT_SOURCE_DIR}/sandbox/sysprobe.c
  DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/sandbox/sysprobe.c
  COMMENT "static sysprobe for the container security tests")
add_custom_target(rn_sysprobe ALL DEPENDS ${RN_SYSPROBE})

rn_unit_test(unit_container ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_container.c)
add_dependencies(unit_container rn_sysprobe)
set_tests_properties(unit_container PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
  ENVIRONMENT "RN_SYSPROBE=${RN_SYSPROBE}")

foreach(case processes host-files syscalls ptrace forkbomb memory survivors cross layers net-none net-private userns)
  add_test(NAME sandbox_security_${case}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/sandbox/security.sh ${case})
  set_tests_properties(sandbox_security_${case} PROPERTIES
    TIMEOUT 90 SKIP_RETURN_CODE 77 LABELS security
    ENVIRONMENT "RUNNEL=$<TARGET_FILE:runnel>;SYSPROBE=${RN_SYSPROBE}")
endforeach()

# The embedded seccomp program (sandbox/seccomp_prebuilt.h): its generator, and a test that it is
# what libseccomp compiles now and that it refuses what it must.
add_executable(seccomp_gen ${CMAKE_CURRENT_SOURCE_DIR}/sandbox/seccomp_gen.c)
target_link_libraries(seccomp_gen PRIVATE runnel_sandbox)
rn_unit_test(unit_seccomp ${CMAKE_CURRENT_SOURCE_DIR}/sandbox/test_seccomp.c)

# cgroup v2 writer against a fake cgroupfs, and a real cgroup2 kill where one is writable.
rn_unit_test(unit_cgroup ${CMAKE_CURRENT_SOURCE_DIR}/sandbox/test_cgroup.c)
