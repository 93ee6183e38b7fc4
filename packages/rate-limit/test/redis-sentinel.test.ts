import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createSentinel } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRateLimiter, RedisStore, type IoRedisLike, type NodeRedisLike } from '@tim-broadcast/rate-limit';
import { freePort } from '../../../testing/free-port';
import { killProcess, spawnRedis } from '../../../testing/redis-server';
import { uniqueKey } from './helpers';

// A master and one Sentinel that monitors it, on free ports; the clients ask the Sentinel for the master.
let dir: string;
const processes: ChildProcess[] = [];
let sentinelPort: number;

async function start(args: string[]): Promise<void> {
  processes.push(await spawnRedis(args, /Ready to accept connections|Sentinel ID is/));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tim-broadcast-sentinel-'));
  const masterPort = await freePort();
  sentinelPort = await freePort();
  await start(['--port', String(masterPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  const config = join(dir, 'sentinel.conf');
  writeFileSync(config, `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor mymaster 127.0.0.1 ${masterPort} 1\n`);
  await start([config, '--sentinel']);
}, 30_000);

afterAll(async () => {
  await Promise.all(processes.map(killProcess));
  rmSync(dir, { recursive: true, force: true });
});

const clients: Record<string, () => Promise<{ client: IoRedisLike | NodeRedisLike; close(): Promise<unknown> }>> = {
  async 'ioredis with sentinels'() {
    const client = new Redis({ sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'mymaster' });
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    return { client, close: () => client.quit() };
  },
  async 'node-redis createSentinel'() {
    const client = createSentinel({ name: 'mymaster', sentinelRootNodes: [{ host: '127.0.0.1', port: sentinelPort }] });
    client.on('error', () => {});
    await client.connect();
    return { client, close: () => client.close() };
  },
};

describe.each(Object.keys(clients))('RedisStore through Sentinel (%s)', (name) => {
  it('admits, spaces, and wakes a waiter when the call in flight ends', async () => {
    const { client, close } = await clients[name]!();
    const limiter = createRateLimiter({ store: new RedisStore({ client }), ratePerSecond: 1, key: uniqueKey('sentinel'), logger: false });
    const heard: number[] = [];
    const watched = uniqueKey('sentinel-watch');
    const store = new RedisStore({ client });
    const stop = store.watch(watched, (ms) => heard.push(ms));
    try {
      const first = await limiter.acquire();
      let second = false;
      const next = limiter.acquire().then((permit) => {
        second = true;
        permit.release();
      });
      await vi.waitFor(() => expect(limiter.waiting).toBe(1));
      expect(second).toBe(false); // the place is held while the first call is in flight
      first.release();
      await next; // woken by the store's news (or, at worst, by its own timer): not stuck
      // news of a freed place comes through pub/sub on this set-up too
      await vi.waitFor(async () => {
        await store.reserve(watched, { intervalMs: 0, limit: 100, holdMs: 5_000, id: 'call' });
        await store.complete(watched, 'call', 777);
        expect(heard).toContain(777);
      }, { timeout: 15_000, interval: 300 });
    } finally {
      stop();
      await limiter.close();
      await close();
    }
  }, 30_000);
});

