// The outbox on a real redis-server through ioredis or node-redis (COMPAT_REDIS_CLIENT), delivering through the
// emulator: broadcasts enqueued before any deliverer runs are delivered once `start()` is called, each exactly once,
// `wait()` and `status()` report it, and the typed errors are SDK errors that answer over HTTP as they describe.
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');

const app = { sdkAppId: 1400000005, secretKey: 'compat-outbox-secret', identifier: 'administrator' };

module.exports = async function outboxScenario(deps) {
  const { startEmulator, createBroadcastClient, text, TimBroadcastError, ValidationError, createRateLimiter, RedisStore, httpErrorResponse } = deps;
  const { createOutbox, OutboxNotFoundError, connectRedis } = deps;
  const url = process.env.REDIS_URL;
  assert.ok(url, 'REDIS_URL is not set');
  const redis = await connectRedis(process.env.COMPAT_REDIS_CLIENT, url);
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 5 });
  const limiter = createRateLimiter({ store: new RedisStore({ client: redis.client, prefix: `tim-broadcast-compat:${randomUUID()}:` }), ratePerSecond: 5, key: 'outbox' });
  const client = createBroadcastClient({ ...app, baseUrl: emu.url, limiter });
  const outbox = createOutbox({ redis: redis.client, client, name: `compat-${randomUUID()}`, coalesce: true });
  try {
    const texts = ['compat outbox a', 'compat outbox b', 'compat outbox c'];
    const ids = [];
    for (const t of texts) ids.push((await outbox.enqueue({ MsgBody: [text(t)] })).id);
    assert.equal((await outbox.status(ids[0])).state, 'queued', 'nothing delivers before start()');

    await outbox.start();
    const statuses = await Promise.all(ids.map((id) => outbox.wait(id, { timeoutMs: 20_000 })));
    for (const s of statuses) {
      assert.equal(s.state, 'delivered');
      assert.equal(typeof s.MsgSeq, 'number');
    }
    const sent = emu.deliveries.flatMap((d) => d.body.MsgBody.map((el) => el.MsgContent.Text));
    assert.deepEqual([...sent].sort(), [...texts].sort(), 'each broadcast delivered exactly once');
    assert.deepEqual(emu.stats.rejected, {}, `the emulator rejected calls: ${JSON.stringify(emu.stats.rejected)}`);
    const health = await outbox.health();
    assert.equal(health.status, 'up');
    assert.equal(health.backlog, 0);

    const missing = await outbox.wait('no-such-broadcast').catch((e) => e);
    assert.ok(missing instanceof OutboxNotFoundError, `expected OutboxNotFoundError, got ${missing && missing.name}`);
    assert.ok(missing instanceof TimBroadcastError, 'an outbox error is a TimBroadcastError');
    assert.equal(httpErrorResponse(missing).status, 404);
    const invalid = await outbox.enqueue({ MsgBody: [] }).catch((e) => e);
    assert.ok(invalid instanceof ValidationError, `expected ValidationError, got ${invalid && invalid.name}`);
  } finally {
    await outbox.close({ timeoutMs: 5_000 });
    await limiter.close();
    await client.close();
    await emu.close();
    assert.equal(await redis.ping(), 'PONG', 'the outbox closed a Redis client it did not create');
    await redis.quit();
  }
};
