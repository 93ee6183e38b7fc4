import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { REDIS_URL, uniqueKey } from './helpers';

// The built package in a real Node process: after registry.close() nothing may keep the process alive — no Redis
// connection, no pub/sub connection, no HTTP socket, no timer — so it exits by itself once its work is done.
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const apps = [1400000201, 1400000202, 1400000203].map((sdkAppId) => ({ sdkAppId, secretKey: `exit-test-secret-${sdkAppId}-0123456789`, admin: 'administrator' }));

const body = `
const apps = JSON.parse(process.env.APPS);
// a server that takes calls and never answers: the registry's transport times out, in this build's error classes
const held = new Set();
const silent = net.createServer((socket) => held.add(socket)).listen(0, '127.0.0.1');
await new Promise((resolve) => silent.once('listening', resolve));
const credentials = async (id) => {
  if (id === 1400000299) return { secretKey: 'exit-test-silent-app-secret-01234', identifier: 'administrator', baseUrl: 'http://127.0.0.1:' + silent.address().port };
  const app = apps.find((a) => a.sdkAppId === id);
  return app && { secretKey: app.secretKey, identifier: app.admin, baseUrl: process.env.EMULATOR };
};
const registry = createBroadcastRegistry({
  credentials,
  redis: process.env.REDIS,
  limiterKey: (id) => process.env.PREFIX + ':' + id,
  idleTimeoutMs: 60_000,
  logger: {},
});
const message = { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }] };
const results = await Promise.all(apps.flatMap((a) => [registry.send(a.sdkAppId, message), registry.send(a.sdkAppId, message)]));
const timeout = await registry.send(1400000299, message, { timeoutMs: 200, retry: false }).catch((err) => err);
await registry.close();
for (const socket of held) socket.destroy();
await new Promise((resolve) => silent.close(resolve));
// closed handles leave the list a moment later
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(JSON.stringify({ delivered: results.length, timeout: timeout instanceof TimeoutError, left: process.getActiveResourcesInfo() }));
`;
const scripts = {
  'exit.mjs': `import net from 'node:net'; import { createBroadcastRegistry } from '@tim-broadcast/rate-limit'; import { TimeoutError } from '@tim-broadcast/core';\n${body}`,
  'exit.cjs': `const net = require('node:net'); const { createBroadcastRegistry } = require('@tim-broadcast/rate-limit'); const { TimeoutError } = require('@tim-broadcast/core');\n(async () => {${body}})();`,
};

describe('a registry in a process of its own', () => {
  let emu: Emulator;
  beforeAll(async () => {
    if (!existsSync(`${PACKAGE}/dist/index.mjs`)) throw new Error('packages/rate-limit/dist is missing: build first (pnpm build)');
    emu = await startEmulator({ ...apps[0]!, apps: apps.slice(1), ratePerSecond: 1, rateModel: 'spacing' });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.reset());

  it.each(Object.keys(scripts))('lets the process exit once close() has resolved: Redis, pub/sub, HTTP sockets and timers all released (%s)', async (file) => {
    const dir = mkdtempSync(join(PACKAGE, 'test/.exit-'));
    try {
      writeFileSync(join(dir, file), scripts[file as keyof typeof scripts]);
      const env = { ...process.env, APPS: JSON.stringify(apps), EMULATOR: emu.url, REDIS: REDIS_URL, PREFIX: uniqueKey('exit') };
      // the process must end by itself; the timeout only bounds a failure
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(dir, file)], { cwd: PACKAGE, env, timeout: 30_000 });
      recordOutput(stdout, stderr);
      const out = JSON.parse(stdout.trim()) as { delivered: number; timeout: boolean; left: string[] };
      expect(out.delivered).toBe(6);
      // the default transport is loaded in this build's own format: its errors are this build's classes
      expect(out.timeout).toBe(true);
      expect(out.left.filter((name) => /TCP|Timeout|Immediate/.test(name))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
