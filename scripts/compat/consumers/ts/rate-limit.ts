import { randomUUID } from 'node:crypto';
import { createBroadcastClient, text } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import {
  createBroadcaster,
  createBroadcastQueue,
  createRateLimiter,
  MemoryStore,
  RedisStore,
  type BroadcasterHealth,
  type IoRedisLike,
  type NodeRedisLike,
  type QueueResult,
  type RateLimiter,
} from '@tim-broadcast/rate-limit';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { assert, main } from './harness.js';

const app = { sdkAppId: 1400000003, secretKey: 'compat-rate-limit-secret', identifier: 'administrator' };

interface Connected {
  client: IoRedisLike | NodeRedisLike;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
}

async function connectRedis(kind: string | undefined, url: string): Promise<Connected> {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    // the real clients must satisfy the store's structural types without a cast
    const typed: IoRedisLike = client;
    return { client: typed, ping: () => client.ping(), quit: () => client.quit() };
  }
  const client = await createClient({ url }).connect();
  const typed: NodeRedisLike = client;
  return { client: typed, ping: () => client.ping(), quit: () => client.quit() };
}

main(`rate-limit (${process.env.COMPAT_REDIS_CLIENT})`, async () => {
  const url = process.env.REDIS_URL;
  assert(url, 'REDIS_URL is not set');
  const redis = await connectRedis(process.env.COMPAT_REDIS_CLIENT, url);
  const prefix = `tim-broadcast-compat:${randomUUID()}:`;
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 5 });
  const opened: RateLimiter[] = [];
  try {
    const a = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix }), ratePerSecond: 5, key: 'shared' });
    const b = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix }), ratePerSecond: 5, key: 'shared' });
    opened.push(a, b);
    const t0 = Date.now();
    (await a.acquire()).release(); // a permit is released once the call it was for has ended
    (await b.acquire()).release();
    (await a.acquire()).release();
    const spanned = Date.now() - t0;
    assert(spanned >= 360, `three slots at 5/s took ${spanned} ms: the limiters did not share the Redis schedule`);

    const limiter = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix }), ratePerSecond: 5, key: 'queue' });
    opened.push(limiter);
    const client = createBroadcastClient({ ...app, baseUrl: emu.url, limiter });
    const queue = createBroadcastQueue({ client, coalesce: true });
    const results: QueueResult[] = await Promise.all(['a', 'b', 'c'].map((t) => queue.send({ MsgBody: [text(`compat ${t}`)] })));
    await queue.close();
    await client.close();
    assert(emu.deliveries.length === new Set(results.map((r) => r.MsgSeq)).size, `deliveries ${emu.deliveries.length}`);
    assert(Object.keys(emu.stats.rejected).length === 0, `the emulator rejected calls: ${JSON.stringify(emu.stats.rejected)}`);

    const broadcaster = createBroadcaster({ ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 5, redis: redis.client, key: `${prefix}broadcaster` } });
    const sent: QueueResult = await broadcaster.send({ MsgBody: [text('compat broadcaster')] });
    assert(sent.batchSize === 1, `batchSize ${sent.batchSize}`);
    const health: BroadcasterHealth = broadcaster.health();
    assert(health.status === 'up' && health.limiter?.store === 'redis', `health ${JSON.stringify(health)}`);
    await broadcaster.close();
    assert((await redis.ping()) === 'PONG', 'the broadcaster closed a Redis client it did not create');

    const memory = createRateLimiter({ store: new MemoryStore(), ratePerSecond: 10 });
    (await memory.acquire()).release();
    await memory.close();
  } finally {
    for (const l of opened) await l.close();
    await emu.close();
    await redis.quit();
  }
});
