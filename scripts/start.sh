#!/usr/bin/env bash
# Installs what is missing, builds, and starts tally-server in the foreground
# on 127.0.0.1:6379 with data in ./data. Extra arguments go to tally-server,
# e.g. `scripts/start.sh --port 6380`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh build
exec build/tally-server "$@"
