/* The runner policy file: parsing, report discovery and the job-end gates (see policy.h). */
#include "actions/policy.h"

#include "workflow/yaml.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEM_CONFIG "/etc/runnel/config.yml"
#define MAX_FILES 200000 /* files looked at under a workspace, so a huge tree cannot hang a job */

static const char *const default_reports[] = {"**/jacoco.xml", "**/cobertura.xml",
                                              "**/coverage.xml", "**/lcov.info"};

char *rn_policy_path(const char *(*env)(const char *name), const char *system_path) {
    const char *(*get)(const char *) = env ? env : (const char *(*)(const char *))getenv;
    const char *v = get("RUNNEL_CONFIG");
    if (v)
        return *v ? rn_xstrdup(v) : NULL;
    const char *sys = system_path ? system_path : SYSTEM_CONFIG;
    if (access(sys, F_OK) == 0)
        return rn_xstrdup(sys);
    const char *home = get("HOME");
    if (home && *home) {
        char *p = rn_xprintf("%s/.config/runnel/config.yml", home);
        if (access(p, F_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

/* ---- globs ---- */

bool rn_policy_job_matches(const char *const *globs, size_t n, const char *job_id) {
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], job_id, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

static bool seg_match(const char *g, size_t gn, const char *p, size_t pn) {
    char gb[256], pb[256];
    if (gn >= sizeof gb || pn >= sizeof pb)
        return false;
    memcpy(gb, g, gn), gb[gn] = '\0';
    memcpy(pb, p, pn), pb[pn] = '\0';
    return fnmatch(gb, pb, FNM_PERIOD) == 0;
}

bool rn_policy_path_matches(const char *g, const char *p) {
    if (!*g)
        return !*p;
    if (g[0] == '*' && g[1] == '*' && (g[2] == '/' || !g[2])) {
        const char *rest = g[2] ? g + 3 : g + 2;
        if (!*rest)
            return true; /* trailing ** matches everything below */
        for (const char *q = p;;) {
            if (rn_policy_path_matches(rest, q))
                return true;
            q = strchr(q, '/');
            if (!q)
                return false;
            q++;
        }
    }
    const char *gs = strchr(g, '/'), *ps = strchr(p, '/');
    size_t gn = gs ? (size_t)(gs - g) : strlen(g), pn = ps ? (size_t)(ps - p) : strlen(p);
    if (!seg_match(g, gn, p, pn))
        return false;
    if (!gs)
        return !ps;
    return ps && rn_policy_path_matches(gs + 1, ps + 1);
}

typedef struct walk {
    const char *const *globs;
    size_t nglobs;
    time_t since;
    char **found;
    size_t n, cap, seen;
} walk;

static void walk_dir(walk *w, const char *root, const char *rel) {
    char *dir = *rel ? rn_xprintf("%s/%s", root, rel) : rn_xstrdup(root);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && w->seen < MAX_FILES) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".git"))
            continue;
        w->seen++;
        char *r = *rel ? rn_xprintf("%s/%s", rel, e->d_name) : rn_xstrdup(e->d_name);
        char *full = rn_xprintf("%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                walk_dir(w, root, r);
            } else if (S_ISREG(st.st_mode) && (!w->since || st.st_mtime >= w->since)) {
                for (size_t i = 0; i < w->nglobs; i++) {
                    if (rn_policy_path_matches(w->globs[i], r)) {
                        if (w->n == w->cap) {
                            w->cap = w->cap ? w->cap * 2 : 8;
                            w->found = rn_xrealloc(w->found, w->cap * sizeof *w->found);
                        }
                        w->found[w->n++] = r;
                        r = NULL;
                        break;
                    }
                }
            }
        }
        free(r);
        free(full);
    }
    closedir(d);
    free(dir);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **rn_policy_find_reports(const char *dir, const char *const *globs, size_t n, time_t since,
                              size_t *count) {
    walk w = {globs, n, since, NULL, 0, 0, 0};
    walk_dir(&w, dir, "");
    if (w.n > 1)
        qsort(w.found, w.n, sizeof *w.found, cmp_str);
    *count = w.n;
    return w.found;
}

/* ---- parsing ---- */

