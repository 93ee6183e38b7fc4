#!/usr/bin/env node
// In the workspace only: `pnpm exec tim-broadcast` links this file, which exists before the first build.
// The published package's bin is dist/cli.mjs (publishConfig.bin).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(built)) {
  console.error('tim-broadcast: packages/cli is not built yet; run `pnpm build` first');
  process.exit(1);
}
await import(built.href);
