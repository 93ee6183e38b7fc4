import { describeErrorCode, signUserSig } from '@tim-broadcast/core';
import { describe, expect, it } from 'vitest';
import samples from '../../../spec/fixtures/broadcast-samples.json';
import vectors from '../../../spec/fixtures/usersig-vectors.json';
import { manualClock, startEmulator, type Emulator } from '../src/index';
import { query, send, start, T0, userSig } from './helpers';

// The documented sample URL: ?sdkappid=88888888&identifier=admin&usersig=xxx&random=99999999&contenttype=json
const DOC_APP = { sdkAppId: 88888888, secretKey: 'doc-sample-secret', admin: 'admin' };
const docQuery = (usersig: string) => `sdkappid=88888888&identifier=admin&usersig=${encodeURIComponent(usersig)}&random=99999999&contenttype=json`;

describe('documented sample request and response (spec/send_broadcast_msg.txt)', () => {
  it('answers the sample request, sent to the sample URL, like the sample response', async () => {
    const emu = await startEmulator(DOC_APP);
    try {
      const sig = signUserSig({ sdkAppId: DOC_APP.sdkAppId, secretKey: DOC_APP.secretKey, identifier: 'admin' });
      const reply = await send(emu, { query: docQuery(sig), body: samples.request });
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.json)).toEqual(Object.keys(samples.response));
      expect(reply.json).toEqual({ ...samples.response, MsgSeq: expect.any(Number) });
      expect(emu.deliveries).toEqual([expect.objectContaining({ MsgSeq: reply.json.MsgSeq, Random: samples.request.Random, body: samples.request })]);
    } finally {
      await emu.close();
    }
  });

  it('answers the sample URL with its placeholder usersig "xxx" with 70003', async () => {
    const emu = await startEmulator(DOC_APP);
    try {
      const reply = await send(emu, { query: docQuery('xxx'), body: samples.request });
      expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70003 });
    } finally {
      await emu.close();
    }
  });

  it('shapes a failure like the documented failure sample', async () => {
    const emu = await start();
    const reply = await send(emu, { body: { Random: 1, MsgBody: [] } });
    expect(Object.keys(reply.json).sort()).toEqual(Object.keys(samples.failure).sort());
    expect(reply.json).toMatchObject({ ActionStatus: samples.failure.ActionStatus, ErrorCode: samples.failure.ErrorCode });
  });

  it.each(Object.entries(samples.elements))('accepts the documented %s sample', async (_type, element) => {
    const emu = await start();
    const reply = await send(emu, { body: { Random: 1, MsgBody: [element] } });
    expect(reply.json).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
  });

  it('accepts every documented element merged into one message (one TIMCustomElem)', async () => {
    const emu = await start();
    const reply = await send(emu, { body: { Random: 1, MsgBody: Object.values(samples.elements) } });
    expect(reply.json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect(emu.deliveries[0]!.body.MsgBody).toHaveLength(Object.keys(samples.elements).length);
  });
});

describe('UserSig known-answer vectors (spec/fixtures/usersig-vectors.json)', () => {
  it.each(vectors)('accepts the tls-sig-api-v2 ticket of $identifier at its clock and answers 70001 after it expires', async (v) => {
    const clock = manualClock(v.time * 1000);
    const emu = await startEmulator({ sdkAppId: v.sdkAppId, secretKey: v.key, admin: v.identifier, clock, ratePerSecond: Infinity });
    try {
      const q = `sdkappid=${v.sdkAppId}&identifier=${encodeURIComponent(v.identifier)}&usersig=${encodeURIComponent(v.userSig)}&random=1&contenttype=json`;
      expect((await send(emu, { query: q, body: samples.request })).json).toMatchObject({ ErrorCode: 0 });
      clock.set((v.time + v.expire) * 1000 + 999);
      expect((await send(emu, { query: q, body: { ...samples.request, Random: 2 } })).json).toMatchObject({ ErrorCode: 0 });
      clock.set((v.time + v.expire + 1) * 1000);
      expect((await send(emu, { query: q, body: { ...samples.request, Random: 3 } })).json).toMatchObject({ ErrorCode: 70001 });
    } finally {
      await emu.close();
    }
  });
});

/** One bad request per documented error code. */
const producers: Record<number, (emu: Emulator & { clock: ReturnType<typeof manualClock> }) => Promise<unknown>> = {
  10002: async (emu) => {
    emu.setFaults({ script: ['error10002'] });
    return send(emu, { body: samples.request });
  },
  10003: (emu) => send(emu, { path: '/v4/group_open_http_svc/send_group_msg', query: query(), body: samples.request }),
  10004: (emu) => send(emu, { body: { MsgBody: samples.request.MsgBody } }),
  10007: async (emu) => {
    emu.setConfig({ broadcastEnabled: false });
    return send(emu, { body: samples.request });
  },
  10023: async (emu) => {
    await send(emu, { body: samples.request });
    return send(emu, { body: { ...samples.request, Random: 2 } });
  },
  80002: (emu) => send(emu, { body: { Random: 1, MsgBody: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'x'.repeat(12_000) } }] } }),
  60002: (emu) => send(emu, { query: query({ contenttype: 'xml' }), body: samples.request }),
  60003: (emu) => send(emu, { body: '{"Random": 8912345, "MsgBody": [' }),
  60004: (emu) => send(emu, { query: query({ identifier: undefined }), body: samples.request }),
  60006: (emu) => send(emu, { query: query({ sdkappid: '88888888' }), body: samples.request }),
  60009: (emu) => send(emu, { path: '/v4/group_open_http_svc', query: query(), body: samples.request }),
  60010: (emu) => send(emu, { query: query({ identifier: 'test', usersig: userSig({ identifier: 'test' }) }), body: samples.request }),
  60012: (emu) => send(emu, { query: query({ sdkappid: undefined }), body: samples.request }),
  70001: async (emu) => {
    const sig = userSig({ expireSeconds: 30 });
    emu.clock.set(T0 + 31_000);
    return send(emu, { query: query({ usersig: sig }), body: samples.request });
  },
  70002: (emu) => send(emu, { query: query({ usersig: '' }), body: samples.request }),
  70003: (emu) => send(emu, { query: query({ usersig: userSig().slice(0, -12) }), body: samples.request }),
  70009: (emu) => send(emu, { query: query({ usersig: userSig({ secretKey: 'key-of-another-app' }) }), body: samples.request }),
  70013: (emu) => send(emu, { query: query({ usersig: userSig({ identifier: 'test' }) }), body: samples.request }),
  70014: (emu) => send(emu, { query: query({ usersig: userSig({ sdkAppId: 88888888 }) }), body: samples.request }),
};

describe('documented error codes (send_broadcast_msg.txt and chat-api.md §1.5)', () => {
  it('has a producer for every code listed in the samples', () => {
    expect(Object.keys(samples.errorCodes).filter((code) => !(code in producers))).toEqual([]);
  });

  it.each(Object.keys(producers).map(Number))('%i: produced by its bad request, FAIL envelope, nothing delivered', async (code) => {
    const emu = await start();
    const before = emu.stats.accepted;
    const reply = (await producers[code]!(emu)) as { status: number; json: Record<string, unknown> };
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ ActionStatus: 'FAIL', ErrorInfo: expect.any(String), ErrorCode: code });
    expect(emu.stats.accepted).toBe(code === 10023 ? before + 1 : before); // 10023's producer delivers one first
    expect(describeErrorCode(code).category).not.toBe('unknown');
  });
});
