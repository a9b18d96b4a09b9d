#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char *const base_env[] = {"PATH=/usr/bin:/bin", NULL};

static long mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rn_proc_opts piped(const char *const *argv) {
    rn_proc_opts o = {0};
    o.argv = argv;
    o.envp = base_env;
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_PIPE;
    return o;
}

/* Runs to completion; asserts it started. */
static rn_proc_result run(const rn_proc_opts *o, char **out, char **err) {
    rn_proc_result r;
    char *msg = NULL;
    int rc = rn_proc_run(o, &r, out, err, &msg);
    if (rc != 0)
        fail_msg("start failed: %s", msg);
    return r;
}

/* True once pid no longer exists (reaping it if it was reparented to us, the subreaper). */
static bool gone_within(pid_t pid, long ms) {
    long end = mono_ms() + ms;
    do {
        waitpid(pid, NULL, WNOHANG);
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return true;
        usleep(10000);
    } while (mono_ms() < end);
    return false;
}

static char *tmpdir;

static int setup_all(void **state) {
    (void)state;
    /* Orphans of the processes under test are reparented to us, so their fate is observable
     * and nothing depends on the container's PID 1 reaping zombies. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char tmpl[] = "/tmp/rn-proc-XXXXXX";
    tmpdir = rn_xstrdup(mkdtemp(tmpl));
    return 0;
}

static int teardown_all(void **state) {
    (void)state;
    char *cmd = rn_xprintf("rm -rf '%s'", tmpdir);
    const char *argv[] = {"sh", "-c", cmd, NULL};
    rn_proc_opts o = piped(argv);
    run(&o, NULL, NULL);
    free(cmd);
    free(tmpdir);
    while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans reparented to us */
        ;
    return 0;
}

static void echo_exact_output(void **state) {
    (void)state;
    const char *argv[] = {"/bin/echo", "hello", "world", NULL};
    rn_proc_opts o = piped(argv);
    char *out, *err;
    rn_proc_result r = run(&o, &out, &err);
    assert_int_equal(r.status, RN_PROC_EXITED);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(r.term_signal, 0);
    assert_false(r.had_orphans);
    assert_string_equal(out, "hello world\n");
    assert_string_equal(err, "");
    free(out);
    free(err);

    /* Bare name: searched in the child's PATH. */
    const char *argv2[] = {"echo", "-n", "no newline", NULL};
    o = piped(argv2);
    r = run(&o, &out, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, "no newline");
    free(out);
}

static void exit_codes_and_signals(void **state) {
    (void)state;
    int codes[] = {0, 1, 3, 42, 255};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char *script = rn_xprintf("exit %d", codes[i]);
        const char *argv[] = {"sh", "-c", script, NULL};
        rn_proc_opts o = piped(argv);
        rn_proc_result r = run(&o, NULL, NULL);
        assert_int_equal(r.status, RN_PROC_EXITED);
        assert_int_equal(r.exit_code, codes[i]);
        char *d = rn_proc_result_describe(&r, &o);
        char *want = rn_xprintf("exit code %d", codes[i]);
        assert_string_equal(d, want);
        free(want);
        free(d);
        free(script);
    }
    int sigs[] = {SIGKILL, SIGSEGV, SIGTERM, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        char *script = rn_xprintf("kill -%d $$", sigs[i]);
        const char *argv[] = {"sh", "-c", script, NULL};
        rn_proc_opts o = piped(argv);
        rn_proc_result r = run(&o, NULL, NULL);
        assert_int_equal(r.status, RN_PROC_SIGNALED);
        assert_int_equal(r.term_signal, sigs[i]);
        assert_int_equal(r.exit_code, -1);
        free(script);
    }
    const char *argv[] = {"sh", "-c", "kill -9 $$", NULL};
    rn_proc_opts o = piped(argv);
    rn_proc_result r = run(&o, NULL, NULL);
    char *d = rn_proc_result_describe(&r, &o);
    assert_string_equal(d, "killed by signal 9 (Killed)");
    free(d);
}

