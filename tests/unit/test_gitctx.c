/* github context from git: temporary repositories built with libgit2 in the test. */
#include "actions/gitctx.h"

#include <git2.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct fixture {
    char dir[PATH_MAX]; /* realpath of the temporary folder */
    git_repository *repo;
    git_oid c1, c2; /* first and second commit */
} fixture;

static void rm_rf(const char *path) {
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static void make_dir(fixture *f) {
    char tmpl[] = "/tmp/rn-gitctx-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, f->dir));
}

/* Commit a file on HEAD with a fixed author time: 2023-11-14T22:13:20Z, UTC+02:00. */
static void commit(fixture *f, const char *msg, git_oid *out, long when) {
    git_index *idx;
    assert_int_equal(git_repository_index(&idx, f->repo), 0);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/file.txt", f->dir);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(msg, fp);
    fclose(fp);
    assert_int_equal(git_index_add_bypath(idx, "file.txt"), 0);
    assert_int_equal(git_index_write(idx), 0);
    git_oid tree_id;
    assert_int_equal(git_index_write_tree(&tree_id, idx), 0);
    git_index_free(idx);
    git_tree *tree;
    assert_int_equal(git_tree_lookup(&tree, f->repo, &tree_id), 0);
    git_signature *sig;
    assert_int_equal(git_signature_new(&sig, "A U Thor", "author@example.com", when, 120), 0);
    git_commit *parent = NULL;
    git_oid head;
    if (git_reference_name_to_id(&head, f->repo, "HEAD") == 0)
        assert_int_equal(git_commit_lookup(&parent, f->repo, &head), 0);
    const git_commit *parents[] = {parent};
    assert_int_equal(
        git_commit_create(out, f->repo, "HEAD", sig, sig, NULL, msg, tree, parent ? 1 : 0, parents),
        0);
    git_commit_free(parent);
    git_signature_free(sig);
    git_tree_free(tree);
}

static void hex(const git_oid *oid, char out[GIT_OID_HEXSZ + 1]) {
    git_oid_tostr(out, GIT_OID_HEXSZ + 1, oid);
}

/* A repository on `main` with user.name set locally; `commits` commits (0..2). */
static void repo_init(fixture *f, int commits, const char *origin) {
    git_libgit2_init();
    make_dir(f);
    git_repository_init_options o;
    assert_int_equal(git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION), 0);
    o.initial_head = "main";
    assert_int_equal(git_repository_init_ext(&f->repo, f->dir, &o), 0);
    git_config *cfg;
    assert_int_equal(git_repository_config(&cfg, f->repo), 0);
    assert_int_equal(git_config_set_string(cfg, "user.name", "Local Tester"), 0);
    git_config_free(cfg);
    if (commits >= 1)
        commit(f, "First line\n\nBody text\n", &f->c1, 1700000000L);
    if (commits >= 2)
        commit(f, "Second\n", &f->c2, 1700003600L);
    if (origin) {
        /* Written as config: git_remote_create() leaks PCRE2 data in libgit2 1.5. */
        assert_int_equal(git_repository_config(&cfg, f->repo), 0);
        assert_int_equal(git_config_set_string(cfg, "remote.origin.url", origin), 0);
        git_config_free(cfg);
    }
}

static void repo_done(fixture *f) {
    git_repository_free(f->repo);
    git_libgit2_shutdown();
    rm_rf(f->dir);
}

