import { custom, parseBroadcastRequest, text } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { mergeBatch, nextBatchSize, packable, planBatches } from '../src/pack';

const item = (input: Parameters<typeof parseBroadcastRequest>[0]) => packable(parseBroadcastRequest(input));

describe('packing', () => {
  it('merges in order, at most one custom element per call, same sender and cloud data only', () => {
    const items = [
      item({ MsgBody: [text('a')] }),
      item({ MsgBody: [custom({ Data: '1' })] }),
      item({ MsgBody: [text('b')] }),
      item({ MsgBody: [custom({ Data: '2' })] }),
      item({ MsgBody: [text('c')], From_Account: 'ops' }),
      item({ MsgBody: [text('d')], Random: 7 }),
    ];
    expect(planBatches(items).map((c) => c.size)).toEqual([3, 1, 1, 1]);
    expect(planBatches(items, { coalesce: false }).map((c) => c.size)).toEqual([1, 1, 1, 1, 1, 1]);
    const merged = mergeBatch(items.slice(0, 3).map((i) => i.request));
    expect(merged.MsgBody).toHaveLength(3);
    expect(Buffer.byteLength(JSON.stringify(merged.MsgBody))).toBe(planBatches(items)[0]!.bytes);
  });

  it('keeps each call within the byte budget, to the byte', () => {
    const one = item({ MsgBody: [text('x'.repeat(100))] });
    const budget = one.bytes * 3 - 2; // exactly three merged
    expect(nextBatchSize([one, one, one, one], { maxBytes: budget })).toBe(3);
    expect(nextBatchSize([one, one, one, one], { maxBytes: budget - 1 })).toBe(2);
    expect(nextBatchSize([], {})).toBe(0);
  });

  it('reads a lazy source only as far as it needs', () => {
    let read = 0;
    const alone = item({ MsgBody: [text('a')], Random: 1 });
    function* source() {
      for (;;) {
        read++;
        yield alone;
      }
    }
    expect(nextBatchSize(source())).toBe(1);
    expect(read).toBe(1);
  });
});
