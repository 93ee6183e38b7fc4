import { describe, expect, it } from 'vitest';
import { MAX_RELAY_DEPTH } from '@tim-broadcast/core';
import { APP, query, sample, send, start, T0, textBody, userSig } from './helpers';

function expectFail(reply: { status: number; json: { ActionStatus: string; ErrorCode: number; ErrorInfo: string; MsgSeq?: number } }, code: number) {
  expect(reply.status).toBe(200);
  expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: code });
  expect(reply.json.ErrorInfo).toEqual(expect.any(String));
  expect(reply.json).not.toHaveProperty('MsgSeq');
}

describe('URL checks', () => {
  it.each([
    ['contenttype missing', { contenttype: undefined }, 60002],
    ['contenttype not json', { contenttype: 'xml' }, 60002],
    ['contenttype in another case', { contenttype: 'JSON' }, 60002],
    ['sdkappid missing', { sdkappid: undefined }, 60012],
    ['sdkappid unknown', { sdkappid: '1400000001' }, 60006],
    ['sdkappid with a leading zero', { sdkappid: `0${APP.sdkAppId}` }, 60006],
    ['identifier missing', { identifier: undefined }, 60004],
    ['usersig missing', { usersig: undefined }, 70002],
    ['usersig empty', { usersig: '' }, 70002],
    ['random missing (the docs list it among the URL parameters)', { random: undefined }, 60002],
    ['random empty', { random: '' }, 60002],
    ['random not a number', { random: 'abc' }, 60002],
    ['random over 32 bits', { random: '4294967296' }, 60002],
  ])('%s → %i, nothing delivered', async (_name, overrides, code) => {
    const emu = await start();
    expectFail(await send(emu, { query: query(overrides), body: sample() }), code);
    expect(emu.deliveries).toEqual([]);
    expect(emu.stats.rejected).toEqual({ [code]: 1 });
  });

  it('accepts the whole uint32 range of the query random', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    expect((await send(emu, { query: query({ random: '4294967295' }), body: textBody('b', 2) })).json.ErrorCode).toBe(0);
    expect((await send(emu, { query: query({ random: '0' }), body: textBody('c', 3) })).json.ErrorCode).toBe(0);
  });
});

describe('UserSig checks', () => {
  it('70001 once the ticket has expired by the emulator clock, and OK up to the last second', async () => {
    const emu = await start();
    const sig = userSig({ expireSeconds: 60 });
    emu.clock.advance(60_999); // still second T0+60: valid while now <= time + expire
    expect((await send(emu, { query: query({ usersig: sig }), body: textBody('a', 1) })).json.ErrorCode).toBe(0);
    emu.clock.advance(1); // T0+61 s
    expectFail(await send(emu, { query: query({ usersig: sig }), body: textBody('b', 2) }), 70001);
    expect(emu.deliveries).toHaveLength(1);
  });

  it('70003 for a ticket that cannot be decoded (garbage or truncated)', async () => {
    const emu = await start();
    expectFail(await send(emu, { query: query({ usersig: 'not-a-ticket' }), body: sample() }), 70003);
    expectFail(await send(emu, { query: query({ usersig: userSig().slice(0, 30) }), body: sample() }), 70003);
  });

  it('70009 for a ticket signed with another key', async () => {
    const emu = await start();
    expectFail(await send(emu, { query: query({ usersig: userSig({ secretKey: 'someone-elses-key' }) }), body: sample() }), 70009);
  });

  it('70013 when the URL identifier is not the one in the ticket', async () => {
    const emu = await start();
    expectFail(await send(emu, { query: query({ usersig: userSig({ identifier: 'ops' }) }), body: sample() }), 70013);
  });

  it('70014 when the ticket was made for another SDKAppID', async () => {
    const emu = await start();
    expectFail(await send(emu, { query: query({ usersig: userSig({ sdkAppId: 1400000999 }) }), body: sample() }), 70014);
  });

  it('60010 for a valid ticket of an account that is not the admin', async () => {
    const emu = await start();
    const reply = await send(emu, { query: query({ identifier: 'alice', usersig: userSig({ identifier: 'alice' }) }), body: sample() });
    expectFail(reply, 60010);
  });

  it('re-checks the expiry of a cached ticket on every call', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    const sig = userSig({ expireSeconds: 10 });
    for (let i = 0; i < 3; i++) expect((await send(emu, { query: query({ usersig: sig }), body: textBody('x', i) })).json.ErrorCode).toBe(0);
    emu.clock.advance(11_000);
    expectFail(await send(emu, { query: query({ usersig: sig }), body: textBody('x', 9) }), 70001);
  });

  it('never echoes the UserSig in an answer', async () => {
    const emu = await start();
    for (const sig of [userSig({ secretKey: 'other' }), userSig({ identifier: 'ops' }), `${userSig()}x`]) {
      const reply = await send(emu, { query: query({ usersig: sig }), body: sample() });
      expect(reply.text).not.toContain(sig.slice(0, 20));
    }
  });
});

