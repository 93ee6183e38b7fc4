import { Agent, EnvHttpProxyAgent, ProxyAgent, request, type Dispatcher } from 'undici';
import { withDeadline } from './deadline';
import { TransportError } from './errors';
import { describe } from './fetch';
import type { Transport, TransportRequest, TransportResponse } from './types';

export interface UndiciTransportOptions {
  /** Max sockets per origin (default 8). The API allows few calls per second, so a few are plenty. */
  connections?: number;
  /** How long an idle keep-alive socket is kept open (default 30 s). */
  keepAliveTimeoutMs?: number;
  /** Your own undici dispatcher (Agent, Pool, ProxyAgent, MockAgent...). You keep ownership: `close()` leaves it open. */
  dispatcher?: Dispatcher;
  /**
   * Proxy to use. `'env'` (default) follows `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` when any is set;
   * a URL string forces that proxy; `false` never uses one.
   */
  proxy?: 'env' | string | false;
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** A transport on undici with a keep-alive connection pool and proxy support. */
export function undiciTransport(options: UndiciTransportOptions = {}): Transport {
  const owned = !options.dispatcher;
  const dispatcher = options.dispatcher ?? createDispatcher(options);
  let closed = false;

  return {
    async send(req: TransportRequest): Promise<TransportResponse> {
      if (closed) throw new TransportError('transport is closed', { url: req.url, code: 'ERR_CLOSED' });
      const deadline = withDeadline(req.url, req.signal, req.timeoutMs);
      try {
        deadline.check();
        const res = await request(req.url, {
          method: 'POST',
          body: req.body,
          headers: req.headers,
          signal: deadline.signal,
          dispatcher,
          // our own deadline covers the whole exchange; undici's defaults (300 s) would only get in the way
          headersTimeout: 0,
          bodyTimeout: 0,
        });
        const body = await res.body.text();
        const headers: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
        }
        return { status: res.statusCode, headers, body };
      } catch (err) {
        throw deadline.classify(err) ?? new TransportError('request failed: ' + describe(err), { url: req.url, cause: err });
      } finally {
        deadline.done();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned) await dispatcher.close();
    },
  };
}

function createDispatcher(options: UndiciTransportOptions): Dispatcher {
  const poolOptions = {
    connections: options.connections ?? 8,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
    keepAliveMaxTimeout: Math.max(options.keepAliveTimeoutMs ?? 30_000, 600_000),
  };
  const proxy = options.proxy ?? 'env';
  if (proxy === false) return new Agent(poolOptions);
  if (proxy === 'env') {
    return PROXY_VARS.some((name) => process.env[name]) ? new EnvHttpProxyAgent(poolOptions) : new Agent(poolOptions);
  }
  return new ProxyAgent({ ...poolOptions, uri: proxy });
}
