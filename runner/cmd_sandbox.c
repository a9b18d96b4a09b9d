/* runnel sandbox exec: run one command in a fresh container (for humans and the security tests).
 * Exit status: the command's; 128+N when killed by signal N (137 when the memory limit killed
 * it), 124 on --timeout, 125 when the container could not be set up, 2 on usage errors. */
#include "common/arena.h"
#include "runner/commands.h"
#include "sandbox/container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ITEMS 64

static int usage(FILE *f) {
    fprintf(f, "usage: runnel sandbox exec [OPTIONS] -- CMD [ARGS]...\n"
               "  --rootfs DIR        lower layer, lowest first (repeatable; default /)\n"
               "  --net MODE          none (default), host or private\n"
               "  --memory BYTES      memory limit (suffix k, m, g)\n"
               "  --pids N            process limit\n"
               "  --cpus X            CPU quota, e.g. 1.5\n"
               "  --cpu-shares N      relative CPU weight (1024 = default)\n"
               "  -v SRC:DST[:ro]     bind mount (repeatable)\n"
               "  --mask PATH         hide a path of the rootfs under an empty tmpfs (repeatable)\n"
               "  --layer WHERE       the thrown-away writable layer: memory (default: a tmpfs,\n"
               "                      charged to --memory) or disk (under $RUNNEL_SANDBOX_DIR)\n"
               "  -e NAME=VALUE       environment (repeatable; PATH has a default)\n"
               "  -w DIR              working directory in the container (default /)\n"
               "  --hostname NAME     (default runnel)\n"
               "  --user UID[:GID]    run as this user inside\n"
               "  --userns            use a user namespace even as root\n"
               "  --timeout MS        kill the command after MS milliseconds\n"
               "  --unconfined        no seccomp filter, all capabilities (debugging)\n");
    return f == stdout ? 0 : 2;
}

static bool parse_size(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return false;
    int64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024LL * 1024 * 1024, end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return false;
    *out = (int64_t)(v * (double)mul);
    return true;
}

static void print_line(void *data, rn_stream s, const char *line, size_t len, bool eol) {
    (void)data;
    FILE *f = s == RN_STDOUT ? stdout : stderr;
    fwrite(line, 1, len, f);
    if (eol)
        fputc('\n', f);
    fflush(f);
}

