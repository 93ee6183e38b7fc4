import { createRequire } from 'node:module';
import type { Dispatcher } from 'undici';
import { runExchange } from './deadline';
import { closedError, TimBroadcastError, TimeoutError } from './errors';
import { undiciHeaderRecord } from './headers';
import { numberIssue, objectIssue, throwIfIssues, unknownOptionIssues } from './options';
import type { Transport, TransportRequest, TransportResponse } from './types';
import type { ValidationIssue } from './validation';

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
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
/** undici's own limits (its defaults), which apply where `timeoutMs` does not reach: connecting, or no `timeoutMs`. */
const UNDICI_TIMEOUTS: Record<string, number> = { UND_ERR_CONNECT_TIMEOUT: 10_000, UND_ERR_HEADERS_TIMEOUT: 300_000, UND_ERR_BODY_TIMEOUT: 300_000 };
const DEFAULT_KEEP_ALIVE_MS = 30_000;
const KNOWN_OPTIONS = ['connections', 'keepAliveTimeoutMs', 'dispatcher', 'proxy'];

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
      if (closing) throw closedError(req?.url);
      active++;
      let result: TransportResponse;
      try {
        // our own timer bounds the whole exchange to within a few ms; undici's headersTimeout and bodyTimeout run
        // on a coarse clock (a 100 ms timeout fires after about a second), so they only apply without timeoutMs
        const undiciTimeout = req?.timeoutMs === undefined ? {} : { headersTimeout: 0, bodyTimeout: 0 };
        result = await runExchange(
          req,
          async (signal) => {
            try {
              const res = await dispatcher.request({ ...splitUrl(req.url), method: 'POST', body: req.body, headers: req.headers, signal, ...undiciTimeout });
              const body = await res.body.text();
              return { status: res.statusCode, headers: undiciHeaderRecord(res.headers), body };
            } catch (err) {
              // undici's own limits (connect timeout, or the default header/body timeouts without timeoutMs)
              const code = (err as { code?: unknown })?.code;
              const bound = typeof code === 'string' && !signal.aborted ? UNDICI_TIMEOUTS[code] : undefined;
              if (bound !== undefined) throw new TimeoutError(bound, { url: req.url, cause: err, code: 'ETIMEDOUT' });
              throw err;
            }
          },
          { awaitSocketReuse: false },
        );
      } finally {
        active--;
      }
      // undici hands a keep-alive socket back to its pool one event-loop turn after the response ends; when no other
      // call is in flight, waiting that turn lets a back-to-back call reuse the socket instead of opening another
      if (active === 0) await new Promise((resolve) => setImmediate(resolve));
      return result;
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

declare const require: NodeJS.Require | undefined;

/**
 * undici, loaded when a transport needs its own dispatcher (it is an optional peer dependency). A missing package
 * is named with the install command instead of Node's bare "Cannot find module 'undici'".
 */
function loadUndici(): typeof import('undici') {
  // CommonJS build: the module's own require; ESM build: one made for this file (undici ships CommonJS)
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  try {
    return load('undici') as typeof import('undici');
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'MODULE_NOT_FOUND') throw err;
    throw new TimBroadcastError(
      'undiciTransport() needs the optional peer dependency undici: install it (npm install undici@^7), pass your own `dispatcher`, or use fetchTransport() from @tim-broadcast/transport',
    );
  }
}

function createDispatcher(options: UndiciTransportOptions): Dispatcher {
  const { Agent, EnvHttpProxyAgent, ProxyAgent } = loadUndici();
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
  const shape = objectIssue(options, []);
  if (shape) throwIfIssues('invalid undiciTransport options', [shape]);
  const { connections, keepAliveTimeoutMs, proxy, dispatcher } = options;
  const issues: (ValidationIssue | undefined)[] = [
    ...unknownOptionIssues(options, KNOWN_OPTIONS),
    numberIssue(connections, ['connections'], 'count', { min: 1, max: 65_536 }),
    numberIssue(keepAliveTimeoutMs, ['keepAliveTimeoutMs'], 'ms', { minInclusive: false }),
  ];
  if (proxy !== undefined && proxy !== false && proxy !== 'env') {
    // the URL may hold credentials: never echo it
    let url: URL | undefined;
    try {
      if (typeof proxy === 'string') url = new URL(proxy);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      issues.push({ path: ['proxy'], message: "expected 'env', false or an http(s) proxy URL" });
    }
  }
  if (dispatcher !== undefined) {
    if (typeof (dispatcher as { dispatch?: unknown } | null)?.dispatch !== 'function') {
      issues.push({ path: ['dispatcher'], message: 'expected an undici Dispatcher' });
    }
    for (const key of ['connections', 'keepAliveTimeoutMs', 'proxy'] as const) {
      if (options[key] !== undefined) {
        issues.push({ path: [key], message: 'cannot be combined with dispatcher; configure your dispatcher instead' });
      }
    }
  }
  throwIfIssues('invalid undiciTransport options', issues);
}
