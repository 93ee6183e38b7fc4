import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, TimBroadcastError, TimeoutError, TransportError } from '@tim-broadcast/transport';
import { refusedUrl, startTestServer, type TestServer } from '../test/server';
import { text } from './builders';
import { createBroadcastClient, randomFromKey, type BroadcastClientOptions } from './client';
import { ApiError, ValidationError } from './errors/classes';
import { sleep } from './sleep';
import type { Limiter } from './limiter';
import { verifyUserSig } from './usersig/verify';

const SECRET = 'client-test-secret-DO-NOT-LEAK';
const creds = { sdkAppId: 1400000001, secretKey: SECRET, identifier: 'administrator' };

/** Everything the client printed or handed to hooks, and every error it threw, for the secret scan. */
const captured: string[] = [];
const capture = (value: unknown) => captured.push(typeof value === 'string' ? value : inspect(value, { depth: 8, showHidden: true }));
const logger = {
  debug: (m: string, meta?: object) => capture([m, meta]),
  info: (m: string, meta?: object) => capture([m, meta]),
  warn: (m: string, meta?: object) => capture([m, meta]),
  error: (m: string, meta?: object) => capture([m, meta]),
};
const hooks = { onRequest: capture, onResponse: capture, onRetry: capture };

let server: TestServer;
const clients: { close(): Promise<void> }[] = [];

function client(options: Partial<BroadcastClientOptions> = {}) {
  const c = createBroadcastClient({
    ...creds,
    baseUrl: server.url,
    retry: { baseDelayMs: 5, maxDelayMs: 20, throttleDelayMs: 50 },
    logger,
    hooks,
    ...options,
  } as BroadcastClientOptions);
  clients.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    capture(err);
    capture(String(err));
    capture(JSON.stringify(err));
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const usersigsSeen = new Set<string>();
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  for (const r of server.seen) usersigsSeen.add(r.query.get('usersig')!);
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await server.close();
});

