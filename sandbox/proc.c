/* Host processes via clone(CLONE_VM | CLONE_VFORK), what glibc's posix_spawn does, minus its
 * per-call costs: the child runs on a stack kept per thread (posix_spawn maps and unmaps one for
 * every call, and the unmap of a multithreaded parent's memory costs a TLB shootdown on every
 * CPU), and does only raw system calls. The parent sleeps until the child has exec'ed or
 * failed; a failure (ENOENT, EACCES, a bad cwd, ...) comes back through the shared memory as
 * the start's error, synchronously, without fork's copy of a large multithreaded parent. */
#include "sandbox/proc.h"

#include "common/arena.h"
#include "common/strbuf.h"
#include "sandbox/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define NO_PIDFD_POLL_MS 10 /* without pidfd, how often to look for the main process's exit */

typedef struct stream {
    int fd; /* read end, -1 once closed */
    rn_stream id;
    rn_sb pending; /* partial line carried between reads */
    bool skip_lf;  /* split_cr: the last chunk ended in '\r', a leading '\n' belongs to it */
} stream;

struct rn_proc {
    pid_t pid;
    int pidfd;   /* readable when the main process exits; -1 if the kernel lacks pidfd_open */
    int wake_fd; /* eventfd written by rn_proc_cancel() to wake the poll loop */
    stream out, err;
    rn_proc_line_cb on_line;
    void *cb_data;
    long start_ms, timeout_ms, grace_ms;
    long kill_at_ms; /* when SIGKILL follows the SIGTERM of a timeout/cancel; -1 = not pending */
    rn_orphans orphans;
    long orphan_wait_ms;
    long exited_at_ms; /* when the main process was seen to exit; -1 = still running */
    bool split_cr;
    atomic_bool cancel_requested;
    int stop_reason; /* 0, RN_PROC_TIMED_OUT or RN_PROC_CANCELLED */
    bool finished;
    rn_proc_result result;
};

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *errmsg(const char *what, int e) {
    return rn_xprintf("%s: %s", what, strerror(e));
}

static const char *env_get(const char *const *envp, const char *name) {
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* execvp's search, but over the child's PATH (from envp) rather than runnel's own. A name with
 * a '/' is left to exec, relative to the child's cwd. */
static char *resolve_exe(const char *name, const char *const *envp, const char *cwd, int *err) {
    if (strchr(name, '/'))
        return rn_xstrdup(name);
    if (!*name) {
        *err = ENOENT;
        return NULL;
    }
    const char *path = env_get(envp, "PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    bool eacces = false;
    for (const char *seg = path;; seg++) {
        const char *end = strchr(seg, ':');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        rn_sb full = RN_SB_INIT;
        if (len == 0 || seg[0] != '/') { /* empty entry = ".", both relative to the child cwd */
            if (cwd)
                rn_sb_printf(&full, "%s/", cwd);
        }
        if (len)
            rn_sb_append(&full, seg, len);
        else
            rn_sb_putc(&full, '.');
        rn_sb_printf(&full, "/%s", name);
        struct stat st;
        if (stat(full.data, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(full.data, X_OK) == 0)
                return rn_sb_take(&full);
            eacces = true;
        }
        rn_sb_free(&full);
        if (!end)
            break;
        seg = end;
    }
    *err = eacces ? EACCES : ENOENT;
    return NULL;
}

static void close_fd(int *fd) {
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Opens the child's end of one standard stream. *parent_end gets the read end of a pipe. */
static int open_target(rn_stdio mode, const char *path, bool append, int *child_end,
                       int *parent_end, char **err) {
    *child_end = *parent_end = -1;
    if (mode == RN_STDIO_PIPE) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0) {
            *err = errmsg("pipe", errno);
            return -1;
        }
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        *parent_end = p[0];
        *child_end = p[1];
        return 0;
    }
    if (mode == RN_STDIO_FILE && !path) {
        *err = rn_xstrdup("output redirected to a file without a path");
        return -1;
    }
    const char *target = mode == RN_STDIO_FILE ? path : "/dev/null";
    int flags = O_WRONLY | O_CLOEXEC | (mode == RN_STDIO_FILE ? O_CREAT : 0) |
                (append ? O_APPEND : O_TRUNC);
    *child_end = open(target, flags, 0644);
    if (*child_end < 0) {
        *err = errmsg(target, errno);
        return -1;
    }
    return 0;
}

/* ---- host spawn ---- */

#define SPAWN_STACK_SIZE (64 * 1024)
#define SPAWN_GUARD 4096

typedef struct spawn_req {
    const char *exe;
    const char *const *argv, *const *envp;
    int fd[3]; /* become the child's 0, 1, 2 */
    const char *cwd;
    unsigned max_fd;  /* close_range fallback: close 3..max_fd */
    volatile int err; /* set by the child when a step before exec, or exec, failed */
} spawn_req;

static pthread_key_t stack_key;
static pthread_once_t stack_once = PTHREAD_ONCE_INIT;
static unsigned spawn_max_fd = 65535; /* close_range fallback (kernels before 5.9) */

static void stack_unmap(void *s) {
    munmap((char *)s - SPAWN_GUARD, SPAWN_STACK_SIZE + SPAWN_GUARD);
}

static void stack_key_init(void) {
    pthread_key_create(&stack_key, stack_unmap);
    (void)syscall(SYS_getpid); /* bind syscall() now: the child must not resolve symbols */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < spawn_max_fd)
        spawn_max_fd = (unsigned)rl.rlim_cur;
}