static void stdout_stderr_separate_and_ordered(void **state) {
    (void)state;
    const char *script = "i=1; while [ $i -le 2000 ]; do echo out$i; echo err$i >&2; "
                         "i=$((i+1)); done";
    const char *argv[] = {"sh", "-c", script, NULL};
    rn_sb want_out = RN_SB_INIT, want_err = RN_SB_INIT, want_merged = RN_SB_INIT;
    for (int i = 1; i <= 2000; i++) {
        rn_sb_printf(&want_out, "out%d\n", i);
        rn_sb_printf(&want_err, "err%d\n", i);
        rn_sb_printf(&want_merged, "out%d\nerr%d\n", i, i);
    }
    rn_proc_opts o = piped(argv);
    char *out, *err;
    rn_proc_result r = run(&o, &out, &err);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, want_out.data);
    assert_string_equal(err, want_err.data);
    free(out);
    free(err);

    /* 2>&1: one pipe, so the exact write order is kept. */
    o.stderr_mode = RN_STDIO_MERGE;
    r = run(&o, &out, &err);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, want_merged.data);
    assert_string_equal(err, "");
    free(out);
    free(err);
    rn_sb_free(&want_out);
    rn_sb_free(&want_err);
    rn_sb_free(&want_merged);
}

typedef struct line_log {
    rn_sb text; /* "<stream>:<eol>:<line>|" per callback (all streams) */
    rn_sb per[3];
} line_log;

static void log_line(void *data, rn_stream s, const char *line, size_t len, bool eol) {
    line_log *l = data;
    rn_sb_printf(&l->text, "%d:%d:%.*s|", (int)s, eol, (int)len, line);
    rn_sb_printf(&l->per[s], "%d:%.*s|", eol, (int)len, line);
}

static void line_log_free(line_log *l) {
    rn_sb_free(&l->text);
    for (int i = 0; i < 3; i++)
        rn_sb_free(&l->per[i]);
}

static void lines_and_partial_last_line(void **state) {
    (void)state;
    const char *argv[] = {"sh", "-c", "printf 'a\\n\\nb\\npart'; printf 'e1\\ne2' >&2", NULL};
    rn_proc_opts o = piped(argv);
    line_log log = {0};
    o.on_line = log_line;
    o.cb_data = &log;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    assert_int_equal(r.exit_code, 0);
    /* Order holds within a stream; a partial last line comes out at end of stream. */
    assert_string_equal(log.per[RN_STDOUT].data, "1:a|1:|1:b|0:part|");
    assert_string_equal(log.per[RN_STDERR].data, "1:e1|0:e2|");
    line_log_free(&log);
}

static void carriage_returns_split_like_runner(void **state) {
    (void)state;
    /* The "\r" | "\n" pair is split across two writes: still one line end. */
    const char *argv[] = {"sh", "-c",
                          "printf 'a\\rb\\r\\nc\\n\\rd\\r'; sleep 0.1; printf '\\ne\\r'", NULL};
    rn_proc_opts o = piped(argv);
    line_log log = {0};
    o.on_line = log_line;
    o.cb_data = &log;
    o.split_cr = true;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_wait(p, NULL);
    rn_proc_free(p);
    assert_string_equal(log.per[RN_STDOUT].data, "1:a|1:b|1:c|1:|1:d|1:e|");
    line_log_free(&log);

    /* Default: only '\n' ends a line, the '\r' stay in it. */
    o.split_cr = false;
    char *out;
    rn_proc_run(&o, NULL, &out, NULL, &err);
    assert_string_equal(out, "a\rb\r\nc\n\rd\r\ne\r");
    free(out);
}

typedef struct big_count {
    size_t bytes[3], lines[3], bad[3];
    size_t pieces;
    size_t piece_len[8];
    bool piece_eol[8];
} big_count;

static void count_line(void *data, rn_stream s, const char *line, size_t len, bool eol) {
    big_count *c = data;
    c->bytes[s] += len + (eol ? 1 : 0);
    c->lines[s]++;
    const char *want = s == RN_STDOUT ? "bbbbbbbbb" : "aaaaaaaaa";
    if (len != 9 || memcmp(line, want, 9) != 0 || !eol)
        c->bad[s]++;
    if (c->pieces < 8) {
        c->piece_len[c->pieces] = len;
        c->piece_eol[c->pieces] = eol;
    }
    c->pieces++;
}

