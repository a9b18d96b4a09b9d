/* sandbox/proc.c host spawn (clone with CLONE_VM|CLONE_VFORK on a per-thread stack): what the
 * started program inherits (signal dispositions and mask back to defaults, standard streams even
 * when runnel's own descriptor 0 is reused), exec failures reported at start without a leftover
 * child, and spawns from many threads at once, threads that exit included. */
#include "common/arena.h"
#include "sandbox/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *const base_env[] = {"PATH=/usr/bin:/bin", NULL};

static rn_proc_result run(const char *const *argv, const char *stdin_path, char **out) {
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = base_env;
    o.stdin_path = stdin_path;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_MERGE;
    rn_proc_result r;
    char *msg = NULL;
    if (rn_proc_run(&o, &r, out, NULL, &msg) != 0)
        fail_msg("start failed: %s", msg);
    return r;
}

static const char *field(const char *status, const char *name) {
    const char *p = strstr(status, name);
    return p ? p + strlen(name) : "";
}

static void on_usr2(int sig) {
    (void)sig;
}

static void signals_back_to_default(void **state) {
    (void)state;
    struct sigaction ign = {0}, handler = {0}, old_pipe, old_usr2;
    ign.sa_handler = SIG_IGN;
    handler.sa_handler = on_usr2;
    sigaction(SIGPIPE, &ign, &old_pipe);
    sigaction(SIGUSR2, &handler, &old_usr2);
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);

    const char *argv[] = {"cat", "/proc/self/status", NULL};
    char *out = NULL;
    rn_proc_result r = run(argv, NULL, &out);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    sigaction(SIGUSR2, &old_usr2, NULL);

    assert_int_equal(r.status, RN_PROC_EXITED);
    assert_int_equal(r.exit_code, 0);
    assert_memory_equal(field(out, "\nSigBlk:\t"), "0000000000000000\n", 17);
    assert_memory_equal(field(out, "\nSigIgn:\t"), "0000000000000000\n", 17);
    assert_memory_equal(field(out, "\nSigCgt:\t"), "0000000000000000\n", 17);
    free(out);
}

static void stdin_on_descriptor_zero(void **state) {
    (void)state;
    char path[] = "/tmp/runnel-spawn-in.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from stdin\n", 11), 11);
    close(fd);
    /* runnel's own 0 closed: the file opened for the child's stdin becomes descriptor 0, which
     * must still reach the child (a dup2 onto itself would keep O_CLOEXEC) */
    int saved = dup(0);
    close(0);
    const char *argv[] = {"cat", NULL};
    char *out = NULL;
    rn_proc_result r = run(argv, path, &out);
    dup2(saved, 0);
    close(saved);
    unlink(path);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, "from stdin\n");
    free(out);
}

static void exec_failures_are_reported(void **state) {
    (void)state;
    char dir[] = "/tmp/runnel-spawn.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *plain = rn_xprintf("%s/plain", dir), *garbage = rn_xprintf("%s/garbage", dir);
    FILE *f = fopen(plain, "w");
    fputs("echo hi\n", f);
    fclose(f);
    f = fopen(garbage, "w");
    fputs("\x01\x02\x03 not a program\n", f);
    fclose(f);
    chmod(garbage, 0755);
    struct {
        const char *exe, *msg;
    } cases[] = {{plain, "Permission denied"}, {garbage, "Exec format error"}};
    for (size_t i = 0; i < 2; i++) {
        const char *argv[] = {cases[i].exe, NULL};
        rn_proc_opts o = {0};
        o.argv = argv;
        o.envp = base_env;
        char *err = NULL;
        rn_proc *p = rn_proc_start(&o, &err);
        assert_null(p);
        char *want = rn_xprintf("%s: %s", cases[i].exe, cases[i].msg);
        assert_string_equal(err, want);
        free(want);
        free(err);
        /* the failed child was reaped */
        errno = 0;
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
    }
    unlink(plain);
    unlink(garbage);
    rmdir(dir);
    free(plain);
    free(garbage);
}

static void *spawner(void *arg) {
    long *ok = arg;
    for (int i = 0; i < 15; i++) {
        char n[16];
        snprintf(n, sizeof n, "%d", i);
        const char *argv[] = {"echo", n, NULL};
        char *out = NULL;
        rn_proc_result r = run(argv, NULL, &out);
        char *want = rn_xprintf("%d\n", i);
        if (r.status == RN_PROC_EXITED && r.exit_code == 0 && !strcmp(out, want))
            (*ok)++;
        free(want);
        free(out);
    }
    return NULL;
}

static void many_threads_spawn_at_once(void **state) {
    (void)state;
    for (int round = 0; round < 2; round++) { /* threads exit: their stacks go, new ones come */
        pthread_t th[4];
        long ok[4] = {0, 0, 0, 0};
        for (int t = 0; t < 4; t++)
            assert_int_equal(pthread_create(&th[t], NULL, spawner, &ok[t]), 0);
        for (int t = 0; t < 4; t++) {
            pthread_join(th[t], NULL);
            assert_int_equal(ok[t], 15);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signals_back_to_default),
        cmocka_unit_test(stdin_on_descriptor_zero),
        cmocka_unit_test(exec_failures_are_reported),
        cmocka_unit_test(many_threads_spawn_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
