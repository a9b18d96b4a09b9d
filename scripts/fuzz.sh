#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
# Seeds come from tests/fuzz/seeds/<target>/ when present; findings are written to build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
CC=clang cmake -S . -B build-fuzz -DRUNNEL_FUZZ=ON -DRUNNEL_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
export ASAN_OPTIONS=detect_leaks=1
status=0
for bin in build-fuzz/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=build-fuzz/corpus-$name
  mkdir -p "$corpus"
  seeds=()
  [ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix=build-fuzz/"$name"- "$corpus" "${seeds[@]}" >build-fuzz/"$name".log 2>&1; then
    echo "fuzz: $name FAILED; last lines of build-fuzz/$name.log:"
    tail -n 40 build-fuzz/"$name".log
    status=1
  else
    grep -E '^(Done|#[0-9]+ +DONE)' build-fuzz/"$name".log | tail -n 1 || true
  fi
done
exit $status
