/* Image references, normalized as docker does (distribution/reference). */
#include "common/arena.h"
#include "sandbox/image_int.h"

#include <stdlib.h>
#include <string.h>

void rn_img_ref_free(rn_img_ref *r) {
    free(r->domain);
    free(r->repo);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof *r);
}

static bool repo_ok(const char *s) {
    if (!*s || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
            return false;
    return true;
}

static bool tag_ok(const char *s) {
    size_t n = strlen(s);
    if (!n || n > 128 || *s == '.' || *s == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._-", *p)))
            return false;
    return true;
}

int rn_img_ref_parse(const char *s, rn_img_ref *out, char **err) {
    memset(out, 0, sizeof *out);
    char *work = rn_xstrdup(s);
    char *at = strchr(work, '@');
    if (at) {
        *at = 0;
        if (!rn_img_digest_valid(at + 1)) {
            rn_img_seterr(err, "invalid reference '%s': bad digest", s);
            goto bad;
        }
        out->digest = rn_xstrdup(at + 1);
    }
    char *name = work;
    char *slash = strchr(name, '/');
    if (slash &&
        (memchr(name, '.', (size_t)(slash - name)) || memchr(name, ':', (size_t)(slash - name)) ||
         (slash - name == 9 && !strncmp(name, "localhost", 9)))) {
        out->domain = rn_xstrndup(name, (size_t)(slash - name));
        name = slash + 1;
    } else {
        out->domain = rn_xstrdup("docker.io");
    }
    if (!strcmp(out->domain, "index.docker.io") || !strcmp(out->domain, "registry-1.docker.io")) {
        free(out->domain);
        out->domain = rn_xstrdup("docker.io");
    }
    char *last = strrchr(name, '/');
    char *colon = strrchr(last ? last : name, ':');
    if (colon) {
        *colon = 0;
        if (!tag_ok(colon + 1)) {
            rn_img_seterr(err, "invalid reference '%s': bad tag", s);
            goto bad;
        }
        if (!out->digest)
            out->tag = rn_xstrdup(colon + 1);
    } else if (!out->digest) {
        out->tag = rn_xstrdup("latest");
    }
    if (!repo_ok(name)) {
        rn_img_seterr(err, "invalid reference '%s': repository names are lowercase [a-z0-9._-/]",
                      s);
        goto bad;
    }
    if (!strcmp(out->domain, "docker.io") && !strchr(name, '/'))
        out->repo = rn_xprintf("library/%s", name);
    else
        out->repo = rn_xstrdup(name);
    free(work);
    return 0;
bad:
    free(work);
    rn_img_ref_free(out);
    return -1;
}

char *rn_img_ref_string(const rn_img_ref *r) {
    if (r->digest)
        return rn_xprintf("%s/%s@%s", r->domain, r->repo, r->digest);
    return rn_xprintf("%s/%s:%s", r->domain, r->repo, r->tag);
}

char *rn_image_ref_normalize(const char *ref, char **err) {
    rn_img_ref r;
    if (rn_img_ref_parse(ref, &r, err))
        return NULL;
    char *s = rn_img_ref_string(&r);
    rn_img_ref_free(&r);
    return s;
}

bool rn_img_platform_match(json_t *desc, bool missing_ok) {
    json_t *p = json_object_get(desc, "platform");
    if (!p)
        return missing_ok;
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    return os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64");
}
