import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, custom, text, TimBroadcastError, ValidationError, type BroadcastClient } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import {
  createOutbox,
  OutboxClosedError,
  OutboxNotFoundError,
  OutboxWaitTimeoutError,
  type Outbox,
  type OutboxHooks,
  type OutboxOptions,
  type OutboxRedis,
} from '@tim-broadcast/outbox';
import { createRateLimiter, RedisStore, type RateLimiter } from '@tim-broadcast/rate-limit';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { validationError } from '../../../testing/validation';
import { clientFor, connect, delay, deliveredTexts, emulator, rejection, uniqueName, type Connection } from './helpers';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator({ ratePerSecond: 5 });
});
afterAll(() => emu.close());

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** An outbox on `conn` whose client has a RedisStore limiter (5/s, like the emulator); closed after the test. */
function setUp(conn: Connection, extra: Partial<OutboxOptions> = {}): { outbox: Outbox; client: BroadcastClient; limiter: RateLimiter } {
  const limiter = createRateLimiter({ store: new RedisStore({ client: conn.client as ConstructorParameters<typeof RedisStore>[0]['client'] }), ratePerSecond: 5, key: uniqueName('rl') });
  const client = clientFor(emu.url, limiter);
  const outbox = createOutbox({ redis: conn.client, client, name: uniqueName('basic'), ...extra });
  cleanup.push(
    () => outbox.close(),
    () => limiter.close(),
    () => client.close(),
  );
  return { outbox, client, limiter };
}

function recordHooks(): { hooks: OutboxHooks; events: { name: string; event: Record<string, unknown> }[] } {
  const events: { name: string; event: Record<string, unknown> }[] = [];
  const names = ['onEnqueued', 'onSending', 'onDelivered', 'onFailed', 'onExpired', 'onUncertain', 'onReclaimed'] as const;
  const hooks = Object.fromEntries(names.map((name) => [name, (event: Record<string, unknown>) => events.push({ name, event })])) as OutboxHooks;
  return { hooks, events };
}

describe.each(['ioredis', 'node-redis'] as const)('the basic path (%s)', (library) => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await connect[library]();
  });
  afterAll(() => conn.close());

  it('enqueued broadcasts wait until a deliverer starts, then go out packed in order; status and wait report delivered', async () => {
    emu.reset();
    const { hooks, events } = recordHooks();
    const { outbox } = setUp(conn, { coalesce: true, hooks });
    const tag = uniqueName(library);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await outbox.enqueue({ MsgBody: [text(`${tag}-${i}`)] })).id);
    ids.push((await outbox.enqueue({ MsgBody: [custom({ Data: `${tag}-c` })] })).id);

    // a process that only enqueues never delivers
    await delay(300);
    expect(emu.deliveries).toEqual([]);
    expect(await outbox.status(ids[0]!)).toMatchObject({ id: ids[0], state: 'queued' });
    const before = await outbox.health();
    expect(before).toMatchObject({ status: 'up', delivering: false, queued: 5, inProgress: 0, scheduled: 0, backlog: 5 });
    expect(before.oldestAgeMs).toBeGreaterThanOrEqual(0);

    await outbox.start();
    expect(outbox.delivering).toBe(true);
    const statuses = await Promise.all(ids.map((id) => outbox.wait(id)));

    // one call: four texts and the custom element fit 12,000 bytes and hold one custom element
    expect(emu.deliveries).toHaveLength(1);
    expect(deliveredTexts(emu)).toEqual([0, 1, 2, 3].map((i) => `${tag}-${i}`));
    const [delivery] = emu.deliveries;
    for (const status of statuses) {
      expect(status).toMatchObject({ state: 'delivered', MsgSeq: delivery!.MsgSeq, Random: delivery!.Random, batchSize: 5, attempts: 1 });
      expect(status.finishedAt).toBeGreaterThanOrEqual(status.enqueuedAt);
    }
    expect(await outbox.status(ids[4]!)).toEqual(statuses[4]);
    expect(events.map((e) => e.name)).toEqual(['onEnqueued', 'onEnqueued', 'onEnqueued', 'onEnqueued', 'onEnqueued', 'onSending', 'onDelivered']);
    expect(events[5]!.event).toMatchObject({ ids, batchSize: 5, attempt: 1, Random: delivery!.Random });
    expect(events[6]!.event).toMatchObject({ ids, MsgSeq: delivery!.MsgSeq });
    expect(await outbox.health()).toMatchObject({ status: 'up', delivering: true, queued: 0, inProgress: 0, backlog: 0, oldestAgeMs: undefined, deliverers: 1 });
  });

  it('a broadcast enqueued while the deliverer idles is picked up without polling (blocking read wakes it)', async () => {
    emu.reset();
    const { outbox } = setUp(conn);
    await outbox.start();
    await delay(200); // idle: blocked on the stream
    const { id } = await outbox.enqueue({ MsgBody: [text('late arrival')] });
    await expect(outbox.wait(id)).resolves.toMatchObject({ state: 'delivered', batchSize: 1 });
    expect(deliveredTexts(emu)).toEqual(['late arrival']);
  });
});

