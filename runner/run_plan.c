/* Loading workflows for `runnel run`, matching them to the event (with the push/pull_request
 * branch and tag filters, and paths filters from the HEAD commit's changes), -j selection and
 * the dry-run plan. */
#include "runner/run.h"

#include "common/strbuf.h"
#include "workflow/matrix.h"
#include "workflow/validate.h"

#include <dirent.h>
#include <errno.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_workflow_ext(const char *name) {
    size_t n = strlen(name);
    return (n > 4 && !strcmp(name + n - 4, ".yml")) || (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* Does character c match the single-character pattern at p (a literal, or the class body q
 * of a `[...]`, negated by `!`)? */
static bool char_matches(const char *p, const char *q, bool neg, char c) {
    if (*p != '[')
        return *p == c;
    bool hit = false;
    for (; *q && *q != ']'; q++) {
        if (q[1] == '-' && q[2] && q[2] != ']') {
            hit |= c >= q[0] && c <= q[2];
            q += 2;
        } else {
            hit |= c == *q;
        }
    }
    return hit != neg;
}

/* GitHub's filter patterns: `*` any run of characters except '/', `**` any run, `?` one
 * character, `+` one or more of the previous character, `[...]` a class. */
static bool glob_match(const char *p, const char *s) {
    while (*p) {
        if (p[0] == '*' && p[1] == '*') {
            p += 2;
            for (const char *t = s;; t++) {
                if (glob_match(p, t))
                    return true;
                if (!*t)
                    return false;
            }
        }
        if (*p == '*') {
            p++;
            for (const char *t = s;; t++) {
                if (glob_match(p, t))
                    return true;
                if (!*t || *t == '/')
                    return false;
            }
        }
        if (!*s)
            return false;
        if (*p == '?') {
            p++;
            s++;
            continue;
        }
        if (*p == '[' || p[1] == '+') {
            /* one character (a class or a literal), optionally repeated with `+` */
            const char *q = p, *next;
            bool neg = false;
            if (*p == '[') {
                q = p + 1;
                neg = *q == '!';
                if (neg)
                    q++;
                const char *e = q;
                while (*e && *e != ']')
                    e++;
                if (!*e)
                    return false;
                next = e + 1;
            } else {
                next = p + 1;
            }
            bool plus = *next == '+';
            const char *rest = plus ? next + 1 : next;
            size_t n = 0;
            while (s[n] && char_matches(p, q, neg, s[n]) && (plus || n < 1))
                n++;
            if (n == 0)
                return false;
            for (; n >= 1; n--) /* longest first, backtracking */
                if (glob_match(rest, s + n))
                    return true;
            return false;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return !*s;
}

/* Positive/`!` patterns in order; the last match decides. */
static bool patterns_match(const rn_wf_strs *pats, const char *s) {
    bool in = false;
    for (size_t i = 0; i < pats->n; i++) {
        const char *p = pats->items[i].s;
        if (!p)
            continue;
        if (*p == '!') {
            if (glob_match(p + 1, s))
                in = false;
        } else if (glob_match(p, s)) {
            in = true;
        }
    }
    return in;
}

static bool any_match(const rn_wf_strs *pats, const char *s) {
    for (size_t i = 0; i < pats->n; i++)
        if (pats->items[i].s && glob_match(pats->items[i].s, s))
            return true;
    return false;
}

/* Files changed by the HEAD commit (against its first parent), or NULL when unknown. */
static char **changed_files(const char *root, size_t *n) {
    git_libgit2_init();
    git_repository *repo = NULL;
    char **files = NULL;
    *n = 0;
    git_object *head = NULL;
    git_commit *commit = NULL, *parent = NULL;
    git_tree *t1 = NULL, *t0 = NULL;
    git_diff *diff = NULL;
    if (git_repository_open_ext(&repo, root, 0, NULL) != 0)
        goto out;
    if (git_revparse_single(&head, repo, "HEAD^{commit}") != 0)
        goto out;
    commit = (git_commit *)head;
    if (git_commit_tree(&t1, commit) != 0)
        goto out;
    if (git_commit_parentcount(commit) > 0 && git_commit_parent(&parent, commit, 0) == 0)
        git_commit_tree(&t0, parent);
    if (git_diff_tree_to_tree(&diff, repo, t0, t1, NULL) != 0)
        goto out;
    size_t nd = git_diff_num_deltas(diff);
    files = rn_xcalloc(nd + 1, sizeof *files);
    for (size_t i = 0; i < nd; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        files[(*n)++] = rn_xstrdup(d->new_file.path ? d->new_file.path : d->old_file.path);
    }
out:
    git_diff_free(diff);
    git_tree_free(t0);
    git_tree_free(t1);
    git_commit_free(parent);
    git_object_free(head);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return files;
}

/* Does `ev`'s configuration let this ref/commit trigger it? Sets *why when not. */
static bool filters_match(rn_run *r, const rn_wf_event *ev, const char *ref, const char **why) {
    bool is_tag = !strncmp(ref, "refs/tags/", 10);
    const char *name = is_tag ? ref + 10 : !strncmp(ref, "refs/heads/", 11) ? ref + 11 : ref;
    bool has_branch = ev->branches.n || ev->branches_ignore.n;
    bool has_tag = ev->tags.n || ev->tags_ignore.n;
    if (!strcmp(ev->name.s, "pull_request") || !strcmp(ev->name.s, "pull_request_target")) {
        /* branches filter the base branch: the default branch for a local run */
        const char *base = json_string_value(json_object_get(r->github, "base_ref"));
        if (!base)
            base = name;
        if (ev->branches.n && !patterns_match(&ev->branches, base)) {
            *why = "branches";
            return false;
        }
        if (ev->branches_ignore.n && any_match(&ev->branches_ignore, base)) {
            *why = "branches-ignore";
            return false;
        }
    } else if (!strcmp(ev->name.s, "push")) {
        if (has_branch || has_tag) {
            if (is_tag && !has_tag) {
                *why = "branches"; /* only branches are listed: tags never match */
                return false;
            }
            if (!is_tag && !has_branch) {
                *why = "tags"; /* only tags are listed: branches never match */
                return false;
            }
            const rn_wf_strs *inc = is_tag ? &ev->tags : &ev->branches;
            const rn_wf_strs *exc = is_tag ? &ev->tags_ignore : &ev->branches_ignore;
            if (inc->n && !patterns_match(inc, name)) {
                *why = is_tag ? "tags" : "branches";
                return false;
            }
            if (exc->n && any_match(exc, name)) {
                *why = is_tag ? "tags-ignore" : "branches-ignore";
                return false;
            }
        }
    } else {
        return true;
    }
    if (ev->paths.n || ev->paths_ignore.n) {
        size_t n = 0;
        char **files = changed_files(r->root, &n);
        if (!files)
            return true; /* not determinable: run */
        bool hit = false;
        for (size_t i = 0; i < n && !hit; i++) {
            if (ev->paths.n)
                hit = patterns_match(&ev->paths, files[i]);
            else
                hit = !any_match(&ev->paths_ignore, files[i]);
        }
        for (size_t i = 0; i < n; i++)
            free(files[i]);
        free(files);
        if (!hit) {
            *why = ev->paths.n ? "paths" : "paths-ignore";
            return false;
        }
    }
    return true;
}

void rn_run_wf_free(rn_run_wf *w) {
    if (w->job_errors && w->wf)
        for (size_t i = 0; i < w->wf->n_jobs; i++)
            free(w->job_errors[i]);
    free(w->job_errors);
    rn_wf_plan_free(&w->plan);
    rn_arena_free(&w->arena);
    free(w->text);
    free(w->file);
    free(w->selected);
    free(w->display);
    json_decref(w->inputs);
}

static void select_job(rn_run_wf *w, size_t j) {
    if (w->selected[j])
        return;
    w->selected[j] = true;
    size_t n;
    const size_t *needs = rn_graph_needs(w->plan.graph, j, &n);
    for (size_t i = 0; i < n; i++)
        select_job(w, needs[i]);
}

/* Is diagnostic `dg` one GitHub reports for a step of job `wj` when loading, which runnel run
 * turns into a failure of that job: a `uses` without @ref (at the uses value) or a step with
 * both `uses` and `run` (at one of that step's keys)? */
static bool is_step_error(const rn_workflow *wf, const rn_wf_job *wj, const rn_diag *dg) {
    const rn_ynode *jm = rn_yaml_get(rn_yaml_get(wf->root, "jobs"), wj->id.s);
    const rn_ynode *seq = rn_yaml_get(jm, "steps");
    for (size_t i = 0; i < wj->n_steps; i++) {
        const rn_wf_step *st = &wj->steps[i];
        if (st->uses.s && st->uses.line == dg->line && st->uses.col == dg->col &&
            !strncmp(dg->message, "Expected format {org}/{repo}[/path]@ref.", 40))
            return true;
        if (!st->uses.s || !st->run.s || strncmp(dg->message, "Unexpected value '", 18))
            continue;
        for (size_t k = 0; seq && seq->kind == RN_Y_SEQ && k < seq->n; k++) {
            const rn_ynode *m = seq->items[k];
            if (m->kind != RN_Y_MAP || m->line != st->line || m->col != st->col)
                continue;
            for (size_t p = 0; p < m->n; p++)
                if (m->pairs[p].key->line == dg->line && m->pairs[p].key->col == dg->col)
                    return true;
        }
    }
    return false;
}

/* When every diagnostic is a step error (is_step_error), moves them to w->job_errors (the job
 * fails with them when it runs) and empties d; otherwise leaves d as it is. */
static void take_step_errors(rn_run_wf *w, rn_diags *d) {
    const rn_workflow *wf = w->wf;
    rn_diags_sort(d);
    size_t *owner = rn_xcalloc(d->count + 1, sizeof *owner);
    bool all = true;
    for (size_t i = 0; i < d->count && all; i++) {
        const rn_diag *dg = &d->items[i];
        owner[i] = wf->n_jobs;
        for (size_t j = 0; j < wf->n_jobs && owner[i] == wf->n_jobs; j++)
            if (dg->file && !strcmp(dg->file, wf->file) && is_step_error(wf, &wf->jobs[j], dg))
                owner[i] = j;
        all = owner[i] < wf->n_jobs;
    }
    if (all) {
        w->job_errors = rn_xcalloc(wf->n_jobs + 1, sizeof *w->job_errors);
        for (size_t i = 0; i < d->count; i++) {
            char **e = &w->job_errors[owner[i]];
            char *line = rn_diag_format_cli(&d->items[i]);
            char *joined = *e ? rn_xprintf("%s\n%s", *e, line) : rn_xstrdup(line);
            free(line);
            free(*e);
            *e = joined;
        }
        rn_diags_free(d);
        *d = (rn_diags)RN_DIAGS_INIT;
    }
    free(owner);
}

/* Loads one file; 1 = loaded and triggered, 0 = not triggered, 2 = errors printed. */
static int load_one(rn_run *r, const char *file, bool explicit_file, const char *ref,
                    rn_run_wf *w) {
    memset(w, 0, sizeof *w);
    rn_arena_init(&w->arena);
    w->file = rn_xstrdup(file);
    size_t len = 0;
    w->text = rn_read_file(file, &len);
    if (!w->text) {
        fprintf(stderr, "runnel run: %s: %s\n", file, strerror(errno));
        return 2;
    }
    rn_diags d = RN_DIAGS_INIT;
    w->wf = rn_workflow_parse(&w->arena, file, w->text, len, &d);
    if (w->wf && d.count)
        take_step_errors(w, &d);
    if (w->wf && !d.count)
        rn_wf_plan_build(w->wf, &w->plan, &d);
    if (!w->wf || d.count) {
        rn_diags_sort(&d);
        rn_diags_print(&d, stderr);
        rn_diags_free(&d);
        return 2;
    }
    rn_diags_free(&d);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    w->display = rn_xstrdup(w->wf->name.s && *w->wf->name.s ? w->wf->name.s : base);
    const rn_wf_event *ev = rn_workflow_event(w->wf, r->opts->event);
    if (!ev) {
        if (explicit_file)
            rn_run_warn(r, "%s is not triggered by '%s'", file, r->opts->event);
        return 0;
    }
    w->inputs = json_object();
    for (size_t i = 0; i < ev->n_inputs; i++) {
        const rn_wf_input *in = &ev->inputs[i];
        json_t *given = rn_object_iget(r->opts->inputs, in->name.s);
        bool is_bool = in->type.s && !strcmp(in->type.s, "boolean");
        bool is_num = in->type.s && !strcmp(in->type.s, "number");
        json_t *v;
        if (given) {
            const char *g = json_string_value(given);
            v = is_bool  ? json_boolean(!strcasecmp(g, "true"))
                : is_num ? json_real(strtod(g, NULL))
                         : json_string(g);
        } else if (in->default_value) {
            v = rn_yaml_to_json(in->default_value);
        } else {
            v = is_bool ? json_false() : json_string("");
        }
        json_object_set_new(w->inputs, in->name.s, v);
    }
    {
        const char *k;
        json_t *v;
        json_object_foreach(r->opts->inputs, k, v) {
            if (!rn_object_iget(w->inputs, k))
                json_object_set(w->inputs, k, v);
        }
    }
    const char *why = NULL;
    if (!filters_match(r, ev, ref, &why)) {
        if (!explicit_file) {
            if (r->opts->verbose)
                rn_run_msg(r, "%s: skipped, its on.%s.%s filter does not match %s", file,
                           r->opts->event, why, ref);
            return 0;
        }
        rn_run_warn(r,
                    "%s: its on.%s.%s filter does not match %s; running it anyway because it "
                    "was named explicitly",
                    file, r->opts->event, why, ref);
        w->filter_warned = true;
    }
    size_t nj = w->wf->n_jobs;
    w->selected = rn_xcalloc(nj + 1, sizeof *w->selected);
    if (!r->opts->job) {
        for (size_t i = 0; i < nj; i++)
            w->selected[i] = true;
        return 1;
    }
    const rn_wf_job *job = rn_workflow_job(w->wf, r->opts->job);
    if (!job)
        return 0;
    select_job(w, (size_t)(job - w->wf->jobs));
    return 1;
}

int rn_run_load(rn_run *r, const char *ref, const char *before, const char *after) {
    (void)before;
    (void)after;
    const char *path = r->opts->path ? r->opts->path : ".github/workflows";
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "runnel run: %s: %s\n", path, strerror(errno));
        return 2;
    }
    char **files = NULL;
    size_t n = 0;
    bool explicit_file = !S_ISDIR(st.st_mode);
    if (explicit_file) {
        files = rn_xmalloc(sizeof *files);
        files[n++] = rn_xstrdup(path);
    } else {
        DIR *dir = opendir(path);
        if (!dir) {
            fprintf(stderr, "runnel run: %s: %s\n", path, strerror(errno));
            return 2;
        }
        size_t plen = strlen(path);
        while (plen > 1 && path[plen - 1] == '/')
            plen--;
        for (struct dirent *e; (e = readdir(dir));) {
            if (e->d_name[0] == '.' || !has_workflow_ext(e->d_name))
                continue;
            files = rn_xrealloc(files, (n + 1) * sizeof *files);
            files[n++] = rn_xprintf("%.*s/%s", (int)plen, path, e->d_name);
        }
        closedir(dir);
        qsort(files, n, sizeof *files, cmp_str);
    }
    int rc = 0;
    r->wfs = rn_xcalloc(n + 1, sizeof *r->wfs);
    for (size_t i = 0; i < n; i++) {
        rn_run_wf w;
        int k = load_one(r, files[i], explicit_file, ref, &w);
        if (k == 1) {
            r->wfs[r->n_wfs++] = w;
        } else {
            rn_run_wf_free(&w);
            if (k == 2)
                rc = 2;
        }
        free(files[i]);
    }
    free(files);
    if (rc == 0 && r->opts->job) {
        bool found = false;
        for (size_t i = 0; i < r->n_wfs; i++)
            found |= rn_workflow_job(r->wfs[i].wf, r->opts->job) != NULL;
        if (!found) {
            fprintf(stderr, "runnel run: no job '%s' in the workflows '%s' triggers\n",
                    r->opts->job, r->opts->event);
            rc = 2;
        }
    }
    return rc;
}

static const char *labels_text(const rn_wf_job *job, rn_sb *sb) {
    rn_sb_clear(sb);
    rn_sb_puts(sb, "");
    for (size_t i = 0; i < job->runs_on.labels.n; i++)
        rn_sb_printf(sb, "%s%s", i ? ", " : "", job->runs_on.labels.items[i].s);
    return rn_sb_str(sb);
}

/* The jobs of one workflow, indented by `ind` spaces, their names after `prefix` (the caller's
 * name for a called workflow); a job calling a workflow whose reference is known before the
 * run lists the called jobs below it. */
static void print_jobs(rn_run *r, rn_run_wf *rw, const char *root, int ind, const char *prefix,
                       int depth) {
    const rn_workflow *wf = rw->wf;
    const rn_graph *g = rw->plan.graph;
    const size_t *order = rn_graph_order(g);
    rn_sb sb = RN_SB_INIT;
    for (size_t k = 0; k < rn_graph_count(g); k++) {
        size_t j = order[k];
        if (!rw->selected[j])
            continue;
        const rn_wf_job *job = &wf->jobs[j];
        size_t nn;
        const size_t *needs = rn_graph_needs(g, j, &nn);
        rn_sb needs_sb = RN_SB_INIT;
        rn_sb_puts(&needs_sb, "");
        for (size_t m = 0; m < nn; m++)
            rn_sb_printf(&needs_sb, "%s%s", m ? ", " : "", rn_graph_id(g, needs[m]));
        if (job->uses.s)
            rn_run_msg(r, "%*sstage %zu: %s%s%s%s%s [calls %s]", ind, "", rn_graph_stage(g, j) + 1,
                       prefix, job->id.s, nn ? " (needs: " : "", rn_sb_str(&needs_sb),
                       nn ? ")" : "", job->uses.s);
        else
            rn_run_msg(r, "%*sstage %zu: %s%s%s%s%s [runs-on: %s]", ind, "",
                       rn_graph_stage(g, j) + 1, prefix, job->id.s, nn ? " (needs: " : "",
                       rn_sb_str(&needs_sb), nn ? ")" : "", labels_text(job, &sb));
        rn_sb_free(&needs_sb);
        const rn_job_plan *jp = &rw->plan.jobs[j];
        if (jp->matrix_kind == RN_MATRIX_LITERAL) {
            for (size_t i = 0; i < jp->legs.count; i++) {
                char *name = rn_wf_plan_display_name(&rw->plan, j, &jp->legs.legs[i]);
                rn_run_msg(r, "%*s  leg: %s%s", ind, "", prefix, name);
                free(name);
            }
        } else if (jp->matrix_kind == RN_MATRIX_FROM_NEEDS ||
                   jp->matrix_kind == RN_MATRIX_DYNAMIC) {
            rn_run_msg(r, "%*s  leg: (matrix expanded when the job starts)", ind, "");
        }
        if (rw->job_errors && rw->job_errors[j])
            rn_run_msg(r, "%*s  error (fails the job): %s", ind, "", rw->job_errors[j]);
        for (size_t s = 0; s < job->n_steps; s++) {
            const rn_wf_step *st = &job->steps[s];
            const char *what = st->uses.s ? st->uses.s : "run";
            if (st->name.s)
                rn_run_msg(r, "%*s  %zu. %s (%s)", ind, "", s + 1, st->name.s, what);
            else if (st->run.s) {
                const char *nl = strchr(st->run.s, '\n');
                int len = nl ? (int)(nl - st->run.s) : (int)strlen(st->run.s);
                rn_run_msg(r, "%*s  %zu. Run %.*s", ind, "", s + 1, len, st->run.s);
            } else
                rn_run_msg(r, "%*s  %zu. Run %s", ind, "", s + 1, what);
        }
        if (!job->uses.s)
            continue;
        if (strstr(job->uses.s, "${{")) {
            rn_run_msg(r, "%*s  (the called workflow is known when the job starts)", ind, "");
            continue;
        }
        if (depth >= RN_WF_MAX_CALL_DEPTH) {
            rn_run_msg(r, "%*s  error: Nested reusable workflow depth exceeded %d.", ind, "",
                       RN_WF_MAX_CALL_DEPTH);
            continue;
        }
        rn_reusable_src src = {r->opts->remote, true, NULL};
        rn_run_wf cw;
        char *croot = NULL, *err = NULL;
        char *cprefix = rn_xprintf("%s%s / ", prefix, job->id.s);
        if (rn_reusable_load(&src, root, job, rw->file, job->uses.s, rw->display, &cw, &croot,
                             &err) == 0)
            print_jobs(r, &cw, croot ? croot : root, ind + 2, cprefix, depth + 1);
        else
            for (char *line = err, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                    *nl = 0;
                rn_run_msg(r, "%*s  error (fails the job): %s", ind, "", line);
            }
        free(cprefix);
        free(croot);
        free(err);
        rn_run_wf_free(&cw);
    }
    rn_sb_free(&sb);
}

void rn_run_print_plan(rn_run *r) {
    rn_sb sb = RN_SB_INIT;
    for (size_t w = 0; w < r->n_wfs; w++) {
        rn_run_wf *rw = &r->wfs[w];
        const rn_workflow *wf = rw->wf;
        const rn_graph *g = rw->plan.graph;
        rn_run_msg(r, "Plan: %s (%s) on %s, dry run: nothing is executed", rw->display, rw->file,
                   r->opts->event);
        rn_sb_clear(&sb);
        const size_t *order = rn_graph_order(g);
        size_t shown = 0;
        for (size_t k = 0; k < rn_graph_count(g); k++) {
            if (!rw->selected[order[k]])
                continue;
            rn_sb_printf(&sb, "%s%s", shown++ ? " → " : "", wf->jobs[order[k]].id.s);
        }
        rn_run_msg(r, "  order: %s", rn_sb_str(&sb));
        print_jobs(r, rw, r->root, 2, "", 0);
    }
    rn_sb_free(&sb);
}
