#include "common/arena.h"
#include "common/output.h"
#include "common/strbuf.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static void assert_masked(rn_mask *m, const char *in, const char *want) {
    char *got = rn_mask_str(m, in);
    if (strcmp(got, want) != 0)
        fail_msg("mask(\"%s\") = \"%s\", want \"%s\"", in, got, want);
    free(got);
}

static void single_secret(void **state) {
    (void)state;
    rn_mask *m = rn_mask_new();
    assert_masked(m, "nothing registered", "nothing registered");
    assert_true(rn_mask_add(m, "hunter2"));
    assert_masked(m, "my password is hunter2!", "my password is ***!");
    assert_masked(m, "hunter2hunter2 and hunter2", "*** and ***");
    assert_masked(m, "hunter", "hunter");
    assert_masked(m, "", "");
    assert_masked(NULL, "hunter2", "hunter2");
    /* Re-adding changes nothing; blank values are refused. */
    size_t n = rn_mask_count(m);
    assert_true(rn_mask_add(m, "hunter2"));
    assert_int_equal(rn_mask_count(m), n);
    assert_false(rn_mask_add(m, ""));
    assert_false(rn_mask_add(m, " \t\n "));
    assert_int_equal(rn_mask_count(m), n);
    /* Bytes after a NUL-free binary-ish region and short secrets. */
    rn_mask_add_literal(m, "x", 1);
    assert_masked(m, "axbxc", "a***b***c");
    rn_mask_free(m);
}

static void overlapping_secrets_never_leak(void **state) {
    (void)state;
    rn_mask *m = rn_mask_new();
    rn_mask_add_literal(m, "secret", 6);
    rn_mask_add_literal(m, "secret-long-value", 17);
    /* The shorter secret must not leave "-long-value" visible. */
    assert_masked(m, "[secret-long-value]", "[***]");
    assert_masked(m, "[secret-long-valu]", "[***-long-valu]");
    rn_mask_add_literal(m, "abcdef", 6);
    rn_mask_add_literal(m, "defghi", 6);
    assert_masked(m, "xxabcdefghiyy", "xx***yy"); /* partial overlap */
    assert_masked(m, "abcdefdefghi", "***");      /* touching */
    assert_masked(m, "abcdeX defghi", "abcdeX ***");
    rn_mask_add_literal(m, "cdefg", 5); /* inside the union of two others */
    assert_masked(m, "1abcdefghi2", "1***2");
    rn_mask_free(m);
}

static void multi_line_secret(void **state) {
    (void)state;
    rn_mask *m = rn_mask_new();
    assert_true(rn_mask_add(m, "first-line\r\n  second-line  \nthird-line\n"));
    assert_masked(m, "first-line\r\n  second-line  \nthird-line\n", "***");
    assert_masked(m, "first-line\r\n  second-line  \nthird-line", "***"); /* trimmed */
    /* Each line on its own, as line-by-line output shows them. */
    assert_masked(m, "got first-line ok", "got *** ok");
    assert_masked(m, "  second-line", "  ***");
    assert_masked(m, "third-line.", "***.");
    assert_masked(m, "second line", "second line");
    rn_mask_free(m);

    m = rn_mask_new();
    assert_true(rn_mask_add(m, "  padded  "));
    assert_masked(m, "xpaddedx", "x***x");
    rn_mask_free(m);
}

static void encodings_are_masked(void **state) {
    (void)state;
    rn_mask *m = rn_mask_new();
    rn_mask_add(m, "pa\"ss\\wo\nrd");
    assert_masked(m, "{\"p\":\"pa\\\"ss\\\\wo\\nrd\"}", "{\"p\":\"***\"}"); /* JSON */
    rn_mask_free(m);

    m = rn_mask_new();
    rn_mask_add(m, "p@ss w/rd~");
    assert_masked(m, "https://h/?q=p%40ss%20w%2Frd~&x=1", "https://h/?q=***&x=1"); /* URL */
    rn_mask_free(m);

    m = rn_mask_new();
    rn_mask_add(m, "it's <a> & \"b\"");
    assert_masked(m, "echo 'it''s <a> & \"b\"'", "echo '***'"); /* expression string */
    assert_masked(m, "<v>it&apos;s &lt;a&gt; &amp; &quot;b&quot;</v>", "<v>***</v>"); /* XML */
    rn_mask_free(m);

    /* Base64 at every byte alignment, padded or not; expected values from actions/runner's
     * HostContextL0 tests. */
    m = rn_mask_new();
    rn_mask_add(m, "Password123!");
    assert_masked(m, "UGFzc3dvcmQxMjMh", "***");
    assert_masked(m, "OlBhc3N3b3JkMTIzITo=", "OlBh***To=");
    assert_masked(m, "YTpQYXNzd29yZDEyMyE6YQ==", "YTpQ***E6YQ==");
    assert_masked(m, "YWJjOlBhc3N3b3JkMTIzITphYmM=", "YWJjOlBh***TphYmM=");
    /* URL-safe alphabet: base64url("??Password123!") */
    rn_mask_free(m);
    m = rn_mask_new();
    rn_mask_add(m, "\xfb\xff secret \xfe\xff");
    /* base64("\xfb\xff secret \xfe\xff") = "+/8gc2VjcmV0IP7/", url-safe "-_8gc2VjcmV0IP7_" */
    assert_masked(m, "x+/8gc2VjcmV0IP7/x", "x***x");
    assert_masked(m, "x-_8gc2VjcmV0IP7_x", "x***x");
    rn_mask_free(m);

    /* Short values: the value itself is masked, but not 1..3 character encodings of it. */
    m = rn_mask_new();
    rn_mask_add(m, "abc");
    assert_masked(m, "YWJj abc Yw YmM", "*** *** Yw YmM");
    rn_mask_free(m);
}

