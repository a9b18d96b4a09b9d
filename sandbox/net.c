/* slirp4netns for private container networks (see net.h). */
#include "sandbox/net.h"

#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct rn_slirp {
    rn_proc *p;
    int exit_w; /* write end of its --exit-fd pipe: closing it tells slirp4netns to exit */
};

char *rn_slirp_find(void) {
    const char *env = getenv("RUNNEL_SLIRP4NETNS");
    if (env)
        return *env && access(env, X_OK) == 0 ? rn_xstrdup(env) : NULL;
    const char *path = getenv("PATH");
    rn_sb dirs = RN_SB_INIT;
    rn_sb_printf(&dirs, "%s:/usr/bin:/usr/sbin:/bin", path ? path : "");
    char *found = NULL, *save = NULL;
    for (char *d = strtok_r(dirs.data, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        if (d[0] != '/')
            continue;
        char *f = rn_xprintf("%s/slirp4netns", d);
        if (access(f, X_OK) == 0)
            found = f;
        else
            free(f);
    }
    rn_sb_free(&dirs);
    return found;
}

typedef struct ready_state {
    bool ready;
} ready_state;

/* slirp4netns writes "1" to its ready fd (our stdout pipe) and closes it: a partial last line. */
static void on_ready(void *data, rn_stream stream, const char *line, size_t len, bool eol) {
    (void)eol;
    if (stream == RN_STDOUT && len == 1 && line[0] == '1')
        ((ready_state *)data)->ready = true;
}

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The last non-empty line of the log, or "". Caller frees. */
static char *last_line(const char *path) {
    char *t = rn_read_file(path, NULL);
    if (!t)
        return rn_xstrdup("");
    size_t n = strlen(t);
    while (n && (t[n - 1] == '\n' || t[n - 1] == '\r'))
        t[--n] = 0;
    char *nl = strrchr(t, '\n');
    char *l = rn_xstrdup(nl ? nl + 1 : t);
    free(t);
    return l;
}

rn_slirp *rn_slirp_start(pid_t pid, const char *log_path, char **err) {
    *err = NULL;
    char *exe = rn_slirp_find();
    if (!exe) {
        *err = rn_xstrdup("slirp4netns not found (install the Debian package slirp4netns)");
        return NULL;
    }
    int ex[2];
    if (pipe2(ex, O_CLOEXEC) != 0) {
        *err = rn_xprintf("slirp4netns: pipe: %s", strerror(errno));
        free(exe);
        return NULL;
    }
    char pidstr[24], in_path[64];
    snprintf(pidstr, sizeof pidstr, "%d", (int)pid);
    /* its stdin: a new open of the pipe's read end (proc.c opens stdin_path itself) */
    snprintf(in_path, sizeof in_path, "/proc/self/fd/%d", ex[0]);
    const char *argv[] = {exe,
                          "--configure",
                          "--mtu=65520",
                          "--disable-host-loopback",
                          "--ready-fd=1",
                          "--exit-fd=0",
                          pidstr,
                          "tap0",
                          NULL};
    char *path_env = rn_xprintf("PATH=%s", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    const char *envp[] = {path_env, NULL};
    ready_state st = {false};
    rn_proc_opts po = {0};
    po.argv = argv;
    po.envp = envp;
    po.cwd = "/";
    po.stdin_path = in_path;
    po.stdout_mode = RN_STDIO_PIPE;
    po.stderr_mode = RN_STDIO_FILE;
    po.stderr_path = log_path;
    po.on_line = on_ready;
    po.cb_data = &st;
    po.kill_grace_ms = 1000;
    rn_proc *p = rn_proc_start(&po, err);
    close(ex[0]);
    free(path_env);
    free(exe);
    if (!p) {
        close(ex[1]);
        return NULL;
    }
    long deadline = now_ms() + 10000;
    rn_proc_result res;
    int done = 0;
    /* short slices: rn_proc_poll() keeps reading for the whole slice, ready or not */
    while (!st.ready && !done && now_ms() < deadline)
        done = rn_proc_poll(p, 2, &res);
    if (!st.ready) {
        char *why =
            done ? rn_proc_result_describe(&res, NULL) : rn_xstrdup("not ready after 10 seconds");
        char *last = last_line(log_path);
        *err = rn_xprintf("slirp4netns: %s%s%s", why, *last ? ": " : "", last);
        free(why);
        free(last);
        close(ex[1]);
        rn_proc_free(p);
        return NULL;
    }
    rn_slirp *s = rn_xcalloc(1, sizeof *s);
    s->p = p;
    s->exit_w = ex[1];
    return s;
}

pid_t rn_slirp_pid(const rn_slirp *s) {
    return rn_proc_pid(s->p);
}

void rn_slirp_stop(rn_slirp *s) {
    if (!s)
        return;
    close(s->exit_w);
    rn_proc_free(s->p); /* SIGKILL to its group and reap, whether or not it saw the exit fd */
    free(s);
}

typedef struct ns_listen {
    int ns_fd;
    unsigned short port;
    int fd, err;
    const char *what;
} ns_listen;

static void *ns_listen_thread(void *arg) {
    ns_listen *l = arg;
    l->what = "entering its network namespace";
    if (setns(l->ns_fd, CLONE_NEWNET) != 0)
        goto fail;
    l->what = "socket";
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd < 0)
        goto fail;
    int one = 1;
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(l->port);
    l->what = "bind";
    if (bind(l->fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    l->what = "listen";
    if (listen(l->fd, 64) != 0)
        goto fail;
    return NULL;
fail:
    l->err = errno;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    return NULL;
}

int rn_netns_listen_tcp(pid_t pid, unsigned short port, char **err) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    ns_listen l = {open(path, O_RDONLY | O_CLOEXEC), port, -1, 0, "opening its namespace"};
    if (l.ns_fd < 0) {
        *err = rn_xprintf("listening on 127.0.0.1:%u in the network of pid %d: %s: %s",
                          (unsigned)port, (int)pid, l.what, strerror(errno));
        return -1;
    }
    pthread_t t;
    int e = pthread_create(&t, NULL, ns_listen_thread, &l);
    if (e == 0)
        pthread_join(t, NULL);
    else
        l.err = e, l.what = "thread";
    close(l.ns_fd);
    if (l.fd < 0)
        *err = rn_xprintf("listening on 127.0.0.1:%u in the network of pid %d: %s: %s",
                          (unsigned)port, (int)pid, l.what, strerror(l.err));
    return l.fd;
}
