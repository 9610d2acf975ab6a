#!/usr/bin/env bash
# Installs the node client libraries exactly as package-lock.json pins them
# (npm ci), but only when node_modules is missing or was installed from a
# different lock file, so repeated test runs do not reinstall.
# Usage: npm_ci.sh [path-to-npm]
set -euo pipefail
cd "$(dirname "$0")"
npm=${1:-npm}
stamp=node_modules/.tally-package-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "node_modules matches package-lock.json"
  exit 0
fi
"$npm" ci --no-audit --no-fund
echo "$want" > "$stamp"
