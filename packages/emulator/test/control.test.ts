import { describe, expect, it } from 'vitest';
import { query, sample, send, start, textBody, userSig } from './helpers';

const control = (name: string) => ({ path: `/__emulator/${name}`, query: '', headers: { 'content-type': 'application/json' } });

describe('control API', () => {
  it('GET /__emulator/deliveries lists what was delivered, like emu.deliveries', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    await send(emu, { body: sample() });
    await send(emu, { body: textBody('two', 2) });
    const reply = await send(emu, { ...control('deliveries'), method: 'GET' });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ deliveries: JSON.parse(JSON.stringify(emu.deliveries)) });
    expect(reply.json.deliveries.map((d: { MsgSeq: number; Random: number }) => [d.MsgSeq, d.Random])).toEqual([
      [1, 8912345],
      [2, 2],
    ]);
  });

  it('GET /__emulator/stats gives the counters', async () => {
    const emu = await start({ faults: { script: ['none', 'error10002'], seed: 9 } });
    await send(emu, { body: sample() });
    await send(emu, { body: sample() });
    emu.clock.advance(1000);
    await send(emu, { body: sample() });
    await send(emu, { body: 'x' });
    const reply = await send(emu, { ...control('stats'), method: 'GET' });
    expect(reply.json).toEqual({
      requests: 4,
      accepted: 1,
      duplicates: 1,
      rejected: { '10002': 1, '60003': 1 },
      faults: { http502: 0, error10002: 1, reset: 0, slow: 0, lostAnswer: 0, throttle10023: 0 },
      faultSeed: 9,
      minGapMs: null,
      maxAcceptedInOneSecond: 1,
      lastMsgSeq: 1,
    });
  });

  it('POST /__emulator/reset forgets deliveries, counters and windows', async () => {
    const emu = await start();
    await send(emu, { body: sample() });
    expect((await send(emu, { ...control('reset') })).json).toEqual({ ok: true });
    expect(emu.deliveries).toEqual([]);
    expect(emu.stats).toMatchObject({ requests: 0, accepted: 0 });
    // the rate window and the dedup store were cleared: the same message at the same instant is new
    expect((await send(emu, { body: sample() })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 2 });
  });

  it('POST /__emulator/faults sets the plan; a bad plan is a 400 naming the field', async () => {
    const emu = await start();
    const set = await send(emu, { ...control('faults'), body: { script: ['error10002'], seed: 3 } });
    expect(set.json).toEqual({ faults: { rate: 0, kinds: expect.any(Array), seed: 3, script: ['error10002'], slowMs: 3000 } });
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(10002);
    const bad = await send(emu, { ...control('faults'), body: { rate: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual([{ path: ['faults', 'rate'], message: expect.any(String) }]);
    expect((await send(emu, { ...control('faults'), body: '{oops' })).status).toBe(400);
    expect((await send(emu, { ...control('faults'), body: '' })).json.faults.rate).toBe(0);
  });

  it('POST /__emulator/config switches broadcast off and changes the rate (null = unlimited)', async () => {
    const emu = await start();
    expect((await send(emu, { ...control('config'), body: { broadcastEnabled: false } })).json).toEqual({
      config: { broadcastEnabled: false, ratePerSecond: 1, rateModel: 'window' },
    });
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(10007);
    expect((await send(emu, { ...control('config'), body: { broadcastEnabled: true, ratePerSecond: null } })).json).toEqual({
      config: { broadcastEnabled: true, ratePerSecond: null, rateModel: 'window' },
    });
    for (let i = 0; i < 5; i++) expect((await send(emu, { body: textBody('u', i) })).json.ErrorCode).toBe(0);
    const bad = await send(emu, { ...control('config'), body: { ratePerSecond: 0.5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.issues[0].path).toEqual(['ratePerSecond']);
  });

  it('answers 404 to an unknown control path and 405 to a wrong method', async () => {
    const emu = await start();
    expect((await send(emu, { ...control('nope'), method: 'GET' })).status).toBe(404);
    const wrong = await send(emu, { ...control('stats'), method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect((await send(emu, { ...control('reset'), method: 'GET' })).status).toBe(405);
  });

  it('never shows a UserSig, through the control API or in-process', async () => {
    const emu = await start();
    const sig = userSig();
    await send(emu, { query: query({ usersig: sig }), body: sample() });
    await send(emu, { query: query({ usersig: `${sig}x` }), body: sample() });
    for (const name of ['deliveries', 'stats']) {
      expect((await send(emu, { ...control(name), method: 'GET' })).text).not.toContain(sig.slice(0, 16));
    }
    expect(JSON.stringify([emu.deliveries, emu.stats])).not.toContain(sig.slice(0, 16));
  });
});

describe('deliveries in process', () => {
  it('are a copy, capped at maxDeliveries (oldest dropped) while counters keep counting', async () => {
    const emu = await start({ ratePerSecond: Infinity, maxDeliveries: 3 });
    for (let i = 0; i < 5; i++) await send(emu, { body: textBody('c', i) });
    expect(emu.deliveries.map((d) => d.MsgSeq)).toEqual([3, 4, 5]);
    expect(emu.stats.accepted).toBe(5);
    emu.deliveries.length = 0;
    expect(emu.deliveries).toHaveLength(3);
  });

  it('report time, MsgSeq, Random, the validated body, its byte count and its batch size', async () => {
    const emu = await start();
    emu.clock.advance(1234);
    await send(emu, { body: sample() });
    const [delivery] = emu.deliveries;
    expect(delivery).toEqual({
      MsgSeq: 1,
      Random: 8912345,
      at: emu.clock.now(),
      body: sample(),
      bytes: Buffer.byteLength(JSON.stringify(sample().MsgBody)),
      batchSize: 1,
    });
  });

  it('reports each call to onCall without the UserSig', async () => {
    const events: unknown[] = [];
    const emu = await start({ onCall: (e) => events.push(e), faults: { script: ['none', 'none', 'reset'] } });
    await send(emu, { body: sample() });
    await send(emu, { body: sample() });
    await send(emu, { body: sample() }).catch(() => undefined);
    expect(events).toEqual([
      { at: emu.clock.now(), method: 'POST', fault: undefined, code: 0, info: '', MsgSeq: 1, duplicate: undefined },
      expect.objectContaining({ code: 10023, MsgSeq: undefined }),
      { at: emu.clock.now(), method: 'POST', fault: 'reset' },
    ]);
    expect(JSON.stringify(events)).not.toContain(userSig().slice(0, 16));
  });
});
