import { createRequire } from 'node:module';
import { formatPath, TransportError, ValidationError } from '@tim-broadcast/transport';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { Agent, request, type Dispatcher } from 'undici';
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
