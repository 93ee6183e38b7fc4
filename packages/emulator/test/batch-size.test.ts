// The x-tim-broadcast-batch-size header: how many callers' requests a call carries, recorded on its delivery. Junk
// counts as 1 and never makes the emulator refuse a call.
import { BATCH_SIZE_HEADER, createBroadcastClient, text } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { APP, send, start, textBody } from './helpers';

describe('batch size of a delivery', () => {
  it.each([
    ['2', 2],
    ['5', 5],
    [' 7 ', 7],
    ['10000', 10_000],
  ])('header %j is recorded as batchSize %d', async (header, expected) => {
    const emu = await start({ ratePerSecond: Infinity });
    const reply = await send(emu, { body: textBody('merged', 1), headers: { [BATCH_SIZE_HEADER]: header } });
    expect(reply.json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect(emu.deliveries.map((d) => d.batchSize)).toEqual([expected]);
  });

  it.each(['', '0', '-3', '1.5', '2e3', '0x10', 'three', '10001', '99999999999999999999', '3, 4'])('header %j is accepted and recorded as batchSize 1', async (header) => {
    const emu = await start({ ratePerSecond: Infinity });
    const reply = await send(emu, { body: textBody('junk header', 1), headers: { [BATCH_SIZE_HEADER]: header } });
    expect(reply.json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect(emu.deliveries.map((d) => d.batchSize)).toEqual([1]);
  });

  it('a call without the header is a batch of 1; the control API reports each delivery’s batchSize', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    await send(emu, { body: textBody('alone', 1) });
    await send(emu, { body: textBody('three', 2), headers: { [BATCH_SIZE_HEADER]: '3' } });
    const reply = await send(emu, { method: 'GET', path: '/__emulator/deliveries' });
    expect(reply.json.deliveries.map((d: { MsgSeq: number; batchSize: number }) => [d.MsgSeq, d.batchSize])).toEqual([
      [1, 1],
      [2, 3],
    ]);
  });

  it('the client’s batchSize option reaches the delivery', async () => {
    const emu = await start({ ratePerSecond: Infinity, clock: undefined });
    const client = createBroadcastClient({ sdkAppId: APP.sdkAppId, secretKey: APP.secretKey, identifier: APP.admin, baseUrl: emu.url, retry: false });
    try {
      await client.broadcast({ MsgBody: [text('a'), text('b'), text('c')] }, { batchSize: 3 });
      await client.broadcast({ MsgBody: [text('d')] });
    } finally {
      await client.close();
    }
    expect(emu.deliveries.map((d) => d.batchSize)).toEqual([3, 1]);
  });
});
