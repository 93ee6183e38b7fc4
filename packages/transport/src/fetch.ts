import { runExchange } from './deadline';
import { closedError } from './errors';
import { headerRecord } from './headers';
import { objectIssue, throwIfIssues, unknownOptionIssues } from './options';
import type { Transport, TransportRequest, TransportResponse } from './types';

export interface FetchTransportOptions {
  /** A WHATWG fetch; defaults to the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

const KNOWN_OPTIONS = ['fetch'];

/**
 * A transport on WHATWG `fetch` (Node's global one by default, which keeps connections alive through undici's
 * global dispatcher). Redirects are not followed: a 3xx comes back as a response, as with `undiciTransport`.
 */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const shape = objectIssue(options, []);
  throwIfIssues('invalid fetchTransport options', shape ? [shape] : unknownOptionIssues(options, KNOWN_OPTIONS));
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') {
    throwIfIssues('invalid fetchTransport options', [
      { path: ['fetch'], message: options.fetch === undefined ? 'required: there is no global fetch' : 'expected a fetch function' },
    ]);
  }
  let closed = false;
  return {
    async send(request: TransportRequest): Promise<TransportResponse> {
      if (closed) throw closedError(request?.url);
      return runExchange(request, async (signal) => {
        const res = await doFetch(request.url, {
          method: 'POST',
          body: request.body,
          headers: request.headers,
          signal,
          redirect: 'manual',
        });
        const body = await res.text();
        const entries: [string, string][] = [];
        res.headers.forEach((value, name) => entries.push([name, value]));
        return { status: res.status, headers: headerRecord(entries), body };
      });
    },
    async close() {
      // the global fetch's sockets belong to the process-wide dispatcher; there is nothing of ours to release
      closed = true;
    },
  };
}