describe('permission and the feature switch', () => {
  it('10007 when broadcast is switched off, at start or at run time', async () => {
    const off = await start({ broadcastEnabled: false });
    expectFail(await send(off, { body: sample() }), 10007);
    expect(off.deliveries).toEqual([]);

    const emu = await start();
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(0);
    expect(emu.setConfig({ broadcastEnabled: false })).toEqual({ broadcastEnabled: false, ratePerSecond: 1, rateModel: 'window' });
    emu.clock.advance(1000);
    expectFail(await send(emu, { body: sample({ Random: 2 }) }), 10007);
    emu.setConfig({ broadcastEnabled: true });
    expect((await send(emu, { body: sample({ Random: 2 }) })).json.ErrorCode).toBe(0);
  });

  it('checks in order: URL, signature, admin, feature switch, rate, body', async () => {
    const emu = await start({ broadcastEnabled: false });
    // everything wrong: the first check decides
    expectFail(await send(emu, { query: query({ contenttype: 'xml', usersig: 'bad' }), body: 'not json' }), 60002);
    expectFail(await send(emu, { query: query({ usersig: 'bad' }), body: 'not json' }), 70003);
    expectFail(await send(emu, { query: query({ identifier: 'bob', usersig: userSig({ identifier: 'bob' }) }), body: 'not json' }), 60010);
    expectFail(await send(emu, { body: 'not json' }), 10007);
    emu.setConfig({ broadcastEnabled: true });
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(0);
    expectFail(await send(emu, { body: 'not json' }), 10023);
    emu.clock.advance(1000);
    expectFail(await send(emu, { body: 'not json' }), 60003);
  });
});

describe('body checks', () => {
  const big = (bytes: number) => {
    // JSON.stringify(MsgBody) of one text element is 50 bytes plus the text
    const overhead = JSON.stringify([{ MsgType: 'TIMTextElem', MsgContent: { Text: '' } }]).length;
    return { Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x'.repeat(bytes - overhead) } }] };
  };

  it.each([
    ['not JSON', 'hello', 60003],
    ['empty', '', 60003],
    ['truncated JSON', '{"Random": 1, "MsgBody": [', 60003],
    ['a JSON array', '[]', 10004],
    ['JSON null', 'null', 10004],
    ['Random missing', JSON.stringify({ MsgBody: sample().MsgBody }), 10004],
    ['Random not a uint32', JSON.stringify(sample({ Random: -1 })), 10004],
    ['Random a string', JSON.stringify(sample({ Random: '1' })), 10004],
    ['MsgBody missing', JSON.stringify({ Random: 1 }), 10004],
    ['MsgBody empty', JSON.stringify({ Random: 1, MsgBody: [] }), 10004],
    ['an unknown MsgType', JSON.stringify({ Random: 1, MsgBody: [{ MsgType: 'TIMMagicElem', MsgContent: {} }] }), 10004],
    ['a misspelt field', JSON.stringify({ Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { text: 'hi' } }] }), 10004],
    ['an unknown top-level field', JSON.stringify(sample({ GroupId: '@TGS#1' })), 10004],
    ['From_Account empty', JSON.stringify(sample({ From_Account: '' })), 10004],
    ['CloudCustomData not a string', JSON.stringify(sample({ CloudCustomData: { a: 1 } })), 10004],
    [
      'two TIMCustomElem',
      JSON.stringify(sample({ MsgBody: [sample().MsgBody[0], { MsgType: 'TIMCustomElem', MsgContent: { Data: 'second' } }] })),
      10004,
    ],
    ['MsgBody of 12,001 bytes', JSON.stringify(big(12_001)), 80002],
    ['a body over 1 MiB', JSON.stringify(sample({ CloudCustomData: 'x'.repeat(1024 * 1024) })), 10004],
  ])('%s → %i, nothing delivered', async (_name, body, code) => {
    const emu = await start();
    const reply = await send(emu, { body });
    expectFail(reply, code);
    expect(emu.deliveries).toEqual([]);
  });

  it('names the offending field in ErrorInfo', async () => {
    const emu = await start();
    const reply = await send(emu, { body: { Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { text: 'hi' } }] } });
    expect(reply.json.ErrorInfo).toContain('MsgBody[0].MsgContent');
    const two = await send(emu, { body: sample({ MsgBody: [sample().MsgBody[0], sample().MsgBody[0]] }) });
    expect(two.json.ErrorInfo).toMatch(/MsgBody\[1\]\.MsgType.*at most one TIMCustomElem/);
    const size = await send(emu, { body: big(12_001) });
    expect(size.json.ErrorInfo).toContain('12001 bytes');
  });

  it('accepts exactly 12,000 bytes, one custom element among others, and every element sample', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    const exact = await send(emu, { body: big(12_000) });
    expect(exact.json).toEqual({ ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, MsgSeq: 1 });
    expect(emu.deliveries[0]!.bytes).toBe(12_000);
    const mixed = await send(emu, {
      body: { Random: 2, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'a' } }, sample().MsgBody[0], { MsgType: 'TIMFaceElem', MsgContent: { Index: 1 } }] },
    });
    expect(mixed.json.ErrorCode).toBe(0);
  });

  it('counts multi-byte characters as UTF-8 bytes', async () => {
    const emu = await start();
    const overhead = JSON.stringify([{ MsgType: 'TIMTextElem', MsgContent: { Text: '' } }]).length;
    const chars = Math.floor((12_000 - overhead) / 3) + 1; // 3 bytes each: just over the limit
    const reply = await send(emu, { body: { Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '中'.repeat(chars) } }] } });
    expectFail(reply, 80002);
  });
});

