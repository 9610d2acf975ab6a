#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build-fuzz/) and runs each
# for SECONDS (default 300), two at a time. Usage:
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Targets: resp_parser glob command_layer rest_json (default: all). Each run
# starts from the committed seeds in tests/fuzz/corpus/<target>/ plus what
# earlier local runs found (build-fuzz/corpus/<target>/). Exits non-zero if any
# target finds a crash, a sanitizer report, a broken invariant, a slow input or
# a leak; the failing input is saved under build-fuzz/artifacts/ and printed.
# Reproduce one with: build-fuzz/tally-fuzz-<target> <artifact>
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(resp_parser glob command_layer rest_json)

dir=build-fuzz
# TALLY_WERROR=ON (scripts/test.sh sets it) makes warnings errors.
CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTALLY_FUZZ=ON \
  -DTALLY_WERROR="${TALLY_WERROR:-OFF}" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/tally-fuzz-}"
mkdir -p "$dir/artifacts" "$dir/logs"
touch "$dir/logs/.started"

run_one() {
  local target=$1 corpus=$dir/corpus/$1
  mkdir -p "$corpus"
  # -timeout: one input taking 10 s is a finding (e.g. exponential globbing);
  # -rss_limit_mb: so is unbounded memory. New inputs go to the first corpus
  # directory only, so the committed seeds stay as they are.
  "$dir/tally-fuzz-$target" "$corpus" "tests/fuzz/corpus/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target-" \
    >"$dir/logs/$target.log" 2>&1
}

pids=()
names=()
failed=()
wait_one() {
  local pid=${pids[0]} name=${names[0]}
  pids=("${pids[@]:1}")
  names=("${names[@]:1}")
  if wait "$pid"; then
    echo "fuzz $name: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/logs/$name.log" |
      awk '{print $2}') inputs in ${seconds}s, $(find "$dir/corpus/$name" -type f | wc -l) in corpus"
  else
    failed+=("$name")
    echo "fuzz $name: FAILED (log: $dir/logs/$name.log)"
    grep -E -A40 'ERROR:|invariant failed|runtime error|Test unit written' "$dir/logs/$name.log" |
      grep -v 'in fuzzer::' | head -60
  fi
}

# Two targets at a time: the machine's two cores.
for target in "${targets[@]}"; do
  if ((${#pids[@]} >= 2)); then wait_one; fi
  run_one "$target" &
  pids+=($!)
  names+=("$target")
done
while ((${#pids[@]})); do wait_one; done

if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}; inputs saved in $dir/artifacts/:"
  find "$dir/artifacts" -type f -newer "$dir/logs/.started" | while read -r f; do
    echo "== $f ($(stat -c %s "$f") bytes)"
    head -c 512 "$f" | od -A d -c | head -20
  done
  exit 1
fi