describe('enqueue', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await connect.ioredis();
  });
  afterAll(() => conn.close());

  it('refuses invalid requests with the client\'s ValidationError, naming the path; nothing enters Redis', async () => {
    const { outbox } = setUp(conn);
    const bad = await rejection(outbox.enqueue({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: {} }] } as never));
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues[0]!.path).toEqual(['MsgBody', 0, 'MsgContent', 'Text']);
    const big = await rejection(outbox.enqueue({ MsgBody: [text('x'.repeat(12_100))] }));
    expect(big).toBeInstanceOf(ValidationError);
    expect(big.message).toMatch(/12,?000/);
    const small = createOutbox({ redis: conn.client, client: clientFor(emu.url), name: uniqueName('small'), maxBytes: 100 });
    expect((await rejection(small.enqueue({ MsgBody: [text('x'.repeat(200))] }))).message).toMatch(/maxBytes is 100/);
    expect(await outbox.health()).toMatchObject({ backlog: 0 });
  });

  it('refuses unknown and bad options, naming the closest known one', async () => {
    const { outbox } = setUp(conn);
    const err = (await rejection(outbox.enqueue({ MsgBody: [text('a')] }, { ttl: 5 } as never))) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.issues[0]).toMatchObject({ path: ['options', 'ttl'] });
    expect(err.issues[0]!.message).toContain("did you mean 'ttlMs'?");
    const bad = (await rejection(outbox.enqueue({ MsgBody: [text('a')] }, { ttlMs: -1, sendAt: 'soon' as never, idempotencyKey: '' }))) as ValidationError;
    expect(bad.issues.map((i) => i.path.join('.'))).toEqual(['options.ttlMs', 'options.sendAt', 'options.idempotencyKey']);
    const both = (await rejection(outbox.enqueue({ MsgBody: [text('a')], Random: 1 }, { idempotencyKey: 'k' }))) as ValidationError;
    expect(both.message).toContain('either Random or idempotencyKey');
  });

  it('the same idempotencyKey returns the first id and adds nothing; its Random is derived from the key', async () => {
    emu.reset();
    const { outbox } = setUp(conn);
    const first = await outbox.enqueue({ MsgBody: [text('once')] }, { idempotencyKey: 'order-42' });
    const again = await outbox.enqueue({ MsgBody: [text('once')] }, { idempotencyKey: 'order-42' });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(await outbox.health()).toMatchObject({ queued: 1 });
    await outbox.start();
    const status = await outbox.wait(first.id);
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.deliveries[0]!.Random).toBe(status.Random);
  });

  it('an aborted signal rejects with AbortError and adds nothing', async () => {
    const { outbox } = setUp(conn);
    const err = await rejection(outbox.enqueue({ MsgBody: [text('never')] }, { signal: AbortSignal.abort() }));
    expect(err).toBeInstanceOf(AbortError);
    expect(await outbox.health()).toMatchObject({ backlog: 0 });
  });

  it('rejects after close with OutboxClosedError; close never deletes what is queued', async () => {
    const { outbox } = setUp(conn);
    const { id } = await outbox.enqueue({ MsgBody: [text('stays')] });
    await outbox.close();
    expect(await rejection(outbox.enqueue({ MsgBody: [text('late')] }))).toBeInstanceOf(OutboxClosedError);
    await expect(outbox.start()).rejects.toBeInstanceOf(OutboxClosedError);
    const reader = createOutbox({ redis: conn.client, client: clientFor(emu.url), name: outbox.name });
    expect(await reader.status(id)).toMatchObject({ state: 'queued' });
  });
});