/* The calling thread's spawn stack (lowest usable address), mapped on first use with a guard
 * page below it, unmapped when the thread exits. NULL if it cannot be mapped. */
static void *spawn_stack(void) {
    pthread_once(&stack_once, stack_key_init);
    void *s = pthread_getspecific(stack_key);
    if (s)
        return s;
    char *m = mmap(NULL, SPAWN_STACK_SIZE + SPAWN_GUARD, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    mprotect(m, SPAWN_GUARD, PROT_NONE);
    s = m + SPAWN_GUARD;
    if (pthread_setspecific(stack_key, s) != 0) {
        munmap(m, SPAWN_STACK_SIZE + SPAWN_GUARD);
        return NULL;
    }
    return s;
}

/* Runs in the child, sharing the parent's memory while the parent sleeps: only raw system calls
 * (no allocation, no locks, nothing a sanitizer intercepts), then exec or _exit. errno is the
 * parent thread's (same TLS), which the parent restores. */
__attribute__((no_sanitize("address", "undefined"))) static int spawn_child(void *arg) {
    spawn_req *r = arg;
    /* Every signal to its default, as POSIX_SPAWN_SETSIGDEF for all: an ignored one (SIGPIPE)
     * would survive exec, and no handler of runnel may run here. A zeroed kernel sigaction is
     * SIG_DFL with no flags on every architecture. */
    unsigned long ksa[4] = {0, 0, 0, 0};
    for (long sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, ksa, NULL, (long)sizeof(uint64_t));
    if (syscall(SYS_setsid) < 0)
        goto fail;
    for (long i = 0; i < 3; i++) {
        if (r->fd[i] == i) { /* dup2 onto itself keeps CLOEXEC: clear it instead */
            if (syscall(SYS_fcntl, i, F_SETFD, 0L) < 0)
                goto fail;
        } else if (syscall(SYS_dup3, (long)r->fd[i], i, 0L) < 0) { /* dup2 is not on every arch */
            goto fail;
        }
    }
    if (r->cwd && syscall(SYS_chdir, r->cwd) < 0)
        goto fail;
    /* Everything runnel opens is O_CLOEXEC, but other threads or libraries may not be that
     * careful: close whatever else is open so nothing of runnel leaks into steps. */
    if (syscall(SYS_close_range, 3L, ~0UL, 0L) < 0)
        for (unsigned fd = 3; fd <= r->max_fd; fd++)
            syscall(SYS_close, (long)fd);
    uint64_t none = 0; /* runnel's threads may block signals: the program starts with none */
    syscall(SYS_rt_sigprocmask, (long)SIG_SETMASK, &none, NULL, (long)sizeof none);
    syscall(SYS_execve, r->exe, r->argv, r->envp);
fail:
    r->err = errno ? errno : ENOEXEC;
    syscall(SYS_exit, 127L);
    return 127;
}

/* Starts exe on the host with the given standard streams (err may equal out for 2>&1). Returns
 * 0 with *pid set, or the errno of what failed (fork, setsid, dup2, chdir, exec). */
static int host_spawn(const char *exe, const char *const *argv, const char *const *envp, int in,
                      int out, int err, const char *cwd, pid_t *pid) {
    char *stack = spawn_stack();
    if (!stack)
        return ENOMEM;
    spawn_req r = {exe, argv, envp, {in, out, err}, cwd, spawn_max_fd, 0};
    sigset_t all, old;
    sigfillset(&all);
    /* No signal handler may run in the child before it has reset the dispositions. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int saved = errno;
    pid_t p = clone(spawn_child, stack + SPAWN_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &r);
    int ce = p < 0 ? errno : 0;
    errno = saved;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0)
        return ce;
    if (r.err) { /* the child exited with 127 before or at exec: reap it */
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
            ;
        return r.err;
    }
    *pid = p;
    return 0;
}

