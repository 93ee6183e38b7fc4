// The deliverer tells each call how many broadcasts it carries (core's `batchSize`), and the emulator records it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { text } from '@tim-broadcast/core';
import type { Emulator } from '@tim-broadcast/emulator';
import { createOutbox } from '@tim-broadcast/outbox';
import { createRateLimiter } from '@tim-broadcast/rate-limit';
import { clientFor, connect, deliveredTexts, emulator, uniqueName, type Connection } from './helpers';

let emu: Emulator;
let conn: Connection;
beforeAll(async () => {
  emu = await emulator({ ratePerSecond: 20 });
  conn = await connect.ioredis();
});
afterAll(async () => {
  await conn.close();
  await emu.close();
});

it('a coalesced outbox batch reaches the emulator with its batchSize; a broadcast sent alone with 1', async () => {
  const limiter = createRateLimiter({ ratePerSecond: 20 });
  const client = clientFor(emu.url, limiter);
  const outbox = createOutbox({ redis: conn.client, client, name: uniqueName('batch-size'), coalesce: true });
  try {
    // enqueued before any deliverer runs: the first call packs all three
    const ids: string[] = [];
    for (const t of ['a', 'b', 'c']) ids.push((await outbox.enqueue({ MsgBody: [text(t)] })).id);
    await outbox.start();
    const statuses = await Promise.all(ids.map((id) => outbox.wait(id)));
    expect(statuses.map((s) => s.batchSize)).toEqual([3, 3, 3]);

    const { id } = await outbox.enqueue({ MsgBody: [text('alone')] });
    expect(await outbox.wait(id)).toMatchObject({ state: 'delivered', batchSize: 1 });

    expect(deliveredTexts(emu)).toEqual(['a', 'b', 'c', 'alone']);
    expect(emu.deliveries.map((d) => d.batchSize)).toEqual([3, 1]);
    expect(emu.deliveries[0]!.MsgSeq).toBe(statuses[0]!.MsgSeq);
  } finally {
    await outbox.close();
    await limiter.close();
    await client.close();
  }
});
