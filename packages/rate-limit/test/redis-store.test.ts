import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore, StoreError, type IoRedisLike, type NodeRedisLike } from '@tim-broadcast/rate-limit';
import { delay, REDIS_URL, uniqueKey } from './helpers';

const every = (intervalMs: number, extra: { limit?: number; id?: string } = {}) => ({ intervalMs, limit: 1, holdMs: 5_000, ...extra });

const io = new Redis(REDIS_URL);
const node = createClient({ url: REDIS_URL });
beforeAll(async () => {
  await node.connect();
});
afterAll(async () => {
  await io.quit();
  await node.quit();
});

describe.each<[string, () => IoRedisLike | NodeRedisLike]>([
  ['ioredis', () => io],
  ['node-redis', () => node],
])('RedisStore with %s', (_name, client) => {
  it('admits at once when idle, then not until one interval later, on Redis time', async () => {
    const store = new RedisStore({ client: client() });
    const key = uniqueKey('slots');
    expect(await store.reserve(key, every(200))).toEqual({ waitMs: 0 });
    const { waitMs } = await store.reserve(key, every(200));
    expect(waitMs).toBeGreaterThan(150);
    expect(waitMs).toBeLessThanOrEqual(200);
    // fractions survive the trip (Redis would truncate Lua numbers to integers)
    expect(Number.isInteger(waitMs)).toBe(false);
    expect((await store.reserve(key, every(200))).waitMs).toBeLessThanOrEqual(waitMs);
    await delay(waitMs + 2);
    expect(await store.reserve(key, every(200))).toEqual({ waitMs: 0 });
  });

  it('stores the TAT and the log under the prefix, both expiring', async () => {
    const key = uniqueKey('ttl');
    const store = new RedisStore({ client: client(), prefix: 'p:' });
    await store.reserve(key, { intervalMs: 3_000, limit: 1, holdMs: 5_000, id: 'call-1' });
    const tatTtl = await io.pttl(`p:{${key}}`);
    expect(tatTtl).toBeGreaterThan(3_000);
    expect(tatTtl).toBeLessThanOrEqual(4_000);
    expect(await io.zrange(`p:{${key}}:log`, 0, -1)).toEqual(['call-1']);
    const logTtl = await io.pttl(`p:{${key}}:log`);
    expect(logTtl).toBeGreaterThan(5_000);
    expect(logTtl).toBeLessThanOrEqual(6_000);
    await store.complete(key, 'call-1', 1_000);
    expect(await io.pttl(`p:{${key}}:log`)).toBeLessThanOrEqual(2_000);
    expect(await io.exists(`tim-broadcast:rl:{${key}}`)).toBe(0);
  });

  it('holds a tracked call in the log until its completion + the window', async () => {
    const store = new RedisStore({ client: client() });
    const key = uniqueKey('log');
    expect(await store.reserve(key, every(0, { limit: 2, id: 'a' }))).toEqual({ waitMs: 0 });
    expect(await store.reserve(key, every(0, { limit: 2, id: 'b' }))).toEqual({ waitMs: 0 });
    expect((await store.reserve(key, every(0, { limit: 2, id: 'c' }))).waitMs).toBeGreaterThan(4_900);
    expect((await store.reserve(key, every(0, { limit: 2 }))).waitMs).toBeGreaterThan(4_900);
    await store.complete(key, 'a', 100);
    const { waitMs } = await store.reserve(key, every(0, { limit: 2, id: 'c' }));
    expect(waitMs).toBeGreaterThan(50);
    expect(waitMs).toBeLessThanOrEqual(100);
    await delay(waitMs + 2);
    expect(await store.reserve(key, every(0, { limit: 2, id: 'c' }))).toEqual({ waitMs: 0 });
    await store.complete(key, 'unknown', 100_000); // ignored
    await store.complete(key, 'b', 0);
    expect(await store.reserve(key, every(0, { limit: 2 }))).toEqual({ waitMs: 0 });
  });

  it('penalize pushes the schedule to max(TAT, now) + ms', async () => {
    const store = new RedisStore({ client: client() });
    const key = uniqueKey('penalty');
    await store.reserve(key, every(500)); // admitted: TAT = now + 500
    await store.penalize(key, 300); // TAT = now + 800
    const { waitMs } = await store.reserve(key, every(100));
    expect(waitMs).toBeGreaterThan(750);
    expect(waitMs).toBeLessThanOrEqual(800);
  });

  it('loads the script again after SCRIPT FLUSH', async () => {
    const store = new RedisStore({ client: client() });
    await io.script('FLUSH');
    await expect(store.reserve(uniqueKey('flush'), every(10))).resolves.toEqual({ waitMs: 0 });
  });
});

describe('RedisStore', () => {
  it('shares one schedule between an ioredis and a node-redis client: one admission at a time', async () => {
    const key = uniqueKey('shared');
    const stores = [new RedisStore({ client: io }), new RedisStore({ client: node })];
    const waits = (await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % 2]!.reserve(key, every(1_000))))).map((r) => r.waitMs);
    expect(waits.filter((w) => w === 0)).toHaveLength(1);
    for (const w of waits.filter((w) => w > 0)) expect(w).toBeGreaterThan(900);
  });

  it('fails with a StoreError naming the store when Redis does not answer', async () => {
    const dead = new Redis({ port: 1, lazyConnect: false, retryStrategy: () => 1_000, maxRetriesPerRequest: 1 });
    dead.on('error', () => {});
    try {
      const error = await new RedisStore({ client: dead, timeoutMs: 200 }).reserve('k', every(10)).catch((e) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.store).toBe('redis');
      expect(error.message).toMatch(/rate-limit store "redis": not connected/);
    } finally {
      dead.disconnect();
    }
  });

  it('rejects what is not a Redis client', () => {
    expect(() => new RedisStore({ client: {} as IoRedisLike })).toThrow(/ioredis client .* or a node-redis client/);
  });
});
