/* Processes: the only way runnel starts a program (host today; containers later, same API).
 *
 * A process is started with an explicit argv, a full explicit environment (nothing is inherited
 * from runnel's own environ), a working directory and a redirection for each standard stream.
 * It runs in a new session, so it and everything it forks form one process group that timeouts,
 * cancellation and orphan clean-up signal as a whole. No other descriptor of runnel leaks into it.
 *
 * Output captured through pipes is delivered line by line to a callback as it is produced,
 * stdout and stderr read concurrently with poll(2) so neither can block the other.
 *
 * Ownership: rn_proc_start() only reads the strings of rn_proc_opts during the call; on_line and
 * cb_data must stay valid until the process has finished. The caller owns the returned rn_proc and
 * frees it with rn_proc_free() after the process has finished (rn_proc_wait() returned, or
 * rn_proc_poll() returned 1). Error strings returned through `char **err` are malloc'ed; the caller
 * frees them.
 *
 * Threads: any number of threads may start and wait on their own processes concurrently.
 * A given rn_proc is waited on by one thread; rn_proc_cancel() may be called from any thread
 * while it is alive (before rn_proc_free()). Callbacks run on the waiting thread.
 */
#ifndef RN_SANDBOX_PROC_H
#define RN_SANDBOX_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* An opaque handle to a running container that processes are executed in (sandbox/container.h:
 * argv[0]'s PATH search and cwd are then resolved inside it). NULL means "on the host". */
typedef struct rn_container rn_container;

typedef enum rn_stdio {
    RN_STDIO_NULL = 0, /* /dev/null */
    RN_STDIO_PIPE,     /* captured and streamed to on_line */
    RN_STDIO_FILE,     /* written to *_path (created 0644, truncated unless *_append) */
    RN_STDIO_MERGE,    /* stderr only: same destination as stdout, in write order (2>&1) */
} rn_stdio;

typedef enum rn_stream { RN_STDOUT = 1, RN_STDERR = 2 } rn_stream;

/* What happens to processes left in the group after the main process exits
 * (e.g. `server &` in a script). */
typedef enum rn_orphans {
    RN_ORPHANS_KILL = 0, /* drain what is buffered, then SIGKILL the whole group (default) */
    RN_ORPHANS_KEEP,     /* drain, stop reading, leave them running (result.pgid to kill later) */
} rn_orphans;

/* One line of output, without its '\n'. eol is false for a partial last line at end of
 * stream, and for the pieces of a line longer than RN_PROC_MAX_LINE (split, never dropped).
 * `line` is not NUL-terminated and only valid during the call. Called on the thread in
 * rn_proc_wait()/rn_proc_poll(). */
typedef void (*rn_proc_line_cb)(void *cb_data, rn_stream stream, const char *line, size_t len,
                                bool eol);

#define RN_PROC_MAX_LINE (1024 * 1024)
#define RN_PROC_DEFAULT_GRACE_MS 5000
#define RN_PROC_RUNNER_ORPHAN_WAIT_MS 5000

typedef struct rn_proc_opts {
    const char *const *argv; /* argv[0] without '/' is searched in envp's PATH (not runnel's) */
    const char *const *envp; /* the complete environment; NULL = empty */
    const char *cwd;         /* NULL = runnel's current directory */
    const char *stdin_path;  /* NULL = /dev/null */
    rn_stdio stdout_mode, stderr_mode;
    const char *stdout_path, *stderr_path; /* for RN_STDIO_FILE */
    bool stdout_append, stderr_append;
    int timeout_ms;    /* 0 = none; else SIGTERM the group, SIGKILL after the grace period */
    int kill_grace_ms; /* 0 = RN_PROC_DEFAULT_GRACE_MS */
    rn_orphans orphans;
    /* After the main process exits, how long to keep reading while something else still holds
     * the pipes open before the orphans are dealt with. 0 = only take what is already buffered;
     * actions/runner waits RN_PROC_RUNNER_ORPHAN_WAIT_MS. */
    int orphan_wait_ms;
    /* Split lines like .NET's ReadLine (what actions/runner uses): "\r", "\n" and "\r\n" each
     * end a line, so progress bars redrawn with "\r" become lines. Default: only "\n". */
    bool split_cr;
    rn_proc_line_cb on_line; /* may be NULL: piped output is then read and discarded */
    void *cb_data;
    rn_container *container; /* NULL = host */
} rn_proc_opts;

typedef enum rn_proc_status {
    RN_PROC_EXITED,    /* exit_code is valid */
    RN_PROC_SIGNALED,  /* term_signal is valid: died of a signal nobody here sent */
    RN_PROC_TIMED_OUT, /* killed because timeout_ms elapsed; term_signal/exit_code as it ended */
    RN_PROC_CANCELLED, /* killed by rn_proc_cancel(); term_signal/exit_code as it ended */
} rn_proc_status;

typedef struct rn_proc_result {
    rn_proc_status status;
    int exit_code;   /* when it exited normally, else -1 */
    int term_signal; /* when a signal ended it, else 0 */
    pid_t pid;
    pid_t pgid;       /* == pid: the group timeouts, cancel and orphan clean-up signal */
    bool had_orphans; /* processes were still in the group after the main one exited (killed,
                       * or left running with RN_ORPHANS_KEEP) */
    long elapsed_ms;
} rn_proc_result;

typedef struct rn_proc rn_proc;

/* Starts a process. On failure returns NULL and sets *err (caller frees) to a message such as
 * "bash: No such file or directory" or "/no/dir: No such file or directory". */
rn_proc *rn_proc_start(const rn_proc_opts *opts, char **err);

/* Reads output and runs timeouts for up to timeout_ms (-1 = until something happens).
 * Returns 1 once the process has finished (then *result, if non-NULL, is filled), else 0. */
int rn_proc_poll(rn_proc *p, int timeout_ms, rn_proc_result *result);
/* Runs rn_proc_poll until the process has finished. */
void rn_proc_wait(rn_proc *p, rn_proc_result *result);

/* Asks the process group to stop (SIGTERM, SIGKILL after the grace period); the waiting
 * thread reports RN_PROC_CANCELLED. Safe from any thread and from signal-free contexts;
 * a no-op once the process has finished. */
void rn_proc_cancel(rn_proc *p);

pid_t rn_proc_pid(const rn_proc *p);

/* Kills a still running process (SIGKILL to its group) and reaps it if it was not waited for,
 * then releases everything. NULL is a no-op. */
void rn_proc_free(rn_proc *p);

/* Convenience: start, wait, and capture piped output byte-exact into malloc'ed NUL-terminated
 * strings (out and err_out may be NULL to discard; caller frees). opts->on_line is ignored.
 * Returns 0, or -1 with *err set (caller frees) when the process could not be started. */
int rn_proc_run(const rn_proc_opts *opts, rn_proc_result *result, char **out, char **err_out,
                char **err);

/* "exit code 1", "killed by signal 9 (Killed)", "timed out after 1500 ms", "cancelled".
 * Caller frees. */
char *rn_proc_result_describe(const rn_proc_result *r, const rn_proc_opts *opts);

/* Replaces this process's image with exe (argv as given, runnel's own environment): how the
 * runnel front hands a command over to runnel-core. Returns only on failure, -1 with errno. */
int rn_proc_replace(const char *exe, char *const argv[]);

#endif
