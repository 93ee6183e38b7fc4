import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, custom, messageBytes, text, type BroadcastClient, type MsgElement } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter, type RateLimiter } from '@tim-broadcast/rate-limit';
import { clientFor, emulator } from './helpers';

let emu: Emulator;
let client: BroadcastClient;
let limiter: RateLimiter;

async function setUp(rate: number, clientExtra: Parameters<typeof clientFor>[2] = {}) {
  emu = await emulator({ ratePerSecond: rate });
  limiter = createRateLimiter({ ratePerSecond: rate });
  client = clientFor(emu.url, limiter, clientExtra);
}

afterEach(async () => {
  await limiter?.close();
  await client?.close();
  await emu?.close();
});

/** A deterministic PRNG, so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

/** Message i: one element of 20–3,000 bytes whose payload starts with `#i:`; about one in six is custom. */
function message(i: number, random: () => number): MsgElement {
  const size = 20 + Math.floor(random() * 2_981);
  const isCustom = random() < 1 / 6;
  const overhead = messageBytes([isCustom ? custom('') : text('')]);
  const payload = `#${i}:`.padEnd(Math.max(size - overhead, `#${i}:`.length), 'x');
  return isCustom ? custom(payload) : text(payload);
}

const idOf = (el: MsgElement) => Number(/^#(\d+):/.exec('Text' in el.MsgContent ? el.MsgContent.Text : (el.MsgContent as { Data: string }).Data)![1]);

describe('coalescing', () => {
  it('300 mixed messages: each delivered exactly once, in order, no call over 12,000 bytes or with two custom elements', async () => {
    await setUp(20);
    const queue = createBroadcastQueue({ client, coalesce: true });
    const random = prng(42);
    const elements = Array.from({ length: 300 }, (_, i) => message(i, random));
    const results = await Promise.all(elements.map((el) => queue.send({ MsgBody: [el] })));

    const calls = emu.deliveries;
    const delivered = calls.flatMap((d) => d.body.MsgBody.map(idOf));
    expect(delivered).toEqual(elements.map((_, i) => i)); // exactly once, in order
    for (const call of calls) {
      expect(call.bytes).toBeLessThanOrEqual(12_000);
      expect(messageBytes(call.body.MsgBody)).toBe(call.bytes);
      expect(call.body.MsgBody.filter((el) => el.MsgType === 'TIMCustomElem').length).toBeLessThanOrEqual(1);
    }
    // each caller learns the MsgSeq of the call that carried its message, and how many rode along
    calls.forEach((call) => {
      for (const el of call.body.MsgBody) expect(results[idOf(el)]).toMatchObject({ MsgSeq: call.MsgSeq, batchSize: call.body.MsgBody.length });
    });
    // greedy: a call closed only because the next message did not fit
    for (let c = 0; c < calls.length - 1; c++) {
      const body = calls[c]!.body.MsgBody;
      const next = calls[c + 1]!.body.MsgBody[0]!;
      const tooBig = messageBytes([...body, next]) > 12_000;
      const twoCustoms = next.MsgType === 'TIMCustomElem' && body.some((el) => el.MsgType === 'TIMCustomElem');
      expect(tooBig || twoCustoms).toBe(true);
    }
    expect(calls.length).toBeLessThan(150);
    expect(emu.stats.rejected).toEqual({});
  });

  it('packs at the moment the slot comes: what arrives while a call is in flight rides in the next call', async () => {
    await setUp(2);
    emu.setFaults({ script: ['slow'], slowMs: 300 });
    const queue = createBroadcastQueue({ client, coalesce: true });
    const first = queue.send({ MsgBody: [text('first')] }); // idle limiter: sent at once
    await vi.waitFor(() => expect(queue.inFlight).toBe(1));
    // the next slot comes only after the first call's answer (+ 500 ms): all five are waiting by then
    const later = Array.from({ length: 5 }, (_, i) => queue.send({ MsgBody: [text(`later ${i}`)] }));
    expect((await first).batchSize).toBe(1);
    const results = await Promise.all(later);
    expect(results.map((r) => r.batchSize)).toEqual([5, 5, 5, 5, 5]);
    expect(emu.deliveries).toHaveLength(2);
  });

  it('never merges a request with its own Random or an idempotency key, nor across senders or CloudCustomData', async () => {
    await setUp(20);
    await limiter.penalize(150); // let everything queue up first
    const queue = createBroadcastQueue({ client, coalesce: true });
    const sends = [
      queue.send({ MsgBody: [text('a1')] }),
      queue.send({ MsgBody: [text('a2')] }),
      queue.send({ MsgBody: [text('own random')], Random: 7 }),
      queue.send({ MsgBody: [text('a3')] }),
      queue.send({ MsgBody: [text('keyed')] }, { idempotencyKey: 'order-1' }),
      queue.send({ MsgBody: [text('b1')], From_Account: 'bob' }),
      queue.send({ MsgBody: [text('b2')], From_Account: 'bob' }),
      queue.send({ MsgBody: [text('c1')], From_Account: 'bob', CloudCustomData: 'c' }),
      queue.send({ MsgBody: [text('a4')] }),
    ];
    await Promise.all(sends);
    const calls = emu.deliveries.map((d) => d.body.MsgBody.map((el) => (el.MsgContent as { Text: string }).Text));
    expect(calls).toEqual([['a1', 'a2'], ['own random'], ['a3'], ['keyed'], ['b1', 'b2'], ['c1'], ['a4']]);
    expect(emu.deliveries[1]!.Random).toBe(7);
    expect(emu.deliveries[4]!.body.From_Account).toBe('bob');
    expect(emu.deliveries[5]!.body.CloudCustomData).toBe('c');
  });

  it('when a packed call fails, every caller in it gets the error', async () => {
    await setUp(20, { retry: false });
    await limiter.penalize(100);
    emu.setFaults({ script: ['error10002'] });
    const queue = createBroadcastQueue({ client, coalesce: true });
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => queue.send({ MsgBody: [text(`m${i}`)] })));
    const errors = outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value));
    expect(errors.every((e) => e instanceof ApiError && e.code === 10002)).toBe(true);
    expect(new Set(errors).size).toBe(1);
  });

  it('respects a smaller maxBytes', async () => {
    await setUp(20);
    await limiter.penalize(100);
    const queue = createBroadcastQueue({ client, coalesce: true, maxBytes: 200 });
    const el = text('x'.repeat(50)); // 102 bytes alone; two make 203
    await Promise.all([1, 2, 3].map(() => queue.send({ MsgBody: [el] })));
    expect(emu.deliveries.map((d) => d.bytes)).toEqual([102, 102, 102]);
  });
});
