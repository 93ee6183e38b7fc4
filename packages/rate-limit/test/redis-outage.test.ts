import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { text, type BroadcastClient } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcaster, createBroadcastQueue, createRateLimiter, RedisStore, StoreError, type RateLimiter } from '@tim-broadcast/rate-limit';
import { APP, clientFor, delay, emulator, recordingLogger, rejection, track, uniqueKey } from './helpers';
import { testRedis, type TestRedis } from '../../../testing/redis-server';

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
  const logger = recordingLogger();
  limiter = createRateLimiter({ store: new RedisStore({ client: conn.client, timeoutMs: 300 }), ratePerSecond: 20, key: uniqueKey('outage'), onStoreError, logger });
  client = clientFor(emu.url, limiter);
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
    await redis?.dispose();
  });

  it("'wait-and-retry': sends wait while Redis is down, then all go out, in order; nothing is admitted without Redis", async () => {
    const queue = setUp('wait-and-retry');
    await Promise.all(['a', 'b'].map((t) => queue.send({ MsgBody: [text(t)] })));
    await redis.kill();
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
    await redis.kill();
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
    const client = conn.client as { status?: string; isReady?: boolean };
    await vi.waitFor(() => expect(client.status === 'ready' || client.isReady === true).toBe(true), { timeout: 10_000 }); // reconnected
    await queue.send({ MsgBody: [text('e')] });
    expect(texts()).toEqual(['a', 'e']);
  });
});

// Issue 12: nothing waits forever. With Redis unreachable, a send settles by its deadline (from send(), queue and
// limiter waits included), or without one by the limiter's maxWaitMs, with a StoreError: the store was failing.
describe.concurrent('a send settles by its bound while Redis is unreachable', () => {
  const BOUND_MS = 3_500; // longer than the store's 2 s step timeout, so the store is known to be failing

  async function unreachable(how: 'wrong port' | 'killed') {
    const server = await testRedis();
    if (how === 'wrong port') await server.kill(); // nothing listens there any more
    return server;
  }

  async function sendThrough(how: 'wrong port' | 'killed', through: 'queue' | 'broadcaster', bound: 'deadline' | 'maxWaitMs') {
    const server = await unreachable(how);
    const emu = await emulator({ ratePerSecond: 20 });
    const logger = recordingLogger();
    const deadline = bound === 'deadline' ? { deadlineMs: BOUND_MS } : {};
    const limits = { key: uniqueKey('bound'), ...(bound === 'maxWaitMs' ? { maxWaitMs: BOUND_MS } : {}) };
    let close: () => Promise<unknown>;
    let send: () => Promise<unknown>;
    if (through === 'broadcaster') {
      const broadcaster = createBroadcaster({
        sdkAppId: APP.sdkAppId,
        secretKey: APP.secretKey,
        identifier: APP.admin,
        baseUrl: emu.url,
        logger,
        shutdownTimeoutMs: 100,
        rateLimit: { redis: server.url, ...limits },
      });
      if (how === 'killed') await broadcaster.send({ MsgBody: [text('before')] });
      send = () => broadcaster.send({ MsgBody: [text('during')] }, deadline);
      close = () => broadcaster.close();
    } else {
      const redis = new Redis(server.url, { retryStrategy: () => 200 });
      redis.on('error', () => {});
      const limiter = createRateLimiter({ store: new RedisStore({ client: redis }), logger, ...limits });
      const client = clientFor(emu.url, limiter);
      const queue = createBroadcastQueue({ client });
      if (how === 'killed') await queue.send({ MsgBody: [text('before')] });
      send = () => queue.send({ MsgBody: [text('during')] }, deadline);
      close = async () => {
        await queue.close({ timeoutMs: 100 });
        await limiter.close();
        await client.close();
        redis.disconnect();
      };
    }
    try {
      if (how === 'killed') await server.kill();
      const started = Date.now();
      const error = await rejection(send());
      const elapsed = Date.now() - started;
      return { error, elapsed, emu, logger };
    } finally {
      await close();
      await emu.close();
      await server.dispose();
    }
  }

  for (const how of ['wrong port', 'killed'] as const) {
    for (const through of ['queue', 'broadcaster'] as const) {
      for (const bound of ['deadline', 'maxWaitMs'] as const) {
        it(`${how}: ${through} send with ${bound === 'deadline' ? 'a deadline' : 'no deadline (maxWaitMs)'}`, async () => {
          const { error, elapsed, emu, logger } = await sendThrough(how, through, bound);
          expect(error).toBeInstanceOf(StoreError);
          expect(error.message).toMatch(
            bound === 'deadline' ? /^rate-limit store "redis": still failing when the 3500 ms deadline passed/ : /still failing after 3500 ms of waiting for a slot \(maxWaitMs\)/,
          );
          // wall time is the point here: not before the bound, and not long after it (slack for a busy host)
          expect(elapsed).toBeGreaterThanOrEqual(BOUND_MS - 50);
          expect(elapsed).toBeLessThan(BOUND_MS + 10_000);
          expect(emu.deliveries.map((d) => (d.body.MsgBody[0]!.MsgContent as { Text: string }).Text)).not.toContain('during');
          // the outage is logged once, whatever the number of failed steps
          expect(logger.lines.filter((l) => l.level === 'warn' && /store failing/.test(l.message))).toHaveLength(1);
        }, 30_000);
      }
    }
  }
});

describe('many steps waiting for the connection (ioredis)', () => {
  it("hold one 'ready' listener on the client, and all go on once it connects", async () => {
    const server = await testRedis();
    const io = new Redis(server.url, { retryStrategy: () => 50 });
    io.on('error', () => {});
    const store = new RedisStore({ client: io, timeoutMs: 20_000 });
    const limiters = Array.from({ length: 40 }, (_, i) => createRateLimiter({ store, ratePerSecond: 20, key: uniqueKey(`ready-${i}`), logger: false }));
    try {
      await server.kill();
      while (io.status === 'ready') await delay(10);
      const before = io.listenerCount('ready');
      const permits = limiters.map((l) => l.acquire());
      // every limiter has sent its step to the store by now, each waiting for the connection
      await delay(200);
      expect(io.listenerCount('ready')).toBeLessThanOrEqual(before + 1);
      await server.start();
      const admitted = await Promise.all(permits);
      expect(admitted).toHaveLength(40);
      for (const permit of admitted) permit?.release();
    } finally {
      await Promise.all(limiters.map((l) => l.close()));
      io.disconnect();
      await server.dispose();
    }
  });
});
