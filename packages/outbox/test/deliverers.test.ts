import { afterEach, describe, expect, it } from 'vitest';
import { custom, text } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createOutbox, type Outbox } from '@tim-broadcast/outbox';
import { createRateLimiter, RedisStore } from '@tim-broadcast/rate-limit';
import { clientFor, connect, delay, deliveredTexts, emulator, REDIS_URL, repeats, uniqueName, until, type Connection } from './helpers';
import { testRedis } from '../../../testing/redis-server';

const RATE = 5;
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startEmulator(): Promise<Emulator> {
  const emu = await emulator({ ratePerSecond: RATE });
  cleanup.push(() => emu.close());
  return emu;
}

/** A deliverer: its own client, limiter (RedisStore on `conn`, shared key) and outbox. */
function replica(conn: Connection, emu: Emulator, name: string, key: string, onDelivered?: (ids: string[]) => void): Outbox {
  const limiter = createRateLimiter({ store: new RedisStore({ client: conn.client as ConstructorParameters<typeof RedisStore>[0]['client'] }), ratePerSecond: RATE, key });
  const client = clientFor(emu.url, limiter);
  const outbox = createOutbox({ redis: conn.client, client, name, coalesce: true, leaseMs: 2_000, hooks: { onDelivered: (e) => onDelivered?.(e.ids) } });
  cleanup.push(
    () => outbox.close({ timeoutMs: 2_000 }),
    () => limiter.close(),
    () => client.close(),
  );
  return outbox;
}

async function connection(library: 'ioredis' | 'node-redis', url = REDIS_URL): Promise<Connection> {
  const conn = await connect[library](url);
  cleanup.push(() => conn.close());
  return conn;
}

describe('several deliverers', () => {
  it('3 deliverers at once (ioredis and node-redis): every broadcast delivered once, calls packed in order, no 10023', async () => {
    const emu = await startEmulator();
    const name = uniqueName('three');
    const key = uniqueName('rl');
    const conns = [await connection('ioredis'), await connection('node-redis'), await connection('ioredis')];
    const byReplica: number[] = [0, 0, 0];
    const replicas = conns.map((conn, i) => replica(conn, emu, name, key, (ids) => (byReplica[i]! += ids.length)));
    // 60 broadcasts of 400–3,400 bytes, every fifth with a custom element: about 20 calls
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const body = `${i}:`.padEnd(400 + ((i * 977) % 3_000), 'x');
      ids.push((await replicas[i % 3]!.enqueue({ MsgBody: i % 5 === 4 ? [text(body), custom({ Data: `c${i}` })] : [text(body)] })).id);
    }
    await Promise.all(replicas.map((r) => r.start()));
    expect((await replicas[0]!.health()).deliverers).toBe(3);
    const statuses = await Promise.all(ids.map((id, i) => replicas[i % 3]!.wait(id)));

    expect(statuses.every((s) => s.state === 'delivered')).toBe(true);
    const delivered = deliveredTexts(emu).map((t) => Number(t.slice(0, t.indexOf(':'))));
    expect(repeats(delivered.map(String))).toEqual({});
    expect([...delivered].sort((a, b) => a - b)).toEqual(ids.map((_, i) => i));
    // each call carries a run of consecutive broadcasts, within the byte budget
    for (const d of emu.deliveries) {
      const idx = d.body.MsgBody.filter((el) => el.MsgType === 'TIMTextElem').map((el) => Number((el.MsgContent as { Text: string }).Text.split(':')[0]));
      expect(idx).toEqual(idx.map((_, k) => idx[0]! + k));
      expect(d.bytes).toBeLessThanOrEqual(12_000);
    }
    expect(emu.deliveries.length).toBeLessThan(30);
    expect(emu.stats.rejected[10023]).toBeUndefined();
    expect(emu.stats.maxAcceptedInOneSecond).toBeLessThanOrEqual(RATE);
    expect(byReplica.reduce((a, b) => a + b)).toBe(60);
    expect(byReplica.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('Redis (AOF) killed and restarted mid-run: delivery resumes; every broadcast delivered once, no 10023', async () => {
    const redis = await testRedis({ persistent: true });
    cleanup.push(() => redis.dispose());
    const emu = await startEmulator();
    const name = uniqueName('restart');
    const key = uniqueName('rl');
    const replicas = [replica(await connection('ioredis', redis.url), emu, name, key), replica(await connection('node-redis', redis.url), emu, name, key)];
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await replicas[i % 2]!.enqueue({ MsgBody: [text(`r-${i}`), custom({ Data: `${i}` })] })).id);
    await Promise.all(replicas.map((r) => r.start()));

    await until(() => emu.deliveries.length >= 8, 30_000, '8 deliveries');
    await redis.kill();
    const during = emu.deliveries.length;
    await delay(1_000);
    await redis.start();

    const statuses = await Promise.all(ids.map((id, i) => replicas[i % 2]!.wait(id, { timeoutMs: 60_000 })));
    expect(statuses.every((s) => s.state === 'delivered')).toBe(true);
    const texts = deliveredTexts(emu);
    expect(repeats(texts)).toEqual({});
    expect([...texts].sort()).toEqual(ids.map((_, i) => `r-${i}`).sort());
    expect(emu.stats.rejected[10023]).toBeUndefined();
    expect(during).toBeLessThan(30); // the outage really was mid-run
  }, 90_000);
});
