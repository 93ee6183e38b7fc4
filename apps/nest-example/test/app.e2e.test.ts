import { randomUUID } from 'node:crypto';
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { Emulator } from '@tim-broadcast/emulator';
import { BroadcastService } from '@tim-broadcast/nestjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { untilValue } from '../../../testing/promises';
import { REDIS_URL } from '../../../testing/redis-server';
import { bootstrap, createApp } from '../src/app';
import { TIM_TARGET, type TimTarget } from '../src/tim-target';
import { deliveredTexts, emulatorEnv, post } from './helpers';

let emu: Emulator;
let env: Record<string, string>;
let app: INestApplication | undefined;
let url: string;

beforeEach(async () => {
  ({ emu, env } = await emulatorEnv(5));
});

afterEach(async () => {
  await app?.close();
  app = undefined;
  await emu.close();
});

async function start(extraEnv: Record<string, string> = {}, logger: LoggerService | false = false) {
  ({ app, url } = await bootstrap({ port: 0, env: { ...env, ...extraEnv }, logger }));
}

describe('POST /announcements', () => {
  it('broadcasts through the emulator and answers with MsgSeq, Random and batchSize', async () => {
    await start();
    const res = await post(url, { text: 'Doors open in 5 minutes', data: { kind: 'countdown', seconds: 300 } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { MsgSeq: number; Random: number; batchSize: number };
    expect(body).toEqual({ MsgSeq: expect.any(Number), Random: expect.any(Number), batchSize: 1 });

    const [delivery] = emu.deliveries;
    expect(delivery).toMatchObject({ MsgSeq: body.MsgSeq, Random: body.Random });
    expect(delivery!.body.MsgBody).toEqual([
      { MsgType: 'TIMTextElem', MsgContent: { Text: 'Doors open in 5 minutes' } },
      { MsgType: 'TIMCustomElem', MsgContent: { Data: JSON.stringify({ kind: 'countdown', seconds: 300 }) } },
    ]);
  });

  it('sends from the given account', async () => {
    await start();
    expect((await post(url, { text: 'hi', from: 'ops' })).status).toBe(200);
    expect(emu.deliveries[0]!.body.From_Account).toBe('ops');
  });

  it.each([
    [{}, 'text'],
    [{ text: '' }, 'text'],
    [{ text: 'x'.repeat(2001) }, 'text'],
    [{ text: 42 }, 'text'],
    [{ text: 'ok', from: '' }, 'from'],
    [{ text: 'ok', data: 'not an object' }, 'data'],
    [{ text: 'ok', data: { blob: 'x'.repeat(12_000) } }, 'data'],
    [{ text: 'ok', colour: 'red' }, '(root)'],
  ])('400 naming the field for %j', async (input, field) => {
    await start();
    const res = await post(url, input);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; issues: { path: string; message: string }[] };
    expect(body.issues.map((i) => i.path)).toContain(field);
    expect(body.message).toContain(`${field}: `);
    expect(emu.deliveries).toHaveLength(0);
  });

  it('400 for a body that is not JSON', async () => {
    await start();
    const res = await fetch(`${url}/announcements`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(res.status).toBe(400);
    expect(emu.deliveries).toHaveLength(0);
  });

  it('502 with the Tencent error code when the API refuses, without the secret', async () => {
    await start();
    emu.setConfig({ broadcastEnabled: false });
    const res = await post(url, { text: 'refused' });
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: expect.any(Number), message: expect.stringContaining('error') });
    expect(text).not.toContain(env.TIM_SECRET_KEY);
  });
});

describe('GET /health', () => {
  it('reports the broadcast queue and limiter through terminus', async () => {
    await start();
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      details: { broadcast: { status: 'up', queued: 0, inFlight: 0, limiter: { store: 'memory', ratePerSecond: 5 } } },
    });
  });
});

describe('shutdown', () => {
  it('app.close() while announcements are queued: every one is delivered and answered before close resolves', async () => {
    await start({ TIM_RATE_PER_SECOND: '1' });
    expect((await post(url, { text: 'first' })).status).toBe(200); // the limiter's next slot is now ~1 s away
    const texts = ['second', 'third', 'fourth', 'fifth'];
    const requests = texts.map((text) => post(url, { text }));
    const service = app!.get(BroadcastService);
    while (service.health().queued < texts.length) await new Promise((r) => setTimeout(r, 10));

    await app!.close();
    app = undefined;
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(deliveredTexts(emu).sort()).toEqual(['first', ...texts].sort());
  });
});

