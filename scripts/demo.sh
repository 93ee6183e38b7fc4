#!/usr/bin/env bash
# The demo. Until the full demo app lands this signs a UserSig and validates the documented sample request.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
pnpm build --output-logs=errors-only
node scripts/demo-core.mjs
