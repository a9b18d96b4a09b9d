#!/usr/bin/env bash
# Every tracked C file is clang-formatted with the committed .clang-format.
# Skips (77) outside a git checkout or without clang-format.
set -u
cd "$1" || exit 1
command -v clang-format >/dev/null || { echo "skipped: no clang-format"; exit 77; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null) || { echo "skipped: not a git checkout"; exit 77; }
# One clang-format for all files; its messages name each offending file:line:col.
out=$(clang-format --dry-run --Werror $files 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  grep -o '^[^:]*\.[ch]:[0-9]*:[0-9]*' <<<"$out" | sed 's/^/not clang-formatted: /'
  echo "fix with: clang-format -i FILE"
  exit 1
fi