describe('without credentials', () => {
  it('starts the emulator in-process, says so (without the secret), and broadcasts to it', async () => {
    const lines: string[] = [];
    const logger: LoggerService = { log: (m) => lines.push(String(m)), warn: (m) => lines.push(String(m)), error: (m) => lines.push(String(m)) };
    ({ app, url } = await bootstrap({ port: 0, env: {}, logger }));
    const target = app.get(TIM_TARGET) as TimTarget;
    expect(target.emulator).toBeDefined();
    expect(lines).toContain(`no TIM_* credentials: using the local emulator at ${target.emulator!.url}`);
    expect(lines.join('\n')).not.toContain(target.credentials.secretKey);

    expect((await post(url, { text: 'to the local emulator' })).status).toBe(200);
    expect(deliveredTexts(target.emulator!)).toEqual(['to the local emulator']);

    await app.close();
    app = undefined;
    await expect(fetch(target.emulator!.url)).rejects.toThrow(); // closed with the app
  });
});

describe('configuration', () => {
  it.each([
    [{ TIM_SDKAPPID: '1400000002' }, 'TIM_SECRET_KEY'],
    [{ TIM_SECRET_KEY: 'k' }, 'TIM_SDKAPPID'],
    [{ TIM_SDKAPPID: 'abc', TIM_SECRET_KEY: 'k', TIM_REGION: 'singapore' }, 'TIM_SDKAPPID'],
    [{ TIM_SDKAPPID: '1400000002', TIM_SECRET_KEY: 'k', TIM_REGION: 'atlantis' }, 'TIM_REGION'],
    [{ TIM_SDKAPPID: '1400000002', TIM_SECRET_KEY: 'k' }, 'TIM_REGION'],
    [{ TIM_RATE_PER_SECOND: '-1' }, 'TIM_RATE_PER_SECOND'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://127.0.0.1:1', OUTBOX_DELIVER: 'maybe' }, 'OUTBOX_DELIVER'],
    [{ OUTBOX_DELIVER: 'false' }, 'OUTBOX_DELIVER'],
  ])('%j fails start-up naming %s', async (badEnv, field) => {
    const error = await createApp({ env: badEnv, logger: false }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`${field}: `);
    expect((error as Error).message).not.toContain("'k'");
  });

  it('GET /announcements/:id is for outbox mode only: 404 without REDIS_URL', async () => {
    await start();
    expect((await fetch(`${url}/announcements/some-id`)).status).toBe(404);
  });
});

describe('outbox mode (REDIS_URL)', () => {
  // a name of its own, so runs sharing the redis-server never meet
  const outboxEnv = () => ({ REDIS_URL, OUTBOX_NAME: `nest-example-${randomUUID()}` });
  const others: INestApplication[] = [];
  afterEach(async () => {
    for (const other of others.splice(0)) await other.close();
  });

  it('POST answers 202 { id } with Location; GET reads the status until delivered; health shows the outbox', async () => {
    await start(outboxEnv());
    const res = await post(url, { text: 'Doors open', data: { kind: 'countdown' } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect(res.headers.get('location')).toBe(`/announcements/${encodeURIComponent(id)}`);

    const status = await untilValue(() => getJson(`${url}/announcements/${id}`), (s) => s.body.state === 'delivered', 'the announcement to be delivered');
    expect(status).toMatchObject({ status: 200, body: { id, state: 'delivered', MsgSeq: expect.any(Number), batchSize: 1 } });
    expect(deliveredTexts(emu)).toEqual(['Doors open']);

    const health = await getJson(`${url}/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', details: { broadcast: { status: 'up', limiter: { store: 'redis' }, outbox: { status: 'up', delivering: true, backlog: 0 } } } } });
    expect((await getJson(`${url}/announcements/no-such-id`)).status).toBe(404);
  });

  it('OUTBOX_DELIVER=false only enqueues; another instance on the same outbox delivers', async () => {
    const shared = outboxEnv();
    await start({ ...shared, OUTBOX_DELIVER: 'false' });
    const { id } = (await (await post(url, { text: 'from the web tier' })).json()) as { id: string };
    const web = app!.get(BroadcastService);
    await expect(web.wait(id, { timeoutMs: 1_500 })).rejects.toMatchObject({ name: 'OutboxWaitTimeoutError' });
    expect(emu.deliveries).toHaveLength(0);
    expect((await getJson(`${url}/announcements/${id}`)).body).toMatchObject({ state: 'queued' });

    const worker = await bootstrap({ port: 0, env: { ...env, ...shared }, logger: false });
    others.push(worker.app);
    expect(await web.wait(id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
    expect(deliveredTexts(emu)).toEqual(['from the web tier']);
  });
});

async function getJson(target: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(target);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
