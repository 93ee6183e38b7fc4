import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBroadcastClient } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createOutbox } from '@tim-broadcast/outbox';
import express5, { type Request } from 'express';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  broadcastMiddleware,
  closeBroadcast,
  createBroadcastRouter,
  createHealthHandler,
  text,
  ValidationError,
  type BroadcastMiddlewareOptions,
  type BroadcastOutboxOptions,
} from '../src/index';
import { deliveredTexts } from '../../../testing/deliveries';
import { untilValue } from '../../../testing/promises';
import { connectionsNamed, REDIS_URL } from '../../../testing/redis-server';
import { ADMIN, bearer, call, emulator, EXPRESS_VERSIONS, findLeaks, recordingSuite, SDK_APP_ID, SECRET_KEY, serve, TOKEN, type Served } from './helpers';

// The outbox option of broadcastMiddleware and the router's outbox mode, on Express 5 and 4, against the emulator
// and a real redis-server (REDIS_URL; the one CI starts).
const US = { sdkAppId: 1400000042, secretKey: 'express-outbox-us-secret-9a8b7c6d5e' };

const { seen, logger, appOptions } = recordingSuite();

let emu: Emulator;
let observer: Redis;
beforeAll(async () => {
  observer = new Redis(REDIS_URL);
});
afterAll(() => observer.quit());
beforeEach(async () => {
  emu = await emulator(20);
});
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  await emu.close();
});
const cleanup: (() => Promise<unknown>)[] = [];

/** App options with an outbox under a unique name (and limiter key), so runs sharing the redis-server never meet. */
function outboxApp(outbox: Partial<BroadcastOutboxOptions> = {}, name = `express-${randomUUID()}`): BroadcastMiddlewareOptions {
  return {
    ...appOptions(emu),
    rateLimit: { ratePerSecond: 20, key: `limit-${name}` },
    // redisTimeoutMs: slack for a loaded host (an event loop held up by module loading must not time out a local Redis)
    outbox: { redis: REDIS_URL, name, leaseMs: 2_000, redisTimeoutMs: 15_000, ...outbox },
  };
}

