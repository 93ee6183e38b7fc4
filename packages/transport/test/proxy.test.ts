import { TransportError } from '@tim-broadcast/transport';
import { undiciTransport } from '@tim-broadcast/transport/undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectNoSecret, PATH, QUERY, rejectionOf, setProxyEnv, startProxy, startServer, type TestProxy, type TestServer } from './helpers';

// undici 7's EnvHttpProxyAgent reads HTTP_PROXY / HTTPS_PROXY when it is created and NO_PROXY on every request;
// undiciTransport({ proxy: 'env' }) is that agent, so these tests pin the same behaviour.
describe('undiciTransport proxies', () => {
  let server: TestServer;
  let proxy: TestProxy;
  let restoreEnv: () => void = () => {};
  const throughProxy = () => proxy.forwarded.length + proxy.tunnels.length;

  beforeEach(async () => {
    server = await startServer((_req, res) => res.end('direct-or-proxied'));
    proxy = await startProxy();
  });
  afterEach(async () => {
    restoreEnv();
    await Promise.all([server.close(), proxy.close()]);
  });

  const send = async (transport: ReturnType<typeof undiciTransport>, url = server.url) => {
    try {
      return await transport.send({ url, body: '{}', timeoutMs: 5_000 });
    } finally {
      await transport.close();
    }
  };

  it('HTTP_PROXY routes http:// requests through the proxy', async () => {
    restoreEnv = setProxyEnv({ HTTP_PROXY: proxy.url });
    const res = await send(undiciTransport());
    expect(res.body).toBe('direct-or-proxied');
    expect(throughProxy()).toBe(1);
    // undici tunnels http:// targets with CONNECT too (ProxyAgent's proxyTunnel default)
    expect(proxy.tunnels).toEqual([`127.0.0.1:${server.port}`]);
    expect(server.received[0]!.url).toBe(PATH + QUERY);
  });

  it('HTTPS_PROXY routes https:// requests through the proxy (CONNECT)', async () => {
    restoreEnv = setProxyEnv({ HTTPS_PROXY: proxy.url });
    // the target speaks plain HTTP, so the TLS handshake inside the tunnel fails, after the proxy saw the CONNECT
    const url = `https://127.0.0.1:${server.port}${PATH}${QUERY}`;
    const err = await rejectionOf(() => send(undiciTransport(), url));
    expect(err).toBeInstanceOf(TransportError);
    expect(proxy.tunnels).toEqual([`127.0.0.1:${server.port}`]);
    expectNoSecret(err);
  });

  it('HTTPS_PROXY alone does not catch http:// requests', async () => {
    restoreEnv = setProxyEnv({ HTTPS_PROXY: proxy.url });
    await send(undiciTransport());
    expect(throughProxy()).toBe(0);
    expect(server.received).toHaveLength(1);
  });

  it('lower-case http_proxy wins over HTTP_PROXY', async () => {
    const other = await startProxy();
    try {
      restoreEnv = setProxyEnv({ http_proxy: proxy.url, HTTP_PROXY: other.url });
      await send(undiciTransport());
      expect(throughProxy()).toBe(1);
      expect(other.tunnels.length + other.forwarded.length).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('NO_PROXY bypasses the proxy', async () => {
    restoreEnv = setProxyEnv({ HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' });
    const res = await send(undiciTransport());
    expect(res.body).toBe('direct-or-proxied');
    expect(throughProxy()).toBe(0);
    expect(server.received).toHaveLength(1);
  });

  it('NO_PROXY is read per request; the proxy variables only when the transport is created', async () => {
    restoreEnv = setProxyEnv({ HTTP_PROXY: proxy.url });
    const transport = undiciTransport();
    try {
      await transport.send({ url: server.url, body: '{}' });
      expect(throughProxy()).toBe(1);
      process.env.NO_PROXY = '127.0.0.1';
      await transport.send({ url: server.url, body: '{}' });
      expect(throughProxy()).toBe(1); // bypassed
      delete process.env.NO_PROXY;
      delete process.env.HTTP_PROXY;
      await transport.send({ url: server.url, body: '{}' });
      expect(throughProxy()).toBe(1); // the tunnel from the first call is reused: still proxied, no new CONNECT
      expect(server.received).toHaveLength(3);
    } finally {
      await transport.close();
    }
    // and a transport created without proxy variables ignores ones set later
    const late = undiciTransport();
    process.env.HTTP_PROXY = proxy.url;
    await send(late);
    expect(throughProxy()).toBe(1);
  });

  it("proxy: 'http://...' forces the proxy, whatever NO_PROXY says", async () => {
    restoreEnv = setProxyEnv({ NO_PROXY: '*' });
    const res = await send(undiciTransport({ proxy: proxy.url }));
    expect(res.body).toBe('direct-or-proxied');
    expect(throughProxy()).toBe(1);
  });

  it('credentials in the proxy URL become Proxy-Authorization and never reach an error', async () => {
    restoreEnv = setProxyEnv({});
    const withAuth = proxy.url.replace('http://', 'http://ops:pa%40ss-SECRET-SIG-123@');
    await send(undiciTransport({ proxy: withAuth }));
    expect(proxy.authorizations).toEqual([`Basic ${Buffer.from('ops:pa@ss-SECRET-SIG-123').toString('base64')}`]);
    await proxy.close();
    const err = await rejectionOf(() => send(undiciTransport({ proxy: withAuth })));
    expect(err).toBeInstanceOf(TransportError);
    expectNoSecret(err);
  });

  it('proxy: false ignores the environment', async () => {
    restoreEnv = setProxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url });
    await send(undiciTransport({ proxy: false }));
    expect(throughProxy()).toBe(0);
    expect(server.received).toHaveLength(1);
  });

  it('an unreachable proxy is a TransportError', async () => {
    restoreEnv = setProxyEnv({});
    await proxy.close();
    const err = await rejectionOf(() => send(undiciTransport({ proxy: proxy.url })));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ECONNREFUSED');
    expect(server.received).toHaveLength(0);
    expectNoSecret(err);
  });

  it('keeps the tunnel alive and respects connections through a proxy', async () => {
    restoreEnv = setProxyEnv({ HTTP_PROXY: proxy.url });
    const transport = undiciTransport({ connections: 1 });
    try {
      await Promise.all(Array.from({ length: 5 }, () => transport.send({ url: server.url, body: '{}' })));
      for (let i = 0; i < 5; i++) await transport.send({ url: server.url, body: '{}' });
    } finally {
      await transport.close();
    }
    expect(server.received).toHaveLength(10);
    expect(proxy.tunnels).toHaveLength(1);
  });
});
