import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import { AbortError, closedError, networkError, TimeoutError } from './errors';
import { undiciHeaderRecord } from './headers';
import type { Transport, TransportRequest, TransportResponse } from './types';

export interface UndiciTransportOptions {
  /** Max sockets per origin (default 8). The API allows a few calls per second, so a few are plenty. */
  connections?: number;
  /**
   * How long an idle keep-alive socket is kept open (default 30 000 ms). When the server announces a shorter
   * `Keep-Alive: timeout=`, undici follows the server (minus a safety margin).
   */
  keepAliveTimeoutMs?: number;
  /**
   * Your own undici dispatcher (Agent, Pool, ProxyAgent...). You keep ownership: `close()` leaves it open.
   * Cannot be combined with `connections`, `keepAliveTimeoutMs` or `proxy`; configure the dispatcher instead.
   */
  dispatcher?: Dispatcher;
  /**
   * `'env'` (default): undici's `EnvHttpProxyAgent`, which reads `HTTP_PROXY` / `HTTPS_PROXY` (lower-case names
   * win) when the transport is created and `NO_PROXY` on every request. A URL string: always use that proxy.
   * `false`: never use a proxy.
   */
  proxy?: 'env' | (string & {}) | false;
}

const DEFAULT_CONNECTIONS = 8;
/** setTimeout cannot hold longer delays; treat those as "no deadline". */
const MAX_TIMER_MS = 2_147_483_647;
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const DEFAULT_KEEP_ALIVE_MS = 30_000;

/** A transport on undici: a keep-alive connection pool with a connection limit, and proxy support. */
export function undiciTransport(options: UndiciTransportOptions = {}): Transport {
  checkOptions(options);
  const owned = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? createDispatcher(options);
  let closing: Promise<void> | undefined;
  /** Calls between dispatch and the end of their response body. */
  let active = 0;

  return {
    async send(req: TransportRequest): Promise<TransportResponse> {
      if (closing) throw closedError(req.url);
      const { url, signal, timeoutMs } = req;
      if (signal?.aborted) throw new AbortError({ url, cause: signal.reason });
      // undici's own timers bound the wait for the headers and for each body chunk (the API's answers are one
      // small chunk), which costs far less per call than an AbortController and a timer of ours
      const timeout = timeoutMs === undefined || timeoutMs > MAX_TIMER_MS ? 0 : Math.max(1, timeoutMs);
      active++;
      let res: Dispatcher.ResponseData;
      let body: string;
      try {
        res = await dispatcher.request({
          ...splitUrl(url),
          method: 'POST',
          body: req.body,
          headers: req.headers,
          signal,
          headersTimeout: timeout,
          bodyTimeout: timeout,
        });
        body = await res.body.text();
      } catch (err) {
        if (signal?.aborted) throw new AbortError({ url, cause: signal.reason });
        if (TIMEOUT_CODES.has((err as { code?: string })?.code ?? '')) throw new TimeoutError(timeoutMs!, { url, cause: err });
        throw networkError(url, err);
      } finally {
        active--;
      }
      // undici hands a keep-alive socket back to its pool one event-loop turn after the response ends; when no other
      // call is in flight, waiting that turn lets a back-to-back call reuse the socket instead of opening another
      if (active === 0) await new Promise((resolve) => setImmediate(resolve));
      return { status: res.statusCode, headers: undiciHeaderRecord(res.headers), body };
    },
    async close() {
      // close() lets requests in flight finish, then releases the sockets
      closing ??= owned ? dispatcher.close() : Promise.resolve();
      await closing;
    },
  };
}

/**
 * Origin and path of an http(s) URL for `dispatcher.request`. Splitting the string is much cheaper than the
 * `new URL()` that `undici.request(url)` runs on every call; anything unusual goes through `new URL()`.
 */
function splitUrl(url: string): { origin: string; path: string } {
  const match = /^(https?:\/\/[^/?#@\s]+)([/?][^#\s]*)?$/i.exec(url);
  if (match) {
    const rest = match[2] ?? '/';
    return { origin: match[1]!, path: rest.startsWith('?') ? `/${rest}` : rest };
  }
  const parsed = new URL(url);
  return { origin: parsed.origin, path: parsed.pathname + parsed.search };
}

function createDispatcher(options: UndiciTransportOptions): Dispatcher {
  const keepAlive = options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_MS;
  const poolOptions = {
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    keepAliveTimeout: keepAlive,
    // caps the server's Keep-Alive hint, so keepAliveTimeoutMs is an upper bound
    keepAliveMaxTimeout: keepAlive,
  };
  const proxy = options.proxy ?? 'env';
  if (proxy === false) return new Agent(poolOptions);
  // EnvHttpProxyAgent reads HTTP(S)_PROXY only when it is created; without them it can never proxy, and a plain
  // Agent skips its per-request NO_PROXY lookup
  if (proxy === 'env') return PROXY_VARS.some((name) => process.env[name]) ? new EnvHttpProxyAgent(poolOptions) : new Agent(poolOptions);
  return new ProxyAgent({ ...poolOptions, uri: proxy });
}

function checkOptions(options: UndiciTransportOptions): void {
  const fail = (message: string): never => {
    throw new TypeError(`undiciTransport: ${message}`);
  };
  const { connections, keepAliveTimeoutMs, proxy, dispatcher } = options;
  if (connections !== undefined && !(Number.isInteger(connections) && connections > 0)) {
    fail('options.connections must be a positive integer');
  }
  if (keepAliveTimeoutMs !== undefined && !(Number.isFinite(keepAliveTimeoutMs) && keepAliveTimeoutMs > 0)) {
    fail('options.keepAliveTimeoutMs must be a positive number of milliseconds');
  }
  if (proxy !== undefined && proxy !== false && proxy !== 'env') {
    // the URL may hold credentials: do not echo it
    if (typeof proxy !== 'string' || !URL.canParse(proxy)) fail("options.proxy must be 'env', false or a proxy URL");
  }
  if (dispatcher !== undefined) {
    if (typeof dispatcher?.dispatch !== 'function') fail('options.dispatcher must be an undici Dispatcher');
    if (connections !== undefined || keepAliveTimeoutMs !== undefined || proxy !== undefined) {
      fail('options.dispatcher cannot be combined with connections, keepAliveTimeoutMs or proxy; configure your dispatcher instead');
    }
  }
}
