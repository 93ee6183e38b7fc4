import { createRequire } from 'node:module';
import { AbortError, formatPath, TimeoutError, TransportError, ValidationError } from '@tim-broadcast/transport';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { Agent, Dispatcher, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf, setProxyEnv, startServer, type TestServer } from './helpers';

const undiciVersion: string = createRequire(import.meta.url)('undici/package.json').version;

describe(`undiciTransport (undici ${undiciVersion})`, () => {
  let restoreEnv: () => void;
  const servers: TestServer[] = [];
  const serve = async (handler?: Parameters<typeof startServer>[0]) => {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  };
  beforeAll(() => {
    restoreEnv = setProxyEnv({});
  });
  afterAll(() => restoreEnv());
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('runs on a supported undici major', () => {
    console.info(`undici ${undiciVersion}`);
    expect(['7', '8']).toContain(undiciVersion.split('.')[0]);
  });

  it('keeps the connection alive: 100 sequential calls, one server-side socket', async () => {
    const server = await serve((_req, res) => res.end('{"ErrorCode":0}'));
    const transport = undiciTransport();
    try {
      for (let i = 0; i < 100; i++) {
        const res = await transport.send({ url: server.url, body: `{"n":${i}}`, timeoutMs: 5_000 });
        expect(res.status).toBe(200);
      }
      expect(server.received).toHaveLength(100);
      expect(server.connections).toBe(1);
    } finally {
      await transport.close();
    }
  });

  it('with connections: 1, back-to-back calls share its one socket', async () => {
    const server = await serve((_req, res) => res.end('{"ErrorCode":0}'));
    const transport = undiciTransport({ connections: 1 });
    try {
      for (let i = 0; i < 50; i++) expect((await transport.send({ url: server.url, body: `{"n":${i}}`, timeoutMs: 5_000 })).status).toBe(200);
      expect(server.received).toHaveLength(50);
      expect(server.connections).toBe(1);
    } finally {
      await transport.close();
    }
  });

  it('close() releases its sockets', async () => {
    const server = await serve();
    const transport = undiciTransport();
    await transport.send({ url: server.url, body: '{}' });
    expect(server.open.size).toBe(1);
    const [socket] = server.open;
    const closed = new Promise((resolve) => socket!.once('close', resolve));
    await transport.close();
    await closed;
    expect(server.open.size).toBe(0);
    const err = await rejectionOf(() => transport.send({ url: server.url, body: '{}' }));
    expect(err).toBeInstanceOf(TransportError);
    expect(server.connections).toBe(1);
  });

  it('close() lets a request in flight finish', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('done'), 100));
    const transport = undiciTransport();
    const pending = transport.send({ url: server.url, body: '{}' });
    await server.receivedCount(1);
    await transport.close();
    expect((await pending).body).toBe('done');
  });

  it('respects the connections limit under concurrency', async () => {
    // responses are held until two requests are in flight, so the test sees real concurrency even on a slow machine
    let inFlight = 0;
    let maxInFlight = 0;
    const held: Array<() => void> = [];
    const release = () => {
      for (const respond of held.splice(0)) respond();
    };
    const server = await serve((_req, res) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      held.push(() => {
        inFlight--;
        res.end('ok');
      });
      if (held.length >= 2) release();
      else setTimeout(release, 2_000);
    });
    const transport = undiciTransport({ connections: 2 });
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => transport.send({ url: server.url, body: `{"n":${i}}`, timeoutMs: 20_000 })),
      );
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(server.connections).toBe(2);
      expect(maxInFlight).toBe(2);
    } finally {
      await transport.close();
    }
  });

  it('uses a dispatcher you pass in, and leaves it open on close()', async () => {
    const server = await serve();
    let dispatched = 0;
    const agent = new Agent();
    const dispatcher: Dispatcher = agent.compose((dispatch) => (opts, handler) => {
      dispatched++;
      return dispatch(opts, handler);
    });
    const transport = undiciTransport({ dispatcher });
    await transport.send({ url: server.url, body: '{}' });
    expect(dispatched).toBe(1);
    await transport.close();
    const res = await request(server.url, { method: 'POST', body: '{}', dispatcher: agent });
    expect(await res.body.text()).toBe('ok');
    expect(server.connections).toBe(1); // still the same keep-alive socket
    await agent.close();
  });

  it('reads the body as undici did: UTF-8 split across chunks, a leading byte order mark dropped, 1xx answers skipped', async () => {
    const text = '{"ErrorInfo":"你好, 世界 — ✓"}';
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const server = await serve((_req, res) => {
      res.writeEarlyHints({ link: '</a.css>; rel=preload' });
      res.writeHead(200, { 'content-type': 'application/json', 'x-twice': ['a', 'b'] });
      // one byte at a time: every multi-byte character is split between chunks
      let i = 0;
      const next = () => (i < bytes.length ? res.write(bytes.subarray(i, ++i), next) : res.end());
      next();
    });
    const transport = undiciTransport();
    try {
      const res = await transport.send({ url: server.url, body: '{}', timeoutMs: 5_000 });
      expect(res).toEqual({ status: 200, headers: expect.objectContaining({ 'content-type': 'application/json', 'x-twice': 'a, b' }), body: text });
    } finally {
      await transport.close();
    }
  });

  it('aborting a call still queued behind the connection limit rejects it at once, and it is never sent', async () => {
    const held: Array<() => void> = [];
    const server = await serve((_req, res) => held.push(() => res.end('ok')));
    const transport = undiciTransport({ connections: 1 });
    try {
      const first = transport.send({ url: server.url, body: '{"n":1}', timeoutMs: 10_000 });
      await server.receivedCount(1);
      const controller = new AbortController();
      const second = rejectionOf(() => transport.send({ url: server.url, body: '{"n":2}', signal: controller.signal, timeoutMs: 10_000 }));
      const timedOut = rejectionOf(() => transport.send({ url: server.url, body: '{"n":3}', timeoutMs: 50 }));
      controller.abort(new Error('gave up'));
      expect(await second).toBeInstanceOf(AbortError);
      expect(await timedOut).toBeInstanceOf(TimeoutError);
      held.shift()!();
      expect((await first).body).toBe('ok');
      // the connection is free again and serves the next call; the abandoned ones never reached the server
      const next = transport.send({ url: server.url, body: '{"n":4}', timeoutMs: 10_000 });
      await server.receivedCount(2);
      held.shift()!();
      expect((await next).body).toBe('ok');
      expect(server.received.map((r) => r.body)).toEqual(['{"n":1}', '{"n":4}']);
    } finally {
      await transport.close();
    }
  });

  // A dispatcher of your own may drive either of undici's handler interfaces: undici 8's (onRequestStart,
  // onResponseStart, ...) or undici 7's older one (onConnect, onHeaders, ...), as undici 7's MockAgent does.
  class ScriptedDispatcher extends Dispatcher {
    constructor(private readonly style: 'current' | 'legacy', private readonly fail = false) {
      super();
    }
    override dispatch(_opts: Dispatcher.DispatchOptions, handler: Record<string, (...args: unknown[]) => unknown>): boolean {
      const body = Buffer.from('{"ErrorCode":0,"MsgSeq":7}');
      setImmediate(() => {
        if (this.style === 'current') {
          const controller = { abort() {}, pause() {}, resume() {}, aborted: false, paused: false };
          handler.onRequestStart!(controller, {});
          if (this.fail) return handler.onResponseError!(controller, Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
          handler.onResponseStart!(controller, 200, { 'content-type': 'application/json' }, 'OK');
          handler.onResponseData!(controller, body.subarray(0, 5));
          handler.onResponseData!(controller, body.subarray(5));
          handler.onResponseEnd!(controller, {});
        } else {
          handler.onConnect!(() => {});
          if (this.fail) return handler.onError!(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
          handler.onHeaders!(200, [Buffer.from('Content-Type'), Buffer.from('application/json'), Buffer.from('X-A'), Buffer.from('1'), Buffer.from('x-a'), Buffer.from('2')], () => {}, 'OK');
          handler.onData!(body);
          handler.onComplete!([]);
        }
      });
      return true;
    }
  }

  it.each(['current', 'legacy'] as const)('works with a dispatcher that calls the %s handler interface', async (style) => {
    const transport = undiciTransport({ dispatcher: new ScriptedDispatcher(style) });
    const res = await transport.send({ url: 'http://127.0.0.1:9/v4/x?usersig=abc', body: '{}', timeoutMs: 5_000 });
    expect(res.status).toBe(200);
    expect(res.body).toBe('{"ErrorCode":0,"MsgSeq":7}');
    expect(res.headers['content-type']).toBe('application/json');
    if (style === 'legacy') expect(res.headers['x-a']).toBe('1, 2');
    const failing = undiciTransport({ dispatcher: new ScriptedDispatcher(style, true) });
    const err = await rejectionOf(() => failing.send({ url: 'http://127.0.0.1:9/v4/x?usersig=abc', body: '{}' }));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ECONNREFUSED');
  });

  it.each<[string, unknown, string[]]>([
    ['no connections', { connections: 0 }, ['connections']],
    ['fractional connections', { connections: 1.5 }, ['connections']],
    ['infinite connections', { connections: Infinity }, ['connections']],
    ['a negative keep-alive', { keepAliveTimeoutMs: -1 }, ['keepAliveTimeoutMs']],
    ['a keep-alive no timer can hold', { keepAliveTimeoutMs: 2 ** 31 }, ['keepAliveTimeoutMs']],
    ['a NaN keep-alive', { keepAliveTimeoutMs: NaN }, ['keepAliveTimeoutMs']],
    ['a proxy that is not a URL', { proxy: 'not a url' }, ['proxy']],
    ['a proxy of another scheme', { proxy: 'socks5://127.0.0.1:1080' }, ['proxy']],
    ['a dispatcher that is not one', { dispatcher: {} }, ['dispatcher']],
    ['a dispatcher with pool options', { dispatcher: new Agent(), connections: 2 }, ['connections']],
    ['a misspelt option', { conections: 2 }, ['conections']],
    ['a timeout option (transports take timeoutMs per request)', { timeoutMs: 100 }, ['timeoutMs']],
    ['options that are not an object', 'fast', ['(root)']],
    ['null options', null, ['(root)']],
  ])('refuses %s eagerly with a ValidationError naming it', (_name, options, paths) => {
    let err: unknown;
    try {
      undiciTransport(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => formatPath(i.path))).toEqual(paths);
  });

  it('names the closest option for a misspelt one', () => {
    expect(() => undiciTransport({ conections: 2 } as never)).toThrow(/conections: unknown option \(did you mean 'connections'\?\)/);
  });

  it('does not echo a bad proxy value (it may hold credentials)', () => {
    expect(() => undiciTransport({ proxy: 'user:s3cret@ not a url' })).toThrow(/^(?!.*s3cret)/s);
  });
});
