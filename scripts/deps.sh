#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages.
# Idempotent: when everything is present it only checks and returns quickly.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libboost-dev libboost-program-options-dev librocksdb-dev libspdlog-dev
  catch2 nlohmann-json3-dev libssl-dev
  redis-server redis-tools python3 python3-redis python3-pytest
  curl chromium gnuplot-nox nutcracker
)
# Node.js runs the client suites (npm ci from committed lockfiles). Debian's
# nodejs/npm packages are used only when no node is installed at all.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's redis-server package starts a system instance on 6379 where systemd
  # runs. Tests and benchmarks start their own on free ports, and Tally's default
  # port is 6379, so the system instance we just pulled in is stopped again.
  if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null &&
     systemctl is-active --quiet redis-server 2>/dev/null; then
    $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
fi
