import { ValidationError } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, type FaultKind } from '../src/index';
import { query, sample, send, start, textBody } from './helpers';

/** The outcome of one call as a short label. */
async function outcome(emu: Awaited<ReturnType<typeof start>>, random: number): Promise<string> {
  try {
    const reply = await send(emu, { body: textBody('chaos', random) });
    return reply.status === 200 ? `code ${reply.json.ErrorCode}` : `http ${reply.status}`;
  } catch (err) {
    return `network ${(err as NodeJS.ErrnoException).code}`;
  }
}

describe('scripted faults', () => {
  it('http502: HTTP 502 with an HTML body, nothing delivered', async () => {
    const emu = await start({ faults: { script: ['http502'] } });
    const reply = await send(emu, { body: sample() });
    expect(reply.status).toBe(502);
    expect(reply.headers['content-type']).toBe('text/html');
    expect(reply.text).toContain('502 Bad Gateway');
    expect(emu.deliveries).toEqual([]);
    expect((await send(emu, { body: sample() })).json.MsgSeq).toBe(1); // the script is used up
    expect(emu.stats.faults.http502).toBe(1);
  });

  it('error10002: HTTP 200 with ErrorCode 10002, nothing delivered', async () => {
    const emu = await start({ faults: { script: ['error10002'] } });
    const reply = await send(emu, { body: sample() });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 10002 });
    expect(emu.deliveries).toEqual([]);
    expect(emu.stats.rejected).toEqual({ 10002: 1 });
  });

  it('throttle10023: a forced 10023 even when the window is free, nothing delivered', async () => {
    const emu = await start({ faults: { script: ['throttle10023'] } });
    expect((await send(emu, { body: sample() })).json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 10023 });
    expect(emu.deliveries).toEqual([]);
    expect((await send(emu, { body: sample() })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
  });

  it('reset: the connection is reset with no answer, nothing delivered', async () => {
    const emu = await start({ faults: { script: ['reset'] } });
    await expect(send(emu, { body: sample() })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(emu.deliveries).toEqual([]);
    expect(emu.stats).toMatchObject({ requests: 1, accepted: 0, faults: { reset: 1 } });
  });

  it('lostAnswer: delivered, then the socket is dropped; a retry is a duplicate with the same MsgSeq', async () => {
    const emu = await start({ faults: { script: ['lostAnswer'] } });
    await expect(send(emu, { body: sample() })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(emu.deliveries.map((d) => d.MsgSeq)).toEqual([1]);
    emu.clock.advance(1000);
    expect((await send(emu, { body: sample() })).json).toEqual({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, MsgSeq: 1 });
    expect(emu.deliveries).toHaveLength(1);
    expect(emu.stats).toMatchObject({ accepted: 1, duplicates: 1, faults: { lostAnswer: 1 } });
  });

  it('lostAnswer also drops the answer of a rejected call', async () => {
    const emu = await start({ faults: { script: ['lostAnswer'] } });
    await expect(send(emu, { body: 'not json' })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(emu.stats.rejected).toEqual({ 60003: 1 });
  });

  it('slow: delivered at once, answered slowMs later', async () => {
    const emu = await start({ faults: { script: ['slow'], slowMs: 300 } });
    const started = performance.now();
    const pending = send(emu, { body: sample() });
    await expect.poll(() => emu.deliveries.length, { interval: 10 }).toBe(1);
    const reply = await pending;
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(reply.json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect(emu.stats.faults.slow).toBe(1);
  });

  it('slow: a client that gives up does not break the server, and close() does not wait for the answer', async () => {
    const emu = await start({ faults: { script: ['slow', 'slow'], slowMs: 60_000 } });
    const controller = new AbortController();
    const aborted = fetch(`${emu.url}/v4/group_open_http_svc/send_broadcast_msg?${query()}`, {
      method: 'POST',
      body: JSON.stringify(sample()),
      signal: controller.signal,
    });
    await expect.poll(() => emu.deliveries.length, { interval: 10 }).toBe(1);
    controller.abort();
    await expect(aborted).rejects.toThrow();
    const hanging = send(emu, { body: sample({ Random: 2 }) }).catch((err: Error) => err);
    await expect.poll(() => emu.stats.requests, { interval: 10 }).toBe(2);
    const closedAt = performance.now();
    await emu.close();
    expect(performance.now() - closedAt).toBeLessThan(5_000);
    expect(await hanging).toBeInstanceOf(Error);
  });

  it("'none' in a script lets a call through", async () => {
    const emu = await start({ ratePerSecond: Infinity, faults: { script: ['none', 'error10002', 'none'] } });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(await outcome(emu, i));
    expect(codes).toEqual(['code 0', 'code 10002', 'code 0', 'code 0']);
  });
});

describe('random faults', () => {
  async function run(seed: number, calls: number): Promise<string[]> {
    const emu = await start({ ratePerSecond: Infinity, faults: { rate: 0.5, seed, kinds: ['http502', 'error10002', 'reset', 'throttle10023'] } });
    const out = [];
    for (let i = 0; i < calls; i++) out.push(await outcome(emu, i));
    return out;
  }

  it('replays the same sequence for the same seed, and a different one for another seed', async () => {
    const a = await run(42, 40);
    const b = await run(42, 40);
    const c = await run(43, 40);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    const kinds = new Set(a);
    expect(kinds).toEqual(new Set(['code 0', 'http 502', 'code 10002', 'network ECONNRESET', 'code 10023']));
  });

  it('draws at about the given rate and only among the given kinds', async () => {
    const emu = await start({ ratePerSecond: Infinity, faults: { rate: 0.25, seed: 7, kinds: ['error10002'] } });
    for (let i = 0; i < 200; i++) await send(emu, { body: textBody('r', i) });
    const { faults, accepted, rejected } = emu.stats;
    expect(faults.error10002).toBeGreaterThan(30);
    expect(faults.error10002).toBeLessThan(70);
    expect(rejected[10002]).toBe(faults.error10002);
    expect(accepted).toBe(200 - faults.error10002);
    for (const kind of FAULT_KINDS) if (kind !== 'error10002') expect(faults[kind]).toBe(0);
  });

  it('uses the script before random draws, and reports a generated seed', async () => {
    const emu = await start({ ratePerSecond: Infinity, faults: { rate: 1, kinds: ['throttle10023'], script: ['error10002'] } });
    expect(await outcome(emu, 1)).toBe('code 10002');
    expect(await outcome(emu, 2)).toBe('code 10023');
    expect(Number.isInteger(emu.stats.faultSeed)).toBe(true);
  });

  it('setFaults replaces the plan at run time and returns it with defaults', async () => {
    const emu = await start({ ratePerSecond: Infinity, faults: { rate: 1, kinds: ['error10002'] } });
    expect(await outcome(emu, 1)).toBe('code 10002');
    expect(emu.setFaults({ script: ['http502'], seed: 5 })).toEqual({
      rate: 0,
      kinds: [...FAULT_KINDS],
      seed: 5,
      script: ['http502'],
      slowMs: 3000,
    });
    expect(await outcome(emu, 2)).toBe('http 502');
    expect(await outcome(emu, 3)).toBe('code 0');
    expect(emu.stats.faultSeed).toBe(5);
  });

  it.each([
    [{ rate: 1.5 }, 'faults.rate'],
    [{ rate: -0.1 }, 'faults.rate'],
    [{ kinds: [] }, 'faults.kinds'],
    [{ kinds: ['explode'] as unknown as FaultKind[] }, 'faults.kinds[0]'],
    [{ seed: 1.5 }, 'faults.seed'],
    [{ script: ['slow', 'nap'] as FaultKind[] }, 'faults.script[1]'],
    [{ slowMs: -1 }, 'faults.slowMs'],
    [{ probability: 0.5 } as object, 'faults'],
  ])('rejects the plan %o naming %s', async (plan, field) => {
    const emu = await start();
    let error: unknown;
    try {
      emu.setFaults(plan);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(field);
    await expect(start({ faults: plan })).rejects.toThrow(field);
  });
});
