import { describe, expect, it } from 'vitest';
import { ValidationError } from '@tim-broadcast/core';
import { startEmulator, type CallEvent } from '../src/index';
import { APP, query, send, start, textBody, userSig } from './helpers';

const OTHER = { sdkAppId: 1400000001, secretKey: 'emulator-test-secret-other-app', admin: 'ops' } as const;
const otherQuery = (overrides: Record<string, string> = {}) =>
  query({ sdkappid: String(OTHER.sdkAppId), identifier: OTHER.admin, usersig: userSig({ sdkAppId: OTHER.sdkAppId, secretKey: OTHER.secretKey, identifier: OTHER.admin }), ...overrides });

describe('several apps in one emulator', () => {
  it('keeps a rate limit per app: both apps are accepted in the same second, a second call to one is 10023', async () => {
    const events: CallEvent[] = [];
    const emu = await start({ apps: [OTHER], onCall: (e) => events.push(e) });
    expect(emu.sdkAppIds).toEqual([APP.sdkAppId, OTHER.sdkAppId]);
    expect((await send(emu, { body: textBody('a', 1) })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    expect((await send(emu, { query: otherQuery(), body: textBody('b', 2) })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 1 });
    emu.clock.advance(500);
    expect((await send(emu, { query: otherQuery(), body: textBody('c', 3) })).json).toMatchObject({ ErrorCode: 10023 });
    emu.clock.advance(500);
    expect((await send(emu, { query: otherQuery(), body: textBody('c', 3) })).json).toMatchObject({ ErrorCode: 0, MsgSeq: 2 });

    expect(emu.deliveries.map((d) => [d.sdkAppId, d.MsgSeq])).toEqual([
      [APP.sdkAppId, 1],
      [OTHER.sdkAppId, 1],
      [OTHER.sdkAppId, 2],
    ]);
    expect(emu.appStats(APP.sdkAppId)).toMatchObject({ requests: 1, accepted: 1, rejected: {}, lastMsgSeq: 1 });
    expect(emu.appStats(OTHER.sdkAppId)).toMatchObject({ requests: 3, accepted: 2, rejected: { 10023: 1 }, minGapMs: 1000, lastMsgSeq: 2 });
    expect(emu.appStats(1)).toBeUndefined();
    // counters summed; the gap and the busiest second are per app (across apps calls may be as close as they like)
    expect(emu.stats).toMatchObject({ requests: 4, accepted: 3, rejected: { 10023: 1 }, minGapMs: 1000, maxAcceptedInOneSecond: 1, lastMsgSeq: 2 });
    expect(events.map((e) => [e.sdkAppId, e.code])).toEqual([
      [APP.sdkAppId, 0],
      [OTHER.sdkAppId, 0],
      [OTHER.sdkAppId, 10023],
      [OTHER.sdkAppId, 0],
    ]);
  });

  it("checks each call against its own app's key and admin, and dedups per app", async () => {
    const emu = await start({ apps: [OTHER] });
    // signed with the first app's key, sent to the other: the HMAC does not match its key
    const wrongKey = userSig({ sdkAppId: OTHER.sdkAppId, identifier: OTHER.admin });
    expect((await send(emu, { query: otherQuery({ usersig: wrongKey }), body: textBody('x', 1) })).json).toMatchObject({ ErrorCode: 70009 });
    // the first app's admin is no admin of the other
    const notAdmin = userSig({ sdkAppId: OTHER.sdkAppId, secretKey: OTHER.secretKey, identifier: APP.admin });
    expect((await send(emu, { query: otherQuery({ identifier: APP.admin, usersig: notAdmin }), body: textBody('x', 1) })).json).toMatchObject({ ErrorCode: 60010 });
    // an SDKAppID nobody serves, as an emulator of one app answers it
    expect((await send(emu, { query: query({ sdkappid: '1400000002' }), body: textBody('x', 1) })).json).toMatchObject({ ErrorCode: 60006 });
    // the same message (Random and content) to both apps is two messages, not a duplicate
    expect((await send(emu, { body: textBody('same', 7) })).json).toMatchObject({ ErrorCode: 0 });
    expect((await send(emu, { query: otherQuery(), body: textBody('same', 7) })).json).toMatchObject({ ErrorCode: 0 });
    expect(emu.stats.duplicates).toBe(0);
    emu.reset();
    expect([emu.appStats(APP.sdkAppId)?.requests, emu.appStats(OTHER.sdkAppId)?.requests, emu.deliveries]).toEqual([0, 0, []]);
  });

  it('applies run-time config to every app', async () => {
    const emu = await start({ apps: [OTHER] });
    emu.setConfig({ broadcastEnabled: false });
    expect((await send(emu, { body: textBody('a', 1) })).json).toMatchObject({ ErrorCode: 10007 });
    expect((await send(emu, { query: otherQuery(), body: textBody('a', 1) })).json).toMatchObject({ ErrorCode: 10007 });
  });

  it.each<[string, unknown, string[]]>([
    ['the same SDKAppID twice', { apps: [OTHER, { ...OTHER, admin: 'x' }] }, ['apps.1.sdkAppId']],
    ['an app that repeats the top-level one', { apps: [{ ...OTHER, sdkAppId: APP.sdkAppId }] }, ['apps.0.sdkAppId']],
    ['an app without a key', { apps: [{ sdkAppId: 1400000003, admin: 'a' }] }, ['apps.0.secretKey']],
    ['a misspelt field', { apps: [{ ...OTHER, secret: 'k' }] }, ['apps.0']],
    ['apps that are not a list', { apps: OTHER }, ['apps']],
  ])('refuses %s, naming it', async (_name, patch, paths) => {
    const err = await startEmulator({ ...APP, ...(patch as object) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path.join('.'))).toEqual(paths);
  });
});
