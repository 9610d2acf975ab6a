#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit and integration
# tests on the normal build, then the same suite on an ASan+UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

echo "== build (RelWithDebInfo) =="
scripts/build.sh build
echo "== tests =="
(cd build && ctest --output-on-failure --timeout 900)
# The durability tests' figures (acknowledged writes, losses per mode).
cat build/durability-report.txt 2>/dev/null || true

if [ "${TALLY_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== build (ASan+UBSan) =="
  scripts/build.sh build-asan -DTALLY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  echo "== tests (ASan+UBSan) =="
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure --timeout 1200)
  cat build-asan/durability-report.txt 2>/dev/null || true
fi
