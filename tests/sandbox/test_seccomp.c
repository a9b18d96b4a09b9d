/* sandbox/seccomp: the embedded program (sandbox/seccomp_prebuilt.h) is exactly what libseccomp
 * compiles from the rules now, and an installed filter refuses what it must. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#if defined(__x86_64__)
#include "sandbox/seccomp_prebuilt.h"
#endif

static void prebuilt_is_current(void **st) {
    (void)st;
    struct sock_fprog built, compiled;
    char *err = NULL;
    assert_int_equal(rn_seccomp_build(&built, &err), 0);
    assert_int_equal(rn_seccomp_compile(&compiled, &err), 0);
    /* Whichever way it was obtained, the program is libseccomp's. */
    assert_int_equal(built.len, compiled.len);
    assert_memory_equal(built.filter, compiled.filter, compiled.len * sizeof *compiled.filter);
#ifdef RN_SECCOMP_PREBUILT_HASH
    const struct scmp_version *v = seccomp_version();
    char ver[32];
    snprintf(ver, sizeof ver, "%u.%u.%u", v->major, v->minor, v->micro);
    if (rn_seccomp_rules_hash() != RN_SECCOMP_PREBUILT_HASH) {
        /* Another libseccomp: compiled at run time, fine. Same libseccomp: the rules changed. */
        if (!strcmp(ver, RN_SECCOMP_PREBUILT_LIBSECCOMP))
            fail_msg("sandbox/seccomp_prebuilt.h is stale (the rules changed): regenerate it with "
                     "build/tests/seccomp_gen > sandbox/seccomp_prebuilt.h");
        fprintf(stderr, "note: libseccomp %s, prebuilt for %s: compiled at run time\n", ver,
                RN_SECCOMP_PREBUILT_LIBSECCOMP);
    } else {
        assert_int_equal(compiled.len, sizeof prebuilt / sizeof prebuilt[0]);
        assert_memory_equal(prebuilt, compiled.filter, sizeof prebuilt);
    }
#elif defined(__x86_64__)
    fail_msg("sandbox/seccomp_prebuilt.h is a placeholder: run build/tests/seccomp_gen");
#endif
    rn_seccomp_free(&built);
    rn_seccomp_free(&compiled);
}

/* In a child under the filter: what each call returns (errno, or 0). */
static void refuses_what_it_must(void **st) {
    (void)st;
    struct sock_fprog p;
    char *err = NULL;
    assert_int_equal(rn_seccomp_build(&p, &err), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int res[5];
        if (rn_seccomp_install(&p) != 0)
            _exit(2);
        res[0] = unshare(CLONE_NEWNS) == 0 ? 0 : errno;
        res[1] = mount("none", "/mnt", "tmpfs", 0, NULL) == 0 ? 0 : errno;
        res[2] = syscall(SYS_clone3, NULL, 0) == 0 ? 0 : errno;
        res[3] = syscall(SYS_kexec_load, 0, 0, NULL, 0) == 0 ? 0 : errno;
        res[4] = getppid() > 0 ? 0 : errno;
        _exit(write(fds[1], res, sizeof res) == sizeof res ? 0 : 3);
    }
    close(fds[1]);
    int res[5] = {-1, -1, -1, -1, -1}, status;
    assert_int_equal(read(fds[0], res, sizeof res), (ssize_t)sizeof res);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(status, 0);
    assert_int_equal(res[0], EPERM);
    assert_int_equal(res[1], EPERM);
    assert_int_equal(res[2], ENOSYS);
    assert_int_equal(res[3], EPERM);
    assert_int_equal(res[4], 0);
    rn_seccomp_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prebuilt_is_current),
        cmocka_unit_test(refuses_what_it_must),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
