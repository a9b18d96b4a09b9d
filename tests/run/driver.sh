#!/usr/bin/env bash
# Runs one `runnel run` corpus case: tests/run/CASE/ holds a repository (workflows, local
# actions, files) and an `expect` file. The case is copied to a temporary folder, made a git
# repository (branch main, one commit), and runnel runs there, so the source tree stays clean.
#
# expect lines (one directive per line, '#' comments):
#   args: ARGS...            arguments after `runnel` (shell words); repeatable: one run each,
#                            later checks apply to the last run
#   exit: N                  exit status of the last run
#   out-has: TEXT            stdout contains TEXT          out-not: TEXT   does not
#   out-line: LINE           stdout has exactly this line (after stripping trailing spaces)
#   out-order: A | B | C     substrings appear in this order in stdout
#   out-count: N TEXT        TEXT occurs on exactly N lines of stdout
#   err-has: TEXT            stderr contains TEXT          err-not: TEXT
#   file-has: GLOB :: TEXT   every file matching GLOB (in the copy) contains TEXT
#   file-not: GLOB :: TEXT   no file matching GLOB contains TEXT (GLOB must match something)
#   check: SHELL             a shell command run in the copy after the last run; must succeed
#                            ($RUN_STDOUT / $RUN_STDERR hold that run's output, $RUNNEL the binary)
#                            ($RUN_STDOUT / $RUN_STDERR name the files holding its output)
#   setup: SHELL             a shell command run in the copy before committing
#   max-seconds: N           the last run took at most N seconds
set -u
case_dir=$(cd "$1" && pwd)
runnel=$(realpath "$2")
name=$(basename "$case_dir")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/runnel-run-$name.XXXXXX")
logs=$(mktemp -d "${TMPDIR:-/tmp}/runnel-run-$name-out.XXXXXX")
cleanup() { rm -rf "$tmp" "$logs"; }
trap cleanup EXIT
cp -a "$case_dir/." "$tmp/"
rm -f "$tmp/expect"
cd "$tmp" || exit 1
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=tester \
    GIT_COMMITTER_EMAIL=t@example.com GIT_CONFIG_NOSYSTEM=1 HOME="$tmp/.home" USER=tester
mkdir -p "$tmp/.home"
while IFS= read -r line; do
    case "$line" in setup:*) bash -c "${line#setup: }" || { echo "setup failed: $line"; exit 1; } ;; esac
done <"$case_dir/expect"
git init -q -b main . && git add -A && git commit -q -m "case $name" || { echo "git setup failed"; exit 1; }
git remote add origin https://github.com/runnel-tests/$name.git

fail=0
out="$logs/stdout" err="$logs/stderr"
rc=0 secs=0
report() {
    echo "FAIL [$name]: $1"
    fail=1
}
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
    '' | '#'*) continue ;;
    setup:*) continue ;;
    args:*)
        start=$(date +%s.%N)
        eval "set -- ${line#args: }"
        "$runnel" "$@" >"$out" 2>"$err" </dev/null
        rc=$?
        secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        ;;
    exit:*) [ "$rc" = "${line#exit: }" ] || report "exit status $rc, expected ${line#exit: }" ;;
    out-has:*) grep -qF -- "${line#out-has: }" "$out" || report "stdout lacks: ${line#out-has: }" ;;
    out-not:*) ! grep -qF -- "${line#out-not: }" "$out" || report "stdout has: ${line#out-not: }" ;;
    err-has:*) grep -qF -- "${line#err-has: }" "$err" || report "stderr lacks: ${line#err-has: }" ;;
    err-not:*) ! grep -qF -- "${line#err-not: }" "$err" || report "stderr has: ${line#err-not: }" ;;
    out-line:*)
        sed 's/[[:space:]]*$//' "$out" | grep -qxF -- "${line#out-line: }" ||
            report "stdout lacks the line: ${line#out-line: }"
        ;;
    out-count:*)
        spec=${line#out-count: }
        n=${spec%% *} text=${spec#* }
        got=$(grep -cF -- "$text" "$out")
        [ "$got" = "$n" ] || report "stdout has $got lines with '$text', expected $n"
        ;;
    out-order:*)
        rest=$(cat "$out")
        IFS='|' read -ra parts <<<"${line#out-order: }"
        for p in "${parts[@]}"; do
            p=$(echo "$p" | sed 's/^ *//; s/ *$//')
            case "$rest" in
            *"$p"*) rest=${rest#*"$p"} ;;
            *) report "stdout order: '$p' missing or out of order"; break ;;
            esac
        done
        ;;
    file-has:* | file-not:*)
        spec=${line#file-*: }
        glob=${spec%% :: *} text=${spec#* :: }
        files=$(compgen -G "$glob")
        [ -n "$files" ] || { report "no file matches $glob"; continue; }
        for f in $files; do
            if [ "${line%%:*}" = file-has ]; then
                grep -qF -- "$text" "$f" || report "$f lacks: $text"
            else
                ! grep -qF -- "$text" "$f" || report "$f has: $text"
            fi
        done
        ;;
    check:*) RUNNEL="$runnel" RUN_STDOUT="$out" RUN_STDERR="$err" bash -c "${line#check: }" || report "check failed: ${line#check: }" ;;
    max-seconds:*)
        awk -v s="$secs" -v m="${line#max-seconds: }" 'BEGIN { exit !(s <= m) }' ||
            report "took ${secs}s, more than ${line#max-seconds: }s"
        ;;
    slow) ;;
    *) report "unknown expect directive: $line" ;;
    esac
done <"$case_dir/expect"

if [ $fail != 0 ]; then
    echo "---- stdout of the last run"
    cat "$out" 2>/dev/null
    echo "---- stderr"
    cat "$err" 2>/dev/null
    exit 1
fi
echo "ok [$name] (last run ${secs}s)"
