#include "common/arena.h"
#include "common/diag.h"
#include "common/pathmap.h"
#include "common/strbuf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void arena_allocates_zeroed_and_large_blocks(void **state) {
    (void)state;
    rn_arena a;
    rn_arena_init(&a);
    char *small = rn_arena_alloc(&a, 10);
    assert_int_equal(small[9], 0);
    char *big = rn_arena_alloc(&a, 200000);
    memset(big, 'x', 200000);
    char *after = rn_arena_strdup(&a, "still here");
    assert_string_equal(after, "still here");
    assert_string_equal(rn_arena_printf(&a, "%s-%d", "job", 7), "job-7");
    assert_true(a.used >= 200000);
    rn_arena_free(&a);
    assert_null(a.head);
}

static void diags_sort_dedupe_and_format(void **state) {
    (void)state;
    rn_diags d = RN_DIAGS_INIT;
    rn_diag_add(&d, "w.yml", 12, 7, "second");
    rn_diag_add(&d, "w.yml", 3, 1, "first %s", "one");
    rn_diag_add(&d, "w.yml", 12, 7, "second");
    rn_diags_sort(&d);
    assert_int_equal(d.count, 2);
    char *cli = rn_diag_format_cli(&d.items[0]);
    assert_string_equal(cli, "w.yml:3:1: first one");
    free(cli);
    char *gh = rn_diag_format_github(&d.items[1]);
    assert_string_equal(gh, "w.yml (Line: 12, Col: 7): second");
    free(gh);
    rn_diags_free(&d);
}

static void strbuf_appends_and_takes(void **state) {
    (void)state;
    rn_sb sb = RN_SB_INIT;
    assert_string_equal(rn_sb_str(&sb), "");
    for (int i = 0; i < 100; i++)
        rn_sb_printf(&sb, "%d,", i);
    assert_int_equal(sb.len, 290);
    char *s = rn_sb_take(&sb);
    assert_memory_equal(s, "0,1,2,", 6);
    assert_null(sb.data);
    free(s);
}

static void check_norm(const char *in, const char *want) {
    char *got = rn_path_normalize(in);
    assert_string_equal(got, want);
    free(got);
}

static void check_map(const rn_pathmap *m, size_t n, const char *path, bool outward,
                      const char *want) {
    char *got = outward ? rn_pathmap_outer(m, n, path) : rn_pathmap_inner(m, n, path);
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got, want);
    free(got);
}

static void paths_normalize_and_map(void **state) {
    (void)state;
    check_norm("/", "/");
    check_norm("//a//b/./c/", "/a/b/c");
    check_norm("/w/repo/../../github/home/.m2", "/github/home/.m2");
    check_norm("/a/../../..", "/");
    check_norm("/a/b/..", "/a");
    /* an image container: the workspace at its host path, /github/home from the job folder */
    const rn_pathmap m[] = {{"/src/repo", "/src/repo"},
                            {"/github/home", "/src/repo/.runnel/runs/1/home"},
                            {"/", "/var/lib/never"}};
    check_map(m, 2, "/github/home/.m2/repository", true,
              "/src/repo/.runnel/runs/1/home/.m2/repository");
    check_map(m, 2, "/src/repo/../repo/deps", true, "/src/repo/deps");
    check_map(m, 2, "/github/home", true, "/src/repo/.runnel/runs/1/home");
    check_map(m, 2, "/github/homework", true, NULL); /* whole segments only */
    check_map(m, 2, "/opt/tool", true, NULL);        /* the container's own files */
    check_map(m, 2, "/src/repo/.runnel/runs/1/home/.m2", false, "/github/home/.m2");
    check_map(m, 2, "/src/repo/deps", false, "/src/repo/deps");
    check_map(m, 2, "/etc/passwd", false, NULL);
    check_map(m, 3, "/opt/tool", true, "/var/lib/never/opt/tool"); /* "/" maps everything */
    check_map(m, 3, "/github/home/x", true, "/src/repo/.runnel/runs/1/home/x"); /* longest */
    check_map(NULL, 0, "/any//where/./x", true, "/any/where/x");                /* on the host */
    check_map(NULL, 0, "/any/where", false, "/any/where");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_allocates_zeroed_and_large_blocks),
        cmocka_unit_test(diags_sort_dedupe_and_format),
        cmocka_unit_test(strbuf_appends_and_takes),
        cmocka_unit_test(paths_normalize_and_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
