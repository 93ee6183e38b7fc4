import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { text, type BroadcastClientOptions } from '@tim-broadcast/core';
import { manualClock, type Emulator, type EmulatorOptions, type ManualClock } from '@tim-broadcast/emulator';
import {
  createOutbox,
  OutboxExpiredError,
  OutboxFailedError,
  OutboxUncertainError,
  RESEND_WINDOW_MS,
  type Outbox,
  type OutboxHooks,
  type OutboxOptions,
} from '@tim-broadcast/outbox';
import { createRateLimiter, RedisStore } from '@tim-broadcast/rate-limit';
import { clientFor, connect, contentFilter, delay, deliveredTexts, emulator, rejection, uniqueName, until, type Connection } from './helpers';

let conn: Connection;
beforeAll(async () => {
  conn = await connect.ioredis();
});
afterAll(() => conn.close());

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emu = await emulator({ ratePerSecond: 10, ...options });
  cleanup.push(() => emu.close());
  return emu;
}

/** An outbox with a limiter on Redis; `url` is where its client sends (the emulator or a proxy in front of it). */
function outboxFor(url: string, extra: Partial<OutboxOptions> = {}, clientExtra: Partial<BroadcastClientOptions> = {}): Outbox {
  const limiter = createRateLimiter({ store: new RedisStore({ client: conn.client as ConstructorParameters<typeof RedisStore>[0]['client'] }), ratePerSecond: 10, key: uniqueName('rl') });
  const client = clientFor(url, limiter, clientExtra);
  const outbox = createOutbox({ redis: conn.client, client, name: uniqueName('life'), leaseMs: 1_000, ...extra });
  cleanup.push(
    () => outbox.close({ timeoutMs: 1_000 }),
    () => limiter.close(),
    () => client.close(),
  );
  return outbox;
}

function recorder() {
  const events: Record<string, Record<string, unknown>[]> = {};
  const hooks: OutboxHooks = {};
  for (const name of ['onEnqueued', 'onSending', 'onDelivered', 'onFailed', 'onExpired', 'onUncertain', 'onReclaimed'] as const) {
    (hooks as Record<string, (e: Record<string, unknown>) => void>)[name] = (e) => (events[name] ??= []).push(e);
  }
  return { hooks, events };
}

describe('expiry and scheduling (injected clock)', () => {
  let clock: ManualClock;

  it('an expired broadcast is never sent and ends expired; the others go out', async () => {
    const emu = await startEmulator();
    clock = manualClock();
    const { hooks, events } = recorder();
    const outbox = outboxFor(emu.url, { clock, hooks, coalesce: true });
    const stale = await outbox.enqueue({ MsgBody: [text('stale')] }, { ttlMs: 1_000 });
    const fresh = await outbox.enqueue({ MsgBody: [text('fresh')] });
    const unread = await outbox.enqueue({ MsgBody: [text('also stale')] }, { ttlMs: 1_000 });
    clock.advance(1_000);

    // no deliverer yet: reading the status ends it (at its deadline, on the outbox clock)
    expect(await outbox.status(unread.id)).toMatchObject({ state: 'expired', finishedAt: clock.now() });
    await outbox.start();
    expect(await outbox.wait(fresh.id)).toMatchObject({ state: 'delivered', batchSize: 1 });
    const err = await rejection(outbox.wait(stale.id));
    expect(err).toBeInstanceOf(OutboxExpiredError);
    expect((err as OutboxExpiredError).status).toMatchObject({ state: 'expired', expiresAt: stale && (err as OutboxExpiredError).status.enqueuedAt + 1_000 });
    expect(deliveredTexts(emu)).toEqual(['fresh']);
    expect(events.onExpired!.flatMap((e) => e.ids as string[]).sort()).toEqual([stale.id, unread.id].sort());
    expect(await outbox.health()).toMatchObject({ backlog: 0 });
  });

  it('sendAt: scheduled until then, delivered after; its ttl counts from sendAt', async () => {
    const emu = await startEmulator();
    clock = manualClock();
    const outbox = outboxFor(emu.url, { clock });
    const sendAt = new Date(clock.now() + 60_000);
    const { id } = await outbox.enqueue({ MsgBody: [text('later')] }, { sendAt, ttlMs: 5_000 });
    const now = await outbox.enqueue({ MsgBody: [text('now')] });
    expect(await outbox.status(id)).toMatchObject({ state: 'scheduled', sendAt: sendAt.getTime(), expiresAt: sendAt.getTime() + 5_000 });
    expect(await outbox.health()).toMatchObject({ scheduled: 1, queued: 1 });
    await outbox.start();
    await outbox.wait(now.id);
    await delay(1_200); // the deliverer has looked at the schedule a few times (idle cap: half the lease)
    expect(await outbox.status(id)).toMatchObject({ state: 'scheduled' });
    expect(deliveredTexts(emu)).toEqual(['now']);

    clock.advance(60_000);
    expect(await outbox.wait(id)).toMatchObject({ state: 'delivered' });
    expect(deliveredTexts(emu)).toEqual(['now', 'later']);
  });
});

