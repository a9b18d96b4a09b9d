/* Layer unpacking with libarchive: secure extraction, OCI whiteouts converted to overlayfs form
 * (see the contract in sandbox/image.h). */
#include "common/arena.h"
#include "sandbox/image_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Strips "./" prefixes and trailing slashes; refuses absolute paths and ".." components.
 * Returns a heap copy ("" for the layer root) or NULL. */
static char *clean_path(const char *p) {
    if (!p || p[0] == '/')
        return NULL;
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    while (*p == '/')
        p++;
    if (!strcmp(p, "."))
        p = "";
    char *c = rn_xstrdup(p);
    size_t n = strlen(c);
    while (n && c[n - 1] == '/')
        c[--n] = 0;
    for (char *s = c; *s;) {
        char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            free(c);
            return NULL;
        }
        if (!e)
            break;
        s = e + 1;
    }
    return c;
}

/* Creates the directories of rel under root without following any symlink, so a whiteout can
 * never land outside the layer. */
static int safe_dirs(const char *root, const char *rel) {
    char *p = rn_xprintf("%s/%s", root, rel);
    size_t rl = strlen(root);
    for (char *s = p + rl + 1;; s++) {
        bool end = !*s;
        if (*s != '/' && !end)
            continue;
        char save = *s;
        *s = 0;
        struct stat sb;
        if (lstat(p, &sb)) {
            if (errno != ENOENT || mkdir(p, 0755)) {
                free(p);
                return -1;
            }
        } else if (!S_ISDIR(sb.st_mode)) {
            free(p);
            errno = ENOTDIR;
            return -1;
        }
        *s = save;
        if (end)
            break;
    }
    free(p);
    return 0;
}

typedef struct marker {
    char *parent, *name; /* name NULL: opaque dir */
} marker;

