#!/bin/bash
# The runnel front (runner/front.c): `sandbox` runs in it, every other command in runnel-core,
# found beside it or in ../libexec/runnel/; without runnel-core, a clear error and 127.
# usage: front.sh RUNNEL RUNNEL_CORE VERSION
set -u
runnel=$1 core=$2 version=$3
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Alone: sandbox still works, the rest says what is missing and where it looked.
mkdir -p "$tmp/alone"
cp "$runnel" "$tmp/alone/runnel"
out=$("$tmp/alone/runnel" sandbox exec --help 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "lone front: sandbox exec --help exited $rc"
[[ $out == "usage: runnel sandbox exec "* ]] || fail "lone front: sandbox usage was: $out"
out=$("$tmp/alone/runnel" list 2>&1)
rc=$?
[ $rc -eq 127 ] || fail "lone front: list exited $rc, want 127"
want="runnel: runnel-core not found: looked for $tmp/alone/runnel-core and $tmp/alone/../libexec/runnel/runnel-core (install both with cmake --install)"
[ "$out" = "$want" ] || fail "lone front: got '$out', want '$want'"

# The installed layout: bin/runnel and libexec/runnel/runnel-core.
mkdir -p "$tmp/prefix/bin" "$tmp/prefix/libexec/runnel"
cp "$runnel" "$tmp/prefix/bin/runnel"
cp "$core" "$tmp/prefix/libexec/runnel/runnel-core"
out=$("$tmp/prefix/bin/runnel" --version 2>&1)
[ "$out" = "runnel $version" ] || fail "installed layout: --version printed '$out'"

# Arguments, stdin, stdout and the exit status pass through the exec unchanged.
out=$(printf '%s\n' '{"expr":"1 == 2"}' | "$runnel" eval --jsonl 2>&1)
[ "$out" = '{"kind":"Boolean","value":false}' ] || fail "eval --jsonl through the front printed '$out'"
out=$("$runnel" eval 'fromJSON(' 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "a bad expression through the front exited $rc, want 1"
[[ $out == "runnel eval: parsing error: Unexpected end of expression"* ]] ||
    fail "a bad expression through the front printed '$out'"

# The point of the front: none of runnel-core's network, git or archive libraries.
needed=$(readelf -d "$runnel" | grep NEEDED)
for lib in libcurl libgit2 libarchive libmicrohttpd libjansson libyaml; do
    if grep -q "$lib" <<<"$needed"; then fail "the front links $lib"; fi
done

[ $fails -eq 0 ] && echo "front: all checks passed"
exit $((fails > 0))
