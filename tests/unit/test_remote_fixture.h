/* Test fixture for actions/remote and actions/checkout: bare repositories built with libgit2
 * (no git CLI), under <base>/owner/:
 *   repo.git   commit1 (annotated tag v1): action.yml, run.sh (0755), link -> run.sh,
 *              sub/inner/action.yml; commit2 = commit1 + new action.yml (tag v2, branch main,
 *              HEAD); commit3, an orphan without action.yml (branch feature)
 *   plain      (no .git suffix) one commit, tag v1
 *   moving.git branch main; fixture_advance_moving() adds a commit to it
 * Everything is static: include it in one test file. Owner: remote actions engineer. */
#ifndef RN_TEST_REMOTE_FIXTURE_H
#define RN_TEST_REMOTE_FIXTURE_H

#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FX_ACTION_V1                                                                               \
    "name: v1\nruns:\n  using: composite\n  steps:\n    - run: echo from-v1\n      shell: bash\n"
#define FX_ACTION_V2                                                                               \
    "name: v2\nruns:\n  using: composite\n  steps:\n    - run: echo from-v2\n      shell: bash\n"
#define FX_ACTION_SUB                                                                              \
    "name: sub\nruns:\n  using: composite\n  steps:\n    - run: echo from-sub\n      shell: "      \
    "bash\n"

typedef struct fixture {
    char base[512];
    char sha1[GIT_OID_HEXSZ + 1], sha2[GIT_OID_HEXSZ + 1], sha3[GIT_OID_HEXSZ + 1];
    char plain_sha[GIT_OID_HEXSZ + 1];
    char moving_sha1[GIT_OID_HEXSZ + 1];
} fixture;

typedef struct fx_file {
    const char *path, *content;
    unsigned mode; /* 0100644, 0100755 or 0120000 */
} fx_file;

