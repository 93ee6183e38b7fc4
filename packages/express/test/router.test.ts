import { request as httpRequest } from 'node:http';
import { createBroadcaster, type Broadcaster, type BroadcasterOptions } from '@tim-broadcast/rate-limit';
import type { Emulator } from '@tim-broadcast/emulator';
import { broadcastMiddleware, closeBroadcast, createBroadcastRouter, createHealthHandler, type BroadcastMiddlewareOptions } from '../src/index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../testing/promises';
import {
  ADMIN,
  bearer,
  call,
  emulator,
  EXPRESS_VERSIONS,
  findLeaks,
  observedTransport,
  recordConsole,
  recordingSuite,
  serve,
  TOKEN,
  type ExpressFactory,
  type Served,
} from './helpers';

const { seen, logger, appOptions } = recordingSuite();
recordConsole(seen);

/** Options every broadcaster here shares: the emulator, a fast limiter, the recording transport and logger. */
function broadcasterOptions(emu: Emulator, extra: Partial<BroadcasterOptions> = {}): BroadcastMiddlewareOptions {
  return {
    ...appOptions(emu),
    rateLimit: { ratePerSecond: 50 },
    ...extra,
  } as BroadcastMiddlewareOptions;
}

describe.each(EXPRESS_VERSIONS)('%s', (_name, express) => {
  let emu: Emulator;
  let served: Served;
  let app: ReturnType<ExpressFactory>;
  const extra: Broadcaster[] = [];

  beforeAll(async () => {
    emu = await emulator(1000);
    app = express();
    app.use(broadcastMiddleware(broadcasterOptions(emu)));
    app.use('/broadcasts', createBroadcastRouter({ bearerToken: TOKEN, bodyLimit: '16kb', logger }));
    app.use(
      '/guarded',
      createBroadcastRouter({
        authorize: (req) => (req.headers['x-role'] === undefined ? 'unauthenticated' : req.headers['x-role'] === 'admin'),
        logger,
      }),
    );
    app.use(
      '/failing',
      createBroadcastRouter({
        authorize: async () => {
          throw new Error('directory lookup failed');
        },
        logger,
      }),
    );
    app.use('/parsed', express.json(), createBroadcastRouter({ bearerToken: TOKEN, logger }));
    app.post('/as-route', createBroadcastRouter({ bearerToken: TOKEN, logger }));
    app.get('/health', createHealthHandler());
    served = await serve(app);
  });

  afterAll(async () => {
    await served?.close();
    await closeBroadcast(app);
    await Promise.all(extra.map((b) => b.close()));
    await emu?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = bearer()) => call(seen, `${served.url}${path}`, { body, headers });

  it('answers 401 with WWW-Authenticate without a token or with a wrong one, and sends nothing', async () => {
    const before = emu.stats.requests;
    const missing = await post('/broadcasts', { text: 'hi' }, {});
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({ error: 'unauthorized' });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tim-broadcast"');

    const wrong = await post('/broadcasts', { text: 'hi' }, bearer('not-the-token-at-all-000'));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const notBearer = await post('/broadcasts', { text: 'hi' }, { authorization: `Basic ${TOKEN}` });
    expect(notBearer.status).toBe(401);
    expect(emu.stats.requests).toBe(before);
  });

  it('answers 401 or 403 as authorize() decides', async () => {
    expect((await post('/guarded', { text: 'hi' }, {})).status).toBe(401);
    const denied = await post('/guarded', { text: 'hi' }, { 'x-role': 'viewer' });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ error: 'forbidden' });
    expect((await post('/guarded', { text: 'allowed' }, { 'x-role': 'admin' })).status).toBe(200);
  });

  it('answers 400 with the path of each bad field', async () => {
    const documented = await post('/broadcasts', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 42 } }] });
    expect(documented.status).toBe(400);
    expect(documented.json.error).toBe('invalid_request');
    expect(documented.json.issues).toEqual([{ path: 'MsgBody[0].MsgContent.Text', message: expect.any(String) }]);

    const twoCustoms = await post('/broadcasts', {
      MsgBody: [
        { MsgType: 'TIMCustomElem', MsgContent: { Data: 'a' } },
        { MsgType: 'TIMCustomElem', MsgContent: { Data: 'b' } },
      ],
    });
    expect(twoCustoms.status).toBe(400);
    expect(twoCustoms.json.issues.map((i: { path: string }) => i.path)).toContain('MsgBody[1].MsgType');

    const short = await post('/broadcasts', { text: '', from: 7 });
    expect(short.status).toBe(400);
    expect(short.json.issues.map((i: { path: string }) => i.path).sort()).toEqual(['from', 'text']);

    const empty = await post('/broadcasts', {});
    expect(empty.status).toBe(400);
    expect(empty.json.issues[0].path).toBe('MsgBody');
  });

  it('answers 400 for malformed JSON and 415 for a body that is not JSON', async () => {
    const malformed = await post('/broadcasts', '{"text": "hi"', { ...bearer(), 'content-type': 'application/json' });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ error: 'invalid_json' });

    const plain = await post('/broadcasts', 'hello', { ...bearer(), 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    expect(plain.json).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('answers 415 for a charset other than UTF-8 and 400 for bytes that are not UTF-8; nothing is sent', async () => {
    const before = emu.stats.requests;
    const latin1 = Buffer.from('{"text":"caf\u00e9"}', 'latin1');
    const declared = await post('/broadcasts', latin1, { ...bearer(), 'content-type': 'application/json; charset=iso-8859-1' });
    expect(declared.status).toBe(415);
    expect(declared.json).toMatchObject({ error: 'unsupported_media_type', message: expect.stringContaining('UTF-8') });
    const quoted = await post('/broadcasts', latin1, { ...bearer(), 'content-type': 'application/json;charset="windows-1252"' });
    expect(quoted.status).toBe(415);

    const undeclared = await post('/broadcasts', latin1, { ...bearer(), 'content-type': 'application/json' });
    expect(undeclared.status).toBe(400);
    expect(undeclared.json).toEqual({ error: 'invalid_encoding', message: 'the request body is not valid UTF-8' });
    expect(emu.stats.requests).toBe(before);

    const utf8 = await post('/broadcasts', Buffer.from('{"text":"caf\u00e9 \u2615"}', 'utf8'), { ...bearer(), 'content-type': 'application/json; charset=UTF-8' });
    expect(utf8.status).toBe(200);
    expect(emu.deliveries.find((d) => d.MsgSeq === utf8.json.MsgSeq)?.body.MsgBody).toEqual([{ MsgType: 'TIMTextElem', MsgContent: { Text: 'caf\u00e9 \u2615' } }]);
  });

  it('names the field meant when a key is misspelt, in either form', async () => {
    const txt = await post('/broadcasts', { txt: 'hello' });
    expect(txt.status).toBe(400);
    expect(txt.json.issues).toEqual([
      { path: 'txt', message: expect.stringMatching(/^unknown field \(did you mean 'text'\?\); send the documented request .* or the short form \(text, from, cloudCustomData\)$/) },
      { path: 'MsgBody', message: expect.stringMatching(/^required: send the documented request/) },
    ]);
    const form = await post('/broadcasts', { text: 'hello', form: 'ops' });
    expect(form.json.issues).toEqual([{ path: 'form', message: expect.stringContaining("did you mean 'from'") }]);
    const account = await post('/broadcasts', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } }], from_account: 'ops' });
    expect(account.json.issues).toEqual([{ path: 'from_account', message: expect.stringContaining("did you mean 'From_Account'") }]);
    const mixed = await post('/broadcasts', { MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } }], text: 'y' });
    expect(mixed.json.issues).toEqual([{ path: 'text', message: 'belongs to the short form; do not mix the two forms' }]);
  });

  it('answers 413 over the body limit, declared or streamed, and keeps serving', async () => {
    const huge = { text: 'x'.repeat(1024 * 1024) };
    const declared = await post('/broadcasts', huge);
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({ error: 'payload_too_large' });

    // chunked: no Content-Length, so the router has to count while reading
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${served.url}/broadcasts`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('{"text":"');
      for (let i = 0; i < 64; i++) req.write('y'.repeat(4096));
      req.end('"}');
    });
    seen.bodies.push(streamed.body);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ error: 'payload_too_large' });

    expect((await post('/broadcasts', { text: 'still serving' })).status).toBe(200);
  });

  it('broadcasts a documented request: 200 { MsgSeq, Random } and the emulator has the delivery', async () => {
    const request = {
      From_Account: ADMIN,
      MsgBody: [
        { MsgType: 'TIMTextElem', MsgContent: { Text: 'Doors open in 5 minutes' } },
        { MsgType: 'TIMCustomElem', MsgContent: { Data: '{"type":"countdown","seconds":300}' } },
      ],
      CloudCustomData: 'round-1',
    };
    const answer = await post('/broadcasts', request);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.json).sort()).toEqual(['MsgSeq', 'Random']);
    const delivery = emu.deliveries.find((d) => d.MsgSeq === answer.json.MsgSeq);
    expect(delivery?.Random).toBe(answer.json.Random);
    expect(delivery?.body.MsgBody).toEqual(request.MsgBody);
    expect(delivery?.body.CloudCustomData).toBe('round-1');
  });

  it('broadcasts the short { text } form as a text element', async () => {
    const answer = await post('/broadcasts', { text: 'short form', cloudCustomData: 'meta' });
    expect(answer.status).toBe(200);
    const delivery = emu.deliveries.find((d) => d.MsgSeq === answer.json.MsgSeq);
    expect(delivery?.body.MsgBody).toEqual([{ MsgType: 'TIMTextElem', MsgContent: { Text: 'short form' } }]);
    expect(delivery?.body.CloudCustomData).toBe('meta');
  });

  it('takes a body express.json() already parsed, and works as a route handler', async () => {
    const parsed = await post('/parsed', { text: 'parsed upstream' });
    expect(parsed.status).toBe(200);
    const route = await post('/as-route', { text: 'route handler' });
    expect(route.status).toBe(200);
    expect(emu.deliveries.map((d) => d.MsgSeq)).toEqual(expect.arrayContaining([parsed.json.MsgSeq, route.json.MsgSeq]));
  });

  it('sends one message for a repeated Idempotency-Key', async () => {
    const headers = { ...bearer(), 'idempotency-key': `order-${Math.random()}` };
    const first = await post('/broadcasts', { text: 'once' }, headers);
    const second = await post('/broadcasts', { text: 'once' }, headers);
    expect(first.status).toBe(200);
    expect(second.json).toEqual(first.json);
    expect(emu.deliveries.filter((d) => d.Random === first.json.Random)).toHaveLength(1);
  });

  it('answers 502 with the Tencent code when upstream refuses (10007)', async () => {
    emu.setConfig({ broadcastEnabled: false });
    try {
      const answer = await post('/broadcasts', { text: 'refused' });
      expect(answer.status).toBe(502);
      expect(answer.json).toMatchObject({ error: 'upstream_error', code: 10007, category: 'config', info: expect.any(String) });
    } finally {
      emu.setConfig({ broadcastEnabled: true });
    }
  });

  it('answers 504 when upstream does not answer in time', async () => {
    const slow = createBroadcaster(broadcasterOptions(emu, { timeoutMs: 300, retry: false }));
    extra.push(slow);
    app.use('/slow', createBroadcastRouter({ broadcast: slow, bearerToken: TOKEN, logger }));
    emu.setFaults({ script: ['slow'], slowMs: 2_000 });
    try {
      const answer = await post('/slow', { text: 'too slow' });
      expect(answer.status).toBe(504);
      expect(answer.json).toMatchObject({ error: 'upstream_timeout' });
    } finally {
      emu.setFaults({});
    }
  });

  it('answers 429 with Retry-After when the queue is full, and still delivers what it accepted', async () => {
    const transport = observedTransport(seen, { hold: true });
    const held = createBroadcaster(broadcasterOptions(emu, { transport, maxQueued: 1, rateLimit: { ratePerSecond: 10 } }));
    extra.push(held);
    app.use('/held', createBroadcastRouter({ broadcast: held, bearerToken: TOKEN, logger }));

    const accepted: Promise<Awaited<ReturnType<typeof post>>>[] = [];
    let full: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 20 && !full; i++) {
      const pending = post('/held', { text: `held ${i}` });
      let settled: Awaited<ReturnType<typeof post>> | undefined;
      void pending.then((answer) => (settled = answer));
      // wait until this one is either answered (refused) or counted by the broadcaster
      await until(() => settled !== undefined || held.health().queued + held.health().inFlight === accepted.length + 1, 10_000, 'the request to be queued');
      if (settled?.status === 429) full = settled;
      else accepted.push(pending);
    }
    expect(full, 'a request was refused with 429').toBeDefined();
    expect(full!.json).toMatchObject({ error: 'queue_full' });
    const retryAfter = Number(full!.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(full!.json.retryAfterSeconds).toBe(retryAfter);

    transport.release();
    const results = await Promise.all(accepted);
    expect(results.map((r) => r.status)).toEqual(accepted.map(() => 200));
    for (const r of results) expect(emu.deliveries.some((d) => d.MsgSeq === r.json.MsgSeq)).toBe(true);
  });

  it('takes a queued broadcast back when its caller disconnects', async () => {
    const transport = observedTransport(seen, { hold: true });
    const held = createBroadcaster(broadcasterOptions(emu, { transport }));
    extra.push(held);
    app.use('/cancel', createBroadcastRouter({ broadcast: held, bearerToken: TOKEN, logger }));

    const first = post('/cancel', { text: 'in flight' });
    await until(() => held.health().inFlight === 1, 10_000, 'the first broadcast to be in flight');
    const caller = new AbortController();
    const second = fetch(`${served.url}/cancel`, {
      method: 'POST',
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'never sent' }),
      signal: caller.signal,
    });
    await until(() => held.health().queued === 1, 10_000, 'the second broadcast to be queued');
    caller.abort();
    await expect(second).rejects.toThrow();
    await until(() => held.health().queued === 0, 10_000, 'the queue to drop the abandoned broadcast');

    transport.release();
    expect((await first).status).toBe(200);
    expect(emu.deliveries.some((d) => JSON.stringify(d.body.MsgBody).includes('never sent'))).toBe(false);
    expect(seen.logs.some((line) => line.includes('caller went away'))).toBe(true);
  });

  it('stays quiet when a caller goes away in the middle of its body', async () => {
    const count = (match: (line: string) => boolean) => seen.logs.filter(match).length;
    const isError = (line: string) => line.startsWith('error');
    const isGone = (line: string) => line.includes('caller went away') && line.includes('"error":"Error"');
    const [errorsBefore, goneBefore] = [count(isError), count(isGone)];
    const req = httpRequest(`${served.url}/broadcasts`, { method: 'POST', headers: { ...bearer(), 'content-type': 'application/json' } });
    const closed = new Promise((resolve) => req.on('error', resolve).on('close', resolve));
    req.write('{"text":"half a mess');
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    await closed;
    await until(() => count(isGone) > goneBefore, 10_000, 'the router to notice');
    expect(count(isError)).toBe(errorsBefore);
  });

  it('answers 500 with a generic message when authorize() throws (Express 4 included: no hang, no leak)', async () => {
    const answer = await post('/failing', { text: 'hi' });
    expect(answer.status).toBe(500);
    expect(answer.json).toEqual({ error: 'internal_error', message: 'internal error' });
    expect(answer.text).not.toContain('directory lookup failed');
    expect(seen.logs.some((line) => line.includes('directory lookup failed'))).toBe(true);
  });

  it('leaves other methods and paths to the app', async () => {
    expect((await call(seen, `${served.url}/broadcasts`, { method: 'GET', headers: bearer() })).status).toBe(404);
    expect((await post('/broadcasts/elsewhere', { text: 'hi' })).status).toBe(404);
  });

  it('reports health', async () => {
    const answer = await call(seen, `${served.url}/health`, { method: 'GET' });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status: 'up', queued: 0, inFlight: 0, limiter: { store: 'memory', ratePerSecond: 50 } });
  });
});

describe('secrets', () => {
  it('never show up in a response body or a log line', () => {
    expect(seen.userSigs.size).toBeGreaterThan(0);
    expect(seen.bodies.length).toBeGreaterThan(30);
    expect(seen.logs.length).toBeGreaterThan(0);
    expect(findLeaks(seen)).toEqual([]);
  });
});
