import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { ValidationError, type Logger } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, start, type RunningService } from '../src/index';

const SECRET_KEY = 'example-suite-secret-7d6c5b4a39281706';
const TOKEN = 'example-admin-token-0123456789';

const bodies: string[] = [];
const logs: string[] = [];
const userSigs = new Set<string>();
const logger: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [level, (m: string, meta?: unknown) => logs.push(`${level} ${m} ${meta === undefined ? '' : JSON.stringify(meta)}`)]),
);
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logs.push(`console.${method} ${format(...args)}`));
}

async function call(url: string, init: { method?: string; token?: string; body?: unknown } = {}) {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, json: JSON.parse(text) };
}

let service: RunningService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

describe('without credentials', () => {
  it('starts the emulator in-process, says so, and serves the bearer-protected router and health', async () => {
    service = await start({ env: {}, port: 0, logger });
    expect(service.config.mode).toBe('emulator');
    expect(service.config.adminTokenGenerated).toBe(true);
    expect(logs.some((line) => line.includes('in-process emulator'))).toBe(true);
    const { url, config, emulator } = service;

    expect((await call(`${url}/broadcasts`, { body: { text: 'hi' } })).status).toBe(401);
    const sent = await call(`${url}/broadcasts`, { token: config.adminToken, body: { text: 'from the example' } });
    expect(sent.status).toBe(200);
    expect(emulator!.deliveries.map((d) => d.MsgSeq)).toContain(sent.json.MsgSeq);

    const health = await call(`${url}/health`);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'up', queued: 0 });
    expect((await call(`${url}/elsewhere`)).json).toMatchObject({ error: 'not_found' });
  });
});

describe('with credentials', () => {
  it('talks to the configured endpoint and never shows the secret or a UserSig', async () => {
    const emu = await startEmulator({ sdkAppId: 1400000002, secretKey: SECRET_KEY, admin: 'administrator', ratePerSecond: 100 });
    // a recording proxy in front of the emulator: it sees the UserSigs the service sends
    const proxy = createServer(async (req, res) => {
      const sig = new URL(req.url!, 'http://x').searchParams.get('usersig');
      if (sig) userSigs.add(sig);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${emu.url}${req.url}`, { method: req.method, body: Buffer.concat(chunks), headers: { 'content-type': 'application/json' } });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(await upstream.text());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      service = await start({
        env: { TIM_SDKAPPID: '1400000002', TIM_SECRET_KEY: SECRET_KEY, TIM_BASE_URL: proxyUrl, ADMIN_TOKEN: TOKEN, BROADCAST_RATE_PER_SECOND: '20' },
        port: 0,
        logger,
      });
      expect(service.config.mode).toBe('tencent');
      expect(service.emulator).toBeUndefined();
      const { url } = service;

      for (const text of ['one', 'two', 'three']) expect((await call(`${url}/broadcasts`, { token: TOKEN, body: { text } })).status).toBe(200);
      expect(emu.deliveries).toHaveLength(3);
      expect((await call(`${url}/broadcasts`, { token: TOKEN, body: { MsgBody: [] } })).status).toBe(400);
      expect((await call(`${url}/broadcasts`, { token: 'wrong-token-wrong-token', body: { text: 'x' } })).status).toBe(401);
      emu.setConfig({ broadcastEnabled: false });
      const refused = await call(`${url}/broadcasts`, { token: TOKEN, body: { text: 'refused' } });
      expect(refused).toMatchObject({ status: 502, json: { code: 10007 } });
      await call(`${url}/health`);
    } finally {
      await service?.close();
      service = undefined;
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await emu.close();
    }

    expect(userSigs.size).toBeGreaterThan(0);
    const needles = [SECRET_KEY, ...userSigs];
    const leaks = [...bodies, ...logs].filter((text) => needles.some((needle) => text.includes(needle)));
    expect(leaks).toEqual([]);
    expect(logs.length).toBeGreaterThan(0);
  });
});

describe('with REDIS_URL', () => {
  it('shares the rate limit through Redis', async () => {
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    service = await start({ env: { REDIS_URL: redisUrl, ADMIN_TOKEN: TOKEN, BROADCAST_RATE_PER_SECOND: '20' }, port: 0, logger });
    const sent = await call(`${service.url}/broadcasts`, { token: TOKEN, body: { text: 'limited through redis' } });
    expect(sent.status).toBe(200);
    const health = await call(`${service.url}/health`);
    expect(health.json).toMatchObject({ status: 'up', limiter: { store: 'redis', ratePerSecond: 20 } });
    expect(health.json.limiter.lastStoreError).toBeUndefined();
  });
});

describe('loadConfig', () => {
  const paths = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).not.toContain(SECRET_KEY);
      return (err as ValidationError).issues.map((i) => i.path.join('.'));
    }
    return [];
  };

  it('names each missing or bad variable', () => {
    expect(paths({ TIM_SDKAPPID: '1400000000', TIM_SECRET_KEY: SECRET_KEY, TIM_REGION: 'singapore' })).toEqual(['ADMIN_TOKEN']);
    expect(paths({ TIM_SDKAPPID: '1400000000' })).toEqual(expect.arrayContaining(['TIM_SECRET_KEY', 'TIM_REGION', 'ADMIN_TOKEN']));
    expect(paths({ TIM_SDKAPPID: 'abc', TIM_SECRET_KEY: SECRET_KEY, TIM_REGION: 'mars', ADMIN_TOKEN: 'short' })).toEqual(['TIM_SDKAPPID', 'TIM_REGION', 'ADMIN_TOKEN']);
    expect(paths({ PORT: '-1', BROADCAST_RATE_PER_SECOND: '0' })).toEqual(['BROADCAST_RATE_PER_SECOND', 'PORT']);
    expect(paths({ ADMIN_TOKEN: 'two words in one token' })).toEqual(['ADMIN_TOKEN']);
    expect(paths({ BROADCAST_DEADLINE_MS: '0' })).toEqual(['BROADCAST_DEADLINE_MS']);
  });

  it('keeps a given ADMIN_TOKEN in emulator mode', () => {
    expect(loadConfig({ ADMIN_TOKEN: TOKEN })).toMatchObject({ mode: 'emulator', adminToken: TOKEN, adminTokenGenerated: false });
  });
});
