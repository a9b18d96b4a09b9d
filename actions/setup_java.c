/* Built-in actions/setup-java (see setup_java.h). */
#include "actions/setup_java.h"

#include "actions/cache_action.h"
#include "actions/hashfiles.h"
#include "common/arena.h"
#include "common/strbuf.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct jdk {
    char *home, *real, *version;
    long parts[4];
} jdk;

static void parse_version(const char *v, long parts[4]) {
    memset(parts, 0, 4 * sizeof *parts);
    if (!strncmp(v, "1.", 2) && v[2] && v[2] != '0')
        v += 2; /* 1.8.0_392 is Java 8 */
    for (int i = 0; i < 4 && *v; i++) {
        parts[i] = strtol(v, (char **)&v, 10);
        while (*v && (*v < '0' || *v > '9'))
            v++;
    }
}

/* JAVA_VERSION="17.0.9" from <home>/release, or NULL. */
static char *release_version(const char *home) {
    char *p = rn_xprintf("%s/release", home);
    FILE *f = fopen(p, "r");
    free(p);
    if (!f)
        return NULL;
    char line[512];
    char *r = NULL;
    while (!r && fgets(line, sizeof line, f)) {
        if (strncmp(line, "JAVA_VERSION=", 13))
            continue;
        char *v = line + 13;
        if (*v == '"')
            v++;
        size_t n = strcspn(v, "\"\r\n");
        r = rn_xstrndup(v, n);
    }
    fclose(f);
    return r;
}

static void consider(jdk **v, size_t *n, const char *home) {
    char *java = rn_xprintf("%s/bin/java", home);
    bool ok = access(java, X_OK) == 0;
    free(java);
    if (!ok)
        return;
    char *real = realpath(home, NULL);
    if (!real)
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i].real, real)) {
            /* the same JDK by another name: name it by its real folder, not a link to it */
            if (!strcmp(home, real)) {
                free((*v)[i].home);
                (*v)[i].home = rn_xstrdup(home);
            }
            free(real);
            return;
        }
    char *ver = release_version(home);
    if (!ver) {
        free(real);
        return;
    }
    *v = rn_xrealloc(*v, (*n + 1) * sizeof **v);
    jdk *j = &(*v)[(*n)++];
    j->home = rn_xstrdup(home);
    j->real = real;
    j->version = ver;
    parse_version(ver, j->parts);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted child names of dir. */
static char **children(const char *dir, size_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        v = rn_xrealloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = rn_xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_name);
    return v;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void scan_root(jdk **v, size_t *n, const char *root) {
    size_t cn;
    char **c = children(root, &cn);
    for (size_t i = 0; i < cn; i++) {
        char *p = rn_xprintf("%s/%s", root, c[i]);
        consider(v, n, p);
        if (!strncmp(c[i], "Java_", 5)) { /* tool cache: Java_<dist>_jdk/<version>/x64 */
            size_t vn;
            char **vs = children(p, &vn);
            for (size_t k = 0; k < vn; k++) {
                char *x = rn_xprintf("%s/%s/x64", p, vs[k]);
                consider(v, n, x);
                free(x);
            }
            free_names(vs, vn);
        }
        free(p);
    }
    free_names(c, cn);
}

