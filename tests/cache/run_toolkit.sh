#!/usr/bin/env bash
# An unmodified JavaScript action using the real @actions/cache under `runnel run`, in the job's
# container: the first run misses and saves through runnel's cache service, the second restores
# the same bytes, and `runnel cache ls` shows the entry the toolkit uploaded.
# Skips (77) unless RUNNEL_TOOLKIT_DIR holds node_modules/@actions/cache (scripts/test.sh
# installs it from tests/cache/toolkit/package-lock.json).
set -u
RUNNEL=$1
tk=${RUNNEL_TOOLKIT_DIR:-}
if [ -z "$tk" ] || [ ! -d "$tk/node_modules/@actions/cache" ]; then
  echo "skipped: set RUNNEL_TOOLKIT_DIR to a folder with node_modules/@actions/cache"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export RUNNEL_HOME=$work/home
act=$work/repo/.github/actions/tk
mkdir -p "$work/repo/.github/workflows" "$act" && cd "$work/repo" || exit 1
git init -q -b main
# The action carries its node_modules, as a published JavaScript action does (dist/ or vendored).
cp -al "$tk/node_modules" "$act/node_modules" 2>/dev/null || cp -a "$tk/node_modules" "$act/node_modules"
cat > "$act/action.yml" <<'YML'
name: toolkit cache
runs:
  using: node20
  main: main.js
YML
cat > "$act/main.js" <<'JS'
const cache = require('@actions/cache');
const crypto = require('crypto');
const fs = require('fs');
(async () => {
  const hit = await cache.restoreCache(['deps'], 'tk-deps-1', ['tk-deps-']);
  console.log(`restored=${hit || 'none'}`);
  if (!hit) {
    fs.mkdirSync('deps/sub', { recursive: true });
    fs.writeFileSync('deps/sub/x', crypto.randomBytes(16).toString('hex'));
    const id = await cache.saveCache(['deps'], 'tk-deps-1');
    console.log(`saved=${id > 0}`);
  }
  console.log(`data=${fs.readFileSync('deps/sub/x', 'utf8')}`);
})().catch((e) => { console.log(`error: ${e.stack || e}`); process.exit(1); });
JS
cat > .github/workflows/ci.yml <<'YML'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/tk
YML
printf 'deps/\n.github/actions/tk/node_modules/\n' > .gitignore
git add -A && git -c user.email=t@example.com -c user.name=t commit -qm init
out1=$("$RUNNEL" run 2>&1) || fail "run 1: $out1"
grep -qF "restored=none" <<<"$out1" || fail "run 1 should miss: $out1"
grep -qF "saved=true" <<<"$out1" || fail "run 1 should save: $out1"
data1=$(grep -o 'data=[0-9a-f]*' <<<"$out1")
rm -rf deps
out2=$("$RUNNEL" run 2>&1) || fail "run 2: $out2"
grep -qF "restored=tk-deps-1" <<<"$out2" || fail "run 2 should hit: $out2"
data2=$(grep -o 'data=[0-9a-f]*' <<<"$out2")
[ ${#data1} -eq 37 ] && [ "$data1" = "$data2" ] || fail "restored bytes differ: '$data1' vs '$data2'"
ls=$("$RUNNEL" cache ls) || fail "cache ls"
grep -qF "tk-deps-1" <<<"$ls" || fail "cache ls: $ls"
echo "toolkit under runnel run: miss+save, then hit with the same bytes"