static void large_output_both_streams_no_deadlock(void **state) {
    (void)state;
    /* 10 MB on each stream at once: a reader that blocked on one pipe would deadlock. */
    const char *argv[] = {"sh", "-c",
                          "yes aaaaaaaaa | head -c 10485760 >&2 & "
                          "yes bbbbbbbbb | head -c 10485760; wait",
                          NULL};
    rn_proc_opts o = piped(argv);
    big_count c = {0};
    o.on_line = count_line;
    o.cb_data = &c;
    o.timeout_ms = 60000;
    char *err = NULL;
    long t0 = mono_ms();
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    long ms = mono_ms() - t0;
    print_message("      20 MB through two pipes in %ld ms\n", ms);
    assert_int_equal(r.status, RN_PROC_EXITED);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(c.bytes[RN_STDOUT], 10485760);
    assert_int_equal(c.bytes[RN_STDERR], 10485760);
    /* 10485760 = 1048576 lines of 10 bytes */
    assert_int_equal(c.lines[RN_STDOUT], 1048576);
    assert_int_equal(c.lines[RN_STDERR], 1048576);
    assert_int_equal(c.bad[RN_STDOUT], 0);
    assert_int_equal(c.bad[RN_STDERR], 0);
}

static void giant_line_is_split_not_dropped(void **state) {
    (void)state;
    const char *argv[] = {"sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x", NULL};
    rn_proc_opts o = piped(argv);
    big_count c = {0};
    o.on_line = count_line;
    o.cb_data = &c;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_wait(p, NULL);
    rn_proc_free(p);
    assert_int_equal(c.pieces, 3);
    assert_int_equal(c.piece_len[0], RN_PROC_MAX_LINE);
    assert_int_equal(c.piece_len[1], RN_PROC_MAX_LINE);
    assert_int_equal(c.piece_len[2], 3000000 - 2 * RN_PROC_MAX_LINE);
    assert_false(c.piece_eol[0] || c.piece_eol[1] || c.piece_eol[2]);
    assert_int_equal(c.bytes[RN_STDOUT], 3000000);
}

static void read_pid_line(void *data, rn_stream s, const char *line, size_t len, bool eol) {
    (void)eol;
    if (s == RN_STDOUT && len < 20) {
        char buf[24];
        memcpy(buf, line, len);
        buf[len] = 0;
        *(pid_t *)data = (pid_t)atoi(buf);
    }
}

static void timeout_kills_whole_tree(void **state) {
    (void)state;
    /* main sh -> inner sh -> sleep (the grandchild, whose pid is printed) */
    const char *argv[] = {"sh", "-c", "sh -c 'sleep 100 & echo $!; wait'; wait", NULL};
    rn_proc_opts o = piped(argv);
    pid_t grandchild = 0;
    o.on_line = read_pid_line;
    o.cb_data = &grandchild;
    o.timeout_ms = 400;
    o.kill_grace_ms = 300;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    assert_int_equal(r.status, RN_PROC_TIMED_OUT);
    assert_int_equal(r.term_signal, SIGTERM);
    assert_in_range(r.elapsed_ms, 400, 3000);
    assert_true(grandchild > 1);
    assert_true(gone_within(grandchild, 3000));
    char *d = rn_proc_result_describe(&r, &o);
    assert_string_equal(d, "timed out after 400 ms");
    free(d);
}

static void timeout_escalates_to_sigkill(void **state) {
    (void)state;
    /* SIGTERM ignored (and inherited by sleep): only SIGKILL after the grace period works. */
    const char *argv[] = {"sh", "-c", "trap '' TERM; sleep 100", NULL};
    rn_proc_opts o = piped(argv);
    o.timeout_ms = 200;
    o.kill_grace_ms = 300;
    rn_proc_result r = run(&o, NULL, NULL);
    assert_int_equal(r.status, RN_PROC_TIMED_OUT);
    assert_int_equal(r.term_signal, SIGKILL);
    assert_in_range(r.elapsed_ms, 500, 3000);
}

typedef struct canceller {
    rn_proc *p;
    int delay_ms;
} canceller;

static void *cancel_later(void *arg) {
    canceller *c = arg;
    usleep((useconds_t)c->delay_ms * 1000);
    rn_proc_cancel(c->p);
    return NULL;
}

