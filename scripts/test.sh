#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit and integration
# tests on the normal build, a Release build of every target (its server is
# the one bench/run.py uses), the same suite on an ASan+UBSan build, a fuzz
# smoke run of every libFuzzer target, and the concurrency tests under
# ThreadSanitizer. Prints the wall time of each stage.
#
# TALLY_SKIP_SANITIZERS=1 skips the ASan+UBSan, fuzz and TSan stages.
# TALLY_FUZZ_SECONDS sets the time per fuzz target (default 30;
# scripts/fuzz.sh runs longer).
#
# Every tree is built with TALLY_WERROR=ON: here, with the compilers CI
# knows, a warning fails the build (a plain cmake build leaves it off).
set -euo pipefail
cd "$(dirname "$0")/.."
export TALLY_WERROR=ON
werror=-DTALLY_WERROR=ON

stage_times=()
stage_start=$SECONDS
stage_name=
stage() {
  if [ -n "$stage_name" ]; then stage_times+=("$(printf '%-24s %4d s' "$stage_name" $((SECONDS - stage_start)))"); fi
  stage_name=$1
  stage_start=$SECONDS
  [ -z "$1" ] || echo "== $1 =="
}
summary() {
  stage ""
  echo "== stage times =="
  printf '%s\n' "${stage_times[@]}"
  printf '%-24s %4d s\n' total "$SECONDS"
}
trap summary EXIT

stage "deps"
scripts/deps.sh

stage "build (RelWithDebInfo)"
scripts/build.sh build "$werror"
stage "tests"
(cd build && ctest --output-on-failure --timeout 900)
# The durability tests' figures (acknowledged writes, losses per mode).
cat build/durability-report.txt 2>/dev/null || true

# A Release build of every target, tests included (-O3 warns where -O2 does
# not); bench/run.py uses its server.
stage "build (Release, all targets)"
scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release "$werror"

if [ "${TALLY_SKIP_SANITIZERS:-0}" != 1 ]; then
  stage "build (ASan+UBSan)"
  scripts/build.sh build-asan -DTALLY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug "$werror"
  stage "tests (ASan+UBSan)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure --timeout 1200)
  cat build-asan/durability-report.txt 2>/dev/null || true

  # Builds the targets and runs each for a bounded time; any finding fails.
  stage "fuzz (build + smoke)"
  scripts/fuzz.sh "${TALLY_FUZZ_SECONDS:-30}"

  # Only what the concurrency tests need, built with clang's ThreadSanitizer
  # (g++ refuses Boost.Asio's atomic_thread_fence under -fsanitize=thread).
  stage "build (TSan)"
  CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTALLY_TSAN=ON "$werror" >/dev/null
  cmake --build build-tsan -j"$(nproc)" --target tally-storage-tests tally-server-tests
  stage "tests (TSan, -L concurrency)"
  (cd build-tsan &&
     TSAN_OPTIONS="suppressions=$PWD/../tests/tsan.supp halt_on_error=1 detect_deadlocks=0" \
     ctest -L concurrency --output-on-failure --timeout 1200)
fi