describe('status and wait', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await connect.ioredis();
  });
  afterAll(() => conn.close());

  it('an unknown id: status is undefined, wait rejects with OutboxNotFoundError; a bad id is a ValidationError', async () => {
    const { outbox } = setUp(conn);
    expect(await outbox.status('nope')).toBeUndefined();
    const err = await rejection(outbox.wait('nope'));
    expect(err).toBeInstanceOf(OutboxNotFoundError);
    expect(err).toBeInstanceOf(TimBroadcastError);
    expect(await rejection(outbox.status(42 as never))).toBeInstanceOf(ValidationError);
    const opts = (await rejection(outbox.wait('x', { timeout: 1 } as never))) as ValidationError;
    expect(opts.issues[0]!.message).toContain("did you mean 'timeoutMs'?");
  });

  it('wait is bounded: its timeoutMs rejects with OutboxWaitTimeoutError, its signal with AbortError; the broadcast carries on', async () => {
    const { outbox } = setUp(conn);
    const { id } = await outbox.enqueue({ MsgBody: [text('nobody delivers')] });
    const timeout = await rejection(outbox.wait(id, { timeoutMs: 200 }));
    expect(timeout).toBeInstanceOf(OutboxWaitTimeoutError);
    expect(timeout.message).toContain('still queued');
    const controller = new AbortController();
    const waiting = outbox.wait(id, { signal: controller.signal });
    controller.abort();
    expect(await rejection(waiting)).toBeInstanceOf(AbortError);
    expect(await outbox.status(id)).toMatchObject({ state: 'queued' });
  });

  it('close() rejects pending waits with OutboxClosedError', async () => {
    const { outbox } = setUp(conn);
    const { id } = await outbox.enqueue({ MsgBody: [text('waiting')] });
    const waiting = rejection(outbox.wait(id));
    await delay(50);
    await outbox.close();
    expect(await waiting).toBeInstanceOf(OutboxClosedError);
  });
});

describe('Redis unreachable', () => {
  it.each(['ioredis', 'node-redis'] as const)('%s: wait() fails within its bound, and close() still resolves (the subscriber still connecting is dropped)', async (lib) => {
    const dead = 'redis://127.0.0.1:1';
    let client: OutboxRedis;
    let stop: () => unknown;
    if (lib === 'ioredis') {
      const io = new Redis(dead, { retryStrategy: () => 100, maxRetriesPerRequest: null });
      io.on('error', () => {});
      client = io;
      stop = () => io.disconnect();
    } else {
      const node = createClient({ url: dead, socket: { reconnectStrategy: () => 100 } });
      node.on('error', () => {});
      node.connect().catch(() => {});
      client = node as unknown as OutboxRedis;
      stop = () => node.destroy();
    }
    try {
      const outbox = createOutbox({ redis: client, client: clientFor('http://127.0.0.1:9'), name: uniqueName('dead'), redisTimeoutMs: 300 });
      expect(await rejection(outbox.wait('some-id', { timeoutMs: 2_000 }))).toBeInstanceOf(TimBroadcastError);
      const closed = await Promise.race([outbox.close().then(() => 'closed'), delay(5_000).then(() => 'still closing')]);
      expect(closed).toBe('closed');
    } finally {
      stop();
    }
  });
});

describe('createOutbox options', () => {
  it('are checked at once: unknown keys with the closest name, bad values by path', async () => {
    const conn = await connect.ioredis();
    try {
      const client = clientFor(emu.url);
      const err = validationError(() =>
        createOutbox({ redis: conn.client, client, name: 'a{b}', leaseMs: 100, coalesc: true, hooks: { onDelivred: () => {} } } as never),
      );
      const byPath = Object.fromEntries(err.issues.map((i) => [i.path.join('.'), i.message]));
      expect(byPath['coalesc']).toContain("did you mean 'coalesce'?");
      expect(byPath['hooks.onDelivred']).toContain("did you mean 'onDelivered'?");
      expect(byPath['name']).toContain('braces');
      expect(byPath['leaseMs']).toMatch(/≥ 500/);
      expect(() => createOutbox({ redis: {} as never, client, name: 'x' })).toThrow(/redis: expected an ioredis or node-redis client/);
      expect(() => createOutbox({ redis: conn.client, client: {} as never, name: 'x' })).toThrow(/client: expected a BroadcastClient/);
      expect(() => createOutbox({ redis: conn.client, client, name: 'x', maxAgeMs: 2 ** 31 })).toThrow(/maxAgeMs/);
    } finally {
      await conn.close();
    }
  });
});