rn_proc *rn_proc_start(const rn_proc_opts *o, char **err) {
    *err = NULL;
    if (!o->argv || !o->argv[0]) {
        *err = rn_xstrdup("no program to run");
        return NULL;
    }
    if (o->stdout_mode == RN_STDIO_MERGE) {
        *err = rn_xstrdup("stdout cannot be merged into itself");
        return NULL;
    }
    static const char *const no_env[] = {NULL};
    const char *const *envp = o->envp ? o->envp : no_env;
    /* Checked here so the message names the directory, not the program (in a container, by
     * rn_container_spawn). */
    if (o->cwd && !o->container) {
        struct stat st;
        if (stat(o->cwd, &st) != 0) {
            *err = errmsg(o->cwd, errno);
            return NULL;
        }
        if (!S_ISDIR(st.st_mode)) {
            *err = errmsg(o->cwd, ENOTDIR);
            return NULL;
        }
    }
    int e = 0;
    /* In a container, PATH search and cwd happen inside it (rn_container_spawn). */
    char *exe = o->container ? rn_xstrdup(o->argv[0]) : resolve_exe(o->argv[0], envp, o->cwd, &e);
    if (!exe) {
        *err = errmsg(o->argv[0], e);
        return NULL;
    }

    int in = -1, out_w = -1, out_r = -1, err_w = -1, err_r = -1;
    rn_proc *p = NULL;
    const char *in_path = o->stdin_path ? o->stdin_path : "/dev/null";
    in = open(in_path, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        *err = errmsg(in_path, errno);
        goto done;
    }
    if (open_target(o->stdout_mode, o->stdout_path, o->stdout_append, &out_w, &out_r, err) != 0)
        goto done;
    if (o->stderr_mode != RN_STDIO_MERGE &&
        open_target(o->stderr_mode, o->stderr_path, o->stderr_append, &err_w, &err_r, err) != 0)
        goto done;

    pid_t pid = -1;
    if (o->container) {
        pid = rn_container_spawn(o->container, o->argv, envp, o->cwd, in, out_w,
                                 o->stderr_mode == RN_STDIO_MERGE ? out_w : err_w, err);
        if (pid < 0)
            goto done;
        goto started;
    }
    int se = host_spawn(exe, o->argv, envp, in, out_w,
                        o->stderr_mode == RN_STDIO_MERGE ? out_w : err_w, o->cwd, &pid);
    if (se != 0) {
        *err = errmsg(o->argv[0], se);
        goto done;
    }

started:
    p = rn_xcalloc(1, sizeof *p);
    p->pid = pid;
    p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    p->out = (stream){out_r, RN_STDOUT, RN_SB_INIT, false};
    p->err = (stream){err_r, RN_STDERR, RN_SB_INIT, false};
    out_r = err_r = -1;
    p->on_line = o->on_line;
    p->cb_data = o->cb_data;
    p->start_ms = now_ms();
    p->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
    p->grace_ms = o->kill_grace_ms > 0 ? o->kill_grace_ms : RN_PROC_DEFAULT_GRACE_MS;
    p->kill_at_ms = -1;
    p->orphans = o->orphans;
    p->orphan_wait_ms = o->orphan_wait_ms > 0 ? o->orphan_wait_ms : 0;
    p->exited_at_ms = -1;
    p->split_cr = o->split_cr;
    atomic_init(&p->cancel_requested, false);
done:
    free(exe);
    close_fd(&in);
    close_fd(&out_w);
    close_fd(&err_w);
    close_fd(&out_r);
    close_fd(&err_r);
    return p;
}