/* Reference masker: mark every byte covered by any occurrence, then collapse each run of
 * covered-or-touching occurrences into "***". Quadratic, obviously right. */
static char *naive_mask(char **secrets, size_t ns, const char *s) {
    size_t n = strlen(s);
    long *end_at = calloc(n + 1, sizeof(long)); /* furthest end of a match starting at i */
    for (size_t k = 0; k < ns; k++) {
        size_t l = strlen(secrets[k]);
        for (size_t i = 0; i + l <= n; i++)
            if (memcmp(s + i, secrets[k], l) == 0 && (long)(i + l) > end_at[i])
                end_at[i] = (long)(i + l);
    }
    rn_sb out = RN_SB_INIT;
    size_t i = 0;
    while (i < n) {
        if (!end_at[i]) {
            rn_sb_putc(&out, s[i++]);
            continue;
        }
        size_t end = (size_t)end_at[i];
        for (size_t j = i + 1; j <= end && j < n; j++)
            if (end_at[j] && (size_t)end_at[j] > end)
                end = (size_t)end_at[j];
        rn_sb_puts(&out, "***");
        i = end;
    }
    free(end_at);
    rn_sb_append(&out, "", 0);
    return rn_sb_take(&out);
}

static void many_secrets_match_reference(void **state) {
    (void)state;
    srand(12345);
    enum { NS = 3000 };
    char *secrets[NS];
    rn_mask *m = rn_mask_new();
    const char alpha[] = "abcdefgh";
    for (int k = 0; k < NS; k++) {
        size_t l = 1 + (size_t)(k % 5 == 0 ? rand() % 3 : rand() % 24); /* many share prefixes */
        if (k < 20)
            l = 1 + (size_t)(k % 3); /* a few very short ones */
        secrets[k] = rn_xmalloc(l + 1);
        for (size_t i = 0; i < l; i++)
            secrets[k][i] = alpha[rand() % (k < 20 ? 8 : 4) + (k < 20 ? 0 : 4)];
        secrets[k][l] = 0;
        rn_mask_add_literal(m, secrets[k], l);
    }
    for (int round = 0; round < 200; round++) {
        char text[300];
        size_t n = (size_t)(rand() % 299);
        for (size_t i = 0; i < n; i++)
            text[i] = "abcdefghxyz"[rand() % 11];
        text[n] = 0;
        char *want = naive_mask(secrets, NS, text);
        assert_masked(m, text, want);
        free(want);
    }
    for (int k = 0; k < NS; k++)
        free(secrets[k]);
    rn_mask_free(m);
}

static char *read_stream(FILE *f) {
    fflush(f);
    rewind(f);
    rn_sb sb = RN_SB_INIT;
    char buf[4096];
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        rn_sb_append(&sb, buf, r);
    rn_sb_append(&sb, "", 0);
    return rn_sb_take(&sb);
}

static void line_writer_masks_secret_split_across_writes(void **state) {
    (void)state;
    rn_mask *m = rn_mask_new();
    rn_mask_add(m, "token-secret");
    FILE *f = tmpfile();
    rn_out *o = rn_out_new_file(f, m);
    rn_line_writer *w = rn_line_writer_new(o, "[build] ");
    rn_line_writer_write(w, "a tok", 5);
    rn_line_writer_write(w, "en-sec", 6);
    rn_line_writer_write(w, "ret b\nsecond ", 13);
    char *got = read_stream(f);
    assert_string_equal(got, "[build] a *** b\n"); /* the partial line waits */
    free(got);
    rn_line_writer_write(w, "token-", 6);
    rn_line_writer_write(w, "secret", 6);
    rn_line_writer_free(w); /* flushes the partial line */
    got = read_stream(f);
    assert_string_equal(got, "[build] a *** b\n[build] second ***\n");
    free(got);

    /* Secrets registered later apply to later lines (::add-mask:: mid-step). */
    rn_out_line(o, NULL, "late-secret before", 18);
    rn_mask_add(m, "late-secret");
    rn_out_text(o, "> ", "late-secret after\nand again late-secret", 39);
    rn_out_printf(o, NULL, "%s=%d", "late-secret", 5);
    got = read_stream(f);
    assert_string_equal(got, "[build] a *** b\n[build] second ***\nlate-secret before\n"
                             "> *** after\n> and again ***\n***=5\n");
    free(got);
    rn_out_free(o);
    fclose(f);
    rn_mask_free(m);
}

