// The Redis store on a real redis-server through ioredis or node-redis (COMPAT_REDIS_CLIENT): two limiters on one
// key share one schedule, a coalescing queue delivers through the emulator without a throttle, and a broadcaster
// given the client leaves it open.
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const app = { sdkAppId: 1400000003, secretKey: 'compat-rate-limit-secret', identifier: 'administrator' };

module.exports = async function rateLimitScenario(deps) {
  const { startEmulator, createBroadcastClient, text, createRateLimiter, RedisStore, MemoryStore, createBroadcastQueue, createBroadcaster, connectRedis } = deps;
  const url = process.env.REDIS_URL;
  assert.ok(url, 'REDIS_URL is not set');
  const kind = process.env.COMPAT_REDIS_CLIENT;
  const redis = await connectRedis(kind, url);
  const prefix = `tim-broadcast-compat:${randomUUID()}:`;
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 5 });
  const opened = [];
  try {
    // two "processes" on one key: three slots at 5/s span at least two intervals (a lower bound only)
    const a = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix }), ratePerSecond: 5, key: 'shared' });
    const b = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix }), ratePerSecond: 5, key: 'shared' });
    opened.push(a, b);
    const t0 = Date.now();
    (await a.acquire()).release(); // a permit is released once the call it was for has ended
    (await b.acquire()).release();
    (await a.acquire()).release();
    const spanned = Date.now() - t0;
    assert.ok(spanned >= 360, `three slots at 5/s took ${spanned} ms: the limiters did not share the Redis schedule`);
    assert.equal(a.lastStoreError, undefined);

    const limiter = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix }), ratePerSecond: 5, key: 'queue' });
    opened.push(limiter);
    const client = createBroadcastClient({ ...app, baseUrl: emu.url, limiter });
    const queue = createBroadcastQueue({ client, coalesce: true });
    const results = await Promise.all(['a', 'b', 'c'].map((t) => queue.send({ MsgBody: [text(`compat ${t}`)] })));
    await queue.close();
    await client.close();
    for (const r of results) assert.equal(typeof r.MsgSeq, 'number');
    assert.equal(emu.deliveries.length, new Set(results.map((r) => r.MsgSeq)).size);
    assert.deepEqual(emu.stats.rejected, {}, `the emulator rejected calls: ${JSON.stringify(emu.stats.rejected)}`);

    const broadcaster = createBroadcaster({ ...app, baseUrl: emu.url, rateLimit: { ratePerSecond: 5, redis: redis.client, key: `${prefix}broadcaster` } });
    const sent = await broadcaster.send({ MsgBody: [text('compat broadcaster')] });
    assert.equal(sent.batchSize, 1);
    const health = broadcaster.health();
    assert.equal(health.status, 'up');
    assert.equal(health.limiter && health.limiter.store, 'redis');
    await broadcaster.close();
    assert.equal(await redis.ping(), 'PONG', 'the broadcaster closed a Redis client it did not create');

    const memory = createRateLimiter({ store: new MemoryStore(), ratePerSecond: 10 });
    (await memory.acquire()).release();
    await memory.close();
  } finally {
    for (const l of opened) await l.close();
    await emu.close();
    await redis.quit();
  }
};
