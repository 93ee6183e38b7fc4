import { fetchTransport, TimeoutError, ValidationError } from '@tim-broadcast/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { expectNoSecret, rejectionOf, startServer, type TestServer } from './helpers';

describe('fetchTransport', () => {
  let server: TestServer | undefined;
  afterEach(() => server?.close());

  it('uses the fetch you pass in', async () => {
    server = await startServer((_req, res) => res.end('via custom fetch'));
    const calls: Array<[string, RequestInit | undefined]> = [];
    const transport = fetchTransport({
      fetch: (input, init) => {
        calls.push([String(input), init]);
        return fetch(input, init);
      },
    });
    const res = await transport.send({ url: server.url, body: '{"a":1}', headers: { 'x-a': '1' } });
    expect(res.body).toBe('via custom fetch');
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe(server.url);
    expect(calls[0]![1]).toMatchObject({ method: 'POST', body: '{"a":1}', headers: { 'x-a': '1' }, redirect: 'manual' });
    expect(calls[0]![1]!.signal).toBeInstanceOf(AbortSignal);
    await transport.close();
  });

  it('times out even when the fetch ignores its signal', async () => {
    const transport = fetchTransport({ fetch: () => new Promise<Response>(() => {}) });
    const err = await rejectionOf(() =>
      transport.send({ url: 'http://127.0.0.1:9/x?usersig=SECRET-SIG-123', body: '{}', timeoutMs: 100 }),
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expectNoSecret(err);
  });

  it('a fetch that throws something odd still becomes a redacted TransportError', async () => {
    const transport = fetchTransport({
      fetch: async (input) => {
        throw Object.assign(new Error(`boom at ${String(input)}`), { url: String(input), errno: -1 });
      },
    });
    const err = await rejectionOf(() => transport.send({ url: 'http://127.0.0.1:9/x?usersig=SECRET-SIG-123', body: '{}' }));
    expect((err as Error).message).toBe('request failed: boom at http://127.0.0.1:9/x?[redacted]');
    expect(((err as Error).cause as { errno: number }).errno).toBe(-1);
    expectNoSecret(err);
  });

  it('refuses bad options with a ValidationError naming them', () => {
    expect(() => fetchTransport({ fetch: 'nope' as unknown as typeof fetch })).toThrow(ValidationError);
    expect(() => fetchTransport({ fetch: 'nope' as unknown as typeof fetch })).toThrow(/fetch: expected a fetch function/);
    expect(() => fetchTransport({ fech: fetch } as never)).toThrow(/fech: unknown option \(did you mean 'fetch'\?\)/);
    expect(() => fetchTransport(null as never)).toThrow(ValidationError);
  });
});
