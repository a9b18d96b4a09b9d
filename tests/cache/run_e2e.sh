#!/usr/bin/env bash
# `runnel run` twice on a workflow using actions/cache/restore + actions/cache/save keyed on
# hashFiles(): the first run misses and saves, the second hits (cache-hit true, the matched key)
# and restores the same bytes; `runnel cache ls` then lists the entry.
set -u
RUNNEL=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export RUNNEL_HOME=$work/home
mkdir -p "$work/repo/.github/workflows" && cd "$work/repo" || exit 1
git init -q -b main
printf 'dep 1.0\n' > lock.txt
cat > .github/workflows/ci.yml <<'YML'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/cache/restore@v4
        id: c
        with:
          path: deps
          key: deps-${{ hashFiles('lock.txt') }}
          restore-keys: deps-
      - run: |
          echo "hit=${{ steps.c.outputs.cache-hit }} matched=${{ steps.c.outputs.cache-matched-key }}"
          mkdir -p deps
          [ -f deps/x ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > deps/x
          echo "data=$(cat deps/x)"
      - uses: actions/cache/save@v4
        if: steps.c.outputs.cache-hit != 'true'
        with:
          path: deps
          key: deps-${{ hashFiles('lock.txt') }}
YML
git add -A && git -c user.email=t@example.com -c user.name=t commit -qm init
# hashFiles('lock.txt'): sha256 over the file's binary sha256, computed here with openssl
hash=$(openssl dgst -sha256 -binary lock.txt | openssl dgst -sha256 | sed 's/.*= //')
key=deps-$hash
out1=$("$RUNNEL" run 2>&1) || fail "run 1: $out1"
grep -qF "Cache not found for input keys: $key, deps-" <<<"$out1" || fail "run 1 miss: $out1"
grep -qF "hit= matched=" <<<"$out1" || fail "run 1 outputs: $out1"
grep -qF "Cache saved with key: $key" <<<"$out1" || fail "run 1 save: $out1"
data1=$(grep -o 'data=[0-9a-f]*' <<<"$out1")
rm -rf deps
out2=$("$RUNNEL" run 2>&1) || fail "run 2: $out2"
grep -qF "Cache restored from key: $key" <<<"$out2" || fail "run 2 hit: $out2"
grep -qF "hit=true matched=$key" <<<"$out2" || fail "run 2 outputs: $out2"
data2=$(grep -o 'data=[0-9a-f]*' <<<"$out2")
[ -n "$data1" ] && [ "$data1" = "$data2" ] || fail "restored bytes differ: '$data1' vs '$data2'"
grep -qF "Cache saved" <<<"$out2" && fail "run 2 saved again: $out2"
# a changed lock file: a new key, restored from the old one by prefix (cache-hit false)
printf 'dep 2.0\n' > lock.txt
rm -rf deps
out3=$("$RUNNEL" run 2>&1) || fail "run 3: $out3"
grep -qF "hit=false matched=$key" <<<"$out3" || fail "run 3 outputs: $out3"
grep -qF "$data1" <<<"$out3" || fail "run 3 bytes: $out3"
ls=$("$RUNNEL" cache ls) || fail "cache ls"
grep -qF "$key" <<<"$ls" || fail "cache ls: $ls"
grep -qF "2 entries, " <<<"$ls" || fail "cache ls count: $ls"
echo ok
