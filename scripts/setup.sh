#!/usr/bin/env bash
# Installs what the repo needs on a fresh machine (pnpm, redis-server when asked) and the workspace packages.
# Sourced by test.sh and demo.sh.
set -euo pipefail

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 10.34.9"
  npm install -g pnpm@10.34.9 >/dev/null
fi

if [ "${NEED_REDIS:-0}" = 1 ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing redis-server"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq redis-server >/dev/null
fi

pnpm install --frozen-lockfile --reporter=silent
