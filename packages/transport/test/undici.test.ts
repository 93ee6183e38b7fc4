import { createRequire } from 'node:module';
import { TransportError } from '@tim-broadcast/transport';
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

  it.each([
    [{ connections: 0 }, /options\.connections/],
    [{ connections: 1.5 }, /options\.connections/],
    [{ keepAliveTimeoutMs: -1 }, /options\.keepAliveTimeoutMs/],
    [{ proxy: 'not a url' }, /options\.proxy/],
    [{ dispatcher: {} as Dispatcher }, /options\.dispatcher/],
    [{ dispatcher: new Agent(), connections: 2 }, /cannot be combined/],
  ])('rejects bad options eagerly: %o', (options, message) => {
    expect(() => undiciTransport(options)).toThrow(TypeError);
    expect(() => undiciTransport(options)).toThrow(message);
  });

  it('does not echo a bad proxy value (it may hold credentials)', () => {
    expect(() => undiciTransport({ proxy: 'user:s3cret@ not a url' })).toThrow(/^(?!.*s3cret)/s);
  });
});
