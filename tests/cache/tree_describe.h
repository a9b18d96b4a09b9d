/* Test helper shared by the cache store tests: a listing of a tree that two trees compare
 * equal by. Include after <cmocka.h>. */
#ifndef RN_TESTS_TREE_DESCRIBE_H
#define RN_TESTS_TREE_DESCRIBE_H

#include "common/arena.h"
#include "common/strbuf.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends per path, in byte order: type, mode, size, the head of the content's sha256 or the
 * link target, the file's mtime (and the folder's when dir_mtime). */
static void describe_tree(const char *base, const char *rel, bool dir_mtime, rn_sb *out) {
    char *p = *rel ? rn_xprintf("%s/%s", base, rel) : rn_xstrdup(base);
    struct stat s;
    assert_int_equal(lstat(p, &s), 0);
    if (S_ISLNK(s.st_mode)) {
        char t[512];
        ssize_t n = readlink(p, t, sizeof t - 1);
        t[n < 0 ? 0 : n] = 0;
        rn_sb_printf(out, "L %s -> %s\n", rel, t);
    } else if (S_ISDIR(s.st_mode)) {
        rn_sb_printf(out, "D %s %o", rel, (unsigned)(s.st_mode & 07777));
        if (dir_mtime)
            rn_sb_printf(out, " %ld", (long)s.st_mtime);
        rn_sb_puts(out, "\n");
        struct dirent **names;
        int n = scandir(p, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
                char *r = *rel ? rn_xprintf("%s/%s", rel, names[i]->d_name)
                               : rn_xstrdup(names[i]->d_name);
                describe_tree(base, r, dir_mtime, out);
                free(r);
            }
            free(names[i]);
        }
        free(names);
    } else {
        size_t len;
        char *data = rn_read_file(p, &len);
        unsigned char d[32];
        unsigned int dl;
        EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL);
        free(data);
        rn_sb_printf(out, "F %s %o %zu %02x%02x%02x%02x %ld\n", rel, (unsigned)(s.st_mode & 07777),
                     len, d[0], d[1], d[2], d[3], (long)s.st_mtime);
    }
    free(p);
}

#endif
