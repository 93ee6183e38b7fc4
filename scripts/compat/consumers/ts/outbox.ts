import { randomUUID } from 'node:crypto';
import { createBroadcastClient, text, TimBroadcastError, ValidationError } from '@tim-broadcast/core';
import { startEmulator } from '@tim-broadcast/emulator';
import {
  createOutbox,
  OutboxNotFoundError,
  type EnqueueResult,
  type IoRedisLike,
  type NodeRedisLike,
  type Outbox,
  type OutboxHealth,
  type OutboxStatus,
} from '@tim-broadcast/outbox';
import { createRateLimiter, httpErrorResponse, RedisStore } from '@tim-broadcast/rate-limit';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { assert, main } from './harness.js';

const app = { sdkAppId: 1400000005, secretKey: 'compat-outbox-secret', identifier: 'administrator' };

interface Connected {
  client: IoRedisLike | NodeRedisLike;
  store: ConstructorParameters<typeof RedisStore>[0]['client'];
  ping(): Promise<string>;
  quit(): Promise<unknown>;
}

async function connectRedis(kind: string | undefined, url: string): Promise<Connected> {
  if (kind === 'ioredis') {
    const client = new Redis(url);
    // the real clients must satisfy the outbox's structural types without a cast
    const typed: IoRedisLike = client;
    return { client: typed, store: client, ping: () => client.ping(), quit: () => client.quit() };
  }
  const client = await createClient({ url }).connect();
  const typed: NodeRedisLike = client;
  return { client: typed, store: client, ping: () => client.ping(), quit: () => client.quit() };
}

main(`outbox (${process.env.COMPAT_REDIS_CLIENT})`, async () => {
  const url = process.env.REDIS_URL;
  assert(url, 'REDIS_URL is not set');
  const redis = await connectRedis(process.env.COMPAT_REDIS_CLIENT, url);
  const emu = await startEmulator({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, admin: app.identifier, ratePerSecond: 5 });
  const limiter = createRateLimiter({ store: new RedisStore({ client: redis.store, prefix: `tim-broadcast-compat:${randomUUID()}:` }), ratePerSecond: 5, key: 'outbox' });
  const client = createBroadcastClient({ ...app, baseUrl: emu.url, limiter });
  const outbox: Outbox = createOutbox({ redis: redis.client, client, name: `compat-${randomUUID()}`, coalesce: true });
  try {
    const texts = ['compat outbox a', 'compat outbox b', 'compat outbox c'];
    const ids: string[] = [];
    for (const t of texts) {
      const result: EnqueueResult = await outbox.enqueue({ MsgBody: [text(t)] });
      ids.push(result.id);
    }
    assert((await outbox.status(ids[0]!))?.state === 'queued', 'nothing delivers before start()');

    await outbox.start();
    const statuses: OutboxStatus[] = await Promise.all(ids.map((id) => outbox.wait(id, { timeoutMs: 20_000 })));
    assert(statuses.every((s) => s.state === 'delivered' && typeof s.MsgSeq === 'number'), `statuses ${JSON.stringify(statuses)}`);
    const sent = emu.deliveries.flatMap((d) => d.body.MsgBody.map((el) => (el.MsgType === 'TIMTextElem' ? el.MsgContent.Text : '')));
    assert(JSON.stringify([...sent].sort()) === JSON.stringify([...texts].sort()), `delivered ${JSON.stringify(sent)}`);
    assert(Object.keys(emu.stats.rejected).length === 0, `the emulator rejected calls: ${JSON.stringify(emu.stats.rejected)}`);
    const health: OutboxHealth = await outbox.health();
    assert(health.status === 'up' && health.backlog === 0, `health ${JSON.stringify(health)}`);

    const missing: unknown = await outbox.wait('no-such-broadcast').catch((e: unknown) => e);
    assert(missing instanceof OutboxNotFoundError && missing instanceof TimBroadcastError, `expected OutboxNotFoundError, got ${String(missing)}`);
    assert(httpErrorResponse(missing)?.status === 404, 'OutboxNotFoundError answers 404');
    const invalid: unknown = await outbox.enqueue({ MsgBody: [] }).catch((e: unknown) => e);
    assert(invalid instanceof ValidationError, `expected ValidationError, got ${String(invalid)}`);
  } finally {
    await outbox.close({ timeoutMs: 5_000 });
    await limiter.close();
    await client.close();
    await emu.close();
    assert((await redis.ping()) === 'PONG', 'the outbox closed a Redis client it did not create');
    await redis.quit();
  }
});
