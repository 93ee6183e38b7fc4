import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The built package in a project of its own where `ioredis` cannot be resolved (it is an optional peer), loaded by
// a real Node process, as a user who passes a Redis URL without installing ioredis would.
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const CORE = fileURLToPath(new URL('../../core', import.meta.url));

const project = mkdtempSync(join(tmpdir(), 'tim-broadcast-no-ioredis-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

function install(): void {
  if (!existsSync(join(PACKAGE, 'dist/index.mjs'))) throw new Error('packages/rate-limit/dist is missing: build first (pnpm build)');
  const target = join(project, 'node_modules/@tim-broadcast/rate-limit');
  mkdirSync(join(target, 'dist'), { recursive: true });
  copyFileSync(join(PACKAGE, 'package.json'), join(target, 'package.json'));
  for (const file of readdirSync(join(PACKAGE, 'dist'))) copyFileSync(join(PACKAGE, 'dist', file), join(target, 'dist', file));
  // core and what it needs resolve from the workspace, through the link
  symlinkSync(CORE, join(project, 'node_modules/@tim-broadcast/core'), 'dir');
}

const options = `{ sdkAppId: 1400000000, secretKey: 'not-a-real-secret-0123456789abcd', identifier: 'administrator', baseUrl: 'http://127.0.0.1:9', rateLimit: { redis: 'redis://127.0.0.1:6379' } }`;
const body = (load: string) => `
${load}
let resolved = true;
try { createRequire(join(process.cwd(), 'node_modules/@tim-broadcast/rate-limit/dist/index.cjs')).resolve('ioredis'); } catch { resolved = false; }
try {
  createBroadcaster(${options});
  console.log(JSON.stringify({ resolved, created: true }));
} catch (e) {
  console.log(JSON.stringify({ resolved, name: e.name, isValidation: e instanceof ValidationError, issues: e.issues }));
}
`;

describe('a Redis URL while ioredis is not installed', () => {
  install();
  writeFileSync(
    join(project, 'esm.mjs'),
    body(`import { createRequire } from 'node:module'; import { join } from 'node:path';
import { createBroadcaster } from '@tim-broadcast/rate-limit'; import { ValidationError } from '@tim-broadcast/core';`),
  );
  writeFileSync(
    join(project, 'cjs.cjs'),
    body(`const { createRequire } = require('node:module'); const { join } = require('node:path');
const { createBroadcaster } = require('@tim-broadcast/rate-limit'); const { ValidationError } = require('@tim-broadcast/core');`),
  );

  it.each(['esm.mjs', 'cjs.cjs'])('fails at createBroadcaster with a ValidationError naming the package to install (%s)', (file) => {
    // without the NODE_PATH the tool runner sets (it points into the workspace's store, where ioredis is)
    const { NODE_PATH: _, ...env } = process.env;
    const out = JSON.parse(execFileSync(process.execPath, [file], { cwd: project, env, encoding: 'utf8', timeout: 20_000 }).trim());
    expect(out.resolved).toBe(false); // the set-up is right: ioredis really cannot be found from there
    expect(out).toMatchObject({ name: 'ValidationError', isValidation: true });
    expect(out.issues).toEqual([
      { path: ['rateLimit', 'redis'], message: expect.stringMatching(/needs the optional peer dependency ioredis: install it \(npm install ioredis\)/) },
    ]);
  });
});
