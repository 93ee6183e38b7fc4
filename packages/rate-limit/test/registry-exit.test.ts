import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { REDIS_URL, uniqueKey } from './helpers';

// The built package in a real Node process: after registry.close() nothing may keep the process alive — no Redis
// connection, no pub/sub connection, no HTTP socket, no timer — so it exits by itself once its work is done.
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const apps = [1400000201, 1400000202, 1400000203].map((sdkAppId) => ({ sdkAppId, secretKey: `exit-test-secret-${sdkAppId}-0123456789`, admin: 'administrator' }));

const script = `
import { createBroadcastRegistry } from '@tim-broadcast/rate-limit';
const apps = JSON.parse(process.env.APPS);
const registry = createBroadcastRegistry({
  credentials: async (id) => {
    const app = apps.find((a) => a.sdkAppId === id);
    return app && { secretKey: app.secretKey, identifier: app.admin, baseUrl: process.env.EMULATOR };
  },
  redis: process.env.REDIS,
  limiterKey: (id) => process.env.PREFIX + ':' + id,
  idleTimeoutMs: 60_000,
  logger: {},
});
const message = { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }] };
const results = await Promise.all(apps.flatMap((a) => [registry.send(a.sdkAppId, message), registry.send(a.sdkAppId, message)]));
await registry.close();
console.log(JSON.stringify({ delivered: results.length, left: process.getActiveResourcesInfo() }));
`;

describe('a registry in a process of its own', () => {
  let emu: Emulator;
  beforeAll(async () => {
    if (!existsSync(`${PACKAGE}/dist/index.mjs`)) throw new Error('packages/rate-limit/dist is missing: build first (pnpm build)');
    emu = await startEmulator({ ...apps[0]!, apps: apps.slice(1), ratePerSecond: 1, rateModel: 'spacing' });
  });
  afterAll(() => emu.close());

  it('lets the process exit once close() has resolved (Redis, pub/sub, HTTP sockets and timers all released)', async () => {
    const env = { ...process.env, APPS: JSON.stringify(apps), EMULATOR: emu.url, REDIS: REDIS_URL, PREFIX: uniqueKey('exit') };
    // the process must end by itself; the timeout only bounds a failure
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: PACKAGE, env, timeout: 30_000 });
    recordOutput(stdout, stderr);
    const out = JSON.parse(stdout.trim()) as { delivered: number; left: string[] };
    expect(out.delivered).toBe(6);
    expect(out.left.filter((name) => /TCP|Timeout|Immediate/.test(name))).toEqual([]);
    expect(emu.stats).toMatchObject({ accepted: 6, rejected: {} });
  });
});
