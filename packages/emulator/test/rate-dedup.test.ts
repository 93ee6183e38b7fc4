import { startEmulator } from '../src/index';
import { describe, expect, it } from 'vitest';
import { APP, query, sample, send, start, T0, textBody, userSig } from './helpers';

/** The largest number of `times` inside any half-open window [t, t + 1000). */
function maxInAnySecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('rate limit', () => {
  it('accepts one call per rolling second by default; 10023 in between delivers nothing', async () => {
    const emu = await start();
    expect((await send(emu, { body: textBody('a', 1) })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    emu.clock.advance(999);
    const throttled = await send(emu, { body: textBody('b', 2) });
    expect(throttled.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 10023 });
    expect(emu.deliveries.map((d) => d.MsgSeq)).toEqual([1]);
    emu.clock.advance(1);
    expect((await send(emu, { body: textBody('b', 2) })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 2 });
    expect(emu.stats).toMatchObject({ accepted: 2, rejected: { 10023: 1 }, minGapMs: 1000, maxAcceptedInOneSecond: 1 });
  });

  it('holds a rolling window, not a fixed one, at ratePerSecond 3', async () => {
    const emu = await start({ ratePerSecond: 3 });
    const outcome: number[] = [];
    // offsets in ms from T0; a fixed-second counter would accept the three at 900..999 and 1000..1099 both
    for (const [i, at] of [0, 900, 950, 999, 1000, 1899, 1900, 1950, 2899].entries()) {
      emu.clock.set(T0 + at);
      outcome.push((await send(emu, { body: textBody('m', i) })).json.ErrorCode);
    }
    expect(outcome).toEqual([0, 0, 0, 10023, 0, 10023, 0, 0, 0]);
    expect(maxInAnySecond(emu.deliveries.map((d) => d.at))).toBe(3);
    expect(emu.stats.maxAcceptedInOneSecond).toBe(3);
  });

  it('does not count rejected calls or duplicates against the limit', async () => {
    const emu = await start();
    expect((await send(emu, { body: 'not json' })).json.ErrorCode).toBe(60003);
    expect((await send(emu, { query: query({ usersig: 'bad' }), body: sample() })).json.ErrorCode).toBe(70003);
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(0);
    emu.clock.advance(1000);
    expect((await send(emu, { body: sample() })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 }); // duplicate
    expect((await send(emu, { body: sample({ Random: 2 }) })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 2 });
  });

  it('answers 10023 to a duplicate that arrives while the window is full (the limit is checked first)', async () => {
    const emu = await start();
    expect((await send(emu, { body: sample() })).json.MsgSeq).toBe(1);
    emu.clock.advance(200);
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(10023);
    emu.clock.advance(800);
    expect((await send(emu, { body: sample() })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect(emu.deliveries).toHaveLength(1);
  });

  it('never accepts more than ratePerSecond in any second under concurrent load (real clock)', async () => {
    const emu = await startEmulator({ ...APP, ratePerSecond: 2 });
    try {
      const q = query({ usersig: userSig({}, Date.now()) });
      const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => send(emu, { query: q, body: textBody('load', i) })));
      const codes = replies.map((r) => r.json.ErrorCode);
      expect(codes.filter((c) => c === 0).length).toBe(emu.deliveries.length);
      expect(codes.every((c) => c === 0 || c === 10023)).toBe(true);
      expect(emu.deliveries.length).toBeGreaterThanOrEqual(2);
      expect(maxInAnySecond(emu.deliveries.map((d) => d.at))).toBeLessThanOrEqual(2);
      expect(emu.stats.rejected[10023]).toBe(30 - emu.deliveries.length);
    } finally {
      await emu.close();
    }
  });

  it('can be changed at run time, and Infinity means no limit', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    for (let i = 0; i < 20; i++) expect((await send(emu, { body: textBody('x', i) })).json.ErrorCode).toBe(0);
    emu.setConfig({ ratePerSecond: 1 });
    emu.clock.advance(1000);
    expect((await send(emu, { body: textBody('y', 1) })).json.ErrorCode).toBe(0);
    expect((await send(emu, { body: textBody('y', 2) })).json.ErrorCode).toBe(10023);
  });
});

