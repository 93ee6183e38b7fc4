import { AbortError, fetchTransport, TimeoutError, TransportError, ValidationError, type Transport } from '@tim-broadcast/transport';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deadPort, expectNoSecret, PATH, QUERY, rejectionOf, SECRET, setProxyEnv, startServer, type TestServer } from './helpers';

// One suite, both transports: they must be interchangeable.
describe.each([
  ['fetch', () => fetchTransport()],
  ['undici', () => undiciTransport()],
] as const)('%s transport', (_name, create) => {
  let restoreEnv: () => void;
  let transport: Transport;
  const servers: TestServer[] = [];
  const serve = async (handler?: Parameters<typeof startServer>[0]) => {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  };

  beforeAll(() => {
    restoreEnv = setProxyEnv({}); // a proxy in the developer's environment must not capture 127.0.0.1
  });
  afterAll(() => restoreEnv());
  beforeAll(() => {
    transport = create();
  });
  afterAll(() => transport.close());
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('requests and responses', () => {
    it('POSTs the body and headers intact, query included', async () => {
      const server = await serve((_req, res) => res.end('{}'));
      const body = JSON.stringify({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '你好 🌏 "quoted" \\ back' } }] });
      await transport.send({
        url: server.url,
        body,
        headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123' },
        timeoutMs: 5_000,
      });
      expect(server.received).toHaveLength(1);
      const [got] = server.received;
      expect(got!.method).toBe('POST');
      expect(got!.url).toBe(PATH + QUERY);
      expect(got!.body).toBe(body);
      expect(got!.headers['content-type']).toBe('application/json');
      expect(got!.headers['x-request-id']).toBe('abc-123');
      expect(Number(got!.headers['content-length'])).toBe(Buffer.byteLength(body));
    });

    it('returns status, headers and body as they came', async () => {
      const big = 'x'.repeat(200_000);
      const server = await serve((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-trace', 'T1');
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(JSON.stringify({ ErrorCode: 0, big }));
      });
      const res = await transport.send({ url: server.url, body: '{}' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers['x-trace']).toBe('T1');
      expect(res.headers['set-cookie']).toBe('a=1, b=2');
      expect(JSON.parse(res.body)).toEqual({ ErrorCode: 0, big });
    });

    it('does not interpret error statuses or non-JSON bodies', async () => {
      const server = await serve((req, res) => {
        if (req.url!.startsWith('/502')) {
          res.writeHead(502, { 'content-type': 'text/html' });
          res.end('<html>bad gateway</html>');
        } else if (req.url!.startsWith('/204')) {
          res.writeHead(204).end();
        } else {
          res.end('not json {');
        }
      });
      const bad = await transport.send({ url: `${server.origin}/502${QUERY}`, body: '{}' });
      expect(bad).toMatchObject({ status: 502, body: '<html>bad gateway</html>' });
      expect(bad.headers['content-type']).toBe('text/html');
      expect(await transport.send({ url: `${server.origin}/204`, body: '{}' })).toMatchObject({ status: 204, body: '' });
      expect(await transport.send({ url: server.url, body: '{}' })).toMatchObject({ status: 200, body: 'not json {' });
    });

    it('returns a redirect instead of following it (a POST must not turn into a GET elsewhere)', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(302, { location: '/elsewhere' });
        res.end('moved');
      });
      const res = await transport.send({ url: server.url, body: '{}' });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/elsewhere');
      expect(server.received).toHaveLength(1);
    });

    it('back-to-back calls reuse one keep-alive socket', async () => {
      const server = await serve();
      for (let i = 0; i < 20; i++) await transport.send({ url: server.url, body: '{}', timeoutMs: 5_000 });
      expect(server.received).toHaveLength(20);
      expect(server.connections).toBe(1);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['a timeoutMs too large for a timer', { timeoutMs: 2 ** 31 }, 'timeoutMs'],
      ['an infinite timeoutMs', { timeoutMs: Infinity }, 'timeoutMs'],
      ['a NaN timeoutMs', { timeoutMs: NaN }, 'timeoutMs'],
      ['a negative timeoutMs', { timeoutMs: -1 }, 'timeoutMs'],
      ['a zero timeoutMs', { timeoutMs: 0 }, 'timeoutMs'],
      ['a string timeoutMs', { timeoutMs: '100' }, 'timeoutMs'],
      ['a signal that is not an AbortSignal', { signal: { aborted: false } }, 'signal'],
      ['a body that is not a string', { body: { a: 1 } }, 'body'],
      ['headers that are not an object', { headers: 'x-a: 1' }, 'headers'],
    ])('refuses %s with a ValidationError naming it, sending nothing', async (_name, patch, path) => {
      const server = await serve();
      const err = await rejectionOf(() => transport.send({ url: server.url, body: '{}', ...patch } as never));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path.join('.'))).toEqual([path]);
      expect(server.connections).toBe(0);
    });

    it('refuses a request that is not an object, or has no URL', async () => {
      for (const bad of [null, 'http://127.0.0.1:9', { body: '{}' }]) {
        expect(await rejectionOf(() => transport.send(bad as never))).toBeInstanceOf(ValidationError);
      }
    });
  });

  describe('failures', () => {
    it('connection refused: TransportError ECONNREFUSED with a cause', async () => {
      const url = `http://127.0.0.1:${await deadPort()}${PATH}${QUERY}`;
      const err = await rejectionOf(() => transport.send({ url, body: '{}', timeoutMs: 5_000 }));
      expect(err).toBeInstanceOf(TransportError);
      expect(err).not.toBeInstanceOf(TimeoutError);
      expect(err).not.toBeInstanceOf(AbortError);
      const e = err as TransportError;
      expect(e.code).toBe('ECONNREFUSED');
      expect(e.message).toMatch(/ECONNREFUSED/);
      expect(e.cause).toBeInstanceOf(Error);
      expect(e.url).toBe(url.slice(0, url.indexOf('?')));
      expectNoSecret(err);
    });

    it('a server that never answers: TimeoutError after timeoutMs', async () => {
      const server = await serve(() => {});
      const started = performance.now();
      const err = await rejectionOf(() => transport.send({ url: server.url, body: '{}', timeoutMs: 200 }));
      const elapsed = performance.now() - started;
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TimeoutError).timeoutMs).toBe(200);
      expect((err as TimeoutError).code).toBe('ETIMEDOUT');
      expect((err as TimeoutError).cause).toBeDefined();
      expect(elapsed).toBeGreaterThanOrEqual(190);
      // accurate, with slack for a busy host: undici's own timers would have fired after about a second
      expect(elapsed).toBeLessThan(600);
      expectNoSecret(err);
    });

    it('a body that stalls after the headers: TimeoutError (the deadline covers the whole exchange)', async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"ErrorCode":');
      });
      const started = performance.now();
      const err = await rejectionOf(() => transport.send({ url: server.url, body: '{}', timeoutMs: 200 }));
      expect(err).toBeInstanceOf(TimeoutError);
      expect(performance.now() - started).toBeLessThan(600);
      expectNoSecret(err);
    });

    it('aborted before sending: AbortError with the reason as cause, nothing sent', async () => {
      const server = await serve();
      const reason = new Error('caller gave up');
      const err = await rejectionOf(() =>
        transport.send({ url: server.url, body: '{}', signal: AbortSignal.abort(reason), timeoutMs: 5_000 }),
      );
      expect(err).toBeInstanceOf(AbortError);
      expect((err as AbortError).cause).toBe(reason);
      expect((err as AbortError).code).toBe('ABORT_ERR');
      expect(server.connections).toBe(0);
      expectNoSecret(err);
    });

    it('aborted during the request: AbortError at once, not a timeout', async () => {
      const server = await serve(() => {});
      const controller = new AbortController();
      const reason = new Error('shutting down');
      const pending = rejectionOf(() =>
        transport.send({ url: server.url, body: '{}', signal: controller.signal, timeoutMs: 60_000 }),
      );
      await server.receivedCount(1);
      controller.abort(reason);
      const err = await pending;
      expect(err).toBeInstanceOf(AbortError);
      expect(err).not.toBeInstanceOf(TimeoutError);
      expect((err as AbortError).cause).toBe(reason);
      expectNoSecret(err);
    });

    it('aborted without a reason: the cause is the DOMException AbortError', async () => {
      const server = await serve(() => {});
      const controller = new AbortController();
      const pending = rejectionOf(() => transport.send({ url: server.url, body: '{}', signal: controller.signal }));
      await server.receivedCount(1);
      controller.abort();
      const err = (await pending) as AbortError;
      expect(err).toBeInstanceOf(AbortError);
      expect((err.cause as Error).name).toBe('AbortError');
    });

    it('socket destroyed mid-request: TransportError with the socket error as cause', async () => {
      const server = await serve((req) => req.socket.destroy());
      const err = await rejectionOf(() => transport.send({ url: server.url, body: '{}', timeoutMs: 5_000 }));
      expect(err).toBeInstanceOf(TransportError);
      expect(err).not.toBeInstanceOf(TimeoutError);
      const e = err as TransportError;
      expect(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']).toContain(e.code);
      expect(e.message).toMatch(/other side closed|socket hang up|ECONNRESET|EPIPE/);
      expect(e.cause).toBeInstanceOf(Error);
      expectNoSecret(err);
    });

    it('socket destroyed mid-response: TransportError', async () => {
      const server = await serve((req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('{"partial":', () => req.socket.destroy());
      });
      const err = await rejectionOf(() => transport.send({ url: server.url, body: '{}', timeoutMs: 5_000 }));
      expect(err).toBeInstanceOf(TransportError);
      expect(err).not.toBeInstanceOf(TimeoutError);
      expect((err as TransportError).code).toBeDefined();
      expectNoSecret(err);
    });

    it.each([
      ['a space in the host', `http://exa mple.invalid${PATH}${QUERY}`],
      ['no scheme at all', `not a url${QUERY}`],
      ['a space inside the query', `http://exa mple.invalid${PATH}?a=b c&usersig=${SECRET}`],
    ])('invalid URL (%s): TransportError, the query nowhere in it', async (_case, url) => {
      const err = await rejectionOf(() => transport.send({ url, body: '{}', timeoutMs: 5_000 }));
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).code).toBe('ERR_INVALID_URL');
      expect((err as TransportError).url).not.toContain('?');
      expectNoSecret(err);
    });
  });

  describe('close()', () => {
    it('after close() a call rejects with TransportError ERR_CLOSED; close() twice is fine', async () => {
      const server = await serve();
      const own = create();
      expect((await own.send({ url: server.url, body: '{}' })).status).toBe(200);
      await own.close();
      await own.close();
      const err = await rejectionOf(() => own.send({ url: server.url, body: '{}' }));
      expect(err).toBeInstanceOf(TransportError);
      expect((err as TransportError).code).toBe('ERR_CLOSED');
      expect(server.received).toHaveLength(1);
      expectNoSecret(err);
    });
  });
});
