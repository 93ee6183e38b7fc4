// Bad input to any public function of @tim-broadcast/core gives a ValidationError naming the bad path, never a raw
// TypeError or RangeError. Two tables: specific bad calls that must be refused (with the path), and a sweep that
// feeds every argument position of every exported function with hostile values (the function may return, or throw
// a ValidationError, nothing else). A new export fails the coverage check until it is added here.
import * as core from '@tim-broadcast/core';
import { afterAll, describe, expect, it } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { exportedFunctionNames, outcome } from '../../../testing/bad-input';

const { ValidationError, formatPath } = core;
const creds = { sdkAppId: 1400000000, secretKey: 'bad-input-secret-key', identifier: 'admin' };
const clients: core.BroadcastClient[] = [];
afterAll(() => Promise.all(clients.map((c) => c.close())));

function deepRelay(depth: number): unknown {
  let el: unknown = { MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } };
  for (let i = 0; i < depth; i++) el = { MsgType: 'TIMRelayElem', MsgContent: { MsgList: [{ MsgBody: [el] }] } };
  return el;
}

const client = () => {
  const c = core.createBroadcastClient({ ...creds, baseUrl: 'http://127.0.0.1:9', retry: false });
  clients.push(c);
  return c;
};

/** [function, a call with bad input, the path the ValidationError must name]. */
const REFUSED: [string, () => unknown, string][] = [
  ['createBroadcastClient', () => core.createBroadcastClient(null as never), '(root)'],
  ['createBroadcastClient', () => core.createBroadcastClient({ ...creds, region: 'singapore', timeoutMs: Infinity }), 'timeoutMs'],
  ['createBroadcastClient', () => core.createBroadcastClient({ ...creds, region: 'singapore', retry: { attempts: 1.5 } }), 'retry.attempts'],
  ['createBroadcastClient', () => core.createBroadcastClient({ ...creds, region: Symbol('x') as never }), 'region'],
  ['client.broadcast', () => client().broadcast(null as never), '(root)'],
  ['client.broadcast', () => client().broadcast({ MsgBody: [core.text('x')] }, { signal: 'stop' as never }), 'signal'],
  ['client.broadcast', () => client().broadcast({ MsgBody: [deepRelay(50_000) as core.MsgElement] }), `MsgBody[0]${'.MsgContent.MsgList[0].MsgBody[0]'.repeat(8)}`],
  ['client.broadcast', () => client().broadcast({ MsgBody: [core.relay({ MsgList: [{ MsgBody: [{ MsgType: 'X', MsgContent: { n: 10n } }] }] })] }), 'MsgBody'],
  ['randomFromKey', () => core.randomFromKey(42 as never), 'key'],
  ['randomFromKey', () => core.randomFromKey(''), 'key'],
  ['resolveEndpoint', () => core.resolveEndpoint(null as never), '(root)'],
  ['resolveEndpoint', () => core.resolveEndpoint({ baseUrl: 'https://h.test?' }), 'baseUrl'],
  ['resolveEndpoint', () => core.resolveEndpoint({ baseUrl: { primary: 42 as never } }), 'baseUrl.primary'],
  ['buildRequestUrl', () => core.buildRequestUrl(undefined as never, null as never), 'base'],
  ['buildRequestUrl', () => core.buildRequestUrl('https://h.test', { sdkAppId: 1, identifier: 'a', userSig: 's', random: -1 }), 'params.random'],
  ['buildRequestUrl', () => core.buildRequestUrl('https://h.test', { sdkAppId: NaN, identifier: 'a', userSig: 's' }), 'params.sdkAppId'],
  ['signUserSig', () => core.signUserSig(null as never), '(root)'],
  ['signUserSig', () => core.signUserSig({ ...creds, expireSeconds: Infinity }), 'expireSeconds'],
  ['createUserSigSigner', () => core.createUserSigSigner(undefined as never), '(root)'],
  ['createUserSigSigner', () => core.createUserSigSigner({ ...creds, refreshBeforeSeconds: -1 }), 'refreshBeforeSeconds'],
  ['signer.get', () => core.createUserSigSigner({ ...creds, secretKey: () => 10n as never }).get(), 'secretKey'],
  ['verifyUserSig', () => core.verifyUserSig('x', null as never), '(root)'],
  ['verifyUserSig', () => core.verifyUserSig('x', { ...creds, now: NaN }), 'now'],
  ['parseBroadcastRequest', () => core.parseBroadcastRequest(Symbol('x')), '(root)'],
  ['parseBroadcastRequest', () => core.parseBroadcastRequest({ MsgBody: [deepRelay(100_000)] }), `MsgBody[0]${'.MsgContent.MsgList[0].MsgBody[0]'.repeat(8)}`],
  ['toIssues', () => core.toIssues(null as never), 'error'],
  ['text', () => core.text(5 as never), 'MsgContent.Text'],
  ['custom', () => core.custom(null as never), 'MsgContent'],
  ['custom', () => core.custom({ Data: 10n }), 'MsgContent.Data'],
  ['custom', () => core.custom({}), 'MsgContent'],
  ['face', () => core.face('1' as never), 'MsgContent.Index'],
  ['location', () => core.location(undefined as never), 'MsgContent'],
  ['location', () => core.location({ Latitude: NaN, Longitude: 0 }), 'MsgContent.Latitude'],
  ['sound', () => core.sound({ Url: 'u', UUID: '', Second: -1 }), 'MsgContent.UUID'],
  ['image', () => core.image({ UUID: 'u', ImageInfoArray: [] }), 'MsgContent.ImageInfoArray'],
  ['file', () => core.file([] as never), 'MsgContent'],
  ['video', () => core.video({} as never), 'MsgContent.VideoUrl'],
  ['relay', () => core.relay({ MsgList: [{ MsgSeq: -1, MsgBody: [] }] }), 'MsgContent.MsgList[0].MsgSeq'],
  ['relay', () => core.relay((deepRelay(20_000) as { MsgContent: never }).MsgContent), `MsgContent.MsgList[0].MsgBody[0]${'.MsgContent.MsgList[0].MsgBody[0]'.repeat(7)}`],
  ['messageBytes', () => core.messageBytes('hello' as never), 'MsgBody'],
  ['messageBytes', () => core.messageBytes([deepRelay(100_000)]), `MsgBody[0]${'.MsgContent.MsgList[0].MsgBody[0]'.repeat(8)}`],
  ['messageBytes', () => core.messageBytes([10n]), 'MsgBody'],
  ['fetchTransport', () => core.fetchTransport({ fetch: 5 as never }), 'fetch'],
  ['fetchTransport', () => core.fetchTransport({ timeout: 1 } as never), 'timeout'],
  ['sleep', () => core.sleep(Infinity), 'ms'],
  ['sleep', () => core.sleep(1, {} as never), 'signal'],
  ['throwIfIssues', () => core.throwIfIssues('bad', [{ path: ['x'], message: 'm' }]), 'x'],
];

