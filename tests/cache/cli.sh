#!/usr/bin/env bash
# runnel cache on an empty store: exact output and exit codes (a populated store is exercised
# by unit_cache_action, which saves entries and then runs `runnel cache ls/rm/prune`).
set -u
RUNNEL=$1
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export RUNNEL_HOME=$home
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$("$RUNNEL" cache ls) || fail "ls exit $?"
[ "$out" = "0 entries, 0B in $home/cache" ] || fail "ls: $out"
out=$("$RUNNEL" cache rm nope 2>&1); rc=$?
[ $rc = 1 ] || fail "rm exit $rc"
[ "$out" = "runnel cache rm: no entry with key 'nope'" ] || fail "rm: $out"
out=$("$RUNNEL" cache prune --max-size 12X 2>&1); rc=$?
[ $rc = 2 ] || fail "prune bad size exit $rc"
[ "$out" = "runnel cache prune: invalid size '12X'" ] || fail "prune: $out"
out=$("$RUNNEL" cache prune --max-size 0) || fail "prune exit $?"
[ "$out" = "pruned 0 entries, freed 0B" ] || fail "prune: $out"
"$RUNNEL" cache frob >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "unknown subcommand exit $rc"
unset RUNNEL_HOME
out=$(HOME=$home XDG_CACHE_HOME= "$RUNNEL" cache ls) || fail "ls (HOME) exit $?"
[ "$out" = "0 entries, 0B in $home/.cache/runnel/cache" ] || fail "ls (HOME): $out"
out=$(HOME=/nonexistent XDG_CACHE_HOME=$home/xdg "$RUNNEL" cache ls) || fail "ls (XDG) exit $?"
[ "$out" = "0 entries, 0B in $home/xdg/runnel/cache" ] || fail "ls (XDG): $out"
echo ok
