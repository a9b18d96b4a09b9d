/* hashFiles() and the glob matcher: digests recomputed here with OpenSSL over the files the test
 * writes, in the order the toolkit visits them (search path, then depth-first, names in byte
 * order). */
#include "actions/hashfiles.h"
#include "common/arena.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/rn-hashfiles.XXXXXX";
static char *ws, *outside;

static void put(const char *rel, const char *text) {
    char *p = rn_xprintf("%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

/* sha256 over the binary sha256 of each file (relative to ws), as GitHub's hashFiles. */
static char *expect(const char *const *rel, size_t n) {
    EVP_MD_CTX *all = EVP_MD_CTX_new();
    EVP_DigestInit_ex(all, EVP_sha256(), NULL);
    for (size_t i = 0; i < n; i++) {
        char *p = rn_xprintf("%s/%s", ws, rel[i]);
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        unsigned char buf[4096], d[32];
        size_t r;
        EVP_MD_CTX *one = EVP_MD_CTX_new();
        EVP_DigestInit_ex(one, EVP_sha256(), NULL);
        while ((r = fread(buf, 1, sizeof buf, f)) > 0)
            EVP_DigestUpdate(one, buf, r);
        fclose(f);
        EVP_DigestFinal_ex(one, d, NULL);
        EVP_MD_CTX_free(one);
        EVP_DigestUpdate(all, d, 32);
        free(p);
    }
    unsigned char d[32];
    EVP_DigestFinal_ex(all, d, NULL);
    EVP_MD_CTX_free(all);
    char *r = malloc(65);
    for (int i = 0; i < 32; i++)
        sprintf(r + 2 * i, "%02x", d[i]);
    return r;
}

static char *hf(bool follow, int n, ...) {
    const char *p[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        p[i] = va_arg(ap, const char *);
    va_end(ap);
    char *err = NULL;
    char *r = rn_hashfiles(ws, p, (size_t)n, follow, &err);
    assert_null(err);
    assert_non_null(r);
    return r;
}

#define CHECK(got, ...)                                                                            \
    do {                                                                                           \
        const char *files_[] = {__VA_ARGS__};                                                      \
        char *want_ = expect(files_, sizeof files_ / sizeof *files_);                              \
        char *got_ = (got);                                                                        \
        assert_string_equal(got_, want_);                                                          \
        free(want_);                                                                               \
        free(got_);                                                                                \
    } while (0)

static int setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(root));
    ws = rn_xprintf("%s/ws", root);
    outside = rn_xprintf("%s/outside", root);
    put("ws/pom.xml", "<project>root</project>\n");
    put("ws/a/pom.xml", "<project>a</project>\n");
    put("ws/b/c/pom.xml", "<project>c</project>\n");
    put("ws/.hidden/pom.xml", "<project>hidden</project>\n");
    put("ws/B/pom.xml", "<project>B upper</project>\n");
    put("ws/x.txt", "x\n");
    put("ws/b/y.txt", "y\n");
    put("ws/b/c/z.txt", "z\n");
    put("outside/pom.xml", "<project>outside</project>\n");
    char *l = rn_xprintf("%s/lnk", ws), *t = rn_xprintf("%s/b", ws);
    assert_int_equal(symlink(t, l), 0);
    free(l);
    free(t);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char *cmd = rn_xprintf("rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(ws);
    free(outside);
    return 0;
}

static void test_globstar_order(void **state) {
    (void)state;
    /* byte order: ".hidden" < "B" < "a" < "b" < "pom.xml"; dot folders included */
    CHECK(hf(false, 1, "**/pom.xml"), ".hidden/pom.xml", "B/pom.xml", "a/pom.xml", "b/c/pom.xml",
          "pom.xml");
}

static void test_follow_symlinks(void **state) {
    (void)state;
    CHECK(hf(true, 1, "**/pom.xml"), ".hidden/pom.xml", "B/pom.xml", "a/pom.xml", "b/c/pom.xml",
          "lnk/c/pom.xml", "pom.xml");
}

static void test_negation_and_order_of_patterns(void **state) {
    (void)state;
    CHECK(hf(false, 2, "**/pom.xml", "!b/**"), ".hidden/pom.xml", "B/pom.xml", "a/pom.xml",
          "pom.xml");
    /* a later include wins over an earlier exclude */
    CHECK(hf(false, 3, "**/pom.xml", "!b/**", "b/c/pom.xml"), ".hidden/pom.xml", "B/pom.xml",
          "a/pom.xml", "b/c/pom.xml", "pom.xml");
    /* several patterns in one multi-line argument, comments skipped */
    CHECK(hf(false, 1, "# comment\n  *.txt  \n\nb/*.txt\n"), "b/y.txt", "x.txt");
}

static void test_star_and_classes(void **state) {
    (void)state;
    CHECK(hf(false, 1, "*.txt"), "x.txt");
    CHECK(hf(false, 1, "[ab]/**/pom.xml"), "a/pom.xml", "b/c/pom.xml");
    CHECK(hf(false, 1, "[!ab]/pom.xml"), "B/pom.xml");
    CHECK(hf(false, 1, "b/?/z.txt"), "b/c/z.txt");
    /* a folder pattern matches everything below it (implicit descendants) */
    CHECK(hf(false, 1, "b"), "b/c/pom.xml", "b/c/z.txt", "b/y.txt");
}

static void test_no_match_and_outside(void **state) {
    (void)state;
    char *r = hf(false, 1, "**/*.none");
    assert_string_equal(r, "");
    free(r);
    /* files outside the workspace are skipped */
    char *pat = rn_xprintf("%s/*.xml", outside);
    r = hf(false, 1, pat);
    assert_string_equal(r, "");
    free(r);
    r = hf(false, 1, "../outside/pom.xml");
    assert_string_equal(r, "");
    free(r);
    free(pat);
}

static void test_glob_directories_only(void **state) {
    (void)state;
    rn_strlist out = RN_STRLIST_INIT;
    rn_glob_opts o = {false, false, true};
    const char *p[] = {"*/"};
    char *err = NULL;
    assert_int_equal(rn_glob(ws, p, 1, &o, &out, &err), 0);
    /* lnk is a link, not a folder, without following */
    assert_int_equal(out.count, 4);
    const char *want[] = {".hidden", "B", "a", "b"};
    for (size_t i = 0; i < 4; i++) {
        char *w = rn_xprintf("%s/%s", ws, want[i]);
        assert_string_equal(out.items[i], w);
        free(w);
    }
    rn_strlist_free(&out);
}

static void test_expression_call(void **state) {
    (void)state;
    json_t *args[2] = {json_string("--follow-symbolic-links"), json_string("**/pom.xml")};
    char *err = NULL;
    json_t *r = rn_hashfiles_call(ws, args, 2, &err);
    CHECK(rn_xstrdup(json_string_value(r)), ".hidden/pom.xml", "B/pom.xml", "a/pom.xml",
          "b/c/pom.xml", "lnk/c/pom.xml", "pom.xml");
    json_decref(r);
    r = rn_hashfiles_call(ws, args + 1, 1, &err); /* without the flag: links not followed */
    CHECK(rn_xstrdup(json_string_value(r)), ".hidden/pom.xml", "B/pom.xml", "a/pom.xml",
          "b/c/pom.xml", "pom.xml");
    json_decref(r);
    json_t *bad = json_integer(1);
    assert_null(rn_hashfiles_call(ws, &bad, 1, &err));
    assert_string_equal(err, "hashFiles: patterns must be strings");
    free(err);
    json_decref(bad);
    json_decref(args[0]);
    json_decref(args[1]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_globstar_order),
        cmocka_unit_test(test_follow_symlinks),
        cmocka_unit_test(test_negation_and_order_of_patterns),
        cmocka_unit_test(test_star_and_classes),
        cmocka_unit_test(test_no_match_and_outside),
        cmocka_unit_test(test_glob_directories_only),
        cmocka_unit_test(test_expression_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
