#!/usr/bin/env bash
# Builds a copy of examples/webshop with its own ./mvnw (offline, Debian's Maven repository),
# then runs `runnel coverage` on the JaCoCo report and checks the gate's verdict and ratio.
#   webshop_test.sh RUNNEL SOURCE_DIR WORK_DIR pass|no-main-test
# no-main-test deletes CatalogServerTest first, so the HTTP server is untested and the gate
# must fail. The expected ratio comes from JaCoCo's own CSV report of the same run, not from
# runnel. Skips (77) when Maven or the Debian Maven repository is missing.
set -euo pipefail
bin=$1 src=$2 work=$3 mode=$4
if ! command -v mvn >/dev/null || [ ! -d /usr/share/maven-repo/org/jacoco ]; then
  echo "SKIP: mvn or libjacoco-java missing (run scripts/install-deps.sh)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
tar -C "$src" --exclude=./target -cf - . | tar -C "$work" -xf -
if [ "$mode" = no-main-test ]; then
  rm "$work/src/test/java/com/example/webshop/CatalogServerTest.java"
fi
start=$(date +%s)
if ! (cd "$work" && ./mvnw -B -q test >mvn.log 2>&1); then
  echo "webshop: ./mvnw -B -q test failed; log:" >&2
  cat "$work/mvn.log" >&2
  exit 1
fi
echo "webshop: ./mvnw -B -q test took $(($(date +%s) - start))s"
report=$work/target/site/jacoco/jacoco.xml
csv=$work/target/site/jacoco/jacoco.csv
[ -s "$report" ] || { echo "no $report" >&2; exit 1; }

# LINE_MISSED and LINE_COVERED are CSV columns 8 and 9; the ratio is floored to tenths.
read -r covered missed < <(awk -F, 'NR > 1 { m += $8; c += $9 } END { print c, m }' "$csv")
tenths=$((covered * 1000 / (covered + missed)))
ratio="$((tenths / 10)).$((tenths % 10))%"
if [ "$mode" = pass ]; then
  want_rc=0 want_last="PASS: LINE $ratio >= 70.0%"
  [ $((covered * 100)) -ge $((70 * (covered + missed))) ] || { echo "JaCoCo says $ratio < 70%" >&2; exit 1; }
else
  want_rc=1 want_last="FAIL: LINE $ratio < 70.0%"
  [ $((covered * 100)) -lt $((70 * (covered + missed))) ] || { echo "JaCoCo says $ratio >= 70%" >&2; exit 1; }
fi

set +e
out=$("$bin" coverage "$report" 2>&1)
rc=$?
set -e
echo "$out"
last=$(printf '%s\n' "$out" | tail -n 1)
total=$(printf '%s\n' "$out" | awk '$1 == "bundle" { print $3, $4, $5 }')
[ "$rc" = "$want_rc" ] || { echo "exit status $rc, expected $want_rc" >&2; exit 1; }
[ "$last" = "$want_last" ] || { echo "last line '$last', expected '$want_last'" >&2; exit 1; }
[ "$total" = "$ratio $covered $missed" ] || { echo "bundle row '$total', expected '$ratio $covered $missed'" >&2; exit 1; }
echo "webshop $mode: ok ($ratio, $covered covered, $missed missed)"
