/* sandbox/image*: references, store root, store operations without a registry. */
#include "sandbox/image.h"
#include "sandbox/image_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void expect_norm(const char *in, const char *want) {
    char *err = NULL;
    char *got = rn_image_ref_normalize(in, &err);
    if (!want) {
        assert_null(got);
        assert_non_null(err);
        free(err);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_normalize(void **s) {
    (void)s;
    expect_norm("busybox", "docker.io/library/busybox:latest");
    expect_norm("busybox:1.36", "docker.io/library/busybox:1.36");
    expect_norm("user/app", "docker.io/user/app:latest");
    expect_norm("index.docker.io/user/app:v1", "docker.io/user/app:v1");
    expect_norm("localhost/app", "localhost/app:latest");
    expect_norm("localhost:5000/a/b:c", "localhost:5000/a/b:c");
    expect_norm("ghcr.io/o/r:1.0", "ghcr.io/o/r:1.0");
    expect_norm("127.0.0.1:5000/t@sha256:"
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "127.0.0.1:5000/t@sha256:"
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    expect_norm("Upper/case", NULL);
    expect_norm("a/b@sha256:123", NULL);
    expect_norm("a:bad tag", NULL);
    expect_norm("", NULL);
}

static void test_default_root(void **s) {
    (void)s;
    setenv("RUNNEL_HOME", "/x/rh", 1);
    char *r = rn_image_store_default_root();
    assert_string_equal(r, "/x/rh");
    free(r);
    unsetenv("RUNNEL_HOME");
    setenv("XDG_DATA_HOME", "/x/xdg", 1);
    r = rn_image_store_default_root();
    assert_string_equal(r, "/x/xdg/runnel");
    free(r);
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/x/home", 1);
    r = rn_image_store_default_root();
    assert_string_equal(r, "/x/home/.local/share/runnel");
    free(r);
}

static void test_empty_store(void **s) {
    (void)s;
    char tmpl[] = "/tmp/rn-unit-image.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *err = NULL;
    rn_image_store *st = rn_image_store_open(tmpl, &err);
    assert_non_null(st);
    rn_image_ref_info *list;
    assert_int_equal(rn_image_list(st, &list, &err), 0);
    rn_image_list_free(list, 0);
    assert_null(rn_image_get(st, "busybox", NULL, &err));
    assert_string_equal(err, "image 'busybox' is not in the store");
    free(err);
    err = NULL;
    assert_int_equal(rn_image_remove(st, "busybox", &err), -1);
    free(err);
    err = NULL;
    /* a blob is refused under a wrong digest, stored under the right one */
    const char *bad = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_int_equal(rn_img_blob_put_mem(st, "hi", 2, bad, &err), -1);
    assert_non_null(strstr(err, "digest mismatch"));
    free(err);
    err = NULL;
    char *d = rn_img_sha256_mem("hi", 2);
    assert_string_equal(d,
                        "sha256:8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4");
    assert_int_equal(rn_img_blob_put_mem(st, "hi", 2, d, &err), 0);
    assert_true(rn_img_blob_exists(st, d));
    rn_prune_stats ps;
    assert_int_equal(rn_image_prune(st, &ps, &err), 0);
    assert_int_equal(ps.blobs, 1); /* nothing refers to it */
    assert_false(rn_img_blob_exists(st, d));
    free(d);
    assert_string_equal(st->xattr_ns, geteuid() == 0 ? "trusted" : "user");
    rn_image_store_close(st);
    rn_img_rm_rf(tmpl);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_default_root),
        cmocka_unit_test(test_empty_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
