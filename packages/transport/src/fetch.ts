import { withDeadline } from './deadline';
import { TransportError } from './errors';
import type { Transport, TransportRequest, TransportResponse } from './types';

export interface FetchTransportOptions {
  /** A WHATWG fetch; defaults to the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

/** A transport on WHATWG `fetch` (Node's global one by default). */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') {
    throw new TypeError('fetchTransport: no fetch available; pass options.fetch');
  }
  return {
    async send(request: TransportRequest): Promise<TransportResponse> {
      const deadline = withDeadline(request.url, request.signal, request.timeoutMs);
      try {
        deadline.check();
        const res = await doFetch(request.url, {
          method: 'POST',
          body: request.body,
          headers: request.headers,
          signal: deadline.signal,
        });
        const body = await res.text();
        const headers: Record<string, string> = {};
        res.headers.forEach((value, key) => {
          headers[key] = value;
        });
        return { status: res.status, headers, body };
      } catch (err) {
        throw deadline.classify(err) ?? new TransportError('request failed: ' + describe(err), { url: request.url, cause: err });
      } finally {
        deadline.done();
      }
    },
    async close() {},
  };
}

export function describe(err: unknown): string {
  let e: unknown = err;
  // fetch wraps the useful part ("connect ECONNREFUSED ...") in `cause`
  while (e instanceof Error && e.cause instanceof Error && /fetch failed/i.test(e.message)) e = e.cause;
  return e instanceof Error ? e.message.replace(/\?[^\s'"]*/g, '?[redacted]') : String(e);
}