static void cancel_from_another_thread(void **state) {
    (void)state;
    const char *argv[] = {"sleep", "100", NULL};
    rn_proc_opts o = piped(argv);
    o.kill_grace_ms = 2000;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    canceller c = {p, 200};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    rn_proc_result r;
    rn_proc_wait(p, &r);
    pthread_join(t, NULL);
    rn_proc_free(p);
    assert_int_equal(r.status, RN_PROC_CANCELLED);
    assert_int_equal(r.term_signal, SIGTERM);
    assert_in_range(r.elapsed_ms, 200, 1900); /* SIGTERM did it, not the SIGKILL at 2.2 s */
    char *d = rn_proc_result_describe(&r, &o);
    assert_string_equal(d, "cancelled");
    free(d);
}

static void start_errors_are_clear(void **state) {
    (void)state;
    char *err = NULL;
    const char *argv[] = {"bash-does-not-exist", "-c", "true", NULL};
    rn_proc_opts o = piped(argv);
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "bash-does-not-exist: No such file or directory");
    free(err);

    const char *argv2[] = {"/nonexistent/bin/bash", NULL};
    o = piped(argv2);
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "/nonexistent/bin/bash: No such file or directory");
    free(err);

    const char *argv3[] = {"/bin/echo", NULL};
    o = piped(argv3);
    o.cwd = "/nonexistent-dir";
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "/nonexistent-dir: No such file or directory");
    free(err);

    /* Found in PATH but not executable. */
    char *path = rn_xprintf("%s/notexec", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("#!/bin/sh\necho hi\n", f);
    fclose(f);
    chmod(path, 0644);
    char *penv = rn_xprintf("PATH=%s", tmpdir);
    const char *env[] = {penv, NULL};
    const char *argv4[] = {"notexec", NULL};
    o = piped(argv4);
    o.envp = env;
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "notexec: Permission denied");
    free(err);
    /* Absolute: the exec error itself comes back from the child. */
    const char *argv5[] = {path, NULL};
    o = piped(argv5);
    assert_null(rn_proc_start(&o, &err));
    char *want = rn_xprintf("%s: Permission denied", path);
    assert_string_equal(err, want);
    free(want);
    free(err);

    o = piped(argv3);
    o.stdin_path = "/nonexistent-input";
    assert_null(rn_proc_start(&o, &err));
    assert_string_equal(err, "/nonexistent-input: No such file or directory");
    free(err);

    free(penv);
    free(path);
}

static void env_and_cwd_exact(void **state) {
    (void)state;
    const char *env[] = {"A=1", "B=two words", "EMPTY=", NULL};
    const char *argv[] = {"/usr/bin/env", NULL};
    rn_proc_opts o = piped(argv);
    o.envp = env;
    char *out;
    rn_proc_result r = run(&o, &out, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, "A=1\nB=two words\nEMPTY=\n");
    free(out);

    o.envp = NULL; /* empty, not inherited */
    r = run(&o, &out, NULL);
    assert_string_equal(out, "");
    free(out);

    const char *argv2[] = {"/bin/pwd", NULL};
    o = piped(argv2);
    o.cwd = tmpdir;
    r = run(&o, &out, NULL);
    char *want = rn_xprintf("%s\n", tmpdir);
    assert_string_equal(out, want);
    free(want);
    free(out);

    /* PATH comes from envp and relative paths resolve against cwd. */
    char *tool = rn_xprintf("%s/mytool", tmpdir);
    FILE *f = fopen(tool, "w");
    fputs("#!/bin/sh\necho \"mytool in $(pwd) with $X\"\n", f);
    fclose(f);
    chmod(tool, 0755);
    char *penv = rn_xprintf("PATH=%s:/usr/bin:/bin", tmpdir);
    const char *env2[] = {penv, "X=42", NULL};
    const char *argv3[] = {"mytool", NULL};
    o = piped(argv3);
    o.envp = env2;
    o.cwd = "/";
    r = run(&o, &out, NULL);
    assert_string_equal(out, "mytool in / with 42\n");
    free(out);
    const char *argv4[] = {"./mytool", NULL};
    o.argv = argv4;
    o.cwd = tmpdir;
    r = run(&o, &out, NULL);
    want = rn_xprintf("mytool in %s with 42\n", tmpdir);
    assert_string_equal(out, want);
    free(want);
    free(out);
    free(penv);
    free(tool);
}

