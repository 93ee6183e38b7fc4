#!/usr/bin/env bash
# The demo: 200 broadcasts of mixed kinds and sizes through the coalescing queue, against the embedded emulator
# (or the real service when TIM_SDKAPPID, TIM_SECRET_KEY, TIM_IDENTIFIER and TIM_REGION are set).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pnpm exec turbo run build --filter=@tim-broadcast/demo --output-logs=errors-only
node apps/demo/src/main.mjs