describe('refusals', () => {
  it('a poison broadcast (80001, content filter) in a merged batch fails alone; the others are delivered once, in order', async () => {
    const emu = await startEmulator();
    const filter = await contentFilter(emu, 'FORBIDDEN');
    cleanup.push(() => filter.close());
    const { hooks, events } = recorder();
    const outbox = outboxFor(filter.url, { coalesce: true, hooks });
    const ids = [];
    for (const t of ['a', 'b FORBIDDEN', 'c', 'd']) ids.push((await outbox.enqueue({ MsgBody: [text(t)] })).id);
    await outbox.start();
    const results = await Promise.allSettled(ids.map((id) => outbox.wait(id)));

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const err = (results[1] as PromiseRejectedResult).reason as OutboxFailedError;
    expect(err).toBeInstanceOf(OutboxFailedError);
    expect(err.code).toBe(80001);
    expect(err.status).toMatchObject({ state: 'failed', error: { name: 'ApiError', code: 80001 } });
    // the merged call was refused as a whole (nothing delivered), then each member was sent alone
    expect(filter.refused).toBe(2);
    expect(deliveredTexts(emu)).toEqual(['a', 'c', 'd']);
    expect(emu.deliveries).toHaveLength(3);
    expect(events.onFailed!.map((e) => e.id)).toEqual([ids[1]]);
  });

  it('a refusal that is not the content\'s (10007: broadcast disabled) holds the batch back and retries; delivered once when fixed', async () => {
    const emu = await startEmulator({ broadcastEnabled: false });
    const outbox = outboxFor(emu.url, { coalesce: true });
    const a = await outbox.enqueue({ MsgBody: [text('held 1')] });
    const b = await outbox.enqueue({ MsgBody: [text('held 2')] });
    await outbox.start();
    // refused (nothing delivered): back to queued, held by the deliverer until its backoff ends
    await until(async () => (emu.stats.rejected[10007] ?? 0) >= 1 && (await outbox.status(a.id))?.state === 'queued', 10_000, 'a 10007 answer recorded');
    expect(emu.deliveries).toEqual([]);
    emu.setConfig({ broadcastEnabled: true });
    await Promise.all([outbox.wait(a.id), outbox.wait(b.id)]);
    expect(deliveredTexts(emu)).toEqual(['held 1', 'held 2']);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('a call that may have been delivered (answer lost) is re-sent with the same Random: delivered once', async () => {
    const emu = await startEmulator({ faults: { script: ['lostAnswer'] } });
    const { hooks, events } = recorder();
    // one attempt per call, so the outbox itself does the re-send
    const outbox = outboxFor(emu.url, { hooks }, { retry: false });
    const { id } = await outbox.enqueue({ MsgBody: [text('lost answer')] });
    await outbox.start();
    const status = await outbox.wait(id);
    expect(status).toMatchObject({ state: 'delivered', attempts: 2, MsgSeq: emu.deliveries[0]!.MsgSeq, Random: emu.deliveries[0]!.Random });
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.stats.duplicates).toBe(1);
    expect(events.onSending!.map((e) => [e.attempt, e.Random])).toEqual([
      [1, status.Random],
      [2, status.Random],
    ]);
  });
});

describe('the dedup window', () => {
  it('a batch that may have been delivered is not re-sent once the window (minus the margin) has passed: uncertain', async () => {
    const clock = manualClock();
    // the call arrives and is delivered; its answer comes too late for the client; meanwhile 5 minutes pass
    const emu = await startEmulator({ faults: { script: ['slow'], slowMs: 3_000 }, onCall: () => clock.advance(RESEND_WINDOW_MS + 1) });
    const { hooks, events } = recorder();
    const outbox = outboxFor(emu.url, { clock, hooks }, { retry: false, timeoutMs: 300 });
    const { id } = await outbox.enqueue({ MsgBody: [text('maybe')] });
    await outbox.start();
    const err = (await rejection(outbox.wait(id))) as OutboxUncertainError;
    expect(err).toBeInstanceOf(OutboxUncertainError);
    expect(err.reason).toBe('dedup-window');
    expect(err.status).toMatchObject({ state: 'uncertain', attempts: 1 });
    expect(emu.stats.requests).toBe(1); // never sent again
    expect(emu.deliveries).toHaveLength(1);
    expect(events.onUncertain).toEqual([expect.objectContaining({ ids: [id], reason: 'dedup-window' })]);
    expect(events.onDelivered).toBeUndefined();
  });
});

describe('close()', () => {
  it('with a call in flight past its timeoutMs: returns, keeps everything, and another deliverer finishes it exactly once', async () => {
    const emu = await startEmulator({ faults: { script: ['slow'], slowMs: 1_500 } });
    const sending: string[][] = [];
    const first = outboxFor(emu.url, { hooks: { onSending: (e) => sending.push(e.ids) } });
    const ids = [];
    for (const t of ['one', 'two', 'three']) ids.push((await first.enqueue({ MsgBody: [text(t)] })).id);
    await first.start();
    await until(() => sending.length === 1, 10_000, 'the first call');
    await first.close({ timeoutMs: 100 });
    expect(first.delivering).toBe(false);

    const { hooks, events } = recorder();
    const second = outboxFor(emu.url, { name: first.name, hooks });
    // the batch in flight stays recorded; nothing was deleted
    expect(await second.status(ids[0]!)).toMatchObject({ state: 'sending' });
    expect(await second.status(ids[1]!)).toMatchObject({ state: 'queued' });
    await second.start();
    const statuses = await Promise.all(ids.map((id) => second.wait(id)));
    expect(statuses.map((s) => s.state)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(deliveredTexts(emu)).toEqual(['one', 'two', 'three']);
    expect(emu.stats.duplicates).toBe(1); // the re-send of 'one' (same Random) was a no-op
    expect(events.onReclaimed![0]).toMatchObject({ ids: [ids[0]], batches: 1 });
  });

  it('with a generous timeoutMs: waits for the call in flight to be recorded, leaves the rest queued', async () => {
    const emu = await startEmulator({ faults: { script: ['slow'], slowMs: 500 } });
    const sending: string[][] = [];
    const outbox = outboxFor(emu.url, { hooks: { onSending: (e) => sending.push(e.ids) } });
    const a = await outbox.enqueue({ MsgBody: [text('in flight')] });
    const b = await outbox.enqueue({ MsgBody: [text('left queued')] });
    await outbox.start();
    await until(() => sending.length === 1, 10_000, 'the first call');
    await outbox.close({ timeoutMs: 10_000 });
    const reader = outboxFor(emu.url, { name: outbox.name });
    expect(await reader.status(a.id)).toMatchObject({ state: 'delivered' });
    expect(await reader.status(b.id)).toMatchObject({ state: 'queued' });
    expect(deliveredTexts(emu)).toEqual(['in flight']);
  });
});

describe('bounded growth', () => {
  it('finished records are deleted after retentionMs; the stream keeps only unfinished entries', async () => {
    const emu = await startEmulator();
    const clock = manualClock();
    const first = outboxFor(emu.url, { clock, retentionMs: 60_000, coalesce: true });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await first.enqueue({ MsgBody: [text(`kept ${i}`)] })).id);
    const expired = await first.enqueue({ MsgBody: [text('expires')] }, { ttlMs: 1_000, sendAt: clock.now() + 1_000 });
    await first.start();
    await Promise.all(ids.map((id) => first.wait(id)));
    clock.advance(2_000);
    await rejection(first.wait(expired.id));
    await first.close();
    const name = first.name;
    const keys = (await (conn.client as unknown as { keys(p: string): Promise<string[]> }).keys(`tim-broadcast:outbox:{${name}}:*`)).sort();
    expect(keys.map((k) => k.slice(k.lastIndexOf(':') + 1))).toEqual(['gc', 'q', 'rec', 'wake']); // a closed deliverer leaves the live list
    const io = conn.client as unknown as { xlen(k: string): Promise<number>; hlen(k: string): Promise<number> };
    const prefix = `tim-broadcast:outbox:{${name}}`;
    expect(await io.xlen(`${prefix}:q`)).toBe(0);
    expect(await io.hlen(`${prefix}:rec`)).toBe(6);
    expect(await io.xlen(`${prefix}:gc`)).toBe(6);

    // past the retention, the next deliverer's first clean-up deletes the records
    clock.advance(60_000);
    const second = outboxFor(emu.url, { name, clock, retentionMs: 60_000 });
    await second.start();
    await until(async () => (await io.hlen(`${prefix}:rec`)) === 0, 10_000, 'the clean-up');
    expect(await io.xlen(`${prefix}:gc`)).toBe(0);
    expect(await second.status(ids[0]!)).toBeUndefined();
  });
});