static int cmd_exec(int argc, char **argv) {
    rn_container_opts co = {0};
    co.net = RN_NET_NONE;
    co.layer_in_memory = true;
    const char *lowers[MAX_ITEMS], *masked[MAX_ITEMS], *env[MAX_ITEMS + 2];
    rn_bind binds[MAX_ITEMS];
    char *bind_copies[MAX_ITEMS];
    size_t nl = 0, nm = 0, ne = 0, nb = 0;
    const char *cwd = NULL;
    int timeout = 0, rc = 2;
    bool have_path = false;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            rc = usage(stdout);
            goto out;
        } else if (!strcmp(a, "--userns")) {
            co.userns = RN_USERNS_ON;
            takes = false;
        } else if (!strcmp(a, "--unconfined")) {
            co.no_hardening = true;
            takes = false;
        } else if (!v) {
            fprintf(stderr, "runnel sandbox: %s needs a value\n", a);
            goto out;
        } else if (!strcmp(a, "--rootfs") && nl < MAX_ITEMS) {
            lowers[nl++] = v;
        } else if (!strcmp(a, "--mask") && nm < MAX_ITEMS) {
            masked[nm++] = v;
        } else if (!strcmp(a, "-e") && ne < MAX_ITEMS) {
            if (!strchr(v, '=')) {
                fprintf(stderr, "runnel sandbox: -e wants NAME=VALUE, got '%s'\n", v);
                goto out;
            }
            have_path |= !strncmp(v, "PATH=", 5);
            env[ne++] = v;
        } else if (!strcmp(a, "-v") && nb < MAX_ITEMS) {
            char *copy = rn_xstrdup(v);
            bind_copies[nb] = copy;
            char *dst = strchr(copy, ':');
            char *mode = dst ? strchr(dst + 1, ':') : NULL;
            if (dst)
                *dst++ = 0;
            if (mode)
                *mode++ = 0;
            binds[nb++] = (rn_bind){copy, dst, mode && !strcmp(mode, "ro")};
            if (!dst || (mode && strcmp(mode, "ro") && strcmp(mode, "rw"))) {
                fprintf(stderr, "runnel sandbox: -v wants SRC:DST[:ro|rw], got '%s'\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--net")) {
            if (!strcmp(v, "none"))
                co.net = RN_NET_NONE;
            else if (!strcmp(v, "host"))
                co.net = RN_NET_HOST;
            else if (!strcmp(v, "private"))
                co.net = RN_NET_PRIVATE;
            else {
                fprintf(stderr, "runnel sandbox: --net wants none, host or private\n");
                goto out;
            }
        } else if (!strcmp(a, "--layer")) {
            if (strcmp(v, "memory") && strcmp(v, "disk")) {
                fprintf(stderr, "runnel sandbox: --layer wants memory or disk, got '%s'\n", v);
                goto out;
            }
            co.layer_in_memory = !strcmp(v, "memory");
        } else if (!strcmp(a, "--memory")) {
            if (!parse_size(v, &co.memory_bytes)) {
                fprintf(stderr, "runnel sandbox: bad --memory '%s'\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--pids")) {
            co.pids_max = atoll(v);
        } else if (!strcmp(a, "--cpus")) {
            co.cpu_millis = (uint32_t)(atof(v) * 1000);
        } else if (!strcmp(a, "--cpu-shares")) {
            co.cpu_shares = (uint32_t)atol(v);
        } else if (!strcmp(a, "-w")) {
            cwd = v;
        } else if (!strcmp(a, "--hostname")) {
            co.hostname = v;
        } else if (!strcmp(a, "--timeout")) {
            timeout = atoi(v);
        } else if (!strcmp(a, "--user")) {
            char *end;
            co.uid = (uid_t)strtoul(v, &end, 10);
            co.gid = *end == ':' ? (gid_t)strtoul(end + 1, NULL, 10) : co.uid;
        } else {
            fprintf(stderr, "runnel sandbox: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        }
        if (takes)
            i++;
    }
    if (i >= argc) {
        fprintf(stderr, "runnel sandbox: no command (put it after --)\n");
        goto out;
    }
    if (!have_path)
        env[ne++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    env[ne] = NULL;
    if (nl == 0)
        lowers[nl++] = "/";
    co.lowers = lowers;
    co.n_lowers = nl;
    co.masked = masked;
    co.n_masked = nm;
    co.binds = binds;
    co.n_binds = nb;
    co.env = env;

    char *err = NULL;
    rn_container *c = rn_container_create(&co, &err);
    if (!c) {
        fprintf(stderr, "runnel sandbox: %s\n", err);
        free(err);
        rc = 125;
        goto out;
    }
    if (*rn_container_warnings(c))
        fprintf(stderr, "runnel sandbox: warning: %s\n", rn_container_warnings(c));
    rn_proc_opts o = {0};
    o.argv = (const char *const *)argv + i;
    o.cwd = cwd;
    o.stdin_path = "/dev/stdin";
    o.stdout_mode = RN_STDIO_PIPE;
    o.stderr_mode = RN_STDIO_PIPE;
    o.timeout_ms = timeout;
    o.kill_grace_ms = 500;
    o.on_line = print_line;
    o.container = c;
    uint64_t oom_before = rn_container_oom_kills(c);
    rn_proc *p = rn_proc_start(&o, &err);
    if (!p) {
        fprintf(stderr, "runnel sandbox: %s\n", err);
        free(err);
        rn_container_destroy(c);
        rc = 127;
        goto out;
    }
    rn_proc_result r;
    rn_proc_wait(p, &r);
    rn_proc_free(p);
    char *what = rn_container_describe(c, &r, &o, oom_before);
    bool oom = rn_container_oom_kills(c) > oom_before && co.memory_bytes > 0;
    rn_container_destroy_at_exit(c); /* the status is known: exit while the kernel tears down */
    if (r.status == RN_PROC_EXITED && !oom) {
        rc = r.exit_code;
    } else {
        fprintf(stderr, "runnel sandbox: %s\n", what);
        rc = r.status == RN_PROC_TIMED_OUT ? 124
             : oom                         ? 137
             : r.term_signal               ? 128 + r.term_signal
                                           : (r.exit_code >= 0 ? r.exit_code : 1);
    }
    free(what);
out:
    for (size_t k = 0; k < nb; k++)
        free(bind_copies[k]);
    return rc;
}

int rn_cmd_sandbox(int argc, char **argv) {
    if (argc < 2) {
        return usage(stderr);
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return usage(stdout);
    if (!strcmp(argv[1], "exec"))
        return cmd_exec(argc - 1, argv + 1);
    fprintf(stderr, "runnel sandbox: unknown subcommand '%s'\n", argv[1]);
    return usage(stderr);
}
