import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { text, TimeoutError, ValidationError } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcaster, RedisStore, type Broadcaster, type BroadcasterOptions } from '@tim-broadcast/rate-limit';
import { validationError } from '../../../testing/validation';
import { APP, connectionsNamed, emulator, REDIS_URL, uniqueKey } from './helpers';

let emu: Emulator;
let broadcaster: Broadcaster | undefined;

afterEach(async () => {
  await broadcaster?.close();
  broadcaster = undefined;
  await emu?.close();
});

function options(extra: Partial<BroadcasterOptions> = {}): BroadcasterOptions {
  return { sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.admin, baseUrl: emu.url, ...extra } as BroadcasterOptions;
}

describe('createBroadcaster', () => {
  it('validates every option at once, naming each field', async () => {
    emu = await emulator();
    const error = validationError(() =>
      createBroadcaster({
        ...options({ sdkAppId: 'x' as unknown as number, maxQueued: -1, shutdownTimeoutMs: -5 }),
        rateLimit: { ratePerSecond: 0, onStoreError: 'maybe' as 'fail', redis: 'http://nope', bogus: 1 } as never,
      }),
    );
    const paths = error.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['maxQueued', 'shutdownTimeoutMs', 'rateLimit.bogus', 'rateLimit.ratePerSecond', 'rateLimit.onStoreError', 'rateLimit.redis', 'sdkAppId']),
    );
    expect(error.message).not.toContain(APP.secretKey);
  });

  it('refuses unknown keys with the closest known name, a limiter of its own, and timers a timer cannot take', async () => {
    emu = await emulator();
    const error = validationError(() =>
      createBroadcaster({
        ...options(),
        coalesc: true,
        ratelimit: { ratePerSecond: 1 },
        shutdownTimeout: 5_000,
        limiter: { acquire: async () => {} },
        rateLimit: { maxWait: 5 },
      } as never),
    );
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path.join('.'), i.message]));
    expect(byPath.coalesc).toMatch(/unknown option \(did you mean 'coalesce'\?\)/);
    expect(byPath.ratelimit).toMatch(/did you mean 'rateLimit'/);
    expect(byPath.shutdownTimeout).toMatch(/did you mean 'shutdownTimeoutMs'/);
    expect(byPath['rateLimit.maxWait']).toMatch(/did you mean 'maxWaitMs'/);
    expect(byPath.limiter).toMatch(/makes its limiter from `rateLimit`/);

    for (const shutdownTimeoutMs of [Infinity, NaN, 2 ** 31, -1]) {
      const bad = validationError(() => createBroadcaster(options({ shutdownTimeoutMs })));
      expect(bad.issues.map((i) => i.path.join('.'))).toEqual(['shutdownTimeoutMs']);
    }
    const counts = validationError(() => createBroadcaster(options({ maxQueued: 1.5, concurrency: 1e9, maxBytes: 1e15 })));
    expect(counts.issues.map((i) => i.path.join('.'))).toEqual(['maxQueued', 'maxBytes', 'concurrency']);
  });

  it('defaults to a 1/s limiter in memory, keyed by SDKAppID, and sends through the queue', async () => {
    emu = await emulator({ ratePerSecond: 1 });
    broadcaster = createBroadcaster(options());
    expect(broadcaster.limiter).toMatchObject({ ratePerSecond: 1, model: 'spacing', maxWaitMs: 60_000, store: { name: 'memory' } });
    expect(broadcaster.client.limiter).toBe(broadcaster.limiter);
    const result = await broadcaster.send({ MsgBody: [text('hello')] });
    expect(result).toMatchObject({ MsgSeq: emu.deliveries[0]!.MsgSeq, batchSize: 1, attempts: 1 });
    expect(broadcaster.health()).toEqual({
      status: 'up',
      queued: 0,
      inFlight: 0,
      limiter: { store: 'memory', ratePerSecond: 1, waiting: 0 },
    });
  });

  it('deadlineMs bounds each send from send() on, the wait for the limiter included', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    broadcaster = createBroadcaster(options({ deadlineMs: 300, rateLimit: { ratePerSecond: 20 } }));
    await broadcaster.limiter!.penalize(60_000); // no slot for a minute
    const error = await broadcaster.send({ MsgBody: [text('late')] }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('the 300 ms deadline passed while it waited to be sent; it was not sent');
    expect(broadcaster.health().queued).toBe(0);
    expect(emu.stats.requests).toBe(0);
  });

  it('rateLimit: false sends without a limiter', async () => {
    emu = await emulator({ ratePerSecond: Infinity });
    broadcaster = createBroadcaster(options({ rateLimit: false, coalesce: true }));
    expect(broadcaster.limiter).toBeUndefined();
    await Promise.all([1, 2].map((i) => broadcaster!.send({ MsgBody: [text(`m${i}`)] })));
    expect(broadcaster.health().limiter).toBeUndefined();
  });

  it('reports the last failure in health(), without secrets', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    broadcaster = createBroadcaster(options({ rateLimit: { ratePerSecond: 20 }, retry: false }));
    emu.setFaults({ script: ['throttle10023'] });
    await expect(broadcaster.send({ MsgBody: [text('x')] })).rejects.toMatchObject({ code: 10023 });
    const health = broadcaster.health();
    expect(health.lastError).toMatchObject({ name: 'ApiError', code: 10023, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(JSON.stringify(health)).not.toMatch(new RegExp(`${APP.secretKey}|usersig`, 'i'));
  });

  it('shares the limit through a Redis client it is given, and leaves that client open', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    const redis = new Redis(REDIS_URL);
    try {
      broadcaster = createBroadcaster(options({ rateLimit: { ratePerSecond: 20, redis, key: uniqueKey('given') } }));
      expect(broadcaster.limiter!.store.name).toBe('redis');
      await broadcaster.send({ MsgBody: [text('via redis')] });
      await broadcaster.close();
      expect(redis.status).toBe('ready');
    } finally {
      await redis.quit();
    }
  });

  it('uses a store it is given (one RedisStore, one subscriber, for several broadcasters), and leaves it open', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    const name = `given-store-${process.pid}`;
    const redis = new Redis(REDIS_URL, { connectionName: name });
    const connections = () => connectionsNamed(redis, name);
    const store = new RedisStore({ client: redis });
    // two replicas of one app (one key): each waits for the other's calls, on the store's news
    const key = uniqueKey('store');
    const pair = [1, 2].map(() => createBroadcaster(options({ rateLimit: { ratePerSecond: 5, store, key } })));
    try {
      expect(pair.map((b) => b.limiter!.store)).toEqual([store, store]);
      await Promise.all(pair.flatMap((b) => [b.send({ MsgBody: [text('one')] }), b.send({ MsgBody: [text('two')] })]));
      expect(await connections()).toBe(2); // the client and one subscriber for both
      await Promise.all(pair.map((b) => b.close()));
      await store.close();
      expect(await connections()).toBe(1);
      expect(redis.status).toBe('ready');
      expect(validationError(() => createBroadcaster(options({ rateLimit: { store, redis } }))).issues.map((i) => i.path.join('.'))).toEqual(['rateLimit.store']);
    } finally {
      await redis.quit();
    }
  });

  it('creates an ioredis client from a URL and quits it (and its subscriber) on close()', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    const observer = new Redis(REDIS_URL);
    const named = () => connectionsNamed(observer, 'tim-broadcast-rate-limit');
    try {
      const before = await named();
      broadcaster = createBroadcaster(options({ rateLimit: { ratePerSecond: 20, redis: REDIS_URL, key: uniqueKey('url') } }));
      await Promise.all([1, 2].map((i) => broadcaster!.send({ MsgBody: [text(`via url ${i}`)] })));
      expect(await named()).toBeGreaterThan(before);
      await broadcaster.close();
      await vi.waitFor(async () => expect(await named()).toBe(before));
    } finally {
      await observer.quit();
    }
  });

  it("is 'down' while the store fails and once closed; close() is idempotent", async () => {
    emu = await emulator({ ratePerSecond: 20 });
    broadcaster = createBroadcaster(options({ rateLimit: { redis: 'redis://127.0.0.1:1' }, logger: {}, shutdownTimeoutMs: 100 }));
    const sent = broadcaster.send({ MsgBody: [text('stuck')] });
    // the store's first call times out after 2 s
    await vi.waitFor(() => expect(broadcaster!.health().status).toBe('down'), { timeout: 15_000 });
    expect(broadcaster.health()).toMatchObject({ queued: 1, limiter: { store: 'redis', lastStoreError: expect.stringMatching(/^rate-limit store "redis"/) } });
    await Promise.all([broadcaster.close(), broadcaster.close()]);
    await expect(sent).rejects.toMatchObject({ name: 'QueueClosedError' });
    expect(broadcaster.health().status).toBe('down');
    expect(emu.stats.requests).toBe(0);
  });
});

describe('BroadcasterOptions type', () => {
  it('keeps "region or baseUrl": exactly one of them', () => {
    const common = { sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.admin };
    const region: BroadcasterOptions = { ...common, region: 'singapore', coalesce: true };
    const baseUrl: BroadcasterOptions = { ...common, baseUrl: 'http://127.0.0.1:1', rateLimit: false };
    // @ts-expect-error neither region nor baseUrl
    const neither: BroadcasterOptions = { ...common };
    // @ts-expect-error both region and baseUrl
    const both: BroadcasterOptions = { ...common, region: 'singapore', baseUrl: 'http://127.0.0.1:1' };
    // @ts-expect-error the broadcaster makes its own limiter
    const limiter: BroadcasterOptions = { ...common, region: 'singapore', limiter: { acquire: async () => {} } };
    // and at run time the same is refused
    for (const bad of [neither, both, limiter]) expect(() => createBroadcaster(bad)).toThrow(ValidationError);
    expect([region, baseUrl]).toHaveLength(2);
  });
});