/* A scalar or a list of scalars, as strings in the policy's arena. */
static int str_list(rn_policy *p, const rn_ynode *n, const char *what, const char ***out,
                    size_t *count, rn_diags *d) {
    if (n->kind == RN_Y_SCALAR && !rn_yaml_is_null(n)) {
        *out = rn_arena_alloc(&p->arena, sizeof **out);
        (*out)[0] = rn_arena_strdup(&p->arena, rn_yaml_scalar_text(n));
        *count = 1;
        return 0;
    }
    if (n->kind != RN_Y_SEQ || !n->n) {
        rn_diag_add(d, n->file, n->line, n->col, "%s must be a glob or a non-empty list of globs",
                    what);
        return -1;
    }
    *out = rn_arena_alloc(&p->arena, n->n * sizeof **out);
    for (size_t i = 0; i < n->n; i++) {
        const rn_ynode *it = n->items[i];
        if (it->kind != RN_Y_SCALAR || rn_yaml_is_null(it) || !*it->str) {
            rn_diag_add(d, it->file, it->line, it->col, "%s entries must be non-empty text", what);
            return -1;
        }
        (*out)[i] = rn_arena_strdup(&p->arena, rn_yaml_scalar_text(it));
    }
    *count = n->n;
    return 0;
}

static void parse_coverage(rn_policy *p, const rn_ynode *rule, rn_diags *d) {
    rn_policy_coverage c = {0};
    rn_cov_gate def = RN_COV_GATE_DEFAULT;
    c.gate = def;
    c.file = p->file, c.line = rule->line, c.col = rule->col;
    bool bad = false;
    for (size_t i = 0; i < rule->n; i++) {
        const rn_ynode *kn = rule->pairs[i].key, *v = rule->pairs[i].value;
        const char *k = rn_yaml_str(kn);
        const char *t = v->kind == RN_Y_SCALAR ? rn_yaml_scalar_text(v) : NULL;
        if (!k) {
            rn_diag_add(d, kn->file, kn->line, kn->col, "keys must be text");
            bad = true;
        } else if (!strcmp(k, "jobs")) {
            bad |= str_list(p, v, "jobs", &c.jobs, &c.njobs, d) != 0;
        } else if (!strcmp(k, "reports")) {
            bad |= str_list(p, v, "reports", &c.reports, &c.nreports, d) != 0;
        } else if (!strcmp(k, "minimum")) {
            if (!t || rn_cov_parse_minimum(t, &c.gate.minimum_milli)) {
                rn_diag_add(d, v->file, v->line, v->col,
                            "minimum '%s' is not a percentage from 0 to 100", t ? t : "");
                bad = true;
            }
        } else if (!strcmp(k, "counter")) {
            if (!t || rn_cov_parse_counter(t, &c.gate.counter)) {
                rn_diag_add(d, v->file, v->line, v->col,
                            "counter '%s' is not one of INSTRUCTION, BRANCH, LINE", t ? t : "");
                bad = true;
            }
        } else if (!strcmp(k, "element")) {
            if (!t || rn_cov_parse_element(t, &c.gate.element)) {
                rn_diag_add(d, v->file, v->line, v->col,
                            "element '%s' is not one of BUNDLE, PACKAGE, CLASS, SOURCEFILE",
                            t ? t : "");
                bad = true;
            }
        } else {
            rn_diag_add(d, kn->file, kn->line, kn->col,
                        "unknown coverage policy key '%s' (jobs, reports, minimum, counter, "
                        "element)",
                        k);
            bad = true;
        }
    }
    if (!bad && !c.njobs && !c.nreports) {
        rn_diag_add(d, rule->file, rule->line, rule->col,
                    "a coverage policy needs jobs or reports to say where it applies");
        bad = true;
    }
    if (bad)
        return;
    p->coverage = rn_xrealloc(p->coverage, (p->ncoverage + 1) * sizeof *p->coverage);
    p->coverage[p->ncoverage++] = c;
}

