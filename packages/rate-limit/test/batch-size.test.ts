// The coalescing queue tells each call how many requests it carries (core's `batchSize`), and the emulator records it.
import { afterEach, describe, expect, it } from 'vitest';
import { text, type BroadcastClient } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createBroadcastQueue, createRateLimiter, type BroadcastQueue, type RateLimiter } from '@tim-broadcast/rate-limit';
import { clientFor, emulator } from './helpers';

let emu: Emulator;
let client: BroadcastClient;
let limiter: RateLimiter;
let queue: BroadcastQueue;

afterEach(async () => {
  await queue?.close();
  await limiter?.close();
  await client?.close();
  await emu?.close();
});

const texts = (d: Emulator['deliveries'][number]) => d.body.MsgBody.map((el) => (el.MsgContent as { Text: string }).Text);

describe('a coalescing queue against the emulator', () => {
  it('five requests merged into one call make a delivery with batchSize 5; a lone request one with batchSize 1', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    limiter = createRateLimiter({ ratePerSecond: 20 });
    client = clientFor(emu.url, limiter);
    queue = createBroadcastQueue({ client, coalesce: true });
    await limiter.penalize(100); // every request is waiting before the first slot

    const merged = await Promise.all([0, 1, 2, 3, 4].map((i) => queue.send({ MsgBody: [text(`m${i}`)] })));
    expect(merged.map((r) => r.batchSize)).toEqual([5, 5, 5, 5, 5]);
    const lone = await queue.send({ MsgBody: [text('alone')] });
    expect(lone.batchSize).toBe(1);

    expect(emu.deliveries.map((d) => ({ texts: texts(d), batchSize: d.batchSize }))).toEqual([
      { texts: ['m0', 'm1', 'm2', 'm3', 'm4'], batchSize: 5 },
      { texts: ['alone'], batchSize: 1 },
    ]);
    expect(emu.deliveries[0]!.MsgSeq).toBe(merged[0]!.MsgSeq);
  });

  it('a queue that does not coalesce sends every call with batchSize 1', async () => {
    emu = await emulator({ ratePerSecond: 20 });
    limiter = createRateLimiter({ ratePerSecond: 20 });
    client = clientFor(emu.url, limiter);
    queue = createBroadcastQueue({ client });
    await limiter.penalize(100);
    await Promise.all([0, 1, 2].map((i) => queue.send({ MsgBody: [text(`m${i}`)] })));
    expect(emu.deliveries.map((d) => d.batchSize)).toEqual([1, 1, 1]);
  });
});
