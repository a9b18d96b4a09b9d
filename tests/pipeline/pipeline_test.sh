#!/usr/bin/env bash
# The example pipeline (examples/webshop/.github/workflows/deploy.yml) run by `runnel run` in a
# fresh copy, as scripts/main-job.sh runs it, in one of three modes:
#   pipeline_test.sh RUNNEL SOURCE_DIR WORK_DIR happy|low-coverage|broken-health PORT
# happy          exit 0, all four jobs succeed, the gate passes, every probe passes, smoke tests
#                pass and the teardown stops the service.
# low-coverage   CatalogServerTest deleted: exit 1 at the coverage gate (FAIL line with the
#                ratio), build/deploy/verify skipped, no jar built.
# broken-health  --env WEBSHOP_HEALTH=down: /health answers 503, verify fails with the probe
#                history, the rollback stops the service, smoke tests are skipped.
# Expected coverage ratios come from JaCoCo's own CSV report of the same run, not from runnel.
# Each mode uses its own PORT so the modes can run in parallel. Skips (77) without Java/Maven.
set -euo pipefail
bin=$1 src=$2 work=$3 mode=$4 port=$5
for tool in java mvn curl git; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is missing (run scripts/install-deps.sh: the example pipeline needs Java 17, Maven, curl, git)"
    exit 77
  fi
done
if [ ! -d /usr/share/maven-repo/org/jacoco ]; then
  echo "SKIP: /usr/share/maven-repo has no JaCoCo (run scripts/install-deps.sh)"
  exit 77
fi

fails=0
fail() {
  echo "FAIL: $*" >&2
  fails=$((fails + 1))
}
# expect_line TEXT: the run's output has exactly this line
expect_line() { grep -qxF -- "$1" "$out" || fail "no output line: $1"; }
# expect_match REGEX: some output line matches the extended regex
expect_match() { grep -qE -- "$1" "$out" || fail "no output line matches: $1"; }
# job_result JOB: the RESULT column of the summary table
job_result() { awk -v j="Deploy/$1" '$1 == j { print $2; exit }' "$out"; }
expect_jobs() {
  local j want got
  for j in test build deploy verify; do
    want=$1
    shift
    got=$(job_result "$j")
    [ "$got" = "$want" ] || fail "job $j: '$got', expected '$want'"
  done
}
# dead PID: the process is gone (a zombie waiting for init to reap it counts as gone)
dead() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -z "$st" ] || [[ "$st" == Z* ]]
}
# The service processes this test started: java running the jar with the work dir as cwd.
our_services() {
  local p
  for p in $(pgrep -f 'java -jar target/webshop-' || true); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$work" ] && echo "$p"
  done
  return 0
}
cleanup() {
  local p
  for p in $(our_services); do
    echo "cleanup: killing leftover webshop pid $p" >&2
    kill -9 "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
  echo "port $port is in use; cannot run the pipeline test" >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"
tar -C "$src" --exclude=./target --exclude=./.runnel -cf - . | tar -C "$work" -xf -
args=(-P staging=host --var "WEBSHOP_PORT=$port")
case $mode in
  happy) ;;
  low-coverage) rm "$work/src/test/java/com/example/webshop/CatalogServerTest.java" ;;
  broken-health) args+=(--env WEBSHOP_HEALTH=down) ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
# Its own repository, or runnel would take the enclosing checkout as the workspace.
git -C "$work" init -q -b main
git -C "$work" add -A
git -C "$work" -c user.name=test -c user.email=test@localhost commit -q -m webshop

out=$work.out
start=$(date +%s)
set +e
"$bin" run -C "$work" "${args[@]}" .github/workflows/deploy.yml >"$out" 2>&1
rc=$?
set -e
cat "$out"
echo "pipeline $mode: runnel exited $rc after $(($(date +%s) - start))s"

# The gate's expected verdict line, from JaCoCo's CSV (LINE_MISSED, LINE_COVERED are columns 8
# and 9; the ratio is floored to tenths).
csv=$work/target/site/jacoco/jacoco.csv
if [ -s "$csv" ]; then
  read -r covered missed < <(awk -F, 'NR > 1 { m += $8; c += $9 } END { print c, m }' "$csv")
  tenths=$((covered * 1000 / (covered + missed)))
  ratio="$((tenths / 10)).$((tenths % 10))%"
else
  fail "no JaCoCo CSV report $csv"
  covered=0 missed=1 ratio=none
fi
base=http://127.0.0.1:$port

