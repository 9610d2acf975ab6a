#!/usr/bin/env bash
# Fails if any tracked C++ file differs from what clang-format (with the
# repository's .clang-format) would make of it. Fix with:
#   git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r file; do
  if ! clang-format --dry-run -Werror "$file" >/dev/null 2>&1; then
    echo "not clang-formatted: $file"
    status=1
  fi
done < <(git ls-files '*.cc' '*.h')
exit $status
