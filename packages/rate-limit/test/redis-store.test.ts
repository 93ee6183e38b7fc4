import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '@tim-broadcast/core';
import { RedisStore, StoreError, type IoRedisLike, type NodeRedisLike } from '@tim-broadcast/rate-limit';
import { delay, REDIS_URL, uniqueKey } from './helpers';

const every = (intervalMs: number, extra: { limit?: number; id?: string } = {}) => ({ intervalMs, limit: 1, holdMs: 5_000, ...extra });

// Redis keeps the time, so these tests cannot move it: waits are checked against long intervals (a busy host
// may take seconds between two steps and the assertions still hold), and "free again" by sleeping past them.
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
    expect(await store.reserve(key, every(60_000))).toEqual({ waitMs: 0 });
    const { waitMs } = await store.reserve(key, every(60_000));
    expect(waitMs).toBeGreaterThan(30_000);
    expect(waitMs).toBeLessThanOrEqual(60_000);
    // fractions survive the trip (Redis would truncate Lua numbers to integers)
    expect(Number.isInteger(waitMs)).toBe(false);
    expect((await store.reserve(key, every(60_000))).waitMs).toBeLessThanOrEqual(waitMs); // a refused try changes nothing

    const short = uniqueKey('short');
    await store.reserve(short, every(200));
    const wait = (await store.reserve(short, every(200))).waitMs;
    await delay(wait + 5);
    expect(await store.reserve(short, every(200))).toEqual({ waitMs: 0 });
  });

  it('stores the TAT and the log under the prefix, both expiring', async () => {
    const key = uniqueKey('ttl');
    const store = new RedisStore({ client: client(), prefix: 'p:' });
    await store.reserve(key, { intervalMs: 30_000, limit: 1, holdMs: 50_000, id: 'call-1' });
    const tatTtl = await io.pttl(`p:{${key}}`);
    expect(tatTtl).toBeGreaterThan(20_000);
    expect(tatTtl).toBeLessThanOrEqual(31_000);
    expect(await io.zrange(`p:{${key}}:log`, 0, -1)).toEqual(['call-1']);
    const logTtl = await io.pttl(`p:{${key}}:log`);
    expect(logTtl).toBeGreaterThan(40_000);
    expect(logTtl).toBeLessThanOrEqual(51_000);
    await store.complete(key, 'call-1', 1_000);
    expect(await io.pttl(`p:{${key}}:log`)).toBeLessThanOrEqual(2_000);
    expect(await io.exists(`tim-broadcast:rl:{${key}}`)).toBe(0);
  });

  it('holds a tracked call in the log until its completion + the window; hold() extends it', async () => {
    const store = new RedisStore({ client: client() });
    const key = uniqueKey('log');
    expect(await store.reserve(key, every(0, { limit: 2, id: 'a' }))).toEqual({ waitMs: 0 });
    expect(await store.reserve(key, every(0, { limit: 2, id: 'b' }))).toEqual({ waitMs: 0 });
    await store.hold(key, 'b', 600_000);
    await store.hold(key, 'b', 1_000); // never shortened
    await store.hold(key, 'nobody', 600_000); // ignored
    expect((await store.reserve(key, every(0, { limit: 2, id: 'c' }))).waitMs).toBeGreaterThan(1_000); // until a's hold (5 s)
    await store.complete(key, 'a', 300);
    const { waitMs } = await store.reserve(key, every(0, { limit: 2, id: 'c' }));
    expect(waitMs).toBeLessThanOrEqual(300);
    await delay(waitMs + 5);
    expect(await store.reserve(key, every(0, { limit: 2, id: 'c' }))).toEqual({ waitMs: 0 });
    // b is held for 10 minutes, c until its hold: the log is full
    expect((await store.reserve(key, every(0, { limit: 2 }))).waitMs).toBeGreaterThan(1_000);
    await store.complete(key, 'b', 0);
    expect(await store.reserve(key, every(0, { limit: 2 }))).toEqual({ waitMs: 0 });
  });

  it('penalize pushes the schedule to max(TAT, now) + ms', async () => {
    const store = new RedisStore({ client: client() });
    const key = uniqueKey('penalty');
    await store.reserve(key, every(30_000)); // admitted: TAT = now + 30 s
    await store.penalize(key, 30_000); // TAT = now + 60 s
    const { waitMs } = await store.reserve(key, every(100));
    expect(waitMs).toBeGreaterThan(40_000);
    expect(waitMs).toBeLessThanOrEqual(60_000);
  });

  it('tells watchers in other connections when a place is freed, and when it will be', async () => {
    const key = uniqueKey('watch');
    const watcher = new RedisStore({ client: client() });
    const releaser = new RedisStore({ client: io });
    const heard: number[] = [];
    const stop = watcher.watch(key, (inMs) => heard.push(inMs));
    try {
      // the server has the subscription (until then the fallback poll may also say "look again" every 250 ms)
      await vi.waitFor(async () => expect(await io.pubsub('NUMSUB', `tim-broadcast:rl:{${key}}:freed`)).toEqual([`tim-broadcast:rl:{${key}}:freed`, 1]), { timeout: 10_000 });
      await vi.waitFor(() => expect(heard).toContain(0), { timeout: 10_000 }); // subscribed: "look again"
      heard.length = 0;
      await releaser.reserve(key, every(0, { id: 'a' }));
      await releaser.complete(key, 'a', 750);
      await vi.waitFor(() => expect(heard).toContain(750), { timeout: 10_000 });
      await releaser.complete(key, 'unknown', 1); // nothing freed, nothing said
      await releaser.reserve(key, every(0, { limit: 2, id: 'b' }));
      await releaser.complete(key, 'b', 0);
      await vi.waitFor(() => expect(heard.filter((ms) => ms === 0).length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
      expect(heard).not.toContain(1);
    } finally {
      stop();
    }
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
    const waits = (await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % 2]!.reserve(key, every(60_000))))).map((r) => r.waitMs);
    expect(waits.filter((w) => w === 0)).toHaveLength(1);
    for (const w of waits.filter((w) => w > 0)) expect(w).toBeGreaterThan(30_000);
  });

  it('closes the subscriber it opened once nobody watches', async () => {
    const named = async () => ((await io.client('LIST')) as string).split('\n').filter((l) => l.includes('cmd=subscribe') || l.includes('sub=1')).length;
    const before = await named();
    const store = new RedisStore({ client: io });
    const heard: number[] = [];
    const stop = store.watch(uniqueKey('sub'), (ms) => heard.push(ms));
    await vi.waitFor(() => expect(heard).toContain(0), { timeout: 10_000 });
    expect(await named()).toBe(before + 1);
    stop();
    await vi.waitFor(async () => expect(await named()).toBe(before), { timeout: 10_000 });
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

  it('refuses bad options with a ValidationError naming each', () => {
    let error: ValidationError | undefined;
    try {
      new RedisStore({ client: {} as IoRedisLike, prefix: 5 as unknown as string, timeoutMs: Infinity, subscriber: {} as never, timeout: 5 } as never);
    } catch (err) {
      error = err as ValidationError;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const byPath = Object.fromEntries(error!.issues.map((i) => [i.path.join('.'), i.message]));
    expect(Object.keys(byPath).sort()).toEqual(['client', 'prefix', 'subscriber', 'timeout', 'timeoutMs']);
    expect(byPath.timeout).toMatch(/did you mean 'timeoutMs'/);
    expect(byPath.client).toMatch(/ioredis client .* or a node-redis client/);
    expect(() => new RedisStore(undefined as never)).toThrow(ValidationError);
  });
});
