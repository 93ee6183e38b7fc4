// Every client option and per-call option is checked before anything happens: unknown keys with the closest known
// name, numbers against what timers and counters can take, signals, URLs. A real server on 127.0.0.1 counts what
// reached it.
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordOutput } from '../../../testing/secret-scan.setup';
import { startTestServer, type TestServer } from '../test/server';
import { text } from './builders';
import { createBroadcastClient, type BroadcastClient, type BroadcastClientOptions } from './client';
import { ApiError, formatPath, ValidationError } from './errors/classes';
import { MAX_TIMER_MS } from './options';

const creds = { sdkAppId: 1400000001, secretKey: 'client-options-secret-DO-NOT-LEAK', identifier: 'administrator' };

let server: TestServer;
const clients: BroadcastClient[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => server.close());

function client(options: Record<string, unknown> = {}): BroadcastClient {
  const c = createBroadcastClient({ ...creds, baseUrl: server.url, retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...options } as BroadcastClientOptions);
  clients.push(c);
  return c;
}

/** The ValidationError `fn` throws (or its promise rejects with); fails the test otherwise. */
async function validationError(fn: () => unknown): Promise<ValidationError> {
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  recordOutput(error);
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

const paths = (err: ValidationError) => err.issues.map((i) => formatPath(i.path));

describe('client options', () => {
  it('refuses unknown keys, naming the closest known option', async () => {
    const err = await validationError(() => client({ timeout: 5_000, retries: 3, ratelimit: {} }));
    expect(paths(err)).toEqual(['timeout', 'retries', 'ratelimit']);
    expect(err.issues[0]!.message).toMatch(/^unknown option \(did you mean 'timeoutMs'\?\)/);
    expect(err.issues[1]!.message).toMatch(/^unknown option \(did you mean 'retry'\?\)/);
    expect(err.message).toContain("timeout: unknown option (did you mean 'timeoutMs'?)");
  });

  const timers = ['timeoutMs', 'deadlineMs', 'retry.baseDelayMs', 'retry.maxDelayMs', 'retry.throttleDelayMs', 'retry.recoverAfterMs'];
  const counts = ['retry.attempts', 'retry.failoverAfter', 'userSigExpireSeconds'];
  const set = (path: string, value: unknown) => {
    const [head, tail] = path.split('.');
    return tail ? { [head!]: { [tail]: value } } : { [head!]: value };
  };
  const cases: [string, unknown][] = [];
  for (const path of [...timers, ...counts]) {
    for (const bad of [Infinity, -Infinity, NaN, -1, MAX_TIMER_MS + 1, '10', null]) cases.push([path, bad]);
  }
  for (const path of counts) cases.push([path, 1.5], [path, 0]);
  cases.push(['timeoutMs', 0], ['deadlineMs', 0], ['retry.attempts', 101]);

  it.each(cases)('refuses %s = %s with a ValidationError naming it', async (path, bad) => {
    const err = await validationError(() => client(set(path, bad)));
    expect(paths(err)).toEqual([path]);
  });

  it('accepts the largest delay a timer can take', () => {
    expect(() => client({ timeoutMs: MAX_TIMER_MS, deadlineMs: MAX_TIMER_MS, retry: { maxDelayMs: MAX_TIMER_MS, attempts: 100 } })).not.toThrow();
  });

  it.each<[string, unknown, string]>([
    ['retry of the wrong type', { retry: true }, 'retry'],
    ['an unknown retry field', { retry: { jitter: 1 } }, 'retry.jitter'],
    ['hooks that are not functions', { hooks: { onRequest: 'log' } }, 'hooks.onRequest'],
    ['a misspelt hook', { hooks: { onResponce: () => {} } }, 'hooks.onResponce'],
    ['a logger method that is not a function', { logger: { warn: true } }, 'logger.warn'],
    ['allowInsecureHttp as a string', { allowInsecureHttp: 'yes' }, 'allowInsecureHttp'],
    ['options that are not an object', undefined, '(root)'],
  ])('refuses %s', async (_name, patch, path) => {
    const err = await validationError(() => (patch === undefined ? createBroadcastClient(null as never) : client(patch as Record<string, unknown>)));
    expect(paths(err)).toContain(path);
  });

  it('says "region or baseUrl: required" when neither is given', async () => {
    const err = await validationError(() => createBroadcastClient({ ...creds } as never));
    expect(err.message).toContain('region or baseUrl: required');
  });

  it('accepts a console-like logger (a class instance with more methods)', () => {
    expect(() => client({ logger: console })).not.toThrow();
  });
});

describe('client URLs', () => {
  it.each([
    ['a query marker, even an empty one', `${'http://127.0.0.1:1'}?`, 'baseUrl'],
    ['a fragment marker', 'http://127.0.0.1:1/#', 'baseUrl'],
    ['a user name', 'https://admin@api.example.test', 'baseUrl'],
    ['a password alone', 'https://:pw-s3cret@api.example.test', 'baseUrl'],
    ['http to a host that is not loopback', 'http://api.example.test', 'baseUrl'],
  ])('refuses a baseUrl with %s', async (_name, baseUrl, path) => {
    const err = await validationError(() => client({ baseUrl }));
    expect(paths(err)).toEqual([path]);
    expect(err.message).not.toContain('pw-s3cret');
  });

  it('allows http off loopback only with allowInsecureHttp: true, and never https → http failover', async () => {
    expect(() => client({ baseUrl: 'http://api.example.test', allowInsecureHttp: true })).not.toThrow();
    for (const allowInsecureHttp of [false, true]) {
      const err = await validationError(() => client({ baseUrl: { primary: 'https://a.example.test', backup: 'http://b.example.test' }, allowInsecureHttp }));
      expect(paths(err)).toEqual(['baseUrl.backup']);
    }
  });

  it('never shows credentials: they are refused before the client exists', async () => {
    const err = await validationError(() => client({ baseUrl: { primary: 'https://user:pw-s3cret@a.example.test' } }));
    expect(inspect(err, { depth: 5 })).not.toContain('pw-s3cret');
    expect(inspect(client(), { depth: 5 })).not.toContain(creds.secretKey);
  });
});

describe('per-call options', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['a signal that is not an AbortSignal', { signal: { aborted: false } }, ['signal']],
    ['a signal-like object with addEventListener', { signal: { aborted: false, addEventListener() {}, removeEventListener() {} }, deadlineMs: 50 }, ['signal']],
    ['a string signal', { signal: 'stop' }, ['signal']],
    ['an unknown key', { timeout: 100 }, ['timeout']],
    ['a misspelt idempotency key', { idempotencykey: 'a' }, ['idempotencykey']],
    ['an infinite timeoutMs', { timeoutMs: Infinity }, ['timeoutMs']],
    ['a NaN deadlineMs', { deadlineMs: NaN }, ['deadlineMs']],
    ['a negative deadlineMs', { deadlineMs: -5 }, ['deadlineMs']],
    ['a deadlineMs no timer can hold', { deadlineMs: MAX_TIMER_MS + 1 }, ['deadlineMs']],
    ['a zero timeoutMs', { timeoutMs: 0 }, ['timeoutMs']],
    ['an empty idempotencyKey', { idempotencyKey: '' }, ['idempotencyKey']],
    ['retry of the wrong type', { retry: 3 }, ['retry']],
    ['a fractional retry.attempts', { retry: { attempts: 1.5 } }, ['retry.attempts']],
    ['a failover setting (client-wide only)', { retry: { failoverAfter: 1 } }, ['retry.failoverAfter']],
    ['an infinite retry.maxDelayMs', { retry: { maxDelayMs: Infinity } }, ['retry.maxDelayMs']],
  ])('refuses %s before anything happens', async (_name, call, expected) => {
    const before = server.seen.length;
    const err = await validationError(() => client().broadcast({ MsgBody: [text('x')] }, call as never));
    expect(paths(err)).toEqual(expected);
    expect(server.seen.length).toBe(before);
  });

  it('refuses call options that are not an object', async () => {
    const err = await validationError(() => client().broadcast({ MsgBody: [text('x')] }, null as never));
    expect(paths(err)).toEqual(['options']);
  });

  it('takes a retry override per call: false for one attempt, or fields over the client policy', async () => {
    const c = client({ retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 2 } });
    const before = server.seen.length;
    server.script({ status: 502 });
    const once = await c.broadcast({ MsgBody: [text('x')] }, { retry: false }).catch((e: Error) => e);
    expect(once).toMatchObject({ status: 502, attempts: 1 });

    server.script({ code: 10002 }, { code: 10002 }, { code: 10002 });
    const twice = await c.broadcast({ MsgBody: [text('y')] }, { retry: { attempts: 2 } }).catch((e: Error) => e);
    expect(twice).toBeInstanceOf(ApiError);
    expect(twice).toMatchObject({ code: 10002, attempts: 2 });
    expect(server.seen.length - before).toBe(3);

    // the third scripted 10002 is still queued: the client's own policy retries past it
    expect((await c.broadcast({ MsgBody: [text('z')] }, { retry: { attempts: undefined } })).attempts).toBe(2);
  });
});