static void long_line_is_cut(void **state) {
    (void)state;
    FILE *f = tmpfile();
    rn_out *o = rn_out_new_file(f, NULL);
    rn_line_writer *w = rn_line_writer_new(o, NULL);
    size_t n = RN_OUT_MAX_LINE + 10;
    char *big = rn_xmalloc(n);
    memset(big, 'z', n);
    rn_line_writer_write(w, big, n);
    rn_line_writer_free(w);
    char *got = read_stream(f);
    assert_int_equal(strlen(got), n + 2);
    assert_int_equal(got[RN_OUT_MAX_LINE], '\n');
    assert_int_equal(got[n + 1], '\n');
    free(got);
    free(big);
    rn_out_free(o);
    fclose(f);
}

static void fd_destination(void **state) {
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    rn_mask *m = rn_mask_new();
    rn_mask_add(m, "s3cr3t");
    rn_out *o = rn_out_new_fd(p[1], m);
    rn_out_text(o, "| ", "one s3cr3t\ntwo", 14);
    close(p[1]);
    char buf[64];
    ssize_t r = read(p[0], buf, sizeof buf - 1);
    assert_true(r > 0);
    buf[r] = 0;
    assert_string_equal(buf, "| one ***\n| two\n");
    close(p[0]);
    rn_out_free(o);
    rn_mask_free(m);
}

typedef struct job {
    int id;
    rn_out *out;
    rn_mask *mask;
} job;

enum { JOBS = 6, LINES = 3000 };

static void *job_main(void *arg) {
    job *j = arg;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "[job%d] ", j->id);
    rn_line_writer *w = rn_line_writer_new(j->out, prefix);
    rn_sb text = RN_SB_INIT;
    for (int i = 0; i < LINES; i++)
        rn_sb_printf(&text, "job%d line %d TOPSECRET-%d end\n", j->id, i, j->id % 2);
    /* Arbitrary chunking, as pipes deliver it. */
    unsigned seed = (unsigned)j->id;
    size_t off = 0;
    while (off < text.len) {
        size_t chunk = 1 + (size_t)(rand_r(&seed) % 97);
        if (chunk > text.len - off)
            chunk = text.len - off;
        rn_line_writer_write(w, text.data + off, chunk);
        off += chunk;
    }
    rn_line_writer_free(w);
    rn_sb_free(&text);
    return NULL;
}

static void *adder_main(void *arg) {
    job *j = arg;
    for (int i = 0; i < 500; i++) {
        char s[32];
        snprintf(s, sizeof s, "unrelated-%d-value", i);
        rn_mask_add(j->mask, s);
    }
    return NULL;
}

static void concurrent_writers_never_interleave(void **state) {
    (void)state;
    rn_mask *m = rn_mask_new();
    rn_mask_add(m, "TOPSECRET-0");
    rn_mask_add(m, "TOPSECRET-1");
    FILE *f = tmpfile();
    rn_out *o = rn_out_new_file(f, m);
    pthread_t t[JOBS + 1];
    job jobs[JOBS + 1];
    for (int i = 0; i <= JOBS; i++) {
        jobs[i] = (job){i, o, m};
        pthread_create(&t[i], NULL, i == JOBS ? adder_main : job_main, &jobs[i]);
    }
    for (int i = 0; i <= JOBS; i++)
        pthread_join(t[i], NULL);
    char *got = read_stream(f);
    int next[JOBS] = {0};
    int lines = 0;
    for (char *save, *line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int id, n;
        char tail[64];
        if (sscanf(line, "[job%d] job%*d line %d %63[^\n]", &id, &n, tail) != 3 || id < 0 ||
            id >= JOBS)
            fail_msg("garbled line: %s", line);
        char want[96];
        snprintf(want, sizeof want, "[job%d] job%d line %d *** end", id, id, next[id]);
        assert_string_equal(line, want);
        next[id]++;
        lines++;
    }
    assert_int_equal(lines, JOBS * LINES);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(next[i], LINES);
    assert_int_equal(rn_mask_count(m) >= 502, 1);
    free(got);
    rn_out_free(o);
    fclose(f);
    rn_mask_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_secret),
        cmocka_unit_test(overlapping_secrets_never_leak),
        cmocka_unit_test(multi_line_secret),
        cmocka_unit_test(encodings_are_masked),
        cmocka_unit_test(many_secrets_match_reference),
        cmocka_unit_test(line_writer_masks_secret_split_across_writes),
        cmocka_unit_test(long_line_is_cut),
        cmocka_unit_test(fd_destination),
        cmocka_unit_test(concurrent_writers_never_interleave),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