static void emit(rn_proc *p, stream *s, const char *line, size_t len, bool eol) {
    if (p->on_line)
        p->on_line(p->cb_data, s->id, line, len, eol);
}

static const char *find_eol(const char *b, size_t n, bool split_cr) {
    if (!split_cr)
        return memchr(b, '\n', n);
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\n' || b[i] == '\r')
            return b + i;
    return NULL;
}

/* Splits a chunk into lines; whole lines are handed out straight from the read buffer. */
static void feed(rn_proc *p, stream *s, const char *buf, size_t n) {
    size_t start = 0;
    if (s->skip_lf) { /* "\r" | "\n" split across reads is still one line end */
        s->skip_lf = false;
        if (n && buf[0] == '\n')
            start = 1;
    }
    const char *nl;
    while ((nl = find_eol(buf + start, n - start, p->split_cr))) {
        size_t end = (size_t)(nl - buf);
        if (s->pending.len) {
            rn_sb_append(&s->pending, buf + start, end - start);
            emit(p, s, s->pending.data, s->pending.len, true);
            rn_sb_clear(&s->pending);
        } else {
            emit(p, s, buf + start, end - start, true);
        }
        start = end + 1;
        if (*nl == '\r') {
            if (start == n)
                s->skip_lf = true;
            else if (buf[start] == '\n')
                start++;
        }
    }
    if (start < n)
        rn_sb_append(&s->pending, buf + start, n - start);
    if (s->pending.len >= RN_PROC_MAX_LINE) { /* bounded memory: split giant lines */
        size_t off = 0;
        while (s->pending.len - off >= RN_PROC_MAX_LINE) {
            emit(p, s, s->pending.data + off, RN_PROC_MAX_LINE, false);
            off += RN_PROC_MAX_LINE;
        }
        memmove(s->pending.data, s->pending.data + off, s->pending.len - off);
        s->pending.len -= off;
        s->pending.data[s->pending.len] = 0;
    }
}

static void stream_eof(rn_proc *p, stream *s) {
    if (s->pending.len)
        emit(p, s, s->pending.data, s->pending.len, false);
    rn_sb_clear(&s->pending);
    close_fd(&s->fd);
}

/* Reads what is there now. Returns false at EOF or error (stream closed), true if more may come.
 * With drain, reads what the pipe held when called (bounded: a background `yes` must not keep us
 * here forever); else reads one chunk (fairness between streams). */