describe.each(EXPRESS_VERSIONS)('outbox mode on %s', (_name, express) => {
  /** An app with the middleware (awaited ready), the router on /broadcasts, health, and a JSON 404 for the rest. */
  async function start(options: BroadcastMiddlewareOptions) {
    const app = express();
    const middleware = broadcastMiddleware(options);
    app.use(middleware);
    app.use('/broadcasts', createBroadcastRouter({ bearerToken: TOKEN, logger }));
    app.get('/health', createHealthHandler());
    app.use((_req, res) => void res.status(404).json({ error: 'not_found_by_app' }));
    await middleware.ready;
    const served = await serve(app);
    cleanup.push(() => served.close(), () => closeBroadcast(app));
    return { app, middleware, served };
  }

  it('POST answers 202 { id } with Location; GET (authorized like POST) reads the status until delivered', async () => {
    const { served } = await start(outboxApp());
    const accepted = await call(seen, `${served.url}/broadcasts`, { body: { text: 'doors open' }, headers: bearer() });
    expect(accepted.status).toBe(202);
    expect(accepted.json).toEqual({ id: expect.any(String), duplicate: false });
    const { id } = accepted.json as { id: string };
    const location = accepted.headers.get('location');
    expect(location).toBe(`/broadcasts/${encodeURIComponent(id)}`);

    expect((await call(seen, `${served.url}${location}`, { method: 'GET' })).status).toBe(401);
    const status = await untilValue(() => call(seen, `${served.url}${location}`, { method: 'GET', headers: bearer() }), (r) => r.json?.state === 'delivered', 'delivery');
    expect(status.status).toBe(200);
    expect(status.headers.get('cache-control')).toBe('no-store');
    expect(status.json).toMatchObject({ id, state: 'delivered', MsgSeq: expect.any(Number), Random: expect.any(Number), attempts: 1 });
    expect(deliveredTexts(emu)).toEqual(['doors open']);
  });

  it('404 broadcast_not_found for an unknown id; other paths and methods fall through', async () => {
    const { served } = await start(outboxApp({ deliver: false }));
    expect(await call(seen, `${served.url}/broadcasts/no-such-id`, { method: 'GET', headers: bearer() })).toMatchObject({ status: 404, json: { error: 'broadcast_not_found' } });
    expect(await call(seen, `${served.url}/broadcasts/a/b`, { method: 'GET', headers: bearer() })).toMatchObject({ status: 404, json: { error: 'not_found_by_app' } });
    expect(await call(seen, `${served.url}/broadcasts/x`, { method: 'DELETE', headers: bearer() })).toMatchObject({ status: 404, json: { error: 'not_found_by_app' } });
  });

  it('an Idempotency-Key enqueues once: the retry answers the same id, duplicate', async () => {
    const { served } = await start(outboxApp());
    const key = `key-${randomUUID()}`;
    const first = await call(seen, `${served.url}/broadcasts`, { body: { text: 'once only' }, headers: { ...bearer(), 'idempotency-key': key } });
    const again = await call(seen, `${served.url}/broadcasts`, { body: { text: 'once only' }, headers: { ...bearer(), 'idempotency-key': key } });
    expect(first).toMatchObject({ status: 202, json: { duplicate: false } });
    expect(again).toMatchObject({ status: 202, json: { id: first.json.id, duplicate: true } });
    await untilValue(() => call(seen, `${served.url}/broadcasts/${first.json.id}`, { method: 'GET', headers: bearer() }), (r) => r.json?.state === 'delivered', 'delivery');
    expect(deliveredTexts(emu)).toEqual(['once only']);
  });

  it('invalid requests are refused before anything is enqueued', async () => {
    const { served, middleware } = await start(outboxApp({ deliver: false }));
    const bad = await call(seen, `${served.url}/broadcasts`, { body: { txt: 'typo' }, headers: bearer() });
    expect(bad).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    const badKey = await call(seen, `${served.url}/broadcasts`, { body: { text: 'x' }, headers: { ...bearer(), 'idempotency-key': 'k'.repeat(600) } });
    expect(badKey).toMatchObject({ status: 400, json: { error: 'invalid_request', issues: [{ path: 'options.idempotencyKey' }] } });
    expect((await middleware.apps.outbox('default')!.health()).backlog).toBe(0);
  });

  it('an enqueue-only middleware (deliver: false) never sends; a delivering one elsewhere delivers it; closeBroadcast stops the deliverer', async () => {
    const options = outboxApp({ deliver: false });
    const web = await start(options);
    const { json } = await call(seen, `${web.served.url}/broadcasts`, { body: { text: 'from the web tier' }, headers: bearer() });
    const outbox = web.middleware.apps.outbox('default')!;
    await expect(outbox.wait(json.id, { timeoutMs: 1_500 })).rejects.toMatchObject({ name: 'OutboxWaitTimeoutError' });
    expect(emu.deliveries).toHaveLength(0);
    expect(outbox.delivering).toBe(false);

    const worker = await start({ ...options, outbox: { ...options.outbox!, deliver: true } });
    expect(await outbox.wait(json.id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
    expect(deliveredTexts(emu)).toEqual(['from the web tier']);
    const deliverer = worker.middleware.apps.outbox('default')!;
    expect(deliverer.delivering).toBe(true);

    await closeBroadcast(worker.app);
    expect(deliverer.delivering).toBe(false);
    const after = await call(seen, `${worker.served.url}/broadcasts`, { body: { text: 'after close' }, headers: bearer() });
    expect(after).toMatchObject({ status: 503, json: { error: 'shutting_down' } });
  });

  it('several apps: an app with an outbox answers 202 under its own path, one without answers 200', async () => {
    const us = await emulator(20, US);
    cleanup.push(() => us.close());
    const app = express();
    const middleware = broadcastMiddleware({
      apps: { eu: outboxApp(), us: { ...US, identifier: ADMIN, baseUrl: us.url, logger, rateLimit: { ratePerSecond: 20 } } },
    });
    app.use(middleware);
    app.use('/broadcasts/:app', createBroadcastRouter({ bearerToken: TOKEN, logger, app: (req: Request) => String(req.params.app) }));
    app.get('/health', createHealthHandler());
    app.use((_req, res) => void res.status(404).json({ error: 'not_found_by_app' }));
    await middleware.ready;
    const served: Served = await serve(app);
    cleanup.push(() => served.close(), () => closeBroadcast(app));

    const accepted = await call(seen, `${served.url}/broadcasts/eu`, { body: { text: 'to eu' }, headers: bearer() });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/broadcasts/eu/${encodeURIComponent(accepted.json.id)}`);
    const status = await untilValue(() => call(seen, `${served.url}/broadcasts/eu/${accepted.json.id}`, { method: 'GET', headers: bearer() }), (r) => r.json?.state === 'delivered', 'delivery');
    expect(status.status).toBe(200);
    expect(deliveredTexts(emu)).toEqual(['to eu']);

    expect(await call(seen, `${served.url}/broadcasts/us`, { body: { text: 'to us' }, headers: bearer() })).toMatchObject({ status: 200, json: { MsgSeq: expect.any(Number) } });
    expect(deliveredTexts(us)).toEqual(['to us']);
    // no outbox, no statuses: not the router's path
    expect(await call(seen, `${served.url}/broadcasts/us/some-id`, { method: 'GET', headers: bearer() })).toMatchObject({ status: 404, json: { error: 'not_found_by_app' } });
    expect(await call(seen, `${served.url}/broadcasts/mars/some-id`, { method: 'GET', headers: bearer() })).toMatchObject({ status: 404, json: { error: 'unknown_app' } });

    const health = await call(seen, `${served.url}/health`, { method: 'GET' });
    expect(health).toMatchObject({ status: 200, json: { status: 'up', apps: { eu: { outbox: { status: 'up', delivering: true } }, us: { status: 'up' } } } });
    expect(health.json.apps.us).not.toHaveProperty('outbox');
  });

  it('the router takes an outbox of your own', async () => {
    const redis = new Redis(REDIS_URL);
    const client = createBroadcastClient({ sdkAppId: SDK_APP_ID, secretKey: SECRET_KEY, identifier: ADMIN, baseUrl: emu.url });
    const outbox = createOutbox({ redis, client, name: `own-${randomUUID()}` });
    cleanup.push(
      () => redis.quit(),
      () => client.close(),
      () => outbox.close(),
    );
    await outbox.start();
    const app = express();
    app.use('/mine', createBroadcastRouter({ bearerToken: TOKEN, logger, outbox }));
    const served = await serve(app);
    cleanup.push(() => served.close());
    const accepted = await call(seen, `${served.url}/mine`, { body: { text: 'own outbox' }, headers: bearer() });
    expect(accepted).toMatchObject({ status: 202, json: { id: expect.any(String) } });
    expect(await outbox.wait(accepted.json.id, { timeoutMs: 15_000 })).toMatchObject({ state: 'delivered' });
  });
});

describe('outbox errors through the router', () => {
  async function serveWith(options: BroadcastMiddlewareOptions) {
    const app = express5();
    const middleware = broadcastMiddleware(options);
    app.use(middleware);
    app.use('/broadcasts', createBroadcastRouter({ bearerToken: TOKEN, logger }));
    await middleware.ready;
    const served = await serve(app);
    cleanup.push(() => served.close(), () => closeBroadcast(app));
    return served;
  }

  it('503 outbox_unavailable with Retry-After when Redis does not answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100 });
    dead.on('error', () => {});
    cleanup.push(async () => dead.disconnect());
    const served = await serveWith(outboxApp({ redis: dead, deliver: false, redisTimeoutMs: 200 }));
    const answer = await call(seen, `${served.url}/broadcasts`, { body: { text: 'lost?' }, headers: bearer() });
    expect(answer).toMatchObject({ status: 503, json: { error: 'outbox_unavailable', retryAfterSeconds: 1 } });
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(seen.logs.some((l) => l.includes('"error":"outbox_unavailable"'))).toBe(true);
  });

  it('the status of a broadcast the API refused for good: failed, with its code', async () => {
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: 80001, ErrorInfo: 'refused by the content filter' }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const served = await serveWith({ ...outboxApp(), baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` } as BroadcastMiddlewareOptions);
    const { json } = await call(seen, `${served.url}/broadcasts`, { body: { text: 'refused' }, headers: bearer() });
    const status = await untilValue(() => call(seen, `${served.url}/broadcasts/${json.id}`, { method: 'GET', headers: bearer() }), (r) => r.json?.state === 'failed', 'the refusal');
    expect(status).toMatchObject({ status: 200, json: { state: 'failed', error: { code: 80001 } } });
  });
});

