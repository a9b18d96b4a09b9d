#!/usr/bin/env bash
# The README's main job: runs the example delivery pipeline (examples/webshop, test -> build ->
# deploy -> verify) with runnel, end to end, on a fresh Debian 12 machine as root.
#   ./scripts/main-job.sh            exit status is runnel's: 0 passed, 1 a job failed
#   RUNNEL_BUILD_DIR=DIR             build runnel in DIR instead of build/
#   extra arguments go to `runnel run`, e.g. --env WEBSHOP_HEALTH=down or --var WEBSHOP_PORT=18181
# The pipeline runs in a copy of examples/webshop made into its own git repository
# (build/main-job/webshop), so target/ and .runnel/ never land in the source tree and the run
# folder stays there to look at afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${RUNNEL_BUILD_DIR:-build}
t0=$(date +%s)
bold='' plain=''
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; fi
stage() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }

stage "1/4 Debian packages (scripts/install-deps.sh)"
./scripts/install-deps.sh
echo "all packages installed"

stage "2/4 build runnel (cmake into $build/)"
# quiet unless it fails: the pipeline's output is what this job is about
log=$(mktemp)
if ! { cmake -S . -B "$build" && cmake --build "$build" -j"$(nproc)" --target runnel; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  exit 2
fi
rm -f "$log"
runnel=$root/$build/runnel
echo "built $runnel"

stage "3/4 copy examples/webshop to $build/main-job/webshop (its own git repository)"
ws=$root/$build/main-job/webshop
rm -rf "$ws"
mkdir -p "$ws"
tar -C examples/webshop --exclude=./target --exclude=./.runnel -cf - . | tar -C "$ws" -xf -
git -C "$ws" init -q -b main
git -C "$ws" add -A
git -C "$ws" -c user.name=runnel -c user.email=runnel@localhost commit -q -m "webshop example"
echo "commit $(git -C "$ws" rev-parse --short HEAD) on branch main"

# A deployment that a cancelled run (Ctrl-C) could not tear down is stopped here.
stop_leftover() {
  local pidfile=$ws/target/webshop.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if ps -o args= -p "$pid" 2>/dev/null | grep -q 'webshop-.*\.jar'; then
    kill "$pid" 2>/dev/null && echo "main-job: stopped the leftover webshop pid $pid"
  fi
  rm -f "$pidfile"
}
trap stop_leftover EXIT

stage "4/4 runnel run -P staging=host .github/workflows/deploy.yml"
echo "(test and build run in runnel's job containers; deploy and verify on this host, the 'staging' target)"
set +e
"$runnel" run -C "$ws" -P staging=host "$@" .github/workflows/deploy.yml 2>&1 | tee "$ws.out"
rc=${PIPESTATUS[0]}
set -e

# Recap: the gate's table and the probe results, from the run folder's job logs.
run=$(sed -n 's/^Run [a-z]*\. Logs, outputs and summaries: //p' "$ws.out" | tail -n 1)
if [ -n "$run" ] && [ -d "$run/jobs" ]; then
  stage "coverage gate (test job)"
  sed -n '/coverage gate:/,/\(PASS\|FAIL\): /p' "$run/jobs/deploy.yml.test/log.txt" | sed 's/^ *\(| \)\{0,1\}//'
  if [ -f "$run/jobs/deploy.yml.verify/log.txt" ]; then
    stage "probe results (verify job)"
    sed -n '/^ *# *ROUND/,/^ *verify: \(passed\|failed\)/p; /^ *\(| \)\{0,1\}rollback: /p' \
      "$run/jobs/deploy.yml.verify/log.txt" | sed 's/^ *\(| \)\{0,1\}//'
  fi
fi
stage "main job: $([ "$rc" = 0 ] && echo passed || echo "FAILED (runnel exit status $rc)") in $(($(date +%s) - t0))s"
[ -z "$run" ] || echo "logs: $run"
exit "$rc"
