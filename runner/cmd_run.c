/* runnel run [FILE|DIR] [EVENT]: runs workflows on this machine with GitHub's semantics.
 * Options, the run folder, the contexts every job shares and the exit status; the rest is in
 * run_plan.c, run_sched.c, run_out.c and actions/step.c. */
#include "actions/gitctx.h"
#include "actions/policy.h"
#include "actions/remote.h"
#include "common/strbuf.h"
#include "runner/commands.h"
#include "runner/run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static const char *const run_usage =
    "usage: runnel run [OPTIONS] [FILE|DIR] [EVENT]\n"
    "\n"
    "Runs the workflow FILE, or every workflow of DIR (default .github/workflows) that EVENT\n"
    "(default push) triggers, on this machine with GitHub's semantics.\n"
    "\n"
    "  -C DIR               repository root (default: the git top-level, else .)\n"
    "  -j, --job JOB        run JOB and the jobs it needs\n"
    "  -n, --dry-run        print the plan, run nothing\n"
    "  --eventpath FILE     event payload (default: synthesized from the repository)\n"
    "  --actor NAME         github.actor\n"
    "  --secret K[=V]       a secret (no value: read from the environment); masked everywhere\n"
    "  --secret-file F      secrets from a dotenv or YAML file\n"
    "  --var K=V, --var-file F       vars context\n"
    "  --env K=V, --env-file F       environment of every step\n"
    "  --input K=V          inputs (workflow_dispatch / workflow_call)\n"
    "  --matrix K:V         keep only the matrix legs with K == V (repeatable)\n"
    "  --local-repository OWNER/REPO@REF=DIR  use DIR for that remote action, reusable\n"
    "                       workflow or checkout\n"
    "  -P LABEL=host        run jobs for runs-on LABEL directly on this machine\n"
    "  -P LABEL=IMAGE       run them in a container of IMAGE (default for ubuntu-*, linux,\n"
    "                       self-hosted: a container of this machine's root filesystem)\n"
    "  --parallel N         jobs at once (default: number of CPUs)\n"
    "  --json               one JSON event per line on stdout (masked)\n"
    "  -q, --quiet          no live output: only warnings, errors and the summary table\n"
    "  -v, --verbose        show folded groups, debug messages and runner details\n"
    "\n"
    "Exit status: 0 success, 1 a job failed, 2 usage or workflow errors.\n";

static volatile sig_atomic_t *g_interrupted;

static void on_sigint(int sig) {
    (void)sig;
    if (g_interrupted)
        *g_interrupted = 1;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "runnel run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", run_usage);
    return 2;
}

/* K=V into obj; K alone: from the environment when from_env, else an error. */
static bool put_kv(json_t *obj, const char *arg, bool from_env) {
    const char *eq = strchr(arg, '=');
    if (!eq) {
        if (!from_env || !*arg)
            return false;
        const char *v = getenv(arg);
        json_object_set_new(obj, arg, json_string(v ? v : ""));
        return true;
    }
    if (eq == arg)
        return false;
    char *k = rn_xstrndup(arg, (size_t)(eq - arg));
    json_object_set_new(obj, k, json_string(eq + 1));
    free(k);
    return true;
}

static char *unquote(char *v) {
    size_t n = strlen(v);
    if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') || (v[0] == '\'' && v[n - 1] == '\''))) {
        v[n - 1] = 0;
        v++;
    }
    return v;
}

