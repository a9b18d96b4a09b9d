#!/usr/bin/env bash
# One CLI case: runs `RUNNEL coverage ARGS...` in this folder (so report paths print relative)
# and compares the exit status, stdout and stderr exactly with the expected ones.
#   cli_test.sh RUNNEL EXIT EXPECTED_STDOUT EXPECTED_STDERR -- ARGS...
# EXPECTED_* name files in expected/; "-" means the stream must be empty.
set -u
bin=$1 want_rc=$2 want_out=$3 want_err=$4
shift 4
[ "${1:-}" = -- ] && shift
cd "$(dirname "$0")"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$bin" coverage "$@" >"$out" 2>"$err"
rc=$?
status=0
if [ "$rc" != "$want_rc" ]; then
  echo "exit status $rc, expected $want_rc" >&2
  status=1
fi
check() { # STREAM FILE EXPECTED
  if [ "$3" = - ]; then
    if [ -s "$2" ]; then echo "$1 should be empty, got:" >&2; cat "$2" >&2; status=1; fi
  elif ! diff -u "expected/$3" "$2" >&2; then
    echo "$1 differs from expected/$3 (diff above)" >&2
    status=1
  fi
}
check stdout "$out" "$want_out"
check stderr "$err" "$want_err"
exit $status
