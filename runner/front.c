/* The `runnel` executable: runs `runnel sandbox` itself and hands every other command to
 * runnel-core (runner/main.c), found beside this executable or in ../libexec/runnel/.
 *
 * Why two executables: runnel-core links libcurl, libgit2, libarchive and libmicrohttpd, whose
 * ~55 shared libraries cost 25-50 ms of dynamic loading at every start. This one needs only libc
 * and libseccomp (about 3 ms), so a one-shot `runnel sandbox exec` starts like bwrap does, and
 * every other command pays this start and one more exec (0-4 ms in `perf stat -r 30` here). */
#include "runner/commands.h"
#include "sandbox/proc.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const core_places[] = {"runnel-core", "../libexec/runnel/runnel-core"};

/* Fills core with the first runnel-core that exists relative to this executable's directory
 * (dir, PATH_MAX bytes, is written too). Returns false, with dir set, when none does. */
static bool find_core(char *dir, char *core) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        snprintf(dir, PATH_MAX, ".");
        return false;
    }
    self[n] = '\0';
    snprintf(dir, PATH_MAX, "%s", dirname(self));
    for (size_t i = 0; i < sizeof core_places / sizeof core_places[0]; i++) {
        if (snprintf(core, PATH_MAX, "%s/%s", dir, core_places[i]) < PATH_MAX &&
            access(core, X_OK) == 0)
            return true;
    }
    return false;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "sandbox"))
        return rn_cmd_sandbox(argc - 1, argv + 1);
    char dir[PATH_MAX], core[PATH_MAX];
    if (!find_core(dir, core)) {
        fprintf(stderr,
                "runnel: runnel-core not found: looked for %s/runnel-core and "
                "%s/../libexec/runnel/runnel-core (install both with cmake --install)\n",
                dir, dir);
        return 127;
    }
    rn_proc_replace(core, argv);
    fprintf(stderr, "runnel: cannot run %s: %s\n", core, strerror(errno));
    return 127;
}
