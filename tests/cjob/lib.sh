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
  local w=$dir.build
  mkdir -p "$w/bin" "$w/etc" "$w/tmp" "$w/root"
  cp /bin/busybox "$w/bin/busybox"
  (cd "$w/bin" && /bin/busybox --list | grep -vx busybox | perl -ne 'chomp; symlink "busybox", $_')
  printf 'ID=runnel-test\nNAME="runnel test image"\n' >"$w/etc/os-release"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$w/etc/passwd"
  tar --numeric-owner -C "$w" -cf - . | gzip -n >"$dir.tgz"
  "$IMGTOOL" mkimage "$dir" --env PATH=/usr/sbin:/usr/bin:/sbin:/bin --env IMAGE_VAR=from-image \
    "$@" "$dir.tgz" >/dev/null || fail "mkimage"
  "$RUNNEL" image import --tag "$ref" "$dir" >/dev/null || fail "import $ref"
  rm -rf "$w" "$dir.tgz"
}

# new_repo DIR: a git repository (branch main) for `runnel run`
new_repo() {
  mkdir -p "$1/.github/workflows"
  git -C "$1" init -q -b main
}
commit_repo() {
  git -C "$1" add -A && git -C "$1" -c user.name=t -c user.email=t@e commit -q -m test
}