/** Functions that accept anything and answer (redaction, descriptions, option-check helpers): they must not throw. */
const TOTAL = new Set([
  'redactUrl',
  'isLoopbackHostname',
  'redactUserSig',
  'decodeUserSig',
  'randomUint32',
  'describeErrorCode',
  'errorCatalogue',
  'formatPath',
  'closestName',
  'unknownOptionIssues',
  'numberIssue',
  'signalIssue',
  'objectIssue',
  'describeValue',
  'nestingIssue',
]);

const HOSTILE: unknown[] = [
  undefined,
  null,
  NaN,
  Infinity,
  -1,
  1.5,
  2 ** 53,
  '',
  'x'.repeat(10_000),
  Symbol('s'),
  10n,
  {},
  [],
  Object.create(null),
  () => 'x',
  { toString: () => { throw new Error('boom'); } },
  deepRelay(30_000),
];

const exportedFunctions = exportedFunctionNames(core as unknown as Record<string, unknown>);

describe('bad input to every public function of @tim-broadcast/core', () => {
  it('covers every exported function (add new ones to a table here)', () => {
    const covered = new Set([...REFUSED.map(([name]) => name), ...TOTAL]);
    expect(exportedFunctions.filter((name) => !covered.has(name))).toEqual([]);
  });

  it.each(REFUSED.map(([name, call, path], i) => [`${name} #${i}`, path, call] as const))('%s: ValidationError naming %s', async (_name, path, call) => {
    const err = await outcome(call);
    recordOutput(err);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as core.ValidationError).issues.map((i) => formatPath(i.path))).toContain(path);
  });

  it.each(exportedFunctions)('%s never throws anything but a ValidationError, whatever each argument is', async (name) => {
    const fn = (core as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    // valid-looking arguments, so each position is tested on its own
    const good: unknown[] = name === 'sleep' ? [0] : ['x', {}, 'ms', {}];
    // fn.length stops at the first parameter with a default: one more covers it
    for (let position = 0; position <= fn.length; position++) {
      for (const bad of HOSTILE) {
        if (name === 'sleep' && position === 0 && typeof bad === 'number' && bad > 0 && Number.isFinite(bad)) continue; // a real wait
        const args = [...good];
        args[position] = bad;
        const result = await outcome(() => fn(...args));
        if (result !== 'returned') {
          expect(result, `${name}(${position}: ${typeof bad})`).toBeInstanceOf(ValidationError);
          if (TOTAL.has(name)) throw new Error(`${name} threw for ${typeof bad} at argument ${position}`);
        }
      }
    }
  });
});