static const char *str(const json_t *o, const char *k) {
    const json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void branch_with_https_remote(void **state) {
    (void)state;
    fixture f;
    repo_init(&f, 2, "https://github.com/octo/hello.git");
    rn_gitinfo gi;
    assert_int_equal(rn_gitinfo_load(&gi, f.dir, NULL), 0);
    char h1[GIT_OID_HEXSZ + 1], h2[GIT_OID_HEXSZ + 1];
    hex(&f.c1, h1);
    hex(&f.c2, h2);
    assert_true(gi.is_repo);
    assert_false(gi.detached);
    assert_string_equal(gi.sha, h2);
    assert_string_equal(gi.before, h1);
    assert_string_equal(gi.default_branch, "main");

    json_t *g = rn_gitctx_github(&gi, NULL);
    assert_string_equal(str(g, "event_name"), "push");
    assert_string_equal(str(g, "sha"), h2);
    assert_string_equal(str(g, "ref"), "refs/heads/main");
    assert_string_equal(str(g, "ref_name"), "main");
    assert_string_equal(str(g, "ref_type"), "branch");
    assert_true(json_is_false(json_object_get(g, "ref_protected")));
    assert_string_equal(str(g, "head_ref"), "");
    assert_string_equal(str(g, "base_ref"), "");
    assert_string_equal(str(g, "repository"), "octo/hello");
    assert_string_equal(str(g, "repository_owner"), "octo");
    assert_string_equal(str(g, "repositoryUrl"), "git://github.com/octo/hello.git");
    assert_string_equal(str(g, "server_url"), "https://github.com");
    assert_string_equal(str(g, "api_url"), "https://api.github.com");
    assert_string_equal(str(g, "graphql_url"), "https://api.github.com/graphql");
    assert_string_equal(str(g, "workspace"), f.dir);
    assert_string_equal(str(g, "actor"), "Local Tester");
    assert_string_equal(str(g, "triggering_actor"), "Local Tester");
    assert_string_equal(str(g, "run_id"), "1");
    assert_string_equal(str(g, "run_number"), "1");
    assert_string_equal(str(g, "run_attempt"), "1");

    const json_t *ev = json_object_get(g, "event");
    assert_string_equal(str(ev, "ref"), "refs/heads/main");
    assert_string_equal(str(ev, "before"), h1);
    assert_string_equal(str(ev, "after"), h2);
    const json_t *hc = json_object_get(ev, "head_commit");
    assert_string_equal(str(hc, "id"), h2);
    assert_string_equal(str(hc, "message"), "Second\n");
    /* 1700003600 = 2023-11-14T23:13:20Z, shown in the commit's +02:00 offset. */
    assert_string_equal(str(hc, "timestamp"), "2023-11-15T01:13:20+02:00");
    assert_string_equal(str(json_object_get(hc, "author"), "name"), "A U Thor");
    assert_string_equal(str(json_object_get(hc, "author"), "email"), "author@example.com");
    assert_int_equal(json_array_size(json_object_get(ev, "commits")), 1);
    assert_ptr_equal(json_array_get(json_object_get(ev, "commits"), 0), hc);
    const json_t *repo = json_object_get(ev, "repository");
    assert_string_equal(str(repo, "name"), "hello");
    assert_string_equal(str(repo, "full_name"), "octo/hello");
    assert_string_equal(str(json_object_get(repo, "owner"), "login"), "octo");
    assert_string_equal(str(repo, "default_branch"), "main");
    assert_string_equal(str(repo, "html_url"), "https://github.com/octo/hello");
    assert_string_equal(str(json_object_get(ev, "sender"), "login"), "Local Tester");
    json_decref(g);

    /* Caller overrides. */
    rn_gitctx_opts o = {.actor = "octocat", .run_id = "77", .run_number = "5"};
    g = rn_gitctx_github(&gi, &o);
    assert_string_equal(str(g, "actor"), "octocat");
    assert_string_equal(str(g, "run_id"), "77");
    assert_string_equal(str(g, "run_number"), "5");
    assert_string_equal(str(json_object_get(json_object_get(g, "event"), "sender"), "login"),
                        "octocat");
    json_decref(g);
    rn_gitinfo_free(&gi);

    /* From a subfolder: the workspace is the work tree root. */
    char sub[PATH_MAX + 8];
    snprintf(sub, sizeof sub, "%s/sub", f.dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(rn_gitinfo_load(&gi, sub, NULL), 0);
    assert_string_equal(gi.workspace, f.dir);
    assert_string_equal(gi.sha, h2);
    rn_gitinfo_free(&gi);
    repo_done(&f);
}

static void tags_and_detached_head(void **state) {
    (void)state;
    fixture f;
    repo_init(&f, 2, "git@github.com:octo/hello-ssh.git");
    char h1[GIT_OID_HEXSZ + 1];
    hex(&f.c1, h1);
    git_object *o1;
    assert_int_equal(git_object_lookup(&o1, f.repo, &f.c1, GIT_OBJECT_COMMIT), 0);
    git_oid tag_oid;
    assert_int_equal(git_tag_create_lightweight(&tag_oid, f.repo, "v1.0", o1, 0), 0);
    git_signature *sig;
    assert_int_equal(git_signature_new(&sig, "T", "t@example.com", 1700000000L, 0), 0);
    assert_int_equal(git_tag_create(&tag_oid, f.repo, "a-annotated", o1, sig, "msg", 0), 0);
    git_signature_free(sig);

    /* Attached to main while main's commit is untagged: the branch. */
    rn_gitinfo gi;
    rn_gitinfo_load(&gi, f.dir, NULL);
    assert_string_equal(gi.ref, "refs/heads/main");
    assert_string_equal(gi.owner, "octo");
    assert_string_equal(gi.name, "hello-ssh");
    assert_string_equal(gi.remote_url, "git@github.com:octo/hello-ssh.git");
    rn_gitinfo_free(&gi);

    /* Detached at the tagged commit: a tag (the smallest name; annotated tags are peeled). */
    assert_int_equal(git_repository_set_head_detached(f.repo, &f.c1), 0);
    rn_gitinfo_load(&gi, f.dir, NULL);
    assert_true(gi.detached);
    assert_string_equal(gi.sha, h1);
    assert_string_equal(gi.ref, "refs/tags/a-annotated");
    assert_string_equal(gi.ref_name, "a-annotated");
    assert_string_equal(gi.ref_type, "tag");
    assert_string_equal(gi.before, "0000000000000000000000000000000000000000");
    json_t *g = rn_gitctx_github(&gi, NULL);
    assert_string_equal(str(g, "ref"), "refs/tags/a-annotated");
    assert_string_equal(str(g, "ref_type"), "tag");
    assert_string_equal(str(json_object_get(g, "event"), "ref"), "refs/tags/a-annotated");
    json_decref(g);
    rn_gitinfo_free(&gi);

    /* Detached at main's commit (no tag): the branch that points there. */
    assert_int_equal(git_repository_set_head_detached(f.repo, &f.c2), 0);
    git_reference *br;
    assert_int_equal(git_branch_create(&br, f.repo, "feature", (git_commit *)o1, 0), 0);
    git_reference_free(br);
    rn_gitinfo_load(&gi, f.dir, NULL);
    assert_string_equal(gi.ref, "refs/heads/main");
    rn_gitinfo_free(&gi);
    git_object_free(o1);

    /* Detached at a commit no branch or tag names: act's fallback, the default branch. */
    assert_int_equal(git_reference_remove(f.repo, "refs/heads/main"), 0);
    git_reference *rh;
    assert_int_equal(git_reference_symbolic_create(&rh, f.repo, "refs/remotes/origin/HEAD",
                                                   "refs/remotes/origin/trunk", 1, NULL),
                     0);
    git_reference_free(rh);
    rn_gitinfo_load(&gi, f.dir, NULL);
    assert_string_equal(gi.default_branch, "trunk");
    assert_string_equal(gi.ref, "refs/heads/trunk");
    assert_string_equal(gi.ref_type, "branch");
    rn_gitinfo_free(&gi);
    repo_done(&f);
}

static void empty_repository(void **state) {
    (void)state;
    fixture f;
    repo_init(&f, 0, NULL);
    rn_gitinfo gi;
    assert_int_equal(rn_gitinfo_load(&gi, f.dir, NULL), 0);
    assert_string_equal(gi.sha, "");
    assert_string_equal(gi.ref, "refs/heads/main");
    assert_string_equal(gi.default_branch, "main");
    /* No remote: owner "local", the folder name as repository name. */
    assert_string_equal(gi.owner, "local");
    assert_string_equal(gi.name, strrchr(f.dir, '/') + 1);
    json_t *g = rn_gitctx_github(&gi, NULL);
    const json_t *ev = json_object_get(g, "event");
    assert_true(json_is_null(json_object_get(ev, "head_commit")));
    assert_int_equal(json_array_size(json_object_get(ev, "commits")), 0);
    assert_string_equal(str(ev, "after"), "0000000000000000000000000000000000000000");
    json_decref(g);
    rn_gitinfo_free(&gi);
    repo_done(&f);
}

static void not_a_repository(void **state) {
    (void)state;
    fixture f;
    make_dir(&f);
    char home[PATH_MAX + 8];
    snprintf(home, sizeof home, "%s/home", f.dir);
    assert_int_equal(mkdir(home, 0755), 0);
    /* Keep the user's global git config out of the actor fallback. */
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *old_user = getenv("USER") ? strdup(getenv("USER")) : NULL;
    setenv("HOME", home, 1);
    setenv("USER", "someone", 1);
    rn_gitinfo gi;
    assert_int_equal(rn_gitinfo_load(&gi, f.dir, NULL), 1);
    assert_false(gi.is_repo);
    assert_string_equal(gi.workspace, f.dir);
    assert_string_equal(gi.sha, "");
    assert_string_equal(gi.ref, "refs/heads/main");
    json_t *g = rn_gitctx_github(&gi, NULL);
    char *want = NULL;
    assert_true(asprintf(&want, "local/%s", strrchr(f.dir, '/') + 1) > 0);
    assert_string_equal(str(g, "repository"), want);
    assert_string_equal(str(g, "actor"), "someone");
    free(want);
    json_decref(g);
    rn_gitinfo_free(&gi);

    unsetenv("USER");
    assert_int_equal(rn_gitinfo_load(&gi, NULL, NULL), 1);
    assert_string_equal(gi.workspace, "");
    g = rn_gitctx_github(&gi, NULL);
    assert_string_equal(str(g, "repository"), "local/repository");
    assert_string_equal(str(g, "actor"), "runnel");
    json_decref(g);
    rn_gitinfo_free(&gi);
    if (old_home)
        setenv("HOME", old_home, 1);
    if (old_user)
        setenv("USER", old_user, 1);
    free(old_home);
    free(old_user);
    rm_rf(f.dir);
}

static void pull_request_and_dispatch_events(void **state) {
    (void)state;
    fixture f;
    repo_init(&f, 1, "https://github.com/octo/hello");
    git_object *o1;
    assert_int_equal(git_object_lookup(&o1, f.repo, &f.c1, GIT_OBJECT_COMMIT), 0);
    git_reference *br;
    assert_int_equal(git_branch_create(&br, f.repo, "feature/x", (git_commit *)o1, 0), 0);
    git_reference_free(br);
    git_object_free(o1);
    assert_int_equal(git_repository_set_head(f.repo, "refs/heads/feature/x"), 0);

    rn_gitinfo gi;
    rn_gitinfo_load(&gi, f.dir, NULL);
    rn_gitctx_opts o = {.event_name = "pull_request"};
    json_t *g = rn_gitctx_github(&gi, &o);
    assert_string_equal(str(g, "ref"), "refs/pull/1/merge");
    assert_string_equal(str(g, "ref_name"), "1/merge");
    assert_string_equal(str(g, "head_ref"), "feature/x");
    assert_string_equal(str(g, "base_ref"), "main");
    const json_t *ev = json_object_get(g, "event");
    assert_int_equal(json_integer_value(json_object_get(ev, "number")), 1);
    const json_t *pr = json_object_get(ev, "pull_request");
    assert_string_equal(str(pr, "title"), "First line");
    assert_string_equal(str(json_object_get(pr, "head"), "ref"), "feature/x");
    assert_string_equal(str(json_object_get(pr, "head"), "sha"), gi.sha);
    assert_string_equal(str(json_object_get(pr, "base"), "ref"), "main");
    json_decref(g);

    json_t *inputs = json_pack("{s:s, s:b}", "name", "world", "debug", 1);
    rn_gitctx_opts d = {.event_name = "workflow_dispatch", .inputs = inputs};
    g = rn_gitctx_github(&gi, &d);
    ev = json_object_get(g, "event");
    assert_string_equal(str(g, "ref"), "refs/heads/feature/x");
    assert_string_equal(str(ev, "ref"), "refs/heads/feature/x");
    assert_true(json_equal(json_object_get(ev, "inputs"), inputs));
    assert_ptr_not_equal(json_object_get(ev, "inputs"), inputs);
    assert_null(json_object_get(ev, "head_commit"));
    json_decref(g);
    json_decref(inputs);

    rn_gitctx_opts ghes = {.server_url = "https://ghe.example.com"};
    g = rn_gitctx_github(&gi, &ghes);
    assert_string_equal(str(g, "api_url"), "https://ghe.example.com/api/v3");
    assert_string_equal(str(g, "graphql_url"), "https://ghe.example.com/api/graphql");
    assert_string_equal(str(g, "repositoryUrl"), "git://ghe.example.com/octo/hello.git");
    json_decref(g);
    rn_gitinfo_free(&gi);
    repo_done(&f);
}

static void url_slugs(void **state) {
    (void)state;
    static const char *const cases[][3] = {
        {"https://github.com/octo/hello.git", "octo", "hello"},
        {"https://github.com/octo/hello", "octo", "hello"},
        {"https://user:tok@github.com/octo/hello.git/", "octo", "hello"},
        {"http://github.com/octo/hello.js", "octo", "hello.js"},
        {"git@github.com:octo/hello.git", "octo", "hello"},
        {"github.com:octo/hello", "octo", "hello"},
        {"ssh://git@github.com:22/octo/hello.git", "octo", "hello"},
        {"ssh://git@github.com/octo/hello", "octo", "hello"},
        {"https://gitlab.com/group/sub/proj.git", "group/sub", "proj"},
        {"/srv/git/proj.git", "git", "proj"},
        {"file:///srv/git/proj", "git", "proj"},
        {"../up/proj", "up", "proj"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *o, *n;
        assert_true(rn_git_url_slug(cases[i][0], &o, &n));
        assert_string_equal(o, cases[i][1]);
        assert_string_equal(n, cases[i][2]);
        free(o);
        free(n);
    }
    const char *bad[] = {"", "https://github.com/onlyone", "https://github.com", "proj",
                         "git@host:proj.git"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *o = (char *)1, *n = (char *)1;
        assert_false(rn_git_url_slug(bad[i], &o, &n));
        assert_null(o);
        assert_null(n);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(branch_with_https_remote),
        cmocka_unit_test(tags_and_detached_head),
        cmocka_unit_test(empty_repository),
        cmocka_unit_test(not_a_repository),
        cmocka_unit_test(pull_request_and_dispatch_events),
        cmocka_unit_test(url_slugs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