static int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void fixture_rm_rf(const char *path) {
    nftw(path, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A commit of `files` on `parent` (NULL: a root commit), not attached to any ref. */
static int fx_commit(git_repository *g, const fx_file *files, size_t n, const git_oid *parent,
                     const char *msg, git_oid *out) {
    git_index *idx = NULL;
    git_oid tree_id;
    git_tree *tree = NULL;
    git_commit *par = NULL;
    git_signature *sig = NULL;
    int rc = git_repository_index(&idx, g); /* in memory: never written */
    rc = rc ? rc : git_index_clear(idx);
    for (size_t i = 0; !rc && i < n; i++) {
        git_index_entry e;
        memset(&e, 0, sizeof e);
        e.path = files[i].path;
        e.mode = files[i].mode;
        rc = git_index_add_from_buffer(idx, &e, files[i].content, strlen(files[i].content));
    }
    if (!rc)
        rc = git_index_write_tree_to(&tree_id, idx, g);
    if (!rc)
        rc = git_tree_lookup(&tree, g, &tree_id);
    if (!rc && parent)
        rc = git_commit_lookup(&par, g, parent);
    if (!rc)
        rc = git_signature_new(&sig, "tester", "t@example.com", 1700000000, 0);
    const git_commit *parents[1] = {par};
    if (!rc)
        rc = git_commit_create(out, g, NULL, sig, sig, NULL, msg, tree, par ? 1 : 0, parents);
    git_signature_free(sig);
    git_commit_free(par);
    git_tree_free(tree);
    git_index_free(idx);
    if (rc)
        fprintf(stderr, "fixture: %s\n", git_error_last() ? git_error_last()->message : "?");
    return rc;
}

static int fx_ref(git_repository *g, const char *name, const git_oid *id) {
    git_reference *r = NULL;
    int rc = git_reference_create(&r, g, name, id, 1, NULL);
    git_reference_free(r);
    return rc;
}

static int fx_open(const char *base, const char *rel, git_repository **g) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", base, rel);
    return git_repository_init(g, path, 1);
}

static int fixture_build(fixture *fx, const char *base) {
    snprintf(fx->base, sizeof fx->base, "%s", base);
    git_repository *g = NULL;
    git_oid c1, c2, c3, tag;
    const fx_file v1[] = {
        {"action.yml", FX_ACTION_V1, 0100644},
        {"run.sh", "#!/bin/sh\necho run\n", 0100755},
        {"link", "run.sh", 0120000},
        {"sub/inner/action.yml", FX_ACTION_SUB, 0100644},
    };
    fx_file v2[4];
    memcpy(v2, v1, sizeof v1);
    v2[0].content = FX_ACTION_V2;
    const fx_file feat[] = {{"README.md", "no action here\n", 0100644}};
    int rc = fx_open(base, "owner/repo.git", &g);
    rc = rc ? rc : fx_commit(g, v1, 4, NULL, "one", &c1);
    rc = rc ? rc : fx_commit(g, v2, 4, &c1, "two", &c2);
    rc = rc ? rc : fx_commit(g, feat, 1, NULL, "three", &c3);
    if (!rc) {
        git_object *target = NULL;
        git_signature *sig = NULL;
        rc = git_object_lookup(&target, g, &c1, GIT_OBJECT_COMMIT);
        rc = rc ? rc : git_signature_new(&sig, "tester", "t@example.com", 1700000000, 0);
        rc = rc ? rc : git_tag_create(&tag, g, "v1", target, sig, "release v1", 1);
        git_signature_free(sig);
        git_object_free(target);
    }
    rc = rc ? rc : fx_ref(g, "refs/tags/v2", &c2);
    rc = rc ? rc : fx_ref(g, "refs/heads/main", &c2);
    rc = rc ? rc : fx_ref(g, "refs/heads/feature", &c3);
    rc = rc ? rc : git_repository_set_head(g, "refs/heads/main");
    git_oid_tostr(fx->sha1, sizeof fx->sha1, &c1);
    git_oid_tostr(fx->sha2, sizeof fx->sha2, &c2);
    git_oid_tostr(fx->sha3, sizeof fx->sha3, &c3);
    git_repository_free(g);
    g = NULL;

    git_oid p;
    const fx_file plain[] = {{"action.yml", FX_ACTION_V1, 0100644}};
    rc = rc ? rc : fx_open(base, "owner/plain", &g);
    rc = rc ? rc : fx_commit(g, plain, 1, NULL, "plain", &p);
    rc = rc ? rc : fx_ref(g, "refs/tags/v1", &p);
    git_oid_tostr(fx->plain_sha, sizeof fx->plain_sha, &p);
    git_repository_free(g);
    g = NULL;

    git_oid m;
    rc = rc ? rc : fx_open(base, "owner/moving.git", &g);
    rc = rc ? rc : fx_commit(g, plain, 1, NULL, "moving 1", &m);
    rc = rc ? rc : fx_ref(g, "refs/heads/main", &m);
    git_oid_tostr(fx->moving_sha1, sizeof fx->moving_sha1, &m);
    git_repository_free(g);
    return rc;
}

/* Adds a commit to moving.git's main; its sha goes to out. */
__attribute__((unused)) static int fixture_advance_moving(fixture *fx,
                                                          char out[GIT_OID_HEXSZ + 1]) {
    git_repository *g = NULL;
    git_oid parent, m;
    const fx_file f[] = {{"action.yml", FX_ACTION_V2, 0100644}};
    int rc = fx_open(fx->base, "owner/moving.git", &g);
    rc = rc ? rc : git_oid_fromstr(&parent, fx->moving_sha1);
    rc = rc ? rc : fx_commit(g, f, 1, &parent, "moving 2", &m);
    rc = rc ? rc : fx_ref(g, "refs/heads/main", &m);
    git_oid_tostr(out, GIT_OID_HEXSZ + 1, &m);
    git_repository_free(g);
    return rc;
}

#endif