static int cmp_parts(const long *a, const long *b) {
    for (int i = 0; i < 4; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static bool matches(const char *spec, const long parts[4]) {
    long want[4];
    int nwant = 0;
    const char *s = spec;
    if (!strncmp(s, "1.", 2) && s[2] && s[2] != '0')
        s += 2;
    while (*s && nwant < 4) {
        if (*s == 'x' || *s == 'X' || *s == '*')
            break;
        if (*s < '0' || *s > '9')
            return false;
        want[nwant++] = strtol(s, (char **)&s, 10);
        if (*s == '.' || *s == '+' || *s == '-')
            s++;
        else if (*s)
            return false;
    }
    if (!nwant)
        return false;
    for (int i = 0; i < nwant; i++)
        if (want[i] != parts[i])
            return false;
    return true;
}

int rn_setup_java_find(const char *const *roots, size_t nroots, const char *spec, char **home,
                       char **version, char **err) {
    jdk *v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < nroots; i++)
        scan_root(&v, &n, roots[i]);
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!matches(spec, v[i].parts))
            continue;
        if (best < 0 || cmp_parts(v[i].parts, v[best].parts) > 0)
            best = (int)i;
    }
    int rc = 0;
    if (best >= 0) {
        *home = rn_xstrdup(v[best].home);
        *version = rn_xstrdup(v[best].version);
    } else {
        rn_sb sb = RN_SB_INIT;
        rn_sb_printf(&sb, "no installed JDK matches java-version '%s' (found: ", spec);
        for (size_t i = 0; i < n; i++)
            rn_sb_printf(&sb, "%s%ld in %s", i ? ", " : "", v[i].parts[0], v[i].home);
        if (!n) {
            rn_sb_puts(&sb, "none in ");
            for (size_t i = 0; i < nroots; i++)
                rn_sb_printf(&sb, "%s%s", i ? ", " : "", roots[i]);
        }
        rn_sb_putc(&sb, ')');
        *err = rn_sb_take(&sb);
        rc = -1;
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].home);
        free(v[i].real);
        free(v[i].version);
    }
    free(v);
    return rc;
}

/* setup-java's package managers (src/cache.ts). */
static const struct {
    const char *id;
    const char *paths[3]; /* under $HOME */
    const char *pattern;
} managers[] = {
    {"maven", {".m2/repository"}, "**/pom.xml"},
    {"gradle",
     {".gradle/caches", ".gradle/wrapper"},
     "**/*.gradle*\n**/gradle-wrapper.properties\nbuildSrc/**/Versions.kt\n"
     "buildSrc/**/Dependencies.kt\ngradle/*.versions.toml\n**/versions.properties"},
    {"sbt",
     {".ivy2/cache", ".sbt", ".cache/coursier"},
     "**/*.sbt\n**/project/build.properties\n**/project/**.scala\n**/project/**.sbt"},
};

static const char *input(json_t *with, const char *name) {
    const char *v = json_string_value(json_object_get(with, name));
    return v ? v : "";
}

static rn_step_status setup_cache(rn_job *j, const char *id, const char *deps, json_t *outputs) {
    size_t m = 0;
    while (m < sizeof managers / sizeof *managers && strcmp(managers[m].id, id))
        m++;
    if (m == sizeof managers / sizeof *managers) {
        rn_job_log(j, RN_LOG_ERROR, "unknown package manager specified: %s", id);
        return RN_STEP_STATUS_FAILURE;
    }
    const char *pattern = *deps ? deps : managers[m].pattern;
    char *err = NULL;
    const char *pats[] = {pattern};
    char *hash = rn_hashfiles(j->paths.workspace, pats, 1, true, &err);
    if (!hash || !*hash) {
        rn_sb sb = RN_SB_INIT;
        for (const char *p = managers[m].pattern; *p; p++)
            rn_sb_putc(&sb, *p == '\n' ? ',' : *p);
        rn_job_log(j, RN_LOG_ERROR,
                   "No file in %s matched to [%s], make sure you have checked out the target "
                   "repository",
                   j->paths.workspace, hash ? rn_sb_str(&sb) : err);
        rn_sb_free(&sb);
        free(hash);
        free(err);
        return RN_STEP_STATUS_FAILURE;
    }
    /* the job's HOME as it sees it (/github/home in an image container), as setup-java's
     * os.homedir(): the cache version hashes these paths */
    const char *home = json_string_value(json_object_get(j->base_env, "HOME"));
    if (!home)
        home = getenv("HOME");
    const char *paths[3];
    char *owned[3] = {0};
    size_t np = 0;
    for (; np < 3 && managers[m].paths[np]; np++)
        paths[np] = owned[np] = rn_xprintf("%s/%s", home ? home : "", managers[m].paths[np]);
    const char *os =
        json_string_value(json_object_get(json_object_get(j->contexts, "runner"), "os"));
    char *key = rn_xprintf("setup-java-%s-x64-%s-%s", os ? os : "Linux", id, hash);
    rn_job_log(j, RN_LOG_DEBUG, "primary key is %s", key);
    char *matched = NULL;
    int r = rn_cache_restore_for(j, "setup-java", paths, np, key, NULL, 0, true, &matched);
    if (r == 1)
        rn_job_log(j, RN_LOG_INFO, "Cache restored from key: %s", matched);
    else
        rn_job_log(j, RN_LOG_INFO, "%s cache is not found", id);
    json_object_set_new(outputs, "cache-hit", json_string(r == 1 ? "true" : "false"));
    free(matched);
    free(key);
    free(hash);
    for (size_t i = 0; i < np; i++)
        free(owned[i]);
    return RN_STEP_STATUS_SUCCESS;
}