/* A YAML mapping of scalars, or dotenv lines (KEY=VALUE, # comments, `export `, quotes). */
static bool load_kv_file(const char *path, json_t *obj) {
    size_t len = 0;
    char *text = rn_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "runnel run: %s: %s\n", path, strerror(errno));
        return false;
    }
    rn_arena a;
    rn_arena_init(&a);
    rn_diags d = RN_DIAGS_INIT;
    rn_ynode *root = rn_yaml_load(&a, path, text, len, &d);
    bool done = false;
    if (root && root->kind == RN_Y_MAP) {
        done = true;
        for (size_t i = 0; i < root->n; i++) {
            const rn_ynode *v = root->pairs[i].value;
            if (v->kind != RN_Y_SCALAR) {
                fprintf(stderr, "runnel run: %s:%d:%d: %s: the value must be a scalar\n", path,
                        v->line, v->col, root->pairs[i].key->str);
                done = false;
                break;
            }
            json_object_set_new(obj, root->pairs[i].key->str, json_string(rn_yaml_scalar_text(v)));
        }
        if (!done) {
            rn_diags_free(&d);
            rn_arena_free(&a);
            free(text);
            return false;
        }
    }
    rn_diags_free(&d);
    rn_arena_free(&a);
    if (!done) {
        int lineno = 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            lineno++;
            size_t n = strlen(line);
            if (n && line[n - 1] == '\r')
                line[--n] = 0;
            while (*line == ' ' || *line == '\t')
                line++;
            if (!*line || *line == '#')
                continue;
            if (!strncmp(line, "export ", 7))
                line += 7;
            char *eq = strchr(line, '=');
            if (!eq || eq == line) {
                fprintf(stderr, "runnel run: %s:%d:1: expected KEY=VALUE\n", path, lineno);
                free(text);
                return false;
            }
            *eq = 0;
            json_object_set_new(obj, line, json_string(unquote(eq + 1)));
        }
    }
    free(text);
    return true;
}

/* Creates ROOT/.runnel/runs/N with the next free N. */
static char *make_run_dir(const char *root, char **id) {
    char *base = rn_xprintf("%s/.runnel", root);
    mkdir(base, 0755);
    char *ign = rn_xprintf("%s/.gitignore", base);
    if (access(ign, F_OK) != 0) {
        FILE *fp = fopen(ign, "w");
        if (fp) {
            fputs("# runnel run folders\n*\n", fp);
            fclose(fp);
        }
    }
    free(ign);
    char *runs = rn_xprintf("%s/runs", base);
    mkdir(runs, 0755);
    free(base);
    for (unsigned n = 1; n < 1000000; n++) {
        char *dir = rn_xprintf("%s/%u", runs, n);
        if (mkdir(dir, 0755) == 0) {
            *id = rn_xprintf("%u", n);
            free(runs);
            return dir;
        }
        free(dir);
        if (errno != EEXIST)
            break;
    }
    fprintf(stderr, "runnel run: %s: %s\n", runs, strerror(errno));
    free(runs);
    return NULL;
}

static void set_str(json_t *o, const char *k, const char *v) {
    json_object_set_new(o, k, json_string(v ? v : ""));
}

static const char *gstr(json_t *gh, const char *k) {
    const char *s = json_string_value(json_object_get(gh, k));
    return s ? s : "";
}