static void parse_verify(rn_policy *p, const rn_ynode *rule, rn_diags *d) {
    rn_policy_verify v = {0};
    v.file = p->file, v.line = rule->line, v.col = rule->col;
    rn_verify_spec_init(&v.spec);
    size_t before = d->count;
    bool has_jobs = false;
    for (size_t i = 0; i < rule->n; i++) {
        const rn_ynode *kn = rule->pairs[i].key, *val = rule->pairs[i].value;
        const char *k = rn_yaml_str(kn);
        if (!k) {
            rn_diag_add(d, kn->file, kn->line, kn->col, "keys must be text");
        } else if (!strcmp(k, "jobs")) {
            has_jobs = str_list(p, val, "jobs", &v.jobs, &v.njobs, d) == 0;
            if (!has_jobs)
                has_jobs = true; /* reported already */
        } else {
            size_t n0 = d->count;
            rn_verify_spec_set_node(&v.spec, k, val, d);
            /* an unknown key is reported at the key, with the list of settings */
            if (d->count > n0 && strstr(d->items[d->count - 1].message, "unknown verify setting")) {
                free(d->items[d->count - 1].message);
                free(d->items[d->count - 1].file);
                d->count--;
                rn_diag_add(d, kn->file, kn->line, kn->col,
                            "unknown verify policy key '%s' (jobs, url, probes, script, "
                            "expected-status, body-contains, json-field, json-value, headers, "
                            "method, request-timeout, initial-delay, interval, count, "
                            "failure-limit, timeout, rollback)",
                            k);
            }
        }
    }
    if (d->count == before && !has_jobs)
        rn_diag_add(d, rule->file, rule->line, rule->col,
                    "a verify policy needs jobs to say which jobs it verifies");
    if (d->count == before)
        rn_verify_spec_finish(&v.spec, rule->file, rule->line, rule->col, d);
    if (d->count != before) {
        rn_verify_spec_free(&v.spec);
        return;
    }
    p->verify = rn_xrealloc(p->verify, (p->nverify + 1) * sizeof *p->verify);
    p->verify[p->nverify++] = v;
}

static void parse_rules(rn_policy *p, const rn_ynode *list, const char *what, rn_diags *d,
                        void (*fn)(rn_policy *, const rn_ynode *, rn_diags *)) {
    if (rn_yaml_is_null(list))
        return;
    if (list->kind != RN_Y_SEQ) {
        rn_diag_add(d, list->file, list->line, list->col, "policies.%s must be a list of rules",
                    what);
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        const rn_ynode *r = list->items[i];
        if (r->kind != RN_Y_MAP)
            rn_diag_add(d, r->file, r->line, r->col, "a %s policy must be a mapping", what);
        else
            fn(p, r, d);
    }
}

rn_policy *rn_policy_parse(const char *file, const char *text, size_t len, rn_diags *d) {
    rn_policy *p = rn_xcalloc(1, sizeof *p);
    rn_arena_init(&p->arena);
    p->file = rn_arena_strdup(&p->arena, file);
    size_t before = d->count;
    rn_arena tmp;
    rn_arena_init(&tmp);
    const rn_ynode *root = rn_yaml_load(&tmp, p->file, text, len, d);
    if (root && !rn_yaml_is_null(root)) {
        if (root->kind != RN_Y_MAP) {
            rn_diag_add(d, root->file, root->line, root->col,
                        "the runnel config must be a mapping");
        } else {
            for (size_t i = 0; i < root->n; i++) {
                const rn_ynode *kn = root->pairs[i].key, *v = root->pairs[i].value;
                const char *k = rn_yaml_str(kn);
                if (!k || strcmp(k, "policies")) {
                    rn_diag_add(d, kn->file, kn->line, kn->col,
                                "unknown runnel config key '%s' (policies)", k ? k : "?");
                    continue;
                }
                if (rn_yaml_is_null(v))
                    continue;
                if (v->kind != RN_Y_MAP) {
                    rn_diag_add(d, v->file, v->line, v->col,
                                "policies must be a mapping (coverage, verify)");
                    continue;
                }
                for (size_t j = 0; j < v->n; j++) {
                    const rn_ynode *pk = v->pairs[j].key, *pv = v->pairs[j].value;
                    const char *name = rn_yaml_str(pk);
                    if (name && !strcmp(name, "coverage"))
                        parse_rules(p, pv, "coverage", d, parse_coverage);
                    else if (name && !strcmp(name, "verify"))
                        parse_rules(p, pv, "verify", d, parse_verify);
                    else
                        rn_diag_add(d, pk->file, pk->line, pk->col,
                                    "unknown policy '%s' (coverage, verify)", name ? name : "?");
                }
            }
        }
    }
    rn_arena_free(&tmp);
    if (d->count != before) {
        rn_diags_sort(d);
        rn_policy_free(p);
        return NULL;
    }
    return p;
}

rn_policy *rn_policy_load(const char *path, rn_diags *d) {
    size_t len;
    char *text = rn_read_file(path, &len);
    if (!text) {
        rn_diag_add(d, path, 0, 0, "cannot read the runnel config: %s", strerror(errno));
        return NULL;
    }
    rn_policy *p = rn_policy_parse(path, text, len, d);
    free(text);
    return p;
}

void rn_policy_free(rn_policy *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->nverify; i++)
        rn_verify_spec_free(&p->verify[i].spec);
    free(p->verify);
    free(p->coverage);
    rn_arena_free(&p->arena);
    free(p);
}