static bool read_stream(rn_proc *p, stream *s, bool drain) {
    char buf[READ_CHUNK];
    int avail = 0;
    if (drain && s->fd >= 0 && ioctl(s->fd, FIONREAD, &avail) != 0)
        avail = 0;
    size_t budget = drain ? (size_t)avail : sizeof buf;
    bool first = true;
    while (s->fd >= 0 && (first || budget > 0)) {
        first = false; /* always one read: it is how EOF is seen */
        size_t want = budget > 0 && budget < sizeof buf ? budget : sizeof buf;
        ssize_t r = read(s->fd, buf, want);
        if (r > 0) {
            feed(p, s, buf, (size_t)r);
            if (!drain)
                return true;
            budget = (size_t)r >= budget ? 0 : budget - (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        stream_eof(p, s);
        return false;
    }
    return s->fd >= 0;
}

static void signal_group(rn_proc *p, int sig) {
    /* Only called while the main process is unreaped, so its pid (== pgid) cannot be reused. */
    kill(-p->pid, sig);
}

static void begin_stop(rn_proc *p, int reason, long now) {
    p->stop_reason = reason;
    signal_group(p, SIGTERM);
    p->kill_at_ms = now + p->grace_ms;
}

static bool main_exited(rn_proc *p) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* WNOWAIT: leave it a zombie so its pid keeps pinning the process group id until the
     * orphans have been dealt with. */
    if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD; /* someone else reaped it: treat as gone */
    return si.si_pid == p->pid;
}

static void finish(rn_proc *p, long now) {
    /* Like actions/runner: once the main process is gone, take what its children already wrote
     * but do not wait for background processes that keep the pipes open. */
    read_stream(p, &p->out, true);
    read_stream(p, &p->err, true);
    bool kill_rest = p->orphans == RN_ORPHANS_KILL || p->stop_reason;
    if (kill_rest)
        signal_group(p, SIGKILL);
    int st = 0;
    pid_t r;
    while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR)
        ;
    rn_proc_result *res = &p->result;
    res->pid = res->pgid = p->pid;
    /* The reaped leader no longer counts; anyone still in the group is an orphan (dying or, with
     * RN_ORPHANS_KEEP, left running). */
    res->had_orphans = kill(-p->pid, 0) == 0;
    res->exit_code = -1;
    res->term_signal = 0;
    if (r == p->pid && WIFEXITED(st))
        res->exit_code = WEXITSTATUS(st);
    else if (r == p->pid && WIFSIGNALED(st))
        res->term_signal = WTERMSIG(st);
    if (p->stop_reason)
        res->status = (rn_proc_status)p->stop_reason;
    else
        res->status = res->term_signal ? RN_PROC_SIGNALED : RN_PROC_EXITED;
    res->elapsed_ms = now - p->start_ms;
    /* Output written between the first drain and the kill; never waits for EOF. */
    for (stream *s = &p->out; s; s = s == &p->out ? &p->err : NULL) {
        if (kill_rest)
            read_stream(p, s, true);
        if (s->fd >= 0)
            stream_eof(p, s);
    }
    close_fd(&p->pidfd);
    p->finished = true;
}

int rn_proc_poll(rn_proc *p, int timeout_ms, rn_proc_result *result) {
    long now = now_ms();
    long call_end = timeout_ms < 0 ? -1 : now + timeout_ms;
    while (!p->finished) {
        if (!p->stop_reason && atomic_load(&p->cancel_requested))
            begin_stop(p, RN_PROC_CANCELLED, now);
        if (!p->stop_reason && p->timeout_ms && now - p->start_ms >= p->timeout_ms)
            begin_stop(p, RN_PROC_TIMED_OUT, now);
        if (p->kill_at_ms >= 0 && now >= p->kill_at_ms) {
            signal_group(p, SIGKILL);
            p->kill_at_ms = -1;
        }
        if (p->exited_at_ms < 0 && main_exited(p))
            p->exited_at_ms = now;
        if (p->exited_at_ms >= 0) {
            /* Like actions/runner, give whoever still holds the pipes orphan_wait_ms to finish
             * writing, then stop waiting for them. */
            bool open = p->out.fd >= 0 || p->err.fd >= 0;
            if (!open || p->stop_reason || now - p->exited_at_ms >= p->orphan_wait_ms) {
                finish(p, now);
                break;
            }
        }
        /* Out of time for this call: one non-blocking pass so output still flows. */
        bool last = call_end >= 0 && now >= call_end;

        long wait = -1; /* poll timeout: the nearest deadline */
#define NEAREST(t)                                                                                 \
    do {                                                                                           \
        long d_ = (t)-now;                                                                         \
        if (d_ < 0)                                                                                \
            d_ = 0;                                                                                \
        if (wait < 0 || d_ < wait)                                                                 \
            wait = d_;                                                                             \
    } while (0)
        if (call_end >= 0)
            NEAREST(call_end);
        if (!p->stop_reason && p->timeout_ms)
            NEAREST(p->start_ms + p->timeout_ms);
        if (p->kill_at_ms >= 0)
            NEAREST(p->kill_at_ms);
        if (p->exited_at_ms >= 0)
            NEAREST(p->exited_at_ms + p->orphan_wait_ms);
        if (p->pidfd < 0 || p->wake_fd < 0)
            NEAREST(now + NO_PIDFD_POLL_MS);
#undef NEAREST
        struct pollfd fds[4];
        int nfds = 0, i_out = -1, i_err = -1, i_pid = -1, i_wake = -1;
        if (p->out.fd >= 0)
            fds[i_out = nfds++] = (struct pollfd){p->out.fd, POLLIN, 0};
        if (p->err.fd >= 0)
            fds[i_err = nfds++] = (struct pollfd){p->err.fd, POLLIN, 0};
        if (p->pidfd >= 0 && p->exited_at_ms < 0) /* stays readable once it has exited */
            fds[i_pid = nfds++] = (struct pollfd){p->pidfd, POLLIN, 0};
        if (p->wake_fd >= 0)
            fds[i_wake = nfds++] = (struct pollfd){p->wake_fd, POLLIN, 0};
        int n = poll(fds, (nfds_t)nfds, wait > INT32_MAX ? INT32_MAX : (int)wait);
        if (n > 0) {
            if (i_out >= 0 && fds[i_out].revents)
                read_stream(p, &p->out, false);
            if (i_err >= 0 && fds[i_err].revents)
                read_stream(p, &p->err, false);
            if (i_wake >= 0 && fds[i_wake].revents) {
                uint64_t v;
                if (read(p->wake_fd, &v, sizeof v) < 0) { /* EAGAIN: already consumed */
                }
            }
        }
        now = now_ms();
        if (last)
            return 0;
    }
    if (result)
        *result = p->result;
    return 1;
}