rn_step_status rn_setup_java_action(rn_job *j, const char *uses, json_t *with, json_t *outputs) {
    (void)uses;
    const char *spec = input(with, "java-version");
    const char *dist = input(with, "distribution");
    if (!*spec && *input(with, "java-version-file")) {
        rn_job_log(j, RN_LOG_ERROR, "setup-java: java-version-file is not supported by runnel yet");
        return RN_STEP_STATUS_FAILURE;
    }
    if (!*spec) {
        rn_job_log(j, RN_LOG_ERROR, "java-version or java-version-file input expected");
        return RN_STEP_STATUS_FAILURE;
    }
    if (!*dist) {
        rn_job_log(j, RN_LOG_ERROR, "Input required and not supplied: distribution");
        return RN_STEP_STATUS_FAILURE;
    }
    /* roots: $RUNNEL_JVM_DIRS (or /usr/lib/jvm), then the tool cache. An image container sees
     * neither the host's JDKs nor a path to them: there only the tool cache, which every job
     * container shares at its host path (GitHub's setup-java installs into it too). */
    bool image = j->prog_roots != NULL;
    const char *env = getenv("RUNNEL_JVM_DIRS");
    char *dirs = rn_xstrdup(env && *env ? env : "/usr/lib/jvm");
    const char *roots[17];
    size_t nr = 0;
    char *save = NULL;
    for (char *t = strtok_r(dirs, ":", &save); t && nr < 16 && !image;
         t = strtok_r(NULL, ":", &save))
        roots[nr++] = t;
    if (j->paths.tool_cache && *j->paths.tool_cache)
        roots[nr++] = j->paths.tool_cache;
    char *home = NULL, *version = NULL, *err = NULL;
    char *spec_t = rn_xstrdup(spec);
    for (char *e = spec_t + strlen(spec_t); e > spec_t && (e[-1] == ' ' || e[-1] == '\n'); e--)
        e[-1] = 0;
    int r = rn_setup_java_find(roots, nr, spec_t, &home, &version, &err);
    free(dirs);
    rn_step_status st = RN_STEP_STATUS_FAILURE;
    if (r) {
        rn_job_log(j, RN_LOG_ERROR, "%s%s", err,
                   image ? "; in an image container runnel's setup-java looks only in the tool "
                           "cache (RUNNER_TOOL_CACHE), which the container shares: the host's "
                           "JDKs are not in it"
                         : "");
        free(err);
        goto out;
    }
    rn_job_log(j, RN_LOG_INFO, "Java %s (%s requested) found at %s", version, dist, home);
    long parts[4];
    parse_version(version, parts);
    char *name = rn_xprintf("JAVA_HOME_%ld_X64", parts[0]);
    json_object_set_new(j->env, "JAVA_HOME", json_string(home));
    json_object_set_new(j->env, name, json_string(home));
    free(name);
    char *bin = rn_xprintf("%s/bin", home);
    rn_path_add(&j->path, bin);
    free(bin);
    json_object_set_new(outputs, "distribution", json_string(dist));
    json_object_set_new(outputs, "version", json_string(version));
    json_object_set_new(outputs, "path", json_string(home));
    st = RN_STEP_STATUS_SUCCESS;
    const char *cache = input(with, "cache");
    if (*cache)
        st = setup_cache(j, cache, input(with, "cache-dependency-path"), outputs);
out:
    free(spec_t);
    free(home);
    free(version);
    return st;
}