static void no_inherited_fds(void **state) {
    (void)state;
    /* Descriptors without O_CLOEXEC, as a careless library in another thread might leave. */
    int leaky = open("/dev/null", O_RDONLY);
    int lp[2];
    assert_int_equal(pipe(lp), 0);
    assert_true(leaky >= 3);
    /* ls's own directory handle is the 3. */
    const char *argv[] = {"ls", "/proc/self/fd", NULL};
    rn_proc_opts o = piped(argv);
    char *out;
    rn_proc_result r = run(&o, &out, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(out, "0\n1\n2\n3\n");
    free(out);
    close(leaky);
    close(lp[0]);
    close(lp[1]);
}

static void stdin_and_files(void **state) {
    (void)state;
    char *in = rn_xprintf("%s/in.txt", tmpdir);
    char *outp = rn_xprintf("%s/out.txt", tmpdir);
    FILE *f = fopen(in, "w");
    fputs("line one\nline two\n", f);
    fclose(f);
    const char *argv[] = {"cat", NULL};
    rn_proc_opts o = piped(argv);
    char *out;
    run(&o, &out, NULL); /* default stdin is /dev/null: cat ends at once */
    assert_string_equal(out, "");
    free(out);
    o.stdin_path = in;
    run(&o, &out, NULL);
    assert_string_equal(out, "line one\nline two\n");
    free(out);

    const char *argv2[] = {"sh", "-c", "echo to-out; echo to-err >&2; echo again", NULL};
    o = piped(argv2);
    o.stdout_mode = RN_STDIO_FILE;
    o.stdout_path = outp;
    o.stderr_mode = RN_STDIO_MERGE;
    char *err;
    run(&o, &out, &err);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    free(out);
    free(err);
    size_t n;
    char *content = rn_read_file(outp, &n);
    assert_string_equal(content, "to-out\nto-err\nagain\n");
    free(content);
    o.stdout_append = true;
    o.stderr_mode = RN_STDIO_NULL;
    run(&o, NULL, NULL);
    content = rn_read_file(outp, &n);
    assert_string_equal(content, "to-out\nto-err\nagain\nto-out\nagain\n");
    free(content);
    free(in);
    free(outp);
}

static void background_orphans_do_not_hang(void **state) {
    (void)state;
    /* `sleep 100 &` keeps both pipes open after sh exits. */
    const char *argv[] = {"sh", "-c", "sleep 100 & echo $!; echo bye >&2", NULL};
    rn_proc_opts o = piped(argv);
    pid_t orphan = 0;
    o.on_line = read_pid_line;
    o.cb_data = &orphan;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    assert_int_equal(r.status, RN_PROC_EXITED);
    assert_int_equal(r.exit_code, 0);
    assert_true(r.had_orphans);
    assert_in_range(r.elapsed_ms, 0, 2000);
    assert_true(orphan > 1);
    assert_true(gone_within(orphan, 3000));

    /* RN_ORPHANS_KEEP leaves them running for the caller (e.g. a service for later steps). */
    o.orphans = RN_ORPHANS_KEEP;
    orphan = 0;
    p = rn_proc_start(&o, &err);
    assert_non_null(p);
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    assert_true(r.had_orphans);
    assert_true(orphan > 1);
    assert_int_equal(kill(orphan, 0), 0);
    assert_int_equal(kill(-r.pgid, SIGKILL), 0);
    assert_true(gone_within(orphan, 3000));

    /* No orphans: the flag stays false. */
    const char *argv2[] = {"sh", "-c", "sleep 0.05 & wait", NULL};
    o = piped(argv2);
    r = run(&o, NULL, NULL);
    assert_false(r.had_orphans);
}

static void orphan_wait_lets_late_output_in(void **state) {
    (void)state;
    const char *argv[] = {"sh", "-c", "(sleep 0.3; echo late) & echo early", NULL};
    rn_proc_opts o = piped(argv);
    o.orphan_wait_ms = 3000; /* actions/runner waits up to 5 s for the pipes to close */
    char *out;
    rn_proc_result r = run(&o, &out, NULL);
    assert_string_equal(out, "early\nlate\n");
    assert_in_range(r.elapsed_ms, 300, 2900); /* ended at EOF, not at the deadline */
    free(out);

    o.orphan_wait_ms = 0; /* default: what is buffered when the main process exits */
    r = run(&o, &out, NULL);
    assert_string_equal(out, "early\n"); /* did not wait for "late" */
    assert_true(r.had_orphans);
    free(out);

    /* A writer that never stops is cut off at the deadline. */
    const char *argv2[] = {"sh", "-c", "(while :; do echo tick; sleep 0.05; done) & echo main",
                           NULL};
    o = piped(argv2);
    o.orphan_wait_ms = 400;
    r = run(&o, &out, NULL);
    assert_true(r.had_orphans);
    assert_in_range(r.elapsed_ms, 400, 2000);
    assert_non_null(strstr(out, "main\n"));
    assert_non_null(strstr(out, "tick\n"));
    free(out);
}

static void poll_api_returns_while_running(void **state) {
    (void)state;
    const char *argv[] = {"sh", "-c", "echo first; sleep 0.3; echo second", NULL};
    rn_proc_opts o = piped(argv);
    line_log log = {0};
    o.on_line = log_line;
    o.cb_data = &log;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    /* Zero-timeout polls (a caller multiplexing its own work) still move output along. */
    long t0 = mono_ms();
    rn_proc_result r;
    while (!log.text.data && mono_ms() - t0 < 2000) {
        assert_int_equal(rn_proc_poll(p, 0, &r), 0);
        usleep(5000);
    }
    assert_string_equal(log.text.data, "1:1:first|");
    int polls = 0;
    while (!rn_proc_poll(p, 50, &r))
        polls++;
    rn_proc_free(p);
    assert_true(polls >= 2); /* returned while the 0.3 s sleep was running */
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(log.text.data, "1:1:first|1:1:second|");
    line_log_free(&log);
}

typedef struct worker {
    int id;
    int failures;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 15; i++) {
        char *word = rn_xprintf("job%d-run%d", w->id, i);
        const char *argv[] = {"sh", "-c", "echo $0; echo err-$0 >&2; exit 7", word, NULL};
        rn_proc_opts o = piped(argv);
        rn_proc_result r;
        char *out = NULL, *err = NULL, *msg = NULL;
        if (rn_proc_run(&o, &r, &out, &err, &msg) != 0) {
            w->failures++;
            free(msg);
        } else {
            char *wo = rn_xprintf("%s\n", word), *we = rn_xprintf("err-%s\n", word);
            if (strcmp(out, wo) || strcmp(err, we) || r.exit_code != 7)
                w->failures++;
            free(wo);
            free(we);
        }
        free(out);
        free(err);
        free(word);
    }
    return NULL;
}

