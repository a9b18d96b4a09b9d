# Shared helpers of the container-job tests (sourced by tests/cjob/*.sh).
# Needs: RUNNEL, IMGTOOL (tests/image/imgtool.c, built by tests/cmake/image.cmake).
# make_image DIR REF [imgtool mkimage options...]: a busybox-static image (every applet linked in
# /bin, /etc/os-release saying ID=runnel-test) imported into $RUNNEL_HOME as REF.
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }

cjob_prereqs() {
  : "${RUNNEL:?}" "${IMGTOOL:?}"
  file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
    skip "no static /bin/busybox (package busybox-static)"
  command -v git >/dev/null || skip "git missing"
  command -v jq >/dev/null || skip "jq missing"
  local out
  out=$("$RUNNEL" sandbox exec -- /bin/true 2>&1) ||
    skip "this kernel cannot create runnel containers: $out"
}

make_image() {
  local dir=$1 ref=$2
  shift 2
  build_image "$dir" "$@"
  "$RUNNEL" image import --tag "$ref" "$dir" >/dev/null || fail "import $ref"
}

# build_image DIR [imgtool mkimage options...]: the same image as an OCI layout only
build_image() {
  local dir=$1
  shift
  local w=$dir.build
  mkdir -p "$w/bin" "$w/etc" "$w/tmp" "$w/root"
  cp /bin/busybox "$w/bin/busybox"
  (cd "$w/bin" && /bin/busybox --list | grep -vx busybox | perl -ne 'chomp; symlink "busybox", $_')
  printf 'ID=runnel-test\nNAME="runnel test image"\n' >"$w/etc/os-release"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$w/etc/passwd"
  tar --numeric-owner -C "$w" -cf - . | gzip -n >"$dir.tgz"
  "$IMGTOOL" mkimage "$dir" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin --env IMAGE_VAR=from-image \
    "$@" "$dir.tgz" >/dev/null || fail "mkimage"
  rm -rf "$w" "$dir.tgz"
}

# new_repo DIR: a git repository (branch main) for `runnel run`
new_repo() {
  mkdir -p "$1/.github/workflows"
  git -C "$1" init -q -b main
}
commit_repo() {
  git -C "$1" add -A && git -C "$1" -c user.name=t -c user.email=t@e commit -q --allow-empty -m test
}

# start_registry: Debian's docker-registry on a free loopback port (REG=127.0.0.1:PORT); the
# caller kills $REG_PID. Skips when the package is missing.
start_registry() {
  local bin=${REGISTRY_BIN:-/usr/bin/docker-registry} port
  [ -x "$bin" ] || skip "$bin missing (Debian package docker-registry)"
  port=$("$IMGTOOL" freeport)
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n  secret: t\n' \
    "$1/storage" "$port" >"$1/registry.yml"
  "$bin" serve "$1/registry.yml" >"$1/registry.log" 2>&1 &
  REG_PID=$!
  REG=127.0.0.1:$port
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/" || true)" = 200 ] && return 0
    sleep 0.1
  done
  fail "registry did not start: $(tail -3 "$1/registry.log")"
}