/* ---- job-end gates ---- */

static void fmt_minimum(char *buf, size_t n, uint32_t milli) {
    if (milli % 1000 == 0) {
        snprintf(buf, n, "%u", milli / 1000);
    } else {
        snprintf(buf, n, "%u.%03u", milli / 1000, milli % 1000);
        for (size_t l = strlen(buf); buf[l - 1] == '0'; l--)
            buf[l - 1] = '\0';
    }
}

rn_policy_status rn_policy_jobs_coverage(const rn_policy *p, const char *job_id,
                                         const char *workspace, time_t since, rn_sb *out) {
    rn_policy_status st = RN_POLICY_NONE;
    for (size_t i = 0; p && i < p->ncoverage; i++) {
        const rn_policy_coverage *c = &p->coverage[i];
        bool by_job = c->njobs && rn_policy_job_matches(c->jobs, c->njobs, job_id);
        const char *const *globs = c->nreports ? c->reports : default_reports;
        size_t nglobs =
            c->nreports ? c->nreports : sizeof default_reports / sizeof *default_reports;
        size_t n = 0;
        char **files = rn_policy_find_reports(workspace, globs, nglobs, since, &n);
        /* a reports-only rule applies to jobs that produced a matching report */
        if (by_job || (c->nreports && n && !c->njobs)) {
            char min[32];
            fmt_minimum(min, sizeof min, c->gate.minimum_milli);
            rn_sb_printf(out, "policy coverage (%s:%d:%d) for job '%s': %s >= %s%% per %s\n",
                         c->file, c->line, c->col, job_id, rn_cov_counter_name(c->gate.counter),
                         min, rn_cov_element_name(c->gate.element));
            if (st == RN_POLICY_NONE)
                st = RN_POLICY_PASS;
            if (!n) {
                rn_sb_puts(out, "error: no coverage report matching ");
                for (size_t g = 0; g < nglobs; g++)
                    rn_sb_printf(out, "%s%s", g ? ", " : "", globs[g]);
                rn_sb_puts(out, since ? " was produced by the job\n" : " in the workspace\n");
                st = RN_POLICY_FAIL;
            } else {
                rn_cov_data *data = rn_cov_new();
                rn_diags d = RN_DIAGS_INIT;
                rn_sb_puts(out, "reports:");
                for (size_t f = 0; f < n; f++) {
                    char *full = rn_xprintf("%s/%s", workspace, files[f]);
                    size_t len;
                    char *buf = rn_read_file(full, &len);
                    if (!buf)
                        rn_diag_add(&d, files[f], 0, 0, "%s", strerror(errno));
                    else
                        rn_cov_add(data, files[f], buf, len, &d); /* names relative */
                    free(buf);
                    free(full);
                    rn_sb_printf(out, " %s", files[f]);
                }
                rn_sb_putc(out, '\n');
                int rc = RN_COV_ERROR;
                if (!d.count)
                    rc = rn_cov_gate_eval(data, &c->gate, out, &d);
                for (size_t k = 0; k < d.count; k++) {
                    char *m = rn_diag_format_cli(&d.items[k]);
                    rn_sb_printf(out, "error: %s\n", m);
                    free(m);
                }
                if (rc != RN_COV_PASS)
                    st = RN_POLICY_FAIL;
                rn_diags_free(&d);
                rn_cov_free(data);
            }
        }
        for (size_t f = 0; f < n; f++)
            free(files[f]);
        free(files);
    }
    return st;
}

rn_policy_status rn_policy_jobs_verify(const rn_policy *p, const char *job_id,
                                       const rn_verify_io *io, rn_sb *out) {
    rn_policy_status st = RN_POLICY_NONE;
    for (size_t i = 0; p && i < p->nverify; i++) {
        const rn_policy_verify *v = &p->verify[i];
        if (!rn_policy_job_matches(v->jobs, v->njobs, job_id))
            continue;
        char *head =
            rn_xprintf("policy verify (%s:%d:%d) for job '%s'", v->file, v->line, v->col, job_id);
        if (io->log)
            io->log(io->ud, RN_VLOG_INFO, head);
        rn_sb_printf(out, "%s\n", head);
        free(head);
        if (st == RN_POLICY_NONE)
            st = RN_POLICY_PASS;
        rn_verify_result r;
        if (!rn_verify_run(&v->spec, io, &r))
            st = RN_POLICY_FAIL;
        rn_verify_table(&v->spec, &r, out);
        rn_verify_result_free(&r);
    }
    return st;
}
