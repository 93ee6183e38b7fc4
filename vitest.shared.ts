import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

/**
 * Tests import the packages by name; inside the workspace these resolve to the sources, so a test run needs
 * no build. Tests that start real Node processes use the built `dist` instead (see the smoke tests).
 */
const alias = [
  { find: /^@tim-broadcast\/transport\/undici$/, replacement: src('transport/src/undici.ts') },
  { find: /^@tim-broadcast\/transport$/, replacement: src('transport/src/index.ts') },
  { find: /^@tim-broadcast\/core\/telemetry$/, replacement: src('core/src/telemetry.ts') },
  { find: /^@tim-broadcast\/core$/, replacement: src('core/src/index.ts') },
  { find: /^@tim-broadcast\/emulator$/, replacement: src('emulator/src/index.ts') },
  { find: /^@tim-broadcast\/rate-limit$/, replacement: src('rate-limit/src/index.ts') },
  { find: /^@tim-broadcast\/outbox$/, replacement: src('outbox/src/index.ts') },
  { find: /^@tim-broadcast\/nestjs\/health$/, replacement: src('nestjs/src/health/index.ts') },
  { find: /^@tim-broadcast\/nestjs$/, replacement: src('nestjs/src/index.ts') },
  { find: /^@tim-broadcast\/express$/, replacement: src('express/src/index.ts') },
  { find: /^@tim-broadcast\/cli$/, replacement: src('cli/src/index.ts') },
];

const secretScan = fileURLToPath(new URL('./testing/secret-scan.setup.ts', import.meta.url));

export function project(name: string, extra: { testTimeout?: number; setupFiles?: string[] } = {}) {
  return defineProject({
    resolve: { alias },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: extra.testTimeout ?? 20_000,
      setupFiles: [secretScan, ...(extra.setupFiles ?? [])],
    },
  });
}
