#!/usr/bin/env bash
# The real @actions/cache (npm) against runnel's cache server: saveCache then restoreCache (by
# restore-key prefix) over the v2 Twirp API and the v1 REST API, with the same bytes back.
# Skips (77) unless RUNNEL_TOOLKIT_DIR holds node_modules/@actions/cache
# (e.g. `npm install --prefix DIR @actions/cache@4`).
set -u
SERVE=$1
dir=${RUNNEL_TOOLKIT_DIR:-}
if [ -z "$dir" ] || [ ! -d "$dir/node_modules/@actions/cache" ] || ! command -v node >/dev/null; then
  echo "skipped: set RUNNEL_TOOLKIT_DIR to a folder with node_modules/@actions/cache"
  exit 77
fi
work=$(mktemp -d)
fifo=$work/in
mkfifo "$fifo"
"$SERVE" "$work/store" tok-123 < "$fifo" > "$work/url" &
exec 3>"$fifo"
trap 'exec 3>&-; wait; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
url=$(cat "$work/url")
cat > "$work/t.js" <<'JS'
const cache = require('@actions/cache');
const fs = require('fs');
(async () => {
  fs.mkdirSync('deps/sub', {recursive: true});
  fs.writeFileSync('deps/sub/a.txt', 'bytes ' + process.env.TAG);
  await cache.saveCache(['deps'], 'tk-' + process.env.TAG + '-1');
  fs.rmSync('deps', {recursive: true});
  const k = await cache.restoreCache(['deps'], 'tk-' + process.env.TAG + '-2', ['tk-' + process.env.TAG + '-']);
  console.log('RESULT ' + k + ' ' + fs.readFileSync('deps/sub/a.txt', 'utf8'));
})().catch(e => { console.error('ERR', e); process.exit(1); });
JS
cd "$work" || exit 1
for v2 in True False; do
  out=$(NODE_PATH=$dir/node_modules ACTIONS_CACHE_URL=$url ACTIONS_RESULTS_URL=$url \
        ACTIONS_RUNTIME_TOKEN=tok-123 ACTIONS_CACHE_SERVICE_V2=$v2 TAG=$v2 \
        GITHUB_WORKSPACE=$work RUNNER_TEMP=$work/tmp node t.js 2>&1)
  grep -qx "RESULT tk-$v2-1 bytes $v2" <<<"$out" || { echo "FAIL (v2=$v2): $out"; exit 1; }
  # a wrong token is refused: the toolkit reports a failed lookup and restores nothing
  out=$(NODE_PATH=$dir/node_modules ACTIONS_CACHE_URL=$url ACTIONS_RESULTS_URL=$url \
        ACTIONS_RUNTIME_TOKEN=wrong ACTIONS_CACHE_SERVICE_V2=$v2 TAG=$v2 \
        GITHUB_WORKSPACE=$work RUNNER_TEMP=$work/tmp node t.js 2>&1)
  grep -q "^RESULT tk-$v2-1" <<<"$out" && { echo "FAIL: wrong token accepted (v2=$v2)"; exit 1; }
done
echo ok
