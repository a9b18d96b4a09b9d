#!/usr/bin/env bash
# Runs one remote-actions corpus case with tests/run/driver.sh. CASE/server/OWNER/REPO/ folders
# become bare repositories (one commit, tag v1, branch main) under a temporary folder that
# RUNNEL_GITHUB_URL points at; RUNNEL_HOME is a fresh action cache. The rest of CASE (minus
# server/) is the repository runnel runs in; see tests/run/driver.sh for the expect format.
set -eu
case_dir=$(cd "$1" && pwd)
runnel=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/runnel-remote.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=tester \
    GIT_COMMITTER_EMAIL=t@example.com GIT_CONFIG_NOSYSTEM=1
mkdir -p "$tmp/srv" "$tmp/case"
if [ -d "$case_dir/server" ]; then
    for repo in "$case_dir"/server/*/*/; do
        rel=${repo#"$case_dir/server/"}
        rel=${rel%/}
        work="$tmp/repos/$rel"
        mkdir -p "$work"
        cp -a "$repo." "$work/"
        git -C "$work" init -q -b main
        git -C "$work" add -A
        git -C "$work" commit -q -m "$rel"
        git -C "$work" tag v1
        git clone -q --bare "$work" "$tmp/srv/$rel.git"
    done
fi
(cd "$case_dir" && tar --exclude=./server -cf - .) | (cd "$tmp/case" && tar -xf -)
mv "$tmp/case" "$tmp/$(basename "$case_dir")"
export RUNNEL_GITHUB_URL="$tmp/srv" RUNNEL_HOME="$tmp/home"
set +e
bash "$here/../run/driver.sh" "$tmp/$(basename "$case_dir")" "$runnel"