int rn_cmd_run(int argc, char **argv) {
    rn_run_opts o = {0};
    o.event = NULL;
    o.secrets = json_object();
    o.vars = json_object();
    o.env = json_object();
    o.inputs = json_object();
    o.matrix = json_object();
    o.platforms = json_object();
    o.remote = rn_remote_new(); /* --local-repository and the action cache */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.parallel = cpus > 0 ? (int)cpus : 1;
    const char *pos[2] = {NULL, NULL};
    size_t npos = 0;
    int rc = 2;
    rn_run r = {0};
    rn_gitinfo gi = {0};
    bool gi_loaded = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const char *name = a;
        char namebuf[64];
        if (!strncmp(a, "--", 2) && strchr(a, '=')) {
            size_t n = (size_t)(strchr(a, '=') - a);
            if (n < sizeof namebuf) {
                memcpy(namebuf, a, n);
                namebuf[n] = 0;
                name = namebuf;
                val = a + n + 1;
            }
        }
#define NEEDS_VALUE                                                                                \
    do {                                                                                           \
        if (!val) {                                                                                \
            if (i + 1 >= argc) {                                                                   \
                rc = usage_error("%s needs a value", name);                                        \
                goto out;                                                                          \
            }                                                                                      \
            val = argv[++i];                                                                       \
        }                                                                                          \
    } while (0)
        if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
            fputs(run_usage, stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(name, "-C")) {
            NEEDS_VALUE;
            o.chdir = val;
        } else if (!strcmp(name, "-j") || !strcmp(name, "--job")) {
            NEEDS_VALUE;
            o.job = val;
        } else if (!strcmp(name, "-n") || !strcmp(name, "--dry-run")) {
            o.dry_run = true;
        } else if (!strcmp(name, "--eventpath")) {
            NEEDS_VALUE;
            o.eventpath = val;
        } else if (!strcmp(name, "--actor")) {
            NEEDS_VALUE;
            o.actor = val;
        } else if (!strcmp(name, "--secret") || !strcmp(name, "-s")) {
            NEEDS_VALUE;
            if (!put_kv(o.secrets, val, true)) {
                rc = usage_error("bad --secret '%s' (expected K or K=V)", val);
                goto out;
            }
        } else if (!strcmp(name, "--var") || !strcmp(name, "--env") || !strcmp(name, "--input")) {
            NEEDS_VALUE;
            json_t *obj = name[2] == 'v' ? o.vars : name[2] == 'e' ? o.env : o.inputs;
            if (!put_kv(obj, val, false)) {
                rc = usage_error("bad value '%s' (expected K=V)", val);
                goto out;
            }
        } else if (!strcmp(name, "--secret-file") || !strcmp(name, "--var-file") ||
                   !strcmp(name, "--env-file")) {
            NEEDS_VALUE;
            json_t *obj = name[2] == 's' ? o.secrets : name[2] == 'v' ? o.vars : o.env;
            if (!load_kv_file(val, obj))
                goto out;
        } else if (!strcmp(name, "--local-repository")) {
            NEEDS_VALUE;
            char *lerr = NULL;
            if (!rn_remote_add_local(o.remote, val, &lerr)) {
                fprintf(stderr, "runnel run: %s\n", lerr);
                free(lerr);
                goto out;
            }
        } else if (!strcmp(name, "--matrix")) {
            NEEDS_VALUE;
            const char *c = strchr(val, ':');
            if (!c || c == val) {
                rc = usage_error("bad --matrix '%s' (expected K:V)", val);
                goto out;
            }
            char *k = rn_xstrndup(val, (size_t)(c - val));
            json_t *arr = json_object_get(o.matrix, k);
            if (!arr) {
                arr = json_array();
                json_object_set_new(o.matrix, k, arr);
            }
            json_array_append_new(arr, json_string(c + 1));
            free(k);
        } else if (!strcmp(name, "-P") || !strcmp(name, "--platform")) {
            NEEDS_VALUE;
            if (!put_kv(o.platforms, val, false)) {
                rc = usage_error("bad -P '%s' (expected LABEL=host or LABEL=IMAGE)", val);
                goto out;
            }
        } else if (!strcmp(name, "--parallel")) {
            NEEDS_VALUE;
            char *end;
            long n = strtol(val, &end, 10);
            if (*end || n < 1 || n > 1024) {
                rc = usage_error("bad --parallel '%s' (expected 1..1024)", val);
                goto out;
            }
            o.parallel = (int)n;
        } else if (!strcmp(name, "--json")) {
            o.json = true;
        } else if (!strcmp(name, "-q") || !strcmp(name, "--quiet")) {
            o.quiet = true;
        } else if (!strcmp(name, "-v") || !strcmp(name, "--verbose")) {
            o.verbose = true;
        } else if (a[0] == '-' && a[1]) {
            rc = usage_error("unknown option '%s'", a);
            goto out;
        } else {
            if (npos == 2) {
                rc = usage_error("unexpected argument '%s'", a);
                goto out;
            }
            pos[npos++] = a;
        }
#undef NEEDS_VALUE
    }
    if (o.chdir && chdir(o.chdir) != 0) {
        fprintf(stderr, "runnel run: -C %s: %s\n", o.chdir, strerror(errno));
        goto out;
    }
    /* [FILE|DIR] [EVENT]: a single argument that is no existing path is the event */
    if (npos == 2) {
        o.path = pos[0];
        o.event = pos[1];
    } else if (npos == 1) {
        struct stat st;
        if (stat(pos[0], &st) == 0 || strchr(pos[0], '/') || strstr(pos[0], ".y"))
            o.path = pos[0];
        else
            o.event = pos[0];
    }
    if (!o.event)
        o.event = "push";
    /* The runner policy: a broken config never means "no policy". */
    char *policy_path = rn_policy_path(NULL, NULL);
    if (policy_path) {
        rn_diags pd = RN_DIAGS_INIT;
        o.policy = rn_policy_load(policy_path, &pd);
        rn_diags_print(&pd, stderr);
        bool bad = !o.policy || pd.count;
        rn_diags_free(&pd);
        free(policy_path);
        if (bad) {
            rn_policy_free(o.policy);
            rn_remote_free(o.remote);
            json_decref(o.secrets);
            json_decref(o.vars);
            json_decref(o.env);
            json_decref(o.inputs);
            json_decref(o.matrix);
            json_decref(o.platforms);
            return 2;
        }
    }

    r.opts = &o;
    pthread_mutex_init(&r.lock, NULL);
    r.mask = rn_mask_new();
    r.out = rn_out_new_file(stdout, r.mask);
    r.err = rn_out_new_file(stderr, r.mask);
    r.results = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(o.secrets, k, v) {
        rn_mask_add(r.mask, json_string_value(v));
    }

    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "runnel run: getcwd: %s\n", strerror(errno));
        goto out;
    }
    rn_gitinfo_load(&gi, cwd, NULL);
    gi_loaded = true;
    r.root = rn_xstrdup(gi.is_repo && *gi.workspace ? gi.workspace : cwd);

    /* the github context is needed before loading: filters read ref and base_ref */
    json_t *event_in = NULL;
    if (o.eventpath) {
        json_error_t je;
        event_in = json_load_file(o.eventpath, 0, &je);
        if (!event_in) {
            fprintf(stderr, "runnel run: %s:%d:%d: %s\n", o.eventpath, je.line, je.column, je.text);
            goto out;
        }
    }
    rn_gitctx_opts go = {0};
    go.event_name = o.event;
    go.actor = o.actor;
    go.inputs = o.inputs;
    go.run_id = go.run_number = "0";
    r.github = rn_gitctx_github(&gi, &go);
    if (event_in) {
        /* a payload naming a ref (a tag push, say) decides github.ref, as on GitHub */
        const char *ref = json_string_value(json_object_get(event_in, "ref"));
        if (ref && *ref) {
            bool tag = !strncmp(ref, "refs/tags/", 10);
            bool head = !strncmp(ref, "refs/heads/", 11);
            set_str(r.github, "ref", ref);
            set_str(r.github, "ref_name", tag ? ref + 10 : head ? ref + 11 : ref);
            set_str(r.github, "ref_type", tag ? "tag" : "branch");
        }
        json_object_set_new(r.github, "event", event_in);
    }

    rc = rn_run_load(&r, gstr(r.github, "ref"), gi.before, gi.sha);
    if (rc != 0)
        goto out;
    if (!r.n_wfs) {
        rn_run_msg(&r, "No workflow in %s is triggered by '%s'.",
                   o.path ? o.path : ".github/workflows", o.event);
        rc = 0;
        goto out;
    }
    if (o.dry_run) {
        rn_run_print_plan(&r);
        rc = 0;
        goto out;
    }

    r.run_dir = make_run_dir(r.root, &r.run_id);
    if (!r.run_dir) {
        rc = 2;
        goto out;
    }
    set_str(r.github, "run_id", r.run_id);
    set_str(r.github, "run_number", r.run_id);
    set_str(r.github, "run_attempt", "1");
    const char *token = json_string_value(json_object_get(o.secrets, "GITHUB_TOKEN"));
    if (!token) {
        /* a placeholder: no GitHub API is reachable with it, but actions that expect a
         * token find one */
        token = "ghs_runnel_local_placeholder_token";
        json_object_set_new(o.secrets, "GITHUB_TOKEN", json_string(token));
    }
    set_str(r.github, "token", token);
    char *event_path = rn_xprintf("%s/event.json", r.run_dir);
    json_dump_file(json_object_get(r.github, "event"), event_path,
                   JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    set_str(r.github, "event_path", event_path);
    set_str(r.github, "action", "");
    set_str(r.github, "retention_days", "90");

    char *tool_cache = getenv("RUNNER_TOOL_CACHE") ? rn_xstrdup(getenv("RUNNER_TOOL_CACHE"))
                                                   : rn_xprintf("%s/.runnel/tool-cache", r.root);
    mkdir(tool_cache, 0755);
    r.runner = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "os", "Linux", "arch", "X64", "name",
                         "runnel", "tool_cache", tool_cache, "environment", "self-hosted", "debug",
                         o.verbose ? "1" : "");

    r.base_env = json_object();
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || eq == *e)
            continue;
        char *name = rn_xstrndup(*e, (size_t)(eq - *e));
        json_object_set_new(r.base_env, name, json_string(eq + 1));
        free(name);
    }
    json_object_update(r.base_env, o.env);
    json_t *b = r.base_env, *gh = r.github;
    set_str(b, "CI", "true");
    set_str(b, "GITHUB_ACTIONS", "true");
    set_str(b, "GITHUB_WORKSPACE", r.root);
    static const char *const gh_vars[][2] = {
        {"GITHUB_SHA", "sha"},
        {"GITHUB_REF", "ref"},
        {"GITHUB_REF_NAME", "ref_name"},
        {"GITHUB_REF_TYPE", "ref_type"},
        {"GITHUB_REPOSITORY", "repository"},
        {"GITHUB_REPOSITORY_OWNER", "repository_owner"},
        {"GITHUB_ACTOR", "actor"},
        {"GITHUB_TRIGGERING_ACTOR", "triggering_actor"},
        {"GITHUB_EVENT_NAME", "event_name"},
        {"GITHUB_HEAD_REF", "head_ref"},
        {"GITHUB_BASE_REF", "base_ref"},
        {"GITHUB_SERVER_URL", "server_url"},
        {"GITHUB_API_URL", "api_url"},
        {"GITHUB_GRAPHQL_URL", "graphql_url"},
        {"GITHUB_RUN_ID", "run_id"},
        {"GITHUB_RUN_NUMBER", "run_number"},
        {"GITHUB_RUN_ATTEMPT", "run_attempt"},
        {"GITHUB_EVENT_PATH", "event_path"},
        {"GITHUB_RETENTION_DAYS", "retention_days"},
    };
    for (size_t i = 0; i < sizeof gh_vars / sizeof *gh_vars; i++)
        set_str(b, gh_vars[i][0], gstr(gh, gh_vars[i][1]));
    set_str(b, "RUNNER_OS", "Linux");
    set_str(b, "RUNNER_ARCH", "X64");
    set_str(b, "RUNNER_NAME", "runnel");
    set_str(b, "RUNNER_ENVIRONMENT", "self-hosted");
    set_str(b, "RUNNER_TOOL_CACHE", tool_cache);
    char *slash = strrchr(r.root, '/');
    char *rw =
        slash && slash != r.root ? rn_xstrndup(r.root, (size_t)(slash - r.root)) : rn_xstrdup("/");
    set_str(b, "RUNNER_WORKSPACE", rw);
    free(rw);
    if (o.verbose)
        set_str(b, "RUNNER_DEBUG", "1");
    free(tool_cache);
    free(event_path);

    rn_run_event(&r, json_pack("{s:s,s:s,s:s,s:s}", "event", "run_start", "run_id", r.run_id,
                               "run_dir", r.run_dir, "event_name", o.event));
    g_interrupted = (volatile sig_atomic_t *)&r.interrupted;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = rn_run_execute(&r);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    g_interrupted = NULL;
    if (r.interrupted)
        rc = 1;
    rn_run_event(&r,
                 json_pack("{s:s,s:s,s:i,s:s}", "event", "run_end", "result",
                           rc == 0 ? "success" : "failure", "exit_code", rc, "run_dir", r.run_dir));
    if (!o.json)
        rn_out_printf(r.out, NULL, "%s. Logs, outputs and summaries: %s",
                      rc == 0 ? "Run succeeded" : "Run failed", r.run_dir);

out:
    for (size_t i = 0; i < r.n_wfs; i++)
        rn_run_wf_free(&r.wfs[i]);
    free(r.wfs);
    free(r.root);
    free(r.run_dir);
    free(r.run_id);
    json_decref(r.github);
    json_decref(r.runner);
    json_decref(r.base_env);
    json_decref(r.results);
    rn_out_free(r.out);
    rn_out_free(r.err);
    rn_mask_free(r.mask);
    if (r.opts)
        pthread_mutex_destroy(&r.lock);
    if (gi_loaded)
        rn_gitinfo_free(&gi);
    json_decref(o.secrets);
    json_decref(o.vars);
    json_decref(o.env);
    json_decref(o.inputs);
    json_decref(o.matrix);
    json_decref(o.platforms);
    rn_remote_free(o.remote);
    rn_policy_free(o.policy);
    return rc;
}
