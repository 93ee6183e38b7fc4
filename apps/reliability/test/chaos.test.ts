// Chaos: 300 broadcasts from three concurrent senders (one coalescing) sharing one limiter, against the emulator
// injecting 30% faults of every kind. Every broadcast must be delivered exactly once, every promise must settle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroadcastClient, text, custom, type BroadcastClient } from '@tim-broadcast/core';
import { FAULT_KINDS, startEmulator, type Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter, MemoryStore, type BroadcastQueue } from '@tim-broadcast/rate-limit';
import { recordOutput } from '../../../testing/secret-scan.setup';

const APP = { sdkAppId: 1400000099, secretKey: 'chaos-secret-0123456789abcdef', admin: 'administrator' };
const SENDERS = 3;
const PER_SENDER = 100;
const RATE = 25;

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

let emu: Emulator;
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  emu = await startEmulator({ ...APP, ratePerSecond: RATE, faults: { rate: 0.3, seed: 20261125, slowMs: 300 } });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await emu.close();
});

/** The message id a delivered element carries. */
const idOf = (el: { MsgType: string; MsgContent: Record<string, unknown> }) =>
  el.MsgType === 'TIMTextElem' ? String(el.MsgContent.Text) : JSON.parse(String(el.MsgContent.Data)).id;

describe('chaos', () => {
  it(`delivers ${SENDERS * PER_SENDER} broadcasts exactly once through 30% faults of every kind`, async () => {
    const limiter = createRateLimiter({ store: new MemoryStore(), ratePerSecond: RATE, key: 'chaos' });
    const retries: string[] = [];
    const senders: { client: BroadcastClient; queue: BroadcastQueue }[] = [];
    for (let s = 0; s < SENDERS; s++) {
      const client = createBroadcastClient({
        sdkAppId: APP.sdkAppId,
        secretKey: APP.secretKey,
        identifier: APP.admin,
        baseUrl: emu.url,
        limiter,
        timeoutMs: 200,
        retry: { attempts: 14, baseDelayMs: 5, maxDelayMs: 100, throttleDelayMs: 100 },
        hooks: { onRetry: (e) => retries.push(e.reason), onResponse: recordOutput },
        logger: { warn: recordOutput, error: recordOutput },
      });
      senders.push({ client, queue: createBroadcastQueue({ client, coalesce: s === 0 }) });
    }

    const ids: string[] = [];
    const sends = senders.flatMap(({ queue }, s) =>
      Array.from({ length: PER_SENDER }, (_, i) => {
        const id = `s${s}-m${i}`;
        ids.push(id);
        const body = i % 5 === 0 ? [custom({ Data: { id, pad: 'x'.repeat(i * 20) } })] : [text(id)];
        return queue.send({ MsgBody: body });
      }),
    );
    const settled = await Promise.allSettled(sends);
    await Promise.all(senders.map(async ({ queue, client }) => {
      await queue.close();
      await client.close();
    }));
    await limiter.close();

    const failures = settled.filter((r) => r.status === 'rejected');
    expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);

    // the emulator's record: each message once, none twice, nothing else
    const delivered = emu.deliveries.flatMap((d) => d.body.MsgBody.map(idOf));
    const counts = new Map<string, number>();
    for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect([...counts.keys()].sort()).toEqual([...ids].sort());

    // each caller learned the MsgSeq of the delivery that carries its message
    const seqOf = new Map(emu.deliveries.flatMap((d) => d.body.MsgBody.map((el) => [idOf(el), d.MsgSeq] as const)));
    settled.forEach((r, k) => {
      expect((r as PromiseFulfilledResult<{ MsgSeq: number }>).value.MsgSeq).toBe(seqOf.get(ids[k]!));
    });

    // the faults really happened, of every kind, and were ridden out by retries
    const stats = emu.stats;
    for (const kind of FAULT_KINDS) expect(stats.faults[kind], kind).toBeGreaterThan(0);
    expect(stats.duplicates).toBeGreaterThan(0); // lost answers and slow answers retried into the dedup window
    expect(retries.length).toBeGreaterThan(50);
    expect(unhandled).toEqual([]);
    recordOutput(JSON.stringify(stats));
  });
});
