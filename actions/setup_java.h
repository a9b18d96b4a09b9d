/* Built-in actions/setup-java (v3/v4): uses an installed JDK instead of downloading one.
 *
 * JDKs are looked for in $RUNNEL_JVM_DIRS (colon-separated; default /usr/lib/jvm) and the tool
 * cache (RUNNER_TOOL_CACHE/Java_<distribution>_jdk/<version>/x64): every folder with bin/java,
 * its version from the `release` file (JAVA_VERSION), links to the same JDK counted once.
 * `java-version` matches by version prefix ('17', '17.0', '17.0.9', '17.x'); the highest match
 * wins. Any `distribution` is accepted (only what is installed can be used). Sets JAVA_HOME,
 * JAVA_HOME_<major>_X64 and PATH; outputs distribution, version, path, cache-hit.
 * `cache: maven|gradle|sbt` restores ~/.m2/repository (...) keyed
 * setup-java-<RUNNER_OS>-x64-<id>-<hashFiles(patterns)> in main and saves it in post.
 *
 * Ownership: returned strings are malloc'ed for the caller. Owner: caching engineer. */
#ifndef RN_ACTIONS_SETUP_JAVA_H
#define RN_ACTIONS_SETUP_JAVA_H

#include "actions/step.h"

/* The built-in for `uses: actions/setup-java@...` (rn_builtin_fn). */
rn_step_status rn_setup_java_action(rn_job *j, const char *uses, json_t *with, json_t *outputs);

/* Finds the JDK for spec among the roots (folders holding JDK folders). Returns 0 with *home
 * and *version, or -1 with *err: "no installed JDK matches java-version '21' (found: 17 in
 * /usr/lib/jvm/java-17-openjdk-amd64)". */
int rn_setup_java_find(const char *const *roots, size_t nroots, const char *spec, char **home,
                       char **version, char **err);

#endif
