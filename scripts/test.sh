#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs, builds, starts a throwaway redis-server, runs every test,
# and ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
NEED_REDIS=1 NEED_CHROMIUM=1 source scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

mkdir -p .tmp
redis_port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$PWD/.tmp/redis.pid" --logfile "$PWD/.tmp/redis.log"
export REDIS_URL="redis://127.0.0.1:$redis_port"
trap '[ -f .tmp/redis.pid ] && kill "$(cat .tmp/redis.pid)" 2>/dev/null' EXIT
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis-server on $REDIS_URL"

status=0
pnpm build --output-logs=errors-only || status=1
pnpm typecheck --output-logs=errors-only || status=1
rm -f .tmp/vitest.json
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json || status=1
# the compatibility and packaging matrix: packed tarballs installed with npm into throwaway projects
# (its failed cells are counted from its JSON report; a crash leaves the report missing, which counts as a failure)
rm -f .tmp/compat.json
node scripts/compat.mjs --skip-build --json .tmp/compat.json
node scripts/summary.mjs .tmp/vitest.json .tmp/compat.json $([ $status = 0 ] || echo --failed-step)
