#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit and integration
# tests on the normal build, the Release server bench/run.py builds, the same
# suite on an ASan+UBSan build, a fuzz smoke run of every libFuzzer target,
# and the concurrency tests under ThreadSanitizer. Prints the wall time of
# each stage.
#
# TALLY_SKIP_SANITIZERS=1 runs only the first stage. TALLY_FUZZ_SECONDS sets
# the time per fuzz target (default 30; scripts/fuzz.sh runs longer).
set -euo pipefail
cd "$(dirname "$0")/.."

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
scripts/build.sh build
stage "tests"
(cd build && ctest --output-on-failure --timeout 900)
# The durability tests' figures (acknowledged writes, losses per mode).
cat build/durability-report.txt 2>/dev/null || true

# The Release build bench/run.py makes (-O3 warns where -O2 does not).
stage "build (Release, bench)"
if [ ! -f build-bench/CMakeCache.txt ]; then
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build-bench -j"$(nproc)" --target tally-server

if [ "${TALLY_SKIP_SANITIZERS:-0}" != 1 ]; then
  stage "build (ASan+UBSan)"
  scripts/build.sh build-asan -DTALLY_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
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
  if [ ! -f build-tsan/CMakeCache.txt ]; then
    CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DTALLY_TSAN=ON >/dev/null
  fi
  cmake --build build-tsan -j"$(nproc)" --target tally-storage-tests tally-server-tests
  stage "tests (TSan, -L concurrency)"
  (cd build-tsan &&
     TSAN_OPTIONS="suppressions=$PWD/../tests/tsan.supp halt_on_error=1 detect_deadlocks=0" \
     ctest -L concurrency --output-on-failure --timeout 1200)
fi
