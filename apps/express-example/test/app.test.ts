import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import { ValidationError, type Logger } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REDIS_URL } from '../../../testing/redis-server';
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

describe('outbox mode (REDIS_URL)', () => {
  // a name of its own, so runs sharing the redis-server never meet
  const outboxEnv = () => ({ REDIS_URL, OUTBOX_NAME: `express-example-${randomUUID()}`, ADMIN_TOKEN: TOKEN, BROADCAST_RATE_PER_SECOND: '20' });
  let other: RunningService | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  it('POST answers 202 { id } with Location; GET (with the token) reads the status until delivered; health shows the outbox', async () => {
    service = await start({ env: outboxEnv(), port: 0, logger });
    const res = await fetch(`${service.url}/broadcasts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'through the outbox' }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const location = res.headers.get('location');
    expect(location).toBe(`/broadcasts/${encodeURIComponent(id)}`);

    expect((await call(`${service.url}${location}`)).status).toBe(401);
    let status = await call(`${service.url}${location}`, { token: TOKEN });
    for (const deadline = Date.now() + 20_000; status.json.state !== 'delivered' && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await call(`${service.url}${location}`, { token: TOKEN });
    }
    expect(status).toMatchObject({ status: 200, json: { id, state: 'delivered', MsgSeq: expect.any(Number) } });
    expect(service.emulator!.deliveries.map((d) => d.MsgSeq)).toEqual([status.json.MsgSeq]);

    const health = await call(`${service.url}/health`);
    expect(health).toMatchObject({ status: 200, json: { status: 'up', limiter: { store: 'redis', ratePerSecond: 20 }, outbox: { status: 'up', delivering: true, backlog: 0 } } });
    expect((await call(`${service.url}/broadcasts/no-such-id`, { token: TOKEN })).json).toMatchObject({ error: 'broadcast_not_found' });
  });

  it('OUTBOX_DELIVER=false only enqueues; a delivering instance on the same outbox sends it', async () => {
    const env = outboxEnv();
    // both instances send to one emulator, as two replicas of one app would send to Tencent
    const emu = await startEmulator({ sdkAppId: 1400000003, secretKey: SECRET_KEY, admin: 'administrator', ratePerSecond: 20 });
    try {
      const tencent = { TIM_SDKAPPID: '1400000003', TIM_SECRET_KEY: SECRET_KEY, TIM_BASE_URL: emu.url };
      service = await start({ env: { ...env, ...tencent, OUTBOX_DELIVER: 'false' }, port: 0, logger });
      const { json } = await call(`${service.url}/broadcasts`, { token: TOKEN, body: { text: 'from the web tier' } });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(emu.deliveries).toHaveLength(0);
      expect((await call(`${service.url}/broadcasts/${json.id}`, { token: TOKEN })).json).toMatchObject({ state: 'queued' });
      expect((await call(`${service.url}/health`)).json.outbox).toMatchObject({ delivering: false, backlog: 1 });

      other = await start({ env: { ...env, ...tencent }, port: 0, logger });
      let state = '';
      for (const deadline = Date.now() + 20_000; state !== 'delivered' && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        state = (await call(`${service.url}/broadcasts/${json.id}`, { token: TOKEN })).json.state;
      }
      expect(state).toBe('delivered');
      expect(emu.deliveries).toHaveLength(1);
    } finally {
      await other?.close();
      other = undefined;
      await service?.close();
      service = undefined;
      await emu.close();
    }
  });

  it('an outbox that cannot open fails start-up', async () => {
    await expect(start({ env: { ...outboxEnv(), REDIS_URL: 'redis://127.0.0.1:1' }, port: 0, logger })).rejects.toMatchObject({ name: 'OutboxRedisError' });
  }, 30_000);
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
    expect(paths({ REDIS_URL: 'http://127.0.0.1:6379' })).toEqual(['REDIS_URL']);
    expect(paths({ OUTBOX_DELIVER: 'false', OUTBOX_NAME: 'x' })).toEqual(['OUTBOX_DELIVER', 'OUTBOX_NAME']);
    expect(paths({ REDIS_URL: 'redis://127.0.0.1:6379', OUTBOX_DELIVER: 'maybe' })).toEqual(['OUTBOX_DELIVER']);
  });

  it('REDIS_URL is outbox mode, delivering unless OUTBOX_DELIVER=false', () => {
    expect(loadConfig({})).toMatchObject({ outbox: undefined });
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toMatchObject({ outbox: { deliver: true, name: undefined } });
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', OUTBOX_DELIVER: 'false', OUTBOX_NAME: 'web' })).toMatchObject({ outbox: { deliver: false, name: 'web' } });
  });

  it('keeps a given ADMIN_TOKEN in emulator mode', () => {
    expect(loadConfig({ ADMIN_TOKEN: TOKEN })).toMatchObject({ mode: 'emulator', adminToken: TOKEN, adminTokenGenerated: false });
  });
});
