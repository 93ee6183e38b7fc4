import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { text, type BroadcastClient } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter, RedisStore, StoreError, type RateLimiter } from '@tim-broadcast/rate-limit';
import { clientFor, delay, emulator, track, uniqueKey } from './helpers';
import { testRedis, type TestRedis } from './redis-server';

interface Connection {
  client: ConstructorParameters<typeof RedisStore>[0]['client'];
  close(): Promise<unknown>;
}

const connect: Record<string, (url: string) => Promise<Connection>> = {
  async ioredis(url) {
    const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => {});
    return { client, close: async () => client.disconnect() };
  },
  async 'node-redis'(url) {
    const client = createClient({ url, socket: { reconnectStrategy: () => 100 } });
    client.on('error', () => {});
    await client.connect();
    return { client, close: () => client.destroy() as unknown as Promise<void> };
  },
};

let redis: TestRedis;
let conn: Connection;
let emu: Emulator;
let client: BroadcastClient;
let limiter: RateLimiter;

function setUp(onStoreError: 'fail' | 'wait-and-retry') {
  limiter = createRateLimiter({ store: new RedisStore({ client: conn.client, timeoutMs: 300 }), ratePerSecond: 20, key: uniqueKey('outage'), onStoreError });
  client = clientFor(emu, limiter);
  return createBroadcastQueue({ client });
}

const texts = () => emu.deliveries.map((d) => (d.body.MsgBody[0]!.MsgContent as { Text: string }).Text);

describe.each(Object.keys(connect))('Redis stopped mid-run (%s)', (name) => {
  beforeEach(async () => {
    redis = await testRedis();
    conn = await connect[name]!(redis.url);
    emu = await emulator({ ratePerSecond: 20 });
  });

  afterEach(async () => {
    await limiter?.close();
    await client?.close();
    await emu?.close();
    await conn?.close();
    await redis?.stop();
  });

  it("'wait-and-retry': sends wait while Redis is down, then all go out, in order; nothing is admitted without Redis", async () => {
    const queue = setUp('wait-and-retry');
    await Promise.all(['a', 'b'].map((t) => queue.send({ MsgBody: [text(t)] })));
    await redis.stop();
    const during = ['c', 'd', 'e'].map((t) => track(queue.send({ MsgBody: [text(t)] })));
    await delay(1_000);
    expect(during.some((s) => s.settled)).toBe(false);
    expect(texts()).toEqual(['a', 'b']);
    expect(limiter.lastStoreError).toBeInstanceOf(StoreError);
    expect((limiter.lastStoreError as StoreError).store).toBe('redis');
    expect(queue.size).toBe(3);

    await redis.start();
    await queue.drain();
    expect(during.every((s) => s.settled && !s.error)).toBe(true);
    expect(texts()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(limiter.lastStoreError).toBeUndefined();
  });

  it("'fail': what waits is rejected with a StoreError naming Redis; sending works again once it is back", async () => {
    const queue = setUp('fail');
    await queue.send({ MsgBody: [text('a')] });
    await redis.stop();
    const outcomes = await Promise.allSettled(['b', 'c', 'd'].map((t) => queue.send({ MsgBody: [text(t)] })));
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(StoreError);
      expect(error.store).toBe('redis');
      expect(error.message).toMatch(/^rate-limit store "redis": /);
    }
    expect(queue.lastError).toBeInstanceOf(StoreError);
    expect(texts()).toEqual(['a']);

    await redis.start();
    await delay(300); // let the client reconnect
    await queue.send({ MsgBody: [text('e')] });
    expect(texts()).toEqual(['a', 'e']);
  });
});
