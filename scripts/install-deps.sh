#!/usr/bin/env bash
# Installs every Debian 12 package that building and testing runnel needs. Idempotent.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config clang clang-format libclang-rt-dev
  libyaml-dev libjansson-dev libcmocka-dev
  libgit2-dev libcurl4-openssl-dev libarchive-dev libseccomp-dev libssl-dev
  git ca-certificates nodejs procps python3 # tests: pgrep/ps, python3 for JSON checks
  libmicrohttpd-dev zstd # cache server (actions/cache_server.c); zstd for bench/cache
  libxxhash-dev # per-file checksums of cache entries (actions/cache_store.c)
  # examples/webshop (the example pipeline): Java 17, Maven offline on /usr/share/maven-repo,
  # JUnit 4, the JaCoCo agent and Ant tasks, curl for the smoke tests
  openjdk-17-jdk-headless maven junit4 libjacoco-java ant curl
  libmaven-clean-plugin-java libmaven-resources-plugin-java libmaven-compiler-plugin-java
  libsurefire-java libmaven-jar-plugin-java libmaven-antrun-plugin-java
  # image store tests (tests/image): a local OCI registry, htpasswd -B, a static busybox rootfs
  docker-registry apache2-utils busybox-static zstd jq attr
  # containers (tests/sandbox security tests; bubblewrap is only bench/container_bench's baseline)
  busybox-static bubblewrap
  slirp4netns # the private network of jobs with services: its route out (sandbox/net.c)
  xfsprogs # unit_cache_store: cache entries cloned on a reflink file system (an XFS loop file)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