describe('createBroadcastClient', () => {
  it('sends a signed request and returns MsgSeq, Random and attempts', async () => {
    const result = await client().broadcast({ MsgBody: [text('hello')], From_Account: 'ops' });
    expect(result).toEqual({ MsgSeq: 1001, Random: expect.any(Number), attempts: 1 });
    const [req] = server.seen;
    expect([...req!.query.keys()]).toEqual(['sdkappid', 'identifier', 'usersig', 'random', 'contenttype']);
    expect(req!.query.get('sdkappid')).toBe('1400000001');
    expect(req!.query.get('identifier')).toBe('administrator');
    expect(req!.query.get('contenttype')).toBe('json');
    expect(Number(req!.query.get('random'))).toBeGreaterThanOrEqual(0);
    expect(verifyUserSig(req!.query.get('usersig')!, creds)).toMatchObject({ valid: true });
    expect(req!.body).toEqual({ From_Account: 'ops', MsgBody: [text('hello')], Random: result.Random });
  });

  it('retries a 502 with the same body Random and a fresh query random', async () => {
    server.script({ status: 502 });
    const result = await client().broadcast({ MsgBody: [text('x')] });
    expect(result.attempts).toBe(2);
    const [a, b] = server.seen;
    expect(a!.body.Random).toBe(result.Random);
    expect(b!.body.Random).toBe(result.Random);
    expect(a!.rawBody).toBe(b!.rawBody);
    expect(a!.query.get('random')).not.toBe(b!.query.get('random'));
  });

  it('retries 10002 and gives up after the configured attempts', async () => {
    server.script({ code: 10002 });
    expect((await client().broadcast({ MsgBody: [text('x')] })).attempts).toBe(2);
    server.script({ code: 10002 }, { code: 10002 }, { code: 10002 });
    const err = await failure(client({ retry: { attempts: 3, baseDelayMs: 1 } }).broadcast({ MsgBody: [text('y')] }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 10002, category: 'retryable', retryable: true, attempts: 3 });
  });

  it('waits after 10023 and then succeeds', async () => {
    server.script({ code: 10023 });
    const retries: number[] = [];
    const started = Date.now();
    const result = await client({ retry: { throttleDelayMs: 100 }, hooks: { onRetry: (e) => retries.push(e.delayMs) } }).broadcast({
      MsgBody: [text('x')],
    });
    expect(result.attempts).toBe(2);
    expect(retries[0]).toBeGreaterThanOrEqual(100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('tells the limiter about throttling and acquires before every attempt', async () => {
    const calls: string[] = [];
    const limiter: Limiter = {
      acquire: async () => void calls.push('acquire'),
      penalize: async (ms) => void calls.push(`penalize ${ms}`),
    };
    server.script({ code: 60007 }, { code: 10023 });
    await client({ limiter, retry: { throttleDelayMs: 1000 } }).broadcast({ MsgBody: [text('x')] });
    expect(calls).toEqual(['acquire', 'penalize 1000', 'acquire', 'penalize 1000', 'acquire']);
  });

  it('releases the permit a limiter gives once each attempt has ended: answered, failed, or aborted before sending', async () => {
    const events: string[] = [];
    let n = 0;
    const limiter: Limiter = {
      acquire: async () => {
        const id = ++n;
        events.push(`acquire ${id} (server saw ${server.seen.length})`);
        return { release: () => void events.push(`release ${id} (server saw ${server.seen.length})`) };
      },
    };
    server.script({ code: 10002 }, { hang: true });
    const aborter = new AbortController();
    const pending = client({ limiter, retry: { baseDelayMs: 1 }, timeoutMs: 60_000 }).broadcast({ MsgBody: [text('x')] }, { signal: aborter.signal });
    await vi.waitFor(() => expect(server.seen).toHaveLength(2));
    expect(events).toEqual(['acquire 1 (server saw 0)', 'release 1 (server saw 1)', 'acquire 2 (server saw 1)']); // the hung attempt holds it
    aborter.abort();
    expect(await failure(pending)).toBeInstanceOf(AbortError);
    expect(events.slice(3)).toEqual(['release 2 (server saw 2)']);

    // a signal that fires while the limiter admits: nothing sent, the permit still released
    events.length = 0;
    const controller = new AbortController();
    const racing: Limiter = {
      acquire: async () => {
        controller.abort();
        return { release: () => void events.push('released') };
      },
    };
    expect(await failure(client({ limiter: racing }).broadcast({ MsgBody: [text('y')] }, { signal: controller.signal }))).toBeInstanceOf(AbortError);
    expect(events).toEqual(['released']);
    expect(server.seen).toHaveLength(2);
  });

  it("passes a limiter's own error through, even once the deadline has fired", async () => {
    class StoreDown extends TimBroadcastError {
      override name = 'StoreDown';
    }
    const limiter: Limiter = {
      acquire: ({ signal } = {}) =>
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new StoreDown('store still failing at the deadline')))),
    };
    const err = await failure(client({ limiter }).broadcast({ MsgBody: [text('x')] }, { deadlineMs: 50 }));
    expect(err).toBeInstanceOf(StoreDown);
    expect(server.seen).toHaveLength(0);
  });

  it.each([
    [10004, 'invalid'],
    [10007, 'config'],
    [70009, 'auth'],
    [99999, 'unknown'],
  ])('fails at once on %i (%s)', async (code, category) => {
    server.script({ code, info: 'nope' });
    const err = await failure(client().broadcast({ MsgBody: [text('x')] }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code, category, info: 'nope', attempts: 1, retryable: false });
    expect(server.seen).toHaveLength(1);
    if (code === 10007) expect(err.message).toMatch(/enable "Broadcast messaging of audio-video group"/);
  });

  it('re-signs once after 70001 and retries; a second 70001 fails', async () => {
    const provider = vi.fn(() => SECRET);
    server.script({ code: 70001 });
    expect((await client({ secretKey: provider }).broadcast({ MsgBody: [text('x')] })).attempts).toBe(2);
    expect(provider).toHaveBeenCalledTimes(2);
    server.script({ code: 70052 }, { code: 70001 });
    const err = await failure(client({ secretKey: provider }).broadcast({ MsgBody: [text('x')] }));
    expect(err).toMatchObject({ code: 70001, attempts: 2 });
  });

  it('fails at once on an HTTP 4xx and retries a 200 that is not JSON', async () => {
    server.script({ status: 404 });
    const err = await failure(client().broadcast({ MsgBody: [text('x')] }));
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 404, attempts: 1 });
    server.script({ text: 'not json' });
    expect((await client().broadcast({ MsgBody: [text('x')] })).attempts).toBe(2);
  });

  it('times out a hung server, retries, and reports the timeout', async () => {
    server.script({ hang: true }, { hang: true });
    const err = await failure(client({ timeoutMs: 100, retry: { attempts: 2, baseDelayMs: 1 } }).broadcast({ MsgBody: [text('x')] }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ timeoutMs: 100, attempts: 2 });
    expect(server.seen).toHaveLength(2);
  });

  it('makes one attempt with retry: false', async () => {
    server.script({ status: 502 });
    const err = await failure(client({ retry: false }).broadcast({ MsgBody: [text('x')] }));
    expect(err).toMatchObject({ status: 502, attempts: 1 });
  });

  it('stops at once when aborted while waiting for an answer', async () => {
    server.script({ hang: true });
    const controller = new AbortController();
    const pending = client().broadcast({ MsgBody: [text('x')] }, { signal: controller.signal });
    await vi.waitFor(() => expect(server.seen).toHaveLength(1));
    controller.abort(new Error('user gave up'));
    // the server never answers and the attempt timeout is 10 s: settling at all (well before it) is the point
    const outcome = await Promise.race([failure(pending), sleep(5_000).then(() => 'still pending')]);
    expect(outcome).toBeInstanceOf(AbortError);
    expect(((outcome as Error).cause as Error).message).toBe('user gave up');
    expect(server.seen).toHaveLength(1);
  });

  it('stops at once when aborted during a backoff or a limiter wait', async () => {
    server.script({ code: 10023 });
    const controller = new AbortController();
    const pending = client({ retry: { throttleDelayMs: 60_000 } }).broadcast({ MsgBody: [text('x')] }, { signal: controller.signal });
    await vi.waitFor(() => expect(server.seen).toHaveLength(1));
    controller.abort();
    expect(await failure(pending)).toBeInstanceOf(AbortError);

    const never: Limiter = { acquire: ({ signal } = {}) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason))) };
    const c2 = new AbortController();
    const waiting = client({ limiter: never }).broadcast({ MsgBody: [text('x')] }, { signal: c2.signal });
    c2.abort();
    expect(await failure(waiting)).toBeInstanceOf(AbortError);
    expect(server.seen).toHaveLength(1);
  });

  it('enforces the overall deadline with a TimeoutError', async () => {
    server.script({ hang: true });
    const err = await failure(client().broadcast({ MsgBody: [text('x')] }, { deadlineMs: 80 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ timeoutMs: 80 });
  });

  it('turns a lost answer plus retry into one delivery', async () => {
    server.script({ lostAnswer: true });
    const result = await client().broadcast({ MsgBody: [text('x')] });
    expect(result.attempts).toBe(2);
    expect(server.seen).toHaveLength(2);
    expect(server.deliveries()).toBe(1);
  });

  it('fails over to the backup host after repeated connection refusals', async () => {
    const switches: unknown[] = [];
    const c = client({
      baseUrl: { primary: await refusedUrl(), backup: server.url },
      retry: { failoverAfter: 2, baseDelayMs: 1 },
      logger: { ...logger, warn: (m, meta) => (m.includes('switching') ? switches.push(meta) : capture([m, meta])) },
    });
    const result = await c.broadcast({ MsgBody: [text('x')] });
    expect(result.attempts).toBe(3);
    expect(server.seen).toHaveLength(1);
    expect(switches).toEqual([{ from: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), to: server.url }]);
    // the client stays on the backup for the next call
    expect((await c.broadcast({ MsgBody: [text('y')] })).attempts).toBe(1);
  });

  it('does not retry when a retry could land outside the 5-minute dedup window', async () => {
    server.script({ status: 502 });
    const warnings: string[] = [];
    const err = await failure(
      client({ timeoutMs: 290_000, logger: { ...logger, warn: (m) => warnings.push(m) } }).broadcast({ MsgBody: [text('x')] }),
    );
    expect(err).toMatchObject({ status: 502, attempts: 1 });
    expect(warnings.join('\n')).toMatch(/dedup window/);
  });

  it('derives Random from an idempotency key and keeps a caller Random', async () => {
    const c = client();
    expect((await c.broadcast({ MsgBody: [text('x')] }, { idempotencyKey: 'order-42' })).Random).toBe(randomFromKey('order-42'));
    expect((await c.broadcast({ MsgBody: [text('x')], Random: 7 })).Random).toBe(7);
    const err = await failure(c.broadcast({ MsgBody: [text('x')], Random: 7 }, { idempotencyKey: 'order-42' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toEqual(['idempotencyKey']);
  });

  it('rejects an invalid request before anything reaches the network', async () => {
    const err = await failure(client().broadcast({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 1 } }] } as never));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain('MsgBody[0].MsgContent.Text');
    expect(server.seen).toHaveLength(0);
  });

  it('emits hooks with the usersig redacted', async () => {
    const events: Record<string, unknown[]> = { req: [], res: [], retry: [] };
    server.script({ status: 502 });
    await client({
      hooks: { onRequest: (e) => events.req!.push(e), onResponse: (e) => events.res!.push(e), onRetry: (e) => events.retry!.push(e) },
    }).broadcast({ MsgBody: [text('x')] });
    expect(events.req).toHaveLength(2);
    expect(events.req![0]).toMatchObject({ attempt: 1, url: expect.stringContaining('usersig=[redacted]'), bytes: expect.any(Number) });
    expect(events.res).toMatchObject([{ attempt: 1, status: 502 }, { attempt: 2, status: 200, errorCode: 0, msgSeq: 1001 }]);
    expect(events.retry).toMatchObject([{ attempt: 1, reason: 'http-status', delayMs: expect.any(Number) }]);
    for (const e of [...events.req!, ...events.res!, ...events.retry!]) capture(e);
  });

  it('keeps working when a hook throws', async () => {
    const errors: string[] = [];
    const c = client({ hooks: { onRequest: () => { throw new Error('hook bug'); } }, logger: { error: (m) => errors.push(m) } });
    expect((await c.broadcast({ MsgBody: [text('x')] })).MsgSeq).toBe(1001);
    expect(errors).toEqual(['tim-broadcast: onRequest hook threw']);
  });

  it('validates its options and names each bad field', () => {
    let err: unknown;
    try {
      createBroadcastClient({ sdkAppId: -1, secretKey: '', identifier: '', region: 'mars', timeoutMs: 0, retry: { attempts: 0, jitter: 1 } } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['sdkAppId', 'identifier', 'secretKey', 'timeoutMs', 'retry.attempts', 'retry.jitter', 'region']));
  });

  it('hides the secret from inspect, JSON and String', () => {
    const c = client();
    for (const out of [inspect(c, { showHidden: true, depth: 10 }), JSON.stringify(c), String(c)]) {
      expect(out).not.toContain(SECRET);
      expect(out).toContain('1400000001');
    }
  });
});

afterAll(() => {
  const text = captured.join('\n');
  expect(captured.length).toBeGreaterThan(50);
  expect(usersigsSeen.size).toBeGreaterThan(0);
  expect(text).not.toContain(SECRET);
  for (const sig of usersigsSeen) expect(text).not.toContain(sig);
});
