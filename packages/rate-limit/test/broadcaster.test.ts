import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { text, ValidationError } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcaster, type Broadcaster, type BroadcasterOptions } from '@tim-broadcast/rate-limit';
import { APP, emulator, REDIS_URL, uniqueKey } from './helpers';

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
    let error: ValidationError | undefined;
    try {
      createBroadcaster({
        ...options({ sdkAppId: 'x' as unknown as number, maxQueued: -1, shutdownTimeoutMs: -5 }),
        rateLimit: { ratePerSecond: 0, onStoreError: 'maybe' as 'fail', redis: 'http://nope', bogus: 1 } as never,
      });
    } catch (err) {
      error = err as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const paths = error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['maxQueued', 'shutdownTimeoutMs', 'rateLimit.bogus', 'rateLimit.ratePerSecond', 'rateLimit.onStoreError', 'rateLimit.redis', 'sdkAppId']),
    );
    expect(error!.message).not.toContain(APP.secretKey);
  });

  it('defaults to a 1/s limiter in memory, keyed by SDKAppID, and sends through the queue', async () => {
    emu = await emulator({ ratePerSecond: 1 });
    broadcaster = createBroadcaster(options());
    expect(broadcaster.limiter).toMatchObject({ ratePerSecond: 1, store: { name: 'memory' } });
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

  it('creates an ioredis client from a URL and quits it on close()', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    const observer = new Redis(REDIS_URL);
    const named = async () => ((await observer.client('LIST')) as string).split('\n').filter((l) => l.includes('name=tim-broadcast-rate-limit')).length;
    try {
      const before = await named();
      broadcaster = createBroadcaster(options({ rateLimit: { ratePerSecond: 20, redis: REDIS_URL, key: uniqueKey('url') } }));
      await broadcaster.send({ MsgBody: [text('via url')] });
      expect(await named()).toBe(before + 1);
      await broadcaster.close();
      expect(await named()).toBe(before);
    } finally {
      await observer.quit();
    }
  });

  it("is 'down' while the store fails and once closed; close() is idempotent", async () => {
    emu = await emulator({ ratePerSecond: 20 });
    broadcaster = createBroadcaster(options({ rateLimit: { redis: 'redis://127.0.0.1:1' }, shutdownTimeoutMs: 100 }));
    const sent = broadcaster.send({ MsgBody: [text('stuck')] });
    await new Promise((r) => setTimeout(r, 2_500)); // the store's first call times out after 2 s
    const health = broadcaster.health();
    expect(health).toMatchObject({ status: 'down', queued: 1, limiter: { store: 'redis', lastStoreError: expect.stringMatching(/^rate-limit store "redis"/) } });
    await Promise.all([broadcaster.close(), broadcaster.close()]);
    await expect(sent).rejects.toMatchObject({ name: 'QueueClosedError' });
    expect(broadcaster.health().status).toBe('down');
    expect(emu.stats.requests).toBe(0);
  });
});
