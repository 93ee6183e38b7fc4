import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { text } from '@tim-broadcast/core';
import { createRateLimiter, RedisStore, type IoRedisLike, type NodeRedisLike } from '@tim-broadcast/rate-limit';
import { clientFor, emulator, gaps, uniqueKey } from './helpers';
import { testCluster, type TestCluster } from './redis-cluster';

// A real 3-master Redis Cluster, started for this file. The store's two keys carry a hash tag ({key}), so each
// step runs on the node that owns the key; PUBLISH from the script reaches subscribers on every node.
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await testCluster();
}, 90_000);
afterAll(async () => {
  await cluster?.stop();
});

interface Connected {
  client: IoRedisLike | NodeRedisLike;
  close(): Promise<unknown>;
}

const clients: Record<string, () => Promise<Connected>> = {
  async 'ioredis Cluster'() {
    const client = new Cluster(cluster.nodes);
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    return { client, close: () => client.quit() };
  },
  async 'node-redis createCluster'() {
    const client = createCluster({ rootNodes: cluster.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) });
    client.on('error', () => {});
    await client.connect();
    return { client, close: () => client.close() };
  },
};

const every = (intervalMs: number, extra: { limit?: number; id?: string } = {}) => ({ intervalMs, limit: 1, holdMs: 5_000, ...extra });

describe.each(Object.keys(clients))('RedisStore on a 3-node Redis Cluster (%s)', (name) => {
  let a: Connected;
  let b: Connected;
  beforeAll(async () => {
    a = await clients[name]!();
    b = await clients[name]!();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('keeps each schedule in one slot, on whichever node owns it', async () => {
    const store = new RedisStore({ client: a.client });
    const keys = Array.from({ length: 12 }, (_, i) => uniqueKey(`slot-${i}`));
    for (const key of keys) {
      expect(await store.reserve(key, every(60_000, { id: 'x' }))).toEqual({ waitMs: 0 });
      expect((await store.reserve(key, every(60_000))).waitMs).toBeGreaterThan(30_000);
      await store.complete(key, 'x', 10);
      await store.penalize(key, 10);
    }
    // the TAT and the log share a slot, and the keys spread over the nodes
    for (const key of keys.slice(0, 3)) expect(cluster.keyslot(`tim-broadcast:rl:{${key}}`)).toBe(cluster.keyslot(`tim-broadcast:rl:{${key}}:log`));
    const owners = cluster.cli('dbsize').map(Number);
    expect(owners.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('tells a watcher on another connection when a place is freed', async () => {
    const key = uniqueKey('watch');
    const heard: number[] = [];
    const stop = new RedisStore({ client: a.client }).watch(key, (ms) => heard.push(ms));
    try {
      await vi.waitFor(() => expect(heard).toContain(0), { timeout: 15_000 });
      // a 0 may come from the fallback poll before the subscription is live (a busy host): free places until a push
      // arrives; only a working subscription can carry the 640
      const releaser = new RedisStore({ client: b.client });
      await vi.waitFor(
        async () => {
          const id = `call-${heard.length}-${Math.random()}`;
          await releaser.reserve(key, every(0, { id }));
          await releaser.complete(key, id, 640);
          await new Promise((r) => setTimeout(r, 200));
          expect(heard).toContain(640);
        },
        { timeout: 20_000, interval: 50 },
      );
    } finally {
      stop();
    }
  });

  it('holds the limit for two limiters on separate connections: no 10023, arrivals ≥ 200 ms apart at 5/s', async () => {
    const emu = await emulator({ ratePerSecond: 5 });
    const key = uniqueKey('limit');
    const limiters = [a, b].map((c) => createRateLimiter({ store: new RedisStore({ client: c.client }), ratePerSecond: 5, key, logger: false }));
    const broadcastClients = limiters.map((limiter) => clientFor(emu.url, limiter));
    try {
      await Promise.all(broadcastClients.flatMap((client, c) => Array.from({ length: 5 }, (_, i) => client.broadcast({ MsgBody: [text(`${c}-${i}`)] }))));
      expect(emu.stats.rejected).toEqual({});
      expect(emu.stats.accepted).toBe(10);
      expect(Math.min(...gaps(emu))).toBeGreaterThanOrEqual(200);
    } finally {
      for (const limiter of limiters) await limiter.close();
      for (const client of broadcastClients) await client.close();
      await emu.close();
    }
  }, 60_000);
});