describe("rate model 'spacing' (each accepted call ≥ 1000/rate ms after the last accepted one)", () => {
  it('at 5/s refuses a call 199 ms after the last accepted one and accepts it at 200 ms', async () => {
    const emu = await start({ ratePerSecond: 5, rateModel: 'spacing' });
    const outcome: number[] = [];
    // offsets from T0; the 'window' model would accept 0, 10, 20, 30, 40 (five in one second) and refuse 199
    for (const [i, at] of [0, 10, 199, 200, 399, 400, 650, 849, 850].entries()) {
      emu.clock.set(T0 + at);
      outcome.push((await send(emu, { body: textBody('s', i) })).json.ErrorCode);
    }
    expect(outcome).toEqual([0, 10023, 10023, 0, 10023, 0, 0, 10023, 0]);
    const at = emu.deliveries.map((d) => d.at - T0);
    expect(at).toEqual([0, 200, 400, 650, 850]);
    expect(emu.stats.minGapMs).toBe(200);
  });

  it('differs from the window model on the same calls', async () => {
    const calls = [0, 10, 20, 30, 40, 1000];
    const run = async (rateModel: 'window' | 'spacing') => {
      const emu = await start({ ratePerSecond: 5, rateModel });
      const codes: number[] = [];
      for (const [i, at] of calls.entries()) {
        emu.clock.set(T0 + at);
        codes.push((await send(emu, { body: textBody('w', i) })).json.ErrorCode);
      }
      return codes;
    };
    expect(await run('window')).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await run('spacing')).toEqual([0, 10023, 10023, 10023, 10023, 0]);
  });

  it('holds every gap between accepted arrivals at ≥ 200 ms at 5/s under concurrent load (real clock), seen in deliveries and onCall', async () => {
    const accepted: number[] = [];
    const emu = await startEmulator({ ...APP, ratePerSecond: 5, rateModel: 'spacing', onCall: (e) => e.code === 0 && !e.duplicate && accepted.push(e.at) });
    try {
      const q = query({ usersig: userSig({}, Date.now()) });
      // three bursts of concurrent calls, spread over more than a second
      for (let round = 0; round < 3; round++) {
        const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(emu, { query: q, body: textBody('load', round * 10 + i) })));
        expect(replies.every((r) => r.json.ErrorCode === 0 || r.json.ErrorCode === 10023)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const at = emu.deliveries.map((d) => d.at);
      expect(at).toEqual(accepted);
      expect(at.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(200);
      expect(emu.stats.minGapMs).toBeGreaterThanOrEqual(200);
    } finally {
      await emu.close();
    }
  });

  it('is set at start, at run time and through the control API; reset forgets the last arrival', async () => {
    const emu = await start({ ratePerSecond: 5 });
    expect(emu.config.rateModel).toBe('window');
    expect(emu.setConfig({ rateModel: 'spacing' })).toEqual({ broadcastEnabled: true, ratePerSecond: 5, rateModel: 'spacing' });
    expect((await send(emu, { body: textBody('a', 1) })).json.ErrorCode).toBe(0);
    expect((await send(emu, { body: textBody('a', 2) })).json).toMatchObject({ ErrorCode: 10023, ErrorInfo: expect.stringContaining('one call per 200 ms') });
    emu.reset();
    expect((await send(emu, { body: textBody('a', 3) })).json.ErrorCode).toBe(0);
    const reply = await send(emu, { path: '/__emulator/config', query: '', headers: { 'content-type': 'application/json' }, body: { rateModel: 'window' } });
    expect(reply.json.config.rateModel).toBe('window');
    expect((await send(emu, { body: textBody('a', 4) })).json.ErrorCode).toBe(0);
    const bad = await send(emu, { path: '/__emulator/config', query: '', headers: { 'content-type': 'application/json' }, body: { rateModel: 'strict' } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0].path).toEqual(['rateModel']);
  });
});

describe('dedup', () => {
  it('answers OK with the first MsgSeq to the same Random and content within 5 minutes, delivering nothing new', async () => {
    const emu = await start();
    const first = await send(emu, { body: sample() });
    expect(first.json).toEqual({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, MsgSeq: 1 });
    emu.clock.advance(5 * 60_000 - 1);
    const again = await send(emu, { body: sample() });
    expect(again.json).toEqual(first.json);
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.stats).toMatchObject({ accepted: 1, duplicates: 1 });
  });

  it('treats the same message after 5 minutes as new', async () => {
    const emu = await start();
    await send(emu, { body: sample() });
    emu.clock.advance(5 * 60_000);
    expect((await send(emu, { body: sample() })).json.MsgSeq).toBe(2);
    expect(emu.deliveries.map((d) => d.at)).toEqual([T0, T0 + 300_000]);
  });

  it('needs both the same Random and the same content', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    await send(emu, { body: sample() });
    const variants = [
      sample({ Random: 1 }),
      sample({ CloudCustomData: 'other' }),
      sample({ From_Account: 'other' }),
      { ...sample(), From_Account: undefined },
      sample({ MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'other' } }] }),
    ];
    const seqs = [];
    for (const body of variants) seqs.push((await send(emu, { body })).json.MsgSeq);
    expect(seqs).toEqual([2, 3, 4, 5, 6]);
    expect(emu.stats.duplicates).toBe(0);
  });

  it('ignores the order of keys and the query random', async () => {
    const emu = await start();
    await send(emu, { body: sample() });
    emu.clock.advance(1000);
    const reordered = '{"CloudCustomData":"your cloud custom data","MsgBody":[{"MsgContent":{"Data":"{ \\"type\\":1, \\"content\\":\\"hello world\\"}"},"MsgType":"TIMCustomElem"}],"Random":8912345,"From_Account":"test"}';
    const reply = await send(emu, { query: query({ random: '1' }), body: reordered });
    expect(reply.json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect(emu.stats.duplicates).toBe(1);
  });

  it('increases MsgSeq by one per delivery and keeps it across reset()', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    for (let i = 0; i < 3; i++) await send(emu, { body: textBody('n', i) });
    emu.reset();
    expect(emu.deliveries).toEqual([]);
    expect((await send(emu, { body: textBody('n', 0) })).json.MsgSeq).toBe(4); // dedup window was cleared too
    expect(emu.stats).toMatchObject({ accepted: 1, lastMsgSeq: 4 });
  });
});