describe('method and path', () => {
  it('answers 60002 to anything but POST on the endpoint', async () => {
    const emu = await start();
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expectFail(await send(emu, { method }), 60002);
    }
    expect(emu.stats.requests).toBe(3);
  });

  it('answers 10003 to another group command and 60009 to any other path, with HTTP 200', async () => {
    const emu = await start();
    expectFail(await send(emu, { path: '/v4/group_open_http_svc/send_group_msg', query: query(), body: sample() }), 10003);
    expectFail(await send(emu, { path: '/v4/im_open_login_svc/account_import', query: query(), body: sample() }), 60009);
    expectFail(await send(emu, { path: '/index.html', method: 'GET' }), 60009);
    expect(emu.deliveries).toEqual([]);
    expect(emu.stats.requests).toBe(0);
  });

  it('answers with the documented envelope, JSON content type and the CORS header', async () => {
    const emu = await start();
    const reply = await send(emu, { body: sample() });
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.headers['access-control-allow-origin']).toBe('*');
    expect(Object.keys(reply.json)).toEqual(['ActionStatus', 'ErrorInfo', 'ErrorCode', 'MsgSeq']);
    expect(emu.deliveries[0]).toMatchObject({ MsgSeq: 1, Random: 8912345, at: T0, body: sample() });
  });
});

describe('deeply nested bodies', () => {
  /** A relay element whose forwarded message holds `depth` nested arrays: about 2 bytes per level. */
  function nestedRelay(depth: number): string {
    const inner = `{"MsgType":"TIMCustomElem","MsgContent":{"Data":"x","Deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    return `{"Random":1,"MsgBody":[{"MsgType":"TIMRelayElem","MsgContent":{"Title":"t","MsgList":[{"MsgBody":[${inner}]}]}}]}`;
  }

  /** A chain of relays, each forwarding the next: 5 levels of JSON per relay. */
  function relayChain(levels: number): unknown {
    let element: unknown = { MsgType: 'TIMTextElem', MsgContent: { Text: 'bottom' } };
    for (let i = 0; i < levels; i++) element = { MsgType: 'TIMRelayElem', MsgContent: { Title: `level ${i}`, MsgList: [{ MsgBody: [element] }] } };
    return { Random: 2, MsgBody: [element] };
  }

  it('answers 10004 to a 5 KB body nested thousands deep, and keeps serving', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    const body = nestedRelay(2_500);
    expect(Buffer.byteLength(body)).toBeGreaterThan(5_000);
    expect(Buffer.byteLength(body)).toBeLessThan(6_000);
    const reply = await send(emu, { body });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 10004, ErrorInfo: expect.stringContaining('nested more than 100 levels') });
    expect(emu.deliveries).toEqual([]);
    expect((await send(emu, { body: sample() })).json.ErrorCode).toBe(0);
  });

  it('answers 10004 to a long chain of nested relays (13 KB), and accepts a chain of MAX_RELAY_DEPTH relays', async () => {
    const emu = await start({ ratePerSecond: Infinity });
    expect((await send(emu, { body: relayChain(200) })).json).toMatchObject({ ErrorCode: 10004 });
    const fine = await send(emu, { body: relayChain(MAX_RELAY_DEPTH) });
    expect(fine.json).toMatchObject({ ErrorCode: 0 });
    expect(emu.deliveries).toHaveLength(1);
    expect((await send(emu, { body: relayChain(MAX_RELAY_DEPTH + 1) })).json).toMatchObject({ ErrorCode: 10004 });
  });

  it('counts depth outside strings only: brackets inside text do not count', async () => {
    const emu = await start();
    const reply = await send(emu, { body: textBody(`${'['.repeat(3_000)}"\\"{{{`, 3) });
    expect(reply.json.ErrorCode).toBe(0);
    expect(emu.deliveries[0]!.body.MsgBody[0]).toEqual({ MsgType: 'TIMTextElem', MsgContent: { Text: `${'['.repeat(3_000)}"\\"{{{` } });
  });
});
