#!/usr/bin/env bash
# Builds runnel and runs every test with CTest.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
build=build
flags=()
if [ "${1:-}" = --sanitize ]; then
  build=build-asan
  flags=(-DRUNNEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
# The real @actions/cache (npm, pinned by tests/cache/toolkit/package-lock.json) for
# tests/cache/toolkit.sh and run_toolkit.sh; without npm or its registry they skip and say why.
if [ -z "${RUNNEL_TOOLKIT_DIR:-}" ] && command -v npm >/dev/null; then
  tk=$build/toolkit
  if ! cmp -s tests/cache/toolkit/package-lock.json "$tk/package-lock.json" ||
     [ ! -d "$tk/node_modules/@actions/cache" ]; then
    mkdir -p "$tk"
    cp tests/cache/toolkit/package.json tests/cache/toolkit/package-lock.json "$tk/"
    if ! npm ci --prefix "$tk" --no-audit --no-fund >/dev/null; then
      rm -rf "$tk/node_modules" # a half install must not pass for one: the tests skip instead
      echo "test.sh: npm ci of @actions/cache failed; the toolkit tests will skip"
    fi
  fi
  export RUNNEL_TOOLKIT_DIR=$PWD/$tk
fi
ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