describe('middleware options and readiness', () => {
  it("the outbox fields are checked at once, with the app's others, each named", () => {
    const bad = () => broadcastMiddleware({ ...outboxApp(), sdkAppId: -1, outbox: { redis: 'http://127.0.0.1:6379', deliver: 'yes' } as never });
    expect(bad).toThrow(ValidationError);
    try {
      bad();
    } catch (err) {
      expect((err as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(['outbox.redis', 'outbox.deliver', 'sdkAppId']);
    }
    const multi = () => broadcastMiddleware({ apps: { eu: { ...outboxApp(), outbox: { deliver: true } as never } } });
    expect(multi).toThrow('apps.eu.outbox.redis: required');
  });

  it("the outbox's own options are checked when it opens: ready rejects naming them, and requests get the error", async () => {
    const middleware = broadcastMiddleware(outboxApp({ coalesc: true } as never));
    const err = await middleware.ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toContain("outbox.coalesc: unknown option (did you mean 'coalesce'?)");
    expect(seen.logs.some((l) => l.startsWith('error tim-broadcast: an outbox could not be opened') && l.includes('outbox.coalesc'))).toBe(true);
    const app = express5();
    app.use(middleware);
    app.use((error: Error, _req: unknown, res: express5.Response, _next: unknown) => void res.status(500).json({ passed: error.name }));
    const served = await serve(app);
    cleanup.push(() => served.close(), () => middleware.close());
    expect(await call(seen, `${served.url}/anything`, { method: 'GET' })).toMatchObject({ status: 500, json: { passed: 'ValidationError' } });
  });

  it('requests that arrive before the outbox is open wait for it', async () => {
    const middleware = broadcastMiddleware(outboxApp({ deliver: false }));
    const app = express5();
    app.use(middleware);
    app.get('/has-outbox', (req, res) => void res.json({ outbox: req.outbox !== undefined }));
    const served = await serve(app);
    cleanup.push(() => served.close(), () => middleware.close());
    expect(await call(seen, `${served.url}/has-outbox`, { method: 'GET' })).toMatchObject({ status: 200, json: { outbox: true } });
  });

  it('the Redis URL gets its own connections, quit by closeBroadcast', async () => {
    const middleware = broadcastMiddleware(outboxApp());
    await middleware.ready;
    const connections = () => connectionsNamed(observer, 'tim-broadcast-outbox');
    expect(await connections()).toBeGreaterThan(0);
    await closeBroadcast(middleware);
    await untilValue(connections, (n) => n === 0, 'the outbox connections to close', 5_000);
  });

  it('closeBroadcast resolves with the outbox Redis unreachable: the connection made from the URL is dropped', async () => {
    // nothing listens on port 1; the enqueue's commands stay queued in the client while it tries to reconnect
    const middleware = broadcastMiddleware(outboxApp({ redis: 'redis://127.0.0.1:1', deliver: false, redisTimeoutMs: 200 }));
    await middleware.ready;
    await expect(middleware.apps.outbox('default')!.enqueue({ MsgBody: [text('nowhere')] })).rejects.toMatchObject({ name: 'OutboxRedisError' });
    expect(await closeBroadcast(middleware)).toBe(1);
  });

  it('closeBroadcast resolves at once, without a warning, after a wait() while the outbox Redis is unreachable', async () => {
    const middleware = broadcastMiddleware({ ...outboxApp({ redis: 'redis://127.0.0.1:1', deliver: false, redisTimeoutMs: 200 }), shutdownTimeoutMs: 300 });
    await middleware.ready;
    await expect(middleware.apps.outbox('default')!.wait('some-id')).rejects.toMatchObject({ name: 'OutboxRedisError' });
    await closeBroadcast(middleware);
    // were the outbox's close to hang on its subscriber, the shutdown guard would warn after 2,300 ms
    expect(seen.logs.filter((l) => l.includes('did not close'))).toEqual([]);
  });

  it('health is down when the outbox Redis does not answer', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { retryStrategy: () => 100 });
    dead.on('error', () => {});
    cleanup.push(async () => dead.disconnect());
    const middleware = broadcastMiddleware(outboxApp({ redis: dead, deliver: false, redisTimeoutMs: 200 }));
    const app = express5();
    app.use(middleware);
    app.get('/health', createHealthHandler());
    await middleware.ready;
    const served = await serve(app);
    cleanup.push(() => served.close(), () => middleware.close());
    expect(await call(seen, `${served.url}/health`, { method: 'GET' })).toMatchObject({ status: 503, json: { status: 'down', outbox: { status: 'down', lastError: { name: 'OutboxRedisError' } } } });
  });

  it('nothing seen by a caller or an operator holds the secret key or a UserSig', () => {
    expect(findLeaks(seen)).toEqual([]);
  });
});