case $mode in
  happy)
    [ "$rc" = 0 ] || fail "exit status $rc, expected 0"
    expect_jobs success success success success
    [ $((covered * 100)) -ge $((70 * (covered + missed))) ] || fail "JaCoCo says $ratio < 70%"
    expect_line "[Deploy/test]   | PASS: LINE $ratio >= 70.0%"
    # 5 rounds of 2 probes, each passing
    n=$(grep -cE "^\[Deploy/verify\]   verify: \[[1-5]/5\] \+[0-9.]+s GET $base/(health|api/catalog) -> 200 \([0-9]+ ms\) passed$" "$out" || true)
    [ "$n" = 10 ] || fail "$n passing probe lines, expected 10"
    expect_line "[Deploy/verify]   verify: passed (10 measurements, 0 failed, failure-limit 1)"
    expect_line "[Deploy/verify]   | smoke: all checks passed against $base"
    pid=$(sed -n 's/^\[Deploy\/verify\]   | stopped webshop pid \([0-9]*\)$/\1/p' "$out")
    started=$(sed -n "s#^\[Deploy/deploy\]   | started webshop pid \([0-9]*\) on $base\$#\1#p" "$out")
    [ -n "$started" ] || fail "no 'started webshop pid N on $base' line"
    [ "$pid" = "$started" ] || fail "teardown stopped pid '$pid', the deploy started '$started'"
    ;;
  low-coverage)
    [ "$rc" = 1 ] || fail "exit status $rc, expected 1"
    expect_jobs failure skipped skipped skipped
    [ $((covered * 100)) -lt $((70 * (covered + missed))) ] || fail "JaCoCo says $ratio >= 70%"
    expect_match "^\[Deploy/test\]   \| bundle +total +${ratio//./\\.} +$covered +$missed$"
    expect_line "[Deploy/test]   error: FAIL: LINE $ratio < 70.0%"
    expect_match "^\[Deploy/test\]   ❌  Failure - Coverage gate \[[0-9.]+s\]$"
    for j in build deploy verify; do
      expect_line "[Deploy/$j] ⏭  Job skipped (a needed job did not succeed)"
    done
    ! grep -q '^\[Deploy/\(build\|deploy\|verify\)\] ⭐' "$out" || fail "a step of build/deploy/verify ran"
    [ ! -e "$work/target/webshop-1.0.0.jar" ] || fail "the build job ran: the jar exists"
    pid=
    ;;
  broken-health)
    [ "$rc" = 1 ] || fail "exit status $rc, expected 1"
    expect_jobs success success success failure
    expect_line "[Deploy/deploy]   | webshop answers on $base (GET /health -> 503)"
    # the probe history: the measurement lines and the table's failing /health rows
    expect_match "^\[Deploy/verify\]   verify: \[1/5\] \+[0-9.]+s GET $base/health -> 503 \([0-9]+ ms\) failed"
    expect_match "^\[Deploy/verify\]   # +ROUND +TIME +PROBE +RESULT +CODE +LATENCY +REASON$"
    expect_match "^\[Deploy/verify\]   2 +1 +\+[0-9.]+s +GET $base/api/catalog +pass +200 "
    expect_match "^\[Deploy/verify\]   3 +2 +\+[0-9.]+s +GET $base/health +fail +503 +[0-9]+ms +status 503, expected 200$"
    expect_match "^\[Deploy/verify\]   verify: failed: probe 1 \(GET $base/health\) failed 2 times, more than failure-limit 1"
    expect_line "[Deploy/verify]   verify: running rollback: ./scripts/rollback.sh"
    pid=$(sed -n 's/^\[Deploy\/verify\]   | rollback: rolled back: stopped webshop pid \([0-9]*\)$/\1/p' "$out")
    [ -n "$pid" ] || fail "no rollback line '| rollback: rolled back: stopped webshop pid N'"
    started=$(sed -n "s#^\[Deploy/deploy\]   | started webshop pid \([0-9]*\) on $base\$#\1#p" "$out")
    [ "$pid" = "$started" ] || fail "rollback stopped pid '$pid', the deploy started '$started'"
    expect_line "[Deploy/verify]   rollback: done (exit code 0)"
    expect_line "[Deploy/verify]   | no webshop to stop (target/webshop.pid is absent)"
    expect_line "[Deploy/verify] ⏭  Skipped - Smoke tests"
    ;;
esac

if [ -n "$pid" ] && ! dead "$pid"; then
  fail "webshop pid $pid is still running after the run"
fi
left=$(our_services)
[ -z "$left" ] || fail "service processes left behind: $left"
if curl -s -o /dev/null --max-time 2 "$base/"; then
  fail "something still answers on $base after the run"
fi
if [ "$fails" != 0 ]; then
  echo "pipeline $mode: $fails check(s) failed" >&2
  exit 1
fi
echo "pipeline $mode: ok (LINE $ratio)"
