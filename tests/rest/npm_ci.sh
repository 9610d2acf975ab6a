#!/usr/bin/env bash
# Installs each directory's node packages exactly as its package-lock.json
# pins them (npm ci), but only when node_modules is missing or was installed
# from a different lock file, so repeated test runs do not reinstall.
# Usage: npm_ci.sh NPM DIR...
set -euo pipefail
npm=$1
shift
for dir in "$@"; do
  (
    cd "$dir"
    stamp=node_modules/.tally-package-lock.sha256
    want=$(sha256sum package-lock.json | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
      echo "$dir: node_modules matches package-lock.json"
      exit 0
    fi
    "$npm" ci --no-audit --no-fund
    echo "$want" > "$stamp"
  )
done