static int copy_data(struct archive *in, struct archive *out) {
    const void *buf;
    size_t size;
    la_int64_t off;
    for (;;) {
        int r = archive_read_data_block(in, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            return ARCHIVE_OK;
        if (r < ARCHIVE_WARN)
            return r;
        if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
            return ARCHIVE_FATAL;
    }
}

/* Extracts archive into dir (an existing, symlink-free path). whiteouts_ns: NULL to keep .wh.*
 * entries as files, else the xattr namespace for overlay markers. */
static int extract(const char *archive, const char *dir, const char *whiteouts_ns, const char *what,
                   char **err) {
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        rn_img_seterr(err, "%s: %s", dir, strerror(errno));
        return -1;
    }
    bool root = geteuid() == 0;
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    struct archive *w = archive_write_disk_new();
    /* Paths are rewritten to absolute ones under `real` after our own checks for absolute
     * paths and "..", so SECURE_NOABSOLUTEPATHS cannot be used; libarchive still refuses ".."
     * and any extraction through a symlink. */
    int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS;
    if (root)
        flags |= ARCHIVE_EXTRACT_OWNER;
    archive_write_disk_set_options(w, flags);
    marker *marks = NULL;
    size_t nmarks = 0, capmarks = 0;
    int rc = -1;
    if (archive_read_open_filename(a, archive, 1 << 16) != ARCHIVE_OK) {
        rn_img_seterr(err, "%s: %s", what, archive_error_string(a));
        goto out;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *orig = archive_entry_pathname(e);
        char *rel = clean_path(orig);
        if (!rel) {
            rn_img_seterr(err, "%s: unsafe path '%s' refused (absolute or '..')", what,
                          orig ? orig : "");
            goto out;
        }
        const char *hl = archive_entry_hardlink(e);
        char *hrel = NULL;
        if (hl && !(hrel = clean_path(hl))) {
            rn_img_seterr(err, "%s: unsafe hard link target '%s' refused", what, hl);
            free(rel);
            goto out;
        }
        const char *base = strrchr(rel, '/');
        base = base ? base + 1 : rel;
        if (whiteouts_ns && !strncmp(base, ".wh.", 4)) {
            if (nmarks == capmarks) {
                capmarks = capmarks ? capmarks * 2 : 16;
                marks = rn_xrealloc(marks, capmarks * sizeof *marks);
            }
            marker *m = &marks[nmarks++];
            m->parent = rn_xstrndup(rel, (size_t)(base - rel));
            m->name = !strcmp(base, ".wh..wh..opq") ? NULL : rn_xstrdup(base + 4);
            if (m->name && (!*m->name || !strcmp(m->name, ".") || !strcmp(m->name, ".."))) {
                rn_img_seterr(err, "%s: bad whiteout '%s'", what, orig);
                free(rel);
                free(hrel);
                goto out;
            }
            free(rel);
            free(hrel);
            continue;
        }
        mode_t type = archive_entry_filetype(e);
        if (!root && (type == AE_IFCHR || type == AE_IFBLK)) {
            /* Unprivileged users cannot make device nodes; containers get a fresh /dev. */
            free(rel);
            free(hrel);
            continue;
        }
        char *abs = *rel ? rn_xprintf("%s/%s", real, rel) : rn_xstrdup(real);
        archive_entry_set_pathname(e, abs);
        if (hrel) {
            char *habs = rn_xprintf("%s/%s", real, hrel);
            archive_entry_set_hardlink(e, habs);
            free(habs);
        }
        free(abs);
        free(hrel);
        r = archive_write_header(w, e);
        if (r < ARCHIVE_WARN) {
            rn_img_seterr(err, "%s: '%s': %s", what, rel, archive_error_string(w));
            free(rel);
            goto out;
        }
        if (archive_entry_size(e) > 0 && copy_data(a, w) != ARCHIVE_OK) {
            rn_img_seterr(err, "%s: '%s': %s", what, rel, archive_error_string(a));
            free(rel);
            goto out;
        }
        free(rel);
        if (archive_write_finish_entry(w) < ARCHIVE_WARN) {
            rn_img_seterr(err, "%s: %s", what, archive_error_string(w));
            goto out;
        }
    }
    if (r != ARCHIVE_EOF) {
        rn_img_seterr(err, "%s: %s", what, archive_error_string(a));
        goto out;
    }
    /* Markers go in after every entry (tar order is free) and before archive_write_close,
     * which restores directory modes that might forbid creating them. */
    for (size_t i = 0; i < nmarks; i++) {
        marker *m = &marks[i];
        if (*m->parent && safe_dirs(real, m->parent)) {
            rn_img_seterr(err, "%s: whiteout in '%s': %s", what, m->parent, strerror(errno));
            goto out;
        }
        char *pdir = rn_xprintf("%s/%s", real, m->parent);
        if (!m->name) {
            char *key = rn_xprintf("%s.overlay.opaque", whiteouts_ns);
            int sr = lsetxattr(pdir, key, "y", 1, 0);
            int e2 = errno;
            free(key);
            if (sr) {
                rn_img_seterr(err, "%s: opaque dir '%s': %s", what, m->parent, strerror(e2));
                free(pdir);
                goto out;
            }
        } else {
            char *wp = rn_xprintf("%s%s", pdir, m->name);
            rn_img_rm_rf(wp);
            if (mknod(wp, S_IFCHR | 0, makedev(0, 0))) {
                rn_img_seterr(err, "%s: whiteout '%s%s': %s", what, m->parent, m->name,
                              strerror(errno));
                free(wp);
                free(pdir);
                goto out;
            }
            free(wp);
        }
        free(pdir);
    }
    rc = 0;
out:
    if (archive_write_close(w) != ARCHIVE_OK && rc == 0) {
        rn_img_seterr(err, "%s: %s", what, archive_error_string(w));
        rc = -1;
    }
    archive_write_free(w);
    archive_read_free(a);
    for (size_t i = 0; i < nmarks; i++) {
        free(marks[i].parent);
        free(marks[i].name);
    }
    free(marks);
    return rc;
}

int rn_img_extract_plain(const char *archive, const char *dir, char **err) {
    return extract(archive, dir, NULL, archive, err);
}

int rn_img_unpack_layer(rn_image_store *st, const char *digest, char **err) {
    char *dst = rn_img_layer_path(st, digest);
    if (access(dst, F_OK) == 0) {
        free(dst);
        return 0;
    }
    int lk = rn_img_blob_lock(st, digest);
    int rc = 0;
    if (access(dst, F_OK) == 0)
        goto done;
    char *blob = rn_img_blob_path(st, digest);
    if (access(blob, R_OK)) {
        rn_img_seterr(err, "layer blob %s is missing", digest);
        free(blob);
        rc = -1;
        goto done;
    }
    char *work = rn_img_tmp_path(st, "unpack");
    char *what = rn_xprintf("layer %s", digest);
    if (mkdir(work, 0755)) {
        rn_img_seterr(err, "%s: %s", work, strerror(errno));
        rc = -1;
    } else if (extract(blob, work, st->xattr_ns, what, err)) {
        rc = -1;
    } else if (rename(work, dst) && access(dst, F_OK)) {
        rn_img_seterr(err, "cannot publish %s: %s", dst, strerror(errno));
        rc = -1;
    }
    rn_img_rm_rf(work); /* no-op once renamed */
    free(what);
    free(work);
    free(blob);
done:
    if (lk >= 0)
        close(lk);
    free(dst);
    return rc;
}