void rn_proc_wait(rn_proc *p, rn_proc_result *result) {
    while (!rn_proc_poll(p, -1, result))
        ;
}

void rn_proc_cancel(rn_proc *p) {
    atomic_store(&p->cancel_requested, true);
    uint64_t one = 1;
    if (write(p->wake_fd, &one, sizeof one) < 0) { /* counter full: a wake-up is pending anyway */
    }
}

pid_t rn_proc_pid(const rn_proc *p) {
    return p->pid;
}

void rn_proc_free(rn_proc *p) {
    if (!p)
        return;
    if (!p->finished) {
        signal_group(p, SIGKILL);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    close_fd(&p->out.fd);
    close_fd(&p->err.fd);
    close_fd(&p->pidfd);
    close_fd(&p->wake_fd);
    rn_sb_free(&p->out.pending);
    rn_sb_free(&p->err.pending);
    free(p);
}

typedef struct capture {
    rn_sb out, err;
    bool keep_out, keep_err;
} capture;

static void capture_line(void *data, rn_stream s, const char *line, size_t len, bool eol) {
    capture *c = data;
    if (s == RN_STDOUT ? !c->keep_out : !c->keep_err)
        return;
    rn_sb *sb = s == RN_STDOUT ? &c->out : &c->err;
    rn_sb_append(sb, line, len);
    if (eol)
        rn_sb_putc(sb, '\n');
}

int rn_proc_run(const rn_proc_opts *opts, rn_proc_result *result, char **out, char **err_out,
                char **err) {
    capture c = {RN_SB_INIT, RN_SB_INIT, out != NULL, err_out != NULL};
    rn_proc_opts o = *opts;
    o.on_line = capture_line;
    o.cb_data = &c;
    rn_proc *p = rn_proc_start(&o, err);
    if (!p)
        return -1;
    rn_proc_wait(p, result);
    rn_proc_free(p);
    if (out) {
        rn_sb_append(&c.out, "", 0);
        *out = rn_sb_take(&c.out);
    }
    if (err_out) {
        rn_sb_append(&c.err, "", 0);
        *err_out = rn_sb_take(&c.err);
    }
    return 0;
}

char *rn_proc_result_describe(const rn_proc_result *r, const rn_proc_opts *opts) {
    switch (r->status) {
    case RN_PROC_EXITED:
        return rn_xprintf("exit code %d", r->exit_code);
    case RN_PROC_SIGNALED:
        return rn_xprintf("killed by signal %d (%s)", r->term_signal,
                          sigdescr_np(r->term_signal) ? sigdescr_np(r->term_signal) : "unknown");
    case RN_PROC_TIMED_OUT:
        return rn_xprintf("timed out after %d ms", opts ? opts->timeout_ms : (int)r->elapsed_ms);
    case RN_PROC_CANCELLED:
        return rn_xstrdup("cancelled");
    }
    return rn_xstrdup("unknown");
}

int rn_proc_replace(const char *exe, char *const argv[]) {
    execv(exe, argv);
    return -1;
}
