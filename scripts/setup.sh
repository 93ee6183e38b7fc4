#!/usr/bin/env bash
# Installs what the repo needs on a fresh machine (pnpm; redis-server and chromium when asked) and the workspace packages.
# Sourced by test.sh and demo.sh.
set -euo pipefail

if ! command -v pnpm >/dev/null 2>&1; then
  echo "setup: installing pnpm 10.34.9"
  npm install -g pnpm@10.34.9 >/dev/null
fi

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=0
apt_install() {
  echo "setup: installing $*"
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >/dev/null; apt_updated=1; fi
  $SUDO apt-get install -y -qq "$@" >/dev/null
}

if [ "${NEED_REDIS:-0}" = 1 ] && ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi

# Debian's chromium, for the emulator dashboard's browser tests (playwright-core drives it; Playwright's own browser
# download is not used). The tests find it at /usr/bin/chromium, or at CHROMIUM_PATH.
if [ "${NEED_CHROMIUM:-0}" = 1 ] && [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  apt_install chromium
fi

pnpm install --frozen-lockfile --reporter=silent
