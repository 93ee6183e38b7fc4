// Bad input to any public function of @tim-broadcast/transport (and to a transport's send) gives a ValidationError
// naming the bad path, never a raw TypeError or RangeError. A new export fails the coverage check until listed here.
import * as transport from '@tim-broadcast/transport';
import * as undici from '@tim-broadcast/transport/undici';
import { afterAll, describe, expect, it } from 'vitest';
import { setProxyEnv } from './helpers';
import { exportedFunctionNames, outcome } from '../../../testing/bad-input';

const { ValidationError, formatPath } = transport;
const restoreEnv = setProxyEnv({});
const made: transport.Transport[] = [];
afterAll(async () => {
  await Promise.all(made.map((t) => t.close()));
  restoreEnv();
});

const keep = (t: transport.Transport) => (made.push(t), t);
const url = 'http://127.0.0.1:9/x?usersig=SECRET-SIG-123';

const REFUSED: [string, string, () => unknown][] = [
  ['fetchTransport', '(root)', () => transport.fetchTransport(null as never)],
  ['fetchTransport', 'fetch', () => transport.fetchTransport({ fetch: {} as never })],
  ['fetchTransport', 'timeoutMs', () => transport.fetchTransport({ timeoutMs: 5 } as never)],
  ['undiciTransport', 'connections', () => undici.undiciTransport({ connections: NaN })],
  ['undiciTransport', 'keepAliveTimeoutMs', () => undici.undiciTransport({ keepAliveTimeoutMs: Infinity })],
  ['undiciTransport', 'proxy', () => undici.undiciTransport({ proxy: 42 as never })],
  ['undiciTransport', 'dispatcher', () => undici.undiciTransport({ dispatcher: null as never })],
  ['fetch send', '(root)', () => keep(transport.fetchTransport()).send(undefined as never)],
  ['fetch send', 'timeoutMs', () => keep(transport.fetchTransport()).send({ url, body: '{}', timeoutMs: -1 })],
  ['fetch send', 'signal', () => keep(transport.fetchTransport()).send({ url, body: '{}', signal: { aborted: true } as never })],
  ['undici send', 'url', () => keep(undici.undiciTransport()).send({ url: 5 as never, body: '{}' })],
  ['undici send', 'timeoutMs', () => keep(undici.undiciTransport()).send({ url, body: '{}', timeoutMs: Infinity })],
  ['undici send', 'signal', () => keep(undici.undiciTransport()).send({ url, body: '{}', signal: 'stop' as never })],
  ['throwIfIssues', 'x', () => transport.throwIfIssues('bad', [{ path: ['x'], message: 'm' }])],
];

/** Functions that accept anything and answer: they must not throw at all. */
const TOTAL = new Set(['safeUrl', 'redactUserSig', 'formatPath', 'closestName', 'unknownOptionIssues', 'numberIssue', 'signalIssue', 'objectIssue', 'describeValue']);

const HOSTILE: unknown[] = [undefined, null, NaN, Infinity, -1, 1.5, '', Symbol('s'), 10n, {}, [], Object.create(null), () => 'x'];

const exported = { ...transport, ...undici } as unknown as Record<string, unknown>;
const functions = exportedFunctionNames(exported);

describe('bad input to every public function of @tim-broadcast/transport', () => {
  it('covers every exported function', () => {
    const covered = new Set([...REFUSED.map(([name]) => name), ...TOTAL]);
    expect(functions.filter((name) => !covered.has(name))).toEqual([]);
  });

  it.each(REFUSED)('%s: ValidationError naming %s', async (_name, path, call) => {
    const err = await outcome(call);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as transport.ValidationError).issues.map((i) => formatPath(i.path))).toContain(path);
  });

  it.each(functions)('%s never throws anything but a ValidationError, whatever each argument is', async (name) => {
    const fn = exported[name] as (...args: unknown[]) => unknown;
    for (let position = 0; position <= fn.length; position++) {
      for (const bad of HOSTILE) {
        const args: unknown[] = ['x', {}, 'ms', {}];
        args[position] = bad;
        const result = await outcome(() => {
          const value = fn(...args);
          if (value && typeof value === 'object' && 'close' in value) keep(value as transport.Transport);
          return value;
        });
        if (result !== 'returned') {
          expect(result, `${name}(${position}: ${typeof bad})`).toBeInstanceOf(ValidationError);
          if (TOTAL.has(name)) throw new Error(`${name} threw for ${typeof bad} at argument ${position}`);
        }
      }
    }
  });
});