static void concurrent_jobs(void **state) {
    (void)state;
    enum { N = 6 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){i, 0};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
}

static void free_kills_unfinished(void **state) {
    (void)state;
    const char *argv[] = {"sh", "-c", "sleep 100 & echo $!; wait", NULL};
    rn_proc_opts o = piped(argv);
    pid_t child = 0;
    o.on_line = read_pid_line;
    o.cb_data = &child;
    char *err = NULL;
    rn_proc *p = rn_proc_start(&o, &err);
    assert_non_null(p);
    long t0 = mono_ms();
    while (!child && mono_ms() - t0 < 3000)
        assert_int_equal(rn_proc_poll(p, 50, NULL), 0);
    assert_true(child > 1);
    rn_proc_free(p);
    assert_true(gone_within(child, 3000));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_exact_output),
        cmocka_unit_test(exit_codes_and_signals),
        cmocka_unit_test(stdout_stderr_separate_and_ordered),
        cmocka_unit_test(lines_and_partial_last_line),
        cmocka_unit_test(carriage_returns_split_like_runner),
        cmocka_unit_test(large_output_both_streams_no_deadlock),
        cmocka_unit_test(giant_line_is_split_not_dropped),
        cmocka_unit_test(timeout_kills_whole_tree),
        cmocka_unit_test(timeout_escalates_to_sigkill),
        cmocka_unit_test(cancel_from_another_thread),
        cmocka_unit_test(start_errors_are_clear),
        cmocka_unit_test(env_and_cwd_exact),
        cmocka_unit_test(no_inherited_fds),
        cmocka_unit_test(stdin_and_files),
        cmocka_unit_test(background_orphans_do_not_hang),
        cmocka_unit_test(orphan_wait_lets_late_output_in),
        cmocka_unit_test(poll_api_returns_while_running),
        cmocka_unit_test(concurrent_jobs),
        cmocka_unit_test(free_kills_unfinished),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
